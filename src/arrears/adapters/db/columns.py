"""Columnar access to the book for the vectorised EOD: installment rows read in bulk as
integer columns (dates as day numbers computed by the database), the day's results written
back in bulk.

On PostgreSQL a batch is a dozen set-based statements whatever its size, and no value passes
through Python one row at a time (`pg_bulk`): one statement locks the batch's loans, the next
keeps their loan-level columns in a temporary table, from which they are read; one reads their
installment rows. The results go by binary COPY into two more temporary tables (one row per
loan, one per changed installment), from which one INSERT … SELECT each appends the ledger
entries (whose names and accounts the database spells out), the accrual rows and the
delinquency changes, and one UPDATE each writes the installments and the loans. SQLite uses
prepared statements with executemany.

Only loans not yet at the day are read, and a loan row is written back only if it is still at
the state date it was read at: a batch that finds otherwise raises `StaleWrite`, and its unit
of work rolls back everything the batch wrote."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import date
from typing import Any, cast

import numpy as np
import sqlalchemy as sa

from arrears.adapters.db import pg_bulk
from arrears.adapters.db import plan_tables as pt
from arrears.adapters.db import tables as t
from arrears.adapters.db.book import (
    PLAN_AMOUNT_COLUMNS,
    SqlLoanBook,
    _chunks,
    driver_dates,
    driver_rows,
    execute_rows,
    insert_rows,
    left_behind,
)
from arrears.application.handlers.eod import eod_entry
from arrears.application.ports import StaleWrite, UnitOfWork
from arrears.batch.columns import EPOCH, from_day_number
from arrears.batch.executor import (
    LEDGER_ACCOUNTS,
    LOAN_WRITE,
    PAID_WRITE,
    ROW_WRITE,
    AccrualWrite,
    StateColumns,
)
from arrears.batch.kernels import NEVER
from arrears.domain.delinquency import BUCKETS, LoanStatus

# The kernel's input columns: per installment row, then per loan (repeated on its rows).
ROW_COLUMNS = (("loan_key", np.int64), ("number", np.int16), ("due_on", np.int32),
               ("unpaid_principal", np.int64), ("unpaid_interest", np.int64),
               ("unpaid_fee", np.int64), ("penalty_accrued", np.int64),
               ("compound_accrued", np.int64), ("penalty_paid", np.int64),
               ("compound_paid", np.int64))
LOAN_COLUMNS = (("loan_key", np.int64), ("product", np.int16), ("prev_bucket", np.int8),
                ("written_off_on", np.int32), ("behind", np.int8), ("credit", np.int64),
                ("state_on", np.int32), ("planned", np.int8), ("due_since", np.int32),
                ("next_due_on", np.int32))
STATE_ON = [name for name, _ in LOAN_COLUMNS].index("state_on")
# Installment columns of what a payment paid, and the `PAID_WRITE` column adding to each.
PAID_COLUMNS = (("paid_fee", "paid_fee"), ("penalty_paid", "paid_penalty"),
                ("compound_paid", "paid_compound"), ("paid_interest", "paid_interest"),
                ("paid_principal", "paid_principal"))
WAIVED = tuple(name for what, _, name in PLAN_AMOUNT_COLUMNS if what == "waived")
BUCKET_NAMES = [b.value for b in BUCKETS]


def _under_plan(loan: sa.FromClause) -> sa.ColumnElement[bool]:
    """The loan holds a hardship plan: pauses, offers and re-aged rows are the domain's."""
    return sa.select(pt.plan.c.id).where(
        (pt.plan.c.loan_id == loan.c.id) & pt.plan.c.in_force).exists()


def _day_number(column: sa.ColumnElement[object], dialect: str) -> sa.ColumnElement[int]:
    if dialect == "sqlite":
        return sa.cast(sa.func.julianday(column) - 2440587.5, sa.Integer)
    return sa.cast(column - sa.cast(sa.literal(EPOCH.isoformat()), sa.Date), sa.Integer)


def _unpaid() -> sa.ColumnElement[bool]:
    i = t.installment.c
    return (i.principal > i.paid_principal) | (i.interest > i.paid_interest) | (i.fee > i.paid_fee)


