"""End-of-day on PostgreSQL: one business date of a large synthetic book, read, computed and
written back by the vectorised executor, against a bare read-and-write of the same data.

    ARREARS_TEST_POSTGRES_URL=postgresql+psycopg://… python bench/eod_book.py \
        [--loans 1000000] [--workers 2] [--wal-compression lz4] [--db URL] [--json]

The book (cash loans on the shipped `WLD-DAILY` product, 6 monthly installments, disbursed over
the five months before the date, ~15 % delinquent at every stage) is bulk-loaded in the run in
its own schema, which is dropped at the end, then vacuumed as a book at rest would be and
checkpointed (if the role may). Timed:

- EOD: `run_eod` with the vectorised closer over the whole book — candidate selection, locked
  bulk read, kernel, bulk write-back (installments, loans, ledger, accruals, delinquency
  changes, events) and the scalar path for the loans that need it. loans/s = book / seconds.
- baseline: the bare database work of the same data in one transaction, rolled back: read the
  worked loans' state rows (loan and installment columns, as `pg_bulk` reads them), write the
  same loan and installment columns back (binary COPY into temporary tables, one UPDATE each),
  and append the day's ledger and accrual rows (COPY of ready-made rows). loans/s = book /
  seconds.

Also printed: the write-ahead log the run wrote (on a default configuration most of it is
full-page images, the first change to each page after a checkpoint).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from importlib import resources
from typing import Any

import numpy as np
import sqlalchemy as sa

from arrears import bootstrap
from arrears.adapters.db import pg_bulk
from arrears.adapters.db import tables as t
from arrears.adapters.db.book import INSTALLMENT_AMOUNTS
from arrears.adapters.db.columns import SqlColumnStore
from arrears.application.handlers import eod, servicing
from arrears.application.loan_file import parse_product
from arrears.batch.columns import EPOCH, day_number
from arrears.batch.executor import BATCH_LOANS, POSTGRES_WORKERS, vectorised_closer
from arrears.config import Settings
from arrears.domain.delinquency import BUCKETS, DAYS_PER_BUCKET
from arrears.domain.schedule import build_schedule, due_dates

DAY = date(2026, 6, 15)
TERMS = 6
PRODUCT = "WLD-DAILY"
DELINQUENT_SHARE = 0.15
BORROWERS = 1_000
PRINCIPALS = tuple(range(200_000, 5_000_001, 200_000))
FIRST_DISBURSED, DISBURSAL_DAYS = date(2026, 1, 1), 150
PG_EPOCH = day_number(date(2000, 1, 1))  # binary COPY dates count days from 2000-01-01


def _products() -> dict[str, Any]:
    return json.loads((resources.files("arrears") / "default_products.json").read_text())


def _schema_url(base: str, wal_compression: str | None) -> tuple[str, str]:
    """A URL whose sessions work in a new schema (and compress the write-ahead log with
    `wal_compression`, if given), and the schema."""
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    with sa.create_engine(base).begin() as connection:
        connection.exec_driver_sql(f"CREATE SCHEMA {schema}")
    separator = "&" if "?" in base else "?"
    options = f"-csearch_path%3D{schema}"
    if wal_compression:
        options += f"%20-cwal_compression%3D{wal_compression}"
    return f"{base}{separator}options={options}", schema


def synthetic_book(loans: int, seed: int = 3) -> tuple[dict[str, np.ndarray],
                                                       dict[str, np.ndarray]]:
    """(loan columns, installment columns) of the book at the end of DAY − 1, dates as day
    numbers; loan ids are 1…loans."""
    rng = np.random.default_rng(seed)
    product = parse_product(_products()[PRODUCT])
    closed = day_number(DAY - timedelta(days=1))
    parts = np.array([[(r.principal, r.interest)
                       for r in build_schedule(p, product, FIRST_DISBURSED, TERMS)]
                      for p in PRINCIPALS], dtype=np.int64)  # [principal, number, (p, i)]
    dues = np.array([[day_number(d) for d in due_dates(FIRST_DISBURSED + timedelta(days=k),
                                                       TERMS)]
                     for k in range(DISBURSAL_DAYS)], dtype=np.int64)
    disbursed = rng.integers(0, DISBURSAL_DAYS, loans)
    principal = rng.choice(len(PRINCIPALS), loans)
    late = rng.random(loans) < DELINQUENT_SHARE
    late_from = rng.integers(0, TERMS, loans)
    number = np.arange(TERMS)
    due = dues[disbursed]  # [loan, number]
    unpaid = (due > closed) | (late[:, None] & (number[None, :] >= late_from[:, None]))
    amounts = parts[principal]  # [loan, number, 2]
    overdue_days = np.where(unpaid & (due <= closed), closed - due, 0)
    never = np.iinfo(np.int64).max
    earliest = np.where(unpaid, due, never).min(axis=1)
    dpd = np.where(earliest == never, 0, np.maximum(0, closed - earliest))
    installments = {name: np.zeros(loans * TERMS, dtype=np.int64) for name in INSTALLMENT_AMOUNTS}
    installments.update(
        principal=amounts[:, :, 0].ravel(), interest=amounts[:, :, 1].ravel(),
        paid_principal=np.where(unpaid, 0, amounts[:, :, 0]).ravel(),
        paid_interest=np.where(unpaid, 0, amounts[:, :, 1]).ravel(),
        penalty_accrued=(amounts[:, :, 0] * overdue_days * 6).ravel())  # ≈ 0.0006 %/day
    installments = {"loan_id": np.repeat(np.arange(1, loans + 1), TERMS),
                    "number": np.tile(number + 1, loans).astype(np.int32),
                    "due_on": due.ravel().astype(np.int32), **installments}
    loan = {"id": np.arange(1, loans + 1, dtype=np.int64),
            "borrower_id": np.arange(loans, dtype=np.int64) % BORROWERS + 1,
            "principal": np.array(PRINCIPALS, dtype=np.int64)[principal],
            "disbursed_on": (day_number(FIRST_DISBURSED) + disbursed).astype(np.int32),
            "dpd": dpd.astype(np.int32),
            "bucket": np.minimum((dpd + DAYS_PER_BUCKET - 1) // DAYS_PER_BUCKET,
                                 len(BUCKETS) - 1).astype(np.int16),
            "earliest": np.where(earliest == never, -1, earliest).astype(np.int32)}
    return loan, installments


@contextmanager
def _without_foreign_keys(cursor: Any, tables: tuple[sa.Table, ...]) -> Iterator[None]:
    """Bulk-load `tables` with their foreign keys dropped, then add them back (checked in one
    pass each rather than row by row): the same schema, loaded in a fraction of the time."""
    keys = [key for table in tables for key in table.foreign_key_constraints]
    dialect = sa.dialects.postgresql.dialect()
    for key in keys:
        cursor.execute(str(sa.schema.DropConstraint(key).compile(dialect=dialect)))
    yield
    for key in keys:
        cursor.execute(str(sa.schema.AddConstraint(key).compile(dialect=dialect)))


def load(built: bootstrap.Services, loans: int) -> None:
    servicing.init_book(DAY, _products(), uow_factory=built.uow_factory)
    loan, installments = synthetic_book(loans)
    with built.engine.begin() as connection:
        connection.execute(t.borrower.insert(), [
            {"borrower_ref": f"BB-{n}", "name": "bench", "national_id": "x",
             "time_zone": "Asia/Shanghai"} for n in range(1, BORROWERS + 1)])
        raw = connection.connection.driver_connection
        assert raw is not None
        dates = {"due_on"}
        wire = {name: column - PG_EPOCH if name in dates else column
                for name, column in installments.items()}
        with raw.cursor() as cursor, _without_foreign_keys(cursor, (t.loan, t.installment)):
            staged = pg_bulk.table_columns({name: column.dtype for name, column in loan.items()})
            cursor.execute(f"CREATE TEMP TABLE bench_loan ({staged})")
            with cursor.copy("COPY bench_loan FROM STDIN (FORMAT BINARY)") as copy:
                copy.write(pg_bulk.copy_stream(loan))
            epoch = f"DATE '{EPOCH.isoformat()}'"
            cursor.execute(
                f"INSERT INTO loan (id, loan_ref, borrower_id, product_code, currency, principal, "
                f"disbursed_on, terms, state_on, status, dpd, bucket, earliest_unpaid_due_on) "
                f"SELECT id, 'BL-' || lpad(id::text, 8, '0'), borrower_id, %(product)s, 'CNY', "
                f"principal, {epoch} + disbursed_on, %(terms)s, %(closed)s, CASE WHEN dpd > 0 "
                f"THEN 'overdue' ELSE 'current' END, dpd, (%(buckets)s::text[])[bucket + 1], "
                f"CASE WHEN earliest >= 0 THEN {epoch} + earliest END FROM bench_loan",
                {"product": PRODUCT, "terms": TERMS, "closed": DAY - timedelta(days=1),
                 "buckets": [b.value for b in BUCKETS]})
            cursor.execute(f"SELECT setval('loan_id_seq', {loans})")
            with cursor.copy(f"COPY installment ({', '.join(wire)}) FROM STDIN (FORMAT BINARY)"
                             ) as copy:
                copy.write(pg_bulk.copy_stream(wire))
    with built.engine.connect() as connection:
        quiet = connection.execution_options(isolation_level="AUTOCOMMIT")
        quiet.exec_driver_sql("VACUUM (ANALYZE) loan, installment, borrower")
        try:  # written out now, the load does not compete with the timed run for the disk
            quiet.exec_driver_sql("CHECKPOINT")
        except sa.exc.ProgrammingError:  # not allowed to this role: the run pays for it
            pass


def run_eod(built: bootstrap.Services, workers: int) -> tuple[float, int, float]:
    """(seconds, loans worked, megabytes of write-ahead log written)."""
    closer = vectorised_closer(SqlColumnStore(), write_off_dpd=180, clock=built.clock)
    with built.engine.connect() as connection:
        before = connection.scalar(sa.text("SELECT pg_current_wal_lsn()"))
    started = time.perf_counter()
    report = eod.run_eod(DAY, uow_factory=built.uow_factory, clock=built.clock,
                         engine="vectorised", close_batch=closer, batch_size=BATCH_LOANS,
                         workers=workers)
    elapsed = time.perf_counter() - started
    with built.engine.connect() as connection:
        wal = connection.scalar(sa.text("SELECT pg_current_wal_lsn() - CAST(:before AS pg_lsn)"),
                                {"before": str(before)})
    return elapsed, report.loans_processed, float(wal) / 1e6


def _copied(cursor: Any, query: str) -> bytes:
    with cursor.copy(f"COPY ({query}) TO STDOUT", {"day": DAY}) as copy:
        return b"".join(bytes(block) for block in copy)


def bare_read_and_write(built: bootstrap.Services, ids: list[int]) -> float:
    """Seconds for the database work of the same day with no logic (see the module docstring),
    in a transaction that is rolled back."""
    with built.engine.connect() as connection:
        raw = connection.connection.driver_connection
        assert raw is not None
        with raw.cursor(binary=True) as cursor:
            # The day's ledger and accrual rows, dated a day later (an accrual's key is its
            # loan and date).
            ledger = _copied(cursor, "SELECT entry, loan_id, business_date + 1, account, "
                                     "amount FROM posting WHERE business_date = %(day)s")
            accruals = _copied(cursor, "SELECT loan_id, business_date + 1, penalty, compound "
                                       "FROM accrual WHERE business_date = %(day)s")
            cursor.execute("SET jit = off")
            started = time.perf_counter()
            params = {"ids": ids, "day": DAY}
            loans = pg_bulk.bigint_rows(
                cursor, "SELECT id, dpd::int8, (state_on - DATE '2000-01-01')::int8, unapplied, "
                        "COALESCE(written_off_on - DATE '2000-01-01', -1)::int8 "
                        "FROM loan WHERE id = ANY(%(ids)s)", params, 5, order=(0,))
            rows = pg_bulk.bigint_rows(
                cursor, "SELECT loan_id, number::int8, (due_on - DATE '2000-01-01')::int8, "
                        "principal, interest, fee, paid_principal, paid_interest, paid_fee, "
                        "penalty_accrued, compound_accrued, penalty_paid, compound_paid "
                        "FROM installment WHERE loan_id = ANY(%(ids)s) AND due_on <= %(day)s "
                        "AND (principal > paid_principal OR interest > paid_interest "
                        "OR fee > paid_fee)", params, 13, order=(0, 2, 1))
            loan_back = {"id": loans[:, 0], "dpd": loans[:, 1].astype(np.int32)}
            row_back = {"loan_id": rows[:, 0], "number": rows[:, 1].astype(np.int32),
                        "penalty_accrued": rows[:, 9], "compound_accrued": rows[:, 10]}
            for table, columns in (("bare_loan", loan_back), ("bare_row", row_back)):
                kinds = pg_bulk.table_columns({k: v.dtype for k, v in columns.items()})
                cursor.execute(f"CREATE TEMP TABLE {table} ({kinds})")
                with cursor.copy(f"COPY {table} FROM STDIN (FORMAT BINARY)") as copy:
                    copy.write(pg_bulk.copy_stream(columns))
            cursor.execute("UPDATE loan AS l SET state_on = %(day)s, dpd = s.dpd "
                           "FROM bare_loan AS s WHERE l.id = s.id", params)
            cursor.execute("UPDATE installment AS i SET penalty_accrued = s.penalty_accrued, "
                           "compound_accrued = s.compound_accrued FROM bare_row AS s "
                           "WHERE i.loan_id = s.loan_id AND i.number = s.number")
            for statement, payload in (
                    ("COPY posting (entry, loan_id, business_date, account, amount) FROM STDIN",
                     ledger),
                    ("COPY accrual (loan_id, business_date, penalty, compound) FROM STDIN",
                     accruals)):
                with cursor.copy(statement) as copy:
                    copy.write(payload)
            elapsed = time.perf_counter() - started
        connection.rollback()
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loans", type=int, default=1_000_000)
    parser.add_argument("--db", help="PostgreSQL URL (default: ARREARS_TEST_POSTGRES_URL)")
    parser.add_argument("--workers", type=int, default=POSTGRES_WORKERS,
                        help="batches closed at once (default: as `arrears eod` on PostgreSQL)")
    parser.add_argument("--wal-compression", choices=("pglz", "lz4", "zstd"),
                        help="compress the write-ahead log in the bench's sessions (needs a "
                             "superuser; default: the server's setting)")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    args = parser.parse_args()
    base = args.db or os.environ.get("ARREARS_TEST_POSTGRES_URL")
    if not base or not base.startswith("postgresql"):
        sys.stderr.write("error: --db: give a PostgreSQL URL or set ARREARS_TEST_POSTGRES_URL\n")
        return 2
    if args.loans < 1:
        sys.stderr.write("error: --loans: must be at least 1\n")
        return 2
    url, schema = _schema_url(base, args.wal_compression)
    built = bootstrap.build(Settings(database_url=url))
    try:
        built.migrate()
        started = time.perf_counter()
        load(built, args.loans)
        loaded = time.perf_counter() - started
        with built.uow_factory() as uow:
            ids = uow.book.loans_needing_eod(DAY, 0, args.loans)
        elapsed, worked, wal = run_eod(built, args.workers)
        bare = bare_read_and_write(built, ids)
    finally:
        built.engine.dispose()
        with sa.create_engine(base).begin() as connection:
            connection.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
    figures = {"loans": args.loans, "loans_per_s": round(args.loans / elapsed),
               "baseline_loans_per_s": round(args.loans / bare),
               "ratio": round(bare / elapsed, 2), "loans_worked": worked,
               "eod_seconds": round(elapsed, 2), "baseline_seconds": round(bare, 2),
               "workers": args.workers, "wal_mb": round(wal),
               "wal_compression": args.wal_compression or "server setting",
               "load_seconds": round(loaded, 1), "load_average": round(os.getloadavg()[0], 1)}
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        out = io.StringIO()
        out.write(f"EOD of a {args.loans:,}-loan book ({worked:,} worked, {args.workers} "
                  f"batches at once): {figures['loans_per_s']:,} loans/s in {elapsed:.2f} s, "
                  f"{figures['wal_mb']:,} MB of write-ahead log\n")
        out.write(f"bare read-and-write of the same data: {figures['baseline_loans_per_s']:,} "
                  f"loans/s in {bare:.2f} s; ratio {figures['ratio']:.2f}\n")
        out.write(f"book loaded in {loaded:.1f} s (not timed above); load average "
                  f"{figures['load_average']}\n")
        print(out.getvalue(), end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
