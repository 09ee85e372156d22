"""Collections on SQLAlchemy Core (`CollectionsStore`): planning reads, actions, cases,
collectors, agencies and placements, promises to pay, contact logs, and the summary."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from arrears.adapters.db import collections_tables as ct
from arrears.adapters.db import tables as t
from arrears.adapters.db.book import driver_dates, driver_form, insert_rows
from arrears.adapters.db.complaints_store import complaints_by_actor
from arrears.adapters.db.messages import aware, utc
from arrears.application.ports import (
    AgencyRow,
    CancelledVisit,
    CaseRow,
    CollectorRow,
    ContactPreferenceRow,
    CredentialRow,
    LoggedContact,
    PlannedAction,
    PlanRow,
    PromiseOnFile,
    PromiseRow,
    VisitAuthorizationRow,
    WorkedLoan,
)
from arrears.domain.complaints import per_thousand
from arrears.domain.delinquency import ACTIVE_STATUSES


def _chunks(items: Sequence[Any], size: int = 900) -> list[Sequence[Any]]:
    return [items[i:i + size] for i in range(0, len(items), size)]


def _plan_rows_query() -> sa.Select[Any]:
    """Active loans with their borrower's first phone and email, for `_plan_rows` to narrow."""
    loan, borrower, phone = t.loan, t.borrower, t.borrower_phone
    other = phone.alias("first_phone")
    first_phone = (sa.select(sa.func.min(other.c.id)).where(
        other.c.borrower_id == borrower.c.id).correlate(borrower).scalar_subquery())
    return (
        sa.select(loan.c.id, loan.c.loan_ref, loan.c.product_code, loan.c.currency,
                  loan.c.dpd, loan.c.bucket, loan.c.earliest_unpaid_due_on,
                  borrower.c.id.label("borrower_id"), borrower.c.borrower_ref,
                  borrower.c.name, borrower.c.language, borrower.c.region,
                  borrower.c.address, borrower.c.time_zone,
                  phone.c.number, phone.c.time_zone.label("phone_zone"),
                  ct.borrower_email.c.address.label("email"))
        .select_from(
            loan.join(borrower, borrower.c.id == loan.c.borrower_id)
            .outerjoin(phone, phone.c.id == first_phone)
            .outerjoin(ct.borrower_email, ct.borrower_email.c.borrower_id == borrower.c.id))
        .order_by(loan.c.id))


# Built once: one contact looks up one loan's row, and building this join cost more than
# running it.
PLAN_ROWS = _plan_rows_query()
ACTION_COLUMNS = ("action_key", "loan_id", "business_date", "strategy", "arm", "step", "kind",
                  "status", "planned_at", "scheduled_at", "rule_ids", "reason", "message_id")
# Case changes, built once: the day's case sync runs them case by case over the book.
_case = ct.collection_case.c
UPDATE_CASE = ct.collection_case.update().where(_case.id == sa.bindparam("b_id")).values(
    **{name: sa.bindparam(name)
       for name in ("bucket", "queue", "collector_id", "updated_on", "balance")})
CLOSE_CASE = ct.collection_case.update().where(_case.id == sa.bindparam("b_id")).values(
    status="closed", closed_on=sa.bindparam("day"), updated_on=sa.bindparam("day"),
    collector_id=None)
RECALL_PLACEMENTS = ct.placement.update().where(
    ct.placement.c.case_id == sa.bindparam("b_case_id"), ct.placement.c.recalled_on.is_(None),
    ct.placement.c.ends_on >= sa.bindparam("day")).values(recalled_on=sa.bindparam("day"))
DUE_PLAN_ROWS_BY_ID = PLAN_ROWS.where(
    t.loan.c.status.in_(ACTIVE_STATUSES), t.loan.c.earliest_unpaid_due_on.is_not(None),
    t.loan.c.id.in_(sa.bindparam("ids", expanding=True)))
