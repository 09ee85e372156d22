"""The local vectorised end-of-day executor: the kernel over state read in bulk from the book.

It plugs into the scalar EOD's run protocol (`application.handlers.eod.run_eod`): a date runs
once, in order, in batches that each commit; a crash resumes with the loans not yet at the
date. Per batch the store reads the candidate loans' installment rows as columns, the kernel
computes the day, and:

- loans whose day the kernel settles (no write-off, no hardship plan, not left behind by an
  earlier failure nor by a date they missed; credit held either waiting, or applied by
  `kernels.apply_credit` in full to installments falling due, see `_credit_settled`) are
  written back in bulk: changed installment rows (accrued totals, what the credit paid); the
  loan's DPD, bucket, status, first delinquent day and date, and credit and first unpaid due
  date when credit was applied; one ledger entry (penalty and compound accrued, interest and
  fees falling due, each recognised against its income; what the credit paid, debited to
  it); the accrual row; and for a loan changing bucket its delinquency change and outbox
  event — the very rows the scalar path writes for them. The loan row is written only
  if it is still at the date it was read at (`StaleWrite` otherwise), and a loan already at
  the day is not read at all;
- every other loan (write-offs, credit beyond what falls due or settling the loan, loans under
  a hardship plan or catching up after a failure or a missed date: well under one per cent
  of a day) goes through the scalar `close_loan_day`, so those come from one implementation.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

import numpy as np

from arrears.application.handlers.eod import BatchCloser, close_batch_scalar, eod_entry
from arrears.application.ports import Clock, UnitOfWork
from arrears.application.transitions import bucket_changed
from arrears.batch.columns import day_number
from arrears.batch.kernels import (
    COMPONENTS,
    NEVER,
    ProductTable,
    _group_starts,
    _segment_sums,
    apply_credit,
    eod_arrays,
    to_minor,
)
from arrears.domain.delinquency import BUCKETS
from arrears.domain.ledger import INCOME_OF, Account
from arrears.domain.product import Product

VECTORISED = "vectorised"
# Loans per batch: on PostgreSQL a batch's pages stay in the server's cache from its read to
# its write-back, and larger batches write more log, not less.
BATCH_LOANS = 10_000
# Batches closed at once on PostgreSQL, which serves each connection from its own process: the
# two cores an end-of-day is sized for (`run_eod`'s `workers`).
POSTGRES_WORKERS = 2
# The accounts a settled day posts to, in the order `ledger.postings` lists them (by name):
# receivables recognised (penalty and compound accrued, interest and fees falling due) with
# their income, and what held credit paid (the credit, each receivable it reduced).
LEDGER_ACCOUNTS: tuple[Account, ...] = tuple(sorted((
    Account.PENALTY, Account.COMPOUND, Account.INTEREST, Account.FEE, Account.PRINCIPAL,
    *(INCOME_OF[a] for a in (Account.PENALTY, Account.COMPOUND, Account.INTEREST,
                             Account.FEE)), Account.CREDIT)))
# The columns of an `AccrualWrite` and their types.
LOAN_WRITE: dict[str, np.dtype[Any]] = {
    "loan_id": np.dtype(np.int64), "read_on": np.dtype(np.int32), "dpd": np.dtype(np.int32),
    "bucket": np.dtype(np.int8), "prev_bucket": np.dtype(np.int8),
    "overdue_since": np.dtype(np.int32), "penalty_increment": np.dtype(np.int64),
    "compound_increment": np.dtype(np.int64), "credit_applied": np.dtype(np.int64),
    "earliest_unpaid": np.dtype(np.int32),
    **{account.value: np.dtype(np.int64) for account in LEDGER_ACCOUNTS}}
ROW_WRITE: dict[str, np.dtype[Any]] = {
    "loan_id": np.dtype(np.int64), "number": np.dtype(np.int16),
    "penalty_accrued": np.dtype(np.int64), "compound_accrued": np.dtype(np.int64)}
PAID_WRITE: dict[str, np.dtype[Any]] = {
    "loan_id": np.dtype(np.int64), "number": np.dtype(np.int16),
    **{f"paid_{c.value}": np.dtype(np.int64) for c in COMPONENTS}}


@dataclass(frozen=True, slots=True, kw_only=True)
class StateColumns:
    """Installment rows of whole loans, sorted by (loan id, due date), as NumPy columns.

    `loan_key` is the loan's database id; `product` indexes `products`; dates are day numbers
    (days since 1970-01-01) with `written_off_on` = NEVER when none; `behind` is 1 on the rows
    of a loan an earlier end-of-day set aside (it has dates to catch up); `credit` is the
    borrower's unapplied credit, which a `hold` product applies when an installment falls due;
    `state_on` is the day number the loan's stored state is at, which its write-back checks;
    `planned` is 1 on the rows of a loan holding a hardship plan (it takes the scalar path).
    For a loan holding credit (0 on the rows of the others): `due_since`, how many of its
    installments, paid or not, fall due after its state date and by the day (the credit meets
    each); `next_due_on`, the due date of its first unpaid installment due after the day
    (NEVER when none).
    """

    columns: dict[str, np.ndarray]
    products: tuple[Product, ...]
    product_codes: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class AccrualWrite:
    """The bulk write for the loans the kernel settled, as NumPy columns.

    `loans`, one entry per loan by id: `loan_id`; `read_on`, the day number its state was read
    at (the write is conditional on it); `dpd`, `bucket` and `prev_bucket` (codes, positions in
    `delinquency.BUCKETS`) at the end of the day and of the day before; `overdue_since`, the
    first day of its oldest overdue installment's delinquency (NEVER when nothing is overdue);
    `penalty_increment` and `compound_increment`, the day's change of the accrued totals in
    sub-minor units; `credit_applied`, the held credit the day applied (minor units), and
    `earliest_unpaid`, the due date of its first unpaid installment when it did (NEVER
    otherwise); and per account of `LEDGER_ACCOUNTS` (by account name) the amount posted to
    it, in minor units, signed as the ledger signs it. `rows`, one entry per installment row
    whose accrued totals changed: `loan_id`, `number`, and the new `penalty_accrued` and
    `compound_accrued`. `paid`, one entry per installment row the credit paid something of:
    `loan_id`, `number`, and per component `paid_<component>`, what it paid (added to what the
    row had paid).
    """

    day: date
    loans: dict[str, np.ndarray]
    rows: dict[str, np.ndarray]
    paid: dict[str, np.ndarray]

    @property
    def loan_ids(self) -> np.ndarray:
        return self.loans["loan_id"]

    def ledger(self) -> list[tuple[int, Account, int]]:
        """(loan id, account, amount) of the postings, loan by loan in the ledger's order."""
        amounts = [self.loans[account.value].tolist() for account in LEDGER_ACCOUNTS]
        out: list[tuple[int, Account, int]] = []
        for position, loan in enumerate(self.loan_ids.tolist()):
            for account, values in zip(LEDGER_ACCOUNTS, amounts, strict=True):
                if values[position]:
                    out.append((loan, account, values[position]))
        return out

    def bucket_moves(self) -> np.ndarray:
        """Positions in `loans` of the loans whose bucket changed."""
        return np.flatnonzero(self.loans["bucket"] != self.loans["prev_bucket"])


