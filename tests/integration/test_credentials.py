"""Signed collector credentials on a migrated book (SQLite, and PostgreSQL when configured):
every verdict (genuine, forged, altered, unknown key, expired, revoked, rotated and retired
keys, wrong debt, out of scope, a visit on another date), issuing rules, and a token checked by
an independent JOSE implementation (joserfc) against the published JWKS."""

from __future__ import annotations

import json
import os
import stat
import warnings
from datetime import date, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from hypothesis import given, settings
from hypothesis import strategies as st
from joserfc import jwt
from joserfc.jwk import KeySet

from arrears import bootstrap
from arrears.application.handlers import casework, credentials, keys
from arrears.domain import jws
from arrears.domain.credential import Judgement, Verdict
from arrears.domain.errors import DomainError

from trust_book import ISSUER, TODAY, at, open_book


@pytest.fixture
def book(services: bootstrap.Services) -> bootstrap.Services:
    return open_book(services)


def _issue(services: bootstrap.Services, collector: str = "C-01", debt: str = "WLD-1001",
           scope: str = "call", **extra: object) -> credentials.Issued:
    return credentials.issue(
        credentials.IssueRequest(collector=collector, debt=debt, scope=scope, **extra),
        uow_factory=services.uow_factory, keys=services.keys, clock=services.clock,
        zone="Asia/Shanghai", issuer=ISSUER)


def _verify(services: bootstrap.Services, token: str, *, on: date | None = None,
            debt: str | None = None, scope: str | None = None) -> Judgement:
    question = credentials.question_on(on, services.clock.now(), "Asia/Shanghai", debt=debt,
                                       scope=scope)
    return credentials.verify(token, question, uow_factory=services.uow_factory,
                              keys=services.keys)


def _jwks(services: bootstrap.Services) -> dict:
    return keys.jwks(uow_factory=services.uow_factory)


def _independently(token: str, published: dict) -> jwt.Token:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # joserfc prefers the newer "Ed25519" alg name
        return jwt.decode(token, KeySet.import_key_set(published), algorithms=["EdDSA"])


def test_a_genuine_credential_says_who_collects_what_and_verifies_with_any_jose_library(
        book) -> None:
    issued = _issue(book)
    judgement = _verify(book, issued.token, debt="WLD-1001", scope="call")
    assert judgement.verdict is Verdict.GENUINE
    assert judgement.claims is not None and judgement.claims.collector_name == "王敏"
    assert "WLD-1001" in judgement.reason and "call" in judgement.reason
    decoded = _independently(issued.token, _jwks(book))
    assert decoded.header["kid"] == issued.kid
    assert decoded.claims["sub"] == "C-01" and decoded.claims["debt"] == "WLD-1001"
    assert decoded.claims["iss"] == ISSUER and decoded.claims["scope"] == ["call"]
    # In force through 30 days from today, in the lender's zone.
    assert decoded.claims["exp"] == int(at(TODAY + timedelta(days=30), 0).timestamp())
    # No internal ids: only the lender's loan id and the collector's id appear.
    assert "loan_id" not in decoded.claims and "borrower_id" not in decoded.claims


def _swap_payload(token: str, **changes: object) -> str:
    header, payload, signature = token.split(".")
    claims = json.loads(jws.b64url_decode(payload))
    claims.update(changes)
    return f"{header}.{jws.b64url(jws.canonical_json(claims))}.{signature}"


def test_forged_altered_and_unknown_key_tokens_are_forged(book) -> None:
    issued = _issue(book)
    header, payload, signature = issued.token.split(".")
    flipped = jws.b64url(bytes(b ^ 1 if i == 0 else b
                               for i, b in enumerate(jws.b64url_decode(signature))))
    assert _verify(book, f"{header}.{payload}.{flipped}").verdict is Verdict.FORGED
    altered = _swap_payload(issued.token, debt="WLD-1002")
    judgement = _verify(book, altered, debt="WLD-1002")
    assert judgement.verdict is Verdict.FORGED and "signature" in judgement.reason
    # A key the lender never published, even one that signs correctly.
    stranger = Ed25519PrivateKey.generate()
    x = jws.b64url(stranger.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw))
    signed = jws.signing_input({"alg": "EdDSA", "kid": jws.thumbprint(x), "typ": "JWT"},
                               json.loads(jws.b64url_decode(payload)))
    own = jws.assemble(signed, stranger.sign(signed))
    judgement = _verify(book, own)
    assert judgement.verdict is Verdict.FORGED and "never published" in judgement.reason
    for garbage in ("", "abc", "a.b.c", f"{header}.{payload}"):
        assert _verify(book, garbage).verdict is Verdict.FORGED


