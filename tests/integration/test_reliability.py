"""Crash and concurrency: a killed end-of-day resumes to the same book; two connections
posting one payment key concurrently post it once."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from arrears import bootstrap
from arrears.adapters.db import tables as t
from arrears.adapters.db.columns import SqlColumnStore
from arrears.adapters.db.payment_import_store import SqlPaymentImportUnitOfWorkFactory
from arrears.application import demo
from arrears.application.handlers import eod, payments, servicing
from arrears.batch.executor import VECTORISED, vectorised_closer
from arrears.config import Settings

from book_checks import assert_ledger_consistent, table_rows
from fakes import FixedClock
from shipped import default_products

START = date(2026, 1, 1)
KILLED_DATE = date(2026, 3, 20)

# Runs EOD for KILLED_DATE in batches of 5 loans and SIGKILLs itself after the third batch
# has committed: a real crash in the middle of a date.
CHILD = """
import os, signal, sys
from datetime import date
from fakes import FixedClock
from arrears import bootstrap
from arrears.application.handlers import eod
from arrears.config import Settings

built = bootstrap.build(Settings(database_url=sys.argv[1]), clock=FixedClock())
batches = []

def crash_after_third(count):
    batches.append(count)
    if len(batches) == 3:
        os.kill(os.getpid(), signal.SIGKILL)

eod.run_eod(date.fromisoformat(sys.argv[2]), uow_factory=built.uow_factory, clock=built.clock,
            batch_size=5, on_batch=crash_after_third)
"""


# The vectorised engine, two batches at once: the process dies with a batch committed after
# the third has, and another possibly in flight.
VECTORISED_CHILD = """
import os, signal, sys
from datetime import date
from fakes import FixedClock
from arrears import bootstrap
from arrears.adapters.db.columns import SqlColumnStore
from arrears.application.handlers import eod
from arrears.batch.executor import vectorised_closer
from arrears.config import Settings

built = bootstrap.build(Settings(database_url=sys.argv[1]), clock=FixedClock())
batches = []

def crash_after_third(count):
    batches.append(count)
    if len(batches) == 3:
        os.kill(os.getpid(), signal.SIGKILL)

eod.run_eod(date.fromisoformat(sys.argv[2]), uow_factory=built.uow_factory, clock=built.clock,
            write_off_dpd=40, batch_size=4, workers=2, engine="vectorised",
            close_batch=vectorised_closer(SqlColumnStore(), write_off_dpd=40, clock=built.clock),
            on_batch=crash_after_third)
