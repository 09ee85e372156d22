"""The IRR search (CN-20 APR): Newton's method from a float estimate gives the rate the exact
bisection gives, to its 1e-24 tolerance, for any loan-shaped flows."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from arrears.domain import apr

TOLERANCE = Decimal("1e-24")


@st.composite
def loan_flows(draw: st.DrawFn) -> list[Decimal]:
    terms = draw(st.integers(1, 60))
    lent = draw(st.integers(1, 10**11))
    payments = [Decimal(draw(st.integers(1, 10**13))) / 100 for _ in range(terms)]
    return [Decimal(-lent), *payments]


@given(loan_flows())
def test_newton_finds_the_rate_bisection_finds(flows):
    try:
        fast = apr.irr(flows)
    except apr.DomainError:
        return  # no rate between -99 % and 1000 % a period: both searches refuse
    original = apr._newton
    apr._newton = lambda *_: None
    try:
        exact = apr.irr(flows)
    finally:
        apr._newton = original
    assert abs(fast - exact) <= 2 * TOLERANCE


def test_a_worked_rate():
    # 10,000.00 repaid by 12 × 916.80 (18 % equal installment): 1.5 % a month.
    flows = [Decimal(-10_000)] + [Decimal("916.80")] * 12
    assert f"{apr.irr(flows):.6f}" == "0.015000"


@pytest.mark.parametrize("flows", [[Decimal(-1), Decimal(0)], [Decimal(5), Decimal(5)]])
def test_flows_without_one_sign_change_are_refused(flows):
    with pytest.raises(apr.DomainError):
        apr.irr(flows)
