"""A seasoned demo book: the histories of loans disbursed before the demo starts, computed in
closed form, and written to the book in bulk as the services would have written them
(`board`).

`history` gives what `demo_history.replay` gives (same changes, payments, events and final
state; property tests hold them equal) some twenty times faster. The demo's borrowers
pay either everything due or, with nothing due, the next installment ahead (held as credit
until it falls due), so between payments an installment is untouched or wholly paid, its
penalty and compound are days × one day's increment, and DPD counts up one a day from the
earliest unpaid due date: each figure end-of-day records follows from the payment days. A step
outside that — a payoff, a recovery, money ahead of the last installment (which settles the
loan), a payment while credit is held — is handed to `replay` from where the loan stands.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from itertools import accumulate
from typing import Protocol

from arrears.application.demo_history import (
    DUE,
    PLACEHOLDER_ID,
    Change,
    History,
    Planned,
    month_end,
    resume,
)
from arrears.application.loan_import import LoanRow
from arrears.application.ports import BookedLoan, Clock, Event, LoanUpdate, UnitOfWork
from arrears.application.transitions import bucket_changed, loan_written_off
from arrears.domain import accrual, ledger
from arrears.domain.delinquency import BUCKETS, DAYS_PER_BUCKET, Bucket, LoanStatus
from arrears.domain.disclosure import upfront_fee
from arrears.domain.ledger import INCOME_OF, RECEIVABLES, Account
from arrears.domain.loan import InstallmentState, Loan, LoanState, PaymentApplied, initial_state
from arrears.domain.product import EarlyPayment

ONE_DAY = timedelta(days=1)
CROSSINGS = tuple(1 + DAYS_PER_BUCKET * k for k in range(len(BUCKETS) - 1))
"""Days past the earliest unpaid due date on which a loan enters M1, M2 … M7+."""
PRINCIPAL, INTEREST, FEE, PENALTY, COMPOUND = range(5)
Position = tuple[tuple[int, ...], tuple[int, ...], int, bool]
"""(receivable by `RECEIVABLES`, received by `RECEIVABLES`, credit, written off): what
`ledger.position` gives, as plain numbers."""


def postings(before: Position, after: Position) -> tuple[tuple[Account, int], ...]:
    """`ledger.postings` between two positions of a loan no plan has touched."""
    owed_before, paid_before, credit_before, off_before = before
    owed, paid, credit, off = after
    received = [a - b for a, b in zip(paid, paid_before, strict=True)]
    total = sum(received)
    amounts: dict[Account, int] = {Account.CASH: total + credit - credit_before,
                                   Account.CREDIT: credit_before - credit}
    if off_before:
        amounts[Account.RECOVERY] = -total
    else:
        for index, account in enumerate(RECEIVABLES):
            moved = owed[index] - owed_before[index]
            gained = moved + received[index]
            amounts[account] = amounts.get(account, 0) + moved
            income = _INCOME[index]
            amounts[income] = amounts.get(income, 0) - gained
        if off:
            for index, account in enumerate(RECEIVABLES):
                amounts[account] -= owed[index]
            amounts[Account.WRITE_OFF] = sum(owed)
    return tuple(sorted((a, v) for a, v in amounts.items() if v))


_INCOME = tuple(INCOME_OF.get(account, Account.CASH) for account in RECEIVABLES)


@lru_cache(maxsize=16)
def _daily_rate(annual_rate: Decimal, year_days: int) -> tuple[int, int]:
    """(numerator, denominator) of one day's accrual per minor unit, in sub-minor units."""
    numerator, denominator = accrual.rate_fraction(annual_rate)
    return numerator * accrual.SUB_MINOR_PER_MINOR, denominator * year_days


def _increment(base: int, rate: tuple[int, int]) -> int:
    """`accrual.daily_increment(base, …)` with the product's rate read once."""
    top, bottom = rate
    return (2 * base * top + bottom) // (2 * bottom) if base > 0 else 0


