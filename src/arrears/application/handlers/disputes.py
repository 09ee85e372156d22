"""The disputes register: open a dispute (US) or objection (异议, PRC) about a loan, record its
answer, list them (`overdue_on` for objections past their 20-day clock, CN-23), and read them
for the other areas.

Everything else learns of a dispute from this register, never from a copy: contact decisions
turn the loan's disputes into compliance facts (`contact_decisions.dispute_facts`), so US-23 and
`cn.house.objection_suspends` stop collection until the answer; credit reporting reads
`bureau_disputes` (XB / the 异议 mark while open, correction records after `corrected`); plans
are refused while the debt is `disputed`. Each dispute opened or answered is appended to the
borrower's evidence chain in the same unit of work, and raises `dispute.opened` or
`dispute.answered` for webhook subscribers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from arrears.application.bureau import Disputes
from arrears.application.disputes import DisputeRow
from arrears.application.handlers import evidence
from arrears.application.loan_file import parse_enum
from arrears.application.ports import Clock, Event, UnitOfWork
from arrears.compliance import packs
from arrears.domain import disputes as rules
from arrears.domain import evidence as chain
from arrears.domain.bureau.codes import OBJECTION_DAYS
from arrears.domain.bureau.snapshot import BureauDispute
from arrears.domain.bureau.snapshot import DisputeKind as ReportedOutcome
from arrears.domain.dates import check_instant
from arrears.domain.disputes import About, Channel, DisputeKind, Outcome
from arrears.domain.errors import DomainError

MAX_NOTE = 2000


@dataclass(frozen=True, slots=True, kw_only=True)
class NewDispute:
    loan_ref: str
    kind: str
    channel: str
    received_at: datetime
    about: str = About.DEBT.value
    note: str = ""


def _note(value: str, field: str) -> str:
    if len(value) > MAX_NOTE:
        raise DomainError(field, f"longer than {MAX_NOTE} characters")
    return value


def _instant(at: datetime, field: str, now: datetime) -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise DomainError(field, "must carry a UTC offset, e.g. 2026-06-01T10:00:00+08:00")
    check_instant(at, field)
    if at > now:
        raise DomainError(field, f"{at.isoformat()} is after now ({now.isoformat()})")
    return at


def _day(jurisdiction: str, at: datetime) -> date:
    """The business date of `at` where the jurisdiction's clocks run."""
    return at.astimezone(ZoneInfo(packs.get(jurisdiction.lower()).reference_zone)).date()


def _payload(row: DisputeRow, **extra: Any) -> dict[str, Any]:
    due = rules.answer_by(row.kind, row.received_on)
    return {"dispute": row.dispute_ref, "loan_id": row.loan_ref, "kind": row.kind.value,
            "about": row.about.value, "channel": row.channel.value,
            "in_writing": row.channel in rules.WRITTEN,
            "received_at": chain.instant_text(row.received_at),
            "answer_by": due.isoformat() if due else None, **extra}


def _event(topic: str, row: DisputeRow, day: date, at: datetime, **extra: Any) -> Event:
    # For webhook subscribers: the register's facts, never the free-text notes.
    return Event(message_id=f"{topic}:{row.dispute_ref}", topic=topic, loan_id=row.loan_id,
                 business_date=day, created_at=at, payload=_payload(row, **extra))


def open_dispute(request: NewDispute, *, uow_factory: Callable[[], UnitOfWork], clock: Clock
                 ) -> DisputeRow:
    """Register a dispute as received: from `received_at` the loan's contact decisions see it
    (and, received in writing, US collection stops; PRC collection stops on any objection
    about the debt), the bureau marks the account, and no plan is offered."""
    kind = parse_enum(DisputeKind, request.kind, "--kind")
    channel = parse_enum(Channel, request.channel, "--channel")
    about = parse_enum(About, request.about, "--about")
    note = _note(request.note, "--note")
    received_at = _instant(request.received_at, "--received-at", clock.now())
    if not request.loan_ref.strip():
        raise DomainError("LOAN_ID", "must not be empty")
    with uow_factory() as uow:
        booked = uow.book.get(request.loan_ref)
        if booked is None:
            raise DomainError("LOAN_ID", f"no loan {request.loan_ref!r}")
        jurisdiction = booked.loan.product.jurisdiction.upper()
        rules.check_kind(jurisdiction, kind, about)
        received_on = _day(jurisdiction, received_at)
        if received_on < booked.loan.disbursed_on:
            raise DomainError("--received-at", f"is before the loan was disbursed on "
                                               f"{booked.loan.disbursed_on}")
        ref = uow.disputes.add(DisputeRow(
            id=0, dispute_ref="", loan_id=booked.id, loan_ref=request.loan_ref,
            borrower_id=booked.borrower_id, jurisdiction=jurisdiction, kind=kind, about=about,
            channel=channel, received_at=received_at, received_on=received_on, note=note))
        stored = uow.disputes.get(ref)
        assert stored is not None
        evidence.record(uow, booked.borrower_id, "dispute_opened", received_at,
                        _payload(stored, note=note))
        uow.events.emit([_event("dispute.opened", stored, received_on, clock.now())])
        uow.commit()
    return stored


