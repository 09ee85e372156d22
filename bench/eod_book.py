"""End-of-day through a database: one business date of a large synthetic book, read, computed
and written back by the vectorised executor, against a bare read of the same state.

    ARREARS_TEST_POSTGRES_URL=postgresql+psycopg://… python bench/eod_book.py \
        [--loans 1000000] [--db URL] [--json]

The book (cash loans on the shipped `WLD-DAILY` product, 6 monthly installments, disbursed over
the five months before the date, ~15 % delinquent at every stage) is bulk-loaded in the run
(PostgreSQL COPY; SQLite executemany) in its own schema, which is dropped at the end. Printed:
EOD loans/s for the whole book (`run_eod` with the vectorised closer: candidate selection,
bulk read, kernel, routing, bulk write, the scalar path for the day's transitions), the bare
read of the candidates' state rows in rows/s, and the ratio.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import time
import uuid
from datetime import date, timedelta
from importlib import resources
from typing import Any

import numpy as np
import sqlalchemy as sa

from arrears import bootstrap
from arrears.adapters.db import tables as t
from arrears.adapters.db.columns import SqlColumnStore
from arrears.application.handlers import eod, servicing
from arrears.application.loan_file import parse_product
from arrears.batch.executor import BATCH_LOANS, vectorised_closer
from arrears.config import Settings
from arrears.domain.delinquency import bucket
from arrears.domain.schedule import build_schedule, due_dates

DAY = date(2026, 6, 15)
TERMS = 6
PRODUCT = "WLD-DAILY"
DELINQUENT_SHARE = 0.15
BORROWERS = 1_000
PRINCIPALS = tuple(range(200_000, 5_000_001, 200_000))


def _products() -> dict[str, Any]:
    return json.loads((resources.files("arrears") / "default_products.json").read_text())


def _schema_url(base: str) -> tuple[str, str]:
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    with sa.create_engine(base).begin() as connection:
        connection.exec_driver_sql(f"CREATE SCHEMA {schema}")
    separator = "&" if "?" in base else "?"
    return f"{base}{separator}options=-csearch_path%3D{schema}", schema


def synthetic_rows(loans: int, seed: int = 3) -> tuple[list[tuple], list[tuple]]:
    """(loan rows, installment rows) of the book at the end of DAY − 1."""
    rng = np.random.default_rng(seed)
    product = parse_product(_products()[PRODUCT])
    closed = DAY - timedelta(days=1)
    first, days = date(2026, 1, 1), 150
    templates = {}
    for principal in PRINCIPALS:
        rows = build_schedule(principal, product, first, TERMS)
        templates[principal] = [(r.principal, r.interest) for r in rows]
    schedules = {first + timedelta(days=k): due_dates(first + timedelta(days=k), TERMS)
                 for k in range(days)}
    disbursed = rng.integers(0, days, loans)
    principal = rng.choice(PRINCIPALS, loans)
    late = rng.random(loans) < DELINQUENT_SHARE
    late_from = rng.integers(0, TERMS, loans)
    loan_rows, installment_rows = [], []
    for index in range(loans):
        start = first + timedelta(days=int(disbursed[index]))
        dues = schedules[start]
        parts = templates[int(principal[index])]
        earliest = None
        for number, (due, (p, i)) in enumerate(zip(dues, parts, strict=True), start=1):
            unpaid = due > closed or (late[index] and number - 1 >= late_from[index])
            if unpaid and earliest is None:
                earliest = due
            overdue_days = (closed - due).days if unpaid and due <= closed else 0
            penalty = p * overdue_days * 6 if overdue_days > 0 else 0  # ≈ 0.0006 %/day
            installment_rows.append((
                index + 1, number, due, p, i, 0, 0 if unpaid else p, 0 if unpaid else i, 0,
                penalty, 0, 0, 0))
        dpd = max(0, (closed - earliest).days) if earliest is not None else 0
        loan_rows.append((
            index + 1, f"BL-{index + 1:08d}", index % BORROWERS + 1, PRODUCT, "CNY",
            int(principal[index]), start, TERMS, closed, "overdue" if dpd else "current", dpd,
            bucket(dpd).value, earliest, 0, 0, None))
    return loan_rows, installment_rows


LOAN_COLUMNS = ("id", "loan_ref", "borrower_id", "product_code", "currency", "principal",
                "disbursed_on", "terms", "state_on", "status", "dpd", "bucket",
                "earliest_unpaid_due_on", "prepaid_principal", "unapplied", "written_off_on")
INSTALLMENT_COLUMNS = ("loan_id", "number", "due_on", "principal", "interest", "fee",
                       "paid_principal", "paid_interest", "paid_fee", "penalty_accrued",
                       "penalty_paid", "compound_accrued", "compound_paid")


def load(built: bootstrap.Services, loans: int) -> None:
    servicing.init_book(DAY, _products(), uow_factory=built.uow_factory)
    loan_rows, installment_rows = synthetic_rows(loans)
    borrowers = [{"borrower_ref": f"BB-{n}", "name": "bench", "national_id": "x",
                  "time_zone": "Asia/Shanghai"} for n in range(1, BORROWERS + 1)]
    with built.engine.begin() as connection:
        connection.execute(t.borrower.insert(), borrowers)
        if connection.dialect.name == "postgresql":
            raw = connection.connection.driver_connection
            with raw.cursor() as cursor:
                for table, columns, rows in (("loan", LOAN_COLUMNS, loan_rows),
                                             ("installment", INSTALLMENT_COLUMNS,
                                              installment_rows)):
                    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                        for row in rows:
                            copy.write_row(row)
                cursor.execute("ANALYZE loan; ANALYZE installment")
        else:
            connection.execute(t.loan.insert(), [dict(zip(LOAN_COLUMNS, r, strict=True))
                                                 for r in loan_rows])
            connection.execute(t.installment.insert(),
                               [dict(zip(INSTALLMENT_COLUMNS, r, strict=True))
                                for r in installment_rows])


def bare_read(built: bootstrap.Services) -> float:
    """Rows/s for reading the candidates' state rows, nothing else (the floor)."""
    store = SqlColumnStore()
    with built.uow_factory() as uow:
        ids = uow.book.loans_needing_eod(DAY, 0, 10**9)
        started = time.perf_counter()
        state = store.read_state(uow, ids, DAY)
        elapsed = time.perf_counter() - started
    return state.columns["loan_key"].size / elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loans", type=int, default=1_000_000)
    parser.add_argument("--db", help="database URL (default: ARREARS_TEST_POSTGRES_URL)")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    args = parser.parse_args()
    base = args.db or os.environ.get("ARREARS_TEST_POSTGRES_URL")
    if not base:
        sys.stderr.write("error: --db: give a database URL or set ARREARS_TEST_POSTGRES_URL\n")
        return 2
    schema = None
    url = base
    if base.startswith("postgresql"):
        url, schema = _schema_url(base)
    built = bootstrap.build(Settings(database_url=url))
    try:
        built.migrate()
        started = time.perf_counter()
        load(built, args.loans)
        loaded = time.perf_counter() - started
        read_rows_per_s = bare_read(built)
        closer = vectorised_closer(SqlColumnStore(), write_off_dpd=180, clock=built.clock)
        started = time.perf_counter()
        report = eod.run_eod(DAY, uow_factory=built.uow_factory, clock=built.clock,
                             engine="vectorised", close_batch=closer, batch_size=BATCH_LOANS)
        elapsed = time.perf_counter() - started
    finally:
        built.engine.dispose()
        if schema:
            with sa.create_engine(base).begin() as connection:
                connection.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
    figures = {"loans": args.loans, "loans_worked": report.loans_processed,
               "eod_seconds": round(elapsed, 2), "eod_loans_per_s": round(args.loans / elapsed),
               "bare_read_rows_per_s": round(read_rows_per_s), "load_seconds": round(loaded, 1)}
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        out = io.StringIO()
        out.write(f"EOD of a {args.loans:,}-loan book ({report.loans_processed:,} worked): "
                  f"{figures['eod_loans_per_s']:,} loans/s in {elapsed:.2f} s\n")
        out.write(f"bare read of the worked loans' state rows: "
                  f"{figures['bare_read_rows_per_s']:,} rows/s\n")
        out.write(f"book loaded in {loaded:.1f} s (not timed above)\n")
        print(out.getvalue(), end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
