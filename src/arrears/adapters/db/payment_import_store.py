"""The store behind payment files (`PaymentImportStore`) on SQLAlchemy Core, and the unit of
work that carries it beside the book on one transaction.

Everything is per chunk of rows, never per row: loans, the keys already posted and the
payments of replayed loans are each one query (per 900 values, SQLite's bound-parameter
limit), and the new payment and import rows are multi-row inserts.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, Self

import sqlalchemy as sa

from arrears.adapters.db import tables as t
from arrears.adapters.db.book import INSERT_PAYMENT, execute_many
from arrears.adapters.db.unit_of_work import SqlUnitOfWork, SqlUnitOfWorkFactory
from arrears.application.handlers.payment_import import ImportedRow, NewPayment, PostedKey
from arrears.application.ports import BookedLoan, LoanBook, StoredPayment

CHUNK = 900  # below SQLite's bound-parameter limit

LOAN_IDS_BY_REF = sa.select(t.loan.c.loan_ref, t.loan.c.id).where(
    t.loan.c.loan_ref.in_(sa.bindparam("refs", expanding=True)))
POSTED = sa.select(t.payment.c.idempotency_key, t.payment.c.loan_id, t.payment.c.amount,
                   t.payment.c.paid_on).where(
    t.payment.c.idempotency_key.in_(sa.bindparam("keys", expanding=True)))
PAYMENTS_OF = (sa.select(t.payment).where(t.payment.c.loan_id.in_(
    sa.bindparam("ids", expanding=True))).order_by(t.payment.c.loan_id, t.payment.c.paid_on,
                                                   t.payment.c.id))
PAYMENT_IDS = sa.select(t.payment.c.idempotency_key, t.payment.c.id).where(
    t.payment.c.idempotency_key.in_(sa.bindparam("keys", expanding=True)))
INSERT_IMPORTS = t.payment_import.insert()


def _chunks(items: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), CHUNK):
        yield items[start:start + CHUNK]


class SqlPaymentImports:
    def __init__(self, connection: sa.Connection, book: LoanBook) -> None:
        self.connection = connection
        self.book = book

    def loans_by_ref(self, refs: Sequence[str]) -> dict[str, BookedLoan]:
        ids: list[int] = []
        for chunk in _chunks(list(refs)):
            ids += [row.id for row in self.connection.execute(LOAN_IDS_BY_REF,
                                                              {"refs": list(chunk)})]
        return {booked.loan.loan_id: booked
                for booked in self.book.get_many(sorted(ids), for_update=True)}

    def posted(self, keys: Sequence[str]) -> dict[str, PostedKey]:
        found: dict[str, PostedKey] = {}
        for chunk in _chunks(list(keys)):
            for key, loan_id, amount, on in self.connection.execute(POSTED,
                                                                    {"keys": list(chunk)}):
                found[key] = PostedKey(key=key, loan_id=loan_id, amount=amount, on=on)
        return found

    def payments_of(self, loan_ids: Sequence[int]) -> dict[int, list[StoredPayment]]:
        rows: list[Any] = []
        for chunk in _chunks(list(loan_ids)):
            rows += self.connection.execute(PAYMENTS_OF, {"ids": list(chunk)}).all()
        reversed_ids = {row.reverses_id for row in rows if row.reverses_id is not None}
        by_loan: dict[int, list[StoredPayment]] = defaultdict(list)
        for row in rows:
            by_loan[row.loan_id].append(StoredPayment(
                id=row.id, loan_id=row.loan_id, key=row.idempotency_key, on=row.paid_on,
                amount=row.amount, reverses_id=row.reverses_id,
                reversed=row.id in reversed_ids, prepayment=row.prepayment))
        return dict(by_loan)

    def add_payments(self, payments: Sequence[NewPayment], recorded_at: datetime
                     ) -> dict[str, int]:
        rows = [{"loan_id": p.loan_id, "idempotency_key": p.applied.key,
                 "paid_on": p.applied.on, "amount": p.applied.amount,
                 "to_fee": p.applied.to_fee, "to_penalty": p.applied.to_penalty,
                 "to_compound": p.applied.to_compound, "to_interest": p.applied.to_interest,
                 "to_principal": p.applied.to_principal, "to_credit": p.applied.to_credit,
                 "recovery": p.recovery, "prepayment": False, "reverses_id": None,
                 "recorded_at": recorded_at} for p in payments]
        execute_many(self.connection, INSERT_PAYMENT, rows)
        ids: dict[str, int] = {}
        for chunk in _chunks([row["idempotency_key"] for row in rows]):
            ids.update((key, id_) for key, id_ in self.connection.execute(
                PAYMENT_IDS, {"keys": list(chunk)}))
        return ids

    def record(self, source: str, rows: Sequence[ImportedRow], ids: dict[str, int],
               file_sha256: str, at: datetime) -> None:
        execute_many(self.connection, INSERT_IMPORTS, [
            {"source": source, "row_key": row.row_key, "payment_id": ids[row.payment_key],
             "file_sha256": file_sha256, "line": row.line, "imported_at": at}
            for row in rows])


class SqlPaymentImportUnitOfWork(SqlUnitOfWork):
    """The book's unit of work with the payment-file store on the same transaction."""

    def __enter__(self) -> Self:
        super().__enter__()
        assert self._connection is not None
        self.payment_imports = SqlPaymentImports(self._connection, self.book)
        return self


class SqlPaymentImportUnitOfWorkFactory(SqlUnitOfWorkFactory):
    def __call__(self) -> SqlPaymentImportUnitOfWork:
        return SqlPaymentImportUnitOfWork(self.engine, self._products)
