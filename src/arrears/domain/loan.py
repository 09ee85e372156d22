"""The loan state engine: a loan, its product and its payments → its state at the end of any day.

Semantics are DESIGN §9. The state after a business date is a compact snapshot
(`LoanState`) from which the next date can be computed without the payment history, which is
what end-of-day needs. Amounts are integer minor units; accrued penalty and compound are
integer sub-minor units (1/10,000 of a minor unit, see `accrual`).

Interpretations of §9 made here (also listed in the README):
- A payment beyond everything due first settles the loan when it covers the remaining
  principal plus the current period's contract interest accrued to the payment date; otherwise
  it reduces future principal (from the last installment back, or re-spread by `reamortize`),
  and the interest of every future installment is recomputed on the principal left for it.
  A future installment whose principal is fully prepaid is cancelled (its fee too).
- Penalty accrues from the day after the due date, grace or not; it becomes chargeable for a
  payment dated after the grace window, and is waived if the installment's principal,
  interest and fees are paid in full within the window.
- Accrual stops after the write-off date; payments after it are still applied (recoveries).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal

from arrears.domain import accrual
from arrears.domain.delinquency import Bucket, LoanStatus, bucket, days_past_due
from arrears.domain.errors import InvalidLoan, PaymentRejected
from arrears.domain.product import Component, EarlyPayment, Method, Prepayment, Product
from arrears.domain.schedule import build_schedule, period_interest, respread, round_units
from arrears.domain.waterfall import apply_in_order

ONE_DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True, kw_only=True)
class Loan:
    """A disbursed loan. `principal` is in minor units of `currency`."""

    loan_id: str
    currency: str
    principal: int
    disbursed_on: date
    terms: int
    product: Product
    written_off_on: date | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Payment:
    """Money received for a loan, dated `on`. `key` makes a retried payment post once."""

    key: str
    on: date
    amount: int


@dataclass(frozen=True, slots=True, kw_only=True)
class InstallmentState:
    """One installment's amounts: scheduled, paid, and accrued (sub-minor for accruals)."""

    number: int
    due_date: date
    principal: int
    interest: int
    fee: int
    paid_principal: int = 0
    paid_interest: int = 0
    paid_fee: int = 0
    penalty_accrued: int = 0
    penalty_paid: int = 0
    compound_accrued: int = 0
    compound_paid: int = 0

    @property
    def unpaid_principal(self) -> int:
        return self.principal - self.paid_principal

    @property
    def unpaid_interest(self) -> int:
        return self.interest - self.paid_interest

    @property
    def unpaid_fee(self) -> int:
        return self.fee - self.paid_fee

    @property
    def is_paid(self) -> bool:
        """Principal, interest and fee all paid (penalty does not make it overdue)."""
        return self.unpaid_principal == 0 and self.unpaid_interest == 0 and self.unpaid_fee == 0


@dataclass(frozen=True, slots=True, kw_only=True)
class LoanState:
    """The loan at the end of `as_of`: enough to compute the next day without the history."""

    as_of: date
    installments: tuple[InstallmentState, ...]
    prepaid_principal: int = 0
    unapplied: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class PaymentApplied:
    """How one payment was applied: minor units per component, and any excess kept as credit."""

    key: str
    on: date
    amount: int
    to_fee: int
    to_penalty: int
    to_compound: int
    to_interest: int
    to_principal: int
    to_credit: int


def initial_state(loan: Loan) -> LoanState:
    """The state at disbursement, before any payment on the disbursement date."""
    schedule = build_schedule(loan.principal, loan.product, loan.disbursed_on, loan.terms)
    installments = tuple(
        InstallmentState(number=row.number, due_date=row.due_date, principal=row.principal,
                         interest=row.interest, fee=row.fee)
        for row in schedule
    )
    return LoanState(as_of=loan.disbursed_on - ONE_DAY, installments=installments)


