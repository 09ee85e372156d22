"""Loan histories written in bulk beside the book (`seasoning.HistoryStore`: a seasoned demo
book's payments, ledger, accruals, bucket changes and events), and the unit of work that
carries them on the book's transaction."""

from __future__ import annotations

import json
from typing import Any, Self

import sqlalchemy as sa

from arrears.adapters.db import tables as t
from arrears.adapters.db.book import execute_many
from arrears.adapters.db.unit_of_work import SqlUnitOfWork, SqlUnitOfWorkFactory
from arrears.application.seasoning import HistoryRows

INSERT_PAYMENT = t.payment.insert()
INSERT_POSTING = t.posting.insert()
INSERT_ACCRUAL = t.accrual.insert()
INSERT_CHANGE = t.delinquency_change.insert()
INSERT_EVENT = t.outbox.insert()


class SqlHistory:
    def __init__(self, connection: sa.Connection) -> None:
        self.connection = connection

    def add(self, rows: HistoryRows) -> None:
        batches: list[tuple[sa.Insert, list[dict[str, Any]]]] = [
            (INSERT_PAYMENT, [
                {"loan_id": loan_id, "idempotency_key": a.key, "paid_on": a.on,
                 "amount": a.amount, "to_fee": a.to_fee, "to_penalty": a.to_penalty,
                 "to_compound": a.to_compound, "to_interest": a.to_interest,
                 "to_principal": a.to_principal, "to_credit": a.to_credit,
                 "recovery": recovery, "prepayment": False, "reverses_id": None,
                 "recorded_at": rows.recorded_at}
                for loan_id, a, recovery in rows.payments]),
            (INSERT_POSTING, [
                {"entry": entry, "loan_id": loan_id, "business_date": day, "account": account,
                 "amount": amount} for entry, loan_id, day, account, amount in rows.postings]),
            (INSERT_ACCRUAL, [
                {"loan_id": loan_id, "business_date": day, "penalty": penalty,
                 "compound": compound} for loan_id, day, penalty, compound in rows.accruals]),
            (INSERT_CHANGE, [
                {"loan_id": loan_id, "business_date": day, "from_bucket": before,
                 "to_bucket": after, "dpd": dpd}
                for loan_id, day, before, after, dpd in rows.changes]),
            (INSERT_EVENT, [
                {"message_id": e.message_id, "topic": e.topic, "loan_id": e.loan_id,
                 "business_date": e.business_date,
                 "payload": json.dumps(e.payload, ensure_ascii=False, sort_keys=True),
                 "created_at": e.created_at} for e in rows.events]),
        ]
        for statement, values in batches:
            if values:
                execute_many(self.connection, statement, values)


class SqlSeasoningUnitOfWork(SqlUnitOfWork):
    """A unit of work that also writes histories (`history`)."""

    def __enter__(self) -> Self:
        super().__enter__()
        assert self._connection is not None
        self.history = SqlHistory(self._connection)
        return self


class SqlSeasoningUnitOfWorkFactory(SqlUnitOfWorkFactory):
    def __call__(self) -> SqlSeasoningUnitOfWork:
        return SqlSeasoningUnitOfWork(self.engine, self._products)
