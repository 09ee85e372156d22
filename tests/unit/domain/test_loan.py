"""The loan state engine: DESIGN §9 semantics, the reference examples, and properties."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from arrears.domain import accrual
from arrears.domain.apr import apr_of
from arrears.domain.delinquency import Bucket, LoanStatus, bucket
from arrears.domain.errors import InvalidProduct, PaymentRejected
from arrears.domain.loan import Payment, advance, initial_state, state_on, summarize
from arrears.domain.product import (
    DEFAULT_WATERFALL,
    Component,
    EarlyPayment,
    Method,
    Prepayment,
)
from arrears.domain.waterfall import apply_in_order

from builders import loan as make_loan
from builders import product
from strategies import histories

D = Decimal


def _status(loan, payments, as_of):
    return summarize(loan, state_on(loan, payments, as_of))


# --- reference examples (../shared/reference/rules.md) ---------------------------------------


def test_cn_15_penalty_and_compound_on_an_overdue_bullet():
    """CN-15: 100,000 overdue 30 days at 7.5 % (ACT/360) → 625.00; unpaid interest 400 → 2.50."""
    loan = make_loan(principal=10_000_000, terms=1, method=Method.BULLET,
                     annual_rate=D("0.048"), penalty_base_rate=D("0.05"),
                     penalty_markup=D("0.5"), compound=True)
    assert loan.product.penalty_rate == D("0.075")
    due = initial_state(loan).installments[0].due_date
    status = _status(loan, (), due + timedelta(days=30))
    assert status.dpd == 30
    assert status.overdue_interest == 40_000
    assert status.penalty_interest == 62_500
    assert status.compound_interest == 250


def test_cn_15_daily_increments_round_to_a_ten_thousandth_of_a_cent():
    increment = accrual.daily_increment(10_000_000, D("0.075"), 360)
    assert increment == 20_833_333  # 2,083.3333 cents a day
    assert accrual.to_minor(accrual.accrue(10_000_000, D("0.075"), 360, 30)) == 62_500


def test_cn_15_markup_outside_30_to_50_percent_is_invalid():
    with pytest.raises(InvalidProduct, match="CN-15"):
        product(annual_rate=D("0.05"), penalty_markup=D("0.8"))


def test_cn_16_payment_goes_to_costs_then_interest_then_principal():
    owed = {Component.FEE: 10_000, Component.INTEREST: 30_000, Component.PRINCIPAL: 1_000_000}
    allocation, left = apply_in_order(35_000, owed, DEFAULT_WATERFALL)
    assert allocation == {Component.FEE: 10_000, Component.INTEREST: 25_000}
    assert left == 0


def test_cn_20_apr_of_a_flat_monthly_fee_plan():
    apr = apr_of([D(-12_000)] + [D(1_072)] * 12)
    assert round(apr.monthly_irr, 6) == D("0.010862")
    assert round(apr.apr_nominal, 4) == D("0.1303")
    assert round(apr.apr_effective, 4) == D("0.1384")


def test_cn_20_apr_counts_only_the_principal_received():
    received = apr_of([D(-15_741)] + [D(1_500)] * 12)
    stated = apr_of([D(-17_000)] + [D(1_500)] * 12)
    assert received.apr_nominal > stated.apr_nominal


# --- overdue, DPD, buckets ----------------------------------------------------------------


def test_due_date_itself_is_not_overdue_and_the_next_day_is_dpd_1():
    loan = make_loan()
    due = initial_state(loan).installments[0].due_date
    assert _status(loan, (), due).dpd == 0
    after = _status(loan, (), due + timedelta(days=1))
    assert (after.dpd, after.bucket, after.status) == (1, Bucket.M1, LoanStatus.OVERDUE)


@pytest.mark.parametrize(("dpd", "expected"), [(0, "C"), (1, "M1"), (30, "M1"), (31, "M2"),
                                               (90, "M3"), (180, "M6"), (181, "M7+")])
def test_buckets(dpd, expected):
    assert bucket(dpd).value == expected


def test_grace_waives_penalty_when_paid_in_full_within_the_window():
    loan = make_loan(grace_days=3, compound=True)
    first = initial_state(loan).installments[0]
    on_time_enough = Payment(key="g", on=first.due_date + timedelta(days=3), amount=first.principal
                             + first.interest)
    state = state_on(loan, [on_time_enough], first.due_date + timedelta(days=10))
    assert state.installments[0].is_paid
    assert state.installments[0].penalty_accrued == 0
    assert summarize(loan, state).total_due == 0


def test_after_grace_the_penalty_counts_from_the_first_day():
    loan = make_loan(grace_days=3)
    first = initial_state(loan).installments[0]
    late = Payment(key="l", on=first.due_date + timedelta(days=4),
                   amount=first.principal + first.interest)
    state = state_on(loan, [late], first.due_date + timedelta(days=4))
    # The payment went to the penalty first (4 days), so a little principal is left.
    assert state.installments[0].penalty_paid > 0
    assert not state.installments[0].is_paid


def test_partial_payment_reduces_the_penalty_base_from_its_own_date():
    loan = make_loan()
    first = initial_state(loan).installments[0]
    pay = Payment(key="p", on=first.due_date + timedelta(days=10), amount=first.interest + 50_000)
    with_payment = state_on(loan, [pay], first.due_date + timedelta(days=20)).installments[0]
    without = state_on(loan, [], first.due_date + timedelta(days=20)).installments[0]
    assert with_payment.penalty_accrued < without.penalty_accrued


def test_overpayment_reduces_the_last_installment_first_and_its_interest():
    loan = make_loan(early_payment=EarlyPayment.PREPAY)
    rows = initial_state(loan).installments
    extra = Payment(key="x", on=date(2026, 1, 20), amount=rows[-1].principal)
    state = state_on(loan, [extra], date(2026, 1, 20))
    assert state.installments[-1].principal == 0
    assert state.installments[-1].interest == 0
    assert state.prepaid_principal == rows[-1].principal
    assert state.installments[0].principal == rows[0].principal


def test_reamortize_respreads_the_remaining_principal():
    loan = make_loan(prepayment=Prepayment.REAMORTIZE, early_payment=EarlyPayment.PREPAY)
    extra = Payment(key="x", on=date(2026, 1, 20), amount=500_000)
    state = state_on(loan, [extra], date(2026, 1, 20))
    # From the second installment on the payment is level again; the first keeps the interest
    # accrued on the old balance until the prepayment.
    payments = {row.principal + row.interest for row in state.installments[1:-1]}
    assert len(payments) == 1 and payments.pop() < 91_680
    assert sum(row.principal for row in state.installments) == 500_000
    first = state.installments[0]
    assert first.interest > round(500_000 * 0.18 / 12)


def test_a_partial_prepayment_keeps_the_interest_accrued_so_far():
    """Paying all but a cent of principal mid-term still owes the interest accrued to that day:
    the borrower cannot avoid the payoff quote's interest by paying a cent less."""
    loan = make_loan(method=Method.BULLET, terms=12)
    day = date(2026, 7, 15)
    before = state_on(loan, [], day - timedelta(days=1))
    quote = summarize(loan, before).payoff_amount
    almost, _ = advance(loan, before, [Payment(key="p", on=day, amount=loan.principal - 1)],
                        day)
    later = state_on(loan, [Payment(key="p", on=day, amount=loan.principal - 1)],
                     date(2027, 1, 15))
    owed = sum(row.unpaid_interest + row.unpaid_principal for row in later.installments)
    assert loan.principal - 1 + owed >= quote
    assert summarize(loan, almost).status is not LoanStatus.SETTLED


