"""The loan state engine: a loan, its product and its payments → its state at the end of any day.

Semantics are DESIGN §9. The state after a business date is a compact snapshot
(`LoanState`) from which the next date can be computed without the payment history, which is
what end-of-day needs. Amounts are integer minor units; accrued penalty and compound are
integer sub-minor units (1/10,000 of a minor unit, see `accrual`).

Interpretations of §9 made here (also listed in the README):
- Money beyond everything due is, under `hold` (the default), kept as credit up to the next
  installment and applied when it falls due; beyond that, or under `prepay`, it reduces future
  principal (from the last installment back, or re-spread by `reamortize`), and the interest of
  every future installment is recomputed on the principal left for it. A future installment
  whose principal is fully prepaid is cancelled (its fee too). Money that covers the payoff
  quote settles the loan; money short of it never strands the interest accrued: `hold` keeps
  it as credit, `prepay` retires principal and makes the interest left due at once.
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
from arrears.domain.plans import (
    BALANCE_BUCKETS,
    NOTHING,
    ByComponent,
    InvalidPlan,
    Plan,
    PlanKind,
    Treatment,
    paused_days,
)
from arrears.domain.product import (
    Component,
    EarlyPayment,
    InterestBasis,
    Method,
    Prepayment,
    Product,
)
from arrears.domain.schedule import (
    ScheduledInstallment,
    add_months,
    build_schedule,
    period_interest,
    respread,
    round_units,
)
from arrears.domain.waterfall import apply_in_order

ONE_DAY = timedelta(days=1)
# Plans that move installments to later dates, write new ones or re-price them: interest an
# installment had earned before such a plan is kept apart from what it accrues after.
REPRICING_PLANS = frozenset({PlanKind.DEFERRAL, PlanKind.HOLIDAY, PlanKind.REAGE,
                             PlanKind.RATE_REDUCTION})


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
    plans: tuple[Plan, ...] = ()  # approved plans, in effective order (`plans.check_sequence`)

    def product_on(self, day: date) -> Product:
        """The product's terms in force on `day`: a rate reduction changes the contract rate."""
        product = self.product
        for plan in self.plans:
            if plan.kind is PlanKind.RATE_REDUCTION and plan.effective_on <= day:
                assert plan.rate is not None
                product = replace(product, annual_rate=plan.rate)
        return product


@dataclass(frozen=True, slots=True, kw_only=True)
class Payment:
    """Money received for a loan, dated `on`. `key` makes a retried payment post once. A
    payment marked `prepayment` reduces future principal with what is left after everything
    due, whatever the product does with other early money (§9)."""

    key: str
    on: date
    amount: int
    prepayment: bool = False


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
    # What of `interest` and `fee` was already earned when a plan moved the installment to a
    # later date or carried arrears into it: owed by a payoff before it falls due (§9).
    interest_earned: int = 0
    fee_earned: int = 0

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
    # What plans did: concessions and balances moved into principal (for the ledger), paused
    # days (no DPD, no accrual), the first delinquency a plan found, and money received
    # towards a settlement offer.
    waived: ByComponent = NOTHING
    capitalised: ByComponent = NOTHING
    pauses: tuple[tuple[date, date], ...] = ()
    delinquent_since: date | None = None
    offer_received: int = 0


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


def initial_state(loan: Loan, schedule: tuple[ScheduledInstallment, ...] | None = None
                  ) -> LoanState:
    """The state at disbursement, before any payment on the disbursement date (from the
    loan's schedule, built here unless the caller has it)."""
    if schedule is None:
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


def paid_towards(installment: InstallmentState, allocation: dict[Component, int],
                product: Product, paid_on: date) -> InstallmentState:
    """The installment once a payment dated `paid_on` put `allocation` (`apply_in_order` over
    `owed_on`) towards it: closed when that pays it within the grace window, so no charges
    are left to pay."""
    paid_fee = installment.paid_fee + allocation.get(Component.FEE, 0)
    penalty_paid = installment.penalty_paid + allocation.get(Component.PENALTY, 0)
    compound_paid = installment.compound_paid + allocation.get(Component.COMPOUND, 0)
    paid_interest = installment.paid_interest + allocation.get(Component.INTEREST, 0)
    paid_principal = installment.paid_principal + allocation.get(Component.PRINCIPAL, 0)
    penalty_accrued, compound_accrued = installment.penalty_accrued, installment.compound_accrued
    if (paid_principal == installment.principal and paid_interest == installment.interest
            and paid_fee == installment.fee
            and paid_on <= installment.due_date + timedelta(days=product.grace_days)):
        # `closed`: what it asks for is what is paid, its charges what was paid of them.
        penalty_accrued, compound_accrued = _closed_accruals(penalty_paid, compound_paid)
    # Every field named, rather than `replace`: its generic walk over the fields was most of
    # this function's cost, paid once a row of a payment file (`test_paid_towards` holds the
    # two together and checks that every field is named).
    return InstallmentState(
        number=installment.number, due_date=installment.due_date,
        principal=installment.principal, interest=installment.interest, fee=installment.fee,
        paid_principal=paid_principal, paid_interest=paid_interest, paid_fee=paid_fee,
        penalty_accrued=penalty_accrued, penalty_paid=penalty_paid,
        compound_accrued=compound_accrued, compound_paid=compound_paid,
        interest_earned=installment.interest_earned, fee_earned=installment.fee_earned)


def closed(installment: InstallmentState) -> InstallmentState:
    """The installment with nothing left to pay: what was paid is all it ever asked for."""
    penalty_accrued, compound_accrued = _closed_accruals(installment.penalty_paid,
                                                         installment.compound_paid)
    return replace(installment, principal=installment.paid_principal,
                   interest=installment.paid_interest, fee=installment.paid_fee,
                   penalty_accrued=penalty_accrued, compound_accrued=compound_accrued)