# An open case is one per borrower (`sync_cases`), so each loan appears once.
WORKED_LOANS = (
    sa.select(t.loan.c.loan_ref, t.borrower.c.borrower_ref, t.borrower.c.language,
              ct.collector.c.collector_ref)
    .select_from(
        t.loan.join(t.borrower, t.borrower.c.id == t.loan.c.borrower_id)
        .join(ct.collection_case, (ct.collection_case.c.borrower_id == t.loan.c.borrower_id)
              & (ct.collection_case.c.status == "open"))
        .join(ct.collector, (ct.collector.c.id == ct.collection_case.c.collector_id)
              & ct.collector.c.active.is_(True)))
    .where(t.loan.c.status.in_(ACTIVE_STATUSES),
           t.loan.c.earliest_unpaid_due_on <= sa.bindparam("last_due"))
    .order_by(t.loan.c.id))
# Built once, like the contact's reads: a collector's session logs one contact at a time.
ADD_CONTACT = ct.contact_log.insert()
OPEN_CASES_OF = sa.select(ct.collection_case).where(
    ct.collection_case.c.status == "open",
    ct.collection_case.c.borrower_id.in_(sa.bindparam("ids", expanding=True)))


ASSIGNMENTS = 0x4152  # the advisory-lock space of hand assignments, by collector id
ASSIGNMENT_LOCK = sa.text("SELECT pg_advisory_xact_lock(:space, :id)")


