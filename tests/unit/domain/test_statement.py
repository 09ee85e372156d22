"""The statement's explanation of a loan (domain.statement): day-by-day accrual lines that add
up exactly to the accrued totals, adjustments only where an event changed accrued charges,
allocations as the replay makes them, and the US-21 itemization that reconciles.

The worked loan is tests/builders.py's: 10,000.00 CNY from 2026-01-15, 12 installments at
18 %, penalty rate 24 % ACT/360 (18 % × 1.5 capped by the CN 24 %), compound on. Installment
1 (due 2026-02-15) is principal 766.80 and interest 150.00: a day's penalty on 766.80 is
766.80 × 0.24 / 360 = 0.5112 yuan = 511,200 sub-minor units; compound on 150.00 is 0.1 yuan.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from arrears.domain.loan import Payment, advance, initial_state, state_on, summarize
from arrears.domain.plans import Plan, PlanKind
from arrears.domain.product import Component
from arrears.domain.statement import ACCRUED, Basis, accrued, explain

from builders import loan as make_loan
from strategies import histories

PENALTY, COMPOUND = Component.PENALTY, Component.COMPOUND


def reconciles(explanation) -> bool:
    return all(explanation.accrued_from_lines(row.number, c) == accrued(row, c)
               for row in explanation.state.installments for c in ACCRUED)


def test_unpaid_installment_accrues_one_line_per_charge() -> None:
    loan = make_loan()
    found = explain(loan, [], date(2026, 2, 28))
    penalty = [line for line in found.lines if line.component is PENALTY]
    assert len(penalty) == 1
    line = penalty[0]
    assert (line.installment, line.first, line.last, line.days) == \
        (1, date(2026, 2, 16), date(2026, 2, 28), 13)
    assert (line.base, line.rate, line.year_days, line.daily) == \
        (76680, Decimal("0.24"), 360, 511200)
    assert line.total == 6645600  # 6.6456 yuan, reported as 6.65
    compound = [line for line in found.lines if line.component is COMPOUND]
    assert [(c.base, c.daily, c.days) for c in compound] == [(15000, 100000, 13)]
    assert found.summary.penalty_interest == 665
    assert reconciles(found) and not found.adjustments


def test_a_payment_splits_the_line_at_its_date_and_back_dating_restates_allocations() -> None:
    loan = make_loan()
    late = Payment(key="late", on=date(2026, 3, 10), amount=50000)
    early = Payment(key="back-dated", on=date(2026, 3, 1), amount=20000)
    before = explain(loan, [late], date(2026, 3, 12))
    after = explain(loan, [late, early], date(2026, 3, 12))
    first = [(x.first, x.last, x.base) for x in after.lines
             if x.installment == 1 and x.component is PENALTY]
    # 200.00 pays penalty, compound and interest first; the principal left is the new base.
    paid = next(a for a in after.applied if a.key == "back-dated")
    assert first[0] == (date(2026, 2, 16), date(2026, 2, 28), 76680)
    assert first[1][0] == date(2026, 3, 1) and first[1][2] == 76680 - paid.to_principal
    # The later payment is allocated differently once the earlier one is known.
    assert [a for a in before.applied if a.key == "late"] != \
        [a for a in after.applied if a.key == "late"]
    assert after.applied == advance(loan, initial_state(loan), [late, early],
                                    date(2026, 3, 12))[1]
    assert after.state == state_on(loan, [late, early], date(2026, 3, 12))
    assert reconciles(after)


def test_paying_within_grace_shows_the_waived_penalty_as_an_adjustment() -> None:
    loan = make_loan(grace_days=3)
    paid = Payment(key="k", on=date(2026, 2, 17), amount=91680)
    found = explain(loan, [paid], date(2026, 2, 20))
    waived = [a for a in found.adjustments if a.installment == 1]
    assert {(a.component, a.on, a.reason) for a in waived} == \
        {(PENALTY, date(2026, 2, 17), "grace_waiver"), (COMPOUND, date(2026, 2, 17),
                                                        "grace_waiver")}
    assert next(a.amount for a in waived if a.component is PENALTY) == -511200
    assert reconciles(found) and found.summary.penalty_interest == 0


def test_plans_appear_as_adjustments_and_the_figures_stay_the_loans() -> None:
    plans = (
        Plan(plan_id="W-1", kind=PlanKind.WAIVER, effective_on=date(2026, 3, 1),
             waive=((PENALTY, Decimal("0.5")),)),
        Plan(plan_id="R-1", kind=PlanKind.REAGE, effective_on=date(2026, 4, 1), terms=6,
             first_due_on=date(2026, 5, 1)),
    )
    loan = replace(make_loan(), plans=plans)
    payments = [Payment(key="p", on=date(2026, 3, 20), amount=30000)]
    as_of = date(2026, 5, 20)
    found = explain(loan, payments, as_of)
    assert found.state == state_on(loan, payments, as_of)
    assert found.summary == summarize(loan, found.state)
    assert found.summary.restructured and found.state.waived.penalty > 0
    reasons = {(a.on, a.reason, a.plan_id) for a in found.adjustments}
    assert (date(2026, 3, 1), "plan", "W-1") in reasons
    assert (date(2026, 4, 1), "plan", "R-1") in reasons
    assert reconciles(found)


def test_open_day_payments_apply_after_the_closed_date() -> None:
    loan = make_loan()
    paid = Payment(key="k", on=date(2026, 3, 1), amount=100000)
    found = explain(loan, [], date(2026, 2, 28), open_day_payments=[paid])
    state = initial_state(loan)
    state, _ = advance(loan, state, [], date(2026, 2, 28))
    assert found.applied[-1].key == "k" and found.state.as_of == date(2026, 2, 28)
    assert found.summary.total_due < summarize(loan, state).total_due
    assert reconciles(found)


def test_us_itemization_reconciles_to_the_current_amount() -> None:
    loan = make_loan(jurisdiction="US", penalty_rate_cap=None)
    payments = [Payment(key="a", on=date(2026, 2, 15), amount=91680),
                Payment(key="b", on=date(2026, 4, 20), amount=40000)]
    found = explain(loan, payments, date(2026, 6, 30), itemize=True)
    item = found.itemization
    assert item is not None
    assert (item.on, item.basis) == (date(2026, 4, 20), Basis.LAST_PAYMENT)
    assert item.current == found.summary.payoff_amount
    assert item.amount == summarize(loan, state_on(loan, payments, item.on)).payoff_amount
    assert item.amount + item.interest + item.fees - item.payments - item.credits == \
        item.current
    assert item.payments == 0 and item.credits == 0 and item.interest > 0
    written_off = replace(loan, written_off_on=date(2026, 6, 1))
    late = explain(written_off, payments, date(2026, 6, 30), itemize=True).itemization
    assert late is not None and (late.on, late.basis) == (date(2026, 6, 1), Basis.CHARGE_OFF)


@settings(max_examples=40, deadline=None)
@given(histories(hold=True), st.integers(0, 800))
def test_daily_lines_add_up_to_the_accrued_totals(history, days) -> None:
    loan, payments = history
    as_of = loan.disbursed_on + timedelta(days=days)
    found = explain(loan, payments, as_of)
    assert found.state == state_on(loan, payments, as_of)
    assert found.summary == summarize(loan, found.state)
    for row in found.state.installments:
        for component in ACCRUED:
            lines = sum(line.total for line in found.lines
                        if line.installment == row.number and line.component is component)
            moved = sum(a.amount for a in found.adjustments
                        if a.installment == row.number and a.component is component)
            assert lines + moved == accrued(row, component)
    # Without plans the only adjustment is penalty waived by a payment inside the grace window.
    paid_on = {a.on for a in found.applied}
    assert all(a.reason == "grace_waiver" and a.amount < 0 and a.on in paid_on
               for a in found.adjustments)
    for line in found.lines:
        assert line.daily > 0 and line.first <= line.last
