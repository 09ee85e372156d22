"""Benchmark the loan book through the database: payments posted per second and end-of-day
loans per second, each as a ratio to a baseline measured side by side in the same run.

    python bench/book.py [--loans 10000] [--payments 3000] [--import-rows 20000]
                         [--import-days 1] [--bulk-rows 100000] [--bulk-loans 100000] [--json]

- payments/s: `post_payment` (idempotency check, state, ledger entry, outbox event, one
  transaction each) against a bare loop that inserts one row per transaction with the same
  driver — the floor any transactional posting pays.
- EOD loans/s: one business date of the demo book (`--loans` on the book, simulated for
  WARM_UP_DAYS first; the loans with something due or overdue are worked) through `run_eod`,
  against the pure domain doing the same loans' day in memory (no database).
- import rows/s: `import_loans_csv` on a loans CSV of `--import-rows` demo loans (parse, checks,
  boarding, all-or-nothing insert into a fresh book), disbursed over the `--import-days` days
  before the open date, against one bare executemany of the same rows' cells into a table of
  text columns — the floor of putting that many rows into the database at all.
- bulk payments/s (`bulk_payments_per_s`, by database): `import_payments` posting a generic
  payment file of `--bulk-rows` rows over `--bulk-loans` loans on the first installments' due
  date and another on the second's (each first row pays what the loan has due on the open day,
  any further row of a loan pays 10.00 more), each file parsed and
  posted in chunks of `CHUNK_ROWS`, against the same rows' cells inserted by executemany in
  transactions of as many rows (`bulk_bare_inserts_per_s`) — the floor of writing that many
  rows at all. `bulk_payments_cpu_s` is this process's CPU time for the two files: on a
  machine others share it moves less than the wall time (PostgreSQL's own work is not in it).
PostgreSQL figures are added when ARREARS_TEST_POSTGRES_URL is set.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import date, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from rich.console import Console
from rich.table import Table

from arrears import bootstrap
from arrears.adapters.db.payment_import_store import (
    SqlPaymentImportUnitOfWorkFactory,
    pricing_ahead,
)
from arrears.application import demo, loan_file, payment_file
from arrears.application.handlers import eod, payments, servicing
from arrears.application.handlers.payment_import import CHUNK_ROWS, import_payments
from arrears.config import Settings
from arrears.domain.loan import advance, due_on

START = date(2026, 1, 1)
IMPORT_COLUMNS = ("loan_id", "borrower_id", "name", "national_id", "phone", "product", "currency",
                  "principal", "disbursed_on", "terms", "address", "region", "time_zone",
                  "language", "contact_name", "contact_relation", "contact_phone")
WARM_UP_DAYS = 75  # long enough for loans to fall due and some to become delinquent
BULK_MONTH_DAYS = 28  # from the first due date to the second (February)


def _products() -> dict[str, Any]:
    return json.loads((resources.files("arrears") / "default_products.json").read_text())


def _fresh(url: str) -> bootstrap.Services:
    built = bootstrap.build(Settings(database_url=url))
    built.migrate()
    return built


def _board(built: bootstrap.Services, loans: int) -> date:
    """A book of `loans` demo loans, disbursed before the open date, with no payments."""
    planned = demo.plan_book(loans, 1, START, seed=11)
    rows = [p.row for p in planned]
    servicing.init_book(START, _products(), uow_factory=built.uow_factory)
    servicing.board_rows(rows, uow_factory=built.uow_factory, clock=built.clock)
    return START


def bench_payments(url: str, count: int) -> float:
    """Payments posted per second: each pays what is due on a distinct loan."""
    built = _fresh(url)
    _board(built, count)
    first_due = START + timedelta(days=31)
    eod.run_eod_through(first_due - timedelta(days=1), uow_factory=built.uow_factory,
                        clock=built.clock)
    with built.uow_factory() as uow:
        loans = uow.book.get_many(list(range(1, count + 1)))
    work = [(b.loan.loan_id, due_on(b.loan, b.state, first_due)) for b in loans]
    work = [(ref, amount or 100) for ref, amount in work]
    started = time.perf_counter()
    for ref, amount in work:
        payments.post_payment(ref, amount, first_due, f"bench-{ref}",
                              uow_factory=built.uow_factory, clock=built.clock,
                              is_duplicate_key_error=bootstrap.is_duplicate_key_error)
    elapsed = time.perf_counter() - started
    built.engine.dispose()
    return len(work) / elapsed


def bench_bare_inserts(url: str, count: int) -> float:
    """The floor: one tiny row inserted and committed per transaction, same driver."""
    engine = _fresh(url).engine  # opened as the measured book is (same pragmas)
    table = sa.Table(f"bench_{uuid.uuid4().hex[:8]}", sa.MetaData(),
                     sa.Column("id", sa.Integer, primary_key=True),
                     sa.Column("key", sa.String(40), unique=True),
                     sa.Column("amount", sa.BigInteger))
    table.create(engine)
    insert = table.insert()
    started = time.perf_counter()
    for index in range(count):
        with engine.begin() as connection:
            connection.execute(insert, {"key": f"k{index}", "amount": index})
    elapsed = time.perf_counter() - started
    table.drop(engine)
    engine.dispose()
    return count / elapsed


def _payments_due(built: bootstrap.Services, loans: int, rows: int, day: date) -> str:
    """A generic payment file of `rows` rows over `loans` loans dated `day`, the book closed
    through the day before: each loan's first row pays what it has due that day, any further
    row 10.00 more."""
    eod.run_eod_through(day - timedelta(days=1), uow_factory=built.uow_factory,
                        clock=built.clock)
    due: list[tuple[str, int]] = []
    for start in range(1, loans + 1, 5_000):  # a few thousand loans in memory at a time
        with built.uow_factory() as uow:
            due += [(b.loan.loan_id, due_on(b.loan, b.state, day) or 100) for b in
                    uow.book.get_many(list(range(start, min(start + 5_000, loans + 1))))]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(("key", "loan_id", "amount", "paid_on"))
    for row in range(rows):
        ref, amount = due[row % loans]
        writer.writerow((f"bulk-{day}-{row}", ref, loan_file.money_text(
            amount if row < loans else 1000, "CNY"), day.isoformat()))
    return out.getvalue()


def bench_bulk_payments(url: str, rows: int, loans: int) -> tuple[float, float]:
    """Payments posted per second from a payment file, parsing included, and the CPU seconds
    that took: the file of the first installments' due date, then the second's, the
    end-of-days between them passing over every loan paid on time (nothing due), as a book's
    second month finds them."""
    built = _fresh(url)
    _board(built, loans)
    first_due = START + timedelta(days=31)
    elapsed = cpu = 0.0
    for day in (first_due, first_due + timedelta(days=BULK_MONTH_DAYS)):
        text = _payments_due(built, loans, rows, day)
        started, cpu_started = time.perf_counter(), time.process_time()
        factory = SqlPaymentImportUnitOfWorkFactory(built.engine)
        # As `arrears import payments`: processes started, then the file parsed.
        with pricing_ahead(factory, text.count("\n")) as ahead:
            parsed = payment_file.parse(text, payment_file.FORMATS["generic"])
            report = import_payments(parsed, "bench", clock=built.clock, uow_factory=factory,
                                     read_ahead=ahead)
        elapsed += time.perf_counter() - started
        cpu += time.process_time() - cpu_started
        assert len(report.posted) == rows, report.rejected[:3]
    built.engine.dispose()
    return 2 * rows / elapsed, cpu


def bench_bulk_bare_inserts(url: str, rows: int) -> float:
    """The floor: as many rows of a payment file's four cells, inserted by executemany in
    transactions of CHUNK_ROWS rows."""
    engine = _fresh(url).engine  # opened as the measured book is (same pragmas)
    table = sa.Table(f"bench_{uuid.uuid4().hex[:8]}", sa.MetaData(),
                     sa.Column("id", sa.Integer, primary_key=True),
                     sa.Column("key", sa.String(60), unique=True),
                     sa.Column("loan_ref", sa.String(64)), sa.Column("amount", sa.BigInteger),
                     sa.Column("paid_on", sa.Date))
    table.create(engine)
    records = [{"key": f"k{row}", "loan_ref": f"L{row}", "amount": row, "paid_on": START}
               for row in range(rows)]
    started = time.perf_counter()
    for start in range(0, rows, CHUNK_ROWS):
        with engine.begin() as connection:
            connection.execute(table.insert(), records[start:start + CHUNK_ROWS])
    elapsed = time.perf_counter() - started
    table.drop(engine)
    engine.dispose()
    return rows / elapsed


def loans_csv(rows: int, days: int) -> str:
    """`rows` demo loans, each with its own borrower and a contact, as a loans CSV, disbursed
    over the `days` days before START."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(IMPORT_COLUMNS)
    for planned in demo.plan_book(rows, days, START - timedelta(days=days), seed=5):
        row, borrower = planned.row, planned.row.borrower
        contact = borrower.contacts[0]
        writer.writerow((row.loan_ref, borrower.borrower_ref, borrower.name, borrower.national_id,
                         borrower.phones[0].number, row.product_code, row.currency,
                         loan_file.money_text(row.principal, row.currency),
                         row.disbursed_on.isoformat(), row.terms, borrower.address,
                         borrower.region, borrower.time_zone, borrower.language, contact.name,
                         contact.relation, contact.phone))
    return out.getvalue()


