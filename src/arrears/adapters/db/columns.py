"""Columnar access to the book for the vectorised EOD: installment rows read in bulk as
integer columns (dates as day numbers computed by the database), accrual results written back
in bulk. On PostgreSQL the candidate ids go as one array parameter, and the results go through
COPY: new rows straight into their tables, updates into temporary tables applied by one
set-based UPDATE each (a row-at-a-time driver moves a few tens of thousands of rows a second,
COPY several hundred thousand). SQLite uses prepared statements with executemany.

Only loans not yet at the day are read, and a loan row is written back only if it is still at
the state date it was read at: a batch that finds otherwise raises `StaleWrite`, and its unit
of work rolls back everything the batch wrote."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any, cast

import numpy as np
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY

from arrears.adapters.db import plan_tables as pt
from arrears.adapters.db import tables as t
from arrears.adapters.db.book import SqlLoanBook, _chunks, left_behind
from arrears.application.ports import StaleWrite, UnitOfWork
from arrears.batch.columns import from_day_number
from arrears.batch.executor import AccrualWrite, StateColumns
from arrears.batch.kernels import NEVER
from arrears.domain.delinquency import BUCKETS

COLUMNS = (("loan_key", np.int64), ("number", np.int16), ("product", np.int16),
           ("due_on", np.int32), ("unpaid_principal", np.int64), ("unpaid_interest", np.int64),
           ("unpaid_fee", np.int64), ("penalty_accrued", np.int64),
           ("compound_accrued", np.int64), ("penalty_paid", np.int64),
           ("compound_paid", np.int64), ("prev_bucket", np.int8),
           ("written_off_on", np.int32), ("behind", np.int8), ("credit", np.int64),
           ("state_on", np.int32), ("planned", np.int8))

UPDATE_ACCRUED = t.installment.update().where(
    (t.installment.c.loan_id == sa.bindparam("b_loan_id"))
    & (t.installment.c.number == sa.bindparam("b_number"))
).values(penalty_accrued=sa.bindparam("p"), compound_accrued=sa.bindparam("c"))
UPDATE_LOAN_DAY = t.loan.update().where(
    (t.loan.c.id == sa.bindparam("b_id")) & (t.loan.c.state_on == sa.bindparam("b_state_on"))
).values(state_on=sa.bindparam("day"), dpd=sa.bindparam("dpd"))
INSERT_POSTING = t.posting.insert()
INSERT_ACCRUAL = t.accrual.insert()


def _under_plan() -> sa.ColumnElement[bool]:
    """The loan holds a hardship plan: pauses, offers and re-aged rows are the domain's."""
    return sa.select(pt.plan.c.id).where(
        (pt.plan.c.loan_id == t.loan.c.id) & pt.plan.c.in_force).exists()


def _day_number(column: sa.ColumnElement[object], dialect: str) -> sa.ColumnElement[int]:
    if dialect == "sqlite":
        return sa.cast(sa.func.julianday(column) - 2440587.5, sa.Integer)
    return sa.cast(column - sa.cast(sa.literal("1970-01-01"), sa.Date), sa.Integer)


