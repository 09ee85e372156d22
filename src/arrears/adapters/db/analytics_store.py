"""Portfolio analytics over the SQL book (`application.analytics.AnalyticsSource`).

Columnar, never loan by loan in Python: the book's loans, bucket changes and principal
payments are read in bulk as integer columns (dates as day numbers computed by the database)
and handed to the array kernels of `batch.analytics`; recoveries and collector and agency
figures are SQL aggregates. The store keeps no month-end snapshots, so month-end buckets are
derived from the delinquency history (`delinquency_change`): a loan's bucket at a date is the
target of its last change dated on or before it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from itertools import chain
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import sqlalchemy as sa

from arrears.adapters.db import collections_tables as ct
from arrears.adapters.db import complaints_tables as cpt
from arrears.adapters.db import tables as t
from arrears.application import analytics
from arrears.application.analytics import (
    ACTIVE_STATES,
    CURE_WINDOW_DAYS,
    RIGHT_PARTY_OUTCOMES,
    STATES,
    AnalyticsFacts,
    CureCount,
    Performance,
    RecoveryCohort,
    RollCell,
    RollMonth,
    Vintage,
)
from arrears.batch import analytics as kernels
from arrears.batch.analytics import NEVER, ChangeColumns, LoanColumns, PaymentColumns
from arrears.domain.delinquency import BUCKETS
from arrears.domain.errors import DomainError
from arrears.domain.ledger import Account

EPOCH = date(1970, 1, 1)
SETTLED_STATUS = "settled"
DEFAULT_CURRENCY = "CNY"
AGENCY_PREFIX = "agency:"


def day_number(column: Any, dialect: str) -> sa.ColumnElement[int]:
    """Days since 1970-01-01 of a DATE column, computed by the database."""
    if dialect == "sqlite":
        return sa.cast(sa.func.julianday(column) - 2440587.5, sa.Integer)
    return sa.cast(column - sa.cast(sa.literal("1970-01-01"), sa.Date), sa.Integer)


def month_key(column: Any, dialect: str) -> sa.ColumnElement[str]:
    """'YYYY-MM' of a DATE column."""
    if dialect == "sqlite":
        return sa.func.strftime("%Y-%m", column)
    return sa.func.to_char(column, "YYYY-MM")


def bucket_code(column: Any) -> sa.ColumnElement[int]:
    return sa.case({b.value: i for i, b in enumerate(BUCKETS)}, value=column, else_=0)


def to_day(day: date) -> int:
    return (day - EPOCH).days


def from_day(number: int) -> date:
    return EPOCH + timedelta(days=number)


def month_ends(first: date, last: date) -> tuple[date, ...]:
    """The last day of every month from `first`'s through `last`, those on or before `last`."""
    ends: list[date] = []
    year, month = first.year, first.month
    while True:
        following = date(year + month // 12, month % 12 + 1, 1)
        end = following - timedelta(days=1)
        if end > last:
            return tuple(ends)
        ends.append(end)
        year, month = following.year, following.month


def _first_of(key: str) -> date:
    year, month = key.split("-")
    return date(int(year), int(month), 1)


def read_columns(connection: sa.Connection, statement: sa.Select[Any], width: int
                 ) -> list[np.ndarray]:
    """An all-integer query's result as `width` int64 columns. The rows come straight from
    the driver's cursor: integers need no result processing, and building a SQLAlchemy row
    per result row would cost more than the query."""
    result = connection.execute(statement)
    try:
        rows = result.cursor.fetchall() if result.cursor is not None else []
    finally:
        result.close()
    flat = np.fromiter(chain.from_iterable(rows), dtype=np.int64, count=len(rows) * width)
    table = flat.reshape(len(rows), width)
    return [table[:, i] for i in range(width)]


class SqlAnalyticsStore:
    """Reads one connection; give it a transaction with a stable snapshot. Contacts count
    through the end of the report date in the lender's `zone`."""

    def __init__(self, connection: sa.Connection, zone: str = "Asia/Shanghai") -> None:
        self.connection = connection
        self.dialect = connection.dialect.name
        self.zone = ZoneInfo(zone)

    def _day(self, column: Any) -> sa.ColumnElement[int]:
        return day_number(column, self.dialect)

    def _month(self, column: Any) -> sa.ColumnElement[str]:
        return month_key(column, self.dialect)

    # --- the whole report -------------------------------------------------------------

    def facts(self, as_of: date | None) -> AnalyticsFacts:
        closed = self.connection.scalar(sa.select(t.business_day.c.closed_through))
        if closed is None:
            raise DomainError("as_of", "the book has no closed business date yet")
        if as_of is None:
            as_of = closed
        elif as_of > closed:
            raise DomainError("as_of", f"{as_of} is after the closed business date {closed}")
        ids, loans = self.loan_columns(as_of)
        changes = self.change_columns(ids, as_of)
        payments = self.payment_columns(ids)
        loans = kernels.paid_off_on_last_payment(loans, payments)
        first = from_day(int(loans.disbursed.min())) if len(ids) else as_of
        ends = month_ends(first, as_of)
        return AnalyticsFacts(
            as_of=as_of, currency=self.currency(), month_ends=ends,
            rolls=self.rolls(loans, changes, payments, ends),
            vintages=self.vintages(loans, changes, as_of),
            cures=self.cures(changes, as_of),
            recoveries=self.recoveries(as_of),
            collectors=self.collectors(as_of),
            agencies=self.agencies(as_of),
        )

    def currency(self) -> str:
        found = sorted(self.connection.scalars(sa.select(t.loan.c.currency).distinct()))
        if len(found) > 1:
            raise DomainError("currency", f"the book holds loans in {', '.join(found)}; "
                                          "analytics add amounts up, so they need one currency")
        return found[0] if found else DEFAULT_CURRENCY

    # --- bulk columns -----------------------------------------------------------------

    def loan_columns(self, as_of: date) -> tuple[np.ndarray, LoanColumns]:
        """(loan ids ascending, their columns) for the loans disbursed by `as_of`. A settled
        loan's settlement day is the day its state was last brought forward, until
        `kernels.paid_off_on_last_payment` moves it to its last payment."""
        loan = t.loan.c
        ids, disbursed, written_off, principal, settled = read_columns(
            self.connection,
            sa.select(loan.id, self._day(loan.disbursed_on),
                      sa.func.coalesce(self._day(loan.written_off_on), NEVER),
                      loan.principal,
                      sa.case((loan.status == SETTLED_STATUS, self._day(loan.state_on)),
                              else_=NEVER))
            .where(loan.disbursed_on <= as_of).order_by(loan.id), 5)
        return ids, LoanColumns(disbursed=disbursed, written_off=written_off, settled=settled,
                                principal=principal)

    def change_columns(self, ids: np.ndarray, as_of: date) -> ChangeColumns:
        change = t.delinquency_change.c
        loan_ids, day, source, target = read_columns(
            self.connection,
            sa.select(change.loan_id, self._day(change.business_date),
                      bucket_code(change.from_bucket), bucket_code(change.to_bucket))
            .where(change.business_date <= as_of)
            .order_by(change.loan_id, change.business_date, change.id), 4)
        positions, known = _positions(ids, loan_ids)
        return ChangeColumns(loan=positions[known], day=day[known], source=source[known],
                             target=target[known])

    def payment_columns(self, ids: np.ndarray) -> PaymentColumns:
        """Every payment of principal, later ones too: a loan paid off after the report date
        was not paid off by then."""
        payment = t.payment.c
        loan_ids, day, principal = read_columns(
            self.connection,
            sa.select(payment.loan_id, self._day(payment.paid_on), payment.to_principal)
            .where(payment.to_principal != 0), 3)
        positions, known = _positions(ids, loan_ids)
        return PaymentColumns(loan=positions[known], day=day[known], principal=principal[known])

    # --- figures ----------------------------------------------------------------------

    def rolls(self, loans: LoanColumns, changes: ChangeColumns, payments: PaymentColumns,
              ends: Sequence[date]) -> tuple[RollMonth, ...]:
        days = np.array([to_day(d) for d in ends], np.int64)
        counts, amounts = kernels.roll_counts(loans, changes, payments, days)
        months = []
        for k in range(len(ends) - 1):
            source, target = np.nonzero(counts[k])
            months.append(RollMonth(start=ends[k], end=ends[k + 1], cells=tuple(
                RollCell(source=ACTIVE_STATES[s], target=STATES[g], loans=int(counts[k, s, g]),
                         principal=int(amounts[k, s, g]))
                for s, g in zip(source.tolist(), target.tolist(), strict=True))))
        return tuple(months)

    def vintages(self, loans: LoanColumns, changes: ChangeColumns, as_of: date
                 ) -> tuple[Vintage, ...]:
        found = kernels.vintage_counts(loans, changes, to_day(as_of))
        vintages = []
        for row, month in enumerate(found.months.tolist()):
            if found.loans[row] == 0:
                continue
            length = int(found.observed[row])
            vintages.append(Vintage(
                month=date(1970 + month // 12, month % 12 + 1, 1),
                loans=int(found.loans[row]), principal=int(found.principal[row]),
                dpd30=tuple(found.dpd30[row, :length].tolist()),
                dpd90=tuple(found.dpd90[row, :length].tolist()),
                written_off=tuple(found.written_off[row, :length].tolist())))
        return tuple(vintages)

    def cures(self, changes: ChangeColumns, as_of: date) -> tuple[CureCount, ...]:
        entered, cured = kernels.cure_counts(changes, to_day(as_of), CURE_WINDOW_DAYS)
        return tuple(CureCount(bucket=ACTIVE_STATES[code], entered=int(entered[code]),
                               cured=int(cured[code]))
                     for code in range(1, len(ACTIVE_STATES)))

    def recoveries(self, as_of: date) -> tuple[RecoveryCohort, ...]:
        loan, posting, payment = t.loan.c, t.posting.c, t.payment.c
        month = self._month(loan.written_off_on).label("month")
        written = loan.written_off_on <= as_of
        loans = dict(self.connection.execute(
            sa.select(month, sa.func.count()).where(written).group_by(month)).all())
        expensed = dict(self.connection.execute(
            sa.select(month, sa.func.sum(posting.amount))
            .select_from(t.loan.join(t.posting, posting.loan_id == loan.id))
            .where(written, posting.account == Account.WRITE_OFF.value,
                   posting.business_date <= as_of)
            .group_by(month)).all())
        # A reversal is dated the day it was booked: it takes back a recovery only when the
        # payment it reverses was one (paid after the write-off).
        original = t.payment.alias("original")
        received_on = sa.func.coalesce(original.c.paid_on, payment.paid_on)
        recovered = dict(self.connection.execute(
            sa.select(month, sa.func.sum(payment.amount))
            .select_from(t.loan.join(t.payment, payment.loan_id == loan.id)
                         .outerjoin(original, original.c.id == payment.reverses_id))
            .where(written, received_on > loan.written_off_on, payment.paid_on <= as_of)
            .group_by(month)).all())
        return tuple(RecoveryCohort(month=_first_of(key), loans=int(loans[key]),
                                    written_off=int(expensed.get(key) or 0),
                                    recovered=int(recovered.get(key) or 0))
                     for key in sorted(loans))

    # --- collectors and agencies --------------------------------------------------------

    def _contacts(self, as_of: date) -> dict[str, tuple[int, int]]:
        """{actor: (contacts, right-party contacts)} logged by the end of `as_of`."""
        log = ct.contact_log.c
        end = datetime.combine(as_of + timedelta(days=1), time(0), self.zone).astimezone(UTC)
        right_party = sa.func.sum(sa.case((log.outcome.in_(RIGHT_PARTY_OUTCOMES), 1), else_=0))
        return {actor: (int(count), int(reached or 0)) for actor, count, reached in
                self.connection.execute(
                    sa.select(log.actor, sa.func.count(), right_party)
                    .where(log.at < end).group_by(log.actor))}

    def _promises(self, as_of: date) -> dict[str, tuple[int, int, int]]:
        """{taker: (promises made, kept, paid towards promises settled)} by `as_of`."""
        promise = ct.promise.c
        settled = (promise.settled_on.is_not(None)) & (promise.settled_on <= as_of)
        kept = sa.func.sum(sa.case((settled & (promise.status == "kept"), 1), else_=0))
        paid = sa.func.sum(sa.case((settled, promise.paid), else_=0))
        made_by = sa.func.coalesce(promise.promised_on, sa.cast(promise.made_at, sa.Date))
        return {ref: (int(made), int(kept_count or 0), int(paid_total or 0))
                for ref, made, kept_count, paid_total in self.connection.execute(
                    sa.select(promise.collector_ref, sa.func.count(), kept, paid)
                    .where(made_by <= as_of).group_by(promise.collector_ref))}

    def _complaints(self, kind: str, as_of: date) -> dict[str, int]:
        party, complaint = cpt.complaint_party.c, cpt.complaint.c
        return {ref: int(count) for ref, count in self.connection.execute(
            sa.select(party.ref, sa.func.count(sa.distinct(party.complaint_id)))
            .select_from(cpt.complaint_party.join(
                cpt.complaint, complaint.id == party.complaint_id))
            .where(party.kind == kind, complaint.filed_on <= as_of).group_by(party.ref))}

    def _blocked_actions(self) -> sa.FromClause:
        """Strategy actions the engine refused when planned or when sent."""
        action, message = ct.collection_action.c, ct.message.c
        return (sa.select(action.loan_id, action.business_date)
                .select_from(ct.collection_action.outerjoin(
                    ct.message, message.message_id == action.message_id))
                .where((action.rule_ids != "") | (message.status == "blocked"))
                .subquery("blocked"))

    def collectors(self, as_of: date) -> tuple[Performance, ...]:
        case, blocked = ct.collection_case.c, self._blocked_actions()
        on_case = (sa.select(case.collector_id, sa.func.count())
                   .select_from(blocked.join(t.loan, t.loan.c.id == blocked.c.loan_id)
                                .join(ct.collection_case,
                                      (case.borrower_id == t.loan.c.borrower_id)
                                      & (case.opened_on <= blocked.c.business_date)
                                      & sa.or_(case.closed_on.is_(None),
                                               case.closed_on >= blocked.c.business_date)))
                   .where(blocked.c.business_date <= as_of, case.collector_id.is_not(None))
                   .group_by(case.collector_id))
        blocked_by_id = {int(i): int(n) for i, n in self.connection.execute(on_case)}
        collectors = self.connection.execute(
            sa.select(ct.collector.c.id, ct.collector.c.collector_ref, ct.collector.c.name)
            .order_by(ct.collector.c.collector_ref)).all()
        return self._performance(
            [(ref, name, ref, blocked_by_id.get(int(i), 0)) for i, ref, name in collectors],
            "collector", as_of, recovered={})

    def agencies(self, as_of: date) -> tuple[Performance, ...]:
        placement, placed_loan = ct.placement.c, ct.placement_loan.c
        blocked = self._blocked_actions()
        until = sa.func.coalesce(placement.recalled_on, placement.ends_on)
        during = (sa.select(placement.agency_id, sa.func.count())
                  .select_from(blocked.join(ct.placement_loan,
                                            placed_loan.loan_id == blocked.c.loan_id)
                               .join(ct.placement,
                                     (placement.id == placed_loan.placement_id)
                                     & (placement.placed_on <= blocked.c.business_date)
                                     & (until >= blocked.c.business_date)))
                  .where(blocked.c.business_date <= as_of).group_by(placement.agency_id))
        blocked_by_id = {int(i): int(n) for i, n in self.connection.execute(during)}
        recovered = {int(i): int(n or 0) for i, n in self.connection.execute(
            sa.select(placement.agency_id, sa.func.sum(placement.recovered))
            .where(placement.placed_on <= as_of).group_by(placement.agency_id))}
        agencies = self.connection.execute(
            sa.select(ct.agency.c.id, ct.agency.c.agency_ref, ct.agency.c.name)
            .order_by(ct.agency.c.agency_ref)).all()
        return self._performance(
            [(ref, name, f"{AGENCY_PREFIX}{ref}", blocked_by_id.get(int(i), 0))
             for i, ref, name in agencies], "agency", as_of,
            recovered={ref: recovered.get(int(i), 0) for i, ref, _ in agencies})

    def _performance(self, parties: Sequence[tuple[str, str, str, int]], kind: str,
                     as_of: date, *, recovered: dict[str, int]) -> tuple[Performance, ...]:
        """Rows for (ref, name, contact-log actor, blocked actions); recovered is what their
        promises brought in unless `recovered` names the party."""
        contacts = self._contacts(as_of)
        promises = self._promises(as_of)
        complaints = self._complaints(kind, as_of)
        rows = []
        for ref, name, actor, blocked in parties:
            made, kept, paid = promises.get(actor, (0, 0, 0))
            count, reached = contacts.get(actor, (0, 0))
            rows.append(Performance(
                ref=ref, name=name, contacts=count, right_party_contacts=reached,
                promises_made=made, promises_kept=kept, recovered=recovered.get(ref, paid),
                complaints=complaints.get(ref, 0), blocked_actions=blocked))
        return tuple(rows)


def _positions(ids: np.ndarray, wanted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(positions of `wanted` in the sorted `ids`, which of them are there at all)."""
    if not len(ids):
        return np.zeros(len(wanted), np.int64), np.zeros(len(wanted), bool)
    positions = np.minimum(np.searchsorted(ids, wanted), len(ids) - 1)
    return positions, ids[positions] == wanted


def report(connection: sa.Connection, as_of: date | None, zone: str) -> dict[str, Any]:
    """The analytics document of the book behind a fresh `connection`, read in one snapshot
    (PostgreSQL: a repeatable-read transaction; SQLite's transaction is one already); `zone`
    is the lender's."""
    if connection.dialect.name == "postgresql":
        connection.execution_options(isolation_level="REPEATABLE READ")
    return analytics.document(SqlAnalyticsStore(connection, zone).facts(as_of))
