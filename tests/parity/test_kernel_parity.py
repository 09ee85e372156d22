"""The vectorised EOD kernel equals the scalar domain, day by day, to the sub-minor unit.

Each example is a book of random loans (tests/strategies.py) placed at random points of their
lives around one window of business dates. Every day, the scalar side runs
`advance(loan, state, payments_of_day, day)`; the kernel side applies the same payments through
the scalar path (without the day's accrual), converts the state to columns, runs the kernel for
the day over the whole book as one batch, and merges the results back. The two states must be
equal, and the kernel's per-loan figures must equal `summarize`.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from arrears.batch.columns import (
    BUCKET_CODE,
    BookLoan,
    ProductCodes,
    from_day_number,
    installment_batch,
    merge_row_results,
)
from arrears.batch.kernels import (
    KernelInputError,
    ProductTable,
    daily_rate_fraction,
    eod_batch,
    run_eod,
    to_minor,
)
from arrears.domain import accrual
from arrears.domain.delinquency import WRITE_OFF_DPD
from arrears.domain.loan import LoanState, advance, initial_state, summarize
from arrears.domain.product import Rounding

from builders import loan as make_loan
from parity_books import Account, books, payments_without_accrual
from strategies import products

BOOK = settings(max_examples=150, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _rows_by_loan(batch: pa.RecordBatch) -> dict[int, list[dict[str, int]]]:
    grouped: dict[int, list[dict[str, int]]] = {}
    for row in batch.to_pylist():
        grouped.setdefault(row["loan_key"], []).append(row)
    return grouped


def _check_day(day: date, accounts: list[Account], all_rows: bool) -> None:
    codes = ProductCodes()
    pre = {}
    expected: dict[int, LoanState] = {}
    for acc in accounts:
        todays = [p for p in acc.payments if p.on == day]
        expected[acc.key] = advance(acc.loan, acc.state, todays, day)[0]
        pre[acc.key] = payments_without_accrual(acc.loan, acc.kernel_state, todays, day)
    book = [BookLoan(key=a.key, loan=a.loan, state=pre[a.key], prev_bucket=a.prev_bucket)
            for a in accounts]
    batch = installment_batch(book, codes, all_rows=all_rows)
    result = eod_batch(batch, ProductTable.build(codes.products), day)
    rows = _rows_by_loan(result.rows)
    loans = {row["loan_key"]: row for row in result.loans.to_pylist()}
    assert list(loans) == [a.key for a in accounts]
    reminders = {(r["loan_key"], r["number"]) for r in result.rows.to_pylist() if r["reminder_due"]}

    expected_reminders = set()
    for acc in accounts:
        got = merge_row_results(pre[acc.key], rows[acc.key], day)
        want = expected[acc.key]
        assert got == want, f"loan {acc.key} on {day}"
        summary = summarize(acc.loan, want)
        out = loans[acc.key]
        assert out["dpd"] == summary.dpd
        assert out["earliest_overdue_on"] == summary.earliest_overdue_due_date
        assert out["bucket"] == BUCKET_CODE[summary.bucket]
        assert out["prev_bucket"] == BUCKET_CODE[acc.prev_bucket]
        assert out["bucket_changed"] == (summary.bucket != acc.prev_bucket)
        assert out["penalty_chargeable"] == summary.penalty_interest
        assert out["compound_chargeable"] == summary.compound_interest
        written_off = acc.loan.written_off_on
        assert out["write_off"] == (summary.dpd >= WRITE_OFF_DPD
                                    and (written_off is None or written_off >= day))
        offsets = acc.loan.product.reminders.days
        expected_reminders |= {(acc.key, row.number) for row in want.installments
                               if not row.is_paid and (day - row.due_date).days in offsets}
        acc.state, acc.kernel_state, acc.prev_bucket = want, got, summary.bucket
    assert reminders == expected_reminders


@BOOK
@given(books(), st.booleans())
def test_kernel_equals_the_domain_day_by_day(book, all_rows):
    start, days, accounts = book
    for k in range(days):
        _check_day(start + timedelta(days=k), accounts, all_rows)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(books(max_loans=40), st.integers(1, 6))
def test_one_batch_of_many_products_equals_one_loan_batches(book, pieces):
    start, days, accounts = book
    day = start + timedelta(days=days)
    codes = ProductCodes()
    entries = [BookLoan(key=a.key, loan=a.loan, state=a.state, prev_bucket=a.prev_bucket)
               for a in accounts]
    whole = installment_batch(entries, codes)
    table = ProductTable.build(codes.products)
    together = eod_batch(whole, table, day)
    alone = [eod_batch(installment_batch([e], codes), table, day) for e in entries]
    assert pa.Table.from_batches([r.rows for r in alone]).equals(
        pa.Table.from_batches([together.rows]))
    assert pa.Table.from_batches([r.loans for r in alone]).equals(
        pa.Table.from_batches([together.loans]))
    # Split into a few batches of whole loans and run on two threads: the same, in order.
    cuts = sorted({0, len(entries), *np.linspace(0, len(entries), pieces + 1, dtype=int)})
    batches = [installment_batch(entries[i:j], codes) for i, j in zip(cuts, cuts[1:], strict=False)
               if j > i]
    streamed = list(run_eod(iter(batches), table, day, threads=2))
    assert pa.Table.from_batches([r.loans for r in streamed]).equals(
        pa.Table.from_batches([together.loans]))
    assert pa.Table.from_batches([r.rows for r in streamed]).equals(
        pa.Table.from_batches([together.rows]))


@settings(max_examples=300, deadline=None)
@given(products(), st.integers(0, 10**15))
def test_daily_fraction_reproduces_daily_increment(product, base):
    n, d = daily_rate_fraction(product)
    expected = accrual.daily_increment(base, product.penalty_rate, product.day_count.year_days)
    assert (2 * base * n + d) // (2 * d) == expected


def test_cn_15_daily_fraction():
    loan = make_loan(principal=10_000_000, terms=1, annual_rate=Decimal("0.048"),
                     penalty_base_rate=Decimal("0.05"), penalty_markup=Decimal("0.5"))
    assert daily_rate_fraction(loan.product) == (25, 12)  # 0.075 × 10,000 / 360


def _single_row_batch(**overrides: object) -> tuple[pa.RecordBatch, ProductTable, date]:
    loan = make_loan(terms=1)
    state = initial_state(loan)
    codes = ProductCodes()
    batch = installment_batch([BookLoan(key=1, loan=loan, state=state)], codes)
    table = ProductTable.build(codes.products)
    data = batch.to_pydict()
    for name, value in overrides.items():
        data[name] = [value] * batch.num_rows
    batch = pa.RecordBatch.from_pydict(data, schema=batch.schema)
    return batch, table, state.installments[0].due_date + timedelta(days=10)


def test_a_base_beyond_the_overflow_bound_is_refused():
    batch, table, day = _single_row_batch(unpaid_principal=int(table_bound() + 1))
    with pytest.raises(KernelInputError, match="overflow"):
        eod_batch(batch, table, day)


def test_the_largest_base_within_the_bound_is_exact():
    bound = table_bound()
    batch, table, day = _single_row_batch(unpaid_principal=bound, unpaid_interest=0)
    result = eod_batch(batch, table, day)
    product = table.products[0]
    assert result.rows.column("penalty_increment")[0].as_py() == accrual.daily_increment(
        bound, product.penalty_rate, product.day_count.year_days)


def table_bound() -> int:
    loan = make_loan(terms=1)
    return int(ProductTable.build([loan.product]).max_base[0])


def test_unsorted_loans_are_refused():
    loans = [make_loan(terms=3), make_loan(terms=2)]
    codes = ProductCodes()
    batch = installment_batch(
        [BookLoan(key=k, loan=ln, state=initial_state(ln)) for k, ln in ((2, loans[0]),
                                                                        (1, loans[1]))], codes)
    with pytest.raises(KernelInputError, match="sorted"):
        eod_batch(batch, ProductTable.build(codes.products), date(2026, 6, 1))


def test_day_numbers_round_trip():
    assert from_day_number(0) == date(1970, 1, 1)
    assert from_day_number(20_000) == date(1970, 1, 1) + timedelta(days=20_000)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.integers(0, 10**15),
                          st.integers(0, 10**11).map(lambda k: k * 10_000 + 5_000),
                          st.integers(0, 10**11).map(lambda k: k * 10_000)), min_size=1),
       st.sampled_from(list(Rounding)))
def test_rounding_to_minor_units_equals_the_domain(values, rounding):
    table = ProductTable.build([replace(make_loan().product, rounding=rounding)])
    codes = np.zeros(len(values), dtype=np.intp)
    got = to_minor(np.array(values, dtype=np.int64), codes, table).tolist()
    assert got == [accrual.to_minor(v, rounding) for v in values]
