"""Annual rates, day-count conventions, and daily ↔ annual conversion (DESIGN §2)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum

from arrears.domain.errors import DomainError

MONTHS_PER_YEAR = 12


class DayCount(StrEnum):
    """How days and years are counted. The value is the conventional name."""

    ACT_360 = "ACT/360"
    ACT_365F = "ACT/365F"
    THIRTY_360 = "30/360"

    @classmethod
    def parse(cls, text: str, field: str = "day_count") -> DayCount:
        try:
            return cls(text)
        except ValueError:
            names = ", ".join(member.value for member in cls)
            raise DomainError(
                field, f"unknown day count {text!r} (expected one of {names})"
            ) from None

    @property
    def year_days(self) -> int:
        """The year basis: 日利率 = annual ÷ this."""
        return 365 if self is DayCount.ACT_365F else 360

    def days_between(self, start: date, end: date) -> int:
        """Days in the half-open interval [start, end) under this convention."""
        if self is not DayCount.THIRTY_360:
            return (end - start).days
        # 30/360 US (Bond Basis): day 31 counts as day 30.
        d1 = min(start.day, 30)
        d2 = end.day if not (end.day == 31 and d1 == 30) else 30
        return (end.year - start.year) * 360 + (end.month - start.month) * 30 + (d2 - d1)


def daily_rate(annual: Decimal, day_count: DayCount) -> Decimal:
    """The daily rate for an annual rate: 0.18 on ACT/360 is 0.0005 a day."""
    return annual / day_count.year_days


def annual_from_daily(daily: Decimal, day_count: DayCount) -> Decimal:
    """The annual rate for a daily rate: 0.05 % a day on ACT/360 is 18 % a year."""
    return daily * day_count.year_days


def periodic_rate(annual: Decimal) -> Decimal:
    """The monthly periodic rate of an annual nominal rate (annual ÷ 12)."""
    return annual / MONTHS_PER_YEAR
