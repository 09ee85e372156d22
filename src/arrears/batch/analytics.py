"""Columnar kernels of the portfolio analytics (`application.analytics` defines the figures):
month-end states and the roll counts between them, vintage curves, and cures, each over
whole-book arrays with vectorised numpy operations (no loop over loans).

Inputs are the columns the store reads in bulk:
- `LoanColumns`: one row per loan (its position is its index everywhere else): day numbers
  (days since 1970-01-01) of disbursement, write-off and settlement, `NEVER` when none, and
  the principal lent (int64 minor units).
- `ChangeColumns`: the bucket changes (delinquency history): loan position, day, source and
  target bucket codes (C=0, M1=1 … M7+=7), sorted by loan, then day, then insertion order.
- `PaymentColumns`: the principal part of each payment (int64 minor units; a reversal is
  negative), with its loan position and day, in any order.

Month-end states are built month by month from running vectors (a bucket and a principal
outstanding per loan), so memory stays O(loans), not O(loans × months). Overflow: sums are
int64 minor units; a cell's principal is at most the book's principal outstanding, far below
9.2e18 (ten million loans of a billion yuan each is 1e18 fen).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

NEVER = int(np.iinfo(np.int32).max)
"""Day number standing in for "no date" (not written off, not settled, never past 30)."""
ACTIVE = 8
"""Bucket codes 0 … 7; the two codes after them are the states a loan leaves the book in."""
WRITTEN_OFF = 8
SETTLED = 9
STATES = 10
NOT_ON_BOOK = -1
M2, M4 = 2, 4
"""The first buckets past 30 and past 90 days."""

IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class LoanColumns:
    disbursed: IntArray
    written_off: IntArray
    settled: IntArray
    principal: IntArray


@dataclass(frozen=True, slots=True)
class ChangeColumns:
    loan: IntArray
    day: IntArray
    source: IntArray
    target: IntArray


@dataclass(frozen=True, slots=True)
class PaymentColumns:
    loan: IntArray
    day: IntArray
    principal: IntArray


def month_number(days: IntArray) -> IntArray:
    """Calendar months since 1970-01 of day numbers (`NEVER` gives a far-future month)."""
    return days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)


def states_at(bucket: npt.NDArray[np.int8], loans: LoanColumns, day: int
              ) -> npt.NDArray[np.int8]:
    """Each loan's state code at the end of `day`, given its bucket then."""
    state = bucket.copy()
    state[loans.settled <= day] = SETTLED
    state[loans.written_off <= day] = WRITTEN_OFF
    state[loans.disbursed > day] = NOT_ON_BOOK
    return state


def paid_off_on_last_payment(loans: LoanColumns, payments: PaymentColumns) -> LoanColumns:
    """`loans` with each settled loan's settlement day moved to the day of its last payment
    of principal, when it has one."""
    last = np.full(len(loans.settled), -1, np.int64)
    paid = payments.principal > 0
    np.maximum.at(last, payments.loan[paid], payments.day[paid])
    moved = (loans.settled != NEVER) & (last >= 0)
    return replace(loans, settled=np.where(moved, last, loans.settled))


def _last_per_loan(loan: IntArray) -> IntArray:
    """Positions of each loan's last row in a segment ordered in time."""
    reversed_loans = loan[::-1]
    _, first = np.unique(reversed_loans, return_index=True)
    return len(loan) - 1 - first


def roll_counts(loans: LoanColumns, changes: ChangeColumns, payments: PaymentColumns,
                month_ends: IntArray) -> tuple[IntArray, IntArray]:
    """(loans, principal), each int64 of shape [len(month_ends) − 1, ACTIVE, STATES]: for each
    pair of consecutive month ends, the loans active (C … M7+) at the first, by their state
    at the first and at the second, and their principal outstanding at the first."""
    count = len(loans.principal)
    pairs = max(len(month_ends) - 1, 0)
    counts = np.zeros((pairs, ACTIVE * STATES), np.int64)
    amounts = np.zeros((pairs, ACTIVE * STATES), np.int64)
    bucket = np.zeros(count, np.int8)
    outstanding = loans.principal.astype(np.int64, copy=True)
    by_day = np.argsort(changes.day, kind="stable")  # keeps a loan's order within a day
    change_day, change_loan = changes.day[by_day], changes.loan[by_day]
    change_target = changes.target[by_day].astype(np.int8)
    paid_order = np.argsort(payments.day, kind="stable")
    paid_day, paid_loan = payments.day[paid_order], payments.loan[paid_order]
    paid_principal = payments.principal[paid_order]
    change_at = paid_at = 0
    previous: tuple[npt.NDArray[np.int8], IntArray] | None = None
    for k, end in enumerate(month_ends):
        change_next = int(np.searchsorted(change_day, end, side="right"))
        if change_next > change_at:
            segment = slice(change_at, change_next)
            last = _last_per_loan(change_loan[segment])
            bucket[change_loan[segment][last]] = change_target[segment][last]
            change_at = change_next
        paid_next = int(np.searchsorted(paid_day, end, side="right"))
        if paid_next > paid_at:
            np.subtract.at(outstanding, paid_loan[paid_at:paid_next],
                           paid_principal[paid_at:paid_next])
            paid_at = paid_next
        state = states_at(bucket, loans, int(end))
        if previous is not None:
            before, owed = previous
            active = (before >= 0) & (before < ACTIVE)
            cell = before[active].astype(np.int64) * STATES + state[active]
            counts[k - 1] = np.bincount(cell, minlength=ACTIVE * STATES)
            np.add.at(amounts[k - 1], cell, owed[active])
        previous = (state, outstanding.copy())
    shape = (pairs, ACTIVE, STATES)
    return counts.reshape(shape), amounts.reshape(shape)