def chargeable(installment: InstallmentState, product: Product, paid_on: date) -> tuple[int, int]:
    """(penalty, compound) a payment dated `paid_on` must cover for this installment, in minor
    units: nothing while the grace window is open, the rounded accrual after it."""
    if paid_on <= installment.due_date + timedelta(days=product.grace_days):
        return 0, 0
    penalty = accrual.to_minor(installment.penalty_accrued, product.rounding)
    compound = accrual.to_minor(installment.compound_accrued, product.rounding)
    return penalty - installment.penalty_paid, compound - installment.compound_paid


def owed_on(installment: InstallmentState, product: Product, paid_on: date) -> dict[Component, int]:
    """What one installment owes a payment dated `paid_on`, by component."""
    penalty, compound = chargeable(installment, product, paid_on)
    return {
        Component.FEE: installment.unpaid_fee,
        Component.PENALTY: penalty,
        Component.COMPOUND: compound,
        Component.INTEREST: installment.unpaid_interest,
        Component.PRINCIPAL: installment.unpaid_principal,
    }


class _Engine:
    """Working copy of one loan's state. Private: callers get frozen snapshots."""

    def __init__(self, loan: Loan, state: LoanState) -> None:
        self.loan = loan
        self.product = loan.product
        self.rows = list(state.installments)
        self.prepaid = state.prepaid_principal
        self.unapplied = state.unapplied
        self.cursor = state.as_of
        self.applied: list[PaymentApplied] = []

    def snapshot(self) -> LoanState:
        return LoanState(as_of=self.cursor, installments=tuple(self.rows),
                         prepaid_principal=self.prepaid, unapplied=self.unapplied)

    # --- accrual -------------------------------------------------------------------------

    def accrue_through(self, last_day: date) -> None:
        """Accrue every day after the cursor through `last_day`. Bases only change on payment
        days, which the caller steps through, so each installment's base is constant here; an
        installment accrues on the days after its due date."""
        written_off = self.loan.written_off_on
        stop = last_day if written_off is None else min(last_day, written_off)
        if stop > self.cursor:
            rate = self.product.penalty_rate
            year_days = self.product.day_count.year_days
            for index, row in enumerate(self.rows):
                days = (stop - max(self.cursor, row.due_date)).days
                if days <= 0 or row.is_paid:
                    continue
                penalty = accrual.accrue(row.unpaid_principal, rate, year_days, days)
                compound = (accrual.accrue(row.unpaid_interest, rate, year_days, days)
                            if self.product.compound else 0)
                if penalty or compound:
                    self.rows[index] = replace(
                        row, penalty_accrued=row.penalty_accrued + penalty,
                        compound_accrued=row.compound_accrued + compound)
        self.cursor = max(self.cursor, last_day)

    # --- payments ------------------------------------------------------------------------

    def pay(self, payment: Payment) -> None:
        """Apply a payment dated the day after the cursor, before that day's accrual."""
        day = payment.on
        totals = dict.fromkeys(Component, 0)
        remaining = payment.amount
        grace_end = timedelta(days=self.product.grace_days)
        for index, row in enumerate(self.rows):
            if row.due_date > day or remaining == 0:
                break
            allocation, remaining = apply_in_order(
                remaining, owed_on(row, self.product, day), self.product.waterfall)
            if not allocation:
                continue
            for component, value in allocation.items():
                totals[component] += value
            row = replace(
                row,
                paid_fee=row.paid_fee + allocation.get(Component.FEE, 0),
                penalty_paid=row.penalty_paid + allocation.get(Component.PENALTY, 0),
                compound_paid=row.compound_paid + allocation.get(Component.COMPOUND, 0),
                paid_interest=row.paid_interest + allocation.get(Component.INTEREST, 0),
                paid_principal=row.paid_principal + allocation.get(Component.PRINCIPAL, 0),
            )
            if row.is_paid and day <= row.due_date + grace_end:
                row = replace(row, penalty_accrued=0, compound_accrued=0)
            self.rows[index] = row
        to_credit = remaining
        if remaining and not self.holds(remaining, day):
            # Credit already held joins the excess: together they may settle the loan.
            held = self.unapplied
            to_interest, to_principal, left = self.prepay(remaining + held, day)
            totals[Component.INTEREST] += to_interest
            totals[Component.PRINCIPAL] += to_principal
            to_credit = left - held
        self.unapplied += to_credit
        self.applied.append(PaymentApplied(
            key=payment.key, on=day, amount=payment.amount,
            to_fee=totals[Component.FEE], to_penalty=totals[Component.PENALTY],
            to_compound=totals[Component.COMPOUND], to_interest=totals[Component.INTEREST],
            to_principal=totals[Component.PRINCIPAL], to_credit=to_credit,
        ))

    def holds(self, amount: int, day: date) -> bool:
        """A `hold` product keeps money received ahead as credit, unless it (with the credit
        already held) retires every future principal, which settles the loan."""
        if self.product.early_payment is not EarlyPayment.HOLD:
            return False
        outstanding = sum(self.rows[i].unpaid_principal for i in self.future(day))
        return 0 < outstanding and amount + self.unapplied < outstanding

    def apply_credit_through(self, day: date) -> None:
        """Apply held credit on each due date up to `day`, at the start of that date (before
        its payments and its accrual), in the waterfall like a payment."""
        if self.product.early_payment is not EarlyPayment.HOLD:
            return
        for row in list(self.rows):
            due = row.due_date
            if self.unapplied > 0 and self.cursor < due <= day:
                self.accrue_through(due - ONE_DAY)
                credit, self.unapplied = self.unapplied, 0
                self.pay(Payment(key=f"credit:{due.isoformat()}", on=due, amount=credit))

    def future(self, day: date) -> list[int]:
        return [i for i, row in enumerate(self.rows) if row.due_date > day]

    def period_start(self, index: int) -> date:
        return self.loan.disbursed_on if index == 0 else self.rows[index - 1].due_date

    def period_days(self, index: int, day: date) -> tuple[int, int]:
        """(days of installment `index`'s interest period elapsed by `day`, days in it)."""
        row = self.rows[index]
        start = self.period_start(index) if self.product.method is not Method.BULLET \
            else self.loan.disbursed_on
        whole = self.product.day_count.days_between(start, row.due_date)
        elapsed = min(max(0, self.product.day_count.days_between(start, day)), max(whole, 0))
        return elapsed, whole

    def accrued_interest(self, index: int, day: date) -> int:
        """The contract interest of installment `index` accrued to `day`, pro rata by days."""
        row = self.rows[index]
        elapsed, whole = self.period_days(index, day)
        if whole <= 0:
            return row.interest
        return round_units(accrual_ratio(row.interest, elapsed, whole), self.product.rounding)

    def prepay(self, amount: int, day: date) -> tuple[int, int, int]:
        """Apply an excess to future installments; returns (to interest, to principal, left).

        Enough to retire every future principal settles it: the current period's interest
        accrued to `day` becomes that installment's interest, paid as far as the money goes
        (what is left of it stays due on its date). Less reduces future principal; the current
        period keeps the interest accrued so far and is charged the rest on the new balance.
        """
        future = self.future(day)
        outstanding = sum(self.rows[i].unpaid_principal for i in future)
        if not future or outstanding == 0:
            return 0, 0, amount
        accrued = self.accrued_interest(future[0], day)
        if amount >= outstanding:
            to_interest = min(amount - outstanding, accrued)
            for position, index in enumerate(future):
                row = self.rows[index]
                self.rows[index] = replace(
                    row, principal=row.paid_principal,
                    interest=accrued if position == 0 else 0,
                    paid_interest=to_interest if position == 0 else 0, fee=row.paid_fee)
            self.prepaid += outstanding
            return to_interest, outstanding, amount - outstanding - to_interest
        elapsed, whole = self.period_days(future[0], day)
        if self.product.prepayment is Prepayment.REAMORTIZE:
            self.respread_future(future, outstanding - amount)
        else:
            left = amount
            for index in reversed(future):
                row = self.rows[index]
                take = min(left, row.unpaid_principal)
                self.rows[index] = replace(row, principal=row.principal - take)
                left -= take
            self.recompute_future_interest(future)
        if whole > 0:
            first = self.rows[future[0]]
            rest = round_units(accrual_ratio(first.interest, whole - elapsed, whole),
                               self.product.rounding)
            self.rows[future[0]] = replace(first, interest=accrued + rest)
        self.prepaid += amount
        return 0, amount, 0

    def respread_future(self, future: list[int], remaining_principal: int) -> None:
        dates = tuple(self.rows[i].due_date for i in future)
        rows = respread(remaining_principal, self.product, self.period_start(future[0]), dates,
                        first_number=self.rows[future[0]].number,
                        original_principal=self.loan.principal)
        for index, new in zip(future, rows, strict=True):
            self.rows[index] = replace(self.rows[index], principal=new.principal,
                                       interest=new.interest, fee=new.fee)

    def recompute_future_interest(self, future: list[int]) -> None:
        balance = sum(self.rows[i].unpaid_principal for i in future)
        for index in future:
            row = self.rows[index]
            if self.product.method is Method.BULLET:
                interest = period_interest(balance, self.product, self.loan.disbursed_on,
                                           row.due_date, periods=self.loan.terms)
            else:
                interest = period_interest(balance, self.product, self.period_start(index),
                                           row.due_date)
            fee = row.fee if row.unpaid_principal > 0 else row.paid_fee
            self.rows[index] = replace(row, interest=interest, fee=fee)
            balance -= row.unpaid_principal


