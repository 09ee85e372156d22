"""Daily overdue accrual (罚息 and 复利) in exact integer arithmetic — DESIGN §9.

Amounts are integer minor units (cents, 分) or integer *sub-minor* units: 1/10,000 of a minor
unit, the precision accrued totals keep. Each daily increment is rounded half-up to a sub-minor
unit; totals are rounded to the minor unit (by the product's rounding) only when reported or
posted. The batch kernel reproduces these functions exactly; keep them in step.
"""

from __future__ import annotations

from decimal import Decimal

from arrears.domain.product import Rounding

SUB_MINOR_PER_MINOR = 10_000


def rate_fraction(rate: Decimal) -> tuple[int, int]:
    """`rate` as an exact (numerator, denominator) pair with a power-of-ten denominator."""
    sign, digits, exponent = rate.as_tuple()
    if not isinstance(exponent, int):
        raise ValueError(f"rate {rate} is not finite")
    numerator = int("".join(map(str, digits)) or "0") * (-1 if sign else 1)
    if exponent >= 0:
        return numerator * 10**exponent, 1
    return numerator, 10**-exponent


def daily_increment(base_minor: int, annual_rate: Decimal, year_days: int) -> int:
    """One day's accrual on `base_minor` minor units, in sub-minor units, rounded half-up."""
    if base_minor <= 0:
        return 0
    numerator, denominator = rate_fraction(annual_rate)
    top = base_minor * numerator * SUB_MINOR_PER_MINOR
    bottom = denominator * year_days
    return (2 * top + bottom) // (2 * bottom)


def to_minor(sub_minor: int, rounding: Rounding = Rounding.HALF_UP) -> int:
    """Sub-minor units rounded to whole minor units, for reporting or posting."""
    quotient, remainder = divmod(sub_minor, SUB_MINOR_PER_MINOR)
    if rounding is Rounding.DOWN or remainder == 0:
        return quotient
    twice = 2 * remainder
    if twice > SUB_MINOR_PER_MINOR:
        return quotient + 1
    if twice == SUB_MINOR_PER_MINOR and (rounding is Rounding.HALF_UP or quotient % 2 == 1):
        return quotient + 1
    return quotient


def accrue(base_minor: int, annual_rate: Decimal, year_days: int, days: int) -> int:
    """`days` days of accrual on a constant base, in sub-minor units (each day rounded)."""
    return days * daily_increment(base_minor, annual_rate, year_days)
