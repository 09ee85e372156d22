"""A loan's annualised cost (CN-20) from its schedule, and the cost-cap check at booking."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from functools import lru_cache

from arrears.domain.apr import Annualisation, Apr, apr_of, exceeds_cap
from arrears.domain.errors import InvalidLoan
from arrears.domain.product import DEFAULT_APR_CAPS, Product
from arrears.domain.schedule import ScheduledInstallment, build_schedule, round_units


def upfront_fee(principal: int, product: Product) -> int:
    """The fee deducted at disbursement, in minor units."""
    return round_units(Decimal(principal) * product.upfront_fee_rate, product.rounding)


def cash_flows(
    received: int, schedule: tuple[ScheduledInstallment, ...], terms: int
) -> list[Decimal]:
    """Monthly flows from the lender's side: `received` paid out at month 0, then each
    installment in its month (a bullet's single payment in its maturity month)."""
    flows = [Decimal(-received)] + [Decimal(0)] * terms
    for row in schedule:
        month = terms if len(schedule) == 1 else row.number
        flows[month] += row.payment
    return flows


def loan_apr(principal: int, product: Product, disbursed_on: date, terms: int, *,
             schedule: tuple[ScheduledInstallment, ...] | None = None) -> Apr:
    """The APR of a loan's contractual schedule (built here unless the caller has it),
    against the principal actually received."""
    if schedule is None:
        schedule = build_schedule(principal, product, disbursed_on, terms)
    received = principal - upfront_fee(principal, product)
    return _apr_of_flows(tuple(cash_flows(received, schedule, terms)))


@lru_cache(maxsize=65_536)
def _apr_of_flows(flows: tuple[Decimal, ...]) -> Apr:
    # The IRR search is most of a loan's boarding cost, and a portfolio repeats its flows: the
    # same principal and terms give the same flows on every date whose month lengths agree.
    return apr_of(flows)


def check_cost_cap(
    principal: int,
    product: Product,
    disbursed_on: date,
    terms: int,
    *,
    caps: dict[str, Decimal] | None = None,
    basis: Annualisation = Annualisation.NOMINAL,
    schedule: tuple[ScheduledInstallment, ...] | None = None,
) -> Apr:
    """The loan's APR, or `InvalidLoan` if it exceeds its jurisdiction's cost cap (CN-19)."""
    apr = loan_apr(principal, product, disbursed_on, terms, schedule=schedule)
    cap = (DEFAULT_APR_CAPS if caps is None else caps)[product.jurisdiction]
    if exceeds_cap(apr, cap, basis):
        raise InvalidLoan(
            "product",
            f"the loan's {basis.value} APR {apr.annual(basis):.4%} exceeds the "
            f"{product.jurisdiction} cost cap of {cap:.2%}",
        )
    return apr
