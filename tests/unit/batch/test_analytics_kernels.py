"""The analytics kernels against a loan-by-loan reading of the same history (hypothesis over
random small books): month-end states and roll counts, vintage curves, cures."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from arrears.batch import analytics as kernels
from arrears.batch.analytics import NEVER, ChangeColumns, LoanColumns, PaymentColumns

EPOCH = date(1970, 1, 1)
FIRST = (date(2025, 6, 1) - EPOCH).days
SPAN = 300
MONTH_ENDS = np.array([(date(2025 + (m + 6) // 12, (m + 6) % 12 + 1, 1) - timedelta(days=1)
                        - EPOCH).days for m in range(1, 12)], np.int64)
"""2025-06-30 … 2026-04-30."""


@st.composite
def books(draw):
    """Loans with a walk through the buckets (changes on distinct increasing days), maybe a
    write-off or a pay-off, and principal payments."""
    loans = draw(st.integers(1, 8))
    disbursed, written_off, settled, principal = [], [], [], []
    changes, payments = [], []
    for loan in range(loans):
        start = FIRST + draw(st.integers(0, SPAN - 60))
        disbursed.append(start)
        principal.append(draw(st.integers(1, 10_000_000)))
        days = sorted(draw(st.sets(st.integers(start + 1, FIRST + SPAN), max_size=6)))
        bucket = 0
        for day in days:
            target = draw(st.integers(0, 7).filter(lambda b, now=bucket: b != now))
            changes.append((loan, day, bucket, target))
            bucket = target
        end = draw(st.sampled_from(("open", "written_off", "settled")))
        last = days[-1] if days else start
        exit_day = draw(st.integers(last, FIRST + SPAN + 30))
        written_off.append(exit_day if end == "written_off" else NEVER)
        settled.append(exit_day if end == "settled" else NEVER)
        for day in draw(st.lists(st.integers(start, FIRST + SPAN), max_size=4)):
            payments.append((loan, day, draw(st.integers(-1_000, 100_000))))
    columns = [np.array(c, np.int64) for c in zip(*changes, strict=True)] if changes else \
        [np.zeros(0, np.int64)] * 4
    paid = [np.array(c, np.int64) for c in zip(*payments, strict=True)] if payments else \
        [np.zeros(0, np.int64)] * 3
    return (LoanColumns(*(np.array(c, np.int64) for c in (disbursed, written_off, settled,
                                                            principal))),
            ChangeColumns(*columns), PaymentColumns(*paid))


def state_of(loans: LoanColumns, changes: ChangeColumns, loan: int, day: int) -> int:
    if loans.disbursed[loan] > day:
        return kernels.NOT_ON_BOOK
    if loans.written_off[loan] <= day:
        return kernels.WRITTEN_OFF
    if loans.settled[loan] <= day:
        return kernels.SETTLED
    bucket = 0
    for owner, changed, target in zip(changes.loan, changes.day, changes.target, strict=True):
        if owner == loan and changed <= day:
            bucket = int(target)
    return bucket


def outstanding(loans: LoanColumns, payments: PaymentColumns, loan: int, day: int) -> int:
    paid = sum(int(p) for owner, on, p in zip(payments.loan, payments.day, payments.principal,
                                              strict=True) if owner == loan and on <= day)
    return int(loans.principal[loan]) - paid


@settings(max_examples=50, deadline=None)
@given(books())
def test_roll_counts_are_the_loans_moving_between_month_end_states(book):
    loans, changes, payments = book
    counts, amounts = kernels.roll_counts(loans, changes, payments, MONTH_ENDS)
    expected = np.zeros_like(counts)
    expected_amounts = np.zeros_like(amounts)
    for k in range(len(MONTH_ENDS) - 1):
        for loan in range(len(loans.principal)):
            before = state_of(loans, changes, loan, int(MONTH_ENDS[k]))
            if 0 <= before < kernels.ACTIVE:
                after = state_of(loans, changes, loan, int(MONTH_ENDS[k + 1]))
                expected[k, before, after] += 1
                expected_amounts[k, before, after] += outstanding(loans, payments, loan,
                                                                  int(MONTH_ENDS[k]))
    assert (counts == expected).all()
    assert (amounts == expected_amounts).all()


@settings(max_examples=50, deadline=None)
@given(books(), st.integers(FIRST, FIRST + SPAN + 30))
def test_vintage_curves_never_fall_and_count_each_loan_at_most_once(book, as_of):
    loans, changes, _ = book
    found = kernels.vintage_counts(loans, changes, as_of)
    for curve in (found.dpd30, found.dpd90, found.written_off):
        assert (np.diff(curve, axis=1) >= 0).all()
        if curve.size:
            assert (curve[:, -1] <= found.loans).all()
    assert (found.dpd90 <= found.dpd30).all()
    assert found.loans.sum() == (loans.disbursed <= as_of).sum()


@settings(max_examples=50, deadline=None)
@given(books(), st.integers(FIRST, FIRST + SPAN + 30))
def test_cures_are_rolls_forward_followed_by_a_return_to_current_within_the_window(book,
                                                                                   as_of):
    _, changes, _ = book
    entered, cured = kernels.cure_counts(changes, as_of, 30)
    want_entered, want_cured = np.zeros(8, np.int64), np.zeros(8, np.int64)
    rows = list(zip(changes.loan, changes.day, changes.source, changes.target, strict=True))
    for i, (loan, day, source, target) in enumerate(rows):
        if target > source and day + 30 <= as_of:
            want_entered[target] += 1
            later = [d for owner, d, _, t in rows[i + 1:] if owner == loan and t == 0]
            if later and later[0] - day <= 30:
                want_cured[target] += 1
    assert (entered == want_entered).all()
    assert (cured == want_cured).all()