class SqlCollections:
    def __init__(self, connection: sa.Connection) -> None:
        self.connection = connection

    # --- planning --------------------------------------------------------------------

    def _plan_rows(self, *where: sa.ColumnElement[bool]) -> list[PlanRow]:
        return self._plan_rows_of(PLAN_ROWS.where(t.loan.c.status.in_(ACTIVE_STATUSES), *where))

    def _plan_rows_of(self, query: sa.Select[Any], parameters: dict[str, Any] | None = None
                      ) -> list[PlanRow]:
        return [
            PlanRow(loan_id=r.id, loan_ref=r.loan_ref, product_code=r.product_code,
                    currency=r.currency, dpd=r.dpd, bucket=r.bucket,
                    due_on=r.earliest_unpaid_due_on, borrower_id=r.borrower_id,
                    borrower_ref=r.borrower_ref, name=r.name, language=r.language,
                    region=r.region, address=r.address, time_zone=r.time_zone,
                    phone=r.number or "", phone_zone=r.phone_zone or r.time_zone,
                    email=r.email or "")
            for r in self.connection.execute(query, parameters)
        ]

    def planning_rows(self, due_on: Mapping[str, Sequence[date]]) -> list[PlanRow]:
        loan = t.loan.c
        wanted = [(loan.product_code == code) & loan.earliest_unpaid_due_on.in_(dates)
                  for code, dates in due_on.items() if dates]
        return self._plan_rows(sa.or_(*wanted)) if wanted else []

    def worked_loans(self, last_due: date) -> list[WorkedLoan]:
        return [WorkedLoan(loan_ref=r.loan_ref, borrower_ref=r.borrower_ref,
                           language=r.language, collector_ref=r.collector_ref)
                for r in self.connection.execute(WORKED_LOANS, {"last_due": last_due})]

    def plan_rows(self, loan_ids: Sequence[int]) -> dict[int, PlanRow]:
        found: dict[int, PlanRow] = {}
        for chunk in _chunks(sorted(set(loan_ids))):
            found.update((row.loan_id, row) for row in self._plan_rows_of(
                DUE_PLAN_ROWS_BY_ID, {"ids": list(chunk)}))
        return found

    def existing_action_keys(self, keys: Sequence[str]) -> set[str]:
        found: set[str] = set()
        for chunk in _chunks(list(keys)):
            found.update(self.connection.scalars(
                sa.select(ct.collection_action.c.action_key)
                .where(ct.collection_action.c.action_key.in_(chunk))))
        return found

    def add_actions(self, actions: Sequence[PlannedAction]) -> None:
        if not actions:
            return
        dialect = self.connection.dialect
        day = driver_dates(dialect)
        instant = driver_form(dialect, ct.collection_action.c.planned_at.type)
        insert_rows(self.connection, ct.collection_action, ACTION_COLUMNS, [
            (a.action_key, a.loan_id, day(a.business_date), a.strategy, a.arm, a.step, a.kind,
             a.status, instant(utc(a.planned_at)),
             instant(utc(a.scheduled_at)) if a.scheduled_at else None, ",".join(a.rule_ids),
             a.reason[:2000], a.message_id)
            for a in actions])

    def call_history(self, borrower_ids: Sequence[int], since: datetime
                     ) -> dict[int, list[LoggedContact]]:
        history: dict[int, list[LoggedContact]] = {}
        case, log = ct.collection_case, ct.contact_log
        for chunk in _chunks(list(borrower_ids)):
            rows = self.connection.execute(
                sa.select(case.c.borrower_id, log.c.at, log.c.actor, log.c.channel,
                          log.c.outcome)
                .select_from(log.join(case, case.c.id == log.c.case_id))
                .where(case.c.borrower_id.in_(chunk), log.c.at >= utc(since))
                .order_by(log.c.at, log.c.id))
            for borrower_id, at, actor, channel, outcome in rows:
                instant = aware(at)
                assert instant is not None
                history.setdefault(borrower_id, []).append(LoggedContact(
                    at=instant, actor=actor, channel=channel, outcome=outcome))
        return history

    def add_contact_preference(self, row: ContactPreferenceRow) -> int:
        return int(self.connection.execute(ct.contact_preference.insert().values(
            borrower_id=row.borrower_id, kind=row.kind, channels=",".join(row.channels),
            in_writing=row.in_writing, contact_point=row.contact_point,
            window_start=row.window_start, window_end=row.window_end,
            weekdays=",".join(str(day) for day in row.weekdays), revokes_id=row.revokes_id,
            received_at=utc(row.received_at), received_via=row.received_via,
            recorded_at=utc(row.recorded_at),
        )).inserted_primary_key[0])

    def contact_preferences(self, borrower_ids: Sequence[int]
                            ) -> dict[int, list[ContactPreferenceRow]]:
        found: dict[int, list[ContactPreferenceRow]] = {}
        p = ct.contact_preference.c
        for chunk in _chunks(list(borrower_ids)):
            for r in self.connection.execute(
                    sa.select(ct.contact_preference).where(p.borrower_id.in_(chunk))
                    .order_by(p.id)):
                received, recorded = aware(r.received_at), aware(r.recorded_at)
                assert received is not None and recorded is not None
                found.setdefault(r.borrower_id, []).append(ContactPreferenceRow(
                    id=r.id, borrower_id=r.borrower_id, kind=r.kind, received_at=received,
                    received_via=r.received_via, recorded_at=recorded,
                    channels=tuple(c for c in r.channels.split(",") if c),
                    in_writing=r.in_writing, contact_point=r.contact_point,
                    window_start=r.window_start, window_end=r.window_end,
                    weekdays=tuple(int(d) for d in r.weekdays.split(",") if d),
                    revokes_id=r.revokes_id))
        return found

    def last_refusals(self, borrower_ids: Sequence[int]) -> dict[int, datetime]:
        case, log = ct.collection_case, ct.contact_log
        found: dict[int, datetime] = {}
        for chunk in _chunks(list(borrower_ids)):
            for borrower_id, at in self.connection.execute(
                    sa.select(case.c.borrower_id, sa.func.max(log.c.at))
                    .select_from(log.join(case, case.c.id == log.c.case_id))
                    .where(case.c.borrower_id.in_(chunk), log.c.outcome == "refused")
                    .group_by(case.c.borrower_id)):
                instant = aware(at)
                assert instant is not None
                found[borrower_id] = instant
        return found

    # --- cases -----------------------------------------------------------------------

    def overdue_loans_of(self, borrower_id: int) -> list[int]:
        loan = t.loan
        return list(self.connection.scalars(
            sa.select(loan.c.id).where(loan.c.borrower_id == borrower_id,
                                       loan.c.status == "overdue", loan.c.dpd > 0)
            .order_by(loan.c.id)))

    def overdue_borrowers(self) -> list[tuple[int, int, int, str, str]]:
        loan, borrower = t.loan, t.borrower
        rows = self.connection.execute(
            sa.select(loan.c.borrower_id, sa.func.max(loan.c.dpd), sa.func.sum(loan.c.principal),
                      borrower.c.language, borrower.c.region)
            .select_from(loan.join(borrower, borrower.c.id == loan.c.borrower_id))
            .where(loan.c.status == "overdue", loan.c.dpd > 0)
            .group_by(loan.c.borrower_id, borrower.c.language, borrower.c.region)
            .order_by(loan.c.borrower_id))
        return [(r[0], int(r[1]), int(r[2]), r[3], r[4]) for r in rows]

    def _case(self, row: Any) -> CaseRow:
        return CaseRow(id=row.id, borrower_id=row.borrower_id, bucket=row.bucket,
                       queue=row.queue, collector_id=row.collector_id, opened_on=row.opened_on)

    def open_cases(self, *, lock: bool = False) -> dict[int, CaseRow]:
        case = ct.collection_case
        query = sa.select(case).where(case.c.status == "open")
        if lock:
            query = query.order_by(case.c.id).with_for_update()
        rows = self.connection.execute(query)
        return {row.borrower_id: self._case(row) for row in rows}

    def lock_assignments(self, collector_id: int) -> None:
        # An advisory lock, not the collector's row: FOR UPDATE there would cross a strategy
        # that holds a case and reads its collectors (FOR SHARE).
        if self.connection.dialect.name == "postgresql":
            self.connection.execute(ASSIGNMENT_LOCK, {"space": ASSIGNMENTS, "id": collector_id})

    def borrower_language(self, borrower_id: int) -> str:
        return self.connection.execute(sa.select(t.borrower.c.language).where(
            t.borrower.c.id == borrower_id)).scalar_one()

    def case_of_borrower(self, borrower_id: int) -> CaseRow | None:
        case = ct.collection_case
        row = self.connection.execute(sa.select(case).where(
            case.c.borrower_id == borrower_id, case.c.status == "open")).first()
        return None if row is None else self._case(row)

    def cases_of_borrowers(self, borrower_ids: Sequence[int]) -> dict[int, CaseRow]:
        found: dict[int, CaseRow] = {}
        for chunk in _chunks(sorted(set(borrower_ids))):
            found.update((row.borrower_id, self._case(row)) for row in self.connection.execute(
                OPEN_CASES_OF, {"ids": list(chunk)}))
        return found

    def open_case(self, borrower_id: int, bucket: str, queue: str, collector_id: int | None,
                  day: date, balance: int) -> int:
        return int(self.connection.execute(ct.collection_case.insert().values(
            borrower_id=borrower_id, status="open", bucket=bucket, queue=queue,
            collector_id=collector_id, opened_on=day, updated_on=day, balance=balance,
        )).inserted_primary_key[0])

    def update_case(self, case_id: int, bucket: str, queue: str, collector_id: int | None,
                    day: date, balance: int) -> None:
        self.connection.execute(UPDATE_CASE, {
            "b_id": case_id, "bucket": bucket, "queue": queue, "collector_id": collector_id,
            "updated_on": day, "balance": balance})

    def close_case(self, case_id: int, day: date) -> None:
        self.connection.execute(CLOSE_CASE, {"b_id": case_id, "day": day})
        self.connection.execute(RECALL_PLACEMENTS, {"b_case_id": case_id, "day": day})

    def collectors(self, *, lock: bool = False) -> list[CollectorRow]:
        c = ct.collector
        query = sa.select(c).where(c.c.active.is_(True)).order_by(c.c.id)
        if lock:
            # FOR SHARE on PostgreSQL (SQLite renders nothing: its writer lock covers it): a
            # deactivation's FOR UPDATE waits for this transaction, and this one, waiting for
            # a deactivation that commits, reads the collector as off the floor.
            query = query.with_for_update(read=True)
        rows = self.connection.execute(query)
        return [CollectorRow(id=r.id, collector_ref=r.collector_ref,
                             languages=tuple(x for x in r.languages.split(",") if x),
                             buckets=tuple(x for x in r.buckets.split(",") if x),
                             capacity=r.capacity) for r in rows]

    def add_collector(self, collector_ref: str, name: str, languages: Sequence[str],
                      buckets: Sequence[str], capacity: int) -> int:
        return int(self.connection.execute(ct.collector.insert().values(
            collector_ref=collector_ref, name=name, languages=",".join(languages),
            buckets=",".join(buckets), capacity=capacity)).inserted_primary_key[0])

    def collector_active(self, collector_ref: str) -> bool | None:
        collector = ct.collector.c
        return self.connection.scalar(sa.select(collector.active).where(
            collector.collector_ref == collector_ref))

    def deactivate_collector(self, collector_ref: str) -> list[int] | None:
        collector, case = ct.collector.c, ct.collection_case.c
        # FOR UPDATE first: a case sync or an assignment choosing this collector holds the row
        # FOR SHARE, so the deactivation waits for it to commit and then releases what it
        # assigned; a second deactivation waits for the first and finds no active row.
        found = self.connection.execute(
            sa.select(collector.id).where(collector.collector_ref == collector_ref,
                                          collector.active.is_(True))
            .with_for_update()).scalar()
        if found is None:
            return None
        self.connection.execute(ct.collector.update().where(collector.id == found)
                                .values(active=False))
        released = self.connection.execute(
            ct.collection_case.update().where(case.collector_id == found, case.status == "open")
            .values(collector_id=None).returning(case.id))
        return sorted(released.scalars())

    # --- agencies ----------------------------------------------------------------------

    def lock_cases(self, case_ids: Sequence[int]) -> None:
        # FOR UPDATE on PostgreSQL (SQLite renders nothing: its writer lock covers it).
        case = ct.collection_case.c
        self.connection.execute(sa.select(case.id).where(case.id.in_(sorted(case_ids)))
                                .order_by(case.id).with_for_update())

    def agencies(self, *, lock: bool = False) -> list[AgencyRow]:
        a = ct.agency
        query = sa.select(a).order_by(a.c.id)
        if lock:
            query = query.with_for_update()
        return [AgencyRow(id=r.id, agency_ref=r.agency_ref, name=r.name,
                          licence_no=r.licence_no, licence_valid_from=r.licence_valid_from,
                          licence_valid_until=r.licence_valid_until,
                          whitelisted=r.whitelisted, capacity=r.capacity,
                          commission_rate=r.commission_rate, fixed_fee=r.fixed_fee)
                for r in self.connection.execute(query)]

    def add_agency(self, row: AgencyRow) -> int:
        return int(self.connection.execute(ct.agency.insert().values(
            agency_ref=row.agency_ref, name=row.name, licence_no=row.licence_no,
            licence_valid_from=row.licence_valid_from,
            licence_valid_until=row.licence_valid_until, whitelisted=row.whitelisted,
            capacity=row.capacity, commission_rate=row.commission_rate,
            fixed_fee=row.fixed_fee)).inserted_primary_key[0])

    def _in_force(self, on: date) -> sa.ColumnElement[bool]:
        p = ct.placement.c
        return sa.and_(p.placed_on <= on, p.ends_on >= on,
                       sa.or_(p.recalled_on.is_(None), p.recalled_on > on))

    def active_placements(self, on: date) -> dict[int, tuple[int, int]]:
        p = ct.placement.c
        rows = self.connection.execute(
            sa.select(p.case_id, p.id, p.agency_id).where(self._in_force(on)))
        return {case_id: (placement_id, agency_id) for case_id, placement_id, agency_id in rows}

    def place(self, case_id: int, agency_id: int, scope: str, placed_on: date, ends_on: date,
              balance: int) -> int:
        return int(self.connection.execute(ct.placement.insert().values(
            case_id=case_id, agency_id=agency_id, scope=scope, placed_on=placed_on,
            ends_on=ends_on, balance_at_placement=balance)).inserted_primary_key[0])

    def recall(self, placement_id: int, on: date) -> None:
        self.connection.execute(ct.placement.update().where(
            ct.placement.c.id == placement_id).values(recalled_on=on))

    def _placed_cases(self, on: date, *conditions: sa.ColumnElement[bool],
                      limit: int | None = None) -> list[dict[str, Any]]:
        p, case, a, b = ct.placement, ct.collection_case, ct.agency, t.borrower
        rows = self.connection.execute(
            sa.select(case.c.id, b.c.borrower_ref, case.c.bucket, case.c.balance, p.c.scope,
                      p.c.ends_on, a.c.agency_ref)
            .select_from(p.join(a, a.c.id == p.c.agency_id)
                         .join(case, case.c.id == p.c.case_id)
                         .join(b, b.c.id == case.c.borrower_id))
            .where(self._in_force(on), case.c.status == "open", *conditions)
            .order_by(case.c.id).limit(limit))
        return [{"case_id": r[0], "borrower_ref": r[1], "bucket": r[2], "balance": r[3],
                 "scope": r[4], "ends_on": r[5].isoformat(), "agency_ref": r[6]}
                for r in rows]

    def cases_for_agency(self, agency_ref: str, on: date) -> list[dict[str, Any]]:
        return [{key: value for key, value in row.items() if key != "agency_ref"}
                for row in self._placed_cases(on, ct.agency.c.agency_ref == agency_ref)]

    def placements_page(self, on: date, *, after: int, limit: int) -> list[dict[str, Any]]:
        return self._placed_cases(on, ct.collection_case.c.id > after, limit=limit)

    def agency_performance(self) -> list[dict[str, Any]]:
        a, p, log = ct.agency, ct.placement, ct.contact_log
        out = []
        # The complaints register's count: registered complaints naming the agency, and its
        # contacts logged as complaints that no registered complaint links.
        complaints_of = complaints_by_actor(self.connection)
        for agency in self.agencies():
            placed = self.connection.execute(
                sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(
                    p.c.balance_at_placement), 0), sa.func.coalesce(sa.func.sum(
                        p.c.recovered), 0)).where(p.c.agency_id == agency.id)).one()
            actor = f"agency:{agency.agency_ref}"
            contacts = self.connection.scalar(
                sa.select(sa.func.count()).where(log.c.actor == actor)) or 0
            complaints = complaints_of.get(actor, 0)
            out.append({
                "agency": agency.agency_ref, "placements": int(placed[0]),
                "placed_balance": int(placed[1]), "recovered": int(placed[2]),
                "recovery_rate": f"{int(placed[2]) / int(placed[1]):.4f}" if placed[1] else
                "0.0000",
                "contacts": int(contacts),
                "complaints": complaints,
                "complaints_per_1000_contacts": per_thousand(complaints, int(contacts))})
        del a
        return out

    def add_placement_loan(self, placement_id: int, loan_id: int, balance: int) -> bool:
        pl = ct.placement_loan.c
        if self.connection.scalar(sa.select(sa.func.count()).where(
                pl.placement_id == placement_id, pl.loan_id == loan_id)):
            return False
        self.connection.execute(ct.placement_loan.insert().values(
            placement_id=placement_id, loan_id=loan_id, balance=balance))
        self.connection.execute(ct.placement.update().where(
            ct.placement.c.id == placement_id).values(
            balance_at_placement=ct.placement.c.balance_at_placement + balance))
        return True

    def refresh_recoveries(self, day: date, lookback_days: int) -> int:
        p, pl, pay = ct.placement, ct.placement_loan, t.payment
        since = day - timedelta(days=lookback_days)
        covered = pl.alias("covered")
        recovered = (
            sa.select(sa.func.coalesce(sa.func.sum(pay.c.amount), 0))
            .select_from(pay.join(covered, covered.c.loan_id == pay.c.loan_id))
            .where(covered.c.placement_id == p.c.id,
                   pay.c.paid_on >= p.c.placed_on, pay.c.paid_on <= p.c.ends_on,
                   pay.c.paid_on <= day,
                   sa.or_(p.c.recalled_on.is_(None), pay.c.paid_on < p.c.recalled_on))
            .correlate(p)
            .scalar_subquery())
        result = self.connection.execute(
            p.update()
            .where(p.c.placed_on <= day, p.c.ends_on >= since,
                   sa.or_(p.c.recalled_on.is_(None), p.c.recalled_on >= since))
            .values(recovered=recovered))
        return int(result.rowcount or 0)

    # --- promises and contacts ---------------------------------------------------------

    def add_promise(self, case_id: int, loan_id: int, amount: int, due_on: date,
                    made_at: datetime, paid_before: int, *, collector_ref: str,
                    promised_on: date) -> int:
        return int(self.connection.execute(ct.promise.insert().values(
            case_id=case_id, loan_id=loan_id, amount=amount, due_on=due_on, status="open",
            made_at=utc(made_at), paid_before=paid_before, collector_ref=collector_ref,
            promised_on=promised_on)).inserted_primary_key[0])

    def open_promises(self, day: date) -> list[PromiseRow]:
        p = ct.promise.c
        rows = self.connection.execute(
            sa.select(p.id, p.case_id, p.loan_id, p.amount, p.promised_on, p.due_on,
                      p.made_at)
            .where(p.status == "open").order_by(p.id))
        out = []
        for r in rows:
            promised_on = r.promised_on or r.made_at.date()
            if promised_on <= day:
                out.append(PromiseRow(id=r.id, case_id=r.case_id, loan_id=r.loan_id,
                                      amount=int(r.amount), promised_on=promised_on,
                                      due_on=r.due_on))
        return out

    def settle_promise(self, promise_id: int, status: str, day: date, paid: int) -> None:
        self.connection.execute(ct.promise.update().where(ct.promise.c.id == promise_id)
                                .values(status=status, settled_on=day, paid=paid))

    def promises_of(self, loan_id: int, limit: int) -> list[PromiseOnFile]:
        p = ct.promise.c
        rows = self.connection.execute(
            sa.select(p.id, p.amount, p.promised_on, p.made_at, p.due_on, p.status,
                      p.collector_ref, p.paid)
            .where(p.loan_id == loan_id).order_by(p.id.desc()).limit(limit))
        return [PromiseOnFile(promise_id=r.id, amount=int(r.amount),
                              promised_on=r.promised_on or r.made_at.date(), due_on=r.due_on,
                              status=r.status, collector_ref=r.collector_ref,
                              paid=int(r.paid)) for r in rows]

    def promise_made(self, loan_id: int, amount: int, due_on: date, promised_on: date
                     ) -> int | None:
        p = ct.promise.c
        return self.connection.scalar(sa.select(p.id).where(
            p.loan_id == loan_id, p.amount == amount, p.due_on == due_on,
            p.promised_on == promised_on).limit(1))

    def paid_between(self, loan_id: int, first: date, last: date) -> int:
        p = t.payment.c
        value = self.connection.scalar(sa.select(sa.func.coalesce(sa.func.sum(p.amount), 0))
                                       .where(p.loan_id == loan_id, p.paid_on >= first,
                                              p.paid_on <= last))
        return int(value or 0)

    def paid_total(self, loan_id: int, through: date) -> int:
        p = t.payment.c
        value = self.connection.scalar(sa.select(sa.func.coalesce(sa.func.sum(p.amount), 0))
                                       .where(p.loan_id == loan_id, p.paid_on <= through))
        return int(value or 0)

    def log_contact(self, case_id: int, actor: str, channel: str, outcome: str,
                    at: datetime, notes: str, recording_ref: str, complaint: bool) -> int:
        return int(self.connection.execute(ADD_CONTACT, {
            "case_id": case_id, "actor": actor, "channel": channel, "outcome": outcome,
            "at": utc(at), "notes": notes, "recording_ref": recording_ref,
            "complaint": complaint}).inserted_primary_key[0])

    # --- credentials and field visits ----------------------------------------------------

    def credentials(self, collector_refs: Sequence[str]) -> list[CredentialRow]:
        c, cred = ct.collector, ct.collector_credential
        rows = self.connection.execute(
            sa.select(c.c.collector_ref, cred.c.credential_ref, cred.c.valid_from,
                      cred.c.valid_until, cred.c.revoked_at)
            .select_from(cred.join(c, c.c.id == cred.c.collector_id))
            .where(c.c.collector_ref.in_(list(collector_refs))).order_by(cred.c.id))
        out = []
        for ref, credential_ref, valid_from, valid_until, revoked_at in rows:
            start, end = aware(valid_from), aware(valid_until)
            assert start is not None and end is not None
            out.append(CredentialRow(collector_ref=ref, credential_ref=credential_ref,
                                     valid_from=start, valid_until=end,
                                     revoked_at=aware(revoked_at)))
        return out

    def add_visit_authorization(self, row: VisitAuthorizationRow) -> int:
        return int(self.connection.execute(ct.visit_authorization.insert().values(
            authorization_ref=row.authorization_ref, case_id=row.case_id, loan_id=row.loan_id,
            collectors=",".join(row.collectors), written=row.written, recording=row.recording,
            issued_at=utc(row.issued_at), valid_until=utc(row.valid_until),
            legal_reviewer=row.legal_reviewer,
            legal_review_at=utc(row.legal_review_at) if row.legal_review_at else None,
        )).inserted_primary_key[0])

    def visit_authorizations(self, loan_id: int) -> list[VisitAuthorizationRow]:
        a = ct.visit_authorization
        out = []
        for r in self.connection.execute(sa.select(a).where(a.c.loan_id == loan_id)
                                         .order_by(a.c.id)):
            issued, until = aware(r.issued_at), aware(r.valid_until)
            assert issued is not None and until is not None
            out.append(VisitAuthorizationRow(
                id=r.id, authorization_ref=r.authorization_ref, case_id=r.case_id,
                loan_id=r.loan_id, collectors=tuple(x for x in r.collectors.split(",") if x),
                written=r.written, recording=r.recording, issued_at=issued, valid_until=until,
                legal_reviewer=r.legal_reviewer, legal_review_at=aware(r.legal_review_at)))
        return out

    def add_field_visit(self, visit_key: str, authorization: VisitAuthorizationRow,
                        planned_at: datetime, created_at: datetime) -> bool:
        v = ct.field_visit
        if self.connection.scalar(sa.select(sa.func.count()).where(v.c.visit_key == visit_key)):
            return False
        self.connection.execute(v.insert().values(
            visit_key=visit_key, authorization_id=authorization.id,
            case_id=authorization.case_id, loan_id=authorization.loan_id,
            planned_at=utc(planned_at), collectors=",".join(authorization.collectors),
            recording=authorization.recording, status="scheduled", created_at=utc(created_at)))
        return True

    def cancel_visits(self, after: datetime, *, collector_ref: str = "",
                      borrower_id: int | None = None) -> list[CancelledVisit]:
        v, a, loan = ct.field_visit, ct.visit_authorization, t.loan
        whose = sa.true() if borrower_id is None else loan.c.borrower_id == borrower_id
        # The team is a comma-separated list: matched in Python, not with LIKE (a collector
        # id may hold `_`, LIKE's wildcard). Scheduled visits still ahead are few.
        rows = self.connection.execute(
            sa.select(v.c.id, v.c.loan_id, loan.c.loan_ref, loan.c.borrower_id,
                      a.c.authorization_ref, v.c.planned_at, v.c.collectors)
            .select_from(v.join(a, a.c.id == v.c.authorization_id)
                         .join(loan, loan.c.id == v.c.loan_id))
            .where(v.c.status == "scheduled", v.c.planned_at >= utc(after), whose)
            .order_by(v.c.id)).all()
        cancelled = [r for r in rows
                     if borrower_id is not None or collector_ref in r.collectors.split(",")]
        if not cancelled:
            return []
        self.connection.execute(v.update().where(v.c.id.in_([r.id for r in cancelled]))
                                .values(status="cancelled"))
        out = []
        for r in cancelled:
            planned = aware(r.planned_at)
            assert planned is not None
            out.append(CancelledVisit(
                loan_id=r.loan_id, loan_ref=r.loan_ref, borrower_id=r.borrower_id,
                authorization_ref=r.authorization_ref, planned_at=planned,
                collectors=tuple(x for x in r.collectors.split(",") if x)))
        return out

    # --- summary -------------------------------------------------------------------------

    def summary(self) -> dict[str, Any]:
        m, action, case = ct.message.c, ct.collection_action.c, ct.collection_case.c
        by_channel: dict[str, dict[str, int]] = {}
        for channel, status, count in self.connection.execute(
                sa.select(m.channel, m.status, sa.func.count()).group_by(m.channel, m.status)):
            by_channel.setdefault(channel, {})[status] = int(count)
        blocked: dict[str, dict[str, int]] = {}
        for status, rule_ids, count in self.connection.execute(
                sa.select(action.status, action.rule_ids, sa.func.count())
                .where(action.rule_ids != "").group_by(action.status, action.rule_ids)):
            for rule_id in rule_ids.split(","):
                entry = blocked.setdefault(rule_id, {"rescheduled": 0, "cancelled": 0})
                entry[status] = entry.get(status, 0) + int(count)
        queues: Counter[str] = Counter()
        for queue, count in self.connection.execute(
                sa.select(case.queue, sa.func.count()).where(case.status == "open")
                .group_by(case.queue)):
            queues[queue] += int(count)
        return {"messages_by_channel": dict(sorted(by_channel.items())),
                "blocked_by_rule": dict(sorted(blocked.items())),
                "cases_by_queue": dict(sorted(queues.items()))}
