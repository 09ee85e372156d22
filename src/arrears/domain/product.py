"""Loan products: how a schedule is built, how overdue amounts are charged, how payments are
applied; and the checks that refuse a product breaking a rule (with the reason).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from enum import StrEnum

from arrears.domain.errors import InvalidProduct
from arrears.domain.rates import DayCount

# Rates carry at most this many decimal places, so the batch kernel holds them as exact integers.
MAX_RATE_DECIMALS = 8
MAX_GRACE_DAYS = 90
MAX_TERMS = 360

# Ceiling on the comprehensive annual cost of credit, per jurisdiction. CN-19: licensed lenders
# work under 24 % (regulators' 20 % guidance for consumer-finance companies is [U]); US: 36 %,
# the Military Lending Act MAPR and the most common state small-loan ceiling — a parameter a
# lender sets per state. Callers may pass their own table to `validate_product`.
DEFAULT_APR_CAPS: dict[str, Decimal] = {"CN": Decimal("0.24"), "US": Decimal("0.36")}

# CN-15 (银发〔2003〕251号): the overdue penalty rate is the contract rate plus 30 %–50 % of it.
CN_PENALTY_MARKUP_RANGE = (Decimal("0.3"), Decimal("0.5"))


class Method(StrEnum):
    EQUAL_INSTALLMENT = "equal_installment"  # 等额本息
    EQUAL_PRINCIPAL = "equal_principal"  # 等额本金
    INTEREST_ONLY = "interest_only"  # 先息后本
    BULLET = "bullet"  # 到期还本付息
    FLAT_FEE = "flat_fee"  # 分期手续费


class InterestBasis(StrEnum):
    PERIOD = "period"  # annual ÷ 12 per period
    DAILY = "daily"  # annual ÷ year basis × days in the period


class Component(StrEnum):
    """The parts of an installment a payment can be applied to."""

    FEE = "fee"
    PENALTY = "penalty"
    COMPOUND = "compound"
    INTEREST = "interest"
    PRINCIPAL = "principal"


class Prepayment(StrEnum):
    """What a payment beyond everything due does to the future installments."""

    LAST_FIRST = "last_first"  # reduces principal from the last installment backwards
    REAMORTIZE = "reamortize"  # re-spreads the remaining principal over the remaining dates


class EarlyPayment(StrEnum):
    """What money received before anything is due does (short of settling the loan), §9."""

    HOLD = "hold"  # credit applied when the next installment falls due; beyond it, prepayment
    PREPAY = "prepay"  # all of it reduces future principal at once


class Rounding(StrEnum):
    HALF_UP = "half_up"
    HALF_EVEN = "half_even"
    DOWN = "down"

    @property
    def decimal_mode(self) -> str:
        return {"half_up": ROUND_HALF_UP, "half_even": ROUND_HALF_EVEN, "down": ROUND_DOWN}[self]


# PRC Civil Code art. 561 (CN-16): costs, then interest, then principal.
DEFAULT_WATERFALL: tuple[Component, ...] = (
    Component.FEE,
    Component.PENALTY,
    Component.COMPOUND,
    Component.INTEREST,
    Component.PRINCIPAL,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class ReminderOffsets:
    """Days relative to the due date on which reminders fall due (negative = before)."""

    days: tuple[int, ...] = (-3, 0, 1, 3)


@dataclass(frozen=True, slots=True, kw_only=True)
class Product:
    """Everything that decides a loan's arithmetic. Build through `validate_product`."""

    method: Method
    interest_basis: InterestBasis = InterestBasis.PERIOD
    annual_rate: Decimal
    day_count: DayCount = DayCount.ACT_360
    penalty_markup: Decimal = Decimal("0.5")
    # The contract rate the markup applies to; defaults to `annual_rate`. A flat-fee plan
    # charges no interest, so it names the rate its penalty is based on.
    penalty_base_rate: Decimal | None = None
    penalty_rate_cap: Decimal | None = None
    compound: bool = True
    grace_days: int = 0
    monthly_fee_rate: Decimal = Decimal(0)
    upfront_fee_rate: Decimal = Decimal(0)
    rounding: Rounding = Rounding.HALF_UP
    waterfall: tuple[Component, ...] = DEFAULT_WATERFALL
    prepayment: Prepayment = Prepayment.LAST_FIRST
    early_payment: EarlyPayment = EarlyPayment.HOLD
    jurisdiction: str = "CN"
    reminders: ReminderOffsets = field(default_factory=ReminderOffsets)

    @property
    def penalty_rate(self) -> Decimal:
        """Annual penalty rate: min(contract × (1 + markup), cap) — DESIGN §9, CN-15."""
        base = self.annual_rate if self.penalty_base_rate is None else self.penalty_base_rate
        rate = base * (1 + self.penalty_markup)
        cap = self.penalty_rate_cap
        return rate if cap is None else min(rate, cap)