def bench_import(url: str, text: str) -> float:
    """Rows imported per second through `import_loans_csv`, into a fresh book open at START."""
    built = _fresh(url)
    servicing.init_book(START, _products(), uow_factory=built.uow_factory)
    started = time.perf_counter()
    report = servicing.import_loans_csv(text, uow_factory=built.uow_factory, clock=built.clock)
    elapsed = time.perf_counter() - started
    built.engine.dispose()
    return report.loans / elapsed


def bench_bare_executemany(url: str, text: str) -> float:
    """The floor: the same rows' cells inserted as text by one executemany, one transaction."""
    header, *rows = list(csv.reader(io.StringIO(text)))
    engine = _fresh(url).engine  # opened as the measured book is (same pragmas)
    table = sa.Table(f"bench_{uuid.uuid4().hex[:8]}", sa.MetaData(),
                     sa.Column("id", sa.Integer, primary_key=True),
                     *(sa.Column(name, sa.Text) for name in header))
    table.create(engine)
    records = [dict(zip(header, row, strict=True)) for row in rows]
    started = time.perf_counter()
    with engine.begin() as connection:
        connection.execute(table.insert(), records)
    elapsed = time.perf_counter() - started
    table.drop(engine)
    engine.dispose()
    return len(rows) / elapsed