class ColumnStore(Protocol):
    """Bulk access to the book for the vectorised executor, inside a unit of work."""

    def read_state(self, uow: UnitOfWork, ids: Sequence[int], day: date) -> StateColumns:
        """Installment rows of `ids` that can change on `day` (due by then, not paid), of
        the loans not yet at `day`, with the loans' rows locked against other writers."""
        ...
    def write_accruals(self, uow: UnitOfWork, write: AccrualWrite) -> None:
        """Write `write` back, or raise `StaleWrite` if a loan is no longer at the state date
        it was read at."""
        ...
    def loan_refs(self, uow: UnitOfWork, ids: Sequence[int]) -> dict[int, str]:
        """The lender's loan id of each of `ids`."""
        ...


Arrays = dict[str, np.ndarray]
Kernel = Callable[[Arrays, ProductTable, date], tuple[Arrays, Arrays]]
"""The day's computation over a batch: (row results, loan results) as `kernels.eod_arrays`
gives them. Local NumPy by default; `spark.SparkKernel` runs the same function on Spark."""


def local_kernel(cols: Arrays, table: ProductTable, day: date) -> tuple[Arrays, Arrays]:
    return eod_arrays(cols, table, day_number(day))


def _chargeable_before(cols: Arrays, table: ProductTable, day: int, starts: np.ndarray
                       ) -> tuple[np.ndarray, np.ndarray]:
    """Per loan, the penalty and compound a payment dated `day` owed before the day's accrual
    (what the ledger carried at the end of the previous date)."""
    product = cols["product"].astype(np.intp)
    charged = (cols["due_on"] + table.grace_days[product]) < day
    penalty = (to_minor(cols["penalty_accrued"], product, table) - cols["penalty_paid"]) * charged
    compound = (to_minor(cols["compound_accrued"], product, table)
                - cols["compound_paid"]) * charged
    return _segment_sums(penalty, starts), _segment_sums(compound, starts)


