"""The end-of-day kernel: one business date over columnar installment rows (DESIGN §6, §9).

For date d it does, per installment row, what `domain.loan.advance` does for the day after the
payments dated d have been applied (the scalar path applies payments at posting time), after
`apply_credit` has applied the credit a `hold` product held for an installment falling due on d
(the domain applies it at the start of the due date, before the day's payments and accrual):

- penalty (罚息) and compound (复利) increments, exactly `accrual.daily_increment`: an installment
  accrues on each day after its due date, on its end-of-day unpaid principal (penalty) and unpaid
  contract interest (compound, if the product enables it), rounded half-up to the sub-minor
  unit, and not after the loan's write-off date;
- the new accrued totals, and whether a reminder falls due (d − due date is one of the product's
  reminder offsets, negative = before the due date, for an installment not yet paid);

and per loan (segment reductions over rows sorted by loan key, then due date): DPD at the end
of d, the earliest overdue due date, the bucket and whether it changed from the previous one,
the write-off flag (DPD ≥ the product's threshold and not written off before d), and the
penalty and compound a payment dated d + 1 must cover (`summarize(...).penalty_interest` /
`.compound_interest`).

Arithmetic is exact int64 throughout (no floats). Each product's daily penalty rate
`penalty_rate × 10,000 / year_days` (sub-minor units per minor unit per day) is reduced to a
fraction n/d in lowest terms, and the increment is `(2·base·n + d) // (2·d)` — the domain's
half-up formula divided through by gcd. See `ProductTable` for the overflow bound.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date

import numpy as np
import pyarrow as pa

from arrears.batch.columns import (
    INSTALLMENT_SCHEMA,
    LOAN_RESULT_SCHEMA,
    ROW_RESULT_SCHEMA,
    day_number,
)
from arrears.domain import accrual
from arrears.domain.delinquency import BUCKETS, DAYS_PER_BUCKET, WRITE_OFF_DPD
from arrears.domain.product import (
    DEFAULT_WATERFALL,
    Component,
    EarlyPayment,
    Product,
    Rounding,
)

INT64_MAX = int(np.iinfo(np.int64).max)
NEVER = int(np.iinfo(np.int32).max)  # date32 stand-in for "no date" (no write-off, no overdue)
SUB = accrual.SUB_MINOR_PER_MINOR
HALF_SUB = SUB // 2
ACCRUED_LIMIT = 2**61  # a total below this + an increment (< 2**62) + rounding fits int64
LAST_BUCKET = len(BUCKETS) - 1
# The components a payment pays, in the order of `apply_credit`'s columns (a product's
# waterfall is a permutation of them).
COMPONENTS: tuple[Component, ...] = (Component.FEE, Component.PENALTY, Component.COMPOUND,
                                     Component.INTEREST, Component.PRINCIPAL)


class KernelInputError(ValueError):
    """A batch the kernel refuses, naming the column and the reason."""

    def __init__(self, column: str, reason: str) -> None:
        super().__init__(f"{column}: {reason}")
        self.column = column
        self.reason = reason


def daily_rate_fraction(product: Product) -> tuple[int, int]:
    """The product's daily penalty rate in sub-minor units per minor unit, as (n, d) in lowest
    terms: `accrual.daily_increment(base) == (2·base·n + d) // (2·d)` for base ≥ 0."""
    numerator, denominator = accrual.rate_fraction(product.penalty_rate)
    top = numerator * SUB
    bottom = denominator * product.day_count.year_days
    g = math.gcd(top, bottom)
    return top // g, bottom // g


@dataclass(frozen=True, slots=True, eq=False)
class ProductTable:
    """Per-product kernel parameters, indexed by the `product` column's code.

    Overflow bound (checked for every accruing row of every batch): the increment is computed as
    `base·(2n) + d` in int64, so a row's base (unpaid principal, or unpaid interest) must be at
    most `max_base = (2**63 − 1 − d) // (2n)`. For the usual rates this is far beyond any loan:
    7.5 % ACT/360 gives n/d = 25/12 and max_base ≈ 1.8·10^17 minor units; 24 % ACT/365F gives
    n/d = 480/73, max_base ≈ 9.6·10^15. A rate with many decimals has a large n: the kernel refuses
    a batch with a base above the bound rather than wrap around (KernelInputError).
    An increment is then below 2**62. Accrued totals coming in must be below 2**61 sub-minor
    units (≈ 2.3·10^14 minor units), so that total + increment + rounding offset fits; a batch
    with a larger total is refused too. Per-loan sums of chargeable amounts are exact whenever
    the loan's own sum fits int64.
    """

    products: tuple[Product, ...]
    rate_num2: np.ndarray     # int64: 2n
    rate_den: np.ndarray      # int64: d
    max_base: np.ndarray      # int64: the overflow bound above
    compound: np.ndarray      # bool
    grace_days: np.ndarray    # int32
    round_offset: np.ndarray  # int64: added before flooring to minor units (0 for DOWN)
    half_even: np.ndarray     # bool
    any_half_even: bool
    smallest_max_base: int
    write_off_dpd: np.ndarray  # int32
    reminder_low: int         # smallest reminder offset of any product
    reminder_high: int        # largest
    reminders: np.ndarray     # bool [product, offset − reminder_low]
    holds: np.ndarray         # bool: early money held as credit (`EarlyPayment.HOLD`)
    waterfall: np.ndarray     # intp [product, position]: index in COMPONENTS paid at position
    owe_nothing_paid: np.ndarray  # bool: `paid_rows_owe_nothing`

    @classmethod
    def build(cls, products: Sequence[Product],
              write_off_dpd: int | Sequence[int] = WRITE_OFF_DPD) -> ProductTable:
        if not products:
            raise KernelInputError("products", "at least one product is needed")
        if len(products) > np.iinfo(np.int16).max:
            raise KernelInputError("products", "more products than an int16 code can name")
        fractions = [daily_rate_fraction(p) for p in products]
        for index, (n, d) in enumerate(fractions):
            if n < 0:
                raise KernelInputError(f"products[{index}].penalty_rate", "must not be negative")
            if 2 * n + d > INT64_MAX or 2 * d > INT64_MAX:
                raise KernelInputError(
                    f"products[{index}].penalty_rate",
                    f"{products[index].penalty_rate} needs a daily fraction {n}/{d} beyond int64")
        thresholds = ([write_off_dpd] * len(products) if isinstance(write_off_dpd, int)
                      else list(write_off_dpd))
        if len(thresholds) != len(products):
            raise KernelInputError("write_off_dpd", "one threshold per product is needed")
        if min(thresholds) < 1:
            raise KernelInputError("write_off_dpd", "thresholds must be at least 1 day")
        max_base = [(INT64_MAX - d) // (2 * n) if n else INT64_MAX for n, d in fractions]
        offsets = [o for p in products for o in p.reminders.days] or [0]
        low, high = min(offsets), max(offsets)
        table = np.zeros((len(products), high - low + 1), dtype=bool)
        for index, product in enumerate(products):
            for offset in product.reminders.days:
                table[index, offset - low] = True
        return cls(
            products=tuple(products),
            rate_num2=np.array([2 * n for n, _ in fractions], dtype=np.int64),
            rate_den=np.array([d for _, d in fractions], dtype=np.int64),
            max_base=np.array(max_base, dtype=np.int64),
            compound=np.array([p.compound for p in products], dtype=bool),
            grace_days=np.array([p.grace_days for p in products], dtype=np.int32),
            round_offset=np.array([0 if p.rounding is Rounding.DOWN else HALF_SUB
                                   for p in products], dtype=np.int64),
            half_even=np.array([p.rounding is Rounding.HALF_EVEN for p in products]),
            any_half_even=any(p.rounding is Rounding.HALF_EVEN for p in products),
            smallest_max_base=min(max_base),
            write_off_dpd=np.array(thresholds, dtype=np.int32),
            reminder_low=low, reminder_high=high, reminders=table,
            holds=np.array([p.early_payment is EarlyPayment.HOLD for p in products]),
            waterfall=np.array([[COMPONENTS.index(c) for c in p.waterfall] for p in products],
                               dtype=np.intp),
            owe_nothing_paid=np.array([paid_rows_owe_nothing(p) for p in products]),
        )


def paid_rows_owe_nothing(product: Product) -> bool:
    """An installment whose fee, interest and principal are paid owes no penalty or compound
    under the product's waterfall, so the installments a store leaves out of a batch as paid
    have nothing a payment could take: the default order, or one paying penalty and compound
    before fee, interest and principal. An installment stops accruing once paid, and the
    payment that completed it paid its charges first, or closed it in its grace window; under
    the default order a fee alone can be left last only when nothing ever accrued (interest
    is paid after the fee, principal is paid after it or prepaid). Under another order the
    credit of a loan is left to the domain."""
    order = product.waterfall
    if order == DEFAULT_WATERFALL:
        return True
    first = min(order.index(c) for c in (Component.FEE, Component.INTEREST, Component.PRINCIPAL))
    return order.index(Component.PENALTY) < first and order.index(Component.COMPOUND) < first


def to_minor(sub_minor: np.ndarray, product: np.ndarray, table: ProductTable) -> np.ndarray:
    """`accrual.to_minor` elementwise: sub-minor int64 amounts to minor units, each rounded by
    the rounding of its product (`product`: codes as an intp array). Exact; `sub_minor` must be
    below 2**63 − 5,000."""
    shifted = sub_minor + table.round_offset[product]
    q = shifted // SUB
    if table.any_half_even:  # a tie (shifted is a multiple of SUB) with q odd rounds down
        tie = (shifted - q * SUB == 0) & table.half_even[product]
        q -= tie & ((q & 1) == 1)
    return q




def _group_starts(changes: np.ndarray) -> np.ndarray:
    """Positions where a run starts, from `changes[i] = value[i+1] != value[i]`."""
    flags = np.empty(changes.size + 1, dtype=bool)
    flags[0] = True
    flags[1:] = changes
    return np.flatnonzero(flags)


def _segment_sums(values: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Sums of the runs of `values` starting at `starts`, by differences of a running sum.
    The running sum may wrap around int64; each difference is still exact modulo 2**64, hence
    exact whenever the run's own sum fits in int64."""
    running = np.cumsum(values)
    ends = np.empty(starts.size, dtype=np.intp)
    ends[:-1] = starts[1:] - 1
    ends[-1] = values.size - 1
    sums = running[ends]
    sums[1:] -= running[ends[:-1]]
    return sums