class _Loan:
    """One loan in closed form. A state is read at (as of, paid through): the end of `as_of`,
    with the payments of `paid_through` applied (a payment's state keeps the date before it).
    """

    def __init__(self, loan: Loan, write_off_dpd: int, at: datetime) -> None:
        self.loan = loan
        self.write_off_dpd = write_off_dpd
        self.at = at
        product = loan.product
        self.opening = initial_state(loan)
        rows = self.opening.installments
        self.due = [row.due_date for row in rows]
        self.amounts = [(row.principal, row.interest, row.fee) for row in rows]
        rate = _daily_rate(product.penalty_rate, product.day_count.year_days)
        self.daily = [(_increment(row.principal, rate),
                       _increment(row.interest, rate) if product.compound else 0)
                      for row in rows]
        self.grace = timedelta(days=product.grace_days)
        self.rounding = product.rounding
        # Sums over installments from each index on (principal) or before it (the others).
        self.principal_from = list(accumulate(row.principal for row in reversed(rows)))[::-1]
        self.principal_from.append(0)
        self.interest_before = [0, *accumulate(row.interest for row in rows)]
        self.fee_before = [0, *accumulate(row.fee for row in rows)]
        # What the installments before `first_unpaid` (all paid) received and accrued.
        self.received: tuple[int, int, int, int, int] = (0, 0, 0, 0, 0)
        self.paid_accrued = (0, 0)
        # The day each installment is paid in full (None: not yet), and whether within grace.
        self.paid_on: list[date | None] = [None] * len(rows)
        self.closed = [False] * len(rows)
        self.credit_for: int | None = None  # the installment credit held waits for
        self.credit = 0
        self.written_off: date | None = None
        self.first_unpaid = 0
        # What the book holds: the state's (as of, paid through) and its figures.
        self.stored = (loan.disbursed_on - ONE_DAY, loan.disbursed_on - ONE_DAY)
        self.status, self.dpd, self.bucket = LoanStatus.CURRENT, 0, Bucket.C
        self.position, self.accrued = self._position(self.stored[0])
        self.day = self.stored[0]  # end-of-day has closed the loan through
        self.changes = [self._boarding()]
        self.payments: list[tuple[PaymentApplied, bool]] = []
        self.events: list[Event] = []

    def _boarding(self) -> Change:
        """`demo_history.boarding`: the disbursement and its upfront fee."""
        amounts = dict(postings(((0,) * 5, (0,) * 5, 0, False), self.position))
        for account, amount in ledger.disbursement_postings(
                upfront_fee(self.loan.principal, self.loan.product)):
            amounts[account] = amounts.get(account, 0) + amount
        return Change(entry=f"board:{self.loan.loan_id}", day=self.loan.disbursed_on,
                      postings=tuple(sorted((a, v) for a, v in amounts.items() if v)))

    # --- the state in closed form ----------------------------------------------------------

    def _unpaid(self, index: int, paid_through: date) -> bool:
        paid_on = self.paid_on[index]
        return paid_on is None or paid_on > paid_through

    def _accrued(self, index: int, as_of: date, paid_through: date) -> tuple[int, int]:
        """(penalty, compound) accrued on an installment by the end of `as_of`."""
        paid_on = self.paid_on[index]
        if paid_on is not None and paid_on <= paid_through:
            if self.closed[index]:
                return 0, 0
            last = paid_on - ONE_DAY  # a payment comes before its day's accrual
        else:
            last = as_of if self.written_off is None else min(as_of, self.written_off)
        days = (last - self.due[index]).days
        if days <= 0:
            return 0, 0
        penalty, compound = self.daily[index]
        return days * penalty, days * compound

    def _paid(self, index: int) -> None:
        """Installment `index`, the first unpaid, is paid (its payment is in `paid_on`)."""
        paid_on = self.paid_on[index]
        assert paid_on is not None
        penalty, compound = self._accrued(index, paid_on, paid_on)
        principal, interest, fee = self.amounts[index]
        received = self.received
        self.received = (received[0] + principal, received[1] + interest, received[2] + fee,
                         received[3] + accrual.to_minor(penalty, self.rounding),
                         received[4] + accrual.to_minor(compound, self.rounding))
        self.paid_accrued = (self.paid_accrued[0] + penalty, self.paid_accrued[1] + compound)
        self.first_unpaid = index + 1

    def _position(self, as_of: date) -> tuple[Position, tuple[int, int]]:
        """The position of the state at the end of `as_of` (installments before
        `first_unpaid` paid, the others not) and its penalty and compound accrued."""
        first = self.first_unpaid
        due = self.due[first:first + bisect_right(self.due, as_of, lo=first) - first]
        overdue = bisect_left(due, as_of)  # these accrue
        charged = bisect_left(due, as_of + ONE_DAY - self.grace)  # and these are chargeable
        last = as_of if self.written_off is None else min(as_of, self.written_off)
        penalty = compound = owed_penalty = owed_compound = 0
        for offset in range(overdue):
            days = (last - due[offset]).days
            one, other = self.daily[first + offset]
            one, other = days * one, days * other
            penalty += one
            compound += other
            if offset < charged:
                owed_penalty += accrual.to_minor(one, self.rounding)
                owed_compound += accrual.to_minor(other, self.rounding)
        end = first + len(due)
        receivable = (self.principal_from[first],
                      self.interest_before[end] - self.interest_before[first],
                      self.fee_before[end] - self.fee_before[first], owed_penalty, owed_compound)
        credit = self.credit if self.credit_for is not None else 0
        off = self.written_off is not None and self.written_off <= as_of
        return ((receivable, self.received, credit, off),
                (self.paid_accrued[0] + penalty, self.paid_accrued[1] + compound))

    def state(self) -> LoanState:
        """The state the book holds (`LoanState`), from the closed form."""
        as_of, paid_through = self.stored
        rows: list[InstallmentState] = []
        for index, row in enumerate(self.opening.installments):
            penalty, compound = self._accrued(index, as_of, paid_through)
            if self._unpaid(index, paid_through):
                rows.append(replace(row, penalty_accrued=penalty, compound_accrued=compound)
                            if penalty or compound else row)
            else:
                rows.append(replace(
                    row, paid_principal=row.principal, paid_interest=row.interest,
                    paid_fee=row.fee, penalty_accrued=penalty,
                    penalty_paid=accrual.to_minor(penalty, self.rounding),
                    compound_accrued=compound,
                    compound_paid=accrual.to_minor(compound, self.rounding)))
        overdue = next((self.due[i] for i in range(len(rows))
                        if self.due[i] < as_of and self._unpaid(i, paid_through)), None)
        credit = self.credit if self.credit_for is not None and self._unpaid(
            self.credit_for, paid_through) else 0
        return replace(self.opening, as_of=as_of, installments=tuple(rows), unapplied=credit,
                       delinquent_since=None if overdue is None or paid_through > as_of
                       else overdue + ONE_DAY)

    def booked(self) -> BookedLoan:
        loan = self.loan if self.written_off is None else replace(
            self.loan, written_off_on=self.written_off)
        return BookedLoan(id=PLACEHOLDER_ID, borrower_id=0, product_code="", loan=loan,
                          state=self.state(), status=self.status, dpd=self.dpd,
                          bucket=self.bucket)

    # --- recording --------------------------------------------------------------------------

    def _record(self, entry: str, day: date, stored: tuple[date, date], status: LoanStatus,
                dpd: int, bucket: Bucket, events: list[Event],
                record_accrual: bool) -> None:
        position, accrued = self._position(stored[0])
        moved = (self.bucket, bucket, dpd) if bucket != self.bucket else None
        penalty = compound = 0
        if record_accrual:
            penalty, compound = accrued[0] - self.accrued[0], accrued[1] - self.accrued[1]
        self.accrued = accrued
        found = postings(self.position, position)
        if found or penalty or compound or moved:
            self.changes.append(Change(entry=entry, day=day, postings=found, penalty=penalty,
                                       compound=compound, moved=moved))
        if moved:
            events.insert(0, bucket_changed(PLACEHOLDER_ID, self.loan.loan_id, entry, day,
                                            self.at, self.bucket, bucket, dpd))
        self.events += events
        self.position = position
        self.stored = stored
        self.status, self.dpd, self.bucket = status, dpd, bucket

    # --- end-of-day --------------------------------------------------------------------------

    def close_through(self, target: date) -> None:
        """End-of-day of every date through `target` that touches the loan."""
        while self.day < target and self.status in (LoanStatus.CURRENT, LoanStatus.OVERDUE):
            index = self.first_unpaid
            waits_for = self.due[index]
            if waits_for > target:
                return
            first = max(self.day + ONE_DAY, waits_for)
            if self.credit_for == index:  # the credit pays it, the day it falls due
                self.credit_for, self.credit = None, 0
                self._paid(index)
                self.day = first
                following = self.due[self.first_unpaid] \
                    if self.first_unpaid < len(self.due) else None
                if following is None:
                    self._close(first, LoanStatus.SETTLED, 0)
                elif first in (target, month_end(first)) or following > first + ONE_DAY:
                    self._close(first, LoanStatus.CURRENT, 0)
                continue
            self._overdue_through(waits_for, first, target)

    def _overdue_through(self, earliest: date, first: date, target: date) -> None:
        """End-of-day from `first` through `target` while the installment due on `earliest`
        stays unpaid: a record on each month's last day, each bucket crossing and the
        write-off, and on `target`."""
        write_off = earliest + timedelta(days=self.write_off_dpd)
        marks = {target, write_off, *(earliest + timedelta(days=n) for n in CROSSINGS)}
        day = month_end(first)
        while day < target:
            marks.add(day)
            day = month_end(day + ONE_DAY)
        for day in sorted(mark for mark in marks if first <= mark <= target):
            dpd = max(0, (day - earliest).days)
            if day == write_off:
                self.written_off = day
                self.day = day
                self._close(day, LoanStatus.WRITTEN_OFF, dpd)
                return
            self.day = day
            self._close(day, LoanStatus.OVERDUE if dpd else LoanStatus.CURRENT, dpd)

    def _close(self, day: date, status: LoanStatus, dpd: int) -> None:
        entry = f"eod:{day.isoformat()}:{self.loan.loan_id}"
        bucket = BUCKETS[min((dpd + DAYS_PER_BUCKET - 1) // DAYS_PER_BUCKET, len(BUCKETS) - 1)]
        events: list[Event] = []
        if status is LoanStatus.WRITTEN_OFF:
            unpaid = sum(self.amounts[i][0] for i in range(len(self.amounts))
                         if self._unpaid(i, day))
            events.append(loan_written_off(PLACEHOLDER_ID, self.loan.loan_id, entry, day,
                                            self.at, unpaid, dpd))
        self._record(entry, day, (day, day), status, dpd, bucket, events, record_accrual=True)

    # --- payments ----------------------------------------------------------------------------

    def pay(self, planned: Planned) -> bool:
        """Post the payment if it is one the closed form covers (False otherwise, with
        nothing changed); end-of-day has closed the day before."""
        day = planned.day
        if self.status is LoanStatus.SETTLED:
            return True  # a settled loan owes nothing: whatever the kind, nothing is paid
        if planned.kind != DUE or self.credit_for is not None or \
                self.status is not LoanStatus.CURRENT and self.status is not LoanStatus.OVERDUE:
            return False
        rows = [i for i in range(self.first_unpaid, len(self.due)) if self.due[i] <= day]
        if rows:
            self._pay_due(planned, rows)
            return True
        index = self.first_unpaid
        if index == len(self.due) - 1 or \
                self.loan.product.early_payment is not EarlyPayment.HOLD:
            return False  # money ahead of the last installment settles the loan: `replay`
        amount = sum(self.amounts[index])
        if amount >= sum(principal for principal, _, _ in self.amounts[index:]):
            return False  # it might reach the payoff: `replay`
        self.credit_for, self.credit = index, amount
        self.paid_on[index], self.closed[index] = self.due[index], True  # on its due date
        self._posted(planned, amount, PaymentApplied(
            key=planned.key, on=day, amount=amount, to_fee=0, to_penalty=0, to_compound=0,
            to_interest=0, to_principal=0, to_credit=amount), LoanStatus.CURRENT)
        return True

    def _pay_due(self, planned: Planned, rows: list[int]) -> None:
        day = planned.day
        before = day - ONE_DAY
        totals = [0] * 5
        for index in rows:
            principal, interest, fee = self.amounts[index]
            totals[PRINCIPAL] += principal
            totals[INTEREST] += interest
            totals[FEE] += fee
            if day > self.due[index] + self.grace:
                penalty, compound = self._accrued(index, before, before)
                totals[PENALTY] += accrual.to_minor(penalty, self.rounding)
                totals[COMPOUND] += accrual.to_minor(compound, self.rounding)
            else:
                self.closed[index] = True
            self.paid_on[index] = day
            self._paid(index)
        settled = self.first_unpaid == len(self.due)
        self._posted(planned, sum(totals), PaymentApplied(
            key=planned.key, on=day, amount=sum(totals), to_fee=totals[FEE],
            to_penalty=totals[PENALTY], to_compound=totals[COMPOUND],
            to_interest=totals[INTEREST], to_principal=totals[PRINCIPAL], to_credit=0),
            LoanStatus.SETTLED if settled else LoanStatus.CURRENT)

    def _posted(self, planned: Planned, amount: int, applied: PaymentApplied,
                status: LoanStatus) -> None:
        day = planned.day
        self.payments.append((applied, False))
        event = Event(
            message_id=f"payment.posted:{planned.key}", topic="payment.posted",
            loan_id=PLACEHOLDER_ID, business_date=day, created_at=self.at,
            payload={"loan_id": self.loan.loan_id, "key": planned.key,
                     "on": day.isoformat(), "amount": amount,
                     "to_principal": applied.to_principal, "to_credit": applied.to_credit})
        self._record(f"pay:{planned.key}", day, (day - ONE_DAY, day), status, 0, Bucket.C,
                     [event], record_accrual=False)
        self.day = day - ONE_DAY


def history(loan: Loan, plan: Sequence[Planned], through: date, write_off_dpd: int,
            at: datetime) -> History:
    """`demo_history.replay(loan, plan, through, write_off_dpd, at)`, in closed form as far
    as it goes (see the module docstring)."""
    fast = _Loan(loan, write_off_dpd, at)
    ordered = sorted((p for p in plan if p.day <= through), key=lambda p: p.day)
    for position, planned in enumerate(ordered):
        fast.close_through(planned.day - ONE_DAY)
        if not fast.pay(planned):
            return resume(fast.booked(), fast.day, fast.changes, fast.payments, fast.events,
                          ordered[position:], through, write_off_dpd, at)
    fast.close_through(through)
    booked = fast.booked()
    return History(loan=booked.loan, state=booked.state, status=booked.status,
                   dpd=booked.dpd, bucket=booked.bucket, changes=tuple(fast.changes),
                   payments=tuple(fast.payments), events=tuple(fast.events))


@dataclass(frozen=True, slots=True, kw_only=True)
class HistoryRows:
    """What histories add to the book beside their loans (`LoanBook.add_loans`), with the
    loans' database ids: payments (loan, how applied, recovery?), ledger postings (entry,
    loan, date, account, amount), accruals (loan, date, penalty, compound), bucket changes
    (loan, date, from, to, DPD) and outbox events."""

    payments: list[tuple[int, PaymentApplied, bool]]
    postings: list[tuple[str, int, date, str, int]]
    accruals: list[tuple[int, date, int, int]]
    changes: list[tuple[int, date, str, str, int]]
    events: list[Event]
    recorded_at: datetime


class HistoryStore(Protocol):
    def add(self, rows: HistoryRows) -> None:
        """Insert every row in the unit of work's transaction."""
        ...


class SeasoningUnitOfWork(UnitOfWork, Protocol):
    history: HistoryStore


LOANS_PER_TRANSACTION = 2000


def board(loans: Sequence[tuple[LoanRow, Sequence[Planned]]], through: date,
          write_off_dpd: int, *, uow_factory: Callable[[], SeasoningUnitOfWork],
          clock: Clock) -> int:
    """Board loans disbursed on or before `through` (the book's closed date) with their
    histories through it: each as boarded on its disbursement date, paid by its plan and
    closed by end-of-day every date since. Returns the number boarded."""
    at = clock.now()
    with uow_factory() as uow:
        products = uow.book.products()
    for start in range(0, len(loans), LOANS_PER_TRANSACTION):
        chunk = loans[start:start + LOANS_PER_TRANSACTION]
        found = [history(Loan(loan_id=row.loan_ref, currency=row.currency,
                              principal=row.principal, disbursed_on=row.disbursed_on,
                              terms=row.terms, product=products[row.product_code]),
                         plan, through, write_off_dpd, at) for row, plan in chunk]
        with uow_factory() as uow:
            _write(uow, [row for row, _ in chunk], found, at)
            uow.commit()
    return len(loans)


def _write(uow: SeasoningUnitOfWork, rows: Sequence[LoanRow], histories: Sequence[History],
           at: datetime) -> None:
    borrowers = uow.book.add_borrowers([row.borrower for row in rows])
    updates = []
    for row, found in zip(rows, histories, strict=True):
        board_entry = found.changes[0]
        booked = BookedLoan(id=0, borrower_id=borrowers[row.borrower.borrower_ref],
                            product_code=row.product_code, loan=found.loan, state=found.state,
                            status=found.status, dpd=found.dpd, bucket=found.bucket)
        updates.append(LoanUpdate(booked=booked, loan=found.loan, state=found.state,
                                  status=found.status, dpd=found.dpd, bucket=found.bucket,
                                  entry=board_entry.entry, business_date=board_entry.day,
                                  postings=board_entry.postings))
    ids = uow.book.add_loans(updates)
    added = HistoryRows(payments=[], postings=[], accruals=[], changes=[], events=[],
                        recorded_at=at)
    for loan_id, found in zip(ids, histories, strict=True):
        added.payments.extend((loan_id, applied, recovery)
                              for applied, recovery in found.payments)
        for change in found.changes[1:]:
            added.postings.extend((change.entry, loan_id, change.day, account.value, amount)
                                  for account, amount in change.postings)
            if change.penalty or change.compound:
                added.accruals.append((loan_id, change.day, change.penalty, change.compound))
            if change.moved is not None:
                before, after, dpd = change.moved
                added.changes.append((loan_id, change.day, before.value, after.value, dpd))
        added.events.extend(replace(event, loan_id=loan_id) for event in found.events)
    uow.history.add(added)