def accrual_ratio(amount: int, part: int, whole: int) -> Decimal:
    """`amount × part ÷ whole` as an exact Decimal, ready for rounding."""
    return Decimal(amount) * part / whole


def unique_payments(payments: Iterable[Payment]) -> tuple[Payment, ...]:
    """Payments with retried duplicates removed; the same key with other content is refused."""
    seen: dict[str, Payment] = {}
    ordered: list[Payment] = []
    for position, payment in enumerate(payments):
        if payment.amount <= 0:
            raise PaymentRejected(f"payments[{position}].amount", "must be positive")
        earlier = seen.get(payment.key)
        if earlier is None:
            seen[payment.key] = payment
            ordered.append(payment)
        elif earlier != payment:
            raise PaymentRejected(
                f"payments[{position}].key",
                f"{payment.key!r} was already used for {earlier.amount} on {earlier.on}",
            )
    return tuple(ordered)


def advance(
    loan: Loan, state: LoanState, payments: Iterable[Payment], through: date
) -> tuple[LoanState, tuple[PaymentApplied, ...]]:
    """The state at the end of `through`, from `state` and the payments dated after it."""
    engine = _Engine(loan, state)
    todo = sorted(unique_payments(payments), key=lambda p: p.on)
    for position, payment in enumerate(todo):
        if payment.on < loan.disbursed_on:
            raise PaymentRejected(f"payments[{position}].on",
                                  f"{payment.on} is before disbursement on {loan.disbursed_on}")
        if payment.on <= state.as_of:
            raise PaymentRejected(f"payments[{position}].on",
                                  f"{payment.on} is on or before the state date {state.as_of}")
        if payment.on > through:
            break
        engine.apply_credit_through(payment.on)
        engine.accrue_through(payment.on - ONE_DAY)
        engine.pay(payment)
    engine.apply_credit_through(through)
    engine.accrue_through(through)
    return engine.snapshot(), tuple(engine.applied)