@pytest.mark.parametrize("prepayment", list(Prepayment))
def test_under_prepay_interest_left_after_the_principal_is_due_at_once(prepayment):
    """§9: money between the remaining principal and the payoff retires the principal under
    `prepay`; the interest left is due at once and in the next quote, and paying it settles
    (it used to be stranded until the old due date, then drift into delinquency)."""
    loan = make_loan(prepayment=prepayment, early_payment=EarlyPayment.PREPAY)
    day = date(2026, 2, 1)
    quote = summarize(loan, state_on(loan, [], day - timedelta(days=1))).payoff_amount
    state, applied = advance(loan, initial_state(loan),
                             [Payment(key="p", on=day, amount=quote - 1)], day)
    assert applied[0].to_principal == loan.principal
    assert applied[0].to_interest == quote - 1 - loan.principal
    assert all(row.principal >= 0 for row in state.installments)
    after = summarize(loan, state)
    assert after.status is not LoanStatus.SETTLED
    assert (after.total_due, after.payoff_amount, after.dpd) == (1, 1, 0)
    settled, _ = advance(loan, state, [Payment(key="rest", on=day + timedelta(days=1),
                                               amount=1)], day + timedelta(days=1))
    final = summarize(loan, settled)
    assert (final.status, final.payoff_amount, final.total_due) == (LoanStatus.SETTLED, 0, 0)


