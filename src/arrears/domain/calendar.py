"""Business calendars as a protocol, and the conventions that roll a date onto a business day.

Implementations live in `arrears.adapters.calendars` (backed by the `holidays` package); the
domain only states what a calendar must answer.
"""

from __future__ import annotations

from datetime import date, timedelta
from enum import StrEnum
from typing import Protocol

from arrears.domain.errors import DomainError

ONE_DAY = timedelta(days=1)


class CalendarNotPublished(DomainError):
    """The official schedule for the year is not yet known, so the calendar will not guess."""


class BusinessCalendar(Protocol):
    """Which days are business days in one jurisdiction."""

    name: str

    def is_business_day(self, day: date) -> bool:
        """True on a working day; raises `CalendarNotPublished` for an unknown year."""
        ...


class Roll(StrEnum):
    """How a date that is not a business day moves onto one."""

    NONE = "none"
    FOLLOWING = "following"
    MODIFIED_FOLLOWING = "modified_following"
    PRECEDING = "preceding"


def _step(day: date, calendar: BusinessCalendar, step: timedelta) -> date:
    while not calendar.is_business_day(day):
        day += step
    return day


def roll(day: date, calendar: BusinessCalendar, convention: Roll) -> date:
    """`day` moved onto a business day by `convention`."""
    if convention is Roll.NONE:
        return day
    if convention is Roll.PRECEDING:
        return _step(day, calendar, -ONE_DAY)
    following = _step(day, calendar, ONE_DAY)
    if convention is Roll.MODIFIED_FOLLOWING and following.month != day.month:
        return _step(day, calendar, -ONE_DAY)
    return following


def add_business_days(day: date, count: int, calendar: BusinessCalendar) -> date:
    """The business day `count` business days after `day` (before it when negative)."""
    step = ONE_DAY if count >= 0 else -ONE_DAY
    remaining = abs(count)
    while remaining:
        day += step
        if calendar.is_business_day(day):
            remaining -= 1
    return day
