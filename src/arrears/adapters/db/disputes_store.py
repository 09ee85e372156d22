"""The disputes register on SQLAlchemy Core (`DisputeStore`)."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from arrears.adapters.db import disputes_tables as dt
from arrears.adapters.db import tables as t
from arrears.adapters.db.messages import aware, utc
from arrears.application.disputes import DisputeRow
from arrears.domain.disputes import About, Channel, DisputeKind, Outcome

REF_PREFIX = "DSP-"
CHUNK = 900  # below SQLite's bound-parameter limit


def dispute_ref(dispute_id: int) -> str:
    return f"{REF_PREFIX}{dispute_id:06d}"


class SqlDisputes:
    def __init__(self, connection: sa.Connection) -> None:
        self.connection = connection

    def add(self, row: DisputeRow) -> str:
        new_id = int(self.connection.execute(dt.dispute.insert().values(
            loan_id=row.loan_id, borrower_id=row.borrower_id, jurisdiction=row.jurisdiction,
            kind=row.kind.value, about=row.about.value, channel=row.channel.value,
            received_at=utc(row.received_at), received_on=row.received_on, note=row.note,
        )).inserted_primary_key[0])
        ref = dispute_ref(new_id)
        self.connection.execute(dt.dispute.update().where(dt.dispute.c.id == new_id)
                                .values(dispute_ref=ref))
        return ref

    def _select(self) -> sa.Select[tuple[object, ...]]:
        d, loan = dt.dispute, t.loan
        return (sa.select(d, loan.c.loan_ref)
                .select_from(d.join(loan, loan.c.id == d.c.loan_id))
                .order_by(d.c.received_at, d.c.id))

    def _rows(self, query: sa.Select[tuple[object, ...]]) -> list[DisputeRow]:
        out = []
        for r in self.connection.execute(query).mappings():
            received_at = aware(r["received_at"])
            assert received_at is not None
            out.append(DisputeRow(
                id=int(r["id"]), dispute_ref=r["dispute_ref"], loan_id=int(r["loan_id"]),
                loan_ref=r["loan_ref"], borrower_id=int(r["borrower_id"]),
                jurisdiction=r["jurisdiction"], kind=DisputeKind(r["kind"]),
                about=About(r["about"]), channel=Channel(r["channel"]),
                received_at=received_at, received_on=r["received_on"], note=r["note"],
                outcome=Outcome(r["outcome"]) if r["outcome"] is not None else None,
                answered_at=aware(r["answered_at"]), answered_on=r["answered_on"],
                answer_note=r["answer_note"]))
        return out

    def get(self, dispute_ref: str, *, for_update: bool = False) -> DisputeRow | None:
        query = self._select().where(dt.dispute.c.dispute_ref == dispute_ref)
        if for_update:
            query = query.with_for_update(of=dt.dispute)
        rows = self._rows(query)
        return rows[0] if rows else None

    def answer(self, row: DisputeRow) -> None:
        assert row.answered_at is not None and row.outcome is not None
        self.connection.execute(dt.dispute.update().where(dt.dispute.c.id == row.id).values(
            outcome=row.outcome.value, answered_at=utc(row.answered_at),
            answered_on=row.answered_on, answer_note=row.answer_note))

    def listed(self, *, loan_ref: str | None = None, open_only: bool = False
               ) -> list[DisputeRow]:
        query = self._select()
        if loan_ref is not None:
            query = query.where(t.loan.c.loan_ref == loan_ref)
        if open_only:
            query = query.where(dt.dispute.c.answered_at.is_(None))
        return self._rows(query)

    def of_loans(self, loan_refs: Sequence[str]) -> dict[str, list[DisputeRow]]:
        found: dict[str, list[DisputeRow]] = {}
        wanted = sorted(set(loan_refs))
        for start in range(0, len(wanted), CHUNK):
            for row in self._rows(self._select().where(
                    t.loan.c.loan_ref.in_(wanted[start:start + CHUNK]))):
                found.setdefault(row.loan_ref, []).append(row)
        return found