def _row_values(dialect: str) -> tuple[sa.ColumnElement[Any], ...]:
    i = t.installment.c
    return (i.loan_id, i.number, _day_number(i.due_on, dialect), i.principal - i.paid_principal,
            i.interest - i.paid_interest, i.fee - i.paid_fee, i.penalty_accrued,
            i.compound_accrued, i.penalty_paid, i.compound_paid)


def _loan_values(loan: sa.FromClause, codes: tuple[str, ...], dialect: str
                 ) -> tuple[sa.ColumnElement[Any], ...]:
    """The loan-level columns (`LOAN_COLUMNS`) for the date in the parameter `day`."""
    c = loan.c
    i = t.installment.c
    on = sa.bindparam("day", type_=sa.Date)
    held = c.unapplied > 0  # what held credit meets, asked of the few loans holding any
    due_since = sa.select(sa.func.count()).where(
        (i.loan_id == c.id) & (i.due_on > c.state_on) & (i.due_on <= on)).scalar_subquery()
    next_due = sa.select(sa.func.min(i.due_on)).where(
        (i.loan_id == c.id) & (i.due_on > on) & _unpaid()).scalar_subquery()
    return (c.id, sa.case({code: i for i, code in enumerate(codes)}, value=c.product_code),
            sa.case({name: i for i, name in enumerate(BUCKET_NAMES)}, value=c.bucket),
            sa.func.coalesce(_day_number(c.written_off_on, dialect), NEVER),
            sa.case((left_behind(loan), 1), else_=0), c.unapplied, _day_number(c.state_on, dialect),
            sa.case((_under_plan(loan), 1), else_=0), sa.case((held, due_since), else_=0),
            sa.case((held, sa.func.coalesce(_day_number(next_due, dialect), NEVER)),
                    else_=NEVER))


def _bigints(columns: Sequence[sa.ColumnElement[Any]]) -> list[sa.ColumnElement[int]]:
    return [sa.cast(column, sa.BigInteger) for column in columns]


class SqlColumnStore:
    """`ColumnStore` on the SQL book."""

    def read_state(self, uow: UnitOfWork, ids: Sequence[int], day: date) -> StateColumns:
        """The rows that can change on `day`: installments due by then and not paid, of the
        loans not yet at `day`."""
        book = cast(SqlLoanBook, uow.book)
        connection = book.connection
        products = book.products()
        codes = tuple(sorted(products))
        if connection.dialect.name == "postgresql":
            loans, rows = _read_postgres(connection, list(ids), day, codes)
        else:
            loans, rows = _read_sqlite(connection, list(ids), day, codes)
        # Each row's loan; a loan already at the day is left out (another writer closed it).
        owner = np.searchsorted(loans[:, 0], rows[:, 0])
        keep = loans[owner, STATE_ON] < (day - EPOCH).days
        rows, owner = rows[keep], owner[keep]
        columns = {name: rows[:, index].astype(dtype)
                   for index, (name, dtype) in enumerate(ROW_COLUMNS)}
        for index, (name, dtype) in enumerate(LOAN_COLUMNS[1:], start=1):
            columns[name] = loans[owner, index].astype(dtype)
        return StateColumns(columns=columns, products=tuple(products[c] for c in codes),
                            product_codes=codes)

    def write_accruals(self, uow: UnitOfWork, write: AccrualWrite) -> None:
        connection = cast(SqlLoanBook, uow.book).connection
        if write.loan_ids.size == 0:
            return
        if connection.dialect.name == "postgresql":
            _write_postgres(connection, write)
        else:
            _write_sqlite(connection, write)

    def loan_refs(self, uow: UnitOfWork, ids: Sequence[int]) -> dict[int, str]:
        return _loan_refs(cast(SqlLoanBook, uow.book).connection, ids)


LOAN_REFS = sa.select(t.loan.c.id, t.loan.c.loan_ref).where(
    t.loan.c.id.in_(sa.bindparam("ids", expanding=True)))


def _loan_refs(connection: sa.Connection, ids: Sequence[int]) -> dict[int, str]:
    refs: dict[int, str] = {}
    for chunk in _chunks(list(ids)):
        refs.update(driver_rows(connection, LOAN_REFS, {"ids": chunk}))
    return refs


