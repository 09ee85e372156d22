"""The payoff quote under a plan (DESIGN §9 payoff quote; issue 9): a plan that moves
installments to later dates, or carries arrears into new ones, never takes what they had
earned out of the quote, and paying the quote settles the loan whatever the plan.

The worked example is the shared loan (tests/builders.py): 10,000.00 at 18 % over 12 months
from 2026-01-15, nothing paid. On 2026-04-30 installments 1–3 (due 02-15, 03-15, 04-15) are
overdue; a three-month deferral at rate 0 takes effect on 2026-05-01.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from arrears.domain.delinquency import LoanStatus
from arrears.domain.loan import Loan, Payment, state_on, summarize
from arrears.domain.plans import InvalidPlan, Plan, PlanKind, Treatment, check_sequence
from arrears.domain.product import Component, InterestBasis, Method, Prepayment

from builders import loan as make_loan
from strategies import histories

ONE_DAY = timedelta(days=1)
DEFERRAL = Plan(plan_id="D", kind=PlanKind.DEFERRAL, effective_on=date(2026, 5, 1), months=3,
                rate=Decimal(0))


def _quote(loan: Loan, payments, as_of: date) -> int:
    """What a payment dated the day after `as_of` must be to settle the loan."""
    return summarize(loan, state_on(loan, payments, as_of)).payoff_amount


def _settles(loan: Loan, payments, as_of: date) -> bool:
    """Paying the quote the next day settles the loan, and it stays settled a month on."""
    pay_on = as_of + ONE_DAY
    quote = _quote(loan, payments, as_of)
    paid = (*payments, Payment(key="payoff", on=pay_on, amount=quote))
    later = summarize(loan, state_on(loan, paid, pay_on + timedelta(days=31)))
    return quote > 0 and later.status is LoanStatus.SETTLED and later.payoff_amount == 0


def test_a_deferral_keeps_the_overdue_interest_and_charges_in_the_quote():
    unplanned = make_loan()
    deferred = replace(unplanned, plans=(DEFERRAL,))
    before = _quote(unplanned, [], date(2026, 4, 30))
    # The deferral stops penalty from 05-01 and charges nothing for the added time (rate 0):
    # the quote for a payment on 05-02 is the one for 05-01 and one more day of installment
    # 4's interest (138.50-odd a month: a few yuan), never the principal and a few days.
    after = _quote(deferred, [], date(2026, 5, 1))
    assert before == 1_055_916
    assert before <= after <= before + 1_000
    assert _settles(deferred, [], date(2026, 5, 1))


def test_paying_the_quote_mid_deferral_settles_and_collects_what_was_earned():
    deferred = replace(make_loan(), plans=(DEFERRAL,))
    as_of = date(2026, 6, 10)
    quote = _quote(deferred, [], as_of)
    assert quote >= _quote(make_loan(), [], date(2026, 4, 30))
    assert _settles(deferred, [], as_of)


def test_an_installment_a_re_amortisation_empties_in_its_grace_window_owes_no_charges():
    """A loan that bears no interest (a 0 % phone plan, its penalty on a base rate): installment
    3 falls due on 04-15; three days later, inside its six days of grace, a re-amortisation
    moves its principal to the later installments. Left owing nothing in its window, it is
    closed as a payment there would close it: the quote that settles the loan on 04-19 keeps
    it settled once that window has passed (found by drawing grace up to 90 days)."""
    loan = make_loan(grace_days=6, method=Method.FLAT_FEE, interest_basis=InterestBasis.PERIOD,
                     annual_rate=Decimal(0), monthly_fee_rate=Decimal(0),
                     penalty_base_rate=Decimal("0.05"))
    plan = Plan(plan_id="R", kind=PlanKind.REAMORTIZE, effective_on=date(2026, 4, 18))
    planned = replace(loan, plans=(plan,))
    third = state_on(planned, [], date(2026, 4, 18)).installments[2]
    assert third.is_paid and third.penalty_accrued == third.penalty_paid == 0
    assert _settles(planned, [], date(2026, 4, 18))


# --- the class: every plan kind, any history -------------------------------------------

FORGIVING = (PlanKind.WAIVER, PlanKind.SETTLEMENT)


@st.composite
def planned_loans(draw: st.DrawFn) -> tuple[Loan, tuple[Payment, ...], Plan]:
    loan, payments = draw(histories(max_payments=3, hold=True))
    kind = draw(st.sampled_from(list(PlanKind)))
    effective = loan.disbursed_on + timedelta(days=draw(st.integers(1, 30 * loan.terms + 60)))
    treatments = tuple(
        (component, draw(st.sampled_from(list(Treatment))))
        for component in (Component.INTEREST, Component.FEE, Component.PENALTY,
                          Component.COMPOUND))
    plan = Plan(
        plan_id="P", kind=kind, effective_on=effective, months=draw(st.integers(1, 6)),
        terms=draw(st.integers(1, 12)),
        first_due_on=effective + timedelta(days=draw(st.integers(1, 45))),
        method=draw(st.sampled_from([None, Method.EQUAL_INSTALLMENT, Method.EQUAL_PRINCIPAL])),
        treatments=treatments,
        rate=Decimal("0.01") if kind is PlanKind.RATE_REDUCTION
        else draw(st.sampled_from([None, Decimal(0), Decimal("0.05")])),
        until=effective + timedelta(days=draw(st.integers(0, 120))),
        amount=draw(st.integers(1, loan.principal)),
        waive=((Component.PENALTY, Decimal(1)), (Component.FEE, Decimal("0.25"))),
    )
    earlier = tuple(p for p in payments if p.on < effective)
    return loan, earlier, plan


def _applied(loan: Loan, payments, plan: Plan, through: date):
    planned = replace(loan, plans=check_sequence((*loan.plans, plan)))
    try:
        return planned, state_on(planned, payments, through)
    except InvalidPlan:
        return None


@settings(max_examples=150, deadline=None)
@given(planned_loans(), st.integers(0, 60))
def test_paying_the_quote_under_any_plan_settles(case, offset):
    loan, payments, plan = case
    assume(loan.written_off_on is None)
    as_of = plan.effective_on + timedelta(days=offset)
    found = _applied(loan, payments, plan, as_of)
    assume(found is not None)
    planned, state = found
    assume(summarize(planned, state).status is not LoanStatus.SETTLED)
    assert _settles(planned, payments, as_of)


@settings(max_examples=150, deadline=None)
@given(planned_loans())
def test_a_plan_that_forgives_nothing_never_lowers_the_quote(case):
    """On its first day a plan that waives nothing owes at least what settled the loan the
    day before: what was earned stays earned, whatever the plan moved."""
    loan, payments, plan = case
    assume(loan.written_off_on is None and plan.kind not in FORGIVING)
    assume(plan.kind is not PlanKind.REAGE
           or all(treatment is not Treatment.WAIVE for _, treatment in plan.treatments))
    found = _applied(loan, payments, plan, plan.effective_on)
    assume(found is not None)
    planned, state = found
    before = _quote(loan, payments, plan.effective_on - ONE_DAY)
    assert summarize(planned, state).payoff_amount >= before


# --- payments after plans (review of 76d6409) -------------------------------------------

def test_a_partial_prepayment_keeps_the_interest_accrued_before_it():
    # 10,000.00 at 18 %: installment 1 (01-15 → 02-15, 31 days) bears 150.00. On 01-29 the
    # quote for 01-30 holds 15 days of it: 150.00 × 15 ÷ 31 = 72.58. 5,000.00 prepaid on 01-30
    # leaves 5,000.00, whose period interest is 75.00: the quote for 01-31 is that principal,
    # the 72.58 and one day on the new balance, 75.00 ÷ 31 = 2.42 — never the new period's
    # interest pro rata from 01-15 (57.44), which would forgive what was earned.
    loan = make_loan()
    prepaid = (Payment(key="p", on=date(2026, 1, 30), amount=500_000, prepayment=True),)
    assert _quote(loan, (), date(2026, 1, 29)) == 1_007_258
    assert _quote(loan, prepaid, date(2026, 1, 30)) == 500_000 + 7_258 + 242
    assert _settles(loan, prepaid, date(2026, 2, 5))


def test_a_holiday_that_moves_no_due_date_keeps_what_was_earned():
    # A holiday 04-01..04-10 inside the period a deferral made (02-01 → 05-15) moves no due
    # date; the quote runs on as without it (it lost 38.80 at the holiday before the fix).
    deferred = replace(make_loan(), plans=(replace(DEFERRAL, effective_on=date(2026, 2, 1)),))
    paused = replace(deferred, plans=(*deferred.plans, Plan(
        plan_id="H", kind=PlanKind.HOLIDAY, effective_on=date(2026, 4, 1),
        until=date(2026, 4, 10))))
    for day in (date(2026, 4, 1), date(2026, 4, 20)):
        assert abs(_quote(paused, (), day) - _quote(deferred, (), day)) <= 1  # rounding


def test_a_bullet_re_amortised_by_a_prepayment_keeps_its_whole_term_interest():
    # A 12-month bullet at 12 %: 1,200.00 of interest at maturity. Half prepaid after six
    # months leaves 600.00 earned and 300.00 on the 5,000.00 left for the other six months,
    # whatever the product does with prepayments (never one month's 50.00).
    for prepayment in Prepayment:
        loan = make_loan(method=Method.BULLET, annual_rate=Decimal("0.12"),
                         prepayment=prepayment)
        paid = (Payment(key="p", on=date(2026, 7, 15), amount=500_000, prepayment=True),)
        [row] = state_on(loan, paid, date(2026, 7, 15)).installments
        assert 89_700 <= row.interest <= 90_000, prepayment


@pytest.mark.parametrize("basis", list(InterestBasis))
@pytest.mark.parametrize("prepayment", list(Prepayment))
@pytest.mark.parametrize("rate", [Decimal(0), None])
def test_a_small_prepayment_under_a_deferral_keeps_the_deferrals_terms(basis, prepayment, rate):
    """1.00 prepaid the day after a three-month deferral barely changes the interest the
    schedule asks (a re-spread over the moved months' day counts moves a few yuan): it
    neither charges contract interest for an interest-free deferral's months (+8 % to +45 %
    before the fix) nor drops what a deferral at the contract rate charged (−25 %)."""
    loan = replace(make_loan(interest_basis=basis, prepayment=prepayment),
                   plans=(replace(DEFERRAL, effective_on=date(2026, 2, 1), rate=rate),))
    on = date(2026, 2, 2)
    paid = (Payment(key="p", on=on, amount=100, prepayment=True),)

    def interest(payments) -> int:
        return sum(row.interest for row in state_on(loan, payments, on).installments)

    assert abs(interest(paid) - interest(())) <= interest(()) // 200


@st.composite
def twice_planned(draw: st.DrawFn) -> tuple[Loan, tuple[Payment, ...], date]:
    """A loan under two plans with payments before, between and after them, and a day."""
    loan, earlier, first = draw(planned_loans())
    second = draw(planned_loans())[2]
    second = replace(second, plan_id="Q", effective_on=first.effective_on + timedelta(
        days=draw(st.integers(1, 90))))
    try:
        plans = check_sequence((first, second))
    except InvalidPlan:
        assume(False)
    later = tuple(
        Payment(key=f"after{i}", on=first.effective_on + timedelta(days=draw(st.integers(0, 150))),
                amount=draw(st.integers(1, max(1, loan.principal // 2))),
                prepayment=draw(st.booleans()))
        for i in range(draw(st.integers(0, 2))))
    day = first.effective_on + timedelta(days=draw(st.integers(0, 200)))
    return replace(loan, plans=plans), (*earlier, *later), day


def _state_or_none(loan: Loan, payments, as_of: date):
    try:
        return state_on(loan, payments, as_of)
    except InvalidPlan:
        return None


def _plan_or_offer_near(loan: Loan, day: date) -> bool:
    """A plan starts on `day` or the next (a quote cannot know it), or an offer is open."""
    return any(plan.effective_on in (day, day + ONE_DAY) or (
        plan.kind is PlanKind.SETTLEMENT and plan.until is not None
        and plan.effective_on <= day + ONE_DAY <= plan.until) for plan in loan.plans)


@settings(max_examples=60, deadline=None)
@given(twice_planned(), st.integers(1, 10**6), st.booleans())
def test_a_payment_lowers_the_quote_by_no_more_than_itself(case, amount, prepayment):
    """Under any two plans and any payments, money short of the quote never forgives: the
    quote after a payment is at least the one before less the payment (a cent or two of
    rounding aside), so no interest earned is stranded."""
    loan, payments, day = case
    assume(loan.written_off_on is None and not _plan_or_offer_near(loan, day))
    before = [p for p in payments if p.on < day]
    start = _state_or_none(loan, before, day - ONE_DAY)
    assume(start is not None and summarize(loan, start).payoff_amount > 0)
    paid = _state_or_none(loan, (*before, Payment(key="x", on=day, amount=amount,
                                                 prepayment=prepayment)), day)
    assume(paid is not None)
    for row in paid.installments:
        assert min(row.unpaid_principal, row.unpaid_interest, row.unpaid_fee) >= 0
        assert 0 <= row.interest_earned <= max(row.interest, row.interest_earned)
    assert summarize(loan, paid).payoff_amount >= summarize(loan, start).payoff_amount \
        - amount - 2


@settings(max_examples=40, deadline=None)
@given(twice_planned())
def test_paying_the_quote_after_two_plans_and_payments_settles(case):
    loan, payments, day = case
    assume(loan.written_off_on is None and not _plan_or_offer_near(loan, day))
    loan = replace(loan, plans=tuple(p for p in loan.plans if p.effective_on <= day))
    earlier = tuple(p for p in payments if p.on <= day)
    state = _state_or_none(loan, earlier, day)
    assume(state is not None and summarize(loan, state).status is not LoanStatus.SETTLED)
    assert _settles(loan, earlier, day)
