"""Columnar access to the book for the vectorised EOD: installment rows read in bulk as
integer columns (dates as day numbers computed by the database), accrual results written back
with one prepared statement per table."""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

import numpy as np
import sqlalchemy as sa

from arrears.adapters.db import tables as t
from arrears.adapters.db.book import SqlLoanBook, _chunks
from arrears.application.ports import UnitOfWork
from arrears.batch.executor import AccrualWrite, StateColumns
from arrears.batch.kernels import NEVER
from arrears.domain.delinquency import BUCKETS

COLUMNS = (("loan_key", np.int64), ("number", np.int16), ("product", np.int16),
           ("due_on", np.int32), ("unpaid_principal", np.int64), ("unpaid_interest", np.int64),
           ("unpaid_fee", np.int64), ("penalty_accrued", np.int64),
           ("compound_accrued", np.int64), ("penalty_paid", np.int64),
           ("compound_paid", np.int64), ("prev_bucket", np.int8),
           ("written_off_on", np.int32), ("state_on", np.int32))

UPDATE_ACCRUED = t.installment.update().where(
    (t.installment.c.loan_id == sa.bindparam("b_loan_id"))
    & (t.installment.c.number == sa.bindparam("b_number"))
).values(penalty_accrued=sa.bindparam("p"), compound_accrued=sa.bindparam("c"))
UPDATE_LOAN_DAY = t.loan.update().where(t.loan.c.id == sa.bindparam("b_id")).values(
    state_on=sa.bindparam("day"), dpd=sa.bindparam("dpd"))
INSERT_POSTING = t.posting.insert()
INSERT_ACCRUAL = t.accrual.insert()


def _day_number(column: sa.ColumnElement[object], dialect: str) -> sa.ColumnElement[int]:
    if dialect == "sqlite":
        return sa.cast(sa.func.julianday(column) - 2440587.5, sa.Integer)
    return sa.cast(column - sa.cast(sa.literal("1970-01-01"), sa.Date), sa.Integer)


class SqlColumnStore:
    """`ColumnStore` on the SQL book."""

    def read_state(self, uow: UnitOfWork, ids: Sequence[int]) -> StateColumns:
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
        query = (
            sa.select(
                i.loan_id, i.number, product_index, _day_number(i.due_on, dialect),
                i.principal - i.paid_principal, i.interest - i.paid_interest, i.fee - i.paid_fee,
                i.penalty_accrued, i.compound_accrued, i.penalty_paid, i.compound_paid,
                bucket_index,
                sa.func.coalesce(_day_number(t.loan.c.written_off_on, dialect), NEVER),
                _day_number(t.loan.c.state_on, dialect))
            .select_from(t.installment.join(t.loan, t.loan.c.id == i.loan_id))
            .where(i.loan_id.in_(sa.bindparam("ids", expanding=True)))
            .order_by(i.loan_id, i.number))
        refs = sa.select(t.loan.c.id, t.loan.c.loan_ref).where(
            t.loan.c.id.in_(sa.bindparam("ids", expanding=True)))
        rows: list[Sequence[int]] = []
        loan_refs: dict[int, str] = {}
        for chunk in _chunks(list(ids)):
            rows.extend(connection.execute(query, {"ids": chunk}).all())
            loan_refs.update(dict(connection.execute(refs, {"ids": chunk}).all()))
        matrix = np.array(rows, dtype=np.int64).reshape(len(rows), len(COLUMNS))
        columns = {name: matrix[:, index].astype(dtype)
                   for index, (name, dtype) in enumerate(COLUMNS)}
        return StateColumns(columns=columns, products=tuple(products[c] for c in codes),
                            product_codes=codes, loan_refs=loan_refs)

    def write_accruals(self, uow: UnitOfWork, write: AccrualWrite) -> None:
        connection = cast(SqlLoanBook, uow.book).connection
        day = write.day
        if write.installment_rows:
            connection.execute(UPDATE_ACCRUED, [
                {"b_loan_id": loan, "b_number": number, "p": p, "c": c}
                for loan, number, p, c in write.installment_rows])
        if write.loans:
            connection.execute(UPDATE_LOAN_DAY, [
                {"b_id": loan, "day": day, "dpd": dpd} for loan, dpd in write.loans])
        if write.postings:
            connection.execute(INSERT_POSTING, [
                {"entry": f"eod:{day.isoformat()}:{write.loan_refs[loan]}", "loan_id": loan,
                 "business_date": day, "account": account, "amount": amount}
                for loan, account, amount in write.postings])
        if write.accruals:
            connection.execute(INSERT_ACCRUAL, [
                {"loan_id": loan, "business_date": day, "penalty": p, "compound": c}
                for loan, p, c in write.accruals])
