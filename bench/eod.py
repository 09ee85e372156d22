"""End-of-day kernel benchmark: kernel vs the scalar domain vs the machine's memory bandwidth.

    .venv/bin/python bench/eod.py --loans 10000000 [--json]

Generates a synthetic book in the run (mixed products, ~15 % of loans delinquent with DPD spread
over all buckets), then measures, side by side:
- the kernel (`arrears.batch.kernels.run_eod`) over the book in batches of whole loans, on one
  thread and on `--threads` threads, in loans/s;
- the scalar path on a sample of real domain loans: `advance(loan, state, [], day)` by one day;
- the memory-read bandwidth (NumPy sum over an array as large as the kernel's input, on one
  thread and on `--threads` threads), turned into a ceiling in loans/s for the bytes the kernel
  reads and writes per loan;
- peak RSS (resource.getrusage).

The kernel is sent the rows a business date can touch: every unpaid installment due on or before
the date (overdue or due today) and the next installment (reminders before its due date).
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import threading
import time
from datetime import date, timedelta
from decimal import Decimal

import numpy as np
import pyarrow as pa

from arrears.batch.columns import INSTALLMENT_SCHEMA, day_number
from arrears.batch.kernels import NEVER, ProductTable, run_eod
from arrears.domain.loan import InstallmentState, Loan, Payment, advance, state_on
from arrears.domain.product import InterestBasis, Method, Product, Rounding, validate_product
from arrears.domain.rates import DayCount

DAY = date(2026, 6, 15)
DELINQUENT_SHARE = 0.15
BATCH_LOANS = 131_072


def book_products() -> list[Product]:
    d = Decimal
    return [validate_product(p) for p in (
        Product(method=Method.EQUAL_INSTALLMENT, interest_basis=InterestBasis.DAILY,
                annual_rate=d("0.18"), penalty_markup=d("0.3"), penalty_rate_cap=d("0.234"),
                grace_days=3),
        Product(method=Method.FLAT_FEE, annual_rate=d(0), penalty_base_rate=d("0.12"),
                monthly_fee_rate=d("0.006"), compound=False),
        Product(method=Method.EQUAL_PRINCIPAL, annual_rate=d("0.0735"),
                day_count=DayCount.ACT_365F, penalty_markup=d("0.4"),
                rounding=Rounding.HALF_EVEN),
        Product(method=Method.BULLET, annual_rate=d("0.048"), penalty_base_rate=d("0.05"),
                day_count=DayCount.THIRTY_360, rounding=Rounding.DOWN, grace_days=1),
        Product(method=Method.INTEREST_ONLY, annual_rate=d("0.2125"), penalty_markup=d("0.3"),
                compound=False),
        Product(method=Method.EQUAL_INSTALLMENT, annual_rate=d("0.2999"), jurisdiction="US",
                day_count=DayCount.ACT_365F, penalty_markup=d("0.2"), grace_days=10),
    )]


# --- synthetic book -------------------------------------------------------------------------


def synthetic_book(loans: int, products: int, seed: int = 7) -> list[pa.RecordBatch]:
    """Installment rows for `loans` loans, in batches of whole loans sorted by loan key."""
    rng = np.random.default_rng(seed)
    today = day_number(DAY)
    delinquent = rng.random(loans) < DELINQUENT_SHARE
    # DPD of the earliest overdue installment: mostly M1/M2, a tail to M7+.
    dpd = np.where(delinquent, np.minimum(rng.geometric(1 / 40, loans), 240), 0)
    overdue_rows = np.where(delinquent, (dpd - 1) // 30 + 1, 0)
    counts = overdue_rows + 1  # plus the next installment
    rows = int(counts.sum())
    loan_of_row = np.repeat(np.arange(loans, dtype=np.int64), counts)
    first = np.cumsum(counts) - counts
    position = np.arange(rows, dtype=np.int64) - np.repeat(first, counts)
    is_next = position == np.repeat(overdue_rows, counts)
    next_due = today + rng.integers(-2, 31, loans)  # −2…−1: due, paid… kept as the next row
    due = np.where(is_next, np.repeat(np.maximum(next_due, today), counts),
                   np.repeat(today - dpd, counts) + 30 * position).astype(np.int32)
    principal = rng.integers(10_000, 5_000_000, rows)
    interest = principal // rng.integers(10, 200, rows)
    fee = np.where(rng.random(rows) < 0.2, principal // 100, 0)
    overdue = ~is_next
    part_paid = overdue & (rng.random(rows) < 0.1)
    principal = np.where(part_paid, principal // 2, principal)
    days_late = np.maximum(today - due, 0).astype(np.int64)
    penalty = np.where(overdue, days_late * (principal * 7) // 10, 0)
    compound = np.where(overdue, days_late * (interest * 7) // 10, 0)
    columns = {
        "loan_key": loan_of_row * 10 + 1,
        "number": (position + 1).astype(np.int16),
        "product": rng.integers(0, products, loans).astype(np.int16)[loan_of_row],
        "due_on": due,
        "unpaid_principal": principal,
        "unpaid_interest": interest,
        "unpaid_fee": fee,
        "penalty_accrued": penalty,
        "compound_accrued": compound,
        "penalty_paid": np.where(part_paid, penalty // 20_000, 0),
        "compound_paid": np.zeros(rows, dtype=np.int64),
        "prev_bucket": np.minimum((np.maximum(dpd - 1, 0) + 29) // 30, 7).astype(np.int8
                                                                                 )[loan_of_row],
        "written_off_on": np.full(rows, NEVER, dtype=np.int32),
    }
    written = (dpd > 200)[loan_of_row]
    columns["written_off_on"][written] = today - 5
    arrays = []
    for field in INSTALLMENT_SCHEMA:
        values = columns.pop(field.name)
        if field.type == pa.date32():
            missing = values == NEVER
            arrays.append(pa.array(values, pa.int32(), mask=missing if missing.any() else None)
                          .view(pa.date32()))
        else:
            arrays.append(pa.array(values, field.type))
    table = pa.Table.from_arrays(arrays, schema=INSTALLMENT_SCHEMA)
    cuts = np.append(first[::BATCH_LOANS], rows)
    return [pa.RecordBatch.from_arrays([c.chunk(0)[int(a):int(b)] for c in table.columns],
                                       schema=INSTALLMENT_SCHEMA)
            for a, b in zip(cuts[:-1], cuts[1:], strict=True)]


def run_kernel(batches: list[pa.RecordBatch], table: ProductTable, threads: int
               ) -> tuple[float, int, int]:
    """Seconds for the whole book, streaming: each result is consumed (as a writer would) and
    dropped, so memory stays bounded. Returns (seconds, delinquent loans, result bytes)."""
    delinquent = out_bytes = 0
    start = time.perf_counter()
    for result in run_eod(iter(batches), table, DAY, threads=threads):
        delinquent += int(np.count_nonzero(result.loans.column("dpd").to_numpy()))
        out_bytes += result.rows.nbytes + result.loans.nbytes
    return time.perf_counter() - start, delinquent, out_bytes


# --- scalar path ----------------------------------------------------------------------------


def scalar_sample(products: list[Product], size: int, seed: int = 11) -> list:
    """Real domain loans in the same mix: current loans paid to date, delinquent ones stopped
    paying some months ago; their state at the end of the day before."""
    rng = np.random.default_rng(seed)
    sample = []
    for index in range(size):
        product = products[int(rng.integers(len(products)))]
        terms = 1 if product.method is Method.BULLET else int(rng.choice([6, 12, 24]))
        age = int(rng.integers(20, 30 * terms))
        loan = Loan(loan_id=f"S-{index}", currency="CNY",
                    principal=int(rng.integers(100_000, 50_000_000)),
                    disbursed_on=DAY - timedelta(days=age), terms=terms, product=product)
        probe = state_on(loan, (), loan.disbursed_on)
        due = [row for row in probe.installments if row.due_date < DAY]
        stop = len(due)
        if rng.random() < DELINQUENT_SHARE and due:
            stop -= int(rng.integers(1, min(len(due), 4) + 1))
        payments = [Payment(key=f"p{k}", on=row.due_date, amount=_amount(row))
                    for k, row in enumerate(due[:stop])]
        sample.append((loan, state_on(loan, payments, DAY - timedelta(days=1))))
    return sample


def _amount(row: InstallmentState) -> int:
    return row.principal + row.interest + row.fee


def run_scalar(sample: list) -> float:
    start = time.perf_counter()
    for loan, state in sample:
        advance(loan, state, (), DAY)
    return time.perf_counter() - start


# --- memory bandwidth -----------------------------------------------------------------------


def read_bandwidth(nbytes: int, threads: int) -> tuple[float, float]:
    """Bytes/s of a NumPy sum over an array of `nbytes`, on one thread and on `threads`."""
    data = np.ones(max(nbytes // 8, 1), dtype=np.int64)
    best_one = best_many = 0.0
    for _ in range(3):
        start = time.perf_counter()
        data.sum()
        best_one = max(best_one, data.nbytes / (time.perf_counter() - start))
        parts = np.array_split(data, threads)
        workers = [threading.Thread(target=part.sum) for part in parts]
        start = time.perf_counter()
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        best_many = max(best_many, data.nbytes / (time.perf_counter() - start))
    del data
    return best_one, best_many


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loans", type=int, default=10_000_000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--scalar-sample", type=int, default=2_000)
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    args = parser.parse_args(argv)
    if args.loans < 1:
        parser.error("--loans must be positive")

    products = book_products()
    table = ProductTable.build(products)
    t0 = time.perf_counter()
    batches = synthetic_book(args.loans, len(products))
    generate_s = time.perf_counter() - t0
    rows = sum(b.num_rows for b in batches)
    input_bytes = sum(b.nbytes for b in batches)

    bw_one, bw_many = read_bandwidth(input_bytes, args.threads)
    one_s = many_s = float("inf")
    for _ in range(2):  # best of two passes each (the first pass also warms the allocator)
        seconds, delinquent, output_bytes = run_kernel(batches, table, 1)
        one_s = min(one_s, seconds)
        if args.threads > 1:
            many_s = min(many_s, run_kernel(batches, table, args.threads)[0])
    kernel_s = min(one_s, many_s)

    sample = scalar_sample(products, args.scalar_sample)
    scalar_s = min(run_scalar(sample), run_scalar(sample))

    bytes_per_loan = (input_bytes + output_bytes) / args.loans
    kernel_rate = args.loans / kernel_s
    scalar_rate = len(sample) / scalar_s
    ceiling = max(bw_one, bw_many) / bytes_per_loan
    report = {
        "loans": args.loans,
        "rows": rows,
        "rows_per_loan": round(rows / args.loans, 3),
        "delinquent_share": round(delinquent / args.loans, 4),
        "threads": args.threads,
        "batch_loans": BATCH_LOANS,
        "kernel_seconds": round(kernel_s, 4),
        "kernel_loans_per_s": round(kernel_rate),
        "kernel_loans_per_s_1_thread": round(args.loans / one_s),
        "kernel_loans_per_s_threads": round(args.loans / many_s) if args.threads > 1 else None,
        "kernel_rows_per_s": round(rows / kernel_s),
        "scalar_sample": len(sample),
        "scalar_loans_per_s": round(scalar_rate),
        "read_bandwidth_gb_per_s_1_thread": round(bw_one / 1e9, 2),
        "read_bandwidth_gb_per_s": round(bw_many / 1e9, 2),
        "bytes_per_loan": round(bytes_per_loan, 1),
        "ceiling_loans_per_s": round(ceiling),
        "kernel_over_scalar": round(kernel_rate / scalar_rate, 1),
        "kernel_over_ceiling": round(kernel_rate / ceiling, 4),
        "ceiling_over_kernel": round(ceiling / kernel_rate, 2),
        "generate_seconds": round(generate_s, 2),
        "peak_rss_mb": round(peak_rss_mb(), 1),
    }
    if args.json:
        print(json.dumps(report))
    else:
        width = max(map(len, report))
        for key, value in report.items():
            print(f"{key:<{width}}  {value:,}" if isinstance(value, int | float)
                  else f"{key:<{width}}  {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
