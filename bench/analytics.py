"""Portfolio analytics over a large synthetic book, against a bare scan of the same columns.

    python bench/analytics.py [--loans 1000000] [--repeat 3] [--json]

The book is generated directly as rows (numpy, then bulk inserts through the driver into a
migrated SQLite file in a temporary folder, removed at the end): loans disbursed evenly over
the 18 months before 2026-06-30, six monthly installments; four in five pay each month on time
(a payment per installment, settled after the sixth), one in five falls behind at a random
installment, and of those half cure within the month while the rest roll M1 → M2 … and are
written off at 180 days past due, with a recovery payment for one in four of them.

Timed, best of `--repeat`, in the same run on the same connection: `arrears report
analytics` without charts (`analytics_store.report`: bulk column reads, array kernels, SQL
aggregates, the document), and a bare scan — the same columns of the same rows (loans,
bucket changes, principal payments) fetched and discarded. Printed: both times, loans per
second, and their ratio.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import sqlalchemy as sa

from arrears import bootstrap
from arrears.adapters.db.analytics_store import report
from arrears.config import Settings
from arrears.domain.delinquency import BUCKETS

AS_OF = date(2026, 6, 30)
MONTHS = 18
TERMS = 6
BORROWERS = 1_000
LATE_SHARE = 0.2
CURE_SHARE = 0.5
RECOVERY_SHARE = 0.25
SEED = 2026
ZONE = "Asia/Shanghai"
BARE_SCAN = (
    "SELECT id, disbursed_on, written_off_on, principal, status, state_on FROM loan "
    "WHERE disbursed_on <= :as_of",
    "SELECT loan_id, business_date, from_bucket, to_bucket FROM delinquency_change "
    "WHERE business_date <= :as_of",
    "SELECT loan_id, paid_on, to_principal FROM payment WHERE to_principal != 0",
)


def _dates(days: np.ndarray) -> list[str]:
    return np.datetime_as_string(days.astype("datetime64[D]")).tolist()


def _insert(db: sqlite3.Connection, sql: str, rows: Iterable[tuple[Any, ...]]) -> None:
    db.executemany(sql, rows)


def generate(path: Path, loans: int) -> dict[str, int]:
    """Write the synthetic book into the migrated SQLite file; row counts per table."""
    rng = np.random.default_rng(SEED)
    as_of = int(np.datetime64(AS_OF.isoformat(), "D").astype(np.int64))
    first = as_of - 30 * MONTHS
    disbursed = rng.integers(first, as_of - 1, loans)
    principal = rng.integers(100, 5_000, loans) * 1_000
    ids = np.arange(1, loans + 1)
    installment = principal // TERMS
    # Installment k falls due 30·k days after disbursement (a month, near enough here).
    due = disbursed[:, None] + 30 * np.arange(1, TERMS + 1)[None, :]
    late = rng.random(loans) < LATE_SHARE
    late_at = np.where(late, rng.integers(0, TERMS, loans), TERMS)  # the first missed one
    cures = late & (rng.random(loans) < CURE_SHARE)
    paid = (np.arange(TERMS)[None, :] < late_at[:, None]) & (due <= as_of)
    cure_day = due[ids - 1, np.minimum(late_at, TERMS - 1)] + rng.integers(3, 28, loans)
    cured = cures & (cure_day <= as_of)
    # A defaulter's buckets: M1 the day after the missed due date, one more every 30 days.
    missed = due[ids - 1, np.minimum(late_at, TERMS - 1)]
    written_off_on = np.where(late & ~cures & (missed + 180 <= as_of), missed + 180, -1)
    settled = (paid.sum(axis=1) == TERMS) & ~late
    status = np.where(written_off_on >= 0, "written_off",
                      np.where(settled, "settled", np.where(late & ~cured & (missed < as_of),
                                                            "overdue", "current")))
    counts: dict[str, int] = {}
    db = sqlite3.connect(path)
    try:
        db.execute("PRAGMA synchronous = OFF")
        db.execute("INSERT INTO business_day (id, closed_through) VALUES (1, ?)",
                   (AS_OF.isoformat(),))
        db.execute("INSERT INTO product (code, definition) VALUES ('WLD-DAILY', '{}')")
        _insert(db, "INSERT INTO borrower (id, borrower_ref, name, national_id, time_zone) "
                    "VALUES (?, ?, 'n', 'x', ?)",
                ((b, f"B{b}", ZONE) for b in range(1, BORROWERS + 1)))
        days = _dates(disbursed)
        written = [d if w >= 0 else None for d, w in zip(
            _dates(np.maximum(written_off_on, 0)), written_off_on.tolist(), strict=True)]
        _insert(db, "INSERT INTO loan (id, loan_ref, borrower_id, product_code, currency, "
                    "principal, disbursed_on, terms, state_on, status, written_off_on) "
                    "VALUES (?, ?, ?, 'WLD-DAILY', 'CNY', ?, ?, ?, ?, ?, ?)",
                zip(ids.tolist(), (f"L{i}" for i in ids.tolist()),
                    (ids % BORROWERS + 1).tolist(), principal.tolist(), days,
                    [TERMS] * loans, [AS_OF.isoformat()] * loans, status.tolist(), written,
                    strict=True))
        counts["loan"] = loans
        counts["payment"] = _payments(db, rng, ids, due, paid, installment, cured, cure_day,
                                      written_off_on, as_of)
        counts["delinquency_change"] = _changes(db, ids, late, cured, cure_day, missed, as_of)
        wrote_off = written_off_on >= 0
        _insert(db, "INSERT INTO posting (entry, loan_id, business_date, account, amount) "
                    "VALUES (?, ?, ?, 'write_off_expense', ?)",
                zip((f"eod:{i}" for i in ids[wrote_off].tolist()), ids[wrote_off].tolist(),
                    _dates(written_off_on[wrote_off]),
                    (principal - installment * late_at)[wrote_off].tolist(), strict=True))
        counts["posting"] = int(wrote_off.sum())
        db.commit()
    finally:
        db.close()
    return counts


def _payments(db: sqlite3.Connection, rng: np.random.Generator, ids: np.ndarray,
              due: np.ndarray, paid: np.ndarray, installment: np.ndarray, cured: np.ndarray,
              cure_day: np.ndarray, written_off_on: np.ndarray, as_of: int) -> int:
    loan_rows, number = np.nonzero(paid)
    loan_id = ids[loan_rows]
    day = due[loan_rows, number]
    amount = installment[loan_rows]
    # A cure pays the missed installment; one in four written-off loans repays a part later.
    recovered = (written_off_on >= 0) & (rng.random(len(ids)) < RECOVERY_SHARE)
    recovery_day = np.minimum(written_off_on + rng.integers(5, 60, len(ids)), as_of)
    loan_id = np.concatenate([loan_id, ids[cured], ids[recovered]])
    day = np.concatenate([day, cure_day[cured], recovery_day[recovered]])
    amount = np.concatenate([amount, installment[cured], installment[recovered] // 2])
    keys = (f"k{i}" for i in range(len(loan_id)))
    _insert(db, "INSERT INTO payment (loan_id, idempotency_key, paid_on, amount, to_fee, "
                "to_penalty, to_compound, to_interest, to_principal, to_credit, recorded_at) "
                "VALUES (?, ?, ?, ?, 0, 0, 0, 0, ?, 0, '2026-06-30 00:00:00')",
            zip(loan_id.tolist(), keys, _dates(day), amount.tolist(), amount.tolist(),
                strict=True))
    return len(loan_id)


def _changes(db: sqlite3.Connection, ids: np.ndarray, late: np.ndarray, cured: np.ndarray,
             cure_day: np.ndarray, missed: np.ndarray, as_of: int) -> int:
    rows: list[tuple[int, str, str, str, int]] = []
    names = [b.value for b in BUCKETS]
    started = late & (missed + 1 <= as_of)
    for step in range(6):  # into M1 … M6: one change every 30 days until 180 days past due
        day = missed + 1 + 30 * step
        moving = started & ~cured & (day <= as_of) if step else started
        rows.extend(zip(ids[moving].tolist(), _dates(day[moving]), [names[step]] * int(
            moving.sum()), [names[step + 1]] * int(moving.sum()),
            [1 + 30 * step] * int(moving.sum()), strict=True))
    back = cured & started
    rows.extend(zip(ids[back].tolist(), _dates(cure_day[back]), ["M1"] * int(back.sum()),
                    ["C"] * int(back.sum()), [0] * int(back.sum()), strict=True))
    rows.sort(key=lambda r: (r[1], r[0]))  # in business-date order, as end-of-day writes them
    _insert(db, "INSERT INTO delinquency_change (loan_id, business_date, from_bucket, "
                "to_bucket, dpd) VALUES (?, ?, ?, ?, ?)", rows)
    return len(rows)


def _raw_rows(connection: sa.Connection, sql: str) -> list[Any]:
    """The rows as the driver returns them (no SQLAlchemy row per result row), as the
    analytics reads its columns."""
    result = connection.execute(sa.text(sql), {"as_of": AS_OF})
    try:
        return result.cursor.fetchall() if result.cursor is not None else []
    finally:
        result.close()


def best(repeat: int, work: Callable[[], Any]) -> tuple[float, float, Any]:
    """(best wall seconds, best CPU seconds of this process, the last result). The machines
    are shared, so CPU time is the steadier of the two."""
    walls, cpus, result = [], [], None
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        result = work()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return min(walls), min(cpus), result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loans", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    args = parser.parse_args()
    if not 1 <= args.loans <= 10_000_000:
        sys.stderr.write("error: --loans: must be from 1 to 10,000,000\n")
        return 2
    if not 1 <= args.repeat <= 20:
        sys.stderr.write("error: --repeat: must be from 1 to 20\n")
        return 2
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "book.db"
        built = bootstrap.build(Settings(database_url=f"sqlite:///{path}"))
        try:
            built.migrate()
            built.engine.dispose()
            started = time.perf_counter()
            rows = generate(path, args.loans)
            generated = time.perf_counter() - started
            with built.engine.connect() as connection:
                def scan() -> int:
                    return sum(len(_raw_rows(connection, sql)) for sql in BARE_SCAN)

                def analytics() -> dict[str, Any]:
                    return report(connection, None, ZONE)

                scan_seconds, scan_cpu, scanned = best(args.repeat, scan)
                report_seconds, report_cpu, document = best(args.repeat, analytics)
        finally:
            built.engine.dispose()
    figures = {
        "loans": args.loans, "rows": rows, "rows_scanned": scanned,
        "generate_seconds": round(generated, 1),
        "analytics_seconds": round(report_seconds, 3),
        "bare_scan_seconds": round(scan_seconds, 3),
        "analytics_cpu_seconds": round(report_cpu, 3),
        "bare_scan_cpu_seconds": round(scan_cpu, 3),
        "analytics_loans_per_s": round(args.loans / report_seconds),
        "ratio_to_bare_scan": round(report_seconds / scan_seconds, 2),
        "cpu_ratio_to_bare_scan": round(report_cpu / scan_cpu, 2),
        "month_ends": len(document["month_ends"]), "vintages": len(document["vintages"]),
    }
    if args.json:
        print(json.dumps(figures, indent=2))
        return 0
    print(f"portfolio analytics of a {args.loans:,}-loan book ({sum(rows.values()):,} rows, "
          f"{figures['month_ends']} month ends, {figures['vintages']} vintages), best of "
          f"{args.repeat}:")
    print(f"  analytics  {report_seconds:8.3f} s wall, {report_cpu:7.3f} s CPU  "
          f"({figures['analytics_loans_per_s']:,} loans/s)")
    print(f"  bare scan  {scan_seconds:8.3f} s wall, {scan_cpu:7.3f} s CPU  ({scanned:,} rows "
          f"of the same columns)")
    print(f"  ratio      {figures['ratio_to_bare_scan']:8.2f} × wall, "
          f"{figures['cpu_ratio_to_bare_scan']:7.2f} × CPU")
    print(f"book generated in {generated:.1f} s (not timed above)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
