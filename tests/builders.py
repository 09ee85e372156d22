"""Builders for domain objects used across test tiers."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from arrears.domain.loan import Loan
from arrears.domain.product import Method, Product, validate_product


def product(**overrides: object) -> Product:
    fields: dict[str, object] = {"method": Method.EQUAL_INSTALLMENT, "annual_rate": Decimal("0.18")}
    fields.update(overrides)
    return validate_product(Product(**fields))  # type: ignore[arg-type]


def loan(
    principal: int = 1_000_000,
    terms: int = 12,
    disbursed_on: date = date(2026, 1, 15),
    **product_overrides: object,
) -> Loan:
    return Loan(loan_id="L-1", currency="CNY", principal=principal, disbursed_on=disbursed_on,
                terms=terms, product=product(**product_overrides))
