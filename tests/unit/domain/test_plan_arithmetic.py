"""Hardship plans on the exact domain: a worked example per kind, and properties.

The worked examples use one loan (tests/builders.py): 10,000.00 CNY disbursed 2026-01-15,
12 monthly installments, equal installment at 18 % (period basis: 1.5 % a month), penalty
rate min(18 % × 1.5, 24 % CN cap) = 24 % ACT/360, compound on. Installment 1 is 916.80 due
2026-02-15 (principal 766.80, interest 150.00); installment 2: interest 9,233.20 × 1.5 % =
138.50, principal 778.30. Nothing is paid, so on the evening of 2026-02-28 installment 1 is
13 days overdue: penalty 13 × 766.80 × 0.24 / 360 = 6.6456 → 6.65; compound 13 × 150.00 ×
0.24 / 360 = 1.30. Every plan below takes effect on 2026-03-01.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from arrears.domain.delinquency import LoanStatus
from arrears.domain.ledger import Account, position, postings
from arrears.domain.loan import (
    Loan,
    LoanState,
    Payment,
    advance,
    due_on,
    initial_state,
    state_on,
    summarize,
)
from arrears.domain.plan_preview import preview
from arrears.domain.plans import InvalidPlan, Plan, PlanKind, Treatment, check_sequence
from arrears.domain.product import Component, Method

from builders import loan as make_loan
from strategies import histories

D = Decimal
START = date(2026, 3, 1)
EVE = START - timedelta(days=1)


def with_plan(loan: Loan, plan: Plan) -> Loan:
    return replace(loan, plans=check_sequence((*loan.plans, plan)))


def figures(loan: Loan, payments, as_of: date):
    return summarize(loan, state_on(loan, payments, as_of))


def test_the_shared_example_is_as_computed_by_hand():
    row = state_on(make_loan(), [], EVE).installments[0]
    assert (row.principal, row.interest) == (76_680, 15_000)
    assert (row.penalty_accrued, row.compound_accrued) == (6_645_600, 1_300_000)


def test_deferral_moves_every_unpaid_installment_and_charges_interest_for_the_time():
    """Deferral by 2 months: installment 1 falls due 2026-04-15 and its 766.80 bears
    766.80 × 1.5 % × 2 = 23.004 → 23.00 more interest (150.00 + 23.00 = 173.00); its penalty and
    compound so far (6.65 + 1.30 = 7.95) fall due with it as a fixed charge; accrual stops.
    Installment 2 (778.30) moves to 2026-05-15 with 778.30 × 3 % = 23.349 → 23.35 more."""
    loan = with_plan(make_loan(), Plan(plan_id="P-1", kind=PlanKind.DEFERRAL,
                                       effective_on=START, months=2))
    state = state_on(loan, [], date(2026, 3, 20))
    first, second = state.installments[0], state.installments[1]
    assert (first.due_date, first.interest, first.fee) == (date(2026, 4, 15), 17_300, 795)
    assert first.penalty_accrued == 0
    assert (second.due_date, second.interest) == (date(2026, 5, 15), 13_850 + 2_335)
    status = summarize(loan, state)
    assert (status.dpd, status.status, status.restructured) == (0, LoanStatus.CURRENT, True)
    assert status.first_delinquency_on == date(2026, 2, 16)  # never re-aged


def test_reage_spreads_the_arrears_over_new_installments_with_each_bucket_as_chosen():
    """Re-age into 6 installments from 2026-03-15, penalty and compound waived, interest carried.
    Owed on 2026-03-01: principal 10,000.00 (all of it: overdue 766.80 + the rest), interest
    150.00 overdue + installment 2's interest accrued 14 of 28 days = 69.25; waived 6.65 + 1.30.
    New schedule on 10,000.00 at 1.5 %: level payment 1,755.25; the first installment's
    interest is 150.00 + its carried 150.00 + 69.25 = 369.25, principal 1,605.25."""
    plan = Plan(plan_id="P-2", kind=PlanKind.REAGE, effective_on=START, terms=6,
                first_due_on=date(2026, 3, 15),
                treatments=((Component.PENALTY, Treatment.WAIVE),
                            (Component.COMPOUND, Treatment.WAIVE)))
    loan = with_plan(make_loan(), plan)
    state = state_on(loan, [], START)
    new = [row for row in state.installments if row.number > 12]
    assert len(new) == 6 and new[0].due_date == date(2026, 3, 15)
    assert (new[0].principal, new[0].interest) == (160_525, 36_925)
    assert sum(row.principal for row in new) == 1_000_000
    assert (state.waived.penalty, state.waived.compound) == (665, 130)
    status = summarize(loan, state)
    assert (status.dpd, status.status) == (0, LoanStatus.CURRENT)
    assert status.first_delinquency_on == date(2026, 2, 16)


def test_reage_can_capitalise_a_bucket_into_principal():
    plan = Plan(plan_id="P-3", kind=PlanKind.REAGE, effective_on=START, terms=3,
                first_due_on=date(2026, 4, 1),
                treatments=((Component.PENALTY, Treatment.CAPITALISE),
                            (Component.COMPOUND, Treatment.CAPITALISE),
                            (Component.INTEREST, Treatment.SPREAD)))
    state = state_on(with_plan(make_loan(), plan), [], START)
    new = [row for row in state.installments if row.number > 12]
    # 10,000.00 + 6.65 + 1.30 capitalised; 150.00 + 69.25 interest shared by three.
    assert sum(row.principal for row in new) == 1_000_795
    assert state.capitalised.penalty == 665 and state.capitalised.compound == 130
    base = [row.interest for row in new]
    spread_share = 21_925 // 3
    assert base[1] - spread_share == round(1_000_795 - new[0].principal) * 0 + base[1] - 7_308


def test_reamortize_spreads_overdue_principal_over_the_future_installments():
    """766.80 of overdue principal over the 11 installments from 2026-03-15: 69.70 each
    (76,680 ÷ 11 = 6,970.9 → 6,970 with 10 left for the last). Installment 2 also bears
    interest on the 766.80 for the rest of its period: 11.50 × 14/28 = 5.75."""
    loan = with_plan(make_loan(), Plan(plan_id="P-4", kind=PlanKind.REAMORTIZE,
                                       effective_on=START))
    state = state_on(loan, [], START)
    rows = state.installments
    assert rows[0].principal == 0 and rows[0].interest == 15_000  # interest stays overdue
    assert rows[1].principal == 77_830 + 6_970
    assert rows[1].interest == 13_850 + 575
    assert rows[-1].principal == initial_state(loan).installments[-1].principal + 6_980
    assert sum(r.principal for r in rows) == 1_000_000


def test_holiday_moves_what_falls_due_in_it_and_freezes_dpd():
    """Holiday 2026-03-01..2026-04-30: installment 2 (due 03-15) and later move by two months;
    installment 1 stays overdue but its DPD stays 13 and it accrues nothing while paused."""
    loan = with_plan(make_loan(), Plan(plan_id="P-5", kind=PlanKind.HOLIDAY,
                                       effective_on=START, until=date(2026, 4, 30)))
    for day in (START, date(2026, 3, 20), date(2026, 4, 30)):
        status = figures(loan, [], day)
        assert status.dpd == 13
        assert status.penalty_interest == 665
    assert figures(loan, [], date(2026, 5, 1)).dpd == 14
    state = state_on(loan, [], START)
    assert state.installments[1].due_date == date(2026, 5, 15)
    assert all(not START <= row.due_date <= date(2026, 4, 30) for row in state.installments)


def test_waiver_forgives_a_share_of_the_charges():
    loan = with_plan(make_loan(), Plan(
        plan_id="P-6", kind=PlanKind.WAIVER, effective_on=START,
        waive=((Component.PENALTY, D(1)), (Component.COMPOUND, D("0.5")))))
    state = state_on(loan, [], EVE + timedelta(days=1))
    # The whole 6.65 of penalty and half the 1.30 of compound; the day's accrual then adds on.
    assert (state.waived.penalty, state.waived.compound) == (665, 65)
    assert state.installments[0].penalty_accrued == 511_200  # 2026-03-01's accrual only


def test_rate_reduction_reprices_the_remaining_installments():
    """12 % from 2026-03-01: installment 2 keeps 14/28 of 138.50 at the old rate (69.25) and
    bears 14/28 of 923,320 × 1 % = 92.33 → 46.17 (half-up 46.165); later ones bear 1 %."""
    loan = with_plan(make_loan(), Plan(plan_id="P-7", kind=PlanKind.RATE_REDUCTION,
                                       effective_on=START, rate=D("0.12")))
    rows = state_on(loan, [], START).installments
    assert rows[1].interest == 6_925 + 4_617
    assert rows[2].interest == round((1_000_000 - 76_680 - 77_830) * 0.01)


def test_settlement_paid_in_time_waives_the_rest_and_settles():
    offer = Plan(plan_id="P-8", kind=PlanKind.SETTLEMENT, effective_on=START,
                 until=date(2026, 3, 31), amount=800_000)
    loan = with_plan(make_loan(), offer)
    paid = [Payment(key="a", on=date(2026, 3, 5), amount=300_000),
            Payment(key="b", on=date(2026, 3, 10), amount=550_000)]
    # The quote the day before the offer is completed, after the first 3,000.00.
    quote = summarize(loan, state_on(loan, paid[:1], date(2026, 3, 9))).payoff_amount
    state = state_on(loan, paid, date(2026, 3, 10))
    status = summarize(loan, state)
    assert (status.status, status.payoff_amount, status.total_due) == (LoanStatus.SETTLED, 0, 0)
    assert state.unapplied == 50_000  # paid beyond the offer: the borrower's credit
    assert state.waived.total() == quote - 500_000
    lapsed = state_on(loan, [Payment(key="a", on=date(2026, 3, 5), amount=300_000)],
                      date(2026, 4, 10))
    assert summarize(loan, lapsed).status is not LoanStatus.SETTLED
    assert lapsed.waived.total() == 0
    late = figures(loan, [Payment(key="a", on=date(2026, 4, 2), amount=800_000)],
                   date(2026, 4, 2))
    assert late.status is not LoanStatus.SETTLED  # the offer had lapsed: nothing waived


@pytest.mark.parametrize("day", range(17, 24))
def test_a_settlement_completed_in_a_grace_window_forgives_only_what_the_quote_asked(day):
    """Nothing paid; installment 3 falls due on 04-15 with five days of grace; an offer of
    1,000.00, less than installment 1 asks, opens on 04-16 and is paid whole on `day`. Inside
    the window installment 3 is settled within its grace: the penalty it accrued there was
    never owed, so the quote left it out and nothing of it is forgiven (a concession) or
    recognised (income); after it, that penalty was owed (recognised when the window closed)
    and is forgiven with the rest. Either way what is forgiven is the quote less the offer."""
    offer = Plan(plan_id="S", kind=PlanKind.SETTLEMENT, effective_on=date(2026, 4, 16),
                 until=date(2026, 5, 31), amount=100_000)
    loan = with_plan(make_loan(grace_days=5), offer)
    paid_on = date(2026, 4, day)
    before = state_on(loan, [], paid_on - timedelta(days=1))
    assert before.installments[2].penalty_accrued > 0
    quote = summarize(loan, before).payoff_amount
    after = state_on(loan, [Payment(key="s", on=paid_on, amount=100_000)], paid_on)
    assert summarize(loan, after).status is LoanStatus.SETTLED
    assert after.waived.total() == quote - 100_000
    entry = dict(postings(position(loan, before), position(loan, after)))
    assert entry[Account.CONCESSION] == after.waived.total()
    assert Account.PENALTY_INCOME not in entry


@settings(max_examples=200, deadline=None)
@given(histories(max_payments=3), st.integers(1, 400), st.integers(1, 99))
def test_a_settlement_paid_whole_forgives_the_quote_less_the_offer(case, offset, percent):
    """On any loan and history, in or out of any grace window, an offer paid whole in one
    payment settles the loan and forgives exactly the quote of the day before less the
    offer, all of it a concession: nothing the quote did not ask for is forgiven, so no
    penalty or compound is recognised in forgiving it."""
    loan, payments = case
    paid_on = loan.disbursed_on + timedelta(days=offset)
    earlier = tuple(p for p in payments if p.on < paid_on)
    before = state_on(loan, earlier, paid_on - timedelta(days=1))
    quote = summarize(loan, before).payoff_amount
    assume(quote > 1 and not before.unapplied)
    amount = max(1, quote * percent // 100)
    offer = Plan(plan_id="S", kind=PlanKind.SETTLEMENT, effective_on=paid_on, until=paid_on,
                 amount=amount)
    planned = with_plan(loan, offer)
    after = state_on(planned, (*earlier, Payment(key="s", on=paid_on, amount=amount)), paid_on)
    assert summarize(planned, after).status is LoanStatus.SETTLED
    assert after.waived.total() == quote - amount
    entry = dict(postings(position(planned, before), position(planned, after)))
    assert entry.get(Account.CONCESSION, 0) == quote - amount
    # Interest the current period had earned becomes income as it is forgiven; a charge is
    # income only once chargeable, as the quote asked for it.
    assert not {Account.PENALTY_INCOME, Account.COMPOUND_INCOME} & entry.keys()


def test_a_plan_on_a_written_off_or_settled_loan_is_refused():
    written_off = replace(make_loan(), written_off_on=date(2026, 2, 20))
    plan = Plan(plan_id="P-9", kind=PlanKind.DEFERRAL, effective_on=START, months=1)
    with pytest.raises(InvalidPlan, match="written off"):
        state_on(with_plan(written_off, plan), [], START)
    loan = make_loan()
    quote = summarize(loan, state_on(loan, [], date(2026, 2, 1))).payoff_amount
    with pytest.raises(InvalidPlan, match="settled"):
        state_on(with_plan(loan, plan), [Payment(key="p", on=date(2026, 2, 2), amount=quote)],
                 START)


@pytest.mark.parametrize("plan, field", [
    (Plan(plan_id="x", kind=PlanKind.DEFERRAL, effective_on=START, months=0), "plan.months"),
    (Plan(plan_id="x", kind=PlanKind.REAGE, effective_on=START, terms=6), "plan.first_due_on"),
    (Plan(plan_id="x", kind=PlanKind.REAGE, effective_on=START, terms=6,
          first_due_on=date(2026, 4, 1), method=Method.BULLET), "plan.method"),
    (Plan(plan_id="x", kind=PlanKind.HOLIDAY, effective_on=START,
          until=date(2026, 2, 1)), "plan.until"),
    (Plan(plan_id="x", kind=PlanKind.SETTLEMENT, effective_on=START,
          until=date(2026, 4, 1)), "plan.amount"),
    (Plan(plan_id="x", kind=PlanKind.WAIVER, effective_on=START,
          waive=((Component.PRINCIPAL, D(1)),)), "plan.waive"),
    (Plan(plan_id="x", kind=PlanKind.WAIVER, effective_on=START,
          waive=((Component.PENALTY, D("1.5")),)), "plan.waive.penalty"),
    (Plan(plan_id="x", kind=PlanKind.RATE_REDUCTION, effective_on=START), "plan.rate"),
    (Plan(plan_id="x", kind=PlanKind.RATE_REDUCTION, effective_on=START, rate=D("0.3")),
     "plan.rate"),
])
def test_incoherent_plans_are_refused_naming_the_field(plan, field):
    with pytest.raises(InvalidPlan) as refused:
        state_on(with_plan(make_loan(), plan), [], date(2026, 4, 1))
    assert refused.value.field == field


def test_holidays_never_overlap():
    first = Plan(plan_id="h1", kind=PlanKind.HOLIDAY, effective_on=START,
                 until=date(2026, 3, 31))
    second = Plan(plan_id="h2", kind=PlanKind.HOLIDAY, effective_on=date(2026, 3, 31),
                  until=date(2026, 4, 30))
    with pytest.raises(InvalidPlan, match="overlaps"):
        check_sequence((first, second))


def test_preview_shows_both_schedules_totals_waivers_and_the_apr_against_the_cap():
    plan = Plan(plan_id="P-2", kind=PlanKind.REAGE, effective_on=START, terms=6,
                first_due_on=date(2026, 3, 15),
                treatments=((Component.PENALTY, Treatment.WAIVE),
                            (Component.COMPOUND, Treatment.WAIVE)))
    shown = preview(make_loan(), [], plan)
    assert shown.before.installments[0].due_date == date(2026, 2, 15)
    assert len([r for r in shown.after.installments if r.number > 12]) == 6
    assert (shown.waived.penalty, shown.waived.compound) == (665, 130)
    assert shown.borrower_total_after == sum(
        r.unpaid_principal + r.unpaid_interest + r.unpaid_fee for r in shown.after.installments)
    assert shown.apr is not None and not shown.exceeds_cap
    costly = replace(plan, rate=D("0.5"))
    assert preview(make_loan(), [], costly).exceeds_cap


def test_a_back_dated_payment_before_a_plan_replays_across_it():
    plan = Plan(plan_id="P-2", kind=PlanKind.REAGE, effective_on=START, terms=6,
                first_due_on=date(2026, 3, 15))
    loan = with_plan(make_loan(), plan)
    without = state_on(loan, [], date(2026, 3, 20))
    with_payment = state_on(loan, [Payment(key="late", on=date(2026, 2, 20), amount=91_680)],
                            date(2026, 3, 20))
    new_principal = sum(r.principal for r in with_payment.installments if r.number > 12)
    # Paid on 2026-02-20, before that day's accrual: 4 days of penalty (766.80 × 0.24 / 360 ×
    # 4 = 2.0448 → 2.04) and compound (0.40) first, then 150.00 interest, then principal.
    assert new_principal == 1_000_000 - (91_680 - 204 - 40 - 15_000)
    assert sum(r.principal for r in without.installments if r.number > 12) == 1_000_000


# --- properties ---------------------------------------------------------------------------


@st.composite
def plans_for(draw: st.DrawFn, loan: Loan, kinds: tuple[PlanKind, ...]) -> Plan:
    kind = draw(st.sampled_from(kinds))
    effective = loan.disbursed_on + timedelta(days=draw(st.integers(1, 30 * loan.terms + 60)))
    buckets = (Component.INTEREST, Component.FEE, Component.PENALTY, Component.COMPOUND)
    treatments = tuple((c, draw(st.sampled_from(list(Treatment)))) for c in buckets)
    return Plan(
        plan_id="P", kind=kind, effective_on=effective,
        months=draw(st.integers(1, 6)), terms=draw(st.integers(1, 24)),
        first_due_on=effective + timedelta(days=draw(st.integers(1, 45))),
        method=draw(st.sampled_from([None, Method.EQUAL_INSTALLMENT, Method.EQUAL_PRINCIPAL,
                                     Method.INTEREST_ONLY])),
        treatments=treatments,
        rate=draw(st.sampled_from([None, D(0), D("0.05")])) if kind is not
        PlanKind.RATE_REDUCTION else D("0.01"),
        until=effective + timedelta(days=draw(st.integers(0, 120))),
        amount=draw(st.integers(1, loan.principal)),
        waive=((Component.PENALTY, D(1)), (Component.COMPOUND, D("0.5")),
               (Component.FEE, D("0.25"))),
    )


@st.composite
def planned(draw: st.DrawFn, kinds: tuple[PlanKind, ...] = tuple(PlanKind)
            ) -> tuple[Loan, tuple[Payment, ...], Plan]:
    loan, payments = draw(histories(max_payments=3, hold=True))
    plan = draw(plans_for(loan, kinds))
    earlier = tuple(p for p in payments if p.on < plan.effective_on)
    return loan, earlier, plan


def _with(loan: Loan, payments, plan: Plan) -> tuple[Loan, LoanState] | None:
    planned_loan = with_plan(loan, plan)
    try:
        return planned_loan, state_on(planned_loan, payments, plan.effective_on)
    except InvalidPlan:
        return None


def _pay_as_scheduled(loan: Loan, state: LoanState) -> LoanState:
    """Pay exactly what is due on each date something falls due, until nothing is owed."""
    for step in range(len(state.installments) + 3):
        if all(row.is_paid for row in state.installments):
            break
        day = state.as_of + timedelta(days=1)
        unpaid = [row.due_date for row in state.installments if not row.is_paid]
        next_due = max(day, min(unpaid))
        state, _ = advance(loan, state, [], next_due - timedelta(days=1))
        amount = due_on(loan, state, next_due)
        payments = [Payment(key=f"s{step}", on=next_due, amount=amount)] if amount else []
        state, _ = advance(loan, state, payments, next_due)
    return state


SCHEDULED = (PlanKind.DEFERRAL, PlanKind.REAGE, PlanKind.REAMORTIZE, PlanKind.HOLIDAY,
             PlanKind.RATE_REDUCTION, PlanKind.WAIVER)


@given(planned(SCHEDULED))
def test_paying_the_new_schedule_on_its_dates_settles_with_nothing_left(case):
    loan, payments, plan = case
    found = _with(loan, payments, plan)
    assume(found is not None)
    planned_loan, state = found
    assume(loan.written_off_on is None)
    final = summarize(planned_loan, _pay_as_scheduled(planned_loan, state))
    assert final.status is LoanStatus.SETTLED
    assert (final.payoff_amount, final.total_due, final.principal_outstanding) == (0, 0, 0)


@given(planned((PlanKind.REAGE,)))
def test_reage_conserves_principal_cures_dpd_and_keeps_the_first_delinquency(case):
    loan, payments, plan = case
    eve = plan.effective_on - timedelta(days=1)
    before = state_on(loan, payments, eve)
    found = _with(loan, payments, plan)
    assume(found is not None)
    planned_loan, state = found
    remaining = sum(row.unpaid_principal for row in before.installments)
    new = [row for row in state.installments if row.number > len(before.installments)]
    assert sum(row.principal for row in new) == remaining + state.capitalised.total()
    after = summarize(planned_loan, state)
    assert after.dpd == 0
    was = summarize(loan, before)
    if was.dpd > 0:
        assert after.first_delinquency_on == was.first_delinquency_on


@given(planned((PlanKind.HOLIDAY,)))
def test_a_holiday_freezes_dpd(case):
    loan, payments, plan = case
    found = _with(loan, payments, plan)
    assume(found is not None)
    planned_loan, _ = found
    assert plan.until is not None
    eve = summarize(loan, state_on(loan, payments, plan.effective_on - timedelta(days=1)))
    for day in (plan.effective_on, plan.until):
        assert figures(planned_loan, payments, day).dpd == eve.dpd


@given(planned())
def test_plans_post_balanced_entries_and_concessions_equal_what_was_waived(case):
    loan, payments, plan = case
    found = _with(loan, payments, plan)
    assume(found is not None)
    planned_loan, state = found
    before = state_on(loan, payments, plan.effective_on - timedelta(days=1))
    at_start = replace(before, as_of=before.as_of)
    entry = postings(position(loan, at_start), position(planned_loan, state))
    # The entry spans the plan and the day's accrual; both balance.
    assert sum(amount for _, amount in entry) == 0
    concession = sum(amount for account, amount in entry if account is Account.CONCESSION)
    assert concession == state.waived.total() - before.waived.total()


@given(planned(), st.integers(1, 90))
def test_end_of_day_under_a_plan_day_by_day_equals_one_jump(case, days):
    loan, payments, plan = case
    found = _with(loan, payments, plan)
    assume(found is not None)
    planned_loan, _ = found
    through = plan.effective_on + timedelta(days=days)
    start = max(loan.disbursed_on, plan.effective_on - timedelta(days=2))
    state = state_on(planned_loan, [p for p in payments if p.on <= start], start)
    day = state.as_of
    while day < through:
        day += timedelta(days=1)
        state, _ = advance(planned_loan, state, [p for p in payments if p.on == day], day)
    assert state == state_on(planned_loan, [p for p in payments if p.on <= through], through)
