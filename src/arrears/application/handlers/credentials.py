"""Signed collector credentials: issuing one for a collector or an agency placement on one
debt and scope (a visit credential only under a visit authorization for that date), a
collector's general badge, revocation with a signed revocation list, and the verdict on a
presented token.

Each credential is an EdDSA JWS (`arrears.domain.credential` lists the claims). Private keys
stay in the key vault; the public keys and every credential issued are in the database, so
any machine with the database can verify, and anyone with the JWKS can check the signature.
Issuing and revoking are also appended to the borrower's evidence chain, in the same unit of
work.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from arrears.application.contacts import AGENCY_PREFIX
from arrears.application.handlers import evidence
from arrears.application.handlers.keys import sign, signature_of
from arrears.application.ports import Clock, UnitOfWork
from arrears.application.trust import CredentialRecord, KeyVault
from arrears.domain.credential import (
    AgencyClaim,
    Claims,
    Judgement,
    MalformedClaims,
    Question,
    Scope,
    Signature,
    judge,
)
from arrears.domain.dates import check_date
from arrears.domain.errors import DomainError

DEFAULT_VALIDITY_DAYS = 30
"""A collector's credential for one debt lasts this long unless --valid-until says less."""
REVOCATION_LIST_TYPE = "arrears-credential-revocations"
REVOCATION_LIST_LIFETIME = timedelta(days=1)
"""How long a signed revocation list may be relied on (its `exp`); fetch a new one after."""
ONE_DAY = timedelta(days=1)


# --- issuing -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class IssueRequest:
    collector: str
    """A collector id, or `agency:<AGENCY_ID>` for a placement with an agency."""
    debt: str
    """The lender's loan id."""
    scope: str
    valid_until: date | None = None
    """Last day in force (inclusive), in the lender's zone."""
    visit_on: date | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Issued:
    token: str
    kid: str
    claims: Claims


def _scope(text: str) -> Scope:
    try:
        return Scope(text)
    except ValueError:
        raise DomainError("scope", f"{text!r} is not one of call, sms, visit") from None


def _midnight_after(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day + ONE_DAY, time(), zone)


def credential_id(*parts: str) -> str:
    """A fresh credential id. The parts alone (holder, debt, scope, instant) repeat when one is
    issued twice within a clock tick, which collided in the store; 80 random bits do not."""
    salt = secrets.token_bytes(16)
    return "CR-" + hashlib.sha256(salt + "|".join(parts).encode()).hexdigest()[:20].upper()


def issue(request: IssueRequest, *, uow_factory: Callable[[], UnitOfWork], keys: KeyVault,
          clock: Clock, zone: str, issuer: str) -> Issued:
    """Sign a credential for `request.collector` to collect `request.debt` by `request.scope`
    from now through `valid_until` (lender's zone). An agency needs a placement covering the
    debt (the credential ends with it and with the agency's licence); a visit needs a visit
    authorization naming the collector for `visit_on`."""
    scope = _scope(request.scope)
    if not request.debt.strip():
        raise DomainError("debt", "must not be empty")
    if (scope is Scope.VISIT) != (request.visit_on is not None):
        raise DomainError("visit_on", "give --visit-on with --scope visit, and only then")
    tz = ZoneInfo(zone)
    now = clock.now()
    today = now.astimezone(tz).date()
    for field, day in (("valid_until", request.valid_until), ("visit_on", request.visit_on)):
        if day is not None:  # refused before anything is looked up
            check_date(day, field)
        if day is not None and day < today:
            raise DomainError(field, f"{day} is before today ({today})")
    with uow_factory() as uow:
        booked = uow.book.get(request.debt)
        if booked is None:
            raise DomainError("debt", f"no loan {request.debt!r}")
        agency, name, last_day = _holder(uow, request, booked.id, today)
        if request.visit_on is not None:
            _check_visit(uow, request, booked.id, request.visit_on, today, tz)
            last_day = request.visit_on
        until = request.valid_until or last_day
        if until < today:
            raise DomainError("valid_until", f"{until} is before today ({today})")
        if until > last_day:
            raise DomainError("valid_until", f"{until} is after {last_day}, the last day "
                                             "the holder may collect this debt")
        claims = Claims(issuer=issuer,
                        credential_id=credential_id(request.collector, request.debt,
                                                    scope.value, now.isoformat()),
                        collector_id=request.collector, collector_name=name, agency=agency,
                        debt=request.debt, scopes=(scope,), valid_from=now,
                        valid_until=_midnight_after(until, tz), issued_at=now,
                        visit_on=request.visit_on)
        issued = _file(uow, keys, clock, claims, booked.borrower_id)
        uow.commit()
    return issued