def test_changing_any_character_of_a_token_makes_it_not_genuine(book) -> None:
    token = _issue(book).token

    @settings(max_examples=60, deadline=None)
    @given(index=st.integers(0, len(token) - 1), replacement=st.sampled_from(TOKEN_ALPHABET))
    def check(index: int, replacement: str) -> None:
        tampered = token[:index] + replacement + token[index + 1:]
        if tampered != token:
            assert _verify(book, tampered).verdict is Verdict.FORGED

    check()


TOKEN_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_."


def test_expired_revoked_and_out_of_scope(book) -> None:
    issued = _issue(book, valid_until=TODAY + timedelta(days=5))
    assert _verify(book, issued.token, on=TODAY + timedelta(days=5)).good
    assert _verify(book, issued.token, on=TODAY + timedelta(days=6)).verdict is Verdict.EXPIRED
    assert _verify(book, issued.token, on=TODAY - timedelta(days=1)).verdict is \
        Verdict.OUT_OF_SCOPE  # not valid yet
    judgement = _verify(book, issued.token, scope="visit")
    assert judgement.verdict is Verdict.OUT_OF_SCOPE and "only call" in judgement.reason
    wrong = _verify(book, issued.token, debt="WLD-1002")
    assert wrong.verdict is Verdict.WRONG_DEBT and "WLD-1001" in wrong.reason
    ref = credentials.revoke(issued.token, uow_factory=book.uow_factory, keys=book.keys,
                             clock=book.clock)
    assert ref == issued.claims.credential_id
    assert _verify(book, issued.token).verdict is Verdict.REVOKED
    assert _verify(book, issued.token, on=TODAY - timedelta(days=1)).verdict is not \
        Verdict.REVOKED  # revoked from now on, not before
    with pytest.raises(DomainError) as error:
        credentials.revoke(ref, uow_factory=book.uow_factory, keys=book.keys, clock=book.clock)
    assert error.value.field == "ID_OR_TOKEN"
    revocations = credentials.revocation_list(uow_factory=book.uow_factory, keys=book.keys,
                                              clock=book.clock, issuer=ISSUER)
    listed = _independently(revocations, _jwks(book)).claims
    assert [r["jti"] for r in listed["revoked"]] == [ref]
    # It says when it goes stale, so an old list (from before a revocation) is not replayed.
    assert listed["exp"] == listed["iat"] + 86_400


def test_rotated_keys_verify_what_they_signed_until_retired(book) -> None:
    first = _issue(book)
    rotated = keys.rotate_key(uow_factory=book.uow_factory, keys=book.keys, clock=book.clock)
    second = _issue(book, collector="C-02", debt="WLD-1002")
    assert second.kid == rotated.kid != first.kid
    assert {k["kid"] for k in _jwks(book)["keys"]} == {first.kid, second.kid}
    assert _verify(book, first.token).good and _verify(book, second.token).good
    keys.retire_key(first.kid, uow_factory=book.uow_factory, clock=book.clock)
    judgement = _verify(book, first.token)
    assert judgement.verdict is Verdict.REVOKED and first.kid in judgement.reason
    assert _verify(book, second.token).good
    assert [k["kid"] for k in _jwks(book)["keys"]] == [second.kid]
    with pytest.raises(DomainError):
        keys.retire_key(first.kid, uow_factory=book.uow_factory, clock=book.clock)
    key_file = book.keys.directory / f"{second.kid}.pem"  # type: ignore[attr-defined]
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600


def test_each_rotation_signs_with_the_new_key_even_within_one_clock_tick(book) -> None:
    # The test clock stands still: every key is made "at the same instant".
    for _ in range(6):
        rotated = keys.rotate_key(uow_factory=book.uow_factory, keys=book.keys,
                                  clock=book.clock)
        assert _issue(book, collector="C-02", debt="WLD-1002").kid == rotated.kid


