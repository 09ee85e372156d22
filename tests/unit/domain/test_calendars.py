"""PRC and US business calendars from the `holidays` package."""

from datetime import date

import pytest

from arrears.adapters.calendars import PrcCalendar, UsFederalCalendar, prc_published_through
from arrears.domain.calendar import CalendarNotPublished, Roll, add_business_days, roll


def test_prc_make_up_saturday_is_a_working_day():
    # 2026-02-14 is a Saturday worked in exchange for the Spring Festival break (调休).
    assert PrcCalendar().is_business_day(date(2026, 2, 14))


def test_prc_spring_festival_is_off():
    assert not PrcCalendar().is_business_day(date(2026, 2, 17))


def test_prc_refuses_to_guess_an_unpublished_year():
    year = prc_published_through() + 1
    with pytest.raises(CalendarNotPublished, match="not published"):
        PrcCalendar().is_business_day(date(year, 3, 2))


def test_us_observed_independence_day():
    # July 4, 2026 is a Saturday, observed on Friday July 3.
    assert not UsFederalCalendar().is_business_day(date(2026, 7, 3))
    assert UsFederalCalendar().is_business_day(date(2026, 7, 6))


def test_rolls():
    prc = PrcCalendar()
    holiday = date(2026, 10, 1)  # National Day
    assert roll(holiday, prc, Roll.FOLLOWING) == date(2026, 10, 8)
    assert roll(date(2026, 5, 31), prc, Roll.MODIFIED_FOLLOWING) == date(2026, 5, 29)
    assert add_business_days(date(2026, 2, 13), 1, prc) == date(2026, 2, 14)
