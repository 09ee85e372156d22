from datetime import date
from decimal import Decimal

import pytest

from arrears.domain.errors import DomainError
from arrears.domain.rates import DayCount, annual_from_daily, daily_rate


def test_half_a_permille_a_day_on_act_360_is_18_percent_a_year():
    assert annual_from_daily(Decimal("0.0005"), DayCount.ACT_360) == Decimal("0.18")
    assert daily_rate(Decimal("0.18"), DayCount.ACT_360) == Decimal("0.0005")
    assert daily_rate(Decimal("0.365"), DayCount.ACT_365F) == Decimal("0.001")


@pytest.mark.parametrize(
    ("start", "end", "convention", "days"),
    [
        (date(2026, 1, 31), date(2026, 2, 28), DayCount.ACT_360, 28),
        (date(2026, 1, 31), date(2026, 2, 28), DayCount.THIRTY_360, 28),
        (date(2026, 1, 15), date(2026, 2, 15), DayCount.THIRTY_360, 30),
        (date(2026, 1, 30), date(2026, 3, 31), DayCount.THIRTY_360, 60),
        (date(2026, 1, 15), date(2027, 1, 15), DayCount.ACT_365F, 365),
    ],
)
def test_days_between(start, end, convention, days):
    assert convention.days_between(start, end) == days


def test_unknown_day_count_names_the_field():
    with pytest.raises(DomainError) as error:
        DayCount.parse("ACT/999")
    assert error.value.field == "day_count"
