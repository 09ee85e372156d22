"""The disputes register's port: a dispute as stored, and the store (inside a unit of work)
that registers, answers and lists them. Adapter: `arrears.adapters.db.disputes_store`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from arrears.domain.disputes import About, Channel, DisputeKind, Outcome


@dataclass(frozen=True, slots=True, kw_only=True)
class DisputeRow:
    id: int
    dispute_ref: str
    loan_id: int
    loan_ref: str
    borrower_id: int
    jurisdiction: str
    kind: DisputeKind
    about: About
    channel: Channel
    received_at: datetime
    received_on: date
    """The receipt's business date where the jurisdiction's clocks run."""
    note: str = ""
    outcome: Outcome | None = None
    answered_at: datetime | None = None
    """When the answer (verification, the original creditor, the written reply) was sent."""
    answered_on: date | None = None
    answer_note: str = ""

    def open_at(self, at: datetime) -> bool:
        """Received by `at` and not answered by then."""
        return self.received_at <= at and (self.answered_at is None or self.answered_at > at)


class DisputeStore(Protocol):
    """Never commits; the handler's unit of work does."""

    def add(self, row: DisputeRow) -> str:
        """Insert `row` (its id and ref are ignored); returns the new dispute's ref."""
        ...

    def get(self, dispute_ref: str, *, for_update: bool = False) -> DisputeRow | None: ...

    def answer(self, row: DisputeRow) -> None:
        """Write the outcome, answer instant, date and note of `row`."""
        ...

    def listed(self, *, loan_ref: str | None = None, open_only: bool = False
               ) -> list[DisputeRow]:
        """Disputes in the order received (of one loan, or all; open ones only)."""
        ...

    def of_loans(self, loan_refs: Sequence[str]) -> dict[str, list[DisputeRow]]:
        """Every dispute of these loans, by loan ref, in the order received."""
        ...
