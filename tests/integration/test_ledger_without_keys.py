"""The ledger tables carry no foreign key to their loan (the 2026-12-13 migration): every writer
checks its loans before it appends a row, and a write naming a loan the book does not hold, or
on PostgreSQL one the batch did not read under lock, is refused before a ledger row is
written, on both engines and both databases."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import numpy as np
import pytest
import sqlalchemy as sa

from arrears import bootstrap
from arrears.adapters.db import tables as t
from arrears.adapters.db.columns import SqlColumnStore
from arrears.application.handlers import eod, servicing
from arrears.application.ports import StaleWrite, UnitOfWork
from arrears.batch.executor import AccrualWrite, plan_batch
from arrears.config import Settings

from book_checks import orphans
from fakes import FixedClock
from shipped import default_products

DAY = date(2026, 3, 5)
WRITE_OFF_DPD = 180
LOANS = 12
HEADER = "loan_id,borrower_id,name,national_id,phone,product,currency,principal,disbursed_on,terms"
# Where in the batch the loan the book does not hold sits.
POSITIONS = ("first", "middle", "last")


def _book(url: str) -> bootstrap.Services:
    """Loans overdue since 2026-02-05 and falling due again on DAY: each posts on DAY."""
    rows = [HEADER] + [f"L-{i:03d},B-{i:03d},Borrower {i},11010119900307{i:04d},1381234{i:04d},"
                       f"WLD-DAILY,CNY,{3000 + 137 * i}.00,2026-01-05,12" for i in range(LOANS)]
    built = bootstrap.build(Settings(database_url=url), clock=FixedClock())
    built.migrate()
    servicing.init_book(DAY, default_products(), uow_factory=built.uow_factory)
    servicing.import_loans_csv("\n".join(rows) + "\n", uow_factory=built.uow_factory,
                               clock=built.clock)
    return built


def _index(position: str, size: int) -> int:
    return {"first": 0, "middle": size // 2, "last": size - 1}[position]


def _ledger_rows(uow: UnitOfWork) -> dict[str, int]:
    connection = uow.book.connection  # type: ignore[attr-defined]
    return {table.name: int(connection.scalar(sa.select(sa.func.count()).select_from(table)))
            for table in (t.posting, t.accrual)}


def _unknown_loan(uow: UnitOfWork) -> int:
    connection = uow.book.connection  # type: ignore[attr-defined]
    return int(connection.scalar(sa.select(sa.func.max(t.loan.c.id)))) + 1


def _renamed(write: AccrualWrite, index: int, loan: int) -> AccrualWrite:
    ids = write.loan_ids.copy()
    ids[index] = loan
    return replace(write, loans={**write.loans, "loan_id": ids},
                   rows={**write.rows, "loan_id": np.where(write.rows["loan_id"] == write.loan_ids[
                       index], loan, write.rows["loan_id"])})


@pytest.mark.parametrize("position", POSITIONS)
def test_a_vectorised_write_back_naming_a_loan_the_book_lacks_writes_no_ledger_row(
        database_url, position):
    built = _book(database_url)
    store = SqlColumnStore()
    with built.uow_factory() as uow:
        before = _ledger_rows(uow)
        ids = uow.book.loans_needing_eod(DAY, 0, LOANS)
        write, _ = plan_batch(store.read_state(uow, ids, DAY), DAY, WRITE_OFF_DPD)
        assert write.loan_ids.size == LOANS and write.ledger()
        stray = _renamed(write, _index(position, LOANS), _unknown_loan(uow))
        with pytest.raises(StaleWrite, match=f"1 of {LOANS} loans"):
            store.write_accruals(uow, stray)
        assert _ledger_rows(uow) == before  # refused before a row was appended
    with built.engine.connect() as connection:
        assert orphans(connection) == {"posting": 0, "accrual": 0}


@pytest.mark.parametrize("position", POSITIONS)
def test_a_scalar_write_back_naming_a_loan_the_book_lacks_writes_no_ledger_row(
        database_url, position):
    built = _book(database_url)
    with built.uow_factory() as uow:
        before = _ledger_rows(uow)
        ids = uow.book.loans_needing_eod(DAY, 0, LOANS)
        updates = [eod.close_loan_day(booked, DAY, WRITE_OFF_DPD, built.clock).update
                   for booked in uow.book.get_many(ids, for_update=True)]
        assert all(update.postings for update in updates)
        index = _index(position, LOANS)
        updates[index] = replace(updates[index], booked=replace(updates[index].booked,
                                                                id=_unknown_loan(uow)))
        with pytest.raises(StaleWrite, match=f"1 of {LOANS} loans"):
            uow.book.apply(updates)
        assert _ledger_rows(uow) == before


def test_a_postgres_write_back_for_loans_its_batch_did_not_lock_is_refused(database_url):
    """The PostgreSQL write-back appends rows only for the loans its transaction read under
    lock: another batch's loans, though the book holds them, are refused."""
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite takes the whole book's write lock; there is no batch lock")
    built = _book(database_url)
    store = SqlColumnStore()
    with built.uow_factory() as uow:
        ids = uow.book.loans_needing_eod(DAY, 0, LOANS)
        whole, _ = plan_batch(store.read_state(uow, ids, DAY), DAY, WRITE_OFF_DPD)
    with built.uow_factory() as uow:
        before = _ledger_rows(uow)
        store.read_state(uow, ids[: LOANS // 2], DAY)
        with pytest.raises(StaleWrite, match=f"{LOANS - LOANS // 2} of {LOANS} loans"):
            store.write_accruals(uow, whole)
        assert _ledger_rows(uow) == before
