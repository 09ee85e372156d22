"""The borrower's statement of the debt: how every figure of a loan was arrived at.

`explain` replays the loan one business date at a time through `loan.advance` — the same
engine end-of-day and the payment handlers use — and reads each day's accrual off the
difference between consecutive states. So the explanation cannot disagree with the loan's
figures: the accrual lines and adjustments of an installment add up, in sub-minor units, to
exactly its `penalty_accrued` and `compound_accrued`, and the payment allocations are the
replay's, so a back-dated payment restates every later allocation as the book does.

A day's change that is not that day's accrual (penalty waived because the installment was
paid within its grace window, a plan that waives, moves or closes accrued charges, a settlement
that closes the loan) is an *adjustment*, dated and named after the event that made it.

The Regulation F itemization (US-21) is the payoff amount on an itemization date and today,
with what happened between: interest and fees charged, payments received, credits (waivers).
Interest is the balancing figure, so the itemization reconciles exactly (the US-21 test
`amount + interest + fees − payments − credits = current`); a plan that turns accrued penalty
into a fixed charge therefore shows it as a fee, not interest.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum

from arrears.domain import accrual
from arrears.domain.errors import InvalidLoan
from arrears.domain.loan import (
    InstallmentState,
    Loan,
    LoanState,
    Payment,
    PaymentApplied,
    Summary,
    advance,
    apply_payment,
    initial_state,
    summarize,
    unique_payments,
)
from arrears.domain.plans import PlanKind
from arrears.domain.product import Component
from arrears.domain.schedule import ScheduledInstallment, build_schedule

ONE_DAY = timedelta(days=1)
ACCRUED = (Component.PENALTY, Component.COMPOUND)
CREDIT_KEY_PREFIX = "credit:"
"""`loan.advance` names the application of held credit `credit:<due date>`."""


class Basis(StrEnum):
    """Which US-21 itemization date a statement uses (12 CFR 1006.34(b)(3))."""

    CHARGE_OFF = "charge_off"
    LAST_PAYMENT = "last_payment"
    TRANSACTION = "transaction"


@dataclass(frozen=True, slots=True, kw_only=True)
class AccrualLine:
    """Consecutive days on which one installment accrued one charge on the same base at the
    same rate. `daily` is in sub-minor units (1/10,000 of a minor unit), as accrued."""

    installment: int
    component: Component
    first: date
    last: date
    base: int
    rate: Decimal
    year_days: int
    daily: int

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    @property
    def total(self) -> int:
        return self.days * self.daily


@dataclass(frozen=True, slots=True, kw_only=True)
class Adjustment:
    """A change to an installment's accrued charge (sub-minor units) that is not accrual."""

    installment: int
    component: Component
    on: date
    amount: int
    reason: str  # grace_waiver | settlement | plan
    plan_id: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Itemization:
    """US-21 debt information: minor units, the payoff amount then and now."""

    on: date
    basis: Basis
    amount: int
    interest: int
    fees: int
    payments: int
    credits: int
    current: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Explanation:
    loan: Loan
    schedule: tuple[ScheduledInstallment, ...]
    state: LoanState
    summary: Summary
    applied: tuple[PaymentApplied, ...]
    lines: tuple[AccrualLine, ...]
    adjustments: tuple[Adjustment, ...]
    itemization: Itemization | None

    def accrued_from_lines(self, number: int, component: Component) -> int:
        """What the lines and adjustments of one installment's charge add up to."""
        return (sum(line.total for line in self.lines
                    if line.installment == number and line.component is component)
                + sum(a.amount for a in self.adjustments
                      if a.installment == number and a.component is component))


def accrued(row: InstallmentState, component: Component) -> int:
    return row.penalty_accrued if component is Component.PENALTY else row.compound_accrued


def _accrues(loan: Loan, after: LoanState, row: InstallmentState, day: date) -> bool:
    """Whether `row` accrues on `day` (the conditions of `loan._Engine.accrue_through`)."""
    if loan.written_off_on is not None and day > loan.written_off_on:
        return False
    if row.is_paid or row.due_date >= day:
        return False
    return not any(start <= day <= end for start, end in after.pauses)


def itemization_date(loan: Loan, payments: Iterable[Payment], as_of: date) -> tuple[date, Basis]:
    """The US-21 itemization date this system uses: the charge-off (write-off) date if the loan
    was charged off, else the last payment date, else the transaction (disbursement) date."""
    if loan.written_off_on is not None and loan.written_off_on <= as_of:
        return loan.written_off_on, Basis.CHARGE_OFF
    dates = [p.on for p in payments if p.on <= as_of]
    if dates:
        return max(dates), Basis.LAST_PAYMENT
    return loan.disbursed_on, Basis.TRANSACTION


class _Lines:
    """Open runs of equal daily accruals, closed into lines as bases or rates change."""

    def __init__(self) -> None:
        self.open: dict[tuple[int, Component], AccrualLine] = {}
        self.done: list[AccrualLine] = []

    def add(self, line: AccrualLine) -> None:
        key = (line.installment, line.component)
        run = self.open.get(key)
        if run is not None and run.last + ONE_DAY == line.first and \
                (run.base, run.rate, run.year_days, run.daily) == \
                (line.base, line.rate, line.year_days, line.daily):
            self.open[key] = AccrualLine(
                installment=run.installment, component=run.component, first=run.first,
                last=line.last, base=run.base, rate=run.rate, year_days=run.year_days,
                daily=run.daily)
            return
        if run is not None:
            self.done.append(run)
        self.open[key] = line

    def close(self) -> tuple[AccrualLine, ...]:
        lines = self.done + list(self.open.values())
        return tuple(sorted(lines, key=lambda x: (x.installment, x.component != Component.PENALTY,
                                                  x.first)))


