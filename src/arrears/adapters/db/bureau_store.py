"""The bureau store on SQLAlchemy Core (`BureauStore`), and the unit of work that carries it
beside the book on the same transaction."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import date
from typing import Any, Self

import sqlalchemy as sa

from arrears.adapters.db import bureau_tables as bt
from arrears.adapters.db import tables as t
from arrears.adapters.db.unit_of_work import SqlUnitOfWork, SqlUnitOfWorkFactory
from arrears.application.bureau import Associate, BureauNotice, NoticeKind, Subject
from arrears.domain.bureau import codes
from arrears.domain.bureau.snapshot import (
    DisputeState,
    Month,
    MonthSnapshot,
    SpecialEvent,
)
from arrears.domain.loan import Payment

CHUNK = 900  # below SQLite's bound-parameter limit


def _chunks(items: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), CHUNK):
        yield items[start:start + CHUNK]


def _row(loan_id: int, s: MonthSnapshot) -> dict[str, Any]:
    b = s.overdue_principal_bands
    return {
        "loan_id": loan_id, "month": s.month.first, "maturity_on": s.maturity_on,
        "balance": s.balance, "principal_outstanding": s.principal_outstanding,
        "past_due": s.past_due, "past_due_30": s.past_due_30, "overdue_terms": s.overdue_terms,
        "overdue_1_30": b[0], "overdue_31_60": b[1], "overdue_61_90": b[2],
        "overdue_91_180": b[3], "overdue_over_180": b[4], "dpd": s.dpd,
        "worst_dpd": s.worst_dpd, "scheduled_payment": s.scheduled_payment,
        "actual_payment": s.actual_payment, "last_payment_on": s.last_payment_on,
        "first_delinquency_on": s.first_delinquency_on, "restructured": s.restructured,
        "written_off_on": s.written_off_on, "charge_off_amount": s.charge_off_amount,
        "closed_on": s.closed_on,
        "events": json.dumps([[e.kind.value, e.on.isoformat(), e.amount, e.months]
                              for e in s.events]),
        "dispute": s.dispute.value, "condition_code": s.condition_code.value,
        "objection_overdue": s.objection_overdue, "special_comment": s.special_comment,
        "metro2_status": s.metro2_status, "payment_rating": s.payment_rating,
        "metro2_code": s.metro2_code, "metro2_history": s.metro2_history,
        "pboc_code": s.pboc_code, "pboc_history": s.pboc_history,
        "account_status": s.account_status.value, "loan_class": s.loan_class.value,
        "negative": s.negative, "gate_open": s.gate_open,
        "held_rules": " ".join(s.held_rules),
    }


def _snapshot(m: Any) -> MonthSnapshot:
    return MonthSnapshot(
        loan_ref=m["loan_ref"], month=Month.of(m["month"]), currency=m["currency"],
        opened_on=m["disbursed_on"], maturity_on=m["maturity_on"], principal=m["principal"],
        terms=m["terms"], balance=m["balance"], principal_outstanding=m["principal_outstanding"],
        past_due=m["past_due"], past_due_30=m["past_due_30"], overdue_terms=m["overdue_terms"],
        overdue_principal_bands=(m["overdue_1_30"], m["overdue_31_60"], m["overdue_61_90"],
                                 m["overdue_91_180"], m["overdue_over_180"]),
        dpd=m["dpd"], worst_dpd=m["worst_dpd"], scheduled_payment=m["scheduled_payment"],
        actual_payment=m["actual_payment"], last_payment_on=m["last_payment_on"],
        first_delinquency_on=m["first_delinquency_on"], restructured=m["restructured"],
        written_off_on=m["written_off_on"], charge_off_amount=m["charge_off_amount"],
        closed_on=m["closed_on"],
        events=tuple(SpecialEvent(kind=codes.SpecialKind(k), on=date.fromisoformat(on),
                                  amount=amount, months=months)
                     for k, on, amount, months in json.loads(m["events"])),
        dispute=DisputeState(m["dispute"]), condition_code=codes.ConditionCode(
            m["condition_code"]), objection_overdue=m["objection_overdue"],
        special_comment=m["special_comment"], metro2_status=m["metro2_status"],
        payment_rating=m["payment_rating"], metro2_code=m["metro2_code"],
        metro2_history=m["metro2_history"], pboc_code=m["pboc_code"],
        pboc_history=m["pboc_history"],
        account_status=codes.AccountStatus(m["account_status"]),
        loan_class=codes.LoanClass(m["loan_class"]), negative=m["negative"],
        gate_open=m["gate_open"], held_rules=tuple(m["held_rules"].split()),
    )


SNAPSHOT_QUERY = sa.select(
    bt.bureau_snapshot, t.loan.c.loan_ref, t.loan.c.currency, t.loan.c.disbursed_on,
    t.loan.c.principal, t.loan.c.terms,
).select_from(bt.bureau_snapshot.join(t.loan, t.loan.c.id == bt.bureau_snapshot.c.loan_id))


class SqlBureauStore:
    def __init__(self, connection: sa.Connection) -> None:
        self.connection = connection

    def _ids(self, refs: Sequence[str]) -> dict[str, int]:
        found: dict[str, int] = {}
        for chunk in _chunks(list(refs)):
            for ref, loan_id in self.connection.execute(
                    sa.select(t.loan.c.loan_ref, t.loan.c.id)
                    .where(t.loan.c.loan_ref.in_(chunk))):
                found[ref] = loan_id
        return found

    def snapshots(self, month: Month, loan_refs: Sequence[str] | None = None
                  ) -> dict[str, MonthSnapshot]:
        query = SNAPSHOT_QUERY.where(bt.bureau_snapshot.c.month == month.first)
        if loan_refs is None:
            rows = list(self.connection.execute(query).mappings())
        else:
            rows = []
            for chunk in _chunks(list(loan_refs)):
                rows.extend(self.connection.execute(
                    query.where(t.loan.c.loan_ref.in_(chunk))).mappings())
        return {row["loan_ref"]: _snapshot(row) for row in rows}

    def put(self, snapshots: Sequence[MonthSnapshot]) -> None:
        if not snapshots:
            return
        ids = self._ids(sorted({s.loan_ref for s in snapshots}))
        rows = [_row(ids[s.loan_ref], s) for s in snapshots]
        table = bt.bureau_snapshot
        by_month: dict[date, list[int]] = {}
        for row in rows:
            by_month.setdefault(row["month"], []).append(row["loan_id"])
        for month, loan_ids in by_month.items():
            for chunk in _chunks(loan_ids):
                self.connection.execute(table.delete().where(
                    table.c.month == month, table.c.loan_id.in_(chunk)))
        self.connection.execute(table.insert(), rows)

    def months(self) -> list[Month]:
        return [Month.of(day) for day in self.connection.scalars(
            sa.select(bt.bureau_snapshot.c.month).distinct().order_by(bt.bureau_snapshot.c.month))]

    def loan_ids(self) -> list[int]:
        return list(self.connection.scalars(sa.select(t.loan.c.id).order_by(t.loan.c.id)))

    def payments(self, loan_ids: Sequence[int]) -> dict[int, list[Payment]]:
        found: dict[int, list[Payment]] = {}
        p = t.payment.c
        for chunk in _chunks(list(loan_ids)):
            rows = self.connection.execute(
                sa.select(p.id, p.loan_id, p.idempotency_key, p.paid_on, p.amount, p.reverses_id)
                .where(p.loan_id.in_(chunk)).order_by(p.paid_on, p.id)).all()
            reversed_ids = {row.reverses_id for row in rows if row.reverses_id is not None}
            for row in rows:
                if row.reverses_id is None and row.id not in reversed_ids:
                    found.setdefault(row.loan_id, []).append(
                        Payment(key=row.idempotency_key, on=row.paid_on, amount=row.amount))
        return found

    def add_notice(self, notice: BureauNotice) -> bool:
        loan_id = self._ids([notice.loan_ref])[notice.loan_ref]
        n = bt.bureau_notice.c
        exists = self.connection.scalar(sa.select(n.id).where(
            n.loan_id == loan_id, n.kind == notice.kind.value, n.sent_on == notice.sent_on))
        if exists is not None:
            return False
        self.connection.execute(bt.bureau_notice.insert().values(
            loan_id=loan_id, kind=notice.kind.value, channel=notice.channel,
            sent_on=notice.sent_on, undeliverable_on=notice.undeliverable_on))
        return True

    def notices(self, loan_refs: Sequence[str]) -> dict[str, list[BureauNotice]]:
        n = bt.bureau_notice.c
        found: dict[str, list[BureauNotice]] = {}
        for chunk in _chunks(list(loan_refs)):
            rows = self.connection.execute(
                sa.select(t.loan.c.loan_ref, n.kind, n.channel, n.sent_on, n.undeliverable_on)
                .join(t.loan, t.loan.c.id == n.loan_id)
                .where(t.loan.c.loan_ref.in_(chunk)).order_by(n.sent_on, n.id))
            for ref, kind, channel, sent_on, undeliverable_on in rows:
                found.setdefault(ref, []).append(BureauNotice(
                    loan_ref=ref, kind=NoticeKind(kind), channel=channel, sent_on=sent_on,
                    undeliverable_on=undeliverable_on))
        return found

    def subjects(self, loan_refs: Sequence[str]) -> dict[str, Subject]:
        b, phone = t.borrower.c, t.borrower_phone.c
        first_phone = (sa.select(phone.number).where(phone.borrower_id == b.id)
                       .order_by(phone.id).limit(1).scalar_subquery())
        found: dict[str, Subject] = {}
        for chunk in _chunks(list(loan_refs)):
            rows = self.connection.execute(
                sa.select(t.loan.c.loan_ref, b.name, b.national_id, b.address, b.region,
                          first_phone)
                .join(t.borrower, t.borrower.c.id == t.loan.c.borrower_id)
                .where(t.loan.c.loan_ref.in_(chunk)))
            for ref, name, national_id, address, region, number in rows:
                found[ref] = Subject(name=name, national_id=national_id, address=address,
                                     region=region, phone=number or "")
        contact = t.contact_person.c
        for chunk in _chunks(list(found)):
            for ref, name, relation in self.connection.execute(
                    sa.select(t.loan.c.loan_ref, contact.name, contact.relation)
                    .join(t.contact_person, contact.borrower_id == t.loan.c.borrower_id)
                    .where(t.loan.c.loan_ref.in_(chunk)).order_by(contact.id)):
                subject = found[ref]
                found[ref] = replace(subject, associates=(
                    *subject.associates, Associate(name=name, relation=relation)))
        return found


class SqlBureauUnitOfWork(SqlUnitOfWork):
    """The book's unit of work with the bureau store on the same transaction."""

    def __enter__(self) -> Self:
        super().__enter__()
        assert self._connection is not None
        self.bureau = SqlBureauStore(self._connection)
        return self


class SqlBureauUnitOfWorkFactory(SqlUnitOfWorkFactory):
    def __call__(self) -> SqlBureauUnitOfWork:
        return SqlBureauUnitOfWork(self.engine, self._products)
