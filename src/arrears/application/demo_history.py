"""The history of a demo loan disbursed before the demo starts: what boarding it, its
borrower's payments and end-of-day up to the start would have written to the book.

`replay` takes a loan through the services' steps with the domain's own functions: boarded on
its disbursement date (`servicing.board_rows`), paid as its borrower's plan says
(`payments.price`), and closed by end-of-day (`advance`, `transitions.change`) on each date it
has something due or overdue, written off at the demo's threshold. What it records is what
those steps write, at a coarser grain: the end-of-day entries of a run of dates (ledger
postings, accrual) are gathered into one, dated the run's last date, and a run ends on the
last day of each month, on a date the loan changes bucket or is written off, on the day before
a payment and on the last date the loan is touched before it goes quiet (nothing due). So the
balances, the totals of each month, the bucket changes, write-offs, payments and recoveries
are those of a day-by-day run, and so is the state the book holds at the end
(`tests/integration/test_demo_history.py` runs both).
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from arrears.application.handlers import payments
from arrears.application.handlers.eod import current_state
from arrears.application.ports import BookedLoan, Event, LoanUpdate
from arrears.application.transitions import change
from arrears.domain import ledger
from arrears.domain.delinquency import BUCKETS, DAYS_PER_BUCKET, Bucket, LoanStatus
from arrears.domain.disclosure import upfront_fee
from arrears.domain.loan import (
    Loan,
    LoanState,
    Payment,
    PaymentApplied,
    advance,
    due_on,
    initial_state,
    summarize,
)

ONE_DAY = timedelta(days=1)
PLACEHOLDER_ID = -1
"""The database id a history's events carry until the loan is in the book."""
ACTIVE = (LoanStatus.CURRENT, LoanStatus.OVERDUE)
DUE, PAYOFF, RECOVERY = "due", "payoff", "recovery"


@dataclass(frozen=True, slots=True, kw_only=True)
class Planned:
    """A payment a borrower means to make on `day`: `kind` DUE (what is due, or the next
    installment when nothing is), PAYOFF, or RECOVERY (`percent` of what they owe)."""

    day: date
    kind: str
    key: str
    percent: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class Change:
    """One change as the book records it: a ledger entry, the penalty and compound accrued
    in it (sub-minor units) and, when the loan moved bucket, (from, to, DPD)."""

    entry: str
    day: date
    postings: tuple[tuple[ledger.Account, int], ...]
    penalty: int = 0
    compound: int = 0
    moved: tuple[Bucket, Bucket, int] | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class History:
    """A loan from its boarding through a date: the loan (with its write-off date), the state
    the book holds then with its figures, its changes in order (boarding first), its payments
    (each with whether it was a recovery) and the events raised, which carry
    `PLACEHOLDER_ID` for the loan's id."""

    loan: Loan
    state: LoanState
    status: LoanStatus
    dpd: int
    bucket: Bucket
    changes: tuple[Change, ...]
    payments: tuple[tuple[PaymentApplied, bool], ...]
    events: tuple[Event, ...]


