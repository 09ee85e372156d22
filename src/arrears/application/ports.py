"""Ports: what the use cases need from the outside world, as Protocols.

The SQL adapter (`arrears.adapters.db`) implements them; handlers never see SQLAlchemy.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any, Protocol, Self, TypeVar

from arrears.application.complaints import ComplaintStore
from arrears.application.disputes import DisputeStore
from arrears.application.trust import CredentialStore, EvidenceStore
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
    email: str = ""  # an address the borrower gave for notices ('' when none)


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
    prepayment: bool = False


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
    def existing_borrowers(self, refs: Iterable[str]) -> dict[str, tuple[int, Borrower]]:
        """The borrowers among `refs` the book holds: ref → (id, the person as stored)."""
        ...
    def existing_loans(self, refs: Iterable[str]) -> set[str]: ...
    def add_borrowers(self, borrowers: Sequence[Borrower]) -> dict[str, int]:
        """Insert new borrowers (distinct refs); ref → id."""
        ...
    def add_loans(self, updates: Sequence[LoanUpdate]) -> list[int]: ...
    def get(self, loan_ref: str, *, for_update: bool = False) -> BookedLoan | None: ...
    def get_by_refs(self, loan_refs: Iterable[str]) -> dict[str, BookedLoan]:
        """The loans among `loan_refs` the book holds, by ref (no locks)."""
        ...
    def get_many(self, ids: Sequence[int], *, for_update: bool = False
                 ) -> list[BookedLoan]: ...
    def apply(self, updates: Sequence[LoanUpdate]) -> None: ...
    def payment_by_key(self, key: str) -> StoredPayment | None: ...
    def payments_of(self, loan_id: int) -> list[StoredPayment]: ...
    def add_payment(self, loan_id: int, applied: PaymentApplied, recorded_at: datetime,
                    reverses_id: int | None = None, recovery: bool = False,
                    prepayment: bool = False) -> int: ...
    def emit(self, events: Sequence[Event]) -> None: ...
    def eod_run(self, day: date) -> EodRun | None: ...
    def start_eod(self, day: date, engine: str, at: datetime) -> None: ...
    def progress_eod(self, day: date, processed: int, failed: int) -> None: ...
    def finish_eod(self, day: date, at: datetime) -> None: ...
    def loans_needing_eod(self, day: date, after_id: int, limit: int) -> list[int]: ...
    def untouched_due_dates(self, ids: Sequence[int], day: date
                            ) -> dict[int, tuple[str, list[date]]]:
        """For the loans among `ids` end-of-day leaves as they are on `day` (open, stored
        before it, nothing unpaid due by it): product code and the due dates up to `day`."""
        ...
    def record_failures(self, day: date, failures: Sequence[tuple[int, str]]) -> None: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class LoanListRow:
    """A loan as the loan list selects it: its stored classification, by which it is filtered."""

    id: int
    loan_ref: str
    borrower_ref: str
    product_code: str
    status: str
    bucket: str
    dpd: int


class Reports(Protocol):
    """Read-side aggregates; rows of plain values, no domain objects."""

    def portfolio(self) -> list[tuple[str, str, int, int]]: ...
    def restructured(self) -> tuple[int, dict[str, int], int]:
        """(loans holding a hardship plan, such loans per plan kind, total forgiven)."""
        ...
    def bucket_moves(self, first: date, last: date) -> list[tuple[str, str, int]]:
        """(from, to, loans) of the delinquency changes dated in [first, last], but those of
        loans already written off."""
        ...
    def buckets_on(self, day: date) -> dict[str, int]:
        """Loans on the book at `day` (not written off by then) by the bucket their last
        delinquency change dated on or before it moved them to (loans that never moved are in
        C and not counted)."""
        ...
    def account_totals(self, first: date | None = None,
                       last: date | None = None) -> dict[str, int]: ...
    def cash_received(self, first: date, last: date) -> int: ...
    def currencies(self) -> list[str]: ...
    def eod_failures(self, day: date) -> list[tuple[str, str]]: ...
    def borrower_of(self, loan_ref: str) -> dict[str, Any] | None: ...
    def payments_of(self, loan_ref: str) -> list[dict[str, Any]]: ...
    def loan_list(self, *, status: str | None, bucket: str | None, product: str | None,
                  borrower: str | None, limit: int) -> list[LoanListRow]:
        """Loans matching every filter given (None matches any), most days past due first,
        then by loan id in byte order, at most `limit`."""
        ...


class EventLog(Protocol):
    """Events for webhook subscribers, committed with the change that caused them (into the
    outbox `LoanBook.emit` writes the loan book's own events to). Never commits."""

    def emit(self, events: Sequence[Event]) -> None:
        """Record each event once: an id already recorded is skipped, so a change that can
        happen twice (a message delivered again after a lost lease) reports itself once."""
        ...


class UnitOfWork(Protocol):
    """One transaction over the book: commit explicitly, roll back on exit otherwise."""

    book: LoanBook
    events: EventLog
    reports: Reports
    messages: MessageStore
    collections: CollectionsStore
    credentials: CredentialStore
    evidence: EvidenceStore
    complaints: ComplaintStore
    plans: PlanStore
    disputes: DisputeStore

    def __enter__(self) -> Self: ...
    def __exit__(self, *exc: object) -> None: ...
    def commit(self) -> None: ...


class UnitOfWorkFactory(Protocol):
    """Makes units of work on one book, and holds the book's one end-of-day lock."""

    def __call__(self) -> UnitOfWork: ...

    def eod_lock(self) -> AbstractContextManager[str | None]:
        """Try to take the book's end-of-day lock for the block, without waiting. Yields None
        when taken, else who holds it (the block then holds nothing). A holder that dies,
        even by SIGKILL, releases it."""
        ...


Item = TypeVar("Item")
Result = TypeVar("Result")


class ReadAhead(Protocol):
    """Runs `work(readers, item)` for each of `items` and yields the results in the items'
    order; closing the generator drops the items not yet run. It may run ahead of the caller
    and in other processes: `readers` then makes units of work that can only read, `work` and
    the items travel by pickle, and what `work` returns must not depend on anything the
    caller writes meanwhile."""

    def map(self, work: Callable[[Callable[[], UnitOfWork], Item], Result],
            items: Sequence[Item]) -> Generator[Result, None, None]: ...


class InProcess:
    """`ReadAhead` in the caller's process, one item at a time when the caller asks for it."""

    def __init__(self, uow_factory: Callable[[], UnitOfWork]) -> None:
        self.uow_factory = uow_factory

    def map(self, work: Callable[[Callable[[], UnitOfWork], Item], Result],
            items: Sequence[Item]) -> Generator[Result, None, None]:
        return (work(self.uow_factory, item) for item in items)


class StaleWrite(Exception):
    """A conditional write found loans no longer in the state it read them in: another
    writer came first. The unit of work must roll back, so nothing of it is kept."""

    def __init__(self, expected: int, written: int, what: str = "loans") -> None:
        super().__init__(f"{expected - written} of {expected} {what} changed after they were "
                         "read (another writer came first)")


# --- collections: the notification outbox (issue 6) ----------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class OutgoingMessage:
    """A rendered notification, committed with the state change that caused it."""

    message_id: str
    """Stable: it travels to the receiving side, so a repeated delivery is recognisable."""
    channel: str
    loan_id: int | None
    borrower_id: int | None
    business_date: date
    template: str
    language: str
    recipient: str
    subject: str
    body: str
    pack: str
    compliance: str
    """The compliance action and facts it was planned with (codec JSON text, without `at`;
    `contacts.compliance_document`)."""
    next_attempt_at: datetime
    created_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class ClaimedMessage:
    """A message a worker leased for delivery; `attempts` counts this one."""

    message_id: str
    channel: str
    loan_ref: str
    recipient: str
    subject: str
    body: str
    language: str
    pack: str
    compliance: Mapping[str, Any]
    attempts: int
    borrower_id: int | None = None
    business_date: date | None = None
    """Whose preferences the send-time re-check reads from the book."""


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliveryOutcome:
    """What became of one claimed message."""

    message_id: str
    status: str  # delivered | pending | dead | blocked
    at: datetime
    log: str  # delivered | failed | deferred | blocked | dead
    next_attempt_at: datetime | None = None
    detail: str = ""
    uncount: bool = False
    """The attempt was not made (deferred by a rate limit or the hours rule): don't count it."""


class MessageStore(Protocol):
    """The outbox inside one unit of work. Never commits."""

    def enqueue(self, messages: Sequence[OutgoingMessage]) -> int:
        """Add messages whose ids are new; returns how many were added."""
        ...

    def claim(self, now: datetime, limit: int, worker: str, lease_until: datetime,
              channels: Sequence[str]) -> list[ClaimedMessage]:
        """Lease up to `limit` due messages (pending and due, or leased by a worker whose
        lease ran out), counting one attempt each."""
        ...

    def settle(self, worker: str, outcomes: Sequence[DeliveryOutcome]) -> int:
        """Record outcomes of messages this worker still holds; returns how many applied."""
        ...

    def next_due(self) -> datetime | None: ...
    def status_counts(self) -> dict[tuple[str, str], int]:
        """(channel, status) -> messages."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class Rendered:
    subject: str
    body: str


class Renderer(Protocol):
    """Renders a notification template in a language (zh-CN, en)."""

    def render(self, template: str, language: str, context: dict[str, Any]) -> Rendered: ...


# --- collections: strategies, cases, agencies (issue 6) -------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class PlanRow:
    """An active loan with what planning and the compliance facts need about its borrower."""

    loan_id: int
    loan_ref: str
    product_code: str
    currency: str
    dpd: int
    bucket: str
    due_on: date
    """Due date of the earliest unpaid installment."""
    borrower_id: int
    borrower_ref: str
    name: str
    language: str
    region: str
    address: str
    time_zone: str
    phone: str
    phone_zone: str
    email: str


@dataclass(frozen=True, slots=True, kw_only=True)
class PlannedAction:
    action_key: str
    loan_id: int
    business_date: date
    strategy: str
    arm: str
    step: str
    kind: str
    status: str  # scheduled | rescheduled | cancelled | done
    planned_at: datetime
    scheduled_at: datetime | None = None
    rule_ids: tuple[str, ...] = ()
    reason: str = ""
    message_id: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CaseRow:
    id: int
    borrower_id: int
    bucket: str
    queue: str
    collector_id: int | None
    opened_on: date


@dataclass(frozen=True, slots=True, kw_only=True)
class CollectorRow:
    id: int
    collector_ref: str
    languages: tuple[str, ...]
    buckets: tuple[str, ...]
    capacity: int


@dataclass(frozen=True, slots=True, kw_only=True)
class AgencyRow:
    id: int
    agency_ref: str
    name: str
    licence_no: str
    licence_valid_from: date
    licence_valid_until: date
    whitelisted: bool
    capacity: int
    commission_rate: str
    fixed_fee: int


@dataclass(frozen=True, slots=True, kw_only=True)
class PromiseRow:
    """An open promise to pay: `amount` minor units on `loan_id` from `promised_on` (the
    business date it was made) through `due_on`."""

    id: int
    case_id: int
    loan_id: int
    amount: int
    promised_on: date
    due_on: date


@dataclass(frozen=True, slots=True, kw_only=True)
class PromiseOnFile:
    """A promise to pay on a loan, open or settled: who took it, how much by when, and (once
    settled) how much was paid towards it."""

    promise_id: int
    amount: int
    promised_on: date
    due_on: date
    status: str
    """open, kept or broken."""
    collector_ref: str
    """Who took it (`Principal.identity`: a collector's ref, `agency:<ref>`, `web:<user>`,
    `key:<key ref>`), '' when the borrower made it themselves."""
    paid: int


@dataclass(frozen=True, slots=True, kw_only=True)
class LoggedContact:
    """A contact from the contact log, as compliance history."""

    at: datetime
    actor: str
    """A collector ref for the lender's own team, or `agency:<ref>`."""
    channel: str
    outcome: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CredentialRow:
    collector_ref: str
    credential_ref: str
    valid_from: datetime
    valid_until: datetime
    revoked_at: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class VisitAuthorizationRow:
    id: int
    authorization_ref: str
    case_id: int
    loan_id: int
    collectors: tuple[str, ...]
    written: bool
    recording: bool
    issued_at: datetime
    valid_until: datetime
    legal_reviewer: str = ""
    legal_review_at: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CancelledVisit:
    """A scheduled field visit called off (a collector it named left the floor)."""

    loan_id: int
    loan_ref: str
    borrower_id: int
    authorization_ref: str
    planned_at: datetime
    collectors: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class ContactPreferenceRow:
    """What a borrower said about being contacted, as received: an opt-out of a channel, a
    request to stop (written or oral, naming channels), or an inconvenient time window in the
    borrower's local time. Never updated: a revocation is a row of its own (`revokes_id`)."""

    id: int
    borrower_id: int
    kind: str  # opt_out | cease | inconvenient_time | revocation
    received_at: datetime
    received_via: str  # phone | sms | email | letter | portal
    recorded_at: datetime
    channels: tuple[str, ...] = ()
    in_writing: bool = False
    contact_point: str = ""
    """Only this contact point (a window at the work number); '' for all."""
    window_start: time | None = None
    window_end: time | None = None
    weekdays: tuple[int, ...] = ()
    """Monday = 0; () for every day."""
    revokes_id: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class WorkedLoan:
    """An active loan whose borrower's open case an active collector works."""

    loan_ref: str
    borrower_ref: str
    language: str
    collector_ref: str


class CollectionsStore(Protocol):
    """Cases, actions, collectors, agencies, promises and contacts in one unit of work."""

    def planning_rows(self, due_on: Mapping[str, Sequence[date]]) -> list[PlanRow]:
        """The active loans of each product in `due_on` whose earliest unpaid installment
        fell due on one of the product's dates, by loan id."""
        ...
    def worked_loans(self, last_due: date) -> list[WorkedLoan]:
        """The active loans due on or before `last_due` whose borrower's open case an active
        collector works, by loan id."""
        ...
    def plan_rows(self, loan_ids: Sequence[int]) -> dict[int, PlanRow]:
        """The planning rows of the active loans among `loan_ids` that have an unpaid due
        date, by loan id."""
        ...
    def existing_action_keys(self, keys: Sequence[str]) -> set[str]: ...
    def add_actions(self, actions: Sequence[PlannedAction]) -> None: ...
    def call_history(self, borrower_ids: Sequence[int], since: datetime
                     ) -> dict[int, list[LoggedContact]]:
        """Logged contacts (every channel) at or after `since`, per borrower."""
        ...
    def last_refusals(self, borrower_ids: Sequence[int]) -> dict[int, datetime]:
        """When each borrower last refused to pay on a logged contact (absent: never)."""
        ...
    def overdue_loans_of(self, borrower_id: int) -> list[int]:
        """The ids of the borrower's overdue loans (past due, not written off)."""
        ...
    def overdue_borrowers(self) -> list[tuple[int, int, int, str, str]]:
        """(borrower id, max DPD, overdue loans' principal, language, region)."""
        ...
    def open_cases(self, *, lock: bool = False) -> dict[int, CaseRow]:
        """Open cases by borrower id; `lock` holds their rows to the end of the transaction,
        in id order (a case sync, against placements and assignments of them)."""
        ...
    def open_case(self, borrower_id: int, bucket: str, queue: str, collector_id: int | None,
                  day: date, balance: int) -> int: ...
    def update_case(self, case_id: int, bucket: str, queue: str, collector_id: int | None,
                    day: date, balance: int) -> None: ...
    def close_case(self, case_id: int, day: date) -> None: ...
    def collectors(self, *, lock: bool = False) -> list[CollectorRow]:
        """The active collectors, by id. `lock` holds their rows to the end of the
        transaction (PostgreSQL FOR SHARE), so a deactivation cannot commit between the
        choice of a collector and the case written with it."""
        ...
    def add_collector(self, collector_ref: str, name: str, languages: Sequence[str],
                      buckets: Sequence[str], capacity: int) -> int: ...
    def collector_active(self, collector_ref: str) -> bool | None:
        """Whether the collector is active; None when no collector ever had that id."""
        ...
    def deactivate_collector(self, collector_ref: str) -> list[int] | None:
        """Take an active collector off the floor: the ids of the open cases they worked,
        now left without a collector for the next case sync to assign; None when no active
        collector has that id. Locks the collector's row first (PostgreSQL FOR UPDATE), so it
        waits for a transaction that chose them under `collectors(lock=True)`."""
        ...
    def case_of_borrower(self, borrower_id: int) -> CaseRow | None: ...
    def lock_assignments(self, collector_id: int) -> None:
        """Hold, to the end of the transaction, the right to assign cases to this collector by
        hand (PostgreSQL: an advisory lock; SQLite's writer lock covers it): two assignments
        to one collector take turns, so neither counts a load the other is changing."""
        ...
    def borrower_language(self, borrower_id: int) -> str:
        """The language the borrower is written to and called in (`loans.csv` language)."""
        ...
    def cases_of_borrowers(self, borrower_ids: Sequence[int]) -> dict[int, CaseRow]:
        """The open case of each borrower among `borrower_ids` that has one."""
        ...
    def lock_cases(self, case_ids: Sequence[int]) -> None:
        """Hold the cases' rows to the end of the transaction (PostgreSQL), taken in id order
        as the case sync takes them: whoever places, recalls, assigns or escalates one takes
        turns, and reads its placements after the other commits."""
        ...
    def agencies(self, *, lock: bool = False) -> list[AgencyRow]:
        """Every agency on file; `lock` holds their rows to the end of the transaction, so
        placements counted against an agency's capacity are not exceeded by another at once.
        Lock a case (`lock_cases`) before the agencies, never after."""
        ...
    def add_agency(self, row: AgencyRow) -> int: ...
    def active_placements(self, on: date) -> dict[int, tuple[int, int]]:
        """case id -> (placement id, agency id) for placements in force on `on`."""
        ...
    def place(self, case_id: int, agency_id: int, scope: str, placed_on: date, ends_on: date,
              balance: int) -> int: ...
    def recall(self, placement_id: int, on: date) -> None: ...
    def cases_for_agency(self, agency_ref: str, on: date) -> list[dict[str, Any]]: ...
    def placements_page(self, on: date, *, after: int, limit: int) -> list[dict[str, Any]]:
        """Open cases placed on `on` with an id above `after`, at most `limit`, by case id:
        `cases_for_agency`'s rows with the `agency_ref` too."""
        ...
    def agency_performance(self) -> list[dict[str, Any]]: ...
    def add_placement_loan(self, placement_id: int, loan_id: int, balance: int) -> bool:
        """Add a loan to a placement (and its balance to the placed balance); False if it is
        already covered."""
        ...
    def refresh_recoveries(self, day: date, lookback_days: int) -> int:
        """Set each placement's `recovered` to the payments on its loans dated while it was in
        force, through `day`, for placements in force within `lookback_days` of `day`."""
        ...
    def add_promise(self, case_id: int, loan_id: int, amount: int, due_on: date,
                    made_at: datetime, paid_before: int, *, collector_ref: str,
                    promised_on: date) -> int: ...
    def open_promises(self, day: date) -> list[PromiseRow]:
        """Open promises made on or before `day`."""
        ...
    def settle_promise(self, promise_id: int, status: str, day: date, paid: int) -> None: ...
    def promises_of(self, loan_id: int, limit: int) -> list[PromiseOnFile]:
        """The latest `limit` promises made on the loan, newest first."""
        ...
    def promise_made(self, loan_id: int, amount: int, due_on: date, promised_on: date
                     ) -> int | None:
        """The id of a promise of `amount` by `due_on` made on the loan on `promised_on`."""
        ...
    def paid_between(self, loan_id: int, first: date, last: date) -> int:
        """Net payments (reversals subtract) on the loan dated in [first, last]."""
        ...
    def paid_total(self, loan_id: int, through: date) -> int: ...
    def log_contact(self, case_id: int, actor: str, channel: str, outcome: str,
                    at: datetime, notes: str, recording_ref: str, complaint: bool) -> int: ...
    def credentials(self, collector_refs: Sequence[str]) -> list[CredentialRow]: ...
    def add_visit_authorization(self, row: VisitAuthorizationRow) -> int: ...
    def visit_authorizations(self, loan_id: int) -> list[VisitAuthorizationRow]: ...
    def add_field_visit(self, visit_key: str, authorization: VisitAuthorizationRow,
                        planned_at: datetime, created_at: datetime) -> bool:
        """Record a visit the engine allowed; False if `visit_key` is already on file."""
        ...
    def cancel_visits(self, after: datetime, *, collector_ref: str = "",
                      borrower_id: int | None = None) -> list[CancelledVisit]:
        """Cancel every scheduled field visit planned at or after `after` that names the
        collector (or, given `borrower_id`, to any of that borrower's loans); the visits
        cancelled, by id."""
        ...
    def add_contact_preference(self, row: ContactPreferenceRow) -> int: ...
    def contact_preferences(self, borrower_ids: Sequence[int]
                            ) -> dict[int, list[ContactPreferenceRow]]:
        """Every preference row of these borrowers, revocations included, in id order."""
        ...
    def summary(self) -> dict[str, Any]:
        """messages_by_channel, blocked_by_rule, cases_by_queue."""
        ...


# --- hardship plans (issue 9) -------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class PlanRecord:
    """A plan as the book keeps it, from proposal to outcome. `terms` is the plan's JSON
    document (`plan_file.plan_document`), `preview` the preview document last shown."""

    id: int
    plan_ref: str
    loan_id: int
    kind: str
    status: str
    in_force: bool
    effective_on: date
    terms: dict[str, Any]
    waived: int
    preview: dict[str, Any]
    proposed_by: str
    proposed_at: datetime
    decided_by: str | None = None
    decided_at: datetime | None = None
    reason: str = ""
    outcome_on: date | None = None
    last_payment_id: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class WatchedPlan:
    loan_id: int
    kind: str
    effective_on: date
    terms: dict[str, Any]


class PlanRefTaken(Exception):
    """Another transaction stored a plan under the ref this one chose (plan refs count the
    plans on the book, so two proposals at once may pick the same one). The unit of work
    must roll back; proposing again picks the next ref."""


class PlanStore(Protocol):
    """Plans and plan policies inside one unit of work. Never commits."""

    def policies(self) -> dict[str, dict[str, Any]]:
        """product code -> the policy JSON object."""
        ...
    def set_policy(self, product_code: str, definition: dict[str, Any]) -> None: ...
    def add(self, record: PlanRecord) -> int:
        """Store a new plan; `PlanRefTaken` when its ref is already on file."""
        ...
    def get(self, plan_ref: str, *, for_update: bool = False) -> PlanRecord | None: ...
    def of_loan(self, loan_id: int) -> list[PlanRecord]:
        """Every plan of the loan, oldest first."""
        ...
    def update(self, record: PlanRecord) -> None:
        """Write the record's status, in_force, decision, reason, outcome and preview."""
        ...
    def watched(self, loan_ids: Sequence[int]) -> list[PlanRecord]:
        """The approved plans not yet kept or broken among these loans."""
        ...
    def all_watched(self) -> list[WatchedPlan]:
        """What end-of-day reads of every approved plan not yet kept or broken to tell which
        may be decided today (the full records are read for those only)."""
        ...
    def listing(self, *, loan_id: int | None, status: str | None, limit: int,
                before_id: int | None = None) -> list[tuple[PlanRecord, str]]:
        """(plan, loan ref), newest first (older than `before_id` when given)."""
        ...
    def counts(self) -> dict[tuple[str, str], int]:
        """(kind, status) -> plans."""
        ...
