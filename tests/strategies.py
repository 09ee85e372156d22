"""Hypothesis strategies for random loans and payment histories."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import strategies as st

from arrears.domain.loan import Loan, Payment
from arrears.domain.product import (
    MAX_GRACE_DAYS,
    EarlyPayment,
    InterestBasis,
    Method,
    Prepayment,
    Product,
    validate_product,
)
from arrears.domain.rates import DayCount

# Mostly a few days, as lenders set it, but up to the longest a product may have: an overdue
# installment still in its window when the next falls due takes branches nothing else does.
GRACE_DAYS = st.one_of(st.integers(0, 5), st.integers(6, MAX_GRACE_DAYS))


@st.composite
def products(draw: st.DrawFn, hold: bool = False) -> Product:
    """Random valid products; `hold` also draws products that keep early money as credit."""
    method = draw(st.sampled_from(list(Method)))
    flat = method is Method.FLAT_FEE
    return validate_product(Product(
        method=method,
        interest_basis=InterestBasis.PERIOD if flat else draw(st.sampled_from(list(InterestBasis))),
        annual_rate=Decimal(0) if flat else draw(st.decimals(0, Decimal("0.24"), places=4)),
        day_count=draw(st.sampled_from(list(DayCount))),
        penalty_markup=draw(st.sampled_from([Decimal("0.3"), Decimal("0.4"), Decimal("0.5")])),
        penalty_base_rate=draw(st.decimals(Decimal("0.05"), Decimal("0.15"), places=3))
        if flat else None,
        compound=draw(st.booleans()),
        grace_days=draw(GRACE_DAYS),
        monthly_fee_rate=draw(st.decimals(0, Decimal("0.01"), places=4)) if flat else Decimal(0),
        prepayment=draw(st.sampled_from(list(Prepayment))),
        early_payment=draw(st.sampled_from(list(EarlyPayment))) if hold else EarlyPayment.PREPAY,
    ))


@st.composite
def loans(draw: st.DrawFn, hold: bool = False) -> Loan:
    return Loan(
        loan_id="L-prop",
        currency="CNY",
        principal=draw(st.integers(10_000, 10**9)),
        disbursed_on=draw(st.dates(date(2024, 1, 1), date(2027, 12, 31))),
        terms=draw(st.integers(1, 24)),
        product=draw(products(hold)),
    )


@st.composite
def histories(draw: st.DrawFn, max_payments: int = 8, hold: bool = False
              ) -> tuple[Loan, tuple[Payment, ...]]:
    loan = draw(loans(hold))
    count = draw(st.integers(0, max_payments))
    payments = tuple(
        Payment(
            key=f"k{i}",
            on=loan.disbursed_on + timedelta(days=draw(st.integers(0, 30 * loan.terms + 90))),
            amount=draw(st.integers(1, max(1, loan.principal // 3))),
        )
        for i in range(count)
    )
    return loan, payments
