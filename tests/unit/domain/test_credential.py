"""The verdict on a presented credential, given its signature check and claims: each failure
gives its verdict, in order, and only a good signature on claims in force, for the debt, scope
and day asked about, is genuine."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from arrears.domain import jws
from arrears.domain.credential import (
    Claims,
    MalformedClaims,
    Question,
    Scope,
    Signature,
    Verdict,
    judge,
)

START = datetime(2026, 3, 21, 2, tzinfo=UTC)
CLAIMS = Claims(issuer="L", credential_id="CR-1", collector_id="C-01", collector_name="王敏",
                agency=None, debt="WLD-1001", scopes=(Scope.VISIT,), valid_from=START,
                valid_until=START + timedelta(days=3), issued_at=START,
                visit_on=date(2026, 3, 22))


def _ask(at: datetime = START + timedelta(days=1), **extra: object) -> Question:
    return Question(start=at, end=at, day=at.date(), **extra)  # type: ignore[arg-type]


@pytest.mark.parametrize(("signature", "question", "revoked", "verdict"), [
    (Signature.INVALID, _ask(), None, Verdict.FORGED),
    (Signature.UNKNOWN_KEY, _ask(), None, Verdict.FORGED),
    (Signature.MALFORMED, _ask(), None, Verdict.FORGED),
    (Signature.RETIRED_KEY, _ask(), None, Verdict.REVOKED),
    (Signature.VALID, _ask(), START, Verdict.REVOKED),
    (Signature.VALID, _ask(START + timedelta(days=3)), None, Verdict.EXPIRED),
    (Signature.VALID, _ask(debt="WLD-1002"), None, Verdict.WRONG_DEBT),
    (Signature.VALID, _ask(scope=Scope.CALL), None, Verdict.OUT_OF_SCOPE),
    (Signature.VALID, _ask(START), None, Verdict.OUT_OF_SCOPE),  # the day before the visit
    (Signature.VALID, _ask(START - timedelta(seconds=1)), None, Verdict.OUT_OF_SCOPE),
    (Signature.VALID, _ask(debt="WLD-1001", scope=Scope.VISIT), None, Verdict.GENUINE),
    (Signature.VALID, _ask(), START + timedelta(days=2), Verdict.GENUINE),  # revoked later
])
def test_each_check_gives_its_verdict(signature, question, revoked, verdict) -> None:
    assert judge(signature, CLAIMS, question, revoked_at=revoked).verdict is verdict


def test_claims_round_trip_and_refuse_what_is_not_a_credential() -> None:
    assert Claims.from_payload(CLAIMS.payload()) == CLAIMS
    for broken in ({**CLAIMS.payload(), "scope": ["fax"]}, {**CLAIMS.payload(), "exp": "x"},
                   {**CLAIMS.payload(), "visit_on": None}, {"iss": "L"}):
        with pytest.raises(MalformedClaims):
            Claims.from_payload(broken)
    assert judge(Signature.VALID, None, _ask()).verdict is Verdict.FORGED


def _token(header: bytes, payload: bytes = b"{}") -> str:
    return f"{jws.b64url(header)}.{jws.b64url(payload)}.{jws.b64url(bytes(64))}"


@pytest.mark.parametrize("header", [
    b'{"alg":"EdDSA","kid":"mine","kid":"theirs"}',  # two readers, two key ids
    b'{"alg":"none","kid":"k","alg":"EdDSA"}',
    b'{"alg":"EdDSA","kid":"k","n":' + b"9" * 5000 + b"}",  # past the int digit limit
    b'{"alg":"EdDSA","kid":"k","n":NaN}',
    b'{"alg":"EdDSA","kid":"k","n":1e999}',
    b'{"alg":"EdDSA","kid":"k","n":' + b"[" * 100_000 + b"]" * 100_000 + b"}",
])
def test_a_header_two_parsers_could_read_differently_or_not_at_all_is_malformed(
        header: bytes) -> None:
    with pytest.raises(jws.MalformedToken):
        jws.parse(_token(header))


def test_a_payload_with_a_repeated_claim_is_malformed() -> None:
    with pytest.raises(jws.MalformedToken):
        jws.parse(_token(b'{"alg":"EdDSA","kid":"k"}', b'{"debt":"WLD-1","debt":"WLD-2"}'))


def test_claims_with_dates_out_of_range_are_malformed_not_a_crash() -> None:
    for seconds in (10**20, -(10**14)):
        with pytest.raises(MalformedClaims):
            Claims.from_payload({**CLAIMS.payload(), "nbf": seconds})
