"""Hardship plans: deferral (展期), re-age (逾期分期), re-amortisation, payment holiday,
settlement (一次性结清减免), waiver and rate reduction — what each one is, and its limits.

A plan takes effect at the start of `effective_on`: after the day before has accrued, before
that day's payments (like a payment, it is an event in the loan's history, so a back-dated
payment replays across it). What each kind does to the installments is in `loan._Engine`;
this module holds the plans themselves and the checks a plan must pass on its own.

Choices where the issue leaves room (also in the README):
- Overdue penalty and compound a plan carries or spreads become a fixed charge of the new
  installment, shown as its fee: an installment's penalty is by definition what accrues after
  *its* due date, so carried penalty cannot stay penalty without being waived by the grace rule.
- A deferral and a holiday charge contract interest (or the plan's rate) on each deferred
  installment's unpaid principal for the added months; 0 makes them interest-free.
- The first delinquency date a plan finds is kept for ever (`LoanState.delinquent_since`): a
  plan may cure the DPD, never the credit history (FCRA re-aging, Metro 2 DOFD, CN-21).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from enum import StrEnum

from arrears.domain.errors import DomainError
from arrears.domain.product import MAX_TERMS, Component, Method

MAX_DEFERRAL_MONTHS = 24
MAX_HOLIDAY_DAYS = 366


class InvalidPlan(DomainError):
    """A plan breaks a rule of its kind, of the loan, or of the lender's policy."""


class PlanKind(StrEnum):
    DEFERRAL = "deferral"
    REAGE = "reage"
    REAMORTIZE = "reamortize"
    HOLIDAY = "holiday"
    SETTLEMENT = "settlement"
    WAIVER = "waiver"
    RATE_REDUCTION = "rate_reduction"


class Treatment(StrEnum):
    """What a re-age does with one overdue balance bucket."""

    CAPITALISE = "capitalise"  # joins the new principal (and bears interest)
    CARRY = "carry"  # falls due with the first new installment
    SPREAD = "spread"  # shared equally by the new installments
    WAIVE = "waive"  # forgiven: a concession


# Overdue principal always joins the new principal; these are the buckets a plan chooses for.
BALANCE_BUCKETS = (Component.INTEREST, Component.FEE, Component.PENALTY, Component.COMPOUND)
WAIVABLE = (Component.FEE, Component.PENALTY, Component.COMPOUND)


# The parameters each kind reads (beyond plan_id, kind and effective_on): a plan document
# naming another one is refused, so a plan always says what it does.
PARAMETERS: dict[PlanKind, frozenset[str]] = {
    PlanKind.DEFERRAL: frozenset({"months", "rate"}),
    PlanKind.REAGE: frozenset({"terms", "first_due_on", "method", "treatments", "rate"}),
    PlanKind.REAMORTIZE: frozenset(),
    PlanKind.HOLIDAY: frozenset({"until", "rate"}),
    PlanKind.SETTLEMENT: frozenset({"until", "amount"}),
    PlanKind.WAIVER: frozenset({"waive"}),
    PlanKind.RATE_REDUCTION: frozenset({"rate"}),
}


@dataclass(frozen=True, slots=True)
class ByComponent:
    """Minor units per payment component (waived amounts, capitalised amounts)."""

    fee: int = 0
    penalty: int = 0
    compound: int = 0
    interest: int = 0
    principal: int = 0

    def of(self, component: Component) -> int:
        value: int = getattr(self, component.value)
        return value

    def plus(self, component: Component, amount: int) -> ByComponent:
        return replace(self, **{component.value: self.of(component) + amount})

    def total(self) -> int:
        return self.fee + self.penalty + self.compound + self.interest + self.principal

    def items(self) -> tuple[tuple[Component, int], ...]:
        return tuple((component, self.of(component)) for component in Component)


NOTHING = ByComponent()


@dataclass(frozen=True, slots=True, kw_only=True)
class Plan:
    """An approved plan. Only the parameters of its kind are used (see `check_plan`)."""

    plan_id: str
    kind: PlanKind
    effective_on: date
    months: int = 0  # deferral: how many months every unpaid installment moves
    terms: int = 0  # reage: how many new monthly installments
    first_due_on: date | None = None  # reage: the first new due date
    method: Method | None = None  # reage: the new schedule's method (default: the product's)
    treatments: tuple[tuple[Component, Treatment], ...] = ()  # reage; unnamed buckets carry
    rate: Decimal | None = None  # deferral/holiday/reage: plan rate; rate_reduction: new rate
    until: date | None = None  # holiday: last paused day; settlement: last day to pay
    amount: int = 0  # settlement: the discounted amount that settles
    waive: tuple[tuple[Component, Decimal], ...] = field(default=())  # waiver: share per bucket

    def treatment(self, component: Component) -> Treatment:
        return dict(self.treatments).get(component, Treatment.CARRY)