def _holder(uow: UnitOfWork, request: IssueRequest, loan_id: int, today: date
            ) -> tuple[AgencyClaim | None, str, date]:
    """(agency, name, last day the holder may collect) for the credential's subject."""
    if request.collector.startswith(AGENCY_PREFIX):
        ref = request.collector.removeprefix(AGENCY_PREFIX)
        found = next((a for a in uow.collections.agencies() if a.agency_ref == ref), None)
        if found is None:
            raise DomainError("collector", f"no agency {ref!r}")
        ends = uow.credentials.placement_ends(loan_id, ref, today)
        if ends is None:
            raise DomainError("collector", f"{request.debt} is not placed with {ref} today")
        if not found.licence_valid_from <= today <= found.licence_valid_until:
            raise DomainError("collector", f"{ref}'s licence is not valid today")
        return (AgencyClaim(agency_id=ref, name=found.name, licence=found.licence_no),
                found.name, min(ends, found.licence_valid_until))
    name = uow.credentials.collector_name(request.collector)
    if name is None:
        raise DomainError("collector", f"no active collector {request.collector!r} "
                                       f"(agencies: {AGENCY_PREFIX}<ref>)")
    return None, name, today + timedelta(days=DEFAULT_VALIDITY_DAYS - 1)


def _check_visit(uow: UnitOfWork, request: IssueRequest, loan_id: int, day: date, today: date,
                 tz: ZoneInfo) -> None:
    if day < today:
        raise DomainError("visit_on", f"{day} is before today ({today})")
    start, end = datetime.combine(day, time(), tz), _midnight_after(day, tz)
    collector = request.collector.removeprefix(AGENCY_PREFIX)
    if not any(collector in a.collectors and a.issued_at < end and a.valid_until > start
               for a in uow.collections.visit_authorizations(loan_id)):
        raise DomainError("visit_on", f"no visit authorization for {request.debt} names "
                                      f"{collector} on {day}")


def _file(uow: UnitOfWork, keys: KeyVault, clock: Clock, claims: Claims,
          borrower_id: int | None) -> Issued:
    token, kid = sign(uow, keys, clock, claims.payload(), "JWT")
    is_agency = claims.agency is not None
    uow.credentials.add_credential(CredentialRecord(
        credential_ref=claims.credential_id,
        collector_ref="" if is_agency else claims.collector_id,
        agency_ref=claims.agency.agency_id if claims.agency else "",
        loan_ref=claims.debt or "", scope=tuple(s.value for s in claims.scopes),
        valid_from=claims.valid_from, valid_until=claims.valid_until, visit_on=claims.visit_on,
        kid=kid, token=token, issued_at=claims.issued_at))
    if borrower_id is not None:
        evidence.record(uow, borrower_id, "credential", claims.issued_at,
                        {"credential": claims.credential_id, "kid": kid,
                         "claims": claims.payload()})
    return Issued(token=token, kid=kid, claims=claims)


def issue_badge(collector_ref: str, credential_ref: str, valid_from: datetime,
                valid_until: datetime, *, uow_factory: Callable[[], UnitOfWork], keys: KeyVault,
                clock: Clock, issuer: str) -> Issued:
    """A collector's general badge (valid in [valid_from, valid_until)): who they are and that
    they collect for the lender, by any means, naming no debt — what a field visit's
    credentialed-collector check reads."""
    if not credential_ref.strip():
        raise DomainError("credential_ref", "must not be empty")
    for field, value in (("valid_from", valid_from), ("valid_until", valid_until)):
        if value.tzinfo is None or value.utcoffset() is None:
            raise DomainError(field, "must be timezone-aware")
    if valid_until <= valid_from:
        raise DomainError("valid_until", "must be after valid_from")
    with uow_factory() as uow:
        name = uow.credentials.collector_name(collector_ref)
        if name is None:
            raise DomainError("collector", f"no active collector {collector_ref!r}")
        if uow.credentials.credential(credential_ref) is not None:
            raise DomainError("credential_ref", f"{credential_ref!r} is already on file")
        claims = Claims(issuer=issuer, credential_id=credential_ref, collector_id=collector_ref,
                        collector_name=name, agency=None, debt=None, scopes=tuple(Scope),
                        valid_from=valid_from, valid_until=valid_until, issued_at=clock.now())
        issued = _file(uow, keys, clock, claims, None)
        uow.commit()
    return issued


# --- revoking and verifying ----------------------------------------------------------------


def revoke(id_or_token: str, *, uow_factory: Callable[[], UnitOfWork], keys: KeyVault,
           clock: Clock) -> str:
    """Revoke a credential, named by its id or given as its token; returns its id."""
    text = id_or_token.strip()
    with uow_factory() as uow:
        ref = text
        if text.count(".") == 2:
            status, parsed = signature_of(text, uow=uow, keys=keys)
            if parsed is None or status in (Signature.INVALID, Signature.UNKNOWN_KEY):
                raise DomainError("ID_OR_TOKEN", "not a credential this lender signed")
            ref = str(parsed.payload.get("jti", ""))
        record = uow.credentials.credential(ref)
        if record is None:
            raise DomainError("ID_OR_TOKEN", f"no credential {ref!r}")
        now = clock.now()
        if not uow.credentials.revoke(ref, now):
            raise DomainError("ID_OR_TOKEN", f"{ref} is already revoked")
        if record.loan_ref:
            booked = uow.book.get(record.loan_ref)
            if booked is not None:
                evidence.record(uow, booked.borrower_id, "credential_revoked", now,
                                {"credential": ref})
        uow.commit()
    return ref