def bench_eod(url: str, loans: int) -> tuple[float, float, int]:
    """(book loans/s through the database, the same day in memory loans/s, loans worked) for
    one business date of the demo book after WARM_UP_DAYS of simulated payments and EOD."""
    built = _fresh(url)
    planned = demo.plan_book(loans, WARM_UP_DAYS, START, seed=7)
    demo.simulate(planned, START, WARM_UP_DAYS, _products(), uow_factory=built.uow_factory,
                  paying=SqlPaymentImportUnitOfWorkFactory(built.engine), clock=built.clock,
                  write_off_dpd=180)
    day = START + timedelta(days=WARM_UP_DAYS)
    with built.uow_factory() as uow:
        worked = uow.book.loans_needing_eod(day, 0, loans)
        booked = uow.book.get_many(worked)
    started = time.perf_counter()
    eod.run_eod(day, uow_factory=built.uow_factory, clock=built.clock)
    through_db = time.perf_counter() - started
    started = time.perf_counter()
    for one in booked:
        advance(one.loan, one.state, [], day)
    in_memory = time.perf_counter() - started
    built.engine.dispose()
    return loans / through_db, loans / in_memory, len(worked)


def _postgres_url() -> str | None:
    return os.environ.get("ARREARS_TEST_POSTGRES_URL")