def check_plan(plan: Plan) -> Plan:
    """`plan` if its own parameters are coherent; otherwise `InvalidPlan` naming the field."""
    if not plan.plan_id or len(plan.plan_id) > 60:
        raise InvalidPlan("plan.plan_id", "must be 1 to 60 characters")
    if plan.rate is not None and not Decimal(0) <= plan.rate <= Decimal(1):
        raise InvalidPlan("plan.rate", f"must be between 0 and 1 (got {plan.rate})")
    kind = plan.kind
    if kind is PlanKind.DEFERRAL and not 1 <= plan.months <= MAX_DEFERRAL_MONTHS:
        raise InvalidPlan("plan.months", f"must be between 1 and {MAX_DEFERRAL_MONTHS}")
    if kind is PlanKind.REAGE:
        if not 1 <= plan.terms <= MAX_TERMS:
            raise InvalidPlan("plan.terms", f"must be between 1 and {MAX_TERMS}")
        if plan.first_due_on is None or plan.first_due_on <= plan.effective_on:
            raise InvalidPlan("plan.first_due_on", "must be a date after the plan takes effect")
        if plan.method is Method.BULLET:
            raise InvalidPlan("plan.method", "a re-age spreads the debt over installments; "
                                             "choose an installment method")
        for component, _ in plan.treatments:
            if component not in BALANCE_BUCKETS:
                raise InvalidPlan("plan.treatments", f"{component} is not a balance bucket "
                                                     "(interest, fee, penalty, compound)")
    if kind in (PlanKind.HOLIDAY, PlanKind.SETTLEMENT):
        if plan.until is None or plan.until < plan.effective_on:
            raise InvalidPlan("plan.until", "must be on or after the plan's effective date")
        if kind is PlanKind.HOLIDAY and (plan.until - plan.effective_on).days >= MAX_HOLIDAY_DAYS:
            raise InvalidPlan("plan.until", f"a holiday lasts at most {MAX_HOLIDAY_DAYS} days")
    if kind is PlanKind.SETTLEMENT and plan.amount <= 0:
        raise InvalidPlan("plan.amount", "must be positive")
    if kind is PlanKind.WAIVER:
        if not plan.waive:
            raise InvalidPlan("plan.waive", "name at least one of fee, penalty, compound")
        for component, share in plan.waive:
            if component not in WAIVABLE:
                raise InvalidPlan("plan.waive", f"{component} cannot be waived by a waiver "
                                                "(fee, penalty, compound)")
            if not Decimal(0) < share <= Decimal(1):
                raise InvalidPlan(f"plan.waive.{component}", "share must be in (0, 1]")
    if kind is PlanKind.RATE_REDUCTION and plan.rate is None:
        raise InvalidPlan("plan.rate", "a rate reduction names the new annual rate")
    return plan


def check_sequence(plans: tuple[Plan, ...]) -> tuple[Plan, ...]:
    """Plans in effective order, each coherent, ids unique and holidays never overlapping."""
    ordered = tuple(sorted((check_plan(p) for p in plans), key=lambda p: p.effective_on))
    ids = [plan.plan_id for plan in ordered]
    if len(set(ids)) != len(ids):
        raise InvalidPlan("plans", "plan ids must be unique")
    holidays = [p for p in ordered if p.kind is PlanKind.HOLIDAY]
    for earlier, later in zip(holidays, holidays[1:], strict=False):
        assert earlier.until is not None
        if later.effective_on <= earlier.until:
            raise InvalidPlan("plans", f"holiday {later.plan_id} overlaps {earlier.plan_id}")
    return ordered


def paused_days(pauses: tuple[tuple[date, date], ...], after: date, through: date) -> int:
    """Days in (after, through] that fall inside a pause [start, end]."""
    total = 0
    for start, end in pauses:
        low = max(start.toordinal(), after.toordinal() + 1)
        high = min(end.toordinal(), through.toordinal())
        total += max(0, high - low + 1)
    return total
