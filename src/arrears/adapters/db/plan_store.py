"""Hardship plans and plan policies on SQLAlchemy Core (`PlanStore`)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from arrears.adapters.db import plan_tables as pt
from arrears.adapters.db import tables as t
from arrears.adapters.db.book import _chunks
from arrears.application.ports import PlanRecord, PlanRefTaken, WatchedPlan

WATCHED = "approved"  # approved, neither kept nor broken yet


def _text(document: dict[str, Any]) -> str:
    return json.dumps(document, ensure_ascii=False, sort_keys=True)


def _record(row: Any) -> PlanRecord:
    return PlanRecord(
        id=row.id, plan_ref=row.plan_ref, loan_id=row.loan_id, kind=row.kind,
        status=row.status, in_force=row.in_force, effective_on=row.effective_on,
        terms=json.loads(row.terms), waived=row.waived, preview=json.loads(row.preview),
        proposed_by=row.proposed_by, proposed_at=row.proposed_at, decided_by=row.decided_by,
        decided_at=row.decided_at, reason=row.reason, outcome_on=row.outcome_on,
        last_payment_id=row.last_payment_id)


class SqlPlanStore:
    def __init__(self, connection: sa.Connection) -> None:
        self.connection = connection

    def policies(self) -> dict[str, dict[str, Any]]:
        rows = self.connection.execute(
            sa.select(pt.plan_policy.c.product_code, pt.plan_policy.c.definition))
        return {code: json.loads(text) for code, text in rows}

    def set_policy(self, product_code: str, definition: dict[str, Any]) -> None:
        updated = self.connection.execute(
            pt.plan_policy.update().where(pt.plan_policy.c.product_code == product_code)
            .values(definition=_text(definition)))
        if updated.rowcount == 0:
            self.connection.execute(pt.plan_policy.insert().values(
                product_code=product_code, definition=_text(definition)))

    def add(self, record: PlanRecord) -> int:
        try:
            return self._insert(record)
        except sa.exc.IntegrityError as error:
            # plan_ref is the table's one unique key, and the loan was read in this
            # transaction: the integrity error is another proposal that took the ref first.
            raise PlanRefTaken(record.plan_ref) from error

    def _insert(self, record: PlanRecord) -> int:
        return int(self.connection.execute(pt.plan.insert().values(
            plan_ref=record.plan_ref, loan_id=record.loan_id, kind=record.kind,
            status=record.status, in_force=record.in_force, effective_on=record.effective_on,
            terms=_text(record.terms), waived=record.waived, preview=_text(record.preview),
            proposed_by=record.proposed_by, proposed_at=record.proposed_at,
            decided_by=record.decided_by, decided_at=record.decided_at, reason=record.reason,
            outcome_on=record.outcome_on, last_payment_id=record.last_payment_id)
        ).inserted_primary_key[0])

    def get(self, plan_ref: str, *, for_update: bool = False) -> PlanRecord | None:
        query = sa.select(pt.plan).where(pt.plan.c.plan_ref == plan_ref)
        row = self.connection.execute(query.with_for_update() if for_update else query).first()
        return None if row is None else _record(row)

    def of_loan(self, loan_id: int) -> list[PlanRecord]:
        return [_record(row) for row in self.connection.execute(
            sa.select(pt.plan).where(pt.plan.c.loan_id == loan_id).order_by(pt.plan.c.id))]

    def update(self, record: PlanRecord) -> None:
        self.connection.execute(pt.plan.update().where(pt.plan.c.id == record.id).values(
            status=record.status, in_force=record.in_force, waived=record.waived,
            preview=_text(record.preview), decided_by=record.decided_by,
            decided_at=record.decided_at, reason=record.reason, outcome_on=record.outcome_on,
            last_payment_id=record.last_payment_id))

    def watched(self, loan_ids: Sequence[int]) -> list[PlanRecord]:
        found: list[PlanRecord] = []
        for chunk in _chunks(list(loan_ids)):
            found.extend(_record(row) for row in self.connection.execute(
                sa.select(pt.plan).where(pt.plan.c.loan_id.in_(chunk)
                                         & (pt.plan.c.status == WATCHED))
                .order_by(pt.plan.c.id)))
        return found

    def all_watched(self) -> list[WatchedPlan]:
        plan = pt.plan.c
        return [WatchedPlan(loan_id=row.loan_id, kind=row.kind, effective_on=row.effective_on,
                            terms=json.loads(row.terms))
                for row in self.connection.execute(
                    sa.select(plan.loan_id, plan.kind, plan.effective_on, plan.terms)
                    .where(plan.status == WATCHED).order_by(plan.id))]

    def listing(self, *, loan_id: int | None, status: str | None, limit: int,
                before_id: int | None = None) -> list[tuple[PlanRecord, str]]:
        query = (sa.select(pt.plan, t.loan.c.loan_ref.label("loan_ref"))
                 .select_from(pt.plan.join(t.loan, t.loan.c.id == pt.plan.c.loan_id))
                 .order_by(pt.plan.c.id.desc()).limit(limit))
        if before_id is not None:
            query = query.where(pt.plan.c.id < before_id)
        if loan_id is not None:
            query = query.where(pt.plan.c.loan_id == loan_id)
        if status is not None:
            query = query.where(pt.plan.c.status == status)
        return [(_record(row), row.loan_ref) for row in self.connection.execute(query)]

    def counts(self) -> dict[tuple[str, str], int]:
        rows = self.connection.execute(
            sa.select(pt.plan.c.kind, pt.plan.c.status, sa.func.count())
            .group_by(pt.plan.c.kind, pt.plan.c.status))
        return {(kind, status): int(count) for kind, status, count in rows}
