"""Days past due, delinquency buckets (C, M1 … M7+) and loan status."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from arrears.domain.errors import DomainError

DAYS_PER_BUCKET = 30
WRITE_OFF_DPD = 180
# A write-off needs an overdue loan, so 0 cannot mean "at once" (nor fall back to the default);
# ten years is past any lender's policy, so a larger threshold is a typo.
MIN_WRITE_OFF_DPD, MAX_WRITE_OFF_DPD = 1, 3650


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


def check_write_off_dpd(days: int, field: str) -> int:
    """`days` if it can be a write-off threshold, else a `DomainError` naming `field`."""
    if not MIN_WRITE_OFF_DPD <= days <= MAX_WRITE_OFF_DPD:
        raise DomainError(field, f"must be a number of days past due from {MIN_WRITE_OFF_DPD} "
                                 f"to {MAX_WRITE_OFF_DPD} (got {days})")
    return days


def bucket(dpd: int) -> Bucket:
    """C for 0; M1 for 1–30, M2 for 31–60 … M6 for 151–180; M7+ beyond 180."""
    if dpd <= 0:
        return Bucket.C
    index = (dpd - 1) // DAYS_PER_BUCKET + 1
    return BUCKETS[min(index, len(BUCKETS) - 1)]