class SqlColumnStore:
    """`ColumnStore` on the SQL book."""

    def read_state(self, uow: UnitOfWork, ids: Sequence[int], day: date) -> StateColumns:
        """The rows that can change on `day`: installments due by then and not paid."""
        book = cast(SqlLoanBook, uow.book)
        connection = book.connection
        products = book.products()
        codes = tuple(sorted(products))
        dialect = connection.dialect.name
        product_index = sa.case({code: i for i, code in enumerate(codes)},
                                value=t.loan.c.product_code)
        bucket_index = sa.case({b.value: i for i, b in enumerate(BUCKETS)},
                               value=t.loan.c.bucket)
        i = t.installment.c
        postgres = dialect == "postgresql"
        wanted: sa.ColumnElement[bool] = (
            i.loan_id == sa.any_(sa.bindparam("ids", type_=ARRAY(sa.BigInteger)))
            if postgres else i.loan_id.in_(sa.bindparam("ids", expanding=True)))
        selected = (
            i.loan_id, i.number, product_index, _day_number(i.due_on, dialect),
            i.principal - i.paid_principal, i.interest - i.paid_interest, i.fee - i.paid_fee,
            i.penalty_accrued, i.compound_accrued, i.penalty_paid, i.compound_paid,
            bucket_index, sa.func.coalesce(_day_number(t.loan.c.written_off_on, dialect), NEVER),
            sa.case((left_behind(), 1), else_=0), t.loan.c.unapplied,
            _day_number(t.loan.c.state_on, dialect), sa.case((_under_plan(), 1), else_=0))
        query = (
            sa.select(*(sa.cast(column, sa.BigInteger) for column in selected))
            .select_from(t.installment.join(t.loan, t.loan.c.id == i.loan_id))
            .where(wanted & i.due_on.__le__(sa.bindparam("day"))
                   & (t.loan.c.state_on < sa.bindparam("day"))
                   & ((i.principal > i.paid_principal) | (i.interest > i.paid_interest)
                      | (i.fee > i.paid_fee)))
            .order_by(i.loan_id, i.number))
        refs = sa.select(t.loan.c.id, t.loan.c.loan_ref).where(
            t.loan.c.id == sa.any_(sa.bindparam("ids", type_=ARRAY(sa.BigInteger))) if postgres
            else t.loan.c.id.in_(sa.bindparam("ids", expanding=True)))
        loan_refs: dict[int, str] = {}
        if postgres:
            # Lock the loans first: a payment committing between this read and the write-back
            # would otherwise be overwritten (SQLite's writer lock already serialises them).
            connection.execute(sa.select(t.loan.c.id).where(
                t.loan.c.id == sa.any_(sa.bindparam("ids", type_=ARRAY(sa.BigInteger))))
                .with_for_update(), {"ids": list(ids)})
            matrix = _copy_out(connection, query, {"ids": list(ids), "day": day})
            loan_refs.update(dict(connection.execute(refs, {"ids": list(ids)}).all()))
        else:
            rows: list[tuple[int, ...]] = []
            for chunk in _chunks(list(ids)):
                # Plain tuples: NumPy probing SQLAlchemy rows for array protocols costs more
                # than the query.
                rows.extend(map(tuple, connection.execute(query, {"ids": chunk, "day": day})))
                loan_refs.update(dict(connection.execute(refs, {"ids": chunk}).all()))
            matrix = np.array(rows, dtype=np.int64).reshape(len(rows), len(COLUMNS))
        columns = {name: matrix[:, index].astype(dtype)
                   for index, (name, dtype) in enumerate(COLUMNS)}
        return StateColumns(columns=columns, products=tuple(products[c] for c in codes),
                            product_codes=codes, loan_refs=loan_refs)

    def write_accruals(self, uow: UnitOfWork, write: AccrualWrite) -> None:
        connection = cast(SqlLoanBook, uow.book).connection
        if connection.dialect.name == "postgresql":
            _copy_accruals(connection, write)
            return
        day = write.day
        if write.loans:
            _check_written(write, connection.execute(UPDATE_LOAN_DAY, [
                {"b_id": loan, "b_state_on": from_day_number(read_on), "day": day, "dpd": dpd}
                for loan, dpd, read_on in write.loans]).rowcount)
        if write.installment_rows:
            connection.execute(UPDATE_ACCRUED, [
                {"b_loan_id": loan, "b_number": number, "p": p, "c": c}
                for loan, number, p, c in write.installment_rows])
        if write.postings:
            connection.execute(INSERT_POSTING, [
                {"entry": f"eod:{day.isoformat()}:{write.loan_refs[loan]}", "loan_id": loan,
                 "business_date": day, "account": account, "amount": amount}
                for loan, account, amount in write.postings])
        if write.accruals:
            connection.execute(INSERT_ACCRUAL, [
                {"loan_id": loan, "business_date": day, "penalty": p, "compound": c}
                for loan, p, c in write.accruals])