def state_on(loan: Loan, payments: Iterable[Payment], as_of: date) -> LoanState:
    """The state at the end of `as_of`."""
    if as_of < loan.disbursed_on:
        raise InvalidLoan("as_of", f"{as_of} is before disbursement on {loan.disbursed_on}")
    return advance(loan, initial_state(loan), payments, as_of)[0]


@dataclass(frozen=True, slots=True, kw_only=True)
class Summary:
    """The figures a servicer, a borrower and a bureau read off a state (minor units)."""

    as_of: date
    dpd: int
    bucket: Bucket
    status: LoanStatus
    principal_outstanding: int
    overdue_principal: int
    overdue_interest: int
    overdue_fee: int
    penalty_interest: int
    compound_interest: int
    total_due: int
    payoff_amount: int
    earliest_overdue_due_date: date | None


def summarize(loan: Loan, state: LoanState) -> Summary:
    """DPD, bucket, status and amounts at the end of `state.as_of`.

    `total_due` and `payoff_amount` are what a payment dated the next day (before that day's
    accrual) must be to bring the loan current, or to settle it (DESIGN §9 payoff quote).
    """
    product = loan.product
    as_of = state.as_of
    next_day = as_of + ONE_DAY
    overdue = [row for row in state.installments if row.due_date < as_of and not row.is_paid]
    earliest = overdue[0].due_date if overdue else None
    dpd = days_past_due(as_of, earliest)
    penalty = compound = total_due = settle_due = 0
    for row in state.installments:
        if row.due_date > next_day:
            break
        owed = owed_on(row, product, next_day)
        settle_due += sum(owed.values())
        if row.due_date <= as_of:
            penalty += owed[Component.PENALTY]
            compound += owed[Component.COMPOUND]
            total_due += sum(owed.values())
    engine = _Engine(loan, state)
    future = engine.future(next_day)
    future_principal = sum(state.installments[i].unpaid_principal for i in future)
    accrued = engine.accrued_interest(future[0], next_day) if future else 0
    outstanding_principal = sum(row.unpaid_principal for row in state.installments)
    if loan.written_off_on is not None and loan.written_off_on <= as_of:
        status = LoanStatus.WRITTEN_OFF
    elif total_due == 0 and all(row.is_paid for row in state.installments):
        status = LoanStatus.SETTLED
    elif dpd > 0:
        status = LoanStatus.OVERDUE
    else:
        status = LoanStatus.CURRENT
    return Summary(
        as_of=as_of, dpd=dpd, bucket=bucket(dpd), status=status,
        principal_outstanding=outstanding_principal,
        overdue_principal=sum(row.unpaid_principal for row in overdue),
        overdue_interest=sum(row.unpaid_interest for row in overdue),
        overdue_fee=sum(row.unpaid_fee for row in overdue),
        penalty_interest=penalty, compound_interest=compound, total_due=total_due,
        payoff_amount=max(0, settle_due + future_principal + accrued - state.unapplied),
        earliest_overdue_due_date=earliest,
    )


def apply_payment(
    loan: Loan, state: LoanState, payment: Payment
) -> tuple[LoanState, PaymentApplied]:
    """Apply a payment dated the open day (the day after `state.as_of`), before its accrual.

    The state keeps its date: the day's accrual happens at that day's end-of-day.
    """
    open_day = state.as_of + ONE_DAY
    if payment.on != open_day:
        raise PaymentRejected("on", f"{payment.on} is not the open business date {open_day}")
    if payment.amount <= 0:
        raise PaymentRejected("amount", "must be positive")
    engine = _Engine(loan, state)
    engine.apply_credit_through(payment.on)
    engine.pay(payment)
    return engine.snapshot(), engine.applied[-1]


def due_on(loan: Loan, state: LoanState, day: date) -> int:
    """What a payment dated `day` (the open day after `state.as_of`) must be to bring the loan
    current: everything owed by installments due on or before `day`."""
    return sum(
        sum(owed_on(row, loan.product, day).values())
        for row in state.installments if row.due_date <= day
    )
