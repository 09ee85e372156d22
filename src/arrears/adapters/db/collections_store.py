"""Collections on SQLAlchemy Core (`CollectionsStore`): planning reads, actions, cases,
collectors, agencies and placements, promises to pay, contact logs, and the summary."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa

from arrears.adapters.db import collections_tables as ct
from arrears.adapters.db import tables as t
from arrears.adapters.db.messages import aware, utc
from arrears.application.ports import AgencyRow, CaseRow, CollectorRow, PlannedAction, PlanRow

ACTIVE = ("current", "overdue")


def _chunks(items: Sequence[Any], size: int = 900) -> list[Sequence[Any]]:
    return [items[i:i + size] for i in range(0, len(items), size)]


class SqlCollections:
    def __init__(self, connection: sa.Connection) -> None:
        self.connection = connection

    # --- planning --------------------------------------------------------------------

    def planning_rows(self, first_due: date, last_due: date) -> list[PlanRow]:
        loan, borrower, phone = t.loan, t.borrower, t.borrower_phone
        other = phone.alias("first_phone")
        first_phone = (sa.select(sa.func.min(other.c.id)).where(
            other.c.borrower_id == borrower.c.id).correlate(borrower).scalar_subquery())
        query = (
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
            .where(loan.c.status.in_(ACTIVE),
                   loan.c.earliest_unpaid_due_on >= first_due,
                   loan.c.earliest_unpaid_due_on <= last_due)
            .order_by(loan.c.id))
        return [
            PlanRow(loan_id=r.id, loan_ref=r.loan_ref, product_code=r.product_code,
                    currency=r.currency, dpd=r.dpd, bucket=r.bucket,
                    due_on=r.earliest_unpaid_due_on, borrower_id=r.borrower_id,
                    borrower_ref=r.borrower_ref, name=r.name, language=r.language,
                    region=r.region, address=r.address, time_zone=r.time_zone,
                    phone=r.number or "", phone_zone=r.phone_zone or r.time_zone,
                    email=r.email or "")
            for r in self.connection.execute(query)
        ]

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
        self.connection.execute(ct.collection_action.insert(), [
            {"action_key": a.action_key, "loan_id": a.loan_id,
             "business_date": a.business_date, "strategy": a.strategy, "arm": a.arm,
             "step": a.step, "kind": a.kind, "status": a.status,
             "planned_at": utc(a.planned_at),
             "scheduled_at": utc(a.scheduled_at) if a.scheduled_at else None,
             "rule_ids": ",".join(a.rule_ids), "reason": a.reason[:2000],
             "message_id": a.message_id}
            for a in actions])

    def call_history(self, borrower_ids: Sequence[int], since: datetime
                     ) -> dict[int, list[tuple[datetime, str]]]:
        history: dict[int, list[tuple[datetime, str]]] = {}
        case, log = ct.collection_case, ct.contact_log
        for chunk in _chunks(list(borrower_ids)):
            rows = self.connection.execute(
                sa.select(case.c.borrower_id, log.c.at, log.c.outcome)
                .select_from(log.join(case, case.c.id == log.c.case_id))
                .where(case.c.borrower_id.in_(chunk), log.c.channel == "call",
                       log.c.at >= utc(since)))
            for borrower_id, at, outcome in rows:
                instant = aware(at)
                assert instant is not None
                history.setdefault(borrower_id, []).append((instant, outcome))
        return history

    # --- cases -----------------------------------------------------------------------

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

    def open_cases(self) -> dict[int, CaseRow]:
        case = ct.collection_case
        rows = self.connection.execute(sa.select(case).where(case.c.status == "open"))
        return {row.borrower_id: self._case(row) for row in rows}

    def case_of_borrower(self, borrower_id: int) -> CaseRow | None:
        case = ct.collection_case
        row = self.connection.execute(sa.select(case).where(
            case.c.borrower_id == borrower_id, case.c.status == "open")).first()
        return None if row is None else self._case(row)

    def open_case(self, borrower_id: int, bucket: str, queue: str, collector_id: int | None,
                  day: date, balance: int) -> int:
        return int(self.connection.execute(ct.collection_case.insert().values(
            borrower_id=borrower_id, status="open", bucket=bucket, queue=queue,
            collector_id=collector_id, opened_on=day, updated_on=day, balance=balance,
        )).inserted_primary_key[0])

    def update_case(self, case_id: int, bucket: str, queue: str, collector_id: int | None,
                    day: date, balance: int) -> None:
        self.connection.execute(ct.collection_case.update().where(
            ct.collection_case.c.id == case_id).values(
            bucket=bucket, queue=queue, collector_id=collector_id, updated_on=day,
            balance=balance))

    def close_case(self, case_id: int, day: date) -> None:
        self.connection.execute(ct.collection_case.update().where(
            ct.collection_case.c.id == case_id).values(
            status="closed", closed_on=day, updated_on=day, collector_id=None))
        self.connection.execute(ct.placement.update().where(
            ct.placement.c.case_id == case_id, ct.placement.c.recalled_on.is_(None),
            ct.placement.c.ends_on >= day).values(recalled_on=day))

    def collectors(self) -> list[CollectorRow]:
        c = ct.collector
        rows = self.connection.execute(sa.select(c).where(c.c.active.is_(True)).order_by(c.c.id))
        return [CollectorRow(id=r.id, collector_ref=r.collector_ref,
                             languages=tuple(x for x in r.languages.split(",") if x),
                             buckets=tuple(x for x in r.buckets.split(",") if x),
                             capacity=r.capacity) for r in rows]

    def add_collector(self, collector_ref: str, name: str, languages: Sequence[str],
                      buckets: Sequence[str], capacity: int) -> int:
        return int(self.connection.execute(ct.collector.insert().values(
            collector_ref=collector_ref, name=name, languages=",".join(languages),
            buckets=",".join(buckets), capacity=capacity)).inserted_primary_key[0])

    # --- agencies ----------------------------------------------------------------------

    def agencies(self) -> list[AgencyRow]:
        a = ct.agency
        return [AgencyRow(id=r.id, agency_ref=r.agency_ref, name=r.name,
                          licence_no=r.licence_no, licence_valid_from=r.licence_valid_from,
                          licence_valid_until=r.licence_valid_until,
                          whitelisted=r.whitelisted, capacity=r.capacity,
                          commission_rate=r.commission_rate, fixed_fee=r.fixed_fee)
                for r in self.connection.execute(sa.select(a).order_by(a.c.id))]

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

    def cases_for_agency(self, agency_ref: str, on: date) -> list[dict[str, Any]]:
        p, case, a, b = ct.placement, ct.collection_case, ct.agency, t.borrower
        rows = self.connection.execute(
            sa.select(case.c.id, b.c.borrower_ref, case.c.bucket, case.c.balance, p.c.scope,
                      p.c.ends_on)
            .select_from(p.join(a, a.c.id == p.c.agency_id)
                         .join(case, case.c.id == p.c.case_id)
                         .join(b, b.c.id == case.c.borrower_id))
            .where(a.c.agency_ref == agency_ref, self._in_force(on), case.c.status == "open")
            .order_by(case.c.id))
        return [{"case_id": r[0], "borrower_ref": r[1], "bucket": r[2], "balance": r[3],
                 "scope": r[4], "ends_on": r[5].isoformat()} for r in rows]

    def agency_performance(self) -> list[dict[str, Any]]:
        a, p, log = ct.agency, ct.placement, ct.contact_log
        out = []
        for agency in self.agencies():
            placed = self.connection.execute(
                sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(
                    p.c.balance_at_placement), 0), sa.func.coalesce(sa.func.sum(
                        p.c.recovered), 0)).where(p.c.agency_id == agency.id)).one()
            contacts, complaints = self.connection.execute(
                sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(
                    sa.case((log.c.complaint.is_(True), 1), else_=0)), 0))
                .where(log.c.actor == f"agency:{agency.agency_ref}")).one()
            out.append({
                "agency": agency.agency_ref, "placements": int(placed[0]),
                "placed_balance": int(placed[1]), "recovered": int(placed[2]),
                "recovery_rate": f"{int(placed[2]) / int(placed[1]):.4f}" if placed[1] else
                "0.0000",
                "contacts": int(contacts),
                "complaints_per_1000_contacts": f"{1000 * int(complaints) / contacts:.2f}"
                if contacts else "0.00"})
        del a
        return out

    def add_recovery(self, placement_id: int, amount: int) -> None:
        self.connection.execute(ct.placement.update().where(
            ct.placement.c.id == placement_id).values(
            recovered=ct.placement.c.recovered + amount))

    # --- promises and contacts ---------------------------------------------------------

    def add_promise(self, case_id: int, loan_id: int, amount: int, due_on: date,
                    made_at: datetime, paid_before: int) -> int:
        return int(self.connection.execute(ct.promise.insert().values(
            case_id=case_id, loan_id=loan_id, amount=amount, due_on=due_on, status="open",
            made_at=utc(made_at), paid_before=paid_before)).inserted_primary_key[0])

    def open_promises_due(self, day: date) -> list[tuple[int, int, int, int]]:
        p = ct.promise.c
        rows = self.connection.execute(sa.select(p.id, p.loan_id, p.amount, p.paid_before)
                                       .where(p.status == "open", p.due_on <= day))
        return [(r[0], r[1], r[2], r[3]) for r in rows]

    def set_promise(self, promise_id: int, status: str) -> None:
        self.connection.execute(ct.promise.update().where(ct.promise.c.id == promise_id)
                                .values(status=status))

    def paid_total(self, loan_id: int, through: date) -> int:
        p = t.payment.c
        value = self.connection.scalar(sa.select(sa.func.coalesce(sa.func.sum(p.amount), 0))
                                       .where(p.loan_id == loan_id, p.paid_on <= through))
        return int(value or 0)

    def log_contact(self, case_id: int, actor: str, channel: str, outcome: str,
                    at: datetime, notes: str, recording_ref: str, complaint: bool) -> int:
        return int(self.connection.execute(ct.contact_log.insert().values(
            case_id=case_id, actor=actor, channel=channel, outcome=outcome, at=utc(at),
            notes=notes, recording_ref=recording_ref, complaint=complaint,
        )).inserted_primary_key[0])

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
