"""Business calendars backed by the `holidays` package: PRC (with 调休 make-up working days)
and US federal.

The PRC State Council publishes each year's holiday schedule, with the weekend days that
become working days, in the preceding November or December. For a year whose schedule the
installed `holidays` release does not carry, the PRC calendar raises `CalendarNotPublished`
instead of guessing from the statutory rules alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import cache

import holidays

from arrears.domain.calendar import BusinessCalendar, CalendarNotPublished
from arrears.domain.errors import DomainError

SATURDAY = 5
_HOLIDAYS_FIRST_YEAR = 2000
_HOLIDAYS_LAST_YEAR = 2100


@cache
def prc_published_through() -> int:
    """The last year whose official PRC schedule (with make-up working days) is known."""
    every_year = holidays.China(years=range(_HOLIDAYS_FIRST_YEAR, _HOLIDAYS_LAST_YEAR + 1))
    return max(day.year for day in every_year.weekend_workdays)


@dataclass(slots=True)
class PrcCalendar:
    """Mainland China: official holidays off, 调休 weekend days on."""

    name: str = "CN"
    _years: holidays.HolidayBase = field(default_factory=lambda: holidays.China())

    def is_business_day(self, day: date) -> bool:
        if day.year > prc_published_through():
            raise CalendarNotPublished(
                "calendar",
                f"the PRC holiday schedule for {day.year} is not published yet "
                f"(known through {prc_published_through()})",
            )
        return bool(self._years.is_working_day(day))


@dataclass(slots=True)
class UsFederalCalendar:
    """US federal holidays (observed), Saturday and Sunday off."""

    name: str = "US"
    _years: holidays.HolidayBase = field(default_factory=lambda: holidays.US())

    def is_business_day(self, day: date) -> bool:
        return day.weekday() < SATURDAY and day not in self._years


def calendar_for(jurisdiction: str) -> BusinessCalendar:
    """The business calendar of a jurisdiction code (`CN`, `US`)."""
    if jurisdiction == "CN":
        return PrcCalendar()
    if jurisdiction == "US":
        return UsFederalCalendar()
    raise DomainError("jurisdiction", f"no business calendar for {jurisdiction!r}")