def _closed_accruals(penalty_paid: int, compound_paid: int) -> tuple[int, int]:
    """A closed installment's (penalty, compound) accrued, sub-minor: what was paid."""
    return (penalty_paid * accrual.SUB_MINOR_PER_MINOR,
            compound_paid * accrual.SUB_MINOR_PER_MINOR)


def overdue_installments(installments: Iterable[InstallmentState], as_of: date
                         ) -> list[InstallmentState]:
    """The installments unpaid past their due date at the end of `as_of`, oldest first."""
    return [row for row in installments if row.due_date < as_of and not row.is_paid]


def delinquency_start(oldest_overdue: InstallmentState, since: date | None) -> date:
    """The first day of the delinquency once `oldest_overdue` is overdue: the day after its
    due date, or the start already recorded (`since`) if earlier — paying the oldest never
    re-ages an episode (US-32)."""
    start = oldest_overdue.due_date + ONE_DAY
    return min(start, since or start)


def amount_due(installments: Iterable[InstallmentState], product: Product, as_of: date) -> int:
    """`Summary.total_due`: what a payment dated the day after `as_of` must be to cover every
    installment due by `as_of`."""
    next_day = as_of + ONE_DAY
    total = 0
    for row in installments:  # in schedule order, which `summarize` walks the same way
        if row.due_date > next_day:
            break
        if row.due_date <= as_of:
            total += sum(owed_on(row, product, next_day).values())
    return total


def loan_status(*, written_off: bool, total_due: int, all_paid: bool, dpd: int) -> LoanStatus:
    """`Summary.status` from what a state implies."""
    if written_off:
        return LoanStatus.WRITTEN_OFF
    if total_due == 0 and all_paid:
        return LoanStatus.SETTLED
    return LoanStatus.OVERDUE if dpd > 0 else LoanStatus.CURRENT


