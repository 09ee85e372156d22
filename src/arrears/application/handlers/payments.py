"""Posting and reversing payments: idempotent by key, every one a balanced ledger entry.

A payment dated the open business date is applied to the stored state. A back-dated one (or
a reversal) restates the loan by replaying its remaining payments from disbursement, and the
ledger posts the difference — history is never rewritten.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from arrears.application.handlers.eod import current_state
from arrears.application.ports import (
    BookedLoan,
    Clock,
    Event,
    LoanBook,
    StoredPayment,
    UnitOfWork,
)
from arrears.application.transitions import Change, change
from arrears.domain import ledger
from arrears.domain.errors import PaymentRejected
from arrears.domain.loan import (
    LoanState,
    Payment,
    PaymentApplied,
    advance,
    apply_payment,
    initial_state,
    restructure,
)

ONE_DAY = timedelta(days=1)
# Keys come from payment channels; entries and message ids built from them must fit the
# store's columns (`pay:KEY`, `payment.reversed:KEY`).
MAX_KEY_LENGTH = 60


def _check_key(key: str, field: str) -> None:
    if not key.strip():
        raise PaymentRejected(field, "must not be empty")
    if len(key) > MAX_KEY_LENGTH:
        raise PaymentRejected(field, f"must be at most {MAX_KEY_LENGTH} characters")


class KeyReused(PaymentRejected):
    """The idempotency key already names another posting (another loan, amount or date)."""


class DuplicateKeyRace(Exception):
    """The store refused a second payment with the same key (a concurrent retry)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class PaymentResult:
    payment_id: int
    loan_id: str
    duplicate: bool
    applied: PaymentApplied | None


def restate(booked: BookedLoan, payments: list[Payment], closed: date
            ) -> tuple[LoanState, tuple[PaymentApplied, ...]]:
    """The loan replayed from disbursement with `payments` and its plans: those dated up to
    the closed date through end-of-day; then the open day's plans, then its payments (the
    stored state of a book holds its open day's plans, see `loan.advance`)."""
    past = [p for p in payments if p.on <= closed]
    today = [p for p in payments if p.on > closed]
    state, applied = advance(booked.loan, initial_state(booked.loan), past, closed)
    for plan in booked.loan.plans:
        if plan.effective_on == closed + ONE_DAY:
            state = restructure(booked.loan, state, plan)
    for payment in today:
        state, one = apply_payment(booked.loan, state, payment)
        applied += (one,)
    return state, applied


def live_payments(book: LoanBook, booked: BookedLoan) -> list[Payment]:
    """The loan's payments that stand (neither reversals nor reversed), in posting order."""
    return standing(book.payments_of(booked.id))


def standing(stored: list[StoredPayment]) -> list[Payment]:
    """Of one loan's stored payments (in posting order), those that stand."""
    return [Payment(key=p.key, on=p.on, amount=p.amount, prepayment=p.prepayment)
            for p in stored if p.reverses_id is None and not p.reversed]


@dataclass(frozen=True, slots=True, kw_only=True)
class Posting:
    """What posting one payment does to a loan: its new state, how the money was applied,
    and the update and events to write."""

    state: LoanState
    applied: PaymentApplied
    moved: Change
    event: Event
    recovery: bool
    restated: bool


def price(booked: BookedLoan, payment: Payment, open_day: date,
          live: Callable[[], list[Payment]], at: datetime) -> Posting:
    """Post `payment` to `booked` on the book's open day, in memory: the one computation
    behind `post_payment` and each row of a payment file. A payment dated the open day is
    applied to the stored state; an earlier one restates the loan by replaying `live()` (its
    standing payments, in posting order) and this one from disbursement. `PaymentRejected`
    names the field of a payment the loan cannot take."""
    loan = booked.loan
    # While end-of-day runs, a loan it has closed already is at the open date itself.
    closed = max(open_day - ONE_DAY, booked.state.as_of)
    if payment.on < loan.disbursed_on:
        raise PaymentRejected("on", f"{payment.on} is before disbursement on "
                                    f"{loan.disbursed_on}")
    if payment.on > open_day:
        raise PaymentRejected("on", f"{payment.on} is after the open business date {open_day}")
    restated = payment.on != closed + ONE_DAY
    if not restated:
        state, applied = apply_payment(loan, current_state(booked, closed), payment)
    else:
        state, replay = restate(booked, live() + [payment], closed)
        applied = next(item for item in replay if item.key == payment.key)
    moved = change(booked, loan, state, entry=f"pay:{payment.key}", business_date=open_day,
                   at=at)
    return Posting(state=state, applied=applied, moved=moved,
                   event=payment_posted(booked.id, loan.loan_id, applied, open_day, at),
                   recovery=loan.written_off_on is not None, restated=restated)


def payment_posted(loan_id: int, loan_ref: str, applied: PaymentApplied, open_day: date,
                   at: datetime) -> Event:
    """The event of a payment posted on the book's open day."""
    return Event(
        message_id=f"payment.posted:{applied.key}", topic="payment.posted", loan_id=loan_id,
        business_date=open_day, created_at=at,
        payload={"loan_id": loan_ref, "key": applied.key, "on": applied.on.isoformat(),
                 "amount": applied.amount, "to_principal": applied.to_principal,
                 "to_credit": applied.to_credit})