"""
LOANS_HEADER = ("loan_id,borrower_id,name,national_id,phone,product,currency,principal,"
                "disbursed_on,terms")


def _book(url: str) -> bootstrap.Services:
    built = bootstrap.build(Settings(database_url=url), clock=FixedClock())
    built.migrate()
    planned = demo.plan_book(120, 60, START, seed=5)
    demo.simulate(planned, START, (KILLED_DATE - START).days, default_products(),
                  uow_factory=built.uow_factory,
                  paying=SqlPaymentImportUnitOfWorkFactory(built.engine), clock=built.clock,
                  write_off_dpd=180)
    return built


def test_eod_killed_mid_date_resumes_to_the_same_book(tmp_path):
    crashed = _book(f"sqlite:///{tmp_path / 'crashed.db'}")
    clean = _book(f"sqlite:///{tmp_path / 'clean.db'}")
    with crashed.uow_factory() as uow:
        assert len(uow.book.loans_needing_eod(KILLED_DATE, 0, 1000)) > 15  # > 3 batches
    tests_dir = Path(__file__).parents[1]
    child = subprocess.run(
        [sys.executable, "-c", CHILD, f"sqlite:///{tmp_path / 'crashed.db'}",
         KILLED_DATE.isoformat()],
        env={**os.environ, "PYTHONPATH": str(tests_dir)}, capture_output=True, text=True,
        check=False)
    assert child.returncode == -9, child.stderr
    with crashed.uow_factory() as uow:
        run = uow.book.eod_run(KILLED_DATE)
        assert run is not None and run.status == "running" and run.loans_processed == 15
    for built in (crashed, clean):
        eod.run_eod_through(date(2026, 3, 25), uow_factory=built.uow_factory, clock=built.clock)
    assert table_rows(crashed) == table_rows(clean)
    assert_ledger_consistent(crashed)


@pytest.mark.skipif(os.environ.get("ARREARS_TEST_POSTGRES_URL") is None,
                    reason="needs ARREARS_TEST_POSTGRES_URL")
def test_concurrent_posts_of_one_key_post_once(database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("the race is between two PostgreSQL connections")
    built = _book(database_url)
    with built.uow_factory() as uow:
        closed = uow.book.closed_through()
        booked = uow.book.get("DL-000001")
    assert closed is not None and booked is not None
    barrier = threading.Barrier(2)
    results, errors = [], []

    def post() -> None:
        barrier.wait()
        try:
            results.append(payments.post_payment(
                "DL-000001", 12_345, KILLED_DATE, "gateway-callback-77",
                uow_factory=built.uow_factory, clock=built.clock,
                is_duplicate_key_error=bootstrap.is_duplicate_key_error))
        except Exception as error:  # surfaced by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=post) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(r.duplicate for r in results) == [False, True]
    with built.engine.connect() as connection:
        posted = connection.scalar(sa.select(sa.func.count()).select_from(t.payment).where(
            t.payment.c.idempotency_key == "gateway-callback-77"))
        entries = connection.scalar(sa.select(sa.func.count(sa.distinct(t.posting.c.entry)))
                                    .where(t.posting.c.entry == "pay:gateway-callback-77"))
    assert (posted, entries) == (1, 1)
    assert_ledger_consistent(built)


def test_database_errors_never_show_the_personal_data_bound_to_them(services):
    """An ID number or phone bound to a failing statement must not reach an error message or
    a log line (SQLAlchemy prints bound parameters unless told not to)."""
    import sqlalchemy as sa

    insert = sa.text("INSERT INTO borrower (borrower_ref, name, national_id, time_zone) "
                     "VALUES ('B-x', 'x', :id, 'Asia/Shanghai')")
    with services.engine.begin() as connection:
        connection.execute(insert, {"id": "110101199003070000"})
    # The same borrower_ref again: a unique violation, with the ID number bound beside it.
    with pytest.raises(sa.exc.DBAPIError) as failed, services.engine.begin() as connection:
        connection.execute(insert, {"id": "110101199003074477"})
    assert "110101199003074477" not in str(failed.value)


def _small_book(url: str) -> bootstrap.Services:
    """Thirty loans disbursed a week apart: current, falling due, in grace, overdue in every
    bucket and at the write-off threshold, on both shipped products."""
    built = bootstrap.build(Settings(database_url=url), clock=FixedClock())
    built.migrate()
    servicing.init_book(KILLED_DATE, default_products(), uow_factory=built.uow_factory)
    rows = [LOANS_HEADER] + [
        f"L-{i:03d},B-{i:03d},Borrower {i},11010119900307{i:04d},1381234{i:04d},"
        f"{('WLD-DAILY', 'PHONE-24M')[i % 2]},CNY,{3000 + 173 * i}.00,"
        f"{KILLED_DATE - timedelta(days=3 + 7 * i)},{(6, 24)[i % 2]}" for i in range(30)]
    servicing.import_loans_csv("\n".join(rows) + "\n", uow_factory=built.uow_factory,
                               clock=built.clock)
    return built


def _rows_without_ids(built: bootstrap.Services) -> dict[str, list[str]]:
    """Every table's rows but surrogate ids, in a stable order (batches side by side commit
    in either order), instants as naive UTC as SQLite returns them."""

    def plain(value: object) -> object:
        if isinstance(value, datetime) and value.tzinfo is not None:
            return value.astimezone(UTC).replace(tzinfo=None)
        return value

    with built.engine.connect() as connection:
        return {table.name: sorted(repr(tuple(map(plain, row))) for row in connection.execute(
            sa.select(*(c for c in table.columns if c.name != "id"))))
            for table in t.metadata.sorted_tables}


def test_vectorised_eod_killed_with_batches_side_by_side_resumes_to_the_same_book(
        database_url, tmp_path):
    if not database_url.startswith("postgresql"):
        pytest.skip("batches close side by side on PostgreSQL only (`eod_workers`)")
    crashed = _small_book(database_url)
    with crashed.uow_factory() as uow:
        assert len(uow.book.loans_needing_eod(KILLED_DATE, 0, 1000)) > 5 * 4  # > 5 batches
    tests_dir = Path(__file__).parents[1]
    child = subprocess.run(
        [sys.executable, "-c", VECTORISED_CHILD, database_url, KILLED_DATE.isoformat()],
        env={**os.environ, "PYTHONPATH": str(tests_dir)}, capture_output=True, text=True,
        check=False)
    assert child.returncode == -9, child.stderr
    with crashed.uow_factory() as uow:
        run = uow.book.eod_run(KILLED_DATE)
        assert run is not None and run.status == "running" and run.loans_processed >= 12
    clean = _small_book(f"sqlite:///{tmp_path / 'clean.db'}")
    for built in (crashed, clean):
        closer = vectorised_closer(SqlColumnStore(), write_off_dpd=40, clock=built.clock)
        eod.run_eod(KILLED_DATE, uow_factory=built.uow_factory, clock=built.clock,
                    write_off_dpd=40, batch_size=4, workers=2, engine=VECTORISED,
                    close_batch=closer)
    assert _rows_without_ids(crashed) == _rows_without_ids(clean)
    assert_ledger_consistent(crashed)