def _pg_schema(base: str) -> tuple[str, Callable[[], None]]:
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(base)
    with admin.begin() as connection:
        connection.exec_driver_sql(f"CREATE SCHEMA {schema}")

    def drop() -> None:
        with admin.begin() as connection:
            connection.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()

    separator = "&" if "?" in base else "?"
    return f"{base}{separator}options=-csearch_path%3D{schema}", drop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loans", type=int, default=10_000, help="loans on the EOD book")
    parser.add_argument("--payments", type=int, default=3_000, help="payments to post")
    parser.add_argument("--import-rows", type=int, default=20_000, help="rows in the loans CSV")
    parser.add_argument("--import-days", type=int, default=1,
                        help="days the imported loans' disbursements spread over")
    parser.add_argument("--bulk-rows", type=int, default=100_000,
                        help="rows in the payment file")
    parser.add_argument("--bulk-loans", type=int, default=100_000,
                        help="loans the payment file's rows pay")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    args = parser.parse_args()
    figures: dict[str, Any] = {"loans": args.loans, "payments": args.payments,
                               "import_rows": args.import_rows, "import_days": args.import_days,
                               "bulk_rows": args.bulk_rows, "bulk_loans": args.bulk_loans,
                               "bulk_payments_per_s": {}, "bulk_payments_cpu_s": {},
                               "bulk_bare_inserts_per_s": {}}
    text = loans_csv(args.import_rows, args.import_days)
    with tempfile.TemporaryDirectory() as folder:
        sqlite = f"sqlite:///{Path(folder) / 'bench.db'}"
        figures["sqlite_payments_per_s"] = bench_payments(sqlite, args.payments)
        bare = f"sqlite:///{Path(folder) / 'bare.db'}"
        figures["sqlite_bare_inserts_per_s"] = bench_bare_inserts(bare, args.payments)
        eod_db, eod_memory, worked = bench_eod(f"sqlite:///{Path(folder) / 'eod.db'}",
                                               args.loans)
        figures["sqlite_import_rows_per_s"] = bench_import(
            f"sqlite:///{Path(folder) / 'import.db'}", text)
        figures["sqlite_bare_executemany_rows_per_s"] = bench_bare_executemany(
            f"sqlite:///{Path(folder) / 'bare_import.db'}", text)
        (figures["bulk_payments_per_s"]["sqlite"],
         figures["bulk_payments_cpu_s"]["sqlite"]) = bench_bulk_payments(
            f"sqlite:///{Path(folder) / 'bulk.db'}", args.bulk_rows, args.bulk_loans)
        figures["bulk_bare_inserts_per_s"]["sqlite"] = bench_bulk_bare_inserts(
            f"sqlite:///{Path(folder) / 'bulk_bare.db'}", args.bulk_rows)
    figures["sqlite_eod_loans_per_s"] = eod_db
    figures["in_memory_eod_loans_per_s"] = eod_memory
    figures["eod_loans_worked"] = worked
    base = _postgres_url()
    if base:
        url, drop = _pg_schema(base)
        try:
            figures["postgres_payments_per_s"] = bench_payments(url, args.payments)
            figures["postgres_bare_inserts_per_s"] = bench_bare_inserts(url, args.payments)
        finally:
            drop()
        url, drop = _pg_schema(base)
        try:
            figures["postgres_import_rows_per_s"] = bench_import(url, text)
            figures["postgres_bare_executemany_rows_per_s"] = bench_bare_executemany(url, text)
        finally:
            drop()
        url, drop = _pg_schema(base)
        try:
            (figures["bulk_payments_per_s"]["postgres"],
             figures["bulk_payments_cpu_s"]["postgres"]) = bench_bulk_payments(
                url, args.bulk_rows, args.bulk_loans)
            figures["bulk_bare_inserts_per_s"]["postgres"] = bench_bulk_bare_inserts(
                url, args.bulk_rows)
        finally:
            drop()
    if args.json:
        print(json.dumps(_rounded(figures), indent=2))
        return
    table = Table(title=f"Loan book ({args.loans:,} loans, {args.payments:,} payments)")
    for column in ("measure", "per second", "baseline", "ratio"):
        table.add_column(column, justify="right")
    table.add_row("payments posted (SQLite)", f"{figures['sqlite_payments_per_s']:,.0f}",
                  f"{figures['sqlite_bare_inserts_per_s']:,.0f} bare inserts",
                  f"{figures['sqlite_payments_per_s'] / figures['sqlite_bare_inserts_per_s']:.2f}")
    if "postgres_payments_per_s" in figures:
        posted, bare = figures["postgres_payments_per_s"], figures["postgres_bare_inserts_per_s"]
        table.add_row("payments posted (PostgreSQL)", f"{posted:,.0f}",
                      f"{bare:,.0f} bare inserts", f"{posted / bare:.2f}")
    table.add_row(f"EOD book loans/day (SQLite, {worked:,} worked)", f"{eod_db:,.0f}",
                  f"{eod_memory:,.0f} in memory", f"{eod_db / eod_memory:.2f}")
    for name, label in (("sqlite", "SQLite"), ("postgres", "PostgreSQL")):
        if f"{name}_import_rows_per_s" in figures:
            imported = figures[f"{name}_import_rows_per_s"]
            bare = figures[f"{name}_bare_executemany_rows_per_s"]
            table.add_row(f"CSV rows imported ({label}, {args.import_rows:,} rows)",
                          f"{imported:,.0f}", f"{bare:,.0f} bare executemany",
                          f"{imported / bare:.2f}")
    for name, label in (("sqlite", "SQLite"), ("postgres", "PostgreSQL")):
        if name in figures["bulk_payments_per_s"]:
            posted = figures["bulk_payments_per_s"][name]
            bare = figures["bulk_bare_inserts_per_s"][name]
            table.add_row(f"payment file rows posted ({label}, {args.bulk_rows:,} rows, "
                          f"{args.bulk_loans:,} loans)", f"{posted:,.0f}",
                          f"{bare:,.0f} bare inserts", f"{posted / bare:.2f}")
    Console().print(table)


def _rounded(figures: dict[str, Any]) -> dict[str, Any]:
    return {k: round(v, 1) if isinstance(v, float) else _rounded(v) if isinstance(v, dict)
            else v for k, v in figures.items()}


if __name__ == "__main__":
    main()
