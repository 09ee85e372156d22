"""Read side of the supervisor's and the compliance officer's dashboards: the figures behind
each chart, as plain records (no domain objects, no money as float).

High-volume figures (cases, contacts, promises, planned actions) are SQL aggregates of the
dashboard store; complaints and disputes are few, so their clocks are judged here row by row
with the domain's own rules (`domain.complaints.late`, `domain.disputes.overdue`) rather than
restated in SQL. Everything else comes from the services the CLI uses: plans awaiting a
decision (`plan_documents`), complaints per 1,000 contacts (`handlers.complaints.rates`),
agency performance, the portfolio and its roll rates (`queries`, `demo.roll_rates`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from arrears.application import plan_documents, queries
from arrears.application.demo import roll_rates
from arrears.application.handlers import complaints, disputes
from arrears.application.ports import UnitOfWork
from arrears.domain import complaints as complaint_rules
from arrears.domain import disputes as dispute_rules
from arrears.domain.delinquency import BUCKETS
from arrears.domain.errors import DomainError

WINDOW_DAYS = 30
"""Activity figures cover the last 30 business dates up to the closed one."""
AWAITING_LIMIT = 50
TOP_RULES = 10


@dataclass(frozen=True, slots=True, kw_only=True)
class BucketCases:
    bucket: str
    cases: int
    balance: int  # minor units


@dataclass(frozen=True, slots=True, kw_only=True)
class CollectorLoad:
    collector_ref: str
    name: str
    capacity: int
    active: bool
    open_cases: int
    contacts: int
    """Contacts the collector logged in the window."""
    promises_kept: int
    promises_broken: int
    promises_open: int
    """Promises taken in the window, by what became of them."""


@dataclass(frozen=True, slots=True, kw_only=True)
class AgencyPlacements:
    agency_ref: str
    name: str
    capacity: int
    in_force: int
    """Placements in force on the day."""
    placed: int
    recalled: int
    """Placements made, and placements recalled, in the window."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ActionDay:
    """Contact actions planned for one business date, and how many the engine held back."""

    day: date
    planned: int
    rescheduled: int
    cancelled: int


@dataclass(frozen=True, slots=True, kw_only=True)
class RuleBlocks:
    rule_id: str
    rescheduled: int
    cancelled: int

    @property
    def total(self) -> int:
        return self.rescheduled + self.cancelled


class DashboardStore(Protocol):
    """The dashboards' aggregates, inside one unit of work (reads only)."""

    def open_cases_by_bucket(self) -> list[BucketCases]: ...
    def collector_loads(self, since: datetime) -> list[CollectorLoad]:
        """Every collector with open cases, contacts logged and promises taken at or after
        `since`."""
        ...
    def agency_placements(self, first: date, last: date) -> list[AgencyPlacements]:
        """Every agency: in force on `last`, placed and recalled in [first, last]."""
        ...
    def actions_by_day(self, first: date, last: date) -> list[ActionDay]: ...
    def blocks_by_rule(self, first: date, last: date) -> list[RuleBlocks]:
        """Planned actions held back per rule in [first, last], most first."""
        ...


class DashboardUnitOfWork(UnitOfWork, Protocol):
    dashboards: DashboardStore


@dataclass(frozen=True, slots=True, kw_only=True)
class Clocks:
    """How a register's items stand against their clock at the end of a day."""

    met: int = 0
    missed: int = 0
    """Answered in time / answered late."""
    running: int = 0
    overdue: int = 0
    """Unanswered, still in time / unanswered past the deadline."""

    @property
    def total(self) -> int:
        return self.met + self.missed + self.running + self.overdue


def _window(uow: UnitOfWork) -> tuple[date, date]:
    closed = uow.book.closed_through()
    if closed is None:
        raise DomainError("business_date", "the book has no business date; run `arrears init`")
    return closed - timedelta(days=WINDOW_DAYS - 1), closed


def complaint_clocks(rows: Sequence[Any], day: date) -> tuple[Clocks, Clocks]:
    """(acknowledge clock, answer clock) of complaints at the end of `day`. An answer also
    acknowledges (as `domain.complaints.late` counts it)."""
    ack = {"met": 0, "missed": 0, "running": 0, "overdue": 0}
    answer = dict(ack)
    for row in rows:
        d = row.deadlines
        missed = complaint_rules.late(d, day)
        acknowledged = d.acknowledged_on or d.answered_on
        if acknowledged is not None:
            ack["met" if acknowledged <= d.acknowledge_by else "missed"] += 1
        else:
            ack["overdue" if "acknowledge" in missed else "running"] += 1
        if d.answered_on is not None:
            answer["met" if d.answered_on <= d.answer_by else "missed"] += 1
        else:
            answer["overdue" if "answer" in missed else "running"] += 1
    return Clocks(**ack), Clocks(**answer)


