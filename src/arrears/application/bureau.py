"""Credit reporting contracts: the disputes read model, the bureau store, the unit of work that
carries both beside the book, and the record a bureau file is written from."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Protocol

from arrears.application.ports import UnitOfWork
from arrears.domain.bureau.snapshot import BureauDispute, Month, MonthSnapshot
from arrears.domain.loan import Payment


class Format(StrEnum):
    METRO2 = "metro2"
    PBOC = "pboc"


class NoticeKind(StrEnum):
    """What kind of notice the borrower was sent (the compliance facts' `NoticeKind`)."""

    PRE_REPORT = "pre_report"  # advance notice of a negative report (CN-21)
    ABOUT_DEBT = "about_debt"  # a letter or electronic message about the debt (US-26)


@dataclass(frozen=True, slots=True, kw_only=True)
class BureauNotice:
    loan_ref: str
    kind: NoticeKind
    sent_on: date
    channel: str = "letter"
    undeliverable_on: date | None = None


class Disputes(Protocol):
    """The disputes register as the bureau reads it (`handlers.disputes.bureau_disputes`)."""

    def disputes_of(self, loan_ref: str) -> tuple[BureauDispute, ...]: ...


class NoDisputes:
    """No dispute on any loan: the default when a run is given no register."""

    def disputes_of(self, loan_ref: str) -> tuple[BureauDispute, ...]:
        return ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Associate:
    """A person the book links to the borrower (one of their contacts). The Metro 2 writer
    reports only those its liable relations name (`codes.LIABLE_RELATIONS`), in J1 or J2."""

    name: str
    relation: str
    address: str = ""
    """Their own address; "" when the book keeps none (contacts have no address column)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Subject:
    """Who a record is about, as the bureau file needs it (personal data: never logged)."""

    name: str
    national_id: str
    address: str
    region: str
    phone: str
    associates: tuple[Associate, ...] = ()


class BureauStore(Protocol):
    """Monthly snapshots and pre-report notices inside one unit of work. Never commits."""

    def snapshots(self, month: Month, loan_refs: Sequence[str] | None = None
                  ) -> dict[str, MonthSnapshot]:
        """The stored snapshots of `month` by loan ref (all, or those of `loan_refs`)."""
        ...

    def put(self, snapshots: Sequence[MonthSnapshot]) -> None:
        """Insert or replace these loans' snapshots of their months: a rebuilt month replaces
        its rows, so a rebuild never appends."""
        ...

    def months(self) -> list[Month]:
        """The months that have snapshots, in order."""
        ...

    def loan_ids(self) -> list[int]:
        """Every loan of the book, by id."""
        ...

    def payments(self, loan_ids: Sequence[int]) -> dict[int, list[Payment]]:
        """The payments in force of these loans (reversed ones and reversals left out)."""
        ...

    def add_notice(self, notice: BureauNotice) -> bool:
        """Record a notice; False if the same one (loan, kind, date) is on file."""
        ...

    def notices(self, loan_refs: Sequence[str]) -> dict[str, list[BureauNotice]]: ...

    def subjects(self, loan_refs: Sequence[str]) -> dict[str, Subject]: ...


class BureauUnitOfWork(UnitOfWork, Protocol):
    bureau: BureauStore


class BureauUnitOfWorkFactory(Protocol):
    def __call__(self) -> BureauUnitOfWork: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class BureauRecord:
    """One record of a bureau file: a snapshot, who it is about, and whether it corrects a
    month already reported."""

    snapshot: MonthSnapshot
    subject: Subject
    correction: bool = False