def month_end(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def boarding(loan: Loan, at: datetime) -> Change:
    """The entry `servicing.board_rows` posts for a loan boarded on its disbursement date."""
    state = initial_state(loan)
    booked = BookedLoan(id=0, borrower_id=0, product_code="", loan=loan, state=state,
                        status=LoanStatus.CURRENT, dpd=0, bucket=Bucket.C)
    update = change(booked, loan, state, entry=f"board:{loan.loan_id}",
                    business_date=loan.disbursed_on, at=at, before=ledger.opening_position(),
                    extra_postings=ledger.disbursement_postings(
                        upfront_fee(loan.principal, loan.product))).update
    return Change(entry=update.entry, day=loan.disbursed_on, postings=update.postings)


def next_installment(state: LoanState, day: date) -> int:
    """What the next installment after `day` still asks for (a borrower paying ahead)."""
    for row in state.installments:
        if row.due_date > day and not row.is_paid:
            return row.unpaid_principal + row.unpaid_interest + row.unpaid_fee
    return 0


def amount_of(loan: Loan, state: LoanState, planned: Planned) -> int:
    """What the borrower pays on `planned.day`, from the loan's state at the end of the day
    before (minor units; 0 when there is nothing to pay)."""
    if planned.kind == PAYOFF:
        return summarize(loan, state).payoff_amount
    if planned.kind == RECOVERY:
        return summarize(loan, state).payoff_amount * planned.percent // 100
    return due_on(loan, state, planned.day) or next_installment(state, planned.day)


def earliest_unpaid(state: LoanState) -> date | None:
    """The due date end-of-day waits for (`loan.earliest_unpaid_due_on` in the book)."""
    return min((row.due_date for row in state.installments if not row.is_paid), default=None)


class _Replay:
    """One loan taken through the services' steps (see the module docstring)."""

    def __init__(self, booked: BookedLoan, day: date, write_off_dpd: int, at: datetime,
                 changes: Sequence[Change]) -> None:
        self.write_off_dpd = write_off_dpd
        self.at = at
        self.booked = booked
        self.changes = list(changes)
        self.payments: list[tuple[PaymentApplied, bool]] = []
        self.events: list[Event] = []
        # End-of-day has taken the loan through `day`, to `state` (ahead of what the book
        # holds, `booked`, until the run of dates is recorded).
        self.day = day
        self.state = booked.state

    def close_through(self, target: date) -> None:
        """End-of-day of every date through `target` that touches the loan."""
        loan = self.booked.loan
        while self.day < target and self.booked.status in ACTIVE:
            waits_for = earliest_unpaid(self.state)
            if waits_for is None or waits_for > target:
                return
            first = max(self.day + ONE_DAY, waits_for)
            day = min(self._checkpoints(first, target))
            state = advance(loan, self.state, [], day, opened=True)[0]
            summary = summarize(loan, state)
            written_off = loan.written_off_on is None and summary.dpd >= self.write_off_dpd
            if written_off:
                loan = replace(loan, written_off_on=day)
            self.day, self.state = day, state
            following = earliest_unpaid(state)
            if written_off or day in (target, month_end(day)) or \
                    summary.bucket != self.booked.bucket or following is None or \
                    following > day + ONE_DAY:
                self._record(loan, day)

    def _checkpoints(self, first: date, target: date) -> list[date]:
        """Dates from `first` on where the loan's DPD stops counting up one a day, may cross a
        bucket or the write-off threshold, or the run must end: between two of them nothing
        but accrual happens."""
        found = [target, month_end(first)]
        for row in self.state.installments:
            if not row.is_paid and row.due_date + ONE_DAY >= first:
                found += [row.due_date, row.due_date + ONE_DAY]
        overdue = [row.due_date for row in self.state.installments
                   if row.due_date < first and not row.is_paid]
        if overdue:
            start = overdue[0]
            found += [start + timedelta(days=1 + DAYS_PER_BUCKET * k)
                      for k in range(len(BUCKETS) - 1)]
            found.append(start + timedelta(days=self.write_off_dpd))
        return [day for day in found if first <= day <= target]

    def _record(self, loan: Loan, day: date) -> None:
        moved = change(self.booked, loan, self.state,
                       entry=f"eod:{day.isoformat()}:{loan.loan_id}", business_date=day,
                       at=self.at, record_accrual=True)
        self._write(moved.update, moved.events)

    def _write(self, update: LoanUpdate, events: Sequence[Event]) -> None:
        """What the book writes for `update`, and the loan as it holds it afterwards."""
        before = self.booked
        moved = (before.bucket, update.bucket, update.dpd) \
            if update.bucket != before.bucket else None
        if update.postings or update.accrued_penalty or update.accrued_compound or moved:
            self.changes.append(Change(entry=update.entry, day=update.business_date,
                                       postings=update.postings,
                                       penalty=update.accrued_penalty,
                                       compound=update.accrued_compound, moved=moved))
        self.events.extend(events)
        self.booked = replace(before, loan=update.loan, state=update.state,
                              status=update.status, dpd=update.dpd, bucket=update.bucket)

    def pay(self, planned: Planned) -> None:
        """One payment on the open date `planned.day`, end-of-day having closed the day
        before."""
        day = planned.day
        if self.booked.status is LoanStatus.SETTLED:
            return  # a settled loan's total due and payoff are nothing (DESIGN §9)
        amount = amount_of(self.booked.loan, current_state(self.booked, day - ONE_DAY),
                           planned)
        if amount <= 0:
            return
        posting = payments.price(self.booked, Payment(key=planned.key, on=day, amount=amount),
                                 day, lambda: [], self.at)
        self.payments.append((posting.applied, posting.recovery))
        self._write(posting.moved.update, (*posting.moved.events, posting.event))
        self.state = self.booked.state
        self.day = day - ONE_DAY

    def history(self) -> History:
        booked = self.booked
        return History(loan=booked.loan, state=booked.state, status=booked.status,
                       dpd=booked.dpd, bucket=booked.bucket, changes=tuple(self.changes),
                       payments=tuple(self.payments), events=tuple(self.events))


def resume(booked: BookedLoan, day: date, changes: Sequence[Change],
           payments_made: Sequence[tuple[PaymentApplied, bool]], events: Sequence[Event],
           plan: Sequence[Planned], through: date, write_off_dpd: int, at: datetime
           ) -> History:
    """`replay` taken up from a loan the book holds as `booked`, end-of-day having closed
    it through `day`, with what its history recorded so far; `plan` is what is left of it."""
    steps = _Replay(booked, day, write_off_dpd, at, changes)
    steps.payments, steps.events = list(payments_made), list(events)
    return _run(steps, plan, through)


def replay(loan: Loan, plan: Sequence[Planned], through: date, write_off_dpd: int,
           at: datetime) -> History:
    """The loan's history through `through`, by the domain (see the module docstring);
    `plan` in the order the borrower pays."""
    booked = BookedLoan(id=PLACEHOLDER_ID, borrower_id=0, product_code="", loan=loan,
                        state=initial_state(loan), status=LoanStatus.CURRENT, dpd=0,
                        bucket=Bucket.C)
    steps = _Replay(booked, loan.disbursed_on - ONE_DAY, write_off_dpd, at,
                    [boarding(loan, at)])
    return _run(steps, plan, through)


def _run(steps: _Replay, plan: Sequence[Planned], through: date) -> History:
    for planned in sorted(plan, key=lambda p: p.day):  # stable: a day's payments keep order
        if planned.day > through:
            break
        steps.close_through(planned.day - ONE_DAY)
        steps.pay(planned)
    steps.close_through(through)
    return steps.history()