def _check_written(write: AccrualWrite, loans_written: int) -> None:
    if loans_written != len(write.loans):
        raise StaleWrite(len(write.loans), loans_written)


COPY_HEADER = 19  # "PGCOPY\n\377\r\n\0", flags and header-extension length
COPY_TRAILER = 2  # the int16 -1 after the last row


def _copy_out(connection: sa.Connection, query: sa.Select[Any], params: dict[str, Any]
              ) -> np.ndarray:
    """The rows of `query` (every column BIGINT, never null) as an int64 matrix, through
    binary COPY decoded by NumPy in one pass: each row is a field count, then a length and a
    big-endian value per column, so the whole body is one fixed-width record array."""
    compiled = query.compile(dialect=connection.dialect)
    values = {**compiled.params, **params}
    fields: list[tuple[str, str]] = [("count", ">i2")]
    for index in range(len(COLUMNS)):
        fields += [(f"length{index}", ">i4"), (f"value{index}", ">i8")]
    raw = connection.connection.driver_connection
    assert raw is not None
    with raw.cursor() as cursor, cursor.copy(
            f"COPY ({compiled}) TO STDOUT (FORMAT BINARY)", values) as copy:
        data = b"".join(bytes(block) for block in copy)
    records = np.frombuffer(data[COPY_HEADER:len(data) - COPY_TRAILER], dtype=np.dtype(fields))
    if records.size and (records["count"] != len(COLUMNS)).any():
        raise ValueError("unexpected row shape in the COPY stream")
    return np.column_stack([records[f"value{index}"].astype(np.int64)
                            for index in range(len(COLUMNS))]).reshape(-1, len(COLUMNS))


def _copy_accruals(connection: sa.Connection, write: AccrualWrite) -> None:
    """The PostgreSQL write path: COPY in the same transaction as the rest of the batch. The
    loan rows go first, so a stale write is refused before anything else is written."""
    day = write.day
    raw = connection.connection.driver_connection
    assert raw is not None
    with raw.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE IF NOT EXISTS eod_accrued (loan_id bigint, number int, "
            "penalty bigint, compound bigint) ON COMMIT DELETE ROWS;"
            "CREATE TEMP TABLE IF NOT EXISTS eod_loan_day (id bigint, dpd int, read_on date) "
            "ON COMMIT DELETE ROWS")
        _copy_rows(cursor, "COPY eod_loan_day FROM STDIN",
                   [(loan, dpd, from_day_number(read_on)) for loan, dpd, read_on in write.loans])
        if write.loans:
            cursor.execute(
                "UPDATE loan AS l SET state_on = %s, dpd = s.dpd FROM eod_loan_day AS s "
                "WHERE l.id = s.id AND l.state_on = s.read_on", (day,))
            _check_written(write, cursor.rowcount)
        _copy_rows(cursor, "COPY eod_accrued FROM STDIN", write.installment_rows)
        _copy_rows(cursor, "COPY posting (entry, loan_id, business_date, account, amount) "
                           "FROM STDIN",
                   [(f"eod:{day.isoformat()}:{write.loan_refs[loan]}", loan, day, account, amount)
                    for loan, account, amount in write.postings])
        _copy_rows(cursor, "COPY accrual (loan_id, business_date, penalty, compound) FROM STDIN",
                   [(loan, day, p, c) for loan, p, c in write.accruals])
        if write.installment_rows:
            cursor.execute(
                "UPDATE installment AS i SET penalty_accrued = s.penalty, "
                "compound_accrued = s.compound FROM eod_accrued AS s "
                "WHERE i.loan_id = s.loan_id AND i.number = s.number")


def _copy_rows(cursor: Any, statement: str, rows: Sequence[tuple[Any, ...]]) -> None:
    if rows:
        with cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(row)
