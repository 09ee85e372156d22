"""The vectorised executor's fast path writes what the scalar `close_loan_day` writes, loan by
loan: the ledger entry, accrual, accrued totals, DPD, bucket, status and first delinquent day.

Each example is a book of random loans (tests/parity/parity_books.py) over a window of dates.
Every date each loan's payments are posted as the book posts them (`apply_payment` on the
stored state), and then, as a store would read it, its state goes through `plan_batch`
alongside `close_loan_day`. Some loans sit out a date now and then (a loan boarded while that
date closed is never chosen for it): their stored state is older than the day before, which
the fast path must leave to the domain unless nothing fell due meanwhile.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from arrears.adapters.db.columns import LOAN_COLUMNS, ROW_COLUMNS
from arrears.application.handlers.eod import close_loan_day, current_state
from arrears.application.ports import BookedLoan
from arrears.application.transitions import Change
from arrears.batch.columns import ProductCodes, day_number, from_day_number
from arrears.batch.executor import StateColumns, plan_batch
from arrears.batch.kernels import NEVER
from arrears.domain.delinquency import BUCKETS, LoanStatus
from arrears.domain.loan import (
    LoanState,
    Payment,
    advance,
    apply_payment,
    initial_state,
    state_on,
    summarize,
)
from arrears.domain.product import DEFAULT_WATERFALL, EarlyPayment

from builders import loan as make_loan
from fakes import FixedClock
from parity_books import ONE_DAY, Account, books
from strategies import GRACE_DAYS

WRITE_OFF_DPD = 90
CLOCK = FixedClock()


def _booked(acc: Account, day: date) -> BookedLoan:
    """The loan as the book stores it on `day` before its end-of-day: the day's payments
    posted to its state brought forward to the day before (a state left older than that
    stays as it is when nothing is posted)."""
    state = acc.state
    todays = [p for p in acc.payments if p.on == day]
    if todays:
        state = current_state(_stored(acc, state), day - ONE_DAY)
        for payment in todays:
            state, _ = apply_payment(acc.loan, state, payment)
    return _stored(acc, state)


def _stored(acc: Account, state: LoanState) -> BookedLoan:
    summary = summarize(acc.loan, state)
    return BookedLoan(id=acc.key, borrower_id=1, product_code="P", loan=acc.loan, state=state,
                      status=summary.status, dpd=summary.dpd, bucket=summary.bucket)


def _columns(book: list[BookedLoan], day: date) -> StateColumns:
    """What `SqlColumnStore.read_state` reads: the unpaid installments due by `day`."""
    codes = ProductCodes()
    names = ("loan_key", "number", "due_on", "unpaid_principal", "unpaid_interest",
             "unpaid_fee", "penalty_accrued", "compound_accrued", "penalty_paid",
             "compound_paid", "product", "prev_bucket", "written_off_on", "behind", "credit",
             "state_on", "planned", "due_since", "next_due_on")
    values: dict[str, list[int]] = {name: [] for name in names}
    for booked in book:
        state = booked.state
        held = state.unapplied > 0
        due_since = sum(state.as_of < row.due_date <= day for row in state.installments)
        later = [row.due_date for row in state.installments
                 if row.due_date > day and not row.is_paid]
        next_due_on = day_number(min(later)) if held and later else NEVER
        for row in state.installments:
            if row.due_date > day or row.is_paid:
                continue
            for name, value in zip(names, (
                    booked.id, row.number, day_number(row.due_date), row.unpaid_principal,
                    row.unpaid_interest, row.unpaid_fee, row.penalty_accrued,
                    row.compound_accrued, row.penalty_paid, row.compound_paid,
                    codes.code(booked.loan.product), BUCKETS.index(booked.bucket), NEVER, 0,
                    state.unapplied, day_number(state.as_of), int(bool(booked.loan.plans)),
                    due_since if held else 0, next_due_on),
                    strict=True):
                values[name].append(value)
    types = dict(ROW_COLUMNS + LOAN_COLUMNS)
    return StateColumns(columns={name: np.array(column, dtype=types[name])
                                 for name, column in values.items()},
                        products=codes.products,
                        product_codes=tuple(f"P{i}" for i in range(len(codes.products))))


def _check_fast_loan(position: int, write, booked: BookedLoan, expected: Change) -> None:
    update = expected.update
    loans = {name: column[position].item() for name, column in write.loans.items()}
    ledger = sorted((account, amount) for loan, account, amount in write.ledger()
                    if loan == booked.id)
    assert ledger == list(update.postings), booked.loan.loan_id
    assert (loans["penalty_increment"], loans["compound_increment"]) == (
        update.accrued_penalty, update.accrued_compound)
    assert (loans["dpd"], BUCKETS[loans["bucket"]], BUCKETS[loans["prev_bucket"]]) == (
        update.dpd, update.bucket, booked.bucket)
    assert (LoanStatus.OVERDUE if loans["dpd"] > 0 else LoanStatus.CURRENT) is update.status
    since = None if loans["overdue_since"] == NEVER else from_day_number(loans["overdue_since"])
    stored = booked.state.delinquent_since
    if since is not None:
        delinquent_since = min(stored or since, since)
    else:
        delinquent_since = None if booked.state.waived.total() == 0 else stored
    assert delinquent_since == update.state.delinquent_since
    moved = any(event.topic == "loan.bucket_changed" for event in expected.events)
    assert moved == (loans["bucket"] != loans["prev_bucket"])
    written = {number: (p, c) for loan, number, p, c in zip(
        *(write.rows[name].tolist() for name in ("loan_id", "number", "penalty_accrued",
                                                 "compound_accrued")), strict=True)
        if loan == booked.id}
    paid = {number: values for loan, number, *values in zip(
        *(write.paid[name].tolist() for name in write.paid), strict=True) if loan == booked.id}
    for old, new in zip(booked.state.installments, update.state.installments, strict=True):
        got = written.get(old.number, (old.penalty_accrued, old.compound_accrued))
        assert got == (new.penalty_accrued, new.compound_accrued)
        fee, penalty, compound, interest, principal = paid.get(old.number, (0,) * 5)
        assert (old.paid_fee + fee, old.penalty_paid + penalty, old.compound_paid + compound,
                old.paid_interest + interest, old.paid_principal + principal) == (
            new.paid_fee, new.penalty_paid, new.compound_paid, new.paid_interest,
            new.paid_principal)
        assert (old.principal, old.interest, old.fee, old.due_date) == (
            new.principal, new.interest, new.fee, new.due_date)
    assert booked.state.unapplied - loans["credit_applied"] == update.state.unapplied
    assert booked.state.prepaid_principal == update.state.prepaid_principal
    if loans["credit_applied"]:
        assert from_day_number(loans["earliest_unpaid"]) == min(
            row.due_date for row in update.state.installments if not row.is_paid)


FAST = settings(max_examples=60, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@FAST
@given(books(max_loans=12), st.data())
def test_the_fast_path_writes_what_close_loan_day_writes(book, data):
    _run_window(book, data)


@FAST
@given(books(max_loans=12, hold=True), st.data())
def test_the_fast_path_applies_held_credit_as_close_loan_day_does(book, data):
    """Products holding early money as credit, paid ahead of due dates: the credit applied
    when an installment falls due (less than, equal to and beyond it), or waiting."""
    _run_window(book, data)


def _run_window(book, data) -> None:
    start, days, accounts = book
    accounts = [a for a in accounts if a.loan.written_off_on is None]  # no longer in a run
    for offset in range(days):
        day = start + timedelta(days=offset)
        sitting_out = {a.key for a in accounts if data.draw(st.integers(0, 9)) == 0}
        today = [_booked(a, day) for a in accounts if a.key not in sitting_out]
        if not today:
            continue
        write, scalar = plan_batch(_columns(today, day), day, WRITE_OFF_DPD)
        fast = write.loan_ids.tolist()
        for booked in today:
            acc = next(a for a in accounts if a.key == booked.id)
            expected = close_loan_day(booked, day, WRITE_OFF_DPD, CLOCK)
            if booked.id in fast:
                _check_fast_loan(fast.index(booked.id), write, booked, expected)
            else:
                assert booked.id in scalar or not any(
                    r.due_date <= day and not r.is_paid for r in booked.state.installments)
            acc.state, acc.loan = expected.update.state, expected.update.loan
            acc.prev_bucket = expected.update.bucket
        # A loan sitting out keeps its stored state; its payments of the day were refused.
        for acc in accounts:
            if acc.key in sitting_out:
                acc.payments = tuple(p for p in acc.payments if p.on != day)
        accounts = [a for a in accounts if a.loan.written_off_on is None]


def test_a_lagging_loan_with_nothing_due_meanwhile_stays_on_the_fast_path():
    """The common case the lag rule must not send to the domain: a current loan end-of-day
    last touched weeks ago, whose installment falls due today."""
    loan = make_loan(terms=3)
    due = date(2026, 2, 15)
    booked = BookedLoan(id=7, borrower_id=1, product_code="P", loan=loan,
                        state=state_on(loan, [], due - timedelta(days=20)),
                        status=LoanStatus.CURRENT, dpd=0, bucket=BUCKETS[0])
    write, scalar = plan_batch(_columns([booked], due), due, WRITE_OFF_DPD)
    assert write.loan_ids.tolist() == [7] and scalar == []


@FAST
@given(st.data())
def test_held_credit_over_overdue_and_same_day_installments(data):
    """Credit held by a loan with installments overdue (in and past their grace window),
    and with two installments falling due on one day: the fast path pays them in the
    product's waterfall as `close_loan_day` does, or leaves the loan to it; credit no
    installment meets today just waits."""
    waterfall = data.draw(st.one_of(st.just(DEFAULT_WATERFALL),
                                    st.permutations(DEFAULT_WATERFALL).map(tuple)))
    loan = make_loan(principal=data.draw(st.integers(100_000, 10**8)),
                     terms=data.draw(st.integers(2, 12)), early_payment=EarlyPayment.HOLD,
                     waterfall=waterfall, compound=data.draw(st.booleans()),
                     grace_days=data.draw(GRACE_DAYS))
    rows = initial_state(loan).installments
    index = data.draw(st.integers(0, len(rows) - 2))
    if data.draw(st.booleans()):  # the next installment falls due with this one
        moved = replace(rows[index + 1], due_date=rows[index].due_date)
        rows = (*rows[:index + 1], moved, *rows[index + 2:])
    due = rows[index].due_date
    # The day: the installment's due date, or a later one (it is then overdue, and credit
    # waits unless the next falls due), or the day the next one falls due.
    day = data.draw(st.sampled_from(sorted({due, due + timedelta(days=data.draw(
        st.integers(1, 40))), rows[index + 1].due_date})))
    state = advance(loan, replace(initial_state(loan), installments=rows), [],
                    day - ONE_DAY)[0]
    owed = sum(r.unpaid_principal + r.unpaid_interest + r.unpaid_fee
               for r in state.installments if r.due_date <= day)
    charges = sum(r.penalty_accrued + r.compound_accrued for r in state.installments) // 10_000
    credit = data.draw(st.sampled_from([1, owed // 3, owed - 1, owed, owed + 1, owed + charges,
                                        owed + charges + 1, 2 * owed + 7]))
    state = replace(state, unapplied=max(1, credit))
    booked = _stored(Account(key=11, loan=loan, payments=(), state=state, kernel_state=state,
                             prev_bucket=summarize(loan, state).bucket), state)
    write, scalar = plan_batch(_columns([booked], day), day, WRITE_OFF_DPD)
    expected = close_loan_day(booked, day, WRITE_OFF_DPD, CLOCK)
    if write.loan_ids.size:
        _check_fast_loan(0, write, booked, expected)
    else:
        assert scalar == [11]


def test_an_installment_paid_ahead_is_applied_on_the_fast_path():
    """The demo's common case: a borrower pays the installment on a reminder three days ahead
    and the credit held meets it on its due date, on the fast path, as the domain applies it."""
    loan = make_loan(terms=3, early_payment=EarlyPayment.HOLD)
    due = loan.disbursed_on.replace(month=loan.disbursed_on.month + 1)
    row = initial_state(loan).installments[0]
    amount = row.principal + row.interest + row.fee
    paid_on = due - timedelta(days=3)
    state, applied = apply_payment(loan, state_on(loan, [], paid_on - ONE_DAY),
                                   Payment(key="ahead", on=paid_on, amount=amount))
    assert applied.to_credit == amount
    booked = BookedLoan(id=7, borrower_id=1, product_code="P", loan=loan, state=state,
                        status=LoanStatus.CURRENT, dpd=0, bucket=BUCKETS[0])
    write, scalar = plan_batch(_columns([booked], due), due, WRITE_OFF_DPD)
    assert write.loan_ids.tolist() == [7] and scalar == []
    assert write.loans["credit_applied"].tolist() == [amount]
    _check_fast_loan(0, write, booked, close_loan_day(booked, due, WRITE_OFF_DPD, CLOCK))
