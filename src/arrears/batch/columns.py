"""The Arrow shape of end-of-day: the installment-row schema the kernel reads, the two result
schemas it writes, and exact conversion between domain states and those columns.

One row per installment of a loan that the business date can touch, sorted by `loan_key` (a
loan's rows adjacent; by due date within a loan is customary but not required). Loan-level
columns (`product`, `prev_bucket`, `written_off_on`) repeat on each of the loan's rows and must
agree. Amounts are int64 minor units; accrued penalty and compound are int64 sub-minor units
(1/10,000 of a minor unit, `domain.accrual`). Dates are date32 (days since 1970-01-01).

Which rows to send for date d: every installment that is not paid (principal, interest or fee
unpaid) or whose penalty/compound is not settled. Paid and settled rows are inert (they accrue
nothing, are not overdue, owe nothing, trigger no reminder); a future installment due after
d + the largest "before due" reminder lead is inert on d too. A loan whose previous bucket is not
C but which has no row left must still be sent with one inert row (e.g. its last installment),
so that its move back to C is reported.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date

import pyarrow as pa

from arrears.domain import accrual
from arrears.domain.delinquency import BUCKETS, Bucket
from arrears.domain.loan import InstallmentState, Loan, LoanState
from arrears.domain.product import Product

EPOCH = date(1970, 1, 1)

# Bucket codes in int8 columns: the position in `delinquency.BUCKETS` (C=0, M1=1 … M7+=7).
BUCKET_CODE: dict[Bucket, int] = {b: i for i, b in enumerate(BUCKETS)}

INSTALLMENT_SCHEMA = pa.schema([
    pa.field("loan_key", pa.int64(), nullable=False),   # integer surrogate of the loan id
    pa.field("number", pa.int16(), nullable=False),     # installment number (1-based)
    pa.field("product", pa.int16(), nullable=False),    # index into the ProductTable
    pa.field("due_on", pa.date32(), nullable=False),
    pa.field("unpaid_principal", pa.int64(), nullable=False),   # minor units
    pa.field("unpaid_interest", pa.int64(), nullable=False),    # minor units
    pa.field("unpaid_fee", pa.int64(), nullable=False),         # minor units
    pa.field("penalty_accrued", pa.int64(), nullable=False),    # sub-minor units
    pa.field("compound_accrued", pa.int64(), nullable=False),   # sub-minor units
    pa.field("penalty_paid", pa.int64(), nullable=False),       # minor units
    pa.field("compound_paid", pa.int64(), nullable=False),      # minor units
    pa.field("prev_bucket", pa.int8(), nullable=False),   # loan's bucket code at the end of d−1
    pa.field("written_off_on", pa.date32(), nullable=True),     # loan's write-off date, if any
])

# Aligned with the input: row i of the result is row i of the input batch.
ROW_RESULT_SCHEMA = pa.schema([
    pa.field("loan_key", pa.int64(), nullable=False),
    pa.field("number", pa.int16(), nullable=False),
    pa.field("penalty_increment", pa.int64(), nullable=False),   # sub-minor, accrued on d
    pa.field("compound_increment", pa.int64(), nullable=False),  # sub-minor, accrued on d
    pa.field("penalty_accrued", pa.int64(), nullable=False),     # sub-minor, new total
    pa.field("compound_accrued", pa.int64(), nullable=False),    # sub-minor, new total
    pa.field("reminder_due", pa.bool_(), nullable=False),  # d − due_on is a reminder offset
])

# One row per loan, in input order.
LOAN_RESULT_SCHEMA = pa.schema([
    pa.field("loan_key", pa.int64(), nullable=False),
    pa.field("dpd", pa.int32(), nullable=False),
    pa.field("earliest_overdue_on", pa.date32(), nullable=True),
    pa.field("bucket", pa.int8(), nullable=False),        # code at the end of d
    pa.field("prev_bucket", pa.int8(), nullable=False),   # code at the end of d−1 (input)
    pa.field("bucket_changed", pa.bool_(), nullable=False),
    pa.field("write_off", pa.bool_(), nullable=False),  # DPD ≥ threshold, not written off < d
    pa.field("penalty_chargeable", pa.int64(), nullable=False),   # minor, as `summarize`
    pa.field("compound_chargeable", pa.int64(), nullable=False),  # minor, as `summarize`
])


def day_number(day: date) -> int:
    """A date as a date32 value (days since 1970-01-01)."""
    return (day - EPOCH).days


def from_day_number(value: int) -> date:
    return date.fromordinal(EPOCH.toordinal() + value)


class ProductCodes:
    """Interns products to the small integer codes the `product` column holds."""

    def __init__(self, products: Iterable[Product] = ()) -> None:
        self._codes: dict[Product, int] = {}
        for product in products:
            self.code(product)

    def code(self, product: Product) -> int:
        code = self._codes.get(product)
        if code is None:
            code = self._codes[product] = len(self._codes)
        return code

    @property
    def products(self) -> tuple[Product, ...]:
        return tuple(self._codes)


@dataclass(frozen=True, slots=True, kw_only=True)
class BookLoan:
    """One loan as an end-of-day run sees it: its state after the day's payments."""

    key: int
    loan: Loan
    state: LoanState
    prev_bucket: Bucket = Bucket.C


def is_inert(row: InstallmentState, product: Product) -> bool:
    """Paid, with penalty and compound settled: the kernel would leave it unchanged."""
    return (row.is_paid
            and accrual.to_minor(row.penalty_accrued, product.rounding) == row.penalty_paid
            and accrual.to_minor(row.compound_accrued, product.rounding) == row.compound_paid)


def installment_batch(
    book: Sequence[BookLoan], codes: ProductCodes, *, all_rows: bool = False
) -> pa.RecordBatch:
    """The kernel's input for `book` (loans in the given order, which must be by `key`).

    Inert installments are left out unless `all_rows`; a loan left with none keeps its last.
    """
    columns: dict[str, list[object]] = {field.name: [] for field in INSTALLMENT_SCHEMA}
    for item in book:
        product = item.loan.product
        code = codes.code(product)
        rows = [r for r in item.state.installments if all_rows or not is_inert(r, product)]
        if not rows:
            rows = [item.state.installments[-1]]
        written_off = item.loan.written_off_on
        for row in rows:
            values: Mapping[str, object] = {
                "loan_key": item.key, "number": row.number, "product": code,
                "due_on": row.due_date, "unpaid_principal": row.unpaid_principal,
                "unpaid_interest": row.unpaid_interest, "unpaid_fee": row.unpaid_fee,
                "penalty_accrued": row.penalty_accrued, "compound_accrued": row.compound_accrued,
                "penalty_paid": row.penalty_paid, "compound_paid": row.compound_paid,
                "prev_bucket": BUCKET_CODE[item.prev_bucket], "written_off_on": written_off,
            }
            for name, value in values.items():
                columns[name].append(value)
    return pa.RecordBatch.from_pydict(columns, schema=INSTALLMENT_SCHEMA)


def merge_row_results(state: LoanState, rows: Iterable[Mapping[str, int]], as_of: date
                      ) -> LoanState:
    """`state` with the kernel's new accrued totals (rows of one loan, keyed by `number`),
    dated `as_of`."""
    updates = {int(r["number"]): r for r in rows}
    installments = tuple(
        row if row.number not in updates else replace(
            row, penalty_accrued=int(updates[row.number]["penalty_accrued"]),
            compound_accrued=int(updates[row.number]["compound_accrued"]))
        for row in state.installments
    )
    return replace(state, as_of=as_of, installments=installments)