def test_a_visit_credential_holds_only_for_its_date_under_an_authorization(book) -> None:
    visit_day = TODAY + timedelta(days=2)
    with pytest.raises(DomainError) as error:
        _issue(book, collector="C-02", scope="visit", visit_on=visit_day)
    assert error.value.field == "visit_on"  # no authorization yet
    casework.authorize_visit(casework.VisitAuthorizationRequest(
        authorization_ref="VA-1", loan_ref="WLD-1001", collectors=("C-02", "C-05"),
        issued_at=at(TODAY, 8), valid_until=at(TODAY + timedelta(days=10), 0),
        legal_reviewer="赵律师", legal_review_at=at(TODAY, 9)), uow_factory=book.uow_factory)
    issued = _issue(book, collector="C-02", scope="visit", visit_on=visit_day)
    assert issued.claims.visit_on == visit_day
    assert _verify(book, issued.token, on=visit_day, scope="visit").good
    other = _verify(book, issued.token, on=visit_day - timedelta(days=1))
    assert other.verdict is Verdict.OUT_OF_SCOPE and visit_day.isoformat() in other.reason
    with pytest.raises(DomainError) as error:
        _issue(book, collector="C-01", scope="visit", visit_on=visit_day)  # not named
    assert error.value.field == "visit_on"
    with pytest.raises(DomainError) as error:
        _issue(book, collector="C-02", scope="call", visit_on=visit_day)
    assert error.value.field == "visit_on"


def test_an_agency_credential_names_the_agency_and_ends_with_its_placement(book) -> None:
    with pytest.raises(DomainError) as error:
        _issue(book, collector="agency:AG-HUAXIN")
    assert error.value.field == "collector"  # not placed
    with book.uow_factory() as uow:
        booked = uow.book.get("WLD-1001")
        case = uow.collections.case_of_borrower(booked.borrower_id)
        agency = next(a for a in uow.collections.agencies() if a.agency_ref == "AG-HUAXIN")
        placement = uow.collections.place(case.id, agency.id, "remote", TODAY,
                                          TODAY + timedelta(days=20), 0)
        uow.collections.add_placement_loan(placement, booked.id, 0)
        uow.commit()
    issued = _issue(book, collector="agency:AG-HUAXIN", scope="sms")
    judgement = _verify(book, issued.token, debt="WLD-1001", scope="sms")
    assert judgement.good and judgement.claims is not None
    assert judgement.claims.agency is not None
    assert judgement.claims.agency.licence == "JR-2025-0131"
    assert judgement.claims.valid_until == at(TODAY + timedelta(days=21), 0)
    with pytest.raises(DomainError) as error:
        _issue(book, collector="agency:AG-HUAXIN", valid_until=TODAY + timedelta(days=21))
    assert error.value.field == "valid_until"


@pytest.mark.parametrize(("request_", "field"), [
    (dict(scope="fax"), "scope"),
    (dict(debt="NOPE"), "debt"),
    (dict(debt=" "), "debt"),
    (dict(collector="C-99"), "collector"),
    (dict(collector="agency:AG-NONE"), "collector"),
    (dict(valid_until=TODAY - timedelta(days=1)), "valid_until"),
    (dict(valid_until=TODAY + timedelta(days=31)), "valid_until"),
])
def test_a_bad_issue_names_the_field_and_signs_nothing(book, request_, field) -> None:
    with pytest.raises(DomainError) as error:
        _issue(book, **request_)
    assert error.value.field == field
    with book.uow_factory() as uow:
        booked = uow.book.get("WLD-1001")
        assert uow.credentials.signing_keys() == []  # not even a key was made
        assert uow.evidence.entries(booked.borrower_id) == []


def test_a_badge_names_no_debt_and_a_field_visit_reads_it(book) -> None:
    issued = credentials.issue_badge(
        "C-02", "CRED-C-02", at(TODAY, 0), at(date(2027, 1, 1), 0),
        uow_factory=book.uow_factory, keys=book.keys, clock=book.clock, issuer=ISSUER)
    assert _verify(book, issued.token).good
    assert _verify(book, issued.token, debt="WLD-1001").verdict is Verdict.WRONG_DEBT
    with book.uow_factory() as uow:
        (row,) = uow.collections.credentials(["C-02"])
    assert row.credential_ref == "CRED-C-02" and row.valid_until == at(date(2027, 1, 1), 0)
    with pytest.raises(DomainError) as error:
        credentials.issue_badge("C-02", "CRED-C-02", at(TODAY, 0), at(date(2027, 1, 1), 0),
                                uow_factory=book.uow_factory, keys=book.keys,
                                clock=book.clock, issuer=ISSUER)
    assert error.value.field == "credential_ref"
