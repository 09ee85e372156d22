"""What a plan would do, side by side: the old and new installments, what the borrower pays
in total before and after, what is waived or capitalised, and the APR of the new cash flows
against the jurisdiction's cap (DESIGN §9 APR; CN-19, CN-20).

The APR treats the debt owed when the plan takes effect (its payoff quote) as the amount
financed and the new schedule as the repayments, month by month from the plan's date: it
measures what the plan itself costs, so a re-age at the contract rate shows that rate.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal

from arrears.domain import accrual
from arrears.domain.apr import Apr, apr_of, exceeds_cap
from arrears.domain.errors import DomainError
from arrears.domain.loan import (
    InstallmentState,
    Loan,
    LoanState,
    Payment,
    restructure,
    state_on,
    summarize,
)
from arrears.domain.plans import ByComponent, InvalidPlan, Plan, PlanKind, check_sequence
from arrears.domain.product import DEFAULT_APR_CAPS

# Months from a day count, in integers: days × 12 ÷ 365.25 = days × 48 ÷ 1461.
_DAYS_PER_4_YEARS = 1461


@dataclass(frozen=True, slots=True, kw_only=True)
class PlanPreview:
    plan: Plan
    before: LoanState
    after: LoanState
    borrower_total_before: int
    borrower_total_after: int
    waived: ByComponent
    capitalised: ByComponent
    apr: Apr | None
    cap: Decimal
    exceeds_cap: bool


def owed_in_total(loan: Loan, state: LoanState) -> int:
    """Everything the schedule still asks of the borrower: unpaid principal, interest and fees
    of every installment plus the penalty and compound accrued, less credit held."""
    rounding = loan.product.rounding
    total = 0
    for row in state.installments:
        total += row.unpaid_principal + row.unpaid_interest + row.unpaid_fee
        total += accrual.to_minor(row.penalty_accrued, rounding) - row.penalty_paid
        total += accrual.to_minor(row.compound_accrued, rounding) - row.compound_paid
    return total - state.unapplied


def _months(start: date, due: date) -> int:
    days = (due - start).days
    return max(1, (2 * days * 48 + _DAYS_PER_4_YEARS) // (2 * _DAYS_PER_4_YEARS))


def _owed(row: InstallmentState, loan: Loan) -> int:
    rounding = loan.product.rounding
    return (row.unpaid_principal + row.unpaid_interest + row.unpaid_fee
            + accrual.to_minor(row.penalty_accrued, rounding) - row.penalty_paid
            + accrual.to_minor(row.compound_accrued, rounding) - row.compound_paid)


def new_cash_flows(loan: Loan, before: LoanState, after: LoanState, day: date) -> list[Decimal]:
    """Monthly flows from `day`: minus the debt owed then, plus what falls due each month."""
    # The quote nets the credit held; the credit is applied to the new installments later,
    # so the debt financed is gross of it.
    financed = summarize(loan, before).payoff_amount + before.unapplied
    flows = [Decimal(-financed)]
    for row in after.installments:
        owed = _owed(row, loan)
        if owed <= 0:
            continue
        slot = 0 if row.due_date <= day else _months(day, row.due_date)
        while len(flows) <= slot:
            flows.append(Decimal(0))
        flows[slot] += owed
    return flows


def preview(loan: Loan, payments: Iterable[Payment], plan: Plan,
            caps: Mapping[str, Decimal] = DEFAULT_APR_CAPS) -> PlanPreview:
    """The plan applied at the start of its effective date to the loan with `payments`."""
    proposed = replace(loan, plans=check_sequence((*loan.plans, plan)))
    day = plan.effective_on
    if day <= loan.disbursed_on:
        raise InvalidPlan("plan.effective_on", "must be after the disbursement date")
    earlier = [p for p in payments if p.on < day]
    before = state_on(proposed, earlier, day - timedelta(days=1))
    after = restructure(proposed, before, plan)
    if plan.kind is PlanKind.SETTLEMENT:
        total_after = min(plan.amount, owed_in_total(loan, before))
    else:
        total_after = owed_in_total(proposed, after)
    cap = caps[loan.product.jurisdiction]
    apr: Apr | None = None
    if plan.kind is not PlanKind.SETTLEMENT:
        try:
            apr = apr_of(new_cash_flows(proposed, before, after, day))
        except DomainError:
            apr = None  # nothing left to spread (the plan only forgives): no rate to state
    waived = ByComponent(**{c.value: after.waived.of(c) - before.waived.of(c)
                            for c, _ in after.waived.items()})
    capitalised = ByComponent(**{c.value: after.capitalised.of(c) - before.capitalised.of(c)
                                 for c, _ in after.capitalised.items()})
    return PlanPreview(
        plan=plan, before=before, after=after,
        borrower_total_before=owed_in_total(loan, before),
        borrower_total_after=total_after, waived=waived, capitalised=capitalised,
        apr=apr, cap=cap, exceeds_cap=apr is not None and exceeds_cap(apr, cap),
    )