def test_under_hold_money_short_of_the_payoff_waits_as_credit():
    """§9 (`hold`): money that covers the remaining principal but not the interest accrued
    waits as credit; it used to retire the principal and leave a few fen overdue for months."""
    loan = make_loan(method=Method.BULLET, terms=1)
    day = date(2026, 2, 1)
    quote = summarize(loan, state_on(loan, [], day - timedelta(days=1))).payoff_amount
    assert quote > loan.principal
    state = state_on(loan, [Payment(key="p", on=day, amount=loan.principal)],
                     date(2026, 2, 14))
    assert state.unapplied == loan.principal
    assert state.installments[0].unpaid_principal == loan.principal
    late = summarize(loan, state_on(loan, [Payment(key="p", on=day, amount=loan.principal)],
                                    date(2026, 5, 1)))
    # On the due date the credit pays the interest, then principal: what the borrower did not
    # pay is the installment's shortfall, not interest stranded by an early principal payoff.
    assert late.overdue_interest == 0
    assert late.overdue_principal == initial_state(loan).installments[0].interest


def test_under_hold_money_beyond_the_next_installment_reduces_principal_from_the_end():
    loan = make_loan()
    rows = initial_state(loan).installments
    nxt = rows[0].principal + rows[0].interest
    paid = [Payment(key="x", on=date(2026, 1, 20), amount=nxt + rows[-1].principal)]
    state = state_on(loan, paid, date(2026, 1, 20))
    assert state.unapplied == nxt
    assert state.installments[-1].principal == 0
    assert state.prepaid_principal == rows[-1].principal
    on_due = summarize(loan, state_on(loan, paid, rows[0].due_date + timedelta(days=5)))
    assert (on_due.dpd, on_due.status) == (0, LoanStatus.CURRENT)


def test_a_payment_marked_as_a_prepayment_reduces_principal_under_hold():
    """§9: any payment marked as a prepayment reduces future principal from the last
    installment, even on a product that holds other early money as credit."""
    loan = make_loan()
    rows = initial_state(loan).installments
    marked = Payment(key="x", on=date(2026, 1, 20), amount=rows[-1].principal, prepayment=True)
    state = state_on(loan, [marked], date(2026, 1, 20))
    assert (state.unapplied, state.installments[-1].principal) == (0, 0)
    assert state.prepaid_principal == rows[-1].principal
    unmarked = state_on(loan, [replace(marked, prepayment=False)], date(2026, 1, 20))
    assert unmarked.unapplied == rows[-1].principal


def test_paying_the_quote_of_a_one_term_bullet_leaves_nothing_to_pay():
    """A settled loan's payoff and total due are 0: the summary used to re-prorate the
    settled installment's interest (3.18 left on a bullet loan paid on its quote)."""
    for early in EarlyPayment:
        loan = make_loan(method=Method.BULLET, terms=1, early_payment=early)
        for day in (date(2026, 1, 16), date(2026, 1, 31), date(2026, 2, 14)):
            quote = summarize(loan, state_on(loan, [], day - timedelta(days=1))).payoff_amount
            paid = [Payment(key="q", on=day, amount=quote)]
            for later in (day, day + timedelta(days=1), date(2026, 6, 1)):
                figures = summarize(loan, state_on(loan, paid, later))
                assert (figures.status, figures.payoff_amount, figures.total_due) == \
                    (LoanStatus.SETTLED, 0, 0), (early, day, later)


def test_hold_keeps_an_early_payment_and_applies_it_on_the_due_date():
    """A borrower paying on the D−3 reminder is current on the due date, not overdue."""
    loan = make_loan(early_payment=EarlyPayment.HOLD)
    first = initial_state(loan).installments[0]
    early = Payment(key="early", on=first.due_date - timedelta(days=3),
                    amount=first.principal + first.interest)
    before_due = state_on(loan, [early], first.due_date - timedelta(days=1))
    assert before_due.unapplied == early.amount
    assert before_due.installments[-1].principal == initial_state(loan).installments[-1].principal
    after = summarize(loan, state_on(loan, [early], first.due_date + timedelta(days=10)))
    assert (after.dpd, after.status, after.penalty_interest) == (0, LoanStatus.CURRENT, 0)
    prepay = make_loan(early_payment=EarlyPayment.PREPAY)
    prepaid = summarize(prepay, state_on(prepay, [early], first.due_date + timedelta(days=10)))
    assert prepaid.status is LoanStatus.OVERDUE  # under `prepay` the money went to the end


