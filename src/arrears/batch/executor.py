"""The local vectorised end-of-day executor: the kernel over state read in bulk from the book.

It plugs into the scalar EOD's run protocol (`application.handlers.eod.run_eod`): a date runs
once, in order, in batches that each commit; a crash resumes with the loans not yet at the
date. Per batch the store reads the candidate loans' installment rows as columns, the kernel
computes the day, and:

- loans whose day is plain (no bucket change, no write-off, no credit held, not left behind
  by an earlier failure) are written back in bulk: changed installment rows, the loan's DPD
  and date, one ledger entry (penalty and compound accrued, interest and fees falling due,
  each recognised against its income) and the accrual row — the very rows the scalar path
  writes for them. The loan row is written only if it is still at the date it was read at
  (`StaleWrite` otherwise), and a loan already at the day is not read at all;
- every other loan (the transitions: a few per cent of a day, and loans under a hardship
  plan) goes through the scalar `close_loan_day`, so events, delinquency history and plans
  come from one implementation.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Protocol

import numpy as np

from arrears.application.handlers.eod import BatchCloser, close_batch_scalar
from arrears.application.ports import Clock, UnitOfWork
from arrears.batch.columns import day_number
from arrears.batch.kernels import (
    ProductTable,
    _group_starts,
    _segment_sums,
    eod_arrays,
    to_minor,
)
from arrears.domain.product import Product

VECTORISED = "vectorised"
BATCH_LOANS = 50_000


@dataclass(frozen=True, slots=True, kw_only=True)
class StateColumns:
    """Installment rows of whole loans, sorted by (loan id, due date), as NumPy columns.

    `loan_key` is the loan's database id; `product` indexes `products`; dates are day numbers
    (days since 1970-01-01) with `written_off_on` = NEVER when none; `behind` is 1 on the rows
    of a loan an earlier end-of-day set aside (it has dates to catch up); `credit` is the
    borrower's unapplied credit, which a `hold` product applies when an installment falls due;
    `state_on` is the day number the loan's stored state is at, which its write-back checks;
    `planned` is 1 on the rows of a loan holding a hardship plan (it takes the scalar path).
    """

    columns: dict[str, np.ndarray]
    products: tuple[Product, ...]
    product_codes: tuple[str, ...]
    loan_refs: dict[int, str]  # database id → the lender's loan id, for ledger entry names


@dataclass(frozen=True, slots=True, kw_only=True)
class AccrualWrite:
    """The bulk write for the loans whose day was plain accrual."""

    day: date
    loan_refs: dict[int, str]
    installment_rows: list[tuple[int, int, int, int]]  # loan id, number, penalty, compound
    loans: list[tuple[int, int, int]]  # loan id, DPD, the state's day number as read
    postings: list[tuple[int, str, int]]  # loan id, account, amount
    accruals: list[tuple[int, int, int]]  # loan id, penalty increment, compound increment


class ColumnStore(Protocol):
    """Bulk access to the book for the vectorised executor, inside a unit of work."""

    def read_state(self, uow: UnitOfWork, ids: Sequence[int], day: date) -> StateColumns:
        """Installment rows of `ids` that can change on `day` (due by then, not paid), of
        the loans not yet at `day`."""
        ...
    def write_accruals(self, uow: UnitOfWork, write: AccrualWrite) -> None:
        """Write `write` back, or raise `StaleWrite` if a loan is no longer at the state date
        it was read at."""
        ...


Arrays = dict[str, np.ndarray]
Kernel = Callable[[Arrays, ProductTable, date], tuple[Arrays, Arrays]]
"""The day's computation over a batch: (row results, loan results) as `kernels.eod_arrays`
gives them. Local NumPy by default; `spark_kernel` runs the same function on Spark."""


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


def plan_batch(state: StateColumns, day: date, write_off_dpd: int,
               kernel: Kernel = local_kernel) -> tuple[AccrualWrite, list[int]]:
    """(the bulk write for plain-accrual loans, the ids of the other loans in the state, which
    take the scalar path)."""
    cols = state.columns
    if cols["loan_key"].size == 0:
        return AccrualWrite(day=day, loan_refs={}, installment_rows=[], loans=[], postings=[],
                            accruals=[]), []
    table = ProductTable.build(state.products, write_off_dpd)
    today = day_number(day)
    rows, loans = kernel(cols, table, day)
    keys = loans["loan_key"]
    loan_key = cols["loan_key"]
    starts = _group_starts(loan_key[1:] != loan_key[:-1])
    seg = np.repeat(np.arange(starts.size), np.diff(np.append(starts, loan_key.size)))
    behind = cols["behind"][starts] == 1
    holds_credit = cols["credit"][starts] > 0  # applied on due dates by the domain
    # Pauses, settlement offers and plan-changed rows are the domain's alone.
    planned = cols["planned"][starts] == 1
    scalar = behind | holds_credit | planned | loans["bucket_changed"] | loans["write_off"]
    due_today = cols["due_on"] == today
    new_interest = _segment_sums(cols["unpaid_interest"] * due_today, starts)
    new_fee = _segment_sums(cols["unpaid_fee"] * due_today, starts)
    before_p, before_c = _chargeable_before(cols, table, today, starts)
    delta_p = loans["penalty_chargeable"] - before_p
    delta_c = loans["compound_chargeable"] - before_c
    inc_p = _segment_sums(rows["penalty_increment"], starts)
    inc_c = _segment_sums(rows["compound_increment"], starts)
    fast = ~scalar
    changed = (rows["penalty_increment"] != 0) | (rows["compound_increment"] != 0)
    changed &= fast[seg]
    write = AccrualWrite(
        day=day, loan_refs=state.loan_refs,
        installment_rows=list(zip(loan_key[changed].tolist(), rows["number"][changed].tolist(),
                                  rows["penalty_accrued"][changed].tolist(),
                                  rows["compound_accrued"][changed].tolist(), strict=True)),
        loans=list(zip(keys[fast].tolist(), loans["dpd"][fast].tolist(),
                       cols["state_on"][starts][fast].tolist(), strict=True)),
        postings=_postings(keys[fast], delta_p[fast], delta_c[fast], new_interest[fast],
                           new_fee[fast]),
        accruals=[(k, p, c) for k, p, c in zip(keys[fast].tolist(), inc_p[fast].tolist(),
                                               inc_c[fast].tolist(), strict=True) if p or c],
    )
    return write, keys[scalar].tolist()


def _postings(keys: np.ndarray, *amounts: np.ndarray) -> list[tuple[int, str, int]]:
    """The entry `ledger.postings` makes for a day without payments or transitions: each
    receivable recognised against its income, in the ledger's account order. `amounts` are
    the penalty, compound, interest and fee recognised per loan."""
    out: list[tuple[int, str, int]] = []
    names = ("penalty", "compound", "interest", "fee")
    for key, *values in zip(keys.tolist(), *(a.tolist() for a in amounts), strict=True):
        pairs = [(name, value) for name, value in zip(names, values, strict=True) if value]
        for name, value in sorted(pairs):
            out += [(key, name, value), (key, f"{name}_income", -value)]
    return out


def vectorised_closer(store: ColumnStore, *, write_off_dpd: int, clock: Clock,
                      kernel: Kernel = local_kernel) -> BatchCloser:
    """A batch closer for `run_eod` that runs the kernel (see the module docstring)."""

    def close(uow: UnitOfWork, ids: list[int], day: date) -> tuple[int, int]:
        write, _ = plan_batch(store.read_state(uow, ids, day), day, write_off_dpd, kernel)
        store.write_accruals(uow, write)
        fast = {loan for loan, _, _ in write.loans}
        scalar_ids = [loan for loan in ids if loan not in fast]  # incl. loans with no rows
        processed, failed = close_batch_scalar(uow, scalar_ids, day,
                                               write_off_dpd=write_off_dpd, clock=clock)
        return len(fast) + processed, failed

    return close
