"""The complaints register's port: a complaint as stored, and the store (inside a unit of
work) that files, updates and lists them. Adapter: `arrears.adapters.db.complaints_store`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from arrears.domain.complaints import Category, Deadlines, Source, Team


@dataclass(frozen=True, slots=True, kw_only=True)
class ComplaintRow:
    id: int
    complaint_ref: str
    borrower_id: int
    borrower_ref: str
    loan_ref: str
    source: Source
    category: Category
    team: Team
    jurisdiction: str
    summary: str
    filed_at: datetime
    filed_on: date
    deadlines: Deadlines
    answer: str = ""
    escalated_on: date | None = None
    collectors: tuple[str, ...] = ()
    agencies: tuple[str, ...] = ()
    contact_ids: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class ContactRef:
    """A logged contact a complaint is about."""

    contact_id: int
    borrower_id: int
    actor: str
    channel: str
    at: datetime


class ComplaintStore(Protocol):
    """Never commits; the handler's unit of work does."""

    def add(self, row: ComplaintRow) -> str:
        """Insert `row` (its id and ref are ignored); returns the new complaint's ref, which
        is derived from its id, so it is unique without a second counter."""
        ...

    def get(self, complaint_ref: str, *, for_update: bool = False) -> ComplaintRow | None: ...
    def update(self, row: ComplaintRow) -> None:
        """Write the deadlines, answer and escalation of `row`."""
        ...

    def listed(self, *, open_only: bool) -> list[ComplaintRow]: ...
    def contacts(self, contact_ids: Sequence[int]) -> list[ContactRef]: ...
    def rates(self) -> list[tuple[str, str, int, int]]:
        """(kind 'collector' | 'agency', ref, contacts logged, complaints) for every collector
        and agency with contacts or complaints."""
        ...