def objection_clock(rows: Sequence[Any], day: date) -> Clocks:
    """PRC objections against their reply deadline (CN-23) at the end of `day`; US disputes
    have no answer clock and are not counted."""
    counts = {"met": 0, "missed": 0, "running": 0, "overdue": 0}
    for row in rows:
        due = dispute_rules.answer_by(row.kind, row.received_on)
        if due is None:
            continue
        if row.answered_on is not None:
            counts["met" if row.answered_on <= due else "missed"] += 1
        else:
            late = dispute_rules.overdue(row.kind, row.received_on, None, day)
            counts["overdue" if late else "running"] += 1
    return Clocks(**counts)


@dataclass(frozen=True, slots=True, kw_only=True)
class SupervisorBoard:
    as_of: date
    currency: str
    buckets: tuple[BucketCases, ...]
    collectors: tuple[CollectorLoad, ...]
    agencies: tuple[AgencyPlacements, ...]
    awaiting: tuple[dict[str, Any], ...]
    """Plans proposed and not yet decided (maker-checker), newest first."""
    late_complaints: tuple[dict[str, Any], ...]
    late_objections: tuple[dict[str, Any], ...]


def supervisor_board(*, uow_factory: Callable[[], DashboardUnitOfWork]) -> SupervisorBoard:
    with uow_factory() as uow:
        first, closed = _window(uow)
        currency = queries.book_currency(uow)
        since = datetime.combine(first, time(), ZoneInfo("UTC"))
        by_bucket = {row.bucket: row for row in uow.dashboards.open_cases_by_bucket()}
        collectors = uow.dashboards.collector_loads(since)
        agencies = uow.dashboards.agency_placements(first, closed)
    buckets = tuple(by_bucket.get(b.value, BucketCases(bucket=b.value, cases=0, balance=0))
                    for b in BUCKETS)
    awaiting = plan_documents.list_document(loan_ref=None, status="proposed",
                                           limit=AWAITING_LIMIT, uow_factory=uow_factory)
    return SupervisorBoard(
        as_of=closed, currency=currency, buckets=buckets, collectors=tuple(collectors),
        agencies=tuple(agencies), awaiting=tuple(awaiting["plans"]),
        late_complaints=tuple(complaints.list_complaints(overdue_on=closed, open_only=True,
                                                         uow_factory=uow_factory)),
        late_objections=tuple(disputes.list_disputes(overdue_on=closed,
                                                     uow_factory=uow_factory)))


@dataclass(frozen=True, slots=True, kw_only=True)
class ComplianceBoard:
    as_of: date
    first: date
    currency: str
    days: tuple[ActionDay, ...]
    rules: tuple[RuleBlocks, ...]
    """The rules that held back most actions in the window (at most `TOP_RULES`)."""
    rates: tuple[dict[str, Any], ...]
    """Complaints per 1,000 contacts for each collector and agency."""
    agencies: tuple[dict[str, Any], ...]
    """Agencies ranked: fewest complaints per 1,000 contacts, then best recovery rate."""
    portfolio: dict[str, Any]
    roll_rates: dict[str, str]
    acknowledge: Clocks
    answer: Clocks
    objections: Clocks


def _agency_rank(row: dict[str, Any]) -> tuple[Any, ...]:
    """The store gives rates as decimal text: compare them as numbers."""
    return (Decimal(row["complaints_per_1000_contacts"]), -Decimal(row["recovery_rate"]),
            row["agency"])


def compliance_board(*, uow_factory: Callable[[], DashboardUnitOfWork]) -> ComplianceBoard:
    with uow_factory() as uow:
        first, closed = _window(uow)
        currency = queries.book_currency(uow)
        days = uow.dashboards.actions_by_day(first, closed)
        rules = uow.dashboards.blocks_by_rule(first, closed)[:TOP_RULES]
        agencies = sorted(uow.collections.agency_performance(), key=_agency_rank)
        moves = uow.reports.bucket_moves(first, closed)
        at_start = uow.reports.buckets_on(first - timedelta(days=1))
        registered = uow.complaints.listed(open_only=False)
        objections = uow.disputes.listed()
    acknowledge, answer = complaint_clocks(registered, closed)
    return ComplianceBoard(
        as_of=closed, first=first, currency=currency, days=tuple(days), rules=tuple(rules),
        rates=tuple(complaints.rates(uow_factory=uow_factory)), agencies=tuple(agencies),
        portfolio=queries.portfolio_document(None, uow_factory=uow_factory),
        roll_rates=roll_rates(moves, at_start), acknowledge=acknowledge, answer=answer,
        objections=objection_clock(objections, closed))