def test_hold_still_settles_when_the_payoff_is_paid():
    loan = make_loan(early_payment=EarlyPayment.HOLD)
    day = date(2026, 3, 1)
    quote = summarize(loan, state_on(loan, [], day - timedelta(days=1))).payoff_amount
    state = state_on(loan, [Payment(key="p", on=day, amount=quote)], day)
    assert summarize(loan, state).status is LoanStatus.SETTLED


def test_write_off_stops_accrual():
    loan = make_loan()
    written_off = replace(loan, written_off_on=date(2026, 6, 1))
    late = _status(written_off, (), date(2026, 9, 1))
    at = _status(loan, (), date(2026, 6, 1))
    assert late.status is LoanStatus.WRITTEN_OFF
    assert late.penalty_interest == at.penalty_interest


def test_payment_before_disbursement_is_refused():
    loan = make_loan()
    with pytest.raises(PaymentRejected, match="before disbursement"):
        state_on(loan, [Payment(key="a", on=date(2026, 1, 1), amount=100)], date(2026, 3, 1))


def test_same_key_with_other_content_is_refused():
    loan = make_loan()
    payments = [Payment(key="a", on=date(2026, 2, 15), amount=100),
                Payment(key="a", on=date(2026, 2, 15), amount=200)]
    with pytest.raises(PaymentRejected, match="already used"):
        state_on(loan, payments, date(2026, 3, 1))


def test_advance_day_by_day_equals_one_jump():
    loan = make_loan(compound=True)
    payments = [Payment(key="a", on=date(2026, 3, 20), amount=50_000)]
    state = initial_state(loan)
    day = loan.disbursed_on
    while day < date(2026, 6, 30):
        todays = [p for p in payments if p.on == day]
        state, _ = advance(loan, state, todays, day)
        day += timedelta(days=1)
    state, _ = advance(loan, state, [], day)
    assert state == state_on(loan, payments, day)


# --- properties ---------------------------------------------------------------------------


@given(histories(hold=True), st.integers(0, 900))
def test_each_payment_allocation_sums_to_the_payment(history, offset):
    loan, payments = history
    _, applied = advance(loan, initial_state(loan), payments,
                         loan.disbursed_on + timedelta(days=offset))
    for item in applied:
        parts = (item.to_fee + item.to_penalty + item.to_compound + item.to_interest
                 + item.to_principal + item.to_credit)
        assert parts == item.amount


@given(histories(max_payments=0), st.integers(1, 400), st.integers(1, 60))
def test_penalty_never_decreases_with_time(history, first, more):
    loan, _ = history
    earlier = state_on(loan, (), loan.disbursed_on + timedelta(days=first))
    later = state_on(loan, (), loan.disbursed_on + timedelta(days=first + more))
    for a, b in zip(earlier.installments, later.installments, strict=True):
        assert a.penalty_accrued <= b.penalty_accrued
        assert a.compound_accrued <= b.compound_accrued


@given(histories(hold=True), st.integers(0, 900))
def test_paying_the_payoff_quote_settles_the_loan(history, offset):
    loan, payments = history
    as_of = loan.disbursed_on + timedelta(days=offset)
    state = state_on(loan, [p for p in payments if p.on <= as_of], as_of)
    quote = summarize(loan, state).payoff_amount
    if quote == 0:
        return
    settled, _ = advance(loan, state, [Payment(key="payoff", on=as_of + timedelta(days=1),
                                               amount=quote)], as_of + timedelta(days=1))
    result = summarize(loan, settled)
    assert result.status is LoanStatus.SETTLED
    # The quote counts credit already held; paying it leaves no credit behind.
    assert settled.unapplied == 0
    assert result.principal_outstanding == 0
    for later in (1, 2, 45):
        after, _ = advance(loan, settled, [], settled.as_of + timedelta(days=later))
        figures = summarize(loan, after)
        assert (figures.status, figures.payoff_amount, figures.total_due) == \
            (LoanStatus.SETTLED, 0, 0)


