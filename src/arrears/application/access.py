"""Who may do what through the API: roles and their scopes, API-key principals, which loans and
cases a principal may see, and the access log of staff reads of personal data.

A key is `arr_<key_ref>_<secret>`; only a SHA-256 hash of the secret half is stored. The secret
is 256 random bits, so a fast hash is as strong as a slow one here, and a slow password hash
(argon2) would cost tens of milliseconds on every request.

Data scope: admin, supervisor, compliance and system keys see the whole book; a collector sees
the loans of the cases assigned to them; an agency sees only the cases placed with it, and
only while placed (on the open business date). Out of scope is indistinguishable from absent,
so a caller cannot probe which loans exist.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol

from arrears.application.ports import BookedLoan, UnitOfWork
from arrears.domain.errors import DomainError

KEY_PREFIX = "arr"
WEB_PREFIX = "web:"
"""A web user's principal's key ref is `web:<name>` (an API key's ref is hex, no colon)."""
KEY_IDENTITY = "key:"
"""An API key without a collector or agency is `key:<key ref>` in a record of who did it."""
MAX_NAME = 80
MAX_REF = 40


class Role(StrEnum):
    ADMIN = "admin"
    SUPERVISOR = "supervisor"
    COLLECTOR = "collector"
    AGENCY = "agency"
    COMPLIANCE = "compliance"
    BORROWER = "borrower"
    SYSTEM = "system"


class Scope(StrEnum):
    LOANS_READ = "loans:read"
    LOANS_WRITE = "loans:write"
    PAYMENTS_WRITE = "payments:write"
    COMPLIANCE_DECIDE = "compliance:decide"
    CONTACTS_WRITE = "contacts:write"
    CASES_READ = "cases:read"
    CASES_ASSIGN = "cases:assign"
    AGENCIES_READ = "agencies:read"
    EOD_RUN = "eod:run"
    REPORTS_READ = "reports:read"
    WEBHOOKS_MANAGE = "webhooks:manage"
    PLANS_WRITE = "plans:write"
    PLANS_APPROVE = "plans:approve"


_FIELD_WORK = frozenset({Scope.LOANS_READ, Scope.COMPLIANCE_DECIDE, Scope.CONTACTS_WRITE,
                         Scope.CASES_READ})
ROLE_SCOPES: dict[Role, frozenset[Scope]] = {
    Role.ADMIN: frozenset(Scope),
    Role.SUPERVISOR: frozenset(Scope) - {Scope.EOD_RUN, Scope.LOANS_WRITE,
                                         Scope.PAYMENTS_WRITE, Scope.WEBHOOKS_MANAGE},
    # A collector proposes plans and approves them within the policy's limits (maker-checker
    # and the waiver limit are the plan handler's); an agency may propose, never approve.
    Role.COLLECTOR: _FIELD_WORK | {Scope.PLANS_WRITE, Scope.PLANS_APPROVE},
    Role.AGENCY: _FIELD_WORK | {Scope.AGENCIES_READ, Scope.PLANS_WRITE},
    Role.COMPLIANCE: frozenset({Scope.LOANS_READ, Scope.COMPLIANCE_DECIDE, Scope.CASES_READ,
                                Scope.AGENCIES_READ, Scope.REPORTS_READ}),
    Role.BORROWER: frozenset(),  # the borrower login (a later issue) grants its own reads
    Role.SYSTEM: frozenset(),  # integration keys carry explicit scopes
}
WHOLE_BOOK = frozenset({Role.ADMIN, Role.SUPERVISOR, Role.COMPLIANCE, Role.SYSTEM})
STAFF = frozenset({Role.ADMIN, Role.SUPERVISOR, Role.COLLECTOR, Role.AGENCY, Role.COMPLIANCE})
"""Roles whose reads of a borrower's personal data go to the access log."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ApiKeyRow:
    key_ref: str
    name: str
    role: Role
    scopes: frozenset[Scope]
    agency_ref: str | None
    collector_ref: str | None
    secret_hash: str
    created_at: datetime
    revoked_at: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Principal:
    """The caller a request acts for."""

    key_ref: str
    role: Role
    scopes: frozenset[Scope]
    agency_ref: str | None = None
    collector_ref: str | None = None

    @property
    def actor(self) -> str | None:
        """The contact-log actor this caller is (`agency:<ref>` or a collector ref), or None
        for callers who contact no one themselves."""
        if self.role is Role.AGENCY and self.agency_ref:
            return f"agency:{self.agency_ref}"
        if self.role is Role.COLLECTOR and self.collector_ref:
            return self.collector_ref
        return None

    @property
    def identity(self) -> str:
        """Who this caller is in a record of who did what (a plan's proposer and decider,
        who took a promise, assigned or recalled a case), the same through the API and the
        web pages: the collector's ref, `agency:<ref>`, `web:<user name>`, `key:<key ref>`.
        Only collector refs go unprefixed, and they hold no colon (`casework.add_collector`),
        so no name of one kind can pass for another: a user named like a collector is not
        that collector."""
        if self.actor is not None:
            return self.actor
        if self.key_ref.startswith(WEB_PREFIX):
            return self.key_ref
        return KEY_IDENTITY + self.key_ref


@dataclass(frozen=True, slots=True, kw_only=True)
class AccessEntry:
    at: datetime
    key_ref: str
    role: str
    route: str
    loan_ref: str | None
    borrower_ref: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class CaseHolder:
    """Who works a case on a date: its collector and the agency it is placed with."""

    collector_ref: str | None
    agency_ref: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class CaseListRow:
    case_id: int
    borrower_ref: str
    bucket: str
    queue: str
    collector_ref: str | None
    agency_ref: str | None
    balance: int
    opened_on: date
    loan_refs: tuple[str, ...]


class ApiStore(Protocol):
    """API keys, the access log and scoped case lists, inside one unit of work."""

    def add_key(self, row: ApiKeyRow) -> None: ...
    def key_by_ref(self, key_ref: str) -> ApiKeyRow | None: ...
    def keys(self) -> list[ApiKeyRow]: ...
    def revoke_key(self, key_ref: str, at: datetime) -> bool:
        """Mark a live key revoked; False when there is no such live key."""
        ...
    def log_access(self, entries: Sequence[AccessEntry]) -> None: ...
    def loan_currency(self, loan_ref: str) -> str | None:
        """The loan's currency, or None when there is no such loan (one indexed read)."""
        ...
    def payment(self, key: str) -> dict[str, Any] | None:
        """The payment (or reversal) posted under `key` as stored, with its loan's id and
        currency: `id`, `loan_ref`, `currency`, `paid_on`, `amount`, `reverses_id` and the
        `to_…` parts."""
        ...
    def case_holder(self, borrower_id: int, on: date, loan_id: int | None = None
                    ) -> CaseHolder | None:
        """The borrower's open case's collector (None when not assigned or deactivated) and
        the agency it is placed with on `on` (with `loan_id`: placed with that loan among the
        placement's loans); None without an open case."""
        ...
    def assign_case(self, case_id: int, collector_id: int) -> None: ...
    def case_page(self, *, after: int, limit: int, on: date, queue: str | None,
                  collector_ref: str | None, agency_ref: str | None) -> list[CaseListRow]:
        """Open cases with id > `after`, by id, at most `limit`; `agency_ref` keeps those
        placed with it on `on`, `collector_ref` those assigned to them."""
        ...


class ApiUnitOfWork(UnitOfWork, Protocol):
    api: ApiStore


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def split_key(token: str) -> tuple[str, str] | None:
    """(key_ref, secret) of a well-formed key, else None."""
    prefix, _, rest = token.partition("_")
    key_ref, _, secret = rest.partition("_")
    if prefix != KEY_PREFIX or not key_ref or not secret or len(key_ref) > 24:
        return None
    return key_ref, secret


def new_key() -> tuple[str, str, str]:
    """(key_ref, secret, the key to hand out once)."""
    key_ref, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
    return key_ref, secret, f"{KEY_PREFIX}_{key_ref}_{secret}"


def principal_of(row: ApiKeyRow, secret: str) -> Principal | None:
    """The principal of a live key whose secret matches, else None."""
    if row.revoked_at is not None or not hmac.compare_digest(row.secret_hash,
                                                             hash_secret(secret)):
        return None
    return Principal(key_ref=row.key_ref, role=row.role, scopes=row.scopes,
                     agency_ref=row.agency_ref, collector_ref=row.collector_ref)


def parse_scopes(names: Sequence[str]) -> frozenset[Scope]:
    known = {scope.value: scope for scope in Scope}
    unknown = [name for name in names if name not in known]
    if unknown:
        raise DomainError("scope", f"unknown scope {unknown[0]!r} (expected some of "
                                   f"{', '.join(known)})")
    return frozenset(known[name] for name in names)


def parse_role(name: str) -> Role:
    try:
        return Role(name)
    except ValueError:
        raise DomainError("role", f"unknown role {name!r} (expected one of "
                                  f"{', '.join(r.value for r in Role)})") from None


def open_business_date(uow: UnitOfWork) -> date:
    closed = uow.book.closed_through()
    if closed is None:
        raise DomainError("business_date", "the book has no business date; run `arrears init`")
    return closed + timedelta(days=1)


def loan_in_scope(uow: ApiUnitOfWork, principal: Principal, loan_ref: str
                  ) -> BookedLoan | None:
    """The loan when `principal` may see it, else None (as if it did not exist)."""
    booked = uow.book.get(loan_ref)
    if booked is None or principal.role in WHOLE_BOOK:
        return booked
    if principal.role not in (Role.COLLECTOR, Role.AGENCY):
        return None
    holder = uow.api.case_holder(booked.borrower_id, open_business_date(uow), booked.id)
    if holder is None:
        return None
    if principal.role is Role.COLLECTOR:
        return booked if principal.collector_ref and \
            holder.collector_ref == principal.collector_ref else None
    return booked if principal.agency_ref and holder.agency_ref == principal.agency_ref \
        else None


def loan_currency_in_scope(uow: ApiUnitOfWork, principal: Principal, loan_ref: str, *,
                           route: str, at: datetime, personal: bool) -> str:
    """`check_loan_access` for a caller who needs only the loan's currency: a whole-book
    role reading no personal data is checked by one indexed read, not by loading the loan."""
    if principal.role in WHOLE_BOOK and not (personal and principal.role in STAFF):
        currency = uow.api.loan_currency(loan_ref)
        if currency is None:
            raise NotFound("loan_id", f"no loan {loan_ref!r}")
        return currency
    return check_loan_access(uow, principal, loan_ref, route=route, at=at,
                             personal=personal).loan.currency


def check_loan_access(uow: ApiUnitOfWork, principal: Principal, loan_ref: str, *,
                      route: str, at: datetime, personal: bool) -> BookedLoan:
    """The loan in scope for `principal`, or `DomainError('loan_id', 'no loan …')`. A staff
    read of personal data (`personal`) is logged in the same transaction; the caller commits."""
    booked = loan_in_scope(uow, principal, loan_ref)
    if booked is None:
        raise NotFound("loan_id", f"no loan {loan_ref!r}")
    if personal and principal.role in STAFF:
        borrower = uow.reports.borrower_of(loan_ref) or {}
        uow.api.log_access([AccessEntry(at=at, key_ref=principal.key_ref,
                                        role=principal.role.value, route=route,
                                        loan_ref=loan_ref,
                                        borrower_ref=borrower.get("borrower_ref"))])
    return booked


class NotFound(DomainError):
    """Nothing of that id that the caller may see (out of scope looks the same)."""