# --- PostgreSQL ------------------------------------------------------------------------------

BATCH_TABLE = "eod_batch"  # the batch's loans as read and locked, with their lender ids
LOANS_TABLE = "eod_loan_day"  # the write-back, one row per loan
ROWS_TABLE = "eod_accrued"  # the write-back, one row per changed installment
PAID_TABLE = "eod_paid"  # the write-back, one row per installment held credit paid towards
PAID_SET = ", ".join(f"{column} = i.{column} + s.{name}" for column, name in PAID_COLUMNS)
BATCH_COLUMNS = ("id bigint, loan_ref text, "
                 + ", ".join(f"{name} bigint" for name, _ in LOAN_COLUMNS[1:]))


def _make_temporary_tables(cursor: Any) -> None:
    """The batch's scratch tables, made once per session; a commit empties them."""
    for name, columns in ((BATCH_TABLE, BATCH_COLUMNS),
                          (LOANS_TABLE, pg_bulk.table_columns(LOAN_WRITE)),
                          (ROWS_TABLE, pg_bulk.table_columns(ROW_WRITE)),
                          (PAID_TABLE, pg_bulk.table_columns(PAID_WRITE))):
        cursor.execute(f"CREATE TEMP TABLE IF NOT EXISTS {name} ({columns}) ON COMMIT DELETE ROWS")