@dataclass(frozen=True, slots=True)
class VintageCounts:
    """Per vintage (row): its month number, loans and principal, and the cumulative loans
    that had reached M2, M4 and write-off by each month on book (columns; a curve's points
    after `as_of` repeat its last value and are not reported, see `observed`)."""

    months: IntArray
    loans: IntArray
    principal: IntArray
    dpd30: IntArray
    dpd90: IntArray
    written_off: IntArray
    observed: IntArray
    """Months on book observed by `as_of` per vintage, plus one (the curve's length)."""


def first_day_at_or_past(changes: ChangeColumns, loans: int, code: int, as_of: int
                         ) -> IntArray:
    """Per loan, the first day it moved into bucket `code` or beyond (by `as_of`), or NEVER."""
    first = np.full(loans, NEVER, np.int64)
    reached = (changes.target >= code) & (changes.day <= as_of)
    positions = np.flatnonzero(reached)
    if len(positions):
        # Changes are sorted by loan then day: a loan's first row is its earliest.
        owners, first_row = np.unique(changes.loan[positions], return_index=True)
        first[owners] = changes.day[positions[first_row]]
    return first


def vintage_counts(loans: LoanColumns, changes: ChangeColumns, as_of: int) -> VintageCounts:
    on_book = loans.disbursed <= as_of
    vintage = month_number(loans.disbursed[on_book])
    empty = np.zeros(0, np.int64)
    if not len(vintage):
        return VintageCounts(empty, empty, empty, empty.reshape(0, 0), empty.reshape(0, 0),
                             empty.reshape(0, 0), empty)
    current = int(month_number(np.array([as_of], np.int64))[0])
    first = int(vintage.min())
    rows = columns = current - first + 1
    row = vintage - first
    count = len(loans.principal)

    def cumulative(days: IntArray) -> IntArray:
        event = days[on_book]
        seen = event <= as_of
        mob = month_number(event[seen]) - vintage[seen]
        flat = np.bincount(row[seen] * columns + mob, minlength=rows * columns)
        return np.cumsum(flat.reshape(rows, columns), axis=1)

    written_off = np.where(loans.written_off <= as_of, loans.written_off, NEVER)
    months = np.arange(first, current + 1, dtype=np.int64)
    return VintageCounts(
        months=months,
        loans=np.bincount(row, minlength=rows).astype(np.int64),
        principal=_sum_by(row, loans.principal[on_book], rows),
        dpd30=cumulative(first_day_at_or_past(changes, count, M2, as_of)),
        dpd90=cumulative(first_day_at_or_past(changes, count, M4, as_of)),
        written_off=cumulative(written_off),
        observed=current - months + 1,
    )


def _sum_by(group: IntArray, values: IntArray, groups: int) -> IntArray:
    """Exact int64 sums of `values` by `group` (0 … groups − 1)."""
    sums = np.zeros(groups, np.int64)
    np.add.at(sums, group, values)
    return sums


def cure_counts(changes: ChangeColumns, as_of: int, window: int) -> tuple[IntArray, IntArray]:
    """(entered, cured), int64 per bucket code 0 … 7: rolls forward into each bucket dated at
    least `window` days before `as_of`, and those followed by a move to C within `window`
    days."""
    size = len(changes.day)
    positions = np.arange(size, dtype=np.int64)
    # For each row, the next row (strictly after it) that moves the loan to C.
    to_current = np.where(changes.target == 0, positions, size)
    next_current = np.append(np.minimum.accumulate(to_current[::-1])[::-1][1:], size)
    rolled = ((changes.target > changes.source) & (changes.day + window <= as_of))
    entries = np.flatnonzero(rolled)
    found = next_current[entries]
    valid = found < size
    cured = np.zeros(len(entries), bool)
    hit = entries[valid]
    after = found[valid]
    cured[valid] = (changes.loan[after] == changes.loan[hit]) & (
        changes.day[after] - changes.day[hit] <= window)
    target = changes.target[entries]
    return (np.bincount(target, minlength=ACTIVE).astype(np.int64),
            np.bincount(target[cured], minlength=ACTIVE).astype(np.int64))
