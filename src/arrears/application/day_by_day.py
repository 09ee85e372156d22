"""How a borrower's penalty (罚息) and compound (复利) interest came to what they owe today,
day by day: the accrual lines of the debt statement (`domain.statement.explain`, the replay
through the loan engine) spread over their days, with the adjustments (grace waivers, plans,
settlements) on the days they happened and a running total, the last `window` days of them
shown; then totals that reconcile, per charge, to the owed figure of the loan's summary.

Daily amounts and running totals keep the sub-minor precision they accrue in (1/10,000 of a
minor unit); only the charged totals are rounded to the minor unit, each installment's by the
product's rounding, as the engine charges them (DESIGN §9 "reading the figures").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from arrears.application.loan_file import money_text, sub_minor_text
from arrears.domain.accrual import to_minor
from arrears.domain.product import Component
from arrears.domain.statement import ACCRUED, CREDIT_KEY_PREFIX, Explanation, accrued

WINDOW_DAYS = 60
"""Days shown one by one; the days before them are carried as one running total."""
ONE_DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True, kw_only=True)
class DayRow:
    """One installment's charge on one day: that day's accrual (base × rate ÷ year days), or
    an adjustment (`reason`: grace_waiver, plan or settlement) with no base or rate."""

    on: date
    installment: int
    component: str
    base: str | None
    rate: Decimal | None
    year_days: int | None
    amount: str
    """Sub-minor precision, signed (an adjustment may take accrual back)."""
    running: str
    """Everything accrued, both charges and every installment, through this row."""
    reason: str = ""
    plan_id: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class ChargeTotal:
    """One charge reconciled: `accrued` + `adjusted` is what the installments hold (sub-minor);
    `charged` is each installment's holding rounded to the minor unit; `owed` is the loan
    summary's figure, and `not_yet` = `charged` − `paid` − `owed` is what is not chargeable
    yet (still inside the grace window, or on an installment not yet due)."""

    component: str
    accrued: str
    adjusted: str
    charged: str
    paid: str
    not_yet: str
    owed: str


@dataclass(frozen=True, slots=True, kw_only=True)
class PaymentRow:
    key: str
    on: date
    amount: str
    credit_applied: bool
    """Held credit applied when an installment fell due (money counted when it came in)."""
    to_fee: str
    to_penalty: str
    to_compound: str
    to_interest: str
    to_principal: str
    to_credit: str


@dataclass(frozen=True, slots=True, kw_only=True)
class DayByDay:
    rows: tuple[DayRow, ...]
    shown_days: int
    """Days the rows cover (at most the window)."""
    earlier_days: int
    """Days with a change before the first row shown."""
    earlier_total: str
    """The running total at the end of those days."""
    totals: tuple[ChargeTotal, ...]
    payments: tuple[PaymentRow, ...]


@dataclass(frozen=True, slots=True)
class _Change:
    on: date
    installment: int
    component: Component
    amount: int
    base: int | None = None
    rate: Decimal | None = None
    year_days: int | None = None
    reason: str = ""
    plan_id: str = ""


def _changes(explanation: Explanation) -> list[_Change]:
    """Every day's accrual and every adjustment, in the order the replay made them."""
    found = [_Change(on=line.first + ONE_DAY * offset, installment=line.installment,
                     component=line.component, amount=line.daily, base=line.base,
                     rate=line.rate, year_days=line.year_days)
             for line in explanation.lines for offset in range(line.days)]
    found += [_Change(on=a.on, installment=a.installment, component=a.component,
                      amount=a.amount, reason=a.reason, plan_id=a.plan_id)
              for a in explanation.adjustments]
    # Within a day: installment by installment, penalty before compound, accrual first.
    return sorted(found, key=lambda c: (c.on, c.installment, c.component is not
                                        Component.PENALTY, c.base is None))


def breakdown(explanation: Explanation, *, window: int = WINDOW_DAYS) -> DayByDay:
    loan, state, cur = explanation.loan, explanation.state, explanation.loan.currency
    changes = _changes(explanation)
    days = sorted({c.on for c in changes})
    shown_from = days[-window] if len(days) > window else date.min
    running = earlier = 0
    rows = []
    for change in changes:
        running += change.amount
        if change.on < shown_from:
            earlier = running
            continue
        rows.append(DayRow(
            on=change.on, installment=change.installment, component=change.component.value,
            base=None if change.base is None else money_text(change.base, cur),
            rate=change.rate, year_days=change.year_days,
            amount=sub_minor_text(change.amount, cur), running=sub_minor_text(running, cur),
            reason=change.reason, plan_id=change.plan_id))
    summary, totals = explanation.summary, []
    for component in ACCRUED:
        penalty = component is Component.PENALTY
        charged = sum(to_minor(accrued(row, component), loan.product.rounding)
                      for row in state.installments)
        paid = sum(row.penalty_paid if penalty else row.compound_paid
                   for row in state.installments)
        owed = summary.penalty_interest if penalty else summary.compound_interest
        totals.append(ChargeTotal(
            component=component.value,
            accrued=sub_minor_text(sum(line.total for line in explanation.lines
                                       if line.component is component), cur),
            adjusted=sub_minor_text(sum(a.amount for a in explanation.adjustments
                                        if a.component is component), cur),
            charged=money_text(charged, cur), paid=money_text(paid, cur),
            not_yet=money_text(charged - paid - owed, cur), owed=money_text(owed, cur)))
    payments = tuple(PaymentRow(
        key=a.key, on=a.on, amount=money_text(a.amount, cur),
        credit_applied=a.key.startswith(CREDIT_KEY_PREFIX),
        to_fee=money_text(a.to_fee, cur), to_penalty=money_text(a.to_penalty, cur),
        to_compound=money_text(a.to_compound, cur), to_interest=money_text(a.to_interest, cur),
        to_principal=money_text(a.to_principal, cur), to_credit=money_text(a.to_credit, cur))
        for a in explanation.applied)
    return DayByDay(rows=tuple(rows),
                    shown_days=len([d for d in days if d >= shown_from]),
                    earlier_days=len([d for d in days if d < shown_from]),
                    earlier_total=sub_minor_text(earlier, cur), totals=tuple(totals),
                    payments=payments)