def _read_postgres(connection: sa.Connection, ids: list[int], day: date,
                   codes: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """(loan-level matrix, installment matrix), both by loan id. The loans' rows are locked
    first (a payment committing between this read and the write-back would otherwise be
    overwritten), then kept for the write-back in `BATCH_TABLE` by a statement of their own:
    a statement that waited for a lock sees the loan row its holder wrote, but answers its
    subqueries (a plan in force) from before the wait."""
    wanted = sa.bindparam("ids", value=ids, type_=sa.ARRAY(sa.BigInteger))
    c = t.loan.c
    # In id order, as every other writer that locks several loans takes them (`get_many`).
    lock = (sa.select(sa.func.count()).select_from(
        sa.select(c.id).where(c.id == sa.any_(wanted)).order_by(c.id)
        .with_for_update(key_share=True).subquery()).compile(dialect=connection.dialect))
    kept = (sa.select(c.id, c.loan_ref, *_loan_values(t.loan, codes, "postgresql")[1:])
            .where(c.id == sa.any_(wanted)).params(day=day)
            .compile(dialect=connection.dialect))
    i = t.installment.c
    rows = (sa.select(*_bigints(_row_values("postgresql")))
            .where((i.loan_id == sa.any_(wanted)) & (i.due_on <= sa.bindparam("day", day))
                   & _unpaid())
            .compile(dialect=connection.dialect))
    raw = connection.connection.driver_connection
    assert raw is not None
    with raw.cursor(binary=True) as cursor:
        # JIT compiling these plans costs more than running them; sorting a batch's ledger
        # rows needs more than the default memory. The write-back finds its rows by key among
        # the pages this read just brought into the cache: priced at the default cost of a
        # page read from disk, its lookups lose to a hash join that scans the whole
        # installment table on a book below a few hundred thousand loans (twice the
        # database time of a 200,000-loan book's end-of-day).
        cursor.execute("SET LOCAL jit = off")
        cursor.execute("SET LOCAL work_mem = '64MB'")
        cursor.execute("SET LOCAL random_page_cost = 1.1")
        _make_temporary_tables(cursor)
        cursor.execute(f"DELETE FROM {BATCH_TABLE}")
        cursor.execute(str(lock), lock.params)
        cursor.execute(f"INSERT INTO {BATCH_TABLE} {kept}", kept.params)
        loans = pg_bulk.bigint_rows(
            cursor, f"SELECT id, {', '.join(n for n, _ in LOAN_COLUMNS[1:])} FROM {BATCH_TABLE}",
            {}, len(LOAN_COLUMNS), order=(0,))
        names = [name for name, _ in ROW_COLUMNS]
        by_due_date = [names.index(name) for name in ("loan_key", "due_on", "number")]
        return loans, pg_bulk.bigint_rows(cursor, str(rows), rows.params, len(ROW_COLUMNS),
                                          order=by_due_date)


def _write_postgres(connection: sa.Connection, write: AccrualWrite) -> None:
    """The write-back in the batch's transaction (see the module docstring), which must have
    read the loans under lock (`BATCH_TABLE`): a loan that was not, or was read at another
    date, is refused first (`StaleWrite`), before any ledger row is appended. That check and
    the ledger's join with `BATCH_TABLE` are what keep a posting or accrual from naming a loan
    the book lacks: those tables carry no foreign key (the 2026-12-13 migration). The loan
    rows are written last, and only if still at the date read all the same."""
    day = write.day
    raw = connection.connection.driver_connection
    assert raw is not None
    epoch = f"DATE '{EPOCH.isoformat()}'"
    buckets = {"day": day, "buckets": BUCKET_NAMES}
    with raw.cursor() as cursor:
        _make_temporary_tables(cursor)
        # Emptied by a commit, and here too: nothing of an earlier write-back in the same
        # transaction may be appended again.
        cursor.execute(f"DELETE FROM {LOANS_TABLE}")
        cursor.execute(f"DELETE FROM {ROWS_TABLE}")
        cursor.execute(f"DELETE FROM {PAID_TABLE}")
        with cursor.copy(f"COPY {LOANS_TABLE} FROM STDIN (FORMAT BINARY)") as copy:
            copy.write(pg_bulk.copy_stream(write.loans))
        cursor.execute(f"SELECT count(*) FROM {LOANS_TABLE} AS s JOIN {BATCH_TABLE} AS b "
                       f"ON b.id = s.loan_id AND b.state_on = s.read_on")
        row = cursor.fetchone()
        _check_written(write, row[0] if row else 0)
        postings = ", ".join(f"({position}, '{account.value}', s.{account.value})"
                             for position, account in enumerate(LEDGER_ACCOUNTS))
        cursor.execute(
            f"INSERT INTO posting (entry, loan_id, business_date, account, amount) "
            f"SELECT %(prefix)s || b.loan_ref, s.loan_id, %(day)s, p.account, p.amount "
            f"FROM {LOANS_TABLE} AS s JOIN {BATCH_TABLE} AS b ON b.id = s.loan_id "
            f"CROSS JOIN LATERAL (VALUES {postings}) AS p(position, account, amount) "
            f"WHERE p.amount <> 0 ORDER BY s.loan_id, p.position",
            {"prefix": eod_entry(day, ""), "day": day})
        cursor.execute(
            f"INSERT INTO accrual (loan_id, business_date, penalty, compound) "
            f"SELECT s.loan_id, %(day)s, s.penalty_increment, s.compound_increment "
            f"FROM {LOANS_TABLE} AS s JOIN {BATCH_TABLE} AS b ON b.id = s.loan_id "
            f"WHERE s.penalty_increment <> 0 OR s.compound_increment <> 0 ORDER BY s.loan_id",
            {"day": day})
        cursor.execute(
            f"INSERT INTO delinquency_change (loan_id, business_date, from_bucket, to_bucket, "
            f"dpd) SELECT s.loan_id, %(day)s, (%(buckets)s::text[])[s.prev_bucket + 1], "
            f"(%(buckets)s::text[])[s.bucket + 1], s.dpd "
            f"FROM {LOANS_TABLE} AS s JOIN {BATCH_TABLE} AS b ON b.id = s.loan_id "
            f"WHERE s.bucket <> s.prev_bucket ORDER BY s.loan_id", buckets)
        if write.rows["loan_id"].size:
            with cursor.copy(f"COPY {ROWS_TABLE} FROM STDIN (FORMAT BINARY)") as copy:
                copy.write(pg_bulk.copy_stream(write.rows))
            cursor.execute(
                f"UPDATE installment AS i SET penalty_accrued = s.penalty_accrued, "
                f"compound_accrued = s.compound_accrued FROM {ROWS_TABLE} AS s "
                f"WHERE i.loan_id = s.loan_id AND i.number = s.number")
        if write.paid["loan_id"].size:
            with cursor.copy(f"COPY {PAID_TABLE} FROM STDIN (FORMAT BINARY)") as copy:
                copy.write(pg_bulk.copy_stream(write.paid))
            cursor.execute(
                f"UPDATE installment AS i SET {PAID_SET} "
                f"FROM {PAID_TABLE} AS s WHERE i.loan_id = s.loan_id AND i.number = s.number")
        since = f"{epoch} + s.overdue_since"
        cursor.execute(
            f"UPDATE loan AS l SET state_on = %(day)s, dpd = s.dpd, "
            f"bucket = (%(buckets)s::text[])[s.bucket + 1], status = CASE WHEN s.dpd > 0 "
            f"THEN '{LoanStatus.OVERDUE.value}' ELSE '{LoanStatus.CURRENT.value}' END, "
            # `track_delinquency`: kept from the first overdue day, ended once nothing is
            # overdue unless a plan forgave part of the loan (plans are the scalar path's).
            f"delinquent_since = CASE WHEN s.overdue_since <> {NEVER} "
            f"THEN LEAST(COALESCE(l.delinquent_since, {since}), {since}) "
            f"WHEN {' + '.join(f'l.{name}' for name in WAIVED)} = 0 THEN NULL "
            f"ELSE l.delinquent_since END, unapplied = l.unapplied - s.credit_applied, "
            f"earliest_unpaid_due_on = CASE WHEN s.earliest_unpaid <> {NEVER} "
            f"THEN {epoch} + s.earliest_unpaid ELSE l.earliest_unpaid_due_on END "
            f"FROM {LOANS_TABLE} AS s JOIN {BATCH_TABLE} AS b ON b.id = s.loan_id "
            f"WHERE l.id = s.loan_id AND l.state_on = {epoch} + s.read_on", buckets)
        _check_written(write, cursor.rowcount)


def _check_written(write: AccrualWrite, loans_written: int) -> None:
    if loans_written != write.loan_ids.size:
        raise StaleWrite(write.loan_ids.size, loans_written)


# --- SQLite ----------------------------------------------------------------------------------


@functools.lru_cache(maxsize=16)
def _sqlite_reads(codes: tuple[str, ...]) -> tuple[sa.Select[Any], sa.Select[Any]]:
    """The SQLite reads of a batch's loans and rows for the product codes `codes`, built once
    (building the statements cost more than running them for a book of a few thousand
    loans)."""
    i = t.installment.c
    loans_query = sa.select(*_loan_values(t.loan, codes, "sqlite")).where(
        t.loan.c.id.in_(sa.bindparam("ids", expanding=True))).order_by(t.loan.c.id)
    rows_query = (sa.select(*_row_values("sqlite"))
                  .where(i.loan_id.in_(sa.bindparam("ids", expanding=True))
                         & (i.due_on <= sa.bindparam("day")) & _unpaid())
                  .order_by(i.loan_id, i.due_on, i.number))
    return loans_query, rows_query


def _read_sqlite(connection: sa.Connection, ids: list[int], day: date, codes: tuple[str, ...]
                 ) -> tuple[np.ndarray, np.ndarray]:
    loans_query, rows_query = _sqlite_reads(codes)
    loans: list[tuple[int, ...]] = []
    rows: list[tuple[int, ...]] = []
    for chunk in _chunks(ids):
        loans.extend(driver_rows(connection, loans_query, {"ids": chunk, "day": day}))
        rows.extend(driver_rows(connection, rows_query, {"ids": chunk, "day": day}))
    return (np.array(loans, dtype=np.int64).reshape(len(loans), len(LOAN_COLUMNS)),
            np.array(rows, dtype=np.int64).reshape(len(rows), len(ROW_COLUMNS)))


def _sqlite_update_loan() -> sa.Update:
    loan = t.loan.c
    since = sa.bindparam("since", type_=sa.Date)
    # Literal SQL zeros: every parameter of the statement comes from the rows (`execute_many`).
    zero = sa.literal_column("0")
    waived = sum((loan[name] for name in WAIVED), zero)
    return t.loan.update().where(
        (loan.id == sa.bindparam("b_id")) & (loan.state_on == sa.bindparam("b_state_on"))
    ).values(state_on=sa.bindparam("day"), dpd=sa.bindparam("dpd"),
             unapplied=loan.unapplied - sa.bindparam("credit_applied"),
             earliest_unpaid_due_on=sa.func.coalesce(sa.bindparam("earliest", type_=sa.Date),
                                                     loan.earliest_unpaid_due_on),
             bucket=sa.bindparam("bucket"), status=sa.bindparam("status"),
             delinquent_since=sa.case(
                 (since.is_not(None), sa.func.min(sa.func.coalesce(loan.delinquent_since, since),
                                                  since)),
                 (waived == zero, sa.null()), else_=loan.delinquent_since))


UPDATE_LOAN_DAY = _sqlite_update_loan()
LOAN_DAY_KEYS = ("b_id", "b_state_on", "day", "dpd", "bucket", "status", "since",
                 "credit_applied", "earliest")
PAID_KEYS = ("b_loan_id", "b_number", *(name for _, name in PAID_COLUMNS))
UPDATE_PAID = t.installment.update().where(
    (t.installment.c.loan_id == sa.bindparam("b_loan_id"))
    & (t.installment.c.number == sa.bindparam("b_number"))
).values({column: t.installment.c[column] + sa.bindparam(name) for column, name in PAID_COLUMNS})
UPDATE_ACCRUED = t.installment.update().where(
    (t.installment.c.loan_id == sa.bindparam("b_loan_id"))
    & (t.installment.c.number == sa.bindparam("b_number"))
).values(penalty_accrued=sa.bindparam("p"), compound_accrued=sa.bindparam("c"))




def _write_sqlite(connection: sa.Connection, write: AccrualWrite) -> None:
    """The batch's rows as tuples already in the driver's form (`execute_rows`,
    `insert_rows`): statements compiled once, no dict and no bind processor a row
    (SQLAlchemy's per-row parameter handling was most of the write)."""
    day = write.day
    to_date = driver_dates(connection.dialect)
    dates: dict[int, Any] = {NEVER: None}

    def as_date(number: int) -> Any:
        if number not in dates:
            dates[number] = to_date(from_day_number(number))
        return dates[number]

    on = to_date(day)
    statuses = (LoanStatus.CURRENT.value, LoanStatus.OVERDUE.value)
    loans = {name: column.tolist() for name, column in write.loans.items()}
    _check_written(write, execute_rows(connection, UPDATE_LOAN_DAY, LOAN_DAY_KEYS, [
        (loan, as_date(read_on), on, dpd, BUCKET_NAMES[after], statuses[dpd > 0],
         as_date(since), applied, as_date(earliest))
        for loan, read_on, dpd, after, since, applied, earliest in zip(
            loans["loan_id"], loans["read_on"], loans["dpd"], loans["bucket"],
            loans["overdue_since"], loans["credit_applied"], loans["earliest_unpaid"],
            strict=True)]))
    paid = [column.tolist() for column in write.paid.values()]
    execute_rows(connection, UPDATE_PAID, PAID_KEYS, list(zip(*paid, strict=True)))
    rows = [write.rows[name].tolist() for name in ROW_WRITE]
    execute_rows(connection, UPDATE_ACCRUED, ("b_loan_id", "b_number", "p", "c"),
                 list(zip(*rows, strict=True)))
    ledger = write.ledger()
    refs = _loan_refs(connection, sorted({loan for loan, _, _ in ledger}))
    prefix = eod_entry(day, "")
    insert_rows(connection, t.posting, ("entry", "loan_id", "business_date", "account", "amount"),
                [(prefix + refs[loan], loan, on, account.value, amount)
                 for loan, account, amount in ledger])
    insert_rows(connection, t.accrual, ("loan_id", "business_date", "penalty", "compound"),
                [(loan, on, p, c) for loan, p, c in zip(
                    loans["loan_id"], loans["penalty_increment"], loans["compound_increment"],
                    strict=True) if p or c])
    insert_rows(connection, t.delinquency_change,
                ("loan_id", "business_date", "from_bucket", "to_bucket", "dpd"),
                [(loan, on, BUCKET_NAMES[before], BUCKET_NAMES[after], dpd)
                 for loan, before, after, dpd in zip(loans["loan_id"], loans["prev_bucket"],
                                                     loans["bucket"], loans["dpd"], strict=True)
                 if before != after])
