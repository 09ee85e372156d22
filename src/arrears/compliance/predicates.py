"""Reusable, exact time and counting checks the pack rules are built from.

Every instant is timezone-aware. Local wall-clock windows are judged in IANA zones with
`zoneinfo`, and the "next opening" helpers return the first instant at which a window opens,
correct across daylight-saving gaps and folds. Counting uses sorted epoch-second tuples from
`facts.FactsIndex` and bisection.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from arrears.domain.errors import DomainError

ONE_DAY = timedelta(days=1)


@lru_cache(maxsize=512)
def zone(name: str) -> ZoneInfo:
    """The IANA zone `name`; unknown names are a DomainError naming the zone."""
    try:
        return ZoneInfo(name)
    except (KeyError, ValueError):
        raise DomainError("zone", f"{name!r} is not an IANA time zone") from None


def require_aware(at: datetime, field: str = "at") -> None:
    if at.tzinfo is None or at.utcoffset() is None:
        raise DomainError(field, "instant must be timezone-aware")


@lru_cache(maxsize=4096)
def wall_instant(day: date, wall: time, tz: ZoneInfo) -> datetime:
    """The first instant (UTC) at which the local clock in `tz` on `day` shows `wall` or later.

    In a fold (clocks go back) that is the earlier of the two instants; in a gap (clocks
    spring forward over `wall`) it is the transition instant.
    """
    naive = datetime.combine(day, wall)
    early = naive.replace(tzinfo=tz, fold=0).astimezone(UTC)
    if early.astimezone(tz).replace(tzinfo=None) == naive:
        return early  # exists (possibly ambiguous; fold=0 is the earlier instant)
    # In a gap: fold=1 maps to an instant before the transition, fold=0 to one after it.
    low = naive.replace(tzinfo=tz, fold=1).astimezone(UTC)
    high = early
    if low > high:
        low, high = high, low
    while high - low > timedelta(seconds=1):
        mid = low + (high - low) / 2
        if mid.astimezone(tz).replace(tzinfo=None) >= naive:
            high = mid
        else:
            low = mid
    return high.replace(microsecond=0) if high.microsecond else high


def local_midnight(day: date, tz: ZoneInfo) -> datetime:
    return wall_instant(day, time(0), tz)


def in_window(wall: time, start: time, end: time) -> bool:
    """Whether a wall time is in the daily window [start, end); windows may cross midnight."""
    if start < end:
        return start <= wall < end
    return wall >= start or wall < end


def next_window_open(at: datetime, tz: ZoneInfo, start: time, end: time) -> datetime:
    """`at` if the daily window [start, end) is open in `tz` at `at`, else the next opening."""
    local = at.astimezone(tz)
    wall = local.time().replace(tzinfo=None)
    if in_window(wall, start, end):
        return at
    day = local.date()
    if wall < start:
        candidate = wall_instant(day, start, tz)
        if candidate > at:
            return candidate
    return wall_instant(day + ONE_DAY, start, tz)


def next_open_everywhere(
    at: datetime,
    zones: Sequence[ZoneInfo],
    start: time,
    end: time,
    horizon: timedelta = timedelta(days=8),
) -> datetime | None:
    """The first instant ≥ `at` at which [start, end) is open in every zone at once.

    Each step moves past an interval in which at least one zone is closed, so the result is
    exact. None when the windows do not intersect within `horizon`.
    """
    current = at
    limit = at + horizon
    for _ in range(64):
        latest = current
        for tz in zones:
            opening = next_window_open(current, tz, start, end)
            if opening > latest:
                latest = opening
        if latest == current:
            return current
        if latest > limit:
            return None
        current = latest
    return None


def count_since(stamps: Sequence[float], since: float) -> int:
    """How many sorted epoch stamps are ≥ `since`."""
    return len(stamps) - bisect_left(stamps, since)


def count_between(stamps: Sequence[float], since: float, until: float) -> int:
    """How many sorted epoch stamps are in [since, until)."""
    return bisect_left(stamps, until) - bisect_left(stamps, since)


def stamps_between(stamps: Sequence[float], since: float, until: float) -> Sequence[float]:
    return stamps[bisect_left(stamps, since) : bisect_left(stamps, until)]


def last_before(stamps: Sequence[float], until: float) -> float | None:
    """The latest stamp < `until`, if any."""
    position = bisect_left(stamps, until)
    return stamps[position - 1] if position else None


def from_stamp(stamp: float) -> datetime:
    return datetime.fromtimestamp(stamp, UTC)


# --- US federal legal public holidays (5 U.S.C. 6103(a)), for the validation-period count ---


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    first = date(year, month, 1)
    offset = (weekday - first.weekday()) % 7
    return first + timedelta(days=offset + 7 * (n - 1))


def _last_weekday(year: int, month: int, weekday: int) -> date:
    following = date(year + (month == 12), month % 12 + 1, 1)
    last = following - ONE_DAY
    return last - timedelta(days=(last.weekday() - weekday) % 7)


@lru_cache(maxsize=128)
def us_federal_holidays(year: int, observed: bool = True) -> frozenset[date]:
    """Legal public holidays in `year` (5 U.S.C. 6103(a)), with their weekday observances
    (6103(b)) when `observed`.

    Whether the observed Friday/Monday is excluded from the receipt count is unconfirmed
    (rules.md US-22, `USParams.exclude_observed_holidays`); excluding it gives the later,
    safer date, and is the default.
    """
    fixed = [date(year, 1, 1), date(year, 7, 4), date(year, 11, 11), date(year, 12, 25)]
    if year >= 2021:
        fixed.append(date(year, 6, 19))
    days = set(fixed)
    if observed:
        for day in fixed:
            if day.weekday() == 5:
                days.add(day - ONE_DAY)
            elif day.weekday() == 6:
                days.add(day + ONE_DAY)
        if date(year + 1, 1, 1).weekday() == 5:  # next New Year's Day observed on Dec 31
            days.add(date(year, 12, 31))
    days.update(
        {
            _nth_weekday(year, 1, 0, 3),  # Birthday of Martin Luther King, Jr.
            _nth_weekday(year, 2, 0, 3),  # Washington's Birthday
            _last_weekday(year, 5, 0),  # Memorial Day
            _nth_weekday(year, 9, 0, 1),  # Labor Day
            _nth_weekday(year, 10, 0, 2),  # Columbus Day
            _nth_weekday(year, 11, 3, 4),  # Thanksgiving Day
        }
    )
    return frozenset(days)


def is_us_business_day(day: date, observed: bool = True) -> bool:
    return day.weekday() < 5 and day not in us_federal_holidays(day.year, observed)


def add_us_business_days(start: date, days: int, observed: bool = True) -> date:
    """The `days`-th business day after `start` (Saturdays, Sundays and holidays skipped;
    observed holidays too when `observed`)."""
    current = start
    remaining = days
    while remaining:
        current += ONE_DAY
        if is_us_business_day(current, observed):
            remaining -= 1
    return current


def validation_period_end(
    sent_on: date,
    receipt_business_days: int = 5,
    period_days: int = 30,
    observed_holidays: bool = True,
) -> date:
    """Last day of the validation period for a notice provided on `sent_on` (US-22)."""
    receipt = add_us_business_days(sent_on, receipt_business_days, observed_holidays)
    return receipt + timedelta(days=period_days)