class _Engine:
    """Working copy of one loan's state. Private: callers get frozen snapshots."""

    def __init__(self, loan: Loan, state: LoanState, *, opened: bool = False) -> None:
        self.loan = loan
        # An opened state already holds its open day's plans (`restructure`): a rate
        # reduction taking effect that day is in force for it.
        self.product = loan.product_on(state.as_of + ONE_DAY if opened else state.as_of)
        self.rows = list(state.installments)
        self.prepaid = state.prepaid_principal
        self.unapplied = state.unapplied
        self.cursor = state.as_of
        self.applied: list[PaymentApplied] = []
        self.waived = state.waived
        self.capitalised = state.capitalised
        self.pauses = state.pauses
        self.delinquent_since = state.delinquent_since
        self.offer_received = state.offer_received

    def snapshot(self) -> LoanState:
        return LoanState(as_of=self.cursor, installments=tuple(self.rows),
                         prepaid_principal=self.prepaid, unapplied=self.unapplied,
                         waived=self.waived, capitalised=self.capitalised, pauses=self.pauses,
                         delinquent_since=self.delinquent_since,
                         offer_received=self.offer_received)

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
                start = max(self.cursor, row.due_date)
                days = (stop - start).days
                if self.pauses:
                    days -= paused_days(self.pauses, start, stop)
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
        """Apply a payment dated the day after the cursor, before that day's accrual. Under a
        settlement offer, the payment that completes the offered amount settles the loan: the
        rest is waived and anything paid beyond the offer is the borrower's credit."""
        offer = self.active_offer(payment.on)
        if offer is None:
            self.apply(payment)
            return
        need = offer.amount - self.offer_received
        if payment.amount < need:
            self.offer_received += payment.amount
            self.apply(payment)
            return
        self.offer_received += need
        self.freeze_delinquency(payment.on)
        self.apply(replace(payment, amount=need), settling=True)
        self.waive_everything(payment.on)
        extra = payment.amount - need
        self.unapplied += extra
        last = self.applied.pop()
        self.applied.append(replace(last, amount=payment.amount,
                                    to_credit=last.to_credit + extra))

    def pay_towards_settlement(self, amount: int, day: date) -> tuple[int, int, int, int]:
        """Under a settlement the future installments take the money as it is (what they had
        earned, the interest accrued, then principal) with no new schedule: what is left will
        be waived. Returns (to fee, to interest, to principal, left)."""
        future = [i for i in self.future(day) if not self.rows[i].is_paid]
        if not future:
            return 0, 0, 0, amount
        left = amount
        to_fee = to_interest = 0
        for position, index in enumerate(future):
            row = self.rows[index]
            interest, fee = self.owed_ahead(index, day, current=position == 0)
            paid_fee = min(left, fee)
            paid_interest = min(left - paid_fee, interest)
            left -= paid_fee + paid_interest
            to_fee += paid_fee
            to_interest += paid_interest
            self.rows[index] = replace(row, paid_fee=row.paid_fee + paid_fee,
                                       paid_interest=row.paid_interest + paid_interest)
        to_principal = 0
        for index in future:
            row = self.rows[index]
            take = min(left, row.unpaid_principal)
            self.rows[index] = replace(row, paid_principal=row.paid_principal + take)
            left -= take
            to_principal += take
        return to_fee, to_interest, to_principal, left

    def active_offer(self, day: date) -> Plan | None:
        for plan in self.loan.plans:
            if plan.kind is PlanKind.SETTLEMENT and plan.effective_on <= day and \
                    plan.until is not None and day <= plan.until and \
                    self.offer_received < plan.amount and not all(r.is_paid for r in self.rows):
                return plan
        return None

    def apply(self, payment: Payment, *, settling: bool = False) -> None:
        day = payment.on
        totals = dict.fromkeys(Component, 0)
        remaining = payment.amount
        for index, row in enumerate(self.rows):
            if row.due_date > day or remaining == 0:
                break
            allocation, remaining = apply_in_order(
                remaining, owed_on(row, self.product, day), self.product.waterfall)
            if not allocation:
                continue
            for component, value in allocation.items():
                totals[component] += value
            self.rows[index] = paid_towards(row, allocation, self.product, day)
        to_credit = remaining
        if remaining:
            # Credit already held joins the excess: together they may settle the loan.
            held = self.unapplied
            pool = remaining + held
            if settling:
                keep = 0
                to_fee, to_interest, to_principal, left = self.pay_towards_settlement(pool, day)
            else:
                keep = self.credit_to_keep(pool, day)
                if payment.prepayment and keep:
                    keep = held  # the credit held stays; this payment's own money prepays
                to_fee, to_interest, to_principal, left = self.prepay(pool - keep, day)
            totals[Component.FEE] += to_fee
            totals[Component.INTEREST] += to_interest
            totals[Component.PRINCIPAL] += to_principal
            to_credit = left + keep - held
        self.unapplied += to_credit
        self.applied.append(PaymentApplied(
            key=payment.key, on=day, amount=payment.amount,
            to_fee=totals[Component.FEE], to_penalty=totals[Component.PENALTY],
            to_compound=totals[Component.COMPOUND], to_interest=totals[Component.INTEREST],
            to_principal=totals[Component.PRINCIPAL], to_credit=to_credit,
        ))

    def credit_to_keep(self, pool: int, day: date) -> int:
        """How much of money received ahead (`pool`, with the credit already held) a `hold`
        product keeps as credit (DESIGN §9): nothing when it settles the loan; otherwise up to
        the next installment, so the rest reduces future principal. Money that covers the
        principal but not the interest accrued to `day` is below the payoff, so it waits as
        credit rather than retiring principal and stranding the interest."""
        if self.product.early_payment is not EarlyPayment.HOLD:
            return 0
        future = self.future(day)
        if not future or pool >= self.settlement_amount(future, day):
            return 0
        first = self.rows[future[0]]
        return min(pool, first.unpaid_principal + first.unpaid_interest + first.unpaid_fee)

    def settlement_amount(self, future: list[int], day: date) -> int:
        """What settles every future installment on `day`: their principal plus the current
        period's interest accrued to `day` that is not yet paid (§9 payoff quote)."""
        principal = sum(self.rows[i].unpaid_principal for i in future)
        if principal == 0:
            return sum(self.rows[i].unpaid_interest + self.rows[i].unpaid_fee for i in future)
        # A later installment owes something ahead only when a plan left it earned amounts.
        return principal + sum(
            sum(self.owed_ahead(index, day, current=position == 0))
            for position, index in enumerate(future)
            if position == 0 or self.rows[index].interest_earned
            or self.rows[index].fee_earned)

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
                self.apply(Payment(key=f"credit:{due.isoformat()}", on=due, amount=credit))

    def future(self, day: date) -> list[int]:
        return [i for i, row in enumerate(self.rows) if row.due_date > day]

    def period_start(self, index: int) -> date:
        return self.loan.disbursed_on if index == 0 else self.rows[index - 1].due_date

    def accrual_start(self, index: int, day: date, *, before_plan_on: date | None = None,
                      earned: bool | None = None) -> date:
        """Where the part of installment `index`'s interest not yet earned starts accruing:
        its period's start, or the date of the plan that moved it there (what the row had
        earned by then is `interest_earned`). `before_plan_on` leaves out the plan of that
        date, which is being applied; `earned` says whether the row holds earned interest
        (by default, whether `interest_earned` is set)."""
        start = self.period_start(index) if self.product.method is not Method.BULLET \
            else self.loan.disbursed_on
        if self.rows[index].interest_earned if earned is None else earned:
            last = day if before_plan_on is None else before_plan_on - ONE_DAY
            moved = [plan.effective_on for plan in self.loan.plans
                     if plan.kind in REPRICING_PLANS and plan.effective_on <= last]
            if moved:
                start = max(start, max(moved))
        return start

    def period_days(self, index: int, day: date, *, before_plan_on: date | None = None,
                    earned: bool | None = None) -> tuple[int, int]:
        """(days of installment `index`'s accrual window elapsed by `day`, days in it)."""
        row = self.rows[index]
        start = self.accrual_start(index, day, before_plan_on=before_plan_on, earned=earned)
        whole = self.product.day_count.days_between(start, row.due_date)
        elapsed = min(max(0, self.product.day_count.days_between(start, day)), max(whole, 0))
        return elapsed, whole

    def accrued_interest(self, index: int, day: date, *, before_plan_on: date | None = None
                         ) -> int:
        """The contract interest of installment `index` accrued to `day`: what it had earned
        when a plan moved it, and the rest pro rata by days."""
        row = self.rows[index]
        elapsed, whole = self.period_days(index, day, before_plan_on=before_plan_on)
        if whole <= 0:
            return row.interest
        earned = min(row.interest_earned, row.interest)
        return earned + round_units(accrual_ratio(row.interest - earned, elapsed, whole),
                                    self.product.rounding)

    def owed_ahead(self, index: int, day: date, *, current: bool) -> tuple[int, int]:
        """(interest, fee) a payoff on `day` owes for installment `index`, not yet due: the
        current period's interest accrued to `day`, and what any later one had earned."""
        row = self.rows[index]
        interest = self.accrued_interest(index, day) if current \
            else min(row.interest_earned, row.interest)
        return (max(0, interest - row.paid_interest),
                max(0, min(row.fee_earned, row.fee) - row.paid_fee))

    def prepay(self, amount: int, day: date) -> tuple[int, int, int, int]:
        """Apply an excess to future installments; returns (to fee, to interest, to principal,
        left).

        Enough to retire every future principal settles it: the current period's interest
        accrued to `day`, and what later installments had earned, become their interest and
        fee, paid as far as the money goes (what is left is due at once). Less reduces future
        principal; the current period keeps the interest accrued so far and is charged the
        rest on the new balance.
        """
        future = self.future(day)
        outstanding = sum(self.rows[i].unpaid_principal for i in future)
        if amount == 0 or not future or outstanding == 0:
            return 0, 0, 0, amount
        accrued = self.accrued_interest(future[0], day)
        if amount >= outstanding:
            left = amount - outstanding
            to_interest = to_fee = 0
            last_owing = -1
            for position, index in enumerate(future):
                row = self.rows[index]
                interest, fee = self.owed_ahead(index, day, current=position == 0)
                paid_fee = min(left, fee)
                paid_interest = min(left - paid_fee, interest)
                left -= paid_fee + paid_interest
                to_fee += paid_fee
                to_interest += paid_interest
                if paid_fee < fee or paid_interest < interest:
                    last_owing = position
                self.rows[index] = replace(
                    row, principal=row.paid_principal,
                    interest=row.paid_interest + interest,
                    paid_interest=row.paid_interest + paid_interest,
                    fee=row.paid_fee + fee, paid_fee=row.paid_fee + paid_fee)
            # §9: interest (or an earned charge) left after the principal is retired is due
            # at once, so the next quote and the next payment see it.
            for index in future[:last_owing + 1]:
                self.rows[index] = replace(self.rows[index], due_date=day)
            self.prepaid += outstanding
            return to_fee, to_interest, outstanding, left
        elapsed, whole = self.period_days(future[0], day)
        before = self.balances(future)
        if self.product.prepayment is Prepayment.REAMORTIZE:
            self.respread_future(future, outstanding - amount, day, before)
        else:
            left = amount
            for index in reversed(future):
                row = self.rows[index]
                take = min(left, row.unpaid_principal)
                self.rows[index] = replace(row, principal=row.principal - take)
                left -= take
            self.recompute_future_interest(future, day, before=before)
        if whole > 0:
            first = self.rows[future[0]]
            earned = min(first.interest_earned, first.interest)
            rest = round_units(accrual_ratio(first.interest - earned, whole - elapsed, whole),
                               self.product.rounding)
            interest = max(accrued + rest, first.paid_interest)
            self.rows[future[0]] = replace(
                first, interest=interest,
                interest_earned=self.earned_at(future[0], day, accrued, interest))
        self.prepaid += amount
        return 0, 0, amount, 0

    def earned_at(self, index: int, day: date, accrued: int, interest: int) -> int:
        """The `interest_earned` that makes installment `index`, now charged `interest`, accrue
        `accrued` on `day` and the rest evenly to its due date: what a partial prepayment
        keeps of the interest accrued before it (§9), so no later quote takes it back."""
        elapsed, whole = self.period_days(index, day, earned=True)
        if whole <= elapsed:
            return min(accrued, interest)
        exact = (Decimal(accrued) * whole - Decimal(interest) * elapsed) / (whole - elapsed)
        return min(max(0, round_units(exact, self.product.rounding)), interest)

    def balances(self, future: list[int]) -> list[int]:
        """The principal each future installment's period bears: its own and every later
        one's unpaid principal."""
        balance = sum(self.rows[i].unpaid_principal for i in future)
        found = []
        for index in future:
            found.append(balance)
            balance -= self.rows[index].unpaid_principal
        return found

    def repriced(self, index: int, balance: int, day: date) -> int:
        """Installment `index`'s interest at the contract rate on `balance`: what it had
        earned, and its accrual window's interest on the balance."""
        row = self.rows[index]
        earned = min(row.interest_earned, row.interest)
        if self.product.method is Method.BULLET:
            return max(earned, period_interest(balance, self.product, self.loan.disbursed_on,
                                               row.due_date, periods=self.loan.terms))
        return earned + period_interest(balance, self.product, self.accrual_start(index, day),
                                        row.due_date)

    def plan_charge(self, index: int, old_balance: int, new_balance: int, day: date) -> int:
        """What a plan made installment `index` charge beyond the contract interest on its
        balance (a deferral's interest for the added time, a re-age's plan rate), scaled to
        the balance left: a prepayment reprices the balance, never the plan's terms."""
        charge = self.rows[index].interest - self.repriced(index, old_balance, day)
        if charge == 0 or old_balance <= 0:
            return 0
        return round_units(accrual_ratio(charge, new_balance, old_balance),
                           self.product.rounding)

    def respread_future(self, future: list[int], remaining_principal: int, day: date,
                        before: list[int]) -> None:
        """Re-spread the principal left over the future due dates (`reamortize`), each
        installment re-priced on its new balance as `recompute_future_interest` does."""
        dates = tuple(self.rows[i].due_date for i in future)
        # The split takes at most one period for the current installment, as its schedule
        # did: a plan that moved it later charged the added time itself (`plan_charge`).
        start = max(self.accrual_start(future[0], day), add_months(dates[0], -1))
        rows = respread(remaining_principal, self.product, start, dates,
                        first_number=self.rows[future[0]].number,
                        original_principal=self.loan.principal)
        balance = remaining_principal
        for position, (index, new) in enumerate(zip(future, rows, strict=True)):
            # A future row may be part-paid (a plan moved it there): the new spread is of what
            # is unpaid, on top of what was paid, of what it had earned and of what a plan
            # charged; its fee (flat, or charges a plan carried) does not depend on the
            # principal left.
            row = self.rows[index]
            earned = min(row.interest_earned, row.interest)
            interest = self.repriced(index, balance, day) + self.plan_charge(
                index, before[position], balance, day)
            self.rows[index] = replace(row, principal=row.paid_principal + new.principal,
                                       interest=max(interest, earned, row.paid_interest))
            balance -= new.principal

    def recompute_future_interest(self, future: list[int], day: date, *,
                                  before: list[int] | None = None) -> None:
        """Re-price the future installments on the principal left: each bears interest for
        its accrual window on the balance, on top of what a plan found it had earned. With
        the balances `before` the principal changed, what a plan charged beyond the contract
        interest stays, scaled to the balance (without them, as for a new rate, it goes)."""
        balance = sum(self.rows[i].unpaid_principal for i in future)
        for position, index in enumerate(future):
            row = self.rows[index]
            earned = min(row.interest_earned, row.interest)
            interest = self.repriced(index, balance, day)
            if before is not None:
                interest = max(earned, interest + self.plan_charge(index, before[position],
                                                                   balance, day))
            fee = row.fee if row.unpaid_principal > 0 else \
                max(row.paid_fee, min(row.fee_earned, row.fee))
            self.rows[index] = replace(row, interest=max(interest, row.paid_interest), fee=fee)
            balance -= row.unpaid_principal


    # --- plans ---------------------------------------------------------------------------

    def restructure(self, plan: Plan) -> None:
        """Apply `plan` at the start of its effective date (the cursor is the day before)."""
        day = plan.effective_on
        if self.loan.written_off_on is not None and self.loan.written_off_on < day:
            raise InvalidPlan("plan.loan", "the loan is written off; no plan can change it")
        if all(row.is_paid for row in self.rows):
            raise InvalidPlan("plan.loan", "the loan is settled; there is nothing to change")
        if plan.kind is not PlanKind.SETTLEMENT:  # an offer changes nothing until it is paid
            self.freeze_delinquency(day)
        {
            PlanKind.DEFERRAL: self.defer,
            PlanKind.REAGE: self.reage,
            PlanKind.REAMORTIZE: self.reamortize_overdue,
            PlanKind.HOLIDAY: self.holiday,
            PlanKind.SETTLEMENT: self.offer,
            PlanKind.WAIVER: self.waive_shares,
            PlanKind.RATE_REDUCTION: self.reduce_rate,
        }[plan.kind](plan)

    def track_delinquency(self, as_of: date) -> None:
        """Keep the first day of the delinquency still unresolved at the end of `as_of`: set
        when an installment first goes unpaid past its due date, kept while any installment is
        overdue (paying the oldest does not re-age it, US-32), ended only when nothing is
        overdue — unless a plan restructured the loan or forgave part of it, which keeps it for
        ever (credit reporting's first delinquency never re-ages, M2-6)."""
        overdue = overdue_installments(self.rows, as_of)
        if overdue:
            self.delinquent_since = delinquency_start(overdue[0], self.delinquent_since)
        elif self.delinquent_since is not None and not self.waived.total() and not any(
                plan.kind is not PlanKind.SETTLEMENT and plan.effective_on <= as_of
                for plan in self.loan.plans):
            self.delinquent_since = None

    def freeze_delinquency(self, day: date) -> None:
        """Keep the first delinquency a plan finds: a plan may cure DPD, never the history."""
        overdue = overdue_installments(self.rows, day)
        if overdue:
            self.delinquent_since = delinquency_start(overdue[0], self.delinquent_since)

    def owed_charges(self, row: InstallmentState) -> tuple[int, int]:
        """(penalty, compound) accrued and not paid, in minor units, grace aside."""
        rounding = self.product.rounding
        return (accrual.to_minor(row.penalty_accrued, rounding) - row.penalty_paid,
                accrual.to_minor(row.compound_accrued, rounding) - row.compound_paid)

    def extra_interest(self, principal: int, old_due: date, new_due: date, months: int,
                       rate: Decimal | None) -> int:
        """Interest on `principal` deferred from `old_due` to `new_due` (`months` later)."""
        product = self.product if rate is None else replace(self.product, annual_rate=rate)
        if product.interest_basis is InterestBasis.PERIOD:
            exact = Decimal(principal) * product.annual_rate * months / 12
        else:
            exact = (Decimal(principal) * product.annual_rate
                     * product.day_count.days_between(old_due, new_due)
                     / product.day_count.year_days)
        return round_units(exact, product.rounding)

    def shift(self, first: int, months: int, rate: Decimal | None, day: date) -> None:
        """Move row `first` and every later row `months` later on `day`; an unpaid row's
        charges become a fixed charge and its principal bears interest for the added time.
        What a row had earned by `day` stays owed by any payoff (`interest_earned`)."""
        current = next((i for i, row in enumerate(self.rows) if row.due_date > day), None)
        # Before anything moves: the current period's start is the row before it.
        accrued_now = None if current is None else \
            self.accrued_interest(current, day, before_plan_on=day)
        for index in range(first, len(self.rows)):
            row = self.rows[index]
            new_due = add_months(row.due_date, months)
            if row.is_paid:
                self.rows[index] = replace(row, due_date=new_due)
                continue
            penalty, compound = self.owed_charges(row)
            if row.due_date <= day:
                earned_interest, earned_fee = row.interest, row.fee
            elif index == current and accrued_now is not None:
                earned_interest = accrued_now
                earned_fee = min(row.fee_earned, row.fee)
            else:
                earned_interest = min(row.interest_earned, row.interest)
                earned_fee = min(row.fee_earned, row.fee)
            extra = self.extra_interest(row.unpaid_principal, row.due_date, new_due, months,
                                        rate)
            self.rows[index] = replace(
                row, due_date=new_due, interest=row.interest + extra,
                fee=row.fee + penalty + compound,
                interest_earned=earned_interest, fee_earned=earned_fee + penalty + compound,
                penalty_accrued=row.penalty_paid * accrual.SUB_MINOR_PER_MINOR,
                compound_accrued=row.compound_paid * accrual.SUB_MINOR_PER_MINOR)

    def defer(self, plan: Plan) -> None:
        unpaid = [i for i, row in enumerate(self.rows) if not row.is_paid]
        if not unpaid:
            raise InvalidPlan("plan.kind", "no installment is left to defer")
        self.shift(unpaid[0], plan.months, plan.rate, plan.effective_on)

    def holiday(self, plan: Plan) -> None:
        """No installment falls due in [effective_on, until]: those due then and later move
        by the fewest whole months that clear the pause; overdue ones stand still, and the
        pause stops their DPD and their accrual."""
        assert plan.until is not None
        start, end = plan.effective_on, plan.until
        self.pauses = (*self.pauses, (start, end))
        later = [i for i, row in enumerate(self.rows) if row.due_date >= start]
        if not later:
            return
        first_due = self.rows[later[0]].due_date
        months = 0
        while first_due <= end and add_months(first_due, months) <= end:
            months += 1
        if months:
            self.shift(later[0], months, plan.rate, start)
            return
        # Nothing moves, yet the current installment's interest accrues from the pause's start
        # (`accrual_start`): what it had earned by then is kept, as a deferral keeps it.
        current = next((i for i, row in enumerate(self.rows)
                        if row.due_date > start and not row.is_paid), None)
        if current is not None:
            self.rows[current] = replace(self.rows[current], interest_earned=min(
                self.accrued_interest(current, start, before_plan_on=start),
                self.rows[current].interest))

    def reamortize_overdue(self, plan: Plan) -> None:
        """Due dates stay; overdue principal is shared equally by the future installments, and
        bears contract interest with them from the plan's date."""
        day = plan.effective_on
        future = [i for i, row in enumerate(self.rows) if row.due_date >= day]
        if not future:
            raise InvalidPlan("plan.kind", "no future installment to spread the arrears over")
        moved = 0
        before = self.balances(future[1:])
        grace = timedelta(days=self.product.grace_days)
        for index, row in enumerate(self.rows):
            if row.due_date < day and row.unpaid_principal:
                moved += row.unpaid_principal
                row = replace(row, principal=row.paid_principal)
                if row.is_paid and day <= row.due_date + grace:
                    # Left owing nothing within its grace window, as a payment closing it
                    # there would (`paid_towards`): no charges for the days before the plan.
                    row = closed(row)
                self.rows[index] = row
        if moved == 0:
            raise InvalidPlan("plan.kind", "no overdue principal to re-amortise")
        share, remainder = divmod(moved, len(future))
        for position, index in enumerate(future):
            row = self.rows[index]
            part = share + (remainder if position == len(future) - 1 else 0)
            self.rows[index] = replace(row, principal=row.principal + part)
        first = self.rows[future[0]]
        elapsed, whole = self.period_days(future[0], day)
        added = period_interest(moved, self.product, self.period_start(future[0]),
                                first.due_date)
        if whole > 0:
            added = round_units(accrual_ratio(added, whole - elapsed, whole),
                                self.product.rounding)
        self.rows[future[0]] = replace(first, interest=first.interest + added)
        if len(future) > 1:
            self.recompute_future_interest(future[1:], day, before=before)

    def reage(self, plan: Plan) -> None:
        """Close every installment and spread what is owed over `terms` new ones."""
        day = plan.effective_on
        assert plan.first_due_on is not None
        owed = ByComponent()
        future = self.future(day)
        ahead = {index: self.owed_ahead(index, day, current=position == 0)
                 for position, index in enumerate(future)}
        if future:
            # The current period's interest accrued under an earlier plan, not this one.
            first = self.rows[future[0]]
            ahead[future[0]] = (max(0, self.accrued_interest(future[0], day, before_plan_on=day)
                                    - first.paid_interest), ahead[future[0]][1])
        for index, row in enumerate(self.rows):
            if row.is_paid and not any(self.owed_charges(row)):
                continue
            penalty, compound = self.owed_charges(row)
            owed = owed.plus(Component.PRINCIPAL, row.unpaid_principal)
            owed = owed.plus(Component.PENALTY, penalty).plus(Component.COMPOUND, compound)
            interest, fee = (row.unpaid_interest, row.unpaid_fee) if row.due_date <= day \
                else ahead[index]
            owed = owed.plus(Component.INTEREST, interest).plus(Component.FEE, fee)
            self.rows[index] = closed(row)
        principal = owed.principal
        carried = dict.fromkeys((Component.INTEREST, Component.FEE), 0)
        spread = dict.fromkeys((Component.INTEREST, Component.FEE), 0)
        for component in BALANCE_BUCKETS:
            amount = owed.of(component)
            if amount == 0:
                continue
            # Carried or spread penalty is a fixed charge of the new installment (see plans).
            kind = Component.INTEREST if component is Component.INTEREST else Component.FEE
            treatment = plan.treatment(component)
            if treatment is Treatment.CAPITALISE:
                principal += amount
                self.capitalised = self.capitalised.plus(component, amount)
            elif treatment is Treatment.WAIVE:
                self.waived = self.waived.plus(component, amount)
            elif treatment is Treatment.CARRY:
                carried[kind] += amount
            else:
                spread[kind] += amount
        if principal <= 0:
            raise InvalidPlan("plan.kind", "no principal is left to re-age")
        product = replace(self.product, method=plan.method or (
            self.product.method if self.product.method is not Method.BULLET
            else Method.EQUAL_INSTALLMENT))
        if plan.rate is not None:
            product = replace(product, annual_rate=plan.rate)
        dates = tuple(add_months(plan.first_due_on, k) for k in range(plan.terms))
        number = max(row.number for row in self.rows) + 1
        # The old future installments are gone (nothing was paid on them); one that took
        # money stays, closed, dated no later than the plan so the rows stay in date order.
        self.rows = [row if row.due_date <= day else replace(row, due_date=day)
                     for row in self.rows
                     if row.due_date <= day or row.paid_principal or row.paid_interest
                     or row.paid_fee or row.penalty_paid or row.compound_paid]
        fresh = respread(principal, product, day, dates, first_number=number,
                         original_principal=principal)
        terms = len(fresh)
        for position, new in enumerate(fresh):
            extra = {kind: spread[kind] // terms + (spread[kind] % terms
                                                    if position == terms - 1 else 0)
                     for kind in spread}
            if position == 0:
                extra = {kind: extra[kind] + carried[kind] for kind in extra}
            self.rows.append(InstallmentState(
                number=new.number, due_date=new.due_date, principal=new.principal,
                interest=new.interest + extra[Component.INTEREST],
                fee=new.fee + extra[Component.FEE],
                interest_earned=extra[Component.INTEREST], fee_earned=extra[Component.FEE]))

    def offer(self, plan: Plan) -> None:
        self.offer_received = 0

    def waive_shares(self, plan: Plan) -> None:
        """Forgive a share of each named charge owed on the installments already due. Accrued
        charges are cut in sub-minor units, so a whole waiver leaves exactly nothing owed."""
        shares = dict(plan.waive)
        rounding = self.product.rounding
        sub = accrual.SUB_MINOR_PER_MINOR
        for index, row in enumerate(self.rows):
            if row.due_date >= plan.effective_on:
                break
            fee_cut = round_units(Decimal(row.unpaid_fee) * shares.get(Component.FEE, 0),
                                  rounding)
            accrued = {Component.PENALTY: (row.penalty_accrued, row.penalty_paid),
                       Component.COMPOUND: (row.compound_accrued, row.compound_paid)}
            kept: dict[Component, int] = {}
            for component, (total, paid) in accrued.items():
                owed = max(0, total - paid * sub)
                cut = round_units(Decimal(owed) * shares.get(component, 0), rounding)
                kept[component] = total - cut
                self.waived = self.waived.plus(
                    component, accrual.to_minor(total, rounding)
                    - accrual.to_minor(total - cut, rounding))
            self.waived = self.waived.plus(Component.FEE, fee_cut)
            self.rows[index] = replace(row, fee=row.fee - fee_cut,
                                       penalty_accrued=kept[Component.PENALTY],
                                       compound_accrued=kept[Component.COMPOUND])

    def reduce_rate(self, plan: Plan) -> None:
        """From the plan's date the remaining installments bear the new rate: the current
        period keeps the interest accrued at the old rate."""
        assert plan.rate is not None
        if plan.rate >= self.product.annual_rate:
            raise InvalidPlan("plan.rate", f"must be below the contract rate "
                                           f"{self.product.annual_rate}")
        day = plan.effective_on
        future = self.future(day - ONE_DAY)
        if not future:
            raise InvalidPlan("plan.kind", "no future installment to re-price")
        accrued = self.accrued_interest(future[0], day, before_plan_on=day)
        elapsed, whole = self.period_days(future[0], day, before_plan_on=day)
        start = self.accrual_start(future[0], day, before_plan_on=day)
        self.product = replace(self.product, annual_rate=plan.rate)
        self.recompute_future_interest(future, day)
        first = self.rows[future[0]]
        if whole > 0:
            # The current period keeps what it accrued at the old rate; the rest of its window
            # bears the new rate, and accrues from the plan's date (`interest_earned`).
            balance = sum(self.rows[i].unpaid_principal for i in future)
            window = period_interest(balance, self.product, start, first.due_date) \
                if self.product.method is not Method.BULLET else period_interest(
                    balance, self.product, start, first.due_date, periods=self.loan.terms)
            rest = round_units(accrual_ratio(window, whole - elapsed, whole),
                               self.product.rounding)
            self.rows[future[0]] = replace(
                first, interest=max(accrued + rest, first.paid_interest),
                interest_earned=accrued)

    def waive_everything(self, day: date) -> None:
        """A settlement offer was paid: forgive all that is left, and close every row. An
        installment inside its grace window on `day` is settled within it, so the penalty
        and compound it accrued there were never owed (DESIGN §9 grace days): nothing of them
        is forgiven, as the payoff quote never asked for them."""
        future = self.future(day)
        first = future[0] if future else None
        for index, row in enumerate(self.rows):
            penalty, compound = chargeable(row, self.product, day)
            interest, fee = row.unpaid_interest, row.unpaid_fee
            if row.due_date > day:
                interest, fee = self.owed_ahead(index, day, current=index == first)
            for component, amount in ((Component.PRINCIPAL, row.unpaid_principal),
                                      (Component.INTEREST, interest),
                                      (Component.FEE, fee),
                                      (Component.PENALTY, penalty),
                                      (Component.COMPOUND, compound)):
                if amount:
                    self.waived = self.waived.plus(component, amount)
            self.rows[index] = closed(row)


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
    loan: Loan, state: LoanState, payments: Iterable[Payment], through: date, *,
    opened: bool = False,
) -> tuple[LoanState, tuple[PaymentApplied, ...]]:
    """The state at the end of `through`, from `state` and the payments dated after it.

    `opened`: `state` already holds the plans taking effect on its open day (as a book stores
    a loan once a plan is approved on the open business date, see `restructure`), so they are
    not applied again."""
    engine = _Engine(loan, state, opened=opened)
    todo = sorted(unique_payments(payments), key=lambda p: p.on)
    for position, payment in enumerate(todo):
        if payment.on < loan.disbursed_on:
            raise PaymentRejected(f"payments[{position}].on",
                                  f"{payment.on} is before disbursement on {loan.disbursed_on}")
        if payment.on <= state.as_of:
            raise PaymentRejected(f"payments[{position}].on",
                                  f"{payment.on} is on or before the state date {state.as_of}")
    first = state.as_of + ONE_DAY if opened else state.as_of
    plans = [plan for plan in loan.plans if first < plan.effective_on <= through]
    days = sorted({p.on for p in todo if p.on <= through} | {p.effective_on for p in plans})
    for day in days:
        # A plan takes effect at the start of its day: before held credit meets an
        # installment falling due that day, and before the day's payments.
        engine.apply_credit_through(day - ONE_DAY)
        engine.accrue_through(day - ONE_DAY)
        engine.track_delinquency(day - ONE_DAY)
        for plan in plans:
            if plan.effective_on == day:
                engine.restructure(plan)
        engine.apply_credit_through(day)
        for payment in todo:
            if payment.on == day:
                engine.pay(payment)
        engine.track_delinquency(day)
    engine.apply_credit_through(through)
    engine.accrue_through(through)
    engine.track_delinquency(through)
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
    # The first day of the delinquency that is still unresolved; a plan never moves it.
    first_delinquency_on: date | None = None
    restructured: bool = False
    # Principal, interest and fees of the installments falling due on `as_of`: in `total_due`
    # but not yet overdue (§9 reading the figures), so that `overdue_*` + `due_today` +
    # `penalty_interest` + `compound_interest` is `total_due`.
    due_today: int = 0