def _check_rate(name: str, value: Decimal, *, maximum: Decimal = Decimal(1)) -> None:
    if value < 0:
        raise InvalidProduct(f"product.{name}", f"must not be negative (got {value})")
    if value > maximum:
        raise InvalidProduct(f"product.{name}", f"{value} is above {maximum}")
    exponent = value.normalize().as_tuple().exponent
    if isinstance(exponent, int) and -exponent > MAX_RATE_DECIMALS:
        raise InvalidProduct(
            f"product.{name}", f"{value} has more than {MAX_RATE_DECIMALS} decimal places"
        )


def validate_product(
    product: Product, apr_caps: dict[str, Decimal] | None = None
) -> Product:
    """`product` with its defaults resolved (a missing penalty rate cap becomes the
    jurisdiction's cost cap) if it keeps every rule; otherwise `InvalidProduct` naming the field."""
    caps = DEFAULT_APR_CAPS if apr_caps is None else apr_caps
    if product.jurisdiction not in caps:
        raise InvalidProduct(
            "product.jurisdiction", f"unknown jurisdiction {product.jurisdiction!r}"
        )
    cap = caps[product.jurisdiction]
    _check_rate("annual_rate", product.annual_rate)
    _check_rate("penalty_markup", product.penalty_markup)
    _check_rate("monthly_fee_rate", product.monthly_fee_rate, maximum=Decimal("0.1"))
    _check_rate("upfront_fee_rate", product.upfront_fee_rate, maximum=Decimal("0.5"))
    if product.penalty_base_rate is not None:
        _check_rate("penalty_base_rate", product.penalty_base_rate)
    if product.penalty_rate_cap is not None:
        _check_rate("penalty_rate_cap", product.penalty_rate_cap)
    if not 0 <= product.grace_days <= MAX_GRACE_DAYS:
        raise InvalidProduct(
            "product.grace_days",
            f"must be between 0 and {MAX_GRACE_DAYS} (got {product.grace_days})",
        )
    if product.annual_rate > cap:
        raise InvalidProduct(
            "product.annual_rate",
            f"{product.annual_rate} exceeds the {product.jurisdiction} cost cap of {cap}",
        )
    if product.penalty_rate_cap is None:
        # The legal cost cap also bounds overdue charges: accrual stops at it (DESIGN §3).
        product = replace(product, penalty_rate_cap=cap)
    elif product.penalty_rate_cap > cap:
        raise InvalidProduct(
            "product.penalty_rate_cap",
            f"{product.penalty_rate_cap} exceeds the {product.jurisdiction} cost cap of {cap}",
        )
    if product.jurisdiction == "CN":
        low, high = CN_PENALTY_MARKUP_RANGE
        if not low <= product.penalty_markup <= high:
            raise InvalidProduct(
                "product.penalty_markup",
                f"CN-15: the penalty markup must be between {low} and {high} of the contract rate",
            )
    if product.method is Method.FLAT_FEE and product.annual_rate != 0:
        raise InvalidProduct(
            "product.annual_rate",
            "a flat_fee plan charges its monthly fee instead of interest; use 0",
        )
    if product.method is not Method.FLAT_FEE and product.monthly_fee_rate != 0:
        raise InvalidProduct(
            "product.monthly_fee_rate", "only a flat_fee plan charges a monthly fee"
        )
    if sorted(product.waterfall) != sorted(DEFAULT_WATERFALL):
        raise InvalidProduct(
            "product.waterfall",
            "must name each of fee, penalty, compound, interest, principal once",
        )
    return product
