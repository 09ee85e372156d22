"""The span of calendar dates Arrears accepts from outside: every date an operator, a file or a
caller gives must lie in it.

Python's dates end at years 1 and 9999, so arithmetic near them overflows: a 24-month schedule
from 9999-12-01 has no last due date, and 0001-01-01 at +05:00 has no UTC instant. A lender's
business dates lie far inside 1900–2199, so a date outside that span is a typo, refused with
the field it came in; dates derived from it (due dates 30 years on, windows a few years back)
then stay far from the limits.
"""

from __future__ import annotations

from datetime import date, datetime

from arrears.domain.errors import DomainError

FIRST_DAY = date(1900, 1, 1)
LAST_DAY = date(2199, 12, 31)


def check_date(day: date, field: str) -> date:
    """`day`, or `DomainError` naming `field` when it lies outside FIRST_DAY–LAST_DAY."""
    if not FIRST_DAY <= day <= LAST_DAY:
        raise DomainError(
            field, f"{day.isoformat()} is outside the years {FIRST_DAY.year}–{LAST_DAY.year}"
        )
    return day


def check_instant(at: datetime, field: str) -> datetime:
    """`at`, or `DomainError` naming `field` when its wall-clock date is out of span."""
    check_date(at.date(), field)
    return at