def summarize(loan: Loan, state: LoanState) -> Summary:
    """DPD, bucket, status and amounts at the end of `state.as_of`.

    `total_due` and `payoff_amount` are what a payment dated the next day (before that day's
    accrual) must be to bring the loan current, or to settle it (DESIGN §9 payoff quote).
    """
    product = loan.product
    as_of = state.as_of
    next_day = as_of + ONE_DAY
    overdue = overdue_installments(state.installments, as_of)
    earliest = overdue[0].due_date if overdue else None
    dpd = days_past_due(as_of, earliest)
    if earliest is not None and state.pauses:
        dpd -= paused_days(state.pauses, earliest, as_of)
    first_delinquency = state.delinquent_since
    if first_delinquency is None and dpd > 0 and earliest is not None:
        first_delinquency = earliest + ONE_DAY  # a state stored before the episode was tracked
    penalty = compound = settle_due = 0
    for row in state.installments:
        if row.due_date > next_day:
            break
        owed = owed_on(row, product, next_day)
        settle_due += sum(owed.values())
        if row.due_date <= as_of:
            penalty += owed[Component.PENALTY]
            compound += owed[Component.COMPOUND]
    total_due = amount_due(state.installments, product, as_of)
    engine = _Engine(loan, state)
    future = engine.future(next_day)
    settle_future = engine.settlement_amount(future, next_day) if future else 0
    outstanding_principal = sum(row.unpaid_principal for row in state.installments)
    status = loan_status(
        written_off=loan.written_off_on is not None and loan.written_off_on <= as_of,
        total_due=total_due,
        all_paid=total_due == 0 and all(row.is_paid for row in state.installments), dpd=dpd)
    return Summary(
        as_of=as_of, dpd=dpd, bucket=bucket(dpd), status=status,
        principal_outstanding=outstanding_principal,
        overdue_principal=sum(row.unpaid_principal for row in overdue),
        overdue_interest=sum(row.unpaid_interest for row in overdue),
        overdue_fee=sum(row.unpaid_fee for row in overdue),
        penalty_interest=penalty, compound_interest=compound, total_due=total_due,
        payoff_amount=max(0, settle_due + settle_future - state.unapplied),
        earliest_overdue_due_date=earliest,
        first_delinquency_on=first_delinquency,
        restructured=any(plan.effective_on <= as_of and plan.kind is not PlanKind.SETTLEMENT
                         for plan in loan.plans),
        due_today=sum(row.unpaid_principal + row.unpaid_interest + row.unpaid_fee
                      for row in state.installments if row.due_date == as_of),
    )


