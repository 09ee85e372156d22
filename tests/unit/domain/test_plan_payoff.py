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

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from arrears.domain.delinquency import LoanStatus
from arrears.domain.loan import Loan, Payment, state_on, summarize
from arrears.domain.plans import InvalidPlan, Plan, PlanKind, Treatment, check_sequence
from arrears.domain.product import Component, Method

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