def _reason(loan: Loan, day: date) -> tuple[str, str]:
    """Why accrued charges changed on `day` other than by accrual."""
    for plan in loan.plans:
        if plan.effective_on == day:
            return "plan", plan.plan_id
    for plan in loan.plans:
        if plan.kind is PlanKind.SETTLEMENT and plan.until is not None and \
                plan.effective_on <= day <= plan.until:
            return "settlement", plan.plan_id
    return "grace_waiver", ""


def _step(loan: Loan, before: LoanState, after: LoanState, day: date, lines: _Lines,
          adjustments: list[Adjustment], *, accrue: bool) -> None:
    """Split the change of every installment's accrued charges on `day` into that day's
    accrual (when `accrue`) and adjustments."""
    product = loan.product_on(day)
    earlier = {row.number: row for row in before.installments}
    for row in after.installments:
        previous = earlier.pop(row.number, None)
        for component in ACCRUED:
            delta = accrued(row, component) - (accrued(previous, component) if previous else 0)
            increment = 0
            if accrue and _accrues(loan, after, row, day) and \
                    (component is Component.PENALTY or product.compound):
                base = row.unpaid_principal if component is Component.PENALTY \
                    else row.unpaid_interest
                increment = accrual.daily_increment(base, product.penalty_rate,
                                                    product.day_count.year_days)
                if increment:
                    lines.add(AccrualLine(
                        installment=row.number, component=component, first=day, last=day,
                        base=base, rate=product.penalty_rate,
                        year_days=product.day_count.year_days, daily=increment))
            if delta != increment:
                reason, plan_id = _reason(loan, day)
                adjustments.append(Adjustment(installment=row.number, component=component,
                                              on=day, amount=delta - increment, reason=reason,
                                              plan_id=plan_id))
    for gone in earlier.values():  # a re-age replaces unpaid installments by new ones
        for component in ACCRUED:
            if accrued(gone, component):
                reason, plan_id = _reason(loan, day)
                adjustments.append(Adjustment(installment=gone.number, component=component,
                                              on=day, amount=-accrued(gone, component),
                                              reason=reason, plan_id=plan_id))


def explain(loan: Loan, payments: Iterable[Payment], as_of: date, *,
            open_day_payments: Sequence[Payment] = (),
            itemize: bool = False) -> Explanation:
    """The loan at the end of `as_of` with the working behind every figure.

    `payments` dated after `as_of` are ignored (as `state_on` does); `open_day_payments`,
    dated the day after `as_of`, are applied after its end-of-day and before the next day's
    accrual, as the book applies payments on its open business date. With `itemize`, the US-21
    itemization is computed on `itemization_date`.
    """
    if as_of < loan.disbursed_on:
        raise InvalidLoan("as_of", f"{as_of} is before disbursement on {loan.disbursed_on}")
    ordered = unique_payments(payments)
    open_day = as_of + ONE_DAY
    for position, payment in enumerate(open_day_payments):
        if payment.on != open_day:
            raise InvalidLoan(f"open_day_payments[{position}].on",
                              f"{payment.on} is not the open day {open_day}")
    by_day: dict[date, list[Payment]] = {}
    for payment in ordered:
        if payment.on <= as_of:
            by_day.setdefault(payment.on, []).append(payment)
    item_on, basis = itemization_date(loan, (*ordered, *open_day_payments), as_of)
    then: LoanState | None = None
    state = initial_state(loan)
    applied: list[PaymentApplied] = []
    lines = _Lines()
    adjustments: list[Adjustment] = []
    day = loan.disbursed_on
    while day <= as_of:
        after, today = advance(loan, state, by_day.get(day, ()), day)
        _step(loan, state, after, day, lines, adjustments, accrue=True)
        applied.extend(today)
        state = after
        if day == item_on:
            then = state
        day += ONE_DAY
    for payment in open_day_payments:
        after, one = apply_payment(loan, state, payment)
        _step(loan, state, after, open_day, lines, adjustments, accrue=False)
        applied.append(one)
        state = after
    if item_on == open_day:
        then = state
    summary = summarize(loan, state)
    itemization = None
    if itemize and then is not None:
        itemization = _itemize(state, summary, then, summarize(loan, then), basis, applied)
    return Explanation(
        loan=loan, schedule=build_schedule(loan.principal, loan.product, loan.disbursed_on,
                                           loan.terms),
        state=state, summary=summary, applied=tuple(applied), lines=lines.close(),
        adjustments=tuple(adjustments), itemization=itemization)


def _fee_part(state: LoanState) -> int:
    """Fees in the payoff amount: unpaid fees of installments due by the next day."""
    next_day = state.as_of + ONE_DAY
    return sum(row.unpaid_fee for row in state.installments if row.due_date <= next_day)


def _itemize(state: LoanState, summary: Summary, then: LoanState, then_summary: Summary,
             basis: Basis, applied: Sequence[PaymentApplied]) -> Itemization:
    """US-21: the payoff amount at the end of the itemization date and now, with the fees
    charged, payments received and credits (waivers) between; interest balances."""
    on = then.as_of
    since = [a for a in applied if a.on > on]
    # Held credit applied on a due date is money already counted when it was received.
    payments = sum(a.amount for a in since if not a.key.startswith(CREDIT_KEY_PREFIX))
    credits = state.waived.total() - then.waived.total()
    fees = (_fee_part(state) - _fee_part(then) + sum(a.to_fee for a in since)
            + state.waived.fee - then.waived.fee
            + state.capitalised.fee - then.capitalised.fee)
    current = summary.payoff_amount
    interest = current - then_summary.payoff_amount - fees + payments + credits
    return Itemization(on=on, basis=basis, amount=then_summary.payoff_amount,
                       interest=interest, fees=fees, payments=payments, credits=credits,
                       current=current)
