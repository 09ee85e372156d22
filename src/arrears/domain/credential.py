"""Collector credentials: the signed statement "this person collects this debt for this lender,
by these means, until this date" (DESIGN §3), and the verdict on one presented to a borrower.

The claims are JWT claims (RFC 7519) in an EdDSA-signed JWS, so any JOSE library can check
them: `iss` the lender, `sub` the collector id, `jti` the credential id, `nbf`/`exp`/`iat`
NumericDates, plus `name`, `agency` (id, name, licence — null for the lender's own team),
`debt` (the lender's loan id, which the borrower sees on their statements; never an internal
id; null on a collector's general badge), `scope` (call / sms / visit) and, for a visit,
`visit_on` (the one date the visit is authorized for).

Interpretations:
- a credential is in force on a day when its [nbf, exp) window overlaps that day; a visit
  credential only on its `visit_on` date;
- a credential that names no debt does not vouch for any particular debt: asked about one, it
  is `wrong_debt`;
- a token whose signing key was retired is `revoked` (everything the key signed is withdrawn);
  an unknown key id, a bad signature or claims that do not parse are `forged`.
The order of the checks is the order of `Verdict`: the first that fails decides.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any


class Scope(StrEnum):
    CALL = "call"
    SMS = "sms"
    VISIT = "visit"


class Verdict(StrEnum):
    FORGED = "forged"
    REVOKED = "revoked"
    EXPIRED = "expired"
    WRONG_DEBT = "wrong_debt"
    OUT_OF_SCOPE = "out_of_scope"
    GENUINE = "genuine"


class Signature(StrEnum):
    """What checking the token's signature against the lender's keys found."""

    VALID = "valid"
    INVALID = "invalid"
    UNKNOWN_KEY = "unknown_key"
    RETIRED_KEY = "retired_key"
    MALFORMED = "malformed"


class MalformedClaims(ValueError):
    """A payload that is not a credential's claims."""


@dataclass(frozen=True, slots=True, kw_only=True)
class AgencyClaim:
    agency_id: str
    name: str
    licence: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Claims:
    issuer: str
    credential_id: str
    collector_id: str
    collector_name: str
    agency: AgencyClaim | None
    debt: str | None
    scopes: tuple[Scope, ...]
    valid_from: datetime
    valid_until: datetime
    """Exclusive."""
    issued_at: datetime
    visit_on: date | None = None

    def __post_init__(self) -> None:
        if not self.scopes:
            raise MalformedClaims("scope must name at least one of call, sms, visit")
        if self.valid_until <= self.valid_from:
            raise MalformedClaims("valid_until must be after valid_from")
        if (self.visit_on is not None) != (Scope.VISIT in self.scopes and self.debt is not None):
            raise MalformedClaims("a visit credential for a debt, and only one, has a visit date")

    def payload(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            "iss": self.issuer, "jti": self.credential_id, "sub": self.collector_id,
            "name": self.collector_name,
            "agency": None if self.agency is None else {
                "id": self.agency.agency_id, "name": self.agency.name,
                "licence": self.agency.licence},
            "debt": self.debt, "scope": [s.value for s in self.scopes],
            "nbf": _seconds(self.valid_from), "exp": _seconds(self.valid_until),
            "iat": _seconds(self.issued_at)}
        if self.visit_on is not None:
            document["visit_on"] = self.visit_on.isoformat()
        return document

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> Claims:
        try:
            agency = payload["agency"]
            visit_on = payload.get("visit_on")
            return cls(
                issuer=_text(payload["iss"]), credential_id=_text(payload["jti"]),
                collector_id=_text(payload["sub"]), collector_name=_text(payload["name"]),
                agency=None if agency is None else AgencyClaim(
                    agency_id=_text(agency["id"]), name=_text(agency["name"]),
                    licence=_text(agency["licence"])),
                debt=None if payload["debt"] is None else _text(payload["debt"]),
                scopes=tuple(Scope(s) for s in payload["scope"]),
                valid_from=_instant(payload["nbf"]), valid_until=_instant(payload["exp"]),
                issued_at=_instant(payload["iat"]),
                visit_on=None if visit_on is None else date.fromisoformat(_text(visit_on)))
        except (KeyError, TypeError, ValueError, OverflowError, OSError) as error:
            raise MalformedClaims(f"not a credential: {error}") from None

    def may(self) -> str:
        """What the holder may do, in words."""
        means = ", ".join(s.value for s in self.scopes)
        what = f"the debt {self.debt}" if self.debt else "debts (no particular debt named)"
        for_whom = self.issuer if self.agency is None else \
            f"{self.issuer} through {self.agency.name} (licence {self.agency.licence})"
        visit = f"; visit on {self.visit_on.isoformat()} only" if self.visit_on else ""
        return f"collect {what} for {for_whom} by {means}{visit}"


