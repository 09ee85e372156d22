from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from arrears.domain.errors import DomainError
from arrears.domain.money import Money, allocate


def test_allocate_gives_the_extra_cent_to_the_first_part():
    parts = allocate(Money.of("100.00", "CNY"), (Decimal(1),) * 3)
    assert [p.format() for p in parts] == ["33.34", "33.33", "33.33"]


def test_money_refuses_float():
    with pytest.raises(TypeError):
        Money(0.1, "CNY")  # type: ignore[arg-type]


def test_parse_refuses_float_and_garbage():
    with pytest.raises(DomainError, match="amount"):
        Money.of(0.1, "CNY")  # type: ignore[arg-type]
    with pytest.raises(DomainError, match="not a decimal"):
        Money.of("12,00", "CNY")


def test_minor_units_refuses_sub_cent_instead_of_rounding():
    with pytest.raises(DomainError, match="minor digits"):
        Money.of("1.005", "CNY").minor_units()
    assert Money.of("1.005", "CNY").rounded().format() == "1.01"  # half-up
    assert Money.of("1", "JPY").minor_units() == 1


def test_currencies_do_not_mix():
    with pytest.raises(DomainError, match="currency"):
        Money.of("1", "CNY") + Money.of("1", "USD")


def test_unknown_currency_is_refused():
    with pytest.raises(DomainError, match="currency"):
        Money.of("1", "XXX")


@given(
    st.integers(min_value=-10**12, max_value=10**12),
    st.lists(st.decimals(min_value=0, max_value=1000, places=3), min_size=1, max_size=12),
)
def test_allocation_adds_back_to_the_total(units, weights):
    if sum(weights) == 0:
        weights[0] = Decimal(1)
    total = Money.from_minor(units, "CNY")
    parts = allocate(total, weights)
    assert sum(p.minor_units() for p in parts) == units
    assert len(parts) == len(weights)