def answer_dispute(dispute_ref: str, *, outcome: str, sent_at: datetime | None = None,
                   note: str = "", uow_factory: Callable[[], UnitOfWork], clock: Clock
                   ) -> DisputeRow:
    """Record the answer sent (verification, the original creditor, the written reply): from
    `sent_at` (default now) collection may resume, and the bureau reports the outcome."""
    result = parse_enum(Outcome, outcome, "--outcome")
    text = _note(note, "--note")
    now = clock.now()
    at = _instant(sent_at if sent_at is not None else now, "--sent-at", now)
    with uow_factory() as uow:
        row = uow.disputes.get(dispute_ref, for_update=True)
        if row is None:
            raise DomainError("ID", f"no dispute {dispute_ref!r}")
        if row.outcome is not None:
            raise DomainError("ID", f"{dispute_ref} was already answered on {row.answered_on}")
        if at < row.received_at:
            raise DomainError("--sent-at", f"is before the dispute was received "
                                           f"({row.received_at.isoformat()})")
        answered = replace(row, outcome=result, answered_at=at,
                           answered_on=_day(row.jurisdiction, at), answer_note=text)
        uow.disputes.answer(answered)
        due = rules.answer_by(row.kind, row.received_on)
        assert answered.answered_on is not None
        evidence.record(uow, row.borrower_id, "dispute_answered", at, _payload(
            answered, outcome=result.value, sent_at=chain.instant_text(at), note=text,
            late=due is not None and answered.answered_on > due))
        uow.events.emit([_event("dispute.answered", answered, answered.answered_on, now,
                                outcome=result.value)])
        uow.commit()
    return answered


# --- reading -------------------------------------------------------------------------------


def dispute_document(row: DisputeRow, day: date | None = None,
                     objection_days: int = OBJECTION_DAYS) -> dict[str, Any]:
    due = rules.answer_by(row.kind, row.received_on, objection_days)
    document: dict[str, Any] = {
        "dispute_id": row.dispute_ref, "loan_id": row.loan_ref,
        "jurisdiction": row.jurisdiction, "kind": row.kind.value, "about": row.about.value,
        "channel": row.channel.value, "in_writing": row.channel in rules.WRITTEN,
        "received_at": row.received_at.isoformat(), "received_on": row.received_on.isoformat(),
        "answer_by": due.isoformat() if due else None, "note": row.note or None,
        "outcome": row.outcome.value if row.outcome else None,
        "answered_at": row.answered_at.isoformat() if row.answered_at else None,
        "answered_on": row.answered_on.isoformat() if row.answered_on else None,
        "answer_note": row.answer_note or None,
    }
    if day is not None:
        document["overdue"] = rules.overdue(row.kind, row.received_on, row.answered_on, day,
                                            objection_days)
    return document


def list_disputes(*, loan_ref: str | None = None, open_only: bool = False,
                  overdue_on: date | None = None, objection_days: int = OBJECTION_DAYS,
                  uow_factory: Callable[[], UnitOfWork]) -> list[dict[str, Any]]:
    """Disputes in the order received; with `overdue_on`, only objections still unanswered at
    its end past their reply deadline (CN-23)."""
    with uow_factory() as uow:
        if loan_ref is not None and uow.book.get(loan_ref) is None:
            raise DomainError("--loan", f"no loan {loan_ref!r}")
        rows = uow.disputes.listed(loan_ref=loan_ref, open_only=open_only)
    if overdue_on is None:
        return [dispute_document(row) for row in rows]
    return [dispute_document(row, overdue_on, objection_days) for row in rows
            if rules.overdue(row.kind, row.received_on, row.answered_on, overdue_on,
                             objection_days)]


def disputed(uow: UnitOfWork, loan_ref: str) -> bool:
    """The debt itself is under an unanswered dispute (an objection about a credit record
    alone is not a dispute of the debt)."""
    return any(row.about is About.DEBT
               for row in uow.disputes.listed(loan_ref=loan_ref, open_only=True))


@dataclass(frozen=True, slots=True)
class RegisteredDisputes:
    """The register as credit reporting reads it (`application.bureau.Disputes`)."""

    by_loan: Mapping[str, tuple[BureauDispute, ...]]

    def disputes_of(self, loan_ref: str) -> tuple[BureauDispute, ...]:
        return self.by_loan.get(loan_ref, ())


def reported(row: DisputeRow) -> BureauDispute:
    """A dispute as the bureau reports it: open until answered; an answer that corrected the
    book re-sends the months since it opened, any other answer removes the mark."""
    return BureauDispute(
        opened_on=row.received_on, answered_on=row.answered_on,
        in_writing=row.channel in rules.WRITTEN,
        kind=(ReportedOutcome.CORRECTED if row.outcome is Outcome.CORRECTED
              else ReportedOutcome.VERIFIED))


def bureau_disputes(*, uow_factory: Callable[[], UnitOfWork], loan_ref: str | None = None
                    ) -> Disputes:
    """Every dispute of the book (or of one loan), read once, for a bureau run."""
    with uow_factory() as uow:
        rows = uow.disputes.listed(loan_ref=loan_ref)
    by_loan: dict[str, list[BureauDispute]] = {}
    for row in rows:
        by_loan.setdefault(row.loan_ref, []).append(reported(row))
    return RegisteredDisputes({ref: tuple(found) for ref, found in by_loan.items()})
