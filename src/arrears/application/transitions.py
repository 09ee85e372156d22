"""One loan state change → the update the book writes: new figures, ledger entry, events."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from arrears.application.ports import BookedLoan, Event, LoanUpdate
from arrears.domain import ledger
from arrears.domain.delinquency import Bucket
from arrears.domain.loan import Loan, LoanState, summarize


@dataclass(frozen=True, slots=True, kw_only=True)
class Change:
    update: LoanUpdate
    events: tuple[Event, ...]


def change(
    booked: BookedLoan,
    loan: Loan,
    state: LoanState,
    *,
    entry: str,
    business_date: date,
    at: datetime,
    before: ledger.Position | None = None,
    extra_postings: tuple[tuple[ledger.Account, int], ...] = (),
    record_accrual: bool = False,
) -> Change:
    """The update from `booked` to (`loan`, `state`), with balanced postings and events."""
    summary = summarize(loan, state)
    start = ledger.position(booked.loan, booked.state) if before is None else before
    amounts: dict[ledger.Account, int] = {}
    for account, amount in ledger.postings(start, ledger.position(loan, state)) + extra_postings:
        amounts[account] = amounts.get(account, 0) + amount
    penalty = compound = 0
    if record_accrual:
        # Summed over every row: a plan can add and drop installments.
        for old in booked.state.installments:
            penalty -= old.penalty_accrued
            compound -= old.compound_accrued
        for new in state.installments:
            penalty += new.penalty_accrued
            compound += new.compound_accrued
    update = LoanUpdate(
        booked=booked, loan=loan, state=state, status=summary.status, dpd=summary.dpd,
        bucket=summary.bucket, entry=entry, business_date=business_date,
        postings=tuple(sorted((a, v) for a, v in amounts.items() if v)),
        accrued_penalty=penalty, accrued_compound=compound,
    )
    events: list[Event] = []
    if booked.id and summary.bucket != booked.bucket:
        events.append(bucket_changed(booked.id, booked.loan.loan_id, entry, business_date, at,
                                     booked.bucket, summary.bucket, summary.dpd))
    if loan.written_off_on is not None and booked.loan.written_off_on is None:
        events.append(loan_written_off(booked.id, booked.loan.loan_id, entry, business_date,
                                       at, summary.principal_outstanding, summary.dpd))
    return Change(update=update, events=tuple(events))


def bucket_changed(loan_id: int, loan_ref: str, entry: str, day: date, at: datetime,
                   before: Bucket, after: Bucket, dpd: int) -> Event:
    """The event of a loan moving from bucket `before` to `after` in the change `entry`."""
    return _event("loan.bucket_changed", loan_id, loan_ref, entry, day, at,
                  {"from": before.value, "to": after.value, "dpd": dpd})


def loan_written_off(loan_id: int, loan_ref: str, entry: str, day: date, at: datetime,
                     principal: int, dpd: int) -> Event:
    """The event of a loan written off in the change `entry`, with the principal it had."""
    return _event("loan.written_off", loan_id, loan_ref, entry, day, at,
                  {"principal": principal, "dpd": dpd})


def _event(topic: str, loan_id: int, loan_ref: str, entry: str, day: date, at: datetime,
           payload: dict[str, Any]) -> Event:
    # The entry names the loan and the date, so it is unique per change; hashed, it keeps the
    # message id short whatever the lender's loan ids look like.
    return Event(
        message_id=f"{topic}:{hashlib.sha256(entry.encode()).hexdigest()[:40]}",
        topic=topic, loan_id=loan_id, business_date=day, created_at=at,
        payload={"loan_id": loan_ref, "business_date": day.isoformat(), **payload},
    )