@given(histories(hold=True), st.integers(0, 900))
def test_no_loan_whose_credit_covers_what_is_due_is_overdue(history, offset):
    """§9: held credit is applied when an installment falls due, so credit that covers the
    total due never sits beside an overdue installment, and DPD does not grow under it."""
    loan, payments = history
    as_of = loan.disbursed_on + timedelta(days=offset)
    state = state_on(loan, [p for p in payments if p.on <= as_of], as_of)
    today = summarize(loan, state)
    if state.unapplied < today.total_due:
        return
    assert today.status is not LoanStatus.OVERDUE and today.dpd == 0
    tomorrow = summarize(loan, advance(loan, state, [], as_of + timedelta(days=1))[0])
    assert tomorrow.dpd == 0


@given(histories(hold=True), st.integers(0, 900))
def test_the_quote_never_leaves_interest_stranded(history, offset):
    """§9: whatever was paid, the payoff quote is at least the total due, and a loan with no
    principal left owes nothing beyond what is due now."""
    loan, payments = history
    as_of = loan.disbursed_on + timedelta(days=offset)
    state = state_on(loan, [p for p in payments if p.on <= as_of], as_of)
    figures = summarize(loan, state)
    assert figures.payoff_amount >= figures.total_due - state.unapplied
    if figures.principal_outstanding == 0:
        owed = sum(row.unpaid_interest + row.unpaid_fee for row in state.installments)
        assert owed == 0 or figures.payoff_amount > 0


@given(histories(hold=True), st.integers(0, 900))
def test_the_same_payment_twice_changes_nothing(history, offset):
    loan, payments = history
    as_of = loan.disbursed_on + timedelta(days=offset)
    once = state_on(loan, payments, as_of)
    twice = state_on(loan, payments + payments, as_of)
    assert once == twice


def test_paying_the_oldest_installment_does_not_re_age_the_first_delinquency():
    """US-32 / M2-6: the first delinquency date stays while any installment is overdue; only
    a cure (nothing overdue) ends the episode, and the next one starts afresh."""
    loan = make_loan()
    rows = initial_state(loan).installments
    oldest = rows[0].principal + rows[0].interest + 2_000  # with its penalty
    partial = [Payment(key="p", on=date(2026, 3, 20), amount=oldest)]
    still_late = _status(loan, partial, date(2026, 3, 25))
    assert still_late.dpd > 0
    assert still_late.first_delinquency_on == date(2026, 2, 16)
    cured = partial + [Payment(key="q", on=date(2026, 3, 26), amount=200_000)]
    assert _status(loan, cured, date(2026, 3, 27)).first_delinquency_on is None
    assert _status(loan, cured, date(2026, 6, 30)).first_delinquency_on not in (
        None, date(2026, 2, 16))


@given(histories(hold=True), st.integers(0, 900), st.integers(1, 60))
def test_first_delinquency_never_moves_while_the_loan_stays_delinquent(history, offset, more):
    """Day by day through random partial payments: from one delinquent day to the next the
    date stays; it is the first day past due of an installment that is still, or was, late."""
    loan, payments = history
    day = loan.disbursed_on + timedelta(days=offset)
    state = state_on(loan, [p for p in payments if p.on <= day], day)
    before = summarize(loan, state)
    for _ in range(more):
        day += timedelta(days=1)
        state, _ = advance(loan, state, [p for p in payments if p.on == day], day)
        now = summarize(loan, state)
        if before.dpd > 0 and now.dpd > 0:
            assert now.first_delinquency_on == before.first_delinquency_on
        if now.dpd > 0:
            assert now.first_delinquency_on is not None
            assert now.first_delinquency_on <= day - timedelta(days=now.dpd) + timedelta(days=1)
        before = now


@given(histories(hold=True), st.integers(0, 800))
def test_the_parts_of_what_is_due_add_up_to_it(case, offset):
    """On any loan and date, due dates included: overdue principal, interest and fees, what
    falls due that day, penalty and compound add up to `total_due` (§9 reading the figures:
    an installment due that day is in `total_due` but not yet overdue)."""
    loan, payments = case
    summary = summarize(loan, state_on(loan, payments, loan.disbursed_on
                                       + timedelta(days=offset)))
    assert (summary.overdue_principal + summary.overdue_interest + summary.overdue_fee
            + summary.due_today + summary.penalty_interest + summary.compound_interest
            == summary.total_due)


def test_an_installment_due_today_is_its_own_part():
    loan = make_loan()
    first = initial_state(loan).installments[0]
    summary = summarize(loan, state_on(loan, [], first.due_date))
    assert (summary.dpd, summary.overdue_principal) == (0, 0)
    assert summary.due_today == summary.total_due == first.principal + first.interest
