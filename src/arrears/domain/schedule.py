"""Repayment schedules for every method, exactly as DESIGN §9 defines them.

All arithmetic is in integer minor units; rounding follows the product (half-up by default).
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from arrears.domain.dates import check_date
from arrears.domain.errors import InvalidLoan
from arrears.domain.money import MAX_MINOR_UNITS
from arrears.domain.product import MAX_TERMS, InterestBasis, Method, Product, Rounding
from arrears.domain.rates import MONTHS_PER_YEAR


@dataclass(frozen=True, slots=True, kw_only=True)
class ScheduledInstallment:
    """One 期: what falls due on `due_date`. Amounts in minor units."""

    number: int
    due_date: date
    principal: int
    interest: int
    fee: int
    balance_after: int

    @property
    def payment(self) -> int:
        return self.principal + self.interest + self.fee


def add_months(start: date, months: int) -> date:
    """Same day of month `months` later, clamped to the month's last day (Jan 31 → Feb 28)."""
    index = start.month - 1 + months
    year, month = start.year + index // MONTHS_PER_YEAR, index % MONTHS_PER_YEAR + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def due_dates(disbursed_on: date, terms: int) -> tuple[date, ...]:
    """Monthly due dates, the first one month after disbursement."""
    return tuple(add_months(disbursed_on, k) for k in range(1, terms + 1))


def round_units(value: Decimal, rounding: Rounding) -> int:
    """A Decimal amount of minor units rounded to a whole minor unit."""
    return int(value.quantize(Decimal(1), rounding=rounding.decimal_mode))


def period_interest(
    balance: int, product: Product, period_start: date, period_end: date, periods: int = 1
) -> int:
    """Contract interest on `balance` minor units for one period (or `periods` for a bullet)."""
    if product.interest_basis is InterestBasis.PERIOD:
        exact = Decimal(balance) * product.annual_rate * periods / MONTHS_PER_YEAR
    else:
        days = product.day_count.days_between(period_start, period_end)
        exact = Decimal(balance) * product.annual_rate * days / product.day_count.year_days
    return round_units(exact, product.rounding)


def level_payment(principal: int, product: Product, terms: int) -> int:
    """等额本息 payment: P·r·(1+r)^n ÷ ((1+r)^n − 1), rounded to the minor unit."""
    r = product.annual_rate / MONTHS_PER_YEAR
    if r == 0:
        return round_units(Decimal(principal) / terms, product.rounding)
    growth = (1 + r) ** terms
    return round_units(Decimal(principal) * r * growth / (growth - 1), product.rounding)


def build_schedule(
    principal: int, product: Product, disbursed_on: date, terms: int
) -> tuple[ScheduledInstallment, ...]:
    """The installments of a loan of `principal` minor units over `terms` months."""
    if not 0 < principal <= MAX_MINOR_UNITS:
        raise InvalidLoan("principal", f"must be positive and at most {MAX_MINOR_UNITS} minor "
                                       f"units (got {principal})")
    if not 1 <= terms <= MAX_TERMS:
        raise InvalidLoan("terms", f"must be between 1 and {MAX_TERMS} (got {terms})")
    check_date(disbursed_on, "disbursed_on")
    dates = due_dates(disbursed_on, terms)
    if product.method is Method.BULLET:
        interest = period_interest(principal, product, disbursed_on, dates[-1], periods=terms)
        return (ScheduledInstallment(number=1, due_date=dates[-1], principal=principal,
                                     interest=interest, fee=0, balance_after=0),)
    return respread(principal, product, disbursed_on, dates, first_number=1,
                    original_principal=principal)


def respread(
    principal: int,
    product: Product,
    period_start: date,
    dates: tuple[date, ...],
    *,
    first_number: int,
    original_principal: int,
) -> tuple[ScheduledInstallment, ...]:
    """Spread `principal` over `dates` by the product's method (used by a new schedule and by a
    re-amortisation after prepayment). A flat fee stays on the original principal."""
    terms = len(dates)
    payment = level_payment(principal, product, terms)
    even_share = round_units(Decimal(principal) / terms, product.rounding)
    fee = round_units(Decimal(original_principal) * product.monthly_fee_rate, product.rounding)
    balance, start, rows = principal, period_start, []
    for offset, due in enumerate(dates):
        last = offset == terms - 1
        interest = period_interest(balance, product, start, due)
        if product.method is Method.EQUAL_INSTALLMENT:
            # On a daily basis a 31-day month's interest can exceed the level payment; that
            # installment then carries no principal rather than a negative one.
            part = balance if last else min(max(payment - interest, 0), balance)
        elif product.method in (Method.EQUAL_PRINCIPAL, Method.FLAT_FEE):
            part = balance if last else min(even_share, balance)
        else:  # interest only (a bullet has a single date, so it lands here too)
            part = balance if last else 0
        balance -= part
        rows.append(ScheduledInstallment(
            number=first_number + offset, due_date=due, principal=part, interest=interest,
            fee=fee if product.method is Method.FLAT_FEE else 0, balance_after=balance,
        ))
        start = due
    return tuple(rows)