def post_payment(
    loan_ref: str, amount: int, on: date, key: str, *,
    uow_factory: Callable[[], UnitOfWork], clock: Clock,
    is_duplicate_key_error: Callable[[Exception], bool] = lambda _: False,
    prepayment: bool = False,
) -> PaymentResult:
    """Post a payment once per `key`. A retry with the same key and content is a no-op; the
    same key with other content is refused. A `prepayment` reduces future principal with
    what is left after everything due (DESIGN §9)."""
    if amount <= 0:
        raise PaymentRejected("amount", "must be positive")
    _check_key(key, "key")
    try:
        with uow_factory() as uow:
            result = _post(uow, loan_ref, amount, on, key, clock, prepayment)
            uow.commit()
            return result
    except Exception as error:
        if not is_duplicate_key_error(error):
            raise
    with uow_factory() as uow:  # a concurrent retry won the race: report its payment
        existing = uow.book.payment_by_key(key)
        booked = uow.book.get(loan_ref)
        if existing is None or booked is None:
            raise PaymentRejected("key", f"{key!r} could not be recorded; retry")
        return _duplicate(existing, booked.id, loan_ref, amount, on, key)


def _duplicate(existing: StoredPayment, loan_id: int, loan_ref: str, amount: int, on: date,
               key: str) -> PaymentResult:
    """A retry of a posted payment is a no-op; the same key for anything else is refused."""
    if (existing.loan_id, existing.amount, existing.on) != (loan_id, amount, on):
        raise KeyReused(
            "key", f"{key!r} was already used for {existing.amount} minor units on "
                   f"{existing.on} to another loan or amount")
    return PaymentResult(payment_id=existing.id, loan_id=loan_ref, duplicate=True,
                         applied=None)


def _post(uow: UnitOfWork, loan_ref: str, amount: int, on: date, key: str,
          clock: Clock, prepayment: bool) -> PaymentResult:
    book = uow.book
    booked = book.get(loan_ref, for_update=True)
    if booked is None:
        raise PaymentRejected("loan_id", f"no loan {loan_ref!r}")
    existing = book.payment_by_key(key)
    if existing is not None:
        return _duplicate(existing, booked.id, loan_ref, amount, on, key)
    closed_through = book.closed_through()
    if closed_through is None:
        raise PaymentRejected("on", "the book has no business date yet; run `arrears init`")
    posting = price(booked, Payment(key=key, on=on, amount=amount, prepayment=prepayment),
                    closed_through + ONE_DAY, lambda: live_payments(book, booked), clock.now())
    payment_id = book.add_payment(booked.id, posting.applied, clock.now(),
                                  recovery=posting.recovery, prepayment=prepayment)
    _write(book, posting.moved, posting.event)
    return PaymentResult(payment_id=payment_id, loan_id=loan_ref, duplicate=False,
                         applied=posting.applied)


def reverse_payment(
    key: str, reversal_key: str, *, uow_factory: Callable[[], UnitOfWork], clock: Clock
) -> PaymentResult:
    """Reverse the payment posted under `key` (a returned transfer, a chargeback): a new
    negative payment row and a restatement of the loan without it; nothing is updated."""
    _check_key(reversal_key, "reversal_key")
    with uow_factory() as uow:
        book = uow.book
        original = book.payment_by_key(key)
        if original is None or original.reverses_id is not None:
            raise PaymentRejected("key", f"no payment {key!r} to reverse")
        earlier = book.payment_by_key(reversal_key)
        if earlier is not None:
            if earlier.reverses_id != original.id:
                raise KeyReused("reversal_key",
                                f"{reversal_key!r} was already used for another posting")
            return PaymentResult(payment_id=earlier.id, loan_id="", duplicate=True, applied=None)
        if original.reversed:
            raise PaymentRejected("key", f"payment {key!r} is already reversed")
        booked = book.get_many([original.loan_id], for_update=True)[0]
        closed_through = book.closed_through()
        assert closed_through is not None
        open_day = closed_through + ONE_DAY
        closed = max(closed_through, booked.state.as_of)
        remaining = [p for p in live_payments(book, booked) if p.key != key]
        state, _ = restate(booked, remaining, closed)
        before, after = ledger.position(booked.loan, booked.state), ledger.position(
            booked.loan, state)
        received = {a: after.received[a] - before.received[a] for a in ledger.RECEIVABLES}
        applied = PaymentApplied(
            key=reversal_key, on=open_day, amount=-original.amount,
            to_fee=received[ledger.Account.FEE], to_penalty=received[ledger.Account.PENALTY],
            to_compound=received[ledger.Account.COMPOUND],
            to_interest=received[ledger.Account.INTEREST],
            to_principal=received[ledger.Account.PRINCIPAL],
            to_credit=after.credit - before.credit)
        moved = change(booked, booked.loan, state, entry=f"reverse:{reversal_key}",
                       business_date=open_day, at=clock.now(), before=before)
        payment_id = book.add_payment(booked.id, applied, clock.now(), reverses_id=original.id)
        _write(book, moved, Event(
            message_id=f"payment.reversed:{reversal_key}", topic="payment.reversed",
            loan_id=booked.id, business_date=open_day, created_at=clock.now(),
            payload={"loan_id": booked.loan.loan_id, "key": key, "amount": original.amount}))
        uow.commit()
        return PaymentResult(payment_id=payment_id, loan_id=booked.loan.loan_id,
                             duplicate=False, applied=applied)


def _write(book: LoanBook, moved: Change, *events: Event) -> None:
    book.apply([moved.update])
    book.emit(moved.events + events)
