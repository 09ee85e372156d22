"""Schedules for every method and both interest bases, pinned by golden files and checked
against numpy-financial where it uses the same formula. Regenerate the golden files after an
intended change with ARREARS_REGENERATE_GOLDEN=1."""

from __future__ import annotations

import json
import os
from datetime import date
from decimal import Decimal
from pathlib import Path

import numpy_financial as npf
import pytest
from hypothesis import given
from hypothesis import strategies as st

from arrears.application.loan_file import schedule_document
from arrears.domain.product import InterestBasis, Method
from arrears.domain.schedule import add_months, build_schedule, due_dates

from builders import product

GOLDEN = Path(__file__).parents[2] / "golden" / "schedules"
REGENERATE = os.environ.get("ARREARS_REGENERATE_GOLDEN") == "1"

CASES = [
    (method, basis)
    for method in Method
    for basis in InterestBasis
    if not (method is Method.FLAT_FEE and basis is InterestBasis.DAILY)
]


def _product(method: Method, basis: InterestBasis):
    if method is Method.FLAT_FEE:
        return product(method=method, annual_rate=Decimal(0), monthly_fee_rate=Decimal("0.006"),
                       interest_basis=basis)
    return product(method=method, annual_rate=Decimal("0.18"), interest_basis=basis)


@pytest.mark.parametrize(("method", "basis"), CASES, ids=[f"{m}-{b}" for m, b in CASES])
def test_schedule_matches_golden(method, basis):
    rows = build_schedule(1_200_000, _product(method, basis), date(2026, 1, 31), 12)
    actual = {"principal": "12000.00", "disbursed_on": "2026-01-31", "terms": 12,
              "method": method.value, "interest_basis": basis.value,
              "installments": schedule_document(rows, "CNY")}
    path = GOLDEN / f"{method.value}-{basis.value}.json"
    if REGENERATE:
        path.write_text(json.dumps(actual, indent=1) + "\n")
    assert json.loads(path.read_text()) == actual


def test_equal_installment_payment_agrees_with_numpy_financial():
    rows = build_schedule(1_000_000, product(), date(2026, 1, 15), 12)
    expected = -npf.pmt(0.18 / 12, 12, 1_000_000)
    assert abs(rows[0].payment - expected) <= 0.5
    # Interest per period follows the balance, as npf.ipmt does, within the rounding drift.
    for row in rows[:-1]:
        assert abs(row.interest - (-npf.ipmt(0.18 / 12, row.number, 12, 1_000_000))) <= 1.0


def test_equal_installment_matches_the_issue_example():
    rows = build_schedule(1_000_000, product(), date(2026, 1, 15), 12)
    assert rows[0].payment == 91_680  # 916.80
    assert rows[-1].balance_after == 0


def test_flat_fee_phone_plan_matches_numpy_financial_rate():
    rows = build_schedule(1_200_000, _product(Method.FLAT_FEE, InterestBasis.PERIOD),
                          date(2026, 1, 15), 12)
    assert {row.fee for row in rows} == {7_200}
    assert sum(row.principal for row in rows) == 1_200_000
    monthly = npf.rate(12, -rows[0].payment / 100, 12000, 0)
    assert round(monthly * 12, 4) == 0.1303  # CN-20's 13.03 %


def test_due_dates_clamp_to_month_end_and_return():
    assert due_dates(date(2026, 1, 31), 3) == (date(2026, 2, 28), date(2026, 3, 31),
                                                date(2026, 4, 30))
    assert add_months(date(2027, 12, 31), 2) == date(2028, 2, 29)


def test_bullet_is_one_installment_at_maturity():
    rows = build_schedule(1_000_000, product(method=Method.BULLET), date(2026, 1, 15), 6)
    assert len(rows) == 1
    assert rows[0].due_date == date(2026, 7, 15)
    assert rows[0].interest == 90_000  # 10,000.00 × 18 % ÷ 12 × 6


@given(
    principal=st.integers(min_value=100, max_value=10**10),
    terms=st.integers(min_value=1, max_value=36),
    method=st.sampled_from(list(Method)),
    basis=st.sampled_from(list(InterestBasis)),
    rate=st.decimals(min_value=0, max_value=Decimal("0.24"), places=4),
    start=st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31)),
)
def test_principal_sums_to_the_loan_and_balance_ends_at_zero(
    principal, terms, method, basis, rate, start
):
    if method is Method.FLAT_FEE:
        chosen = product(method=method, annual_rate=Decimal(0), monthly_fee_rate=Decimal("0.005"))
    else:
        chosen = product(method=method, annual_rate=rate, interest_basis=basis)
    rows = build_schedule(principal, chosen, start, terms)
    assert sum(row.principal for row in rows) == principal
    assert rows[-1].balance_after == 0
    assert all(row.principal >= 0 and row.interest >= 0 for row in rows)
    balances = [principal] + [row.balance_after for row in rows]
    assert all(a >= b for a, b in zip(balances, balances[1:], strict=False))
