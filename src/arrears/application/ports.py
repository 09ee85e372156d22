"""Ports: what the use cases need from the outside world, as Protocols.

The SQL adapter (`arrears.adapters.db`) implements them; handlers never see SQLAlchemy.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol, Self

from arrears.domain.delinquency import Bucket, LoanStatus
from arrears.domain.ledger import Account
from arrears.domain.loan import Loan, LoanState, PaymentApplied
from arrears.domain.product import Product


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class Phone:
    number: str
    time_zone: str
    kind: str = "mobile"


@dataclass(frozen=True, slots=True, kw_only=True)
class ContactPerson:
    name: str
    relation: str
    phone: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Borrower:
    borrower_ref: str
    name: str
    national_id: str
    address: str
    region: str
    time_zone: str
    language: str
    phones: tuple[Phone, ...]
    contacts: tuple[ContactPerson, ...] = ()
    behaviour: str | None = None  # only the demo's synthetic borrowers carry one


@dataclass(frozen=True, slots=True, kw_only=True)
class BookedLoan:
    """A loan as the book holds it: its terms, its state, and the figures derived from it."""

    id: int
    borrower_id: int
    product_code: str
    loan: Loan
    state: LoanState
    status: LoanStatus
    dpd: int
    bucket: Bucket


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredPayment:
    id: int
    loan_id: int
    key: str
    on: date
    amount: int
    reverses_id: int | None
    reversed: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class EodRun:
    business_date: date
    status: str
    loans_processed: int
    loans_failed: int


@dataclass(frozen=True, slots=True, kw_only=True)
class LoanUpdate:
    """Everything one state change writes for one loan, in one go."""

    booked: BookedLoan  # the loan before
    loan: Loan  # the loan after (a write-off sets its date)
    state: LoanState
    status: LoanStatus
    dpd: int
    bucket: Bucket
    entry: str
    business_date: date
    postings: tuple[tuple[Account, int], ...]
    accrued_penalty: int = 0
    accrued_compound: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    """An outbox message committed with the change that caused it."""

    message_id: str
    topic: str
    loan_id: int | None
    business_date: date
    payload: dict[str, Any]
    created_at: datetime


class LoanBook(Protocol):
    """The book of loans inside one unit of work. Never commits."""

    def closed_through(self) -> date | None: ...
    def close_through(self, day: date) -> None: ...
    def products(self) -> dict[str, Product]: ...
    def product_definitions(self) -> dict[str, dict[str, Any]]: ...
    def add_product(self, code: str, definition: dict[str, Any]) -> None: ...
    def existing_borrowers(self, refs: Iterable[str]) -> dict[str, int]: ...
    def existing_loans(self, refs: Iterable[str]) -> set[str]: ...
    def add_borrower(self, borrower: Borrower) -> int: ...
    def add_loans(self, updates: Sequence[LoanUpdate]) -> list[int]: ...
    def get(self, loan_ref: str, *, for_update: bool = False) -> BookedLoan | None: ...
    def get_many(self, ids: Sequence[int]) -> list[BookedLoan]: ...
    def apply(self, updates: Sequence[LoanUpdate]) -> None: ...
    def payment_by_key(self, key: str) -> StoredPayment | None: ...
    def payments_of(self, loan_id: int) -> list[StoredPayment]: ...
    def add_payment(self, loan_id: int, applied: PaymentApplied, recorded_at: datetime,
                    reverses_id: int | None = None, recovery: bool = False) -> int: ...
    def emit(self, events: Sequence[Event]) -> None: ...
    def eod_run(self, day: date) -> EodRun | None: ...
    def start_eod(self, day: date, engine: str, at: datetime) -> None: ...
    def progress_eod(self, day: date, processed: int, failed: int) -> None: ...
    def finish_eod(self, day: date, at: datetime) -> None: ...
    def loans_needing_eod(self, day: date, after_id: int, limit: int) -> list[int]: ...
    def close_untouched(self, day: date) -> int: ...
    def record_failures(self, day: date, failures: Sequence[tuple[int, str]]) -> None: ...


class Reports(Protocol):
    """Read-side aggregates; rows of plain values, no domain objects."""

    def portfolio(self) -> list[tuple[str, str, int, int]]: ...
    def bucket_moves(self, first: date, last: date) -> list[tuple[str, str, int]]: ...
    def account_totals(self, first: date | None = None,
                       last: date | None = None) -> dict[str, int]: ...
    def cash_received(self, first: date, last: date) -> int: ...
    def eod_failures(self, day: date) -> list[tuple[str, str]]: ...
    def borrower_of(self, loan_ref: str) -> dict[str, Any] | None: ...
    def payments_of(self, loan_ref: str) -> list[dict[str, Any]]: ...


class UnitOfWork(Protocol):
    """One transaction over the book: commit explicitly, roll back on exit otherwise."""

    book: LoanBook
    reports: Reports

    def __enter__(self) -> Self: ...
    def __exit__(self, *exc: object) -> None: ...
    def commit(self) -> None: ...