def _seconds(at: datetime) -> int:
    return int(at.timestamp())


def _instant(value: object) -> datetime:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError("a NumericDate must be whole seconds")
    return datetime.fromtimestamp(value, UTC)


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError("expected a string")
    return value


@dataclass(frozen=True, slots=True, kw_only=True)
class Question:
    """What the borrower (or anyone) asks: is this credential good from `start` to `end`
    (an instant, start == end, or a whole day), on `day`, for `debt`, for `scope`?"""

    start: datetime
    end: datetime
    day: date
    debt: str | None = None
    scope: Scope | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Judgement:
    verdict: Verdict
    reason: str
    claims: Claims | None

    @property
    def good(self) -> bool:
        return self.verdict is Verdict.GENUINE


_SIGNATURE_REASONS = {
    Signature.INVALID: "the signature does not match the lender's key",
    Signature.UNKNOWN_KEY: "signed with a key the lender never published",
    Signature.MALFORMED: "not a signed credential",
}


def judge(signature: Signature, claims: Claims | None, question: Question, *,
          revoked_at: datetime | None = None, key_id: str = "") -> Judgement:
    """The verdict on a presented credential, given what its signature check found, its claims
    (None when they did not parse) and whether the lender revoked it."""
    if signature in _SIGNATURE_REASONS or claims is None:
        return Judgement(verdict=Verdict.FORGED, claims=None,
                         reason=_SIGNATURE_REASONS.get(signature, "the claims do not parse"))
    if signature is Signature.RETIRED_KEY:
        return Judgement(verdict=Verdict.REVOKED, claims=claims,
                         reason=f"the lender retired the signing key {key_id}")
    if revoked_at is not None and revoked_at <= question.end:
        return Judgement(verdict=Verdict.REVOKED, claims=claims,
                         reason=f"revoked at {revoked_at.isoformat()}")
    if claims.valid_until <= question.start:
        return Judgement(verdict=Verdict.EXPIRED, claims=claims,
                         reason=f"expired at {claims.valid_until.isoformat()}")
    if question.debt is not None and question.debt != claims.debt:
        named = f"names the debt {claims.debt}" if claims.debt else "names no debt"
        return Judgement(verdict=Verdict.WRONG_DEBT, claims=claims,
                         reason=f"asked about {question.debt}, but the credential {named}")
    if claims.valid_from > question.end:
        return Judgement(verdict=Verdict.OUT_OF_SCOPE, claims=claims,
                         reason=f"not valid before {claims.valid_from.isoformat()}")
    if question.scope is not None and question.scope not in claims.scopes:
        return Judgement(verdict=Verdict.OUT_OF_SCOPE, claims=claims,
                         reason=f"does not cover {question.scope.value} (only "
                                f"{', '.join(s.value for s in claims.scopes)})")
    if claims.visit_on is not None and claims.visit_on != question.day and \
            question.scope in (None, Scope.VISIT):
        return Judgement(verdict=Verdict.OUT_OF_SCOPE, claims=claims,
                         reason=f"authorizes a visit on {claims.visit_on.isoformat()}, "
                                f"not on {question.day.isoformat()}")
    return Judgement(verdict=Verdict.GENUINE, claims=claims, reason=claims.may())
