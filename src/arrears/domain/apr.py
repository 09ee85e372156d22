"""The true annual rate of a cash-flow schedule (its IRR), and the cost-cap check.

CN-20 (PBOC Announcement 〔2021〕 No. 3): the annualised rate counts every borrower cost against
the principal actually received. Both annualisations are reported: nominal (monthly IRR × 12,
as PRC disclosure uses) and effective ((1 + monthly IRR)^12 − 1). Which one a regulator
requires is [U], so the cap check names the basis it compares.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, localcontext
from enum import StrEnum

from arrears.domain.errors import DomainError
from arrears.domain.product import MAX_TERMS
from arrears.domain.rates import MONTHS_PER_YEAR

_LOW, _HIGH = Decimal("-0.99"), Decimal(10)
_ITERATIONS = 200
_TOLERANCE = Decimal("1e-24")
# A loan's flows: the advance and at most one payment a month over the longest term. The
# largest flow is the ceiling on amounts (`money.MAX_MINOR_UNITS`) in currency units; both
# keep the bisection's powers (1 + 1000 %)^periods and sums inside the 40-digit context.
MAX_FLOWS = MAX_TERMS + 1
MAX_FLOW = Decimal(10) ** 11


class Annualisation(StrEnum):
    NOMINAL = "nominal"
    EFFECTIVE = "effective"


@dataclass(frozen=True, slots=True, kw_only=True)
class Apr:
    monthly_irr: Decimal
    apr_nominal: Decimal
    apr_effective: Decimal

    def annual(self, basis: Annualisation) -> Decimal:
        return self.apr_nominal if basis is Annualisation.NOMINAL else self.apr_effective


def _npv(rate: Decimal, flows: Sequence[Decimal]) -> Decimal:
    factor, total = Decimal(1), Decimal(0)
    step = 1 + rate
    for flow in flows:
        total += flow / factor
        factor *= step
    return total


def _npv_and_slope(rate: Decimal, flows: Sequence[Decimal]) -> tuple[Decimal, Decimal]:
    """The present value at `rate` and its derivative with respect to the rate."""
    total = slope = Decimal(0)
    discount = 1 / (1 + rate)
    factor = Decimal(1)
    for period, flow in enumerate(flows):
        total += flow * factor
        slope -= period * flow * factor * discount
        factor *= discount
    return total, slope


def _newton(flows: Sequence[Decimal], low: Decimal, high: Decimal) -> Decimal | None:
    """The root by Newton's method from a float estimate, or None if it strays from
    [low, high] or does not settle: the bisection then decides."""
    floats = [float(flow) for flow in flows]
    guess = 0.01
    try:
        for _ in range(50):
            value = sum(f / (1 + guess) ** k for k, f in enumerate(floats))
            slope = sum(-k * f / (1 + guess) ** (k + 1) for k, f in enumerate(floats))
            if slope == 0 or not -0.99 < guess < 10:
                return None
            move = value / slope
            guess -= move
            if abs(move) < 1e-12:
                break
    except (OverflowError, ZeroDivisionError):
        return None
    rate = Decimal(repr(guess))
    for _ in range(8):
        if not low < rate < high:
            return None
        npv, derivative = _npv_and_slope(rate, flows)
        if derivative == 0:
            return None
        step: Decimal = npv / derivative
        rate -= step
        if abs(step) < _TOLERANCE:
            return rate
    return None


def irr(flows: Sequence[Decimal]) -> Decimal:
    """The per-period rate at which the flows' present value is zero (exact Decimal, within
    1e-24: Newton's method from a float estimate, checked by a sign change across the
    tolerance, else bisection).

    Flows are one per period, the first at period 0; they must change sign exactly once so the
    rate is unique (a loan: money out, then payments in).
    """
    if not 2 <= len(flows) <= MAX_FLOWS:
        raise DomainError("cashflows", f"between 2 and {MAX_FLOWS} cash flows are needed "
                                       f"(got {len(flows)})")
    for index, flow in enumerate(flows):
        if abs(flow) > MAX_FLOW:
            raise DomainError(f"cashflows[{index}]", f"{flow} is above {MAX_FLOW:,} in size")
    signs = [flow > 0 for flow in flows if flow != 0]
    changes = sum(1 for a, b in zip(signs, signs[1:], strict=False) if a != b)
    if changes != 1:
        raise DomainError(
            "cashflows", "the flows must change sign exactly once (money out, then in)"
        )
    with localcontext() as context:
        context.prec = 40
        low, high = _LOW, _HIGH
        npv_low = _npv(low, flows)
        if (npv_low > 0) == (_npv(high, flows) > 0):
            raise DomainError(
                "cashflows", "no rate between -99 % and 1000 % a period fits these flows"
            )
        found = _newton(flows, low, high)
        if found is not None:
            below, above = found - _TOLERANCE, found + _TOLERANCE
            if low < below and above < high and \
                    (_npv(below, flows) > 0) != (_npv(above, flows) > 0):
                return +found
        for _ in range(_ITERATIONS):
            middle = (low + high) / 2
            value = _npv(middle, flows)
            if (value > 0) == (npv_low > 0):
                low, npv_low = middle, value
            else:
                high = middle
            if high - low < _TOLERANCE:
                break
        return +((low + high) / 2)


def apr_of(flows: Sequence[Decimal]) -> Apr:
    """Monthly IRR and both annualisations for monthly `flows`."""
    monthly = irr(flows)
    return Apr(
        monthly_irr=monthly,
        apr_nominal=monthly * MONTHS_PER_YEAR,
        apr_effective=(1 + monthly) ** MONTHS_PER_YEAR - 1,
    )


def exceeds_cap(apr: Apr, cap: Decimal, basis: Annualisation = Annualisation.NOMINAL) -> bool:
    return apr.annual(basis) > cap