def _typed(columns: dict[str, np.ndarray], types: dict[str, np.dtype[Any]]
           ) -> dict[str, np.ndarray]:
    return {name: columns[name].astype(kind, copy=False) for name, kind in types.items()}


def _empty_write(day: date) -> AccrualWrite:
    return AccrualWrite(day=day, loans={n: np.zeros(0, k) for n, k in LOAN_WRITE.items()},
                        rows={n: np.zeros(0, k) for n, k in ROW_WRITE.items()},
                        paid={n: np.zeros(0, k) for n, k in PAID_WRITE.items()})


def plan_batch(state: StateColumns, day: date, write_off_dpd: int,
               kernel: Kernel = local_kernel) -> tuple[AccrualWrite, list[int]]:
    """(the bulk write for the loans the kernel settles, the ids of the other loans in the
    state, which take the scalar path)."""
    cols = state.columns
    if cols["loan_key"].size == 0:
        return _empty_write(day), []
    table = ProductTable.build(state.products, write_off_dpd)
    today = day_number(day)
    after, credit = apply_credit(cols, table, today)
    rows, loans = kernel(after, table, day)
    keys = loans["loan_key"]
    loan_key = cols["loan_key"]
    starts = _group_starts(loan_key[1:] != loan_key[:-1])
    seg = np.repeat(np.arange(starts.size), np.diff(np.append(starts, loan_key.size)))
    behind = cols["behind"][starts] == 1
    state_on = cols["state_on"][starts]
    # A loan whose state is older than the day before and which owes an installment due
    # before today missed a date it had something to do on (it was boarded while that date
    # closed): the domain catches the days up. A state left behind only until the due date
    # of today's installment missed nothing.
    lagging = (state_on < today - 1) & (cols["due_on"][starts] < today)
    # Pauses, settlement offers and plan-changed rows are the domain's alone.
    planned = cols["planned"][starts] == 1
    scalar = behind | lagging | planned | loans["write_off"] | ~_credit_settled(
        cols, after, table, credit, starts)
    fast = ~scalar
    due_today = cols["due_on"] == today
    newly_due = {
        Account.INTEREST: _segment_sums(cols["unpaid_interest"] * due_today, starts),
        Account.FEE: _segment_sums(cols["unpaid_fee"] * due_today, starts)}
    before_p, before_c = _chargeable_before(cols, table, today, starts)
    newly_due[Account.PENALTY] = loans["penalty_chargeable"] - before_p
    newly_due[Account.COMPOUND] = loans["compound_chargeable"] - before_c
    paid = {Account(c.value): _segment_sums(credit[f"paid_{c.value}"], starts)
            for c in COMPONENTS}
    # `ledger.postings` of the day: each receivable moves by what fell due less what the
    # credit paid of it (the chargeable penalty and compound after the day are net of it
    # already); income is what fell due; the credit that paid is debited (no cash moves).
    posted: dict[Account, np.ndarray] = {
        Account.PRINCIPAL: -paid[Account.PRINCIPAL], Account.CREDIT: credit["credit_applied"]}
    for receivable in (Account.INTEREST, Account.FEE):
        posted[receivable] = newly_due[receivable] - paid[receivable]
        posted[INCOME_OF[receivable]] = -newly_due[receivable]
    for receivable in (Account.PENALTY, Account.COMPOUND):
        posted[receivable] = newly_due[receivable]
        posted[INCOME_OF[receivable]] = -(newly_due[receivable] + paid[receivable])
    earliest = loans["earliest_overdue_on"].astype(np.int64)
    overdue_since = np.where(earliest == NEVER, NEVER, earliest + 1)
    changed = ((rows["penalty_accrued"] != cols["penalty_accrued"])
               | (rows["compound_accrued"] != cols["compound_accrued"])) & fast[seg]
    penalty_change = _segment_sums(rows["penalty_accrued"] - cols["penalty_accrued"], starts)
    compound_change = _segment_sums(rows["compound_accrued"] - cols["compound_accrued"], starts)
    took = sum(credit[f"paid_{c.value}"] for c in COMPONENTS)
    paid_rows = (took != 0) & fast[seg]
    write = AccrualWrite(
        day=day,
        loans=_typed({
            "loan_id": keys[fast], "read_on": state_on[fast],
            "dpd": loans["dpd"][fast], "bucket": loans["bucket"][fast],
            "prev_bucket": loans["prev_bucket"][fast],
            "overdue_since": overdue_since[fast],
            "penalty_increment": penalty_change[fast],
            "compound_increment": compound_change[fast],
            "credit_applied": credit["credit_applied"][fast],
            "earliest_unpaid": _earliest_unpaid(cols, after, credit, starts, seg)[fast],
            **{account.value: posted[account][fast] for account in LEDGER_ACCOUNTS}},
            LOAN_WRITE),
        rows=_typed({"loan_id": loan_key[changed], "number": rows["number"][changed],
                     "penalty_accrued": rows["penalty_accrued"][changed],
                     "compound_accrued": rows["compound_accrued"][changed]}, ROW_WRITE),
        paid=_typed({"loan_id": loan_key[paid_rows], "number": cols["number"][paid_rows],
                     **{name: credit[name][paid_rows] for name in PAID_WRITE
                        if name.startswith("paid_")}}, PAID_WRITE),
    )
    return write, keys[scalar].tolist()


