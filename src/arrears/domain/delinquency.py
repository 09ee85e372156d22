"""Days past due, delinquency buckets (C, M1 … M7+) and loan status."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

DAYS_PER_BUCKET = 30
WRITE_OFF_DPD = 180


class Bucket(StrEnum):
    C = "C"
    M1 = "M1"
    M2 = "M2"
    M3 = "M3"
    M4 = "M4"
    M5 = "M5"
    M6 = "M6"
    M7_PLUS = "M7+"


BUCKETS: tuple[Bucket, ...] = tuple(Bucket)


class LoanStatus(StrEnum):
    CURRENT = "current"
    OVERDUE = "overdue"
    SETTLED = "settled"
    WRITTEN_OFF = "written_off"


# The statuses of loans still being serviced (end-of-day, buckets, collections).
ACTIVE_STATUSES: tuple[str, ...] = (LoanStatus.CURRENT.value, LoanStatus.OVERDUE.value)


def days_past_due(as_of: date, earliest_overdue_due_date: date | None) -> int:
    """A − the due date of the earliest overdue installment; 0 when nothing is overdue."""
    if earliest_overdue_due_date is None:
        return 0
    return max(0, (as_of - earliest_overdue_due_date).days)


def bucket(dpd: int) -> Bucket:
    """C for 0; M1 for 1–30, M2 for 31–60 … M6 for 151–180; M7+ beyond 180."""
    if dpd <= 0:
        return Bucket.C
    index = (dpd - 1) // DAYS_PER_BUCKET + 1
    return BUCKETS[min(index, len(BUCKETS) - 1)]