def apply_credit(cols: dict[str, np.ndarray], table: ProductTable, day: int
                 ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Held credit applied at the start of `day`, before its accrual: what the domain's
    `apply_credit_through(day)` does (`_Engine.apply` of a payment of the whole credit dated
    `day`) for a loan of a `hold` product holding credit (`credit`, a loan-level column) with an
    installment falling due on `day`, when nothing else fell due since its state (the caller
    leaves other loans to the domain). The credit goes over the loan's installments due by
    `day`, oldest first, each in its product's waterfall over what it owes a payment dated
    `day` (`loan.owed_on`: penalty and compound only once the grace window is over); an
    installment it pays in full within the grace window is closed (its accrued charges become
    what was paid of them, `loan.paid_towards`).

    Returns (the columns after it, to run `eod_arrays` on, with `credit` the credit left; the
    credit's results). Results per row: `paid_fee`, `paid_penalty`, `paid_compound`,
    `paid_interest`, `paid_principal`, what the credit paid. Per loan, in key order:
    `applies` (the credit met an installment falling due), `credit_applied` and `credit_left`
    (what was beyond everything due: the domain keeps it as credit or prepays with it, which
    is the domain's alone). Exact int64: rows must be sorted by (loan_key, due_on); a loan's
    sums of what it owes must fit int64."""
    loan_key = cols["loan_key"]
    n = loan_key.size
    paid = {f"paid_{c.value}": np.zeros(n, dtype=np.int64) for c in COMPONENTS}
    if n == 0:
        empty = np.zeros(0, dtype=np.int64)
        return cols, {**paid, "applies": np.zeros(0, dtype=bool), "credit_applied": empty,
                      "credit_left": empty}
    step = loan_key[1:] != loan_key[:-1]
    starts = _group_starts(step)
    seg = np.empty(n, dtype=np.intp)
    seg[0] = 0
    np.cumsum(step, out=seg[1:])
    product = cols["product"].astype(np.intp)
    due = cols["due_on"]
    credit = cols["credit"][starts].astype(np.int64)
    falls_due = _segment_sums((due == day).astype(np.int64), starts) > 0
    applies = table.holds[product[starts]] & (credit > 0) & falls_due
    applied = np.zeros(starts.size, dtype=np.int64)
    results = {**paid, "applies": applies, "credit_applied": applied,
               "credit_left": np.where(applies, credit, 0)}
    rows = np.flatnonzero(applies[seg] & (due <= day))
    if rows.size == 0:
        return cols, results
    p = product[rows]
    charged = (due[rows] + table.grace_days[p]) < day  # `chargeable` for a payment dated day
    owed = np.empty((rows.size, len(COMPONENTS)), dtype=np.int64)
    owed[:, 0] = cols["unpaid_fee"][rows]
    owed[:, 1] = (to_minor(cols["penalty_accrued"][rows], p, table)
                  - cols["penalty_paid"][rows]) * charged
    owed[:, 2] = (to_minor(cols["compound_accrued"][rows], p, table)
                  - cols["compound_paid"][rows]) * charged
    owed[:, 3] = cols["unpaid_interest"][rows]
    owed[:, 4] = cols["unpaid_principal"][rows]
    np.maximum(owed, 0, out=owed)
    order = table.waterfall[p]
    # What the loan's rows owe in the order the credit meets them, flattened: row by row
    # (oldest first), each in its waterfall; the credit takes each amount while it lasts.
    queue = np.take_along_axis(owed, order, axis=1).ravel()
    running = np.cumsum(queue)
    seg_rows = seg[rows]
    first = _group_starts(seg_rows[1:] != seg_rows[:-1])  # each loan's first row in `rows`
    width = len(COMPONENTS)
    before_loan = running[first * width] - queue[first * width]
    counts = np.diff(np.append(first, rows.size)) * width
    spent = running - queue - np.repeat(before_loan, counts)  # taken before this amount
    available = np.repeat(credit[seg_rows[first]], counts)
    take = np.minimum(np.maximum(available - spent, 0), queue)
    by_component = np.empty_like(owed)
    np.put_along_axis(by_component, order, take.reshape(owed.shape), axis=1)
    owners = seg_rows[first]
    total = running[first * width + counts - 1] - before_loan
    applied[owners] = np.minimum(credit[owners], total)
    results["credit_left"] = np.where(applies, credit - applied, 0)
    for index, component in enumerate(COMPONENTS):
        paid[f"paid_{component.value}"][rows] = by_component[:, index]

    out = dict(cols)
    for name, index in (("unpaid_fee", 0), ("unpaid_interest", 3), ("unpaid_principal", 4)):
        column = cols[name].copy()
        column[rows] -= by_component[:, index]
        out[name] = column
    penalty_paid = cols["penalty_paid"].copy()
    penalty_paid[rows] += by_component[:, 1]
    compound_paid = cols["compound_paid"].copy()
    compound_paid[rows] += by_component[:, 2]
    out["penalty_paid"], out["compound_paid"] = penalty_paid, compound_paid
    # `paid_towards`: paid in full within the grace window, its charges are what was paid.
    settled = ((out["unpaid_fee"][rows] | out["unpaid_interest"][rows]
                | out["unpaid_principal"][rows]) == 0)
    closes = rows[settled & (by_component.sum(axis=1) > 0)
                  & (day <= due[rows] + table.grace_days[p])]
    penalty_accrued = cols["penalty_accrued"].copy()
    compound_accrued = cols["compound_accrued"].copy()
    penalty_accrued[closes] = penalty_paid[closes] * SUB
    compound_accrued[closes] = compound_paid[closes] * SUB
    out["penalty_accrued"], out["compound_accrued"] = penalty_accrued, compound_accrued
    out["credit"] = cols["credit"] - applied[seg]
    return out, results


def eod_arrays(cols: dict[str, np.ndarray], table: ProductTable, day: int
               ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """The kernel on NumPy columns (names and dtypes of `INSTALLMENT_SCHEMA`, dates as int32 day
    numbers, a missing `written_off_on` as NEVER). Returns (row results, loan results) with the
    names of `ROW_RESULT_SCHEMA` / `LOAN_RESULT_SCHEMA` (dates as int32, none as NEVER).

    Rows must be sorted by (loan_key, due_on); a batch that is not is refused.
    """
    loan_key = cols["loan_key"]
    product = cols["product"]
    due = cols["due_on"]
    written_off = cols["written_off_on"]
    unpaid_principal = cols["unpaid_principal"]
    unpaid_interest = cols["unpaid_interest"]
    unpaid_fee = cols["unpaid_fee"]
    n = loan_key.size
    if n == 0:
        return _empty_results(cols)

    # --- loans: runs of equal loan_key, in increasing key order ----------------------------
    step = loan_key[1:] != loan_key[:-1]
    starts = _group_starts(step)
    keys = loan_key[starts]
    loans = starts.size
    if loans > 1 and not (keys[1:] > keys[:-1]).all():
        raise KernelInputError("loan_key", "rows must be sorted by loan_key (a loan's rows "
                               "adjacent, loans in increasing key order)")
    if int(product.min()) < 0 or int(product.max()) >= len(table.products):
        raise KernelInputError("product", "code outside the product table")
    if loans < n:  # loan-level columns agree within a loan; its rows are by due date
        bad = due[1:] < due[:-1]
        for name in ("product", "prev_bucket", "written_off_on"):
            column = cols[name]
            bad |= column[1:] != column[:-1]
        bad &= ~step
        if bad.any():
            raise KernelInputError(_first_inconsistency(cols, step),
                                   "differs between rows of one loan, or rows are not by due date")
    seg = np.empty(n, dtype=np.int32)  # row → loan position
    seg[0] = 0
    np.cumsum(step, dtype=np.int32, out=seg[1:])

    # --- rows due on or before d: the only ones that accrue, are overdue or owe a charge ----
    a = np.flatnonzero(due <= day)
    d_a = due[a]
    p_a = product[a].astype(np.intp)
    seg_a = seg[a]
    past = d_a < day
    accrues = past & (written_off[a] >= day)
    unpaid_p = unpaid_principal[a]
    unpaid_i = unpaid_interest[a]
    base_p = np.where(accrues, unpaid_p, 0)
    base_c = np.where(accrues & table.compound[p_a], unpaid_i, 0)
    np.maximum(base_p, 0, out=base_p)
    np.maximum(base_c, 0, out=base_c)
    if a.size and max(int(base_p.max()), int(base_c.max())) > table.smallest_max_base:
        bound = table.max_base[p_a]
        if ((base_p > bound) | (base_c > bound)).any():
            raise KernelInputError("unpaid_principal/unpaid_interest",
                                   "base × daily rate numerator would overflow int64 "
                                   "(see ProductTable)")
    num2 = table.rate_num2[p_a]
    den = table.rate_den[p_a]
    den2 = den * 2
    inc_p = base_p * num2
    inc_p += den
    inc_p //= den2
    inc_c = base_c * num2
    inc_c += den
    inc_c //= den2
    old_p = cols["penalty_accrued"][a]
    old_c = cols["compound_accrued"][a]
    if a.size and max(int(old_p.max()), int(old_c.max())) >= ACCRUED_LIMIT:
        raise KernelInputError("penalty_accrued/compound_accrued",
                               f"a total at or above {ACCRUED_LIMIT} sub-minor units "
                               "could overflow int64")
    new_p = old_p + inc_p  # increments are below 2**62 (ProductTable), so no overflow here
    new_c = old_c + inc_c

    # Chargeable for a payment dated d + 1: after the grace window, rounded per product.
    charged = (d_a + table.grace_days[p_a]) <= day
    penalty = to_minor(new_p, p_a, table)
    penalty -= cols["penalty_paid"][a]
    penalty *= charged
    compound = to_minor(new_c, p_a, table)
    compound -= cols["compound_paid"][a]
    compound *= charged
    overdue = past & ((unpaid_p | unpaid_i | unpaid_fee[a]) != 0)

    # --- per-loan figures -------------------------------------------------------------------
    earliest = np.full(loans, NEVER, dtype=np.int32)
    dpd = np.zeros(loans, dtype=np.int32)
    bucket = np.zeros(loans, dtype=np.int8)
    write_off = np.zeros(loans, dtype=bool)
    penalty_due = np.zeros(loans, dtype=np.int64)
    compound_due = np.zeros(loans, dtype=np.int64)
    if a.size:
        groups = _group_starts(seg_a[1:] != seg_a[:-1])
        owners = seg_a[groups]
        penalty_due[owners] = _segment_sums(penalty, groups)
        compound_due[owners] = _segment_sums(compound, groups)
        late = np.flatnonzero(overdue)
        if late.size:
            seg_late = seg_a[late]
            first = late[_group_starts(seg_late[1:] != seg_late[:-1])]  # rows are by due date
            late_loans = seg_a[first]
            first_due = d_a[first]
            late_dpd = day - first_due
            earliest[late_loans] = first_due
            dpd[late_loans] = late_dpd
            bucket[late_loans] = np.minimum((late_dpd + (DAYS_PER_BUCKET - 1)) // DAYS_PER_BUCKET,
                                            LAST_BUCKET)
            write_off[late_loans] = ((late_dpd >= table.write_off_dpd[p_a[first]])
                                     & (written_off[a[first]] >= day))
    prev_bucket = cols["prev_bucket"][starts]

    # --- row outputs ------------------------------------------------------------------------
    penalty_increment = np.zeros(n, dtype=np.int64)
    compound_increment = np.zeros(n, dtype=np.int64)
    penalty_increment[a] = inc_p
    compound_increment[a] = inc_c
    penalty_accrued = cols["penalty_accrued"].copy()
    compound_accrued = cols["compound_accrued"].copy()
    penalty_accrued[a] = new_p
    compound_accrued[a] = new_c

    reminder = np.zeros(n, dtype=bool)
    # day − high ≤ due ≤ day − low, as one unsigned comparison
    window = (due - np.int32(day - table.reminder_high)).view(np.uint32)
    r = np.flatnonzero(window <= np.uint32(table.reminder_high - table.reminder_low))
    if r.size:
        r = r[table.reminders[product[r], day - due[r] - table.reminder_low]]
        reminder[r] = (unpaid_principal[r] | unpaid_interest[r] | unpaid_fee[r]) != 0

    rows_out = {
        "loan_key": loan_key, "number": cols["number"],
        "penalty_increment": penalty_increment, "compound_increment": compound_increment,
        "penalty_accrued": penalty_accrued, "compound_accrued": compound_accrued,
        "reminder_due": reminder,
    }
    loans_out = {
        "loan_key": keys, "dpd": dpd, "earliest_overdue_on": earliest, "bucket": bucket,
        "prev_bucket": prev_bucket, "bucket_changed": bucket != prev_bucket,
        "write_off": write_off, "penalty_chargeable": penalty_due,
        "compound_chargeable": compound_due,
    }
    return rows_out, loans_out


def _first_inconsistency(cols: dict[str, np.ndarray], step: np.ndarray) -> str:
    """The column that breaks the batch's loan invariants (for the error message)."""
    for name in ("product", "prev_bucket", "written_off_on"):
        column = cols[name]
        if ((column[1:] != column[:-1]) & ~step).any():
            return name
    return "due_on"


def _empty_results(cols: dict[str, np.ndarray]) -> tuple[dict[str, np.ndarray],
                                                          dict[str, np.ndarray]]:
    rows = {f.name: np.zeros(0, dtype=f.type.to_pandas_dtype()) for f in ROW_RESULT_SCHEMA}
    loans = {f.name: np.zeros(0, dtype=np.int32 if f.type == pa.date32()
                              else f.type.to_pandas_dtype()) for f in LOAN_RESULT_SCHEMA}
    return rows, loans


@dataclass(frozen=True, slots=True)
class EodResult:
    """The kernel's output for one input batch: `rows` aligned with the input rows
    (ROW_RESULT_SCHEMA) and `loans`, one per loan in input order (LOAN_RESULT_SCHEMA)."""

    rows: pa.RecordBatch
    loans: pa.RecordBatch


_DATE_COLUMNS = ("due_on", "written_off_on")


def batch_arrays(batch: pa.RecordBatch) -> dict[str, np.ndarray]:
    """The batch's columns as NumPy arrays (zero-copy where Arrow allows), dates as int32."""
    cols: dict[str, np.ndarray] = {}
    for field in INSTALLMENT_SCHEMA:
        index = batch.schema.get_field_index(field.name)
        if index < 0:
            raise KernelInputError(field.name, "column missing")
        column = batch.column(index)
        if column.type != field.type:
            raise KernelInputError(field.name, f"expected {field.type}, got {column.type}")
        if field.name in _DATE_COLUMNS:
            column = column.view(pa.int32())
        if column.null_count:
            if not field.nullable:
                raise KernelInputError(field.name, "must not be null")
            column = column.fill_null(NEVER)
        cols[field.name] = column.to_numpy()
    return cols


def _bitmap(flags: np.ndarray) -> pa.Buffer:
    return pa.py_buffer(np.packbits(flags, bitorder="little"))


def _arrow(values: np.ndarray, kind: pa.DataType) -> pa.Array:
    """A NumPy result column as Arrow: numbers zero-copy, booleans bit-packed, dates as date32
    with NEVER as null."""
    if kind == pa.bool_():
        return pa.Array.from_buffers(kind, values.size, [None, _bitmap(values)])
    if kind == pa.date32():
        missing = values == NEVER
        validity = _bitmap(~missing) if missing.any() else None
        return pa.Array.from_buffers(kind, values.size, [validity, pa.py_buffer(values)],
                                     null_count=int(np.count_nonzero(missing)))
    return pa.array(values, kind)


def _record_batch(values: dict[str, np.ndarray], schema: pa.Schema) -> pa.RecordBatch:
    return pa.RecordBatch.from_arrays([_arrow(values[f.name], f.type) for f in schema],
                                      schema=schema)


def eod_batch(batch: pa.RecordBatch, table: ProductTable, day: date) -> EodResult:
    """The end-of-day step for `day` over one batch of whole loans (INSTALLMENT_SCHEMA)."""
    rows, loans = eod_arrays(batch_arrays(batch), table, day_number(day))
    return EodResult(rows=_record_batch(rows, ROW_RESULT_SCHEMA),
                     loans=_record_batch(loans, LOAN_RESULT_SCHEMA))


def run_eod(batches: Iterable[pa.RecordBatch], table: ProductTable, day: date, *,
            threads: int = 1) -> Iterator[EodResult]:
    """The kernel over a stream of batches, each holding whole loans, results in input order.

    Memory stays bounded: at most `2 × threads` batches are in flight. NumPy releases the GIL
    inside its loops, so `threads=2` uses both cores of a 2-core machine.
    """
    if threads <= 1:
        for batch in batches:
            yield eod_batch(batch, table, day)
        return
    with ThreadPoolExecutor(max_workers=threads) as pool:
        pending: list[Future[EodResult]] = []
        for batch in batches:
            pending.append(pool.submit(eod_batch, batch, table, day))
            if len(pending) >= 2 * threads:
                yield pending.pop(0).result()
        for future in pending:
            yield future.result()