def _unpaid_rows(after: Arrays) -> np.ndarray:
    return (after["unpaid_principal"] | after["unpaid_interest"] | after["unpaid_fee"]) != 0


def _credit_settled(cols: Arrays, after: Arrays, table: ProductTable, credit: Arrays,
                    starts: np.ndarray) -> np.ndarray:
    """Per loan, whether the kernel's day is the domain's as far as held credit goes: no
    credit, or credit the product never applies at end-of-day (`prepay`), or credit that no
    installment meets today (none fell due since the state), or credit applied in full to
    installments the batch holds every one of (every installment due since the state is
    there, unpaid, and those left out as paid owe nothing: `paid_rows_owe_nothing`) leaving
    an installment unpaid (the loan does not settle). Credit beyond what is due waits or
    prepays by the domain's rules (`credit_to_keep`), which stay the domain's."""
    product = cols["product"][starts].astype(np.intp)
    held = (cols["credit"][starts] > 0) & table.holds[product]
    state_on = cols["state_on"]
    due = cols["due_on"]
    read_since = _segment_sums((due > state_on).astype(np.int64), starts)
    due_since = cols["due_since"][starts]
    unpaid_left = (_segment_sums(_unpaid_rows(after).astype(np.int64), starts) > 0) | (
        cols["next_due_on"][starts] != NEVER)
    applied_in_full = (credit["applies"] & (due_since == read_since)
                       & (credit["credit_left"] == 0) & table.owe_nothing_paid[product]
                       & unpaid_left)
    return ~held | (~credit["applies"] & (due_since == 0)) | applied_in_full


def _earliest_unpaid(cols: Arrays, after: Arrays, credit: Arrays, starts: np.ndarray,
                     seg: np.ndarray) -> np.ndarray:
    """Per loan that applied credit, the due date of its first unpaid installment after it
    (the batch's rows are by due date, the later ones are in `next_due_on`); NEVER for the
    others."""
    unpaid = np.flatnonzero(_unpaid_rows(after))
    first = np.array(cols["next_due_on"][starts], dtype=np.int64)
    if unpaid.size:
        owners = seg[unpaid]
        leaders = unpaid[_group_starts(owners[1:] != owners[:-1])]
        first[seg[leaders]] = cols["due_on"][leaders]
    return np.where(credit["applies"], first, NEVER)


def _emit_bucket_moves(uow: UnitOfWork, store: ColumnStore, write: AccrualWrite,
                       clock: Clock) -> None:
    """The outbox events of the loans that changed bucket, as the scalar path emits them."""
    moved = write.bucket_moves()
    if not moved.size:
        return
    ids = write.loan_ids[moved].tolist()
    refs = store.loan_refs(uow, ids)
    at = clock.now()
    day = write.day
    uow.book.emit([
        bucket_changed(loan, refs[loan], eod_entry(day, refs[loan]), day, at,
                       BUCKETS[before], BUCKETS[after], dpd)
        for loan, before, after, dpd in zip(
            ids, write.loans["prev_bucket"][moved].tolist(),
            write.loans["bucket"][moved].tolist(), write.loans["dpd"][moved].tolist(),
            strict=True)])


def vectorised_closer(store: ColumnStore, *, write_off_dpd: int, clock: Clock,
                      kernel: Kernel = local_kernel) -> BatchCloser:
    """A batch closer for `run_eod` that runs the kernel (see the module docstring)."""

    def close(uow: UnitOfWork, ids: list[int], day: date) -> tuple[int, int]:
        write, _ = plan_batch(store.read_state(uow, ids, day), day, write_off_dpd, kernel)
        store.write_accruals(uow, write)
        _emit_bucket_moves(uow, store, write, clock)
        fast = set(write.loan_ids.tolist())
        scalar_ids = [loan for loan in ids if loan not in fast]  # incl. loans with no rows
        processed, failed = close_batch_scalar(uow, scalar_ids, day,
                                               write_off_dpd=write_off_dpd, clock=clock)
        return len(fast) + processed, failed

    return close