def revoke_held(uow: UnitOfWork, case_id: int, at: datetime, *, reason: str,
                collector_ref: str = "", agency_ref: str = "", every_collector: bool = False
                ) -> list[str]:
    """In `uow`: revoke every credential the collector (or the agency) holds on the loans of
    the case's borrower, as the holder stops collecting them (a recall, a reassignment), each
    revocation kept on the borrower's evidence chain with `reason`. Returns their ids."""
    return _revoked(uow, uow.credentials.held_on_case(
        case_id, at, collector_ref=collector_ref, agency_ref=agency_ref,
        every_collector=every_collector), at, reason)


def revoke_collectors(uow: UnitOfWork, collector_ref: str, at: datetime, *, reason: str
                      ) -> list[str]:
    """In `uow`: revoke every credential the collector holds, their badges and each one for a
    debt (kept on that borrower's evidence chain with `reason`), as they stop collecting.
    Returns their ids."""
    return _revoked(uow, uow.credentials.held_by_collector(collector_ref, at), at, reason)


def revoke_visit_notices(uow: UnitOfWork, loan_id: int, visit_on: date,
                         collector_refs: Sequence[str], at: datetime, *, reason: str
                         ) -> list[str]:
    """In `uow`: revoke the visit credentials (the notice a borrower checks at the door) the
    collectors hold for the loan on `visit_on`, as the visit is called off, each kept on the
    borrower's evidence chain with `reason`. Returns their ids."""
    return _revoked(uow, uow.credentials.visit_notices(loan_id, visit_on, collector_refs), at,
                    reason)


def _revoked(uow: UnitOfWork, held: Sequence[tuple[str, int | None]], at: datetime,
             reason: str) -> list[str]:
    """Revoke each (credential id, borrower id) of `held`, kept on the borrower's evidence
    chain (a badge names no borrower); their ids."""
    for ref, borrower_id in held:
        uow.credentials.revoke(ref, at)
        if borrower_id is not None:
            evidence.record(uow, borrower_id, "credential_revoked", at,
                            {"credential": ref, "reason": reason})
    return [ref for ref, _ in held]


def revocation_list(*, uow_factory: Callable[[], UnitOfWork], keys: KeyVault,
                    clock: Clock, issuer: str) -> str:
    """A signed list of every revoked credential id (a JWS anyone can check with the JWKS)."""
    with uow_factory() as uow:
        now = clock.now()
        revoked = [{"jti": ref, "revoked_at": int(at.timestamp())}
                   for ref, at in uow.credentials.revocations()]
        # `exp` (a day on): a list older than that may miss a revocation, so a relying party
        # holding one must fetch it again — an old list, replayed, cannot vouch for a token.
        token, _ = sign(uow, keys, clock, {"iss": issuer, "iat": int(now.timestamp()),
                                           "exp": int((now + REVOCATION_LIST_LIFETIME)
                                                      .timestamp()),
                                           "typ": REVOCATION_LIST_TYPE, "revoked": revoked},
                        "JWT")
        uow.commit()  # the first use of the vault may have made the first key
    return token


def verify(token: str, question: Question, *, uow_factory: Callable[[], UnitOfWork],
           keys: KeyVault) -> Judgement:
    """The verdict on a presented credential: forged, revoked, expired, wrong debt, out of
    scope, or genuine (with who the holder is and what they may do)."""
    with uow_factory() as uow:
        status, parsed = signature_of(token, uow=uow, keys=keys)
        claims: Claims | None = None
        revoked_at = None
        if parsed is not None:
            try:
                claims = Claims.from_payload(parsed.payload)
            except MalformedClaims:
                claims = None
            if claims is not None and status is Signature.VALID:
                record = uow.credentials.credential(claims.credential_id)
                revoked_at = record.revoked_at if record is not None else None
    return judge(status, claims, question, revoked_at=revoked_at,
                 key_id=parsed.kid if parsed is not None else "")


def question_on(day: date | None, now: datetime, zone: str, *, debt: str | None,
                scope: str | None) -> Question:
    """The question for a whole day in the lender's zone, or for the instant `now`."""
    tz = ZoneInfo(zone)
    wanted = _scope(scope) if scope else None
    if day is None:
        return Question(start=now, end=now, day=now.astimezone(tz).date(), debt=debt,
                        scope=wanted)
    check_date(day, "on")
    return Question(start=datetime.combine(day, time(), tz),
                    end=_midnight_after(day, tz) - timedelta(microseconds=1), day=day,
                    debt=debt, scope=wanted)