def apply_payment(
    loan: Loan, state: LoanState, payment: Payment
) -> tuple[LoanState, PaymentApplied]:
    """Apply a payment dated the open day (the day after `state.as_of`), before its accrual.

    The state keeps its date: the day's accrual happens at that day's end-of-day. Plans
    taking effect that day come first (`restructure`), so the terms in force are the day's.
    """
    open_day = state.as_of + ONE_DAY
    if payment.on != open_day:
        raise PaymentRejected("on", f"{payment.on} is not the open business date {open_day}")
    if payment.amount <= 0:
        raise PaymentRejected("amount", "must be positive")
    engine = _Engine(loan, state, opened=True)
    engine.apply_credit_through(payment.on)
    engine.pay(payment)
    engine.track_delinquency(payment.on)
    return engine.snapshot(), engine.applied[-1]


def restructure(loan: Loan, state: LoanState, plan: Plan) -> LoanState:
    """`state` (the end of the day before `plan.effective_on`) with `plan` applied at the start
    of its day; the date stays, as with a payment, so that day's end-of-day still accrues."""
    if plan.effective_on != state.as_of + ONE_DAY:
        raise InvalidPlan("plan.effective_on",
                          f"{plan.effective_on} is not the open date {state.as_of + ONE_DAY}")
    engine = _Engine(loan, state)
    engine.restructure(plan)
    return engine.snapshot()


def due_on(loan: Loan, state: LoanState, day: date) -> int:
    """What a payment dated `day` (the open day after `state.as_of`) must be to bring the loan
    current: everything owed by installments due on or before `day`."""
    return owed_through(state.installments, loan.product, day)


def owed_through(installments: Iterable[InstallmentState], product: Product, day: date) -> int:
    """What the installments due on or before `day` owe a payment dated `day`."""
    return sum(sum(owed_on(row, product, day).values())
               for row in installments if row.due_date <= day)
