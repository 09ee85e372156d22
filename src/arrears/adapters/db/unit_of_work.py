"""The SQL unit of work: one connection and one transaction; commit is explicit and anything
not committed is rolled back on exit."""

from __future__ import annotations

from typing import Self

import sqlalchemy as sa

from arrears.adapters.db.book import SqlLoanBook, SqlReports
from arrears.adapters.db.collections_store import SqlCollections
from arrears.adapters.db.messages import SqlMessageStore
from arrears.domain.product import Product


class SqlUnitOfWork:
    def __init__(self, engine: sa.Engine, product_cache: dict[str, Product]) -> None:
        self._engine = engine
        self._products = product_cache
        self._connection: sa.Connection | None = None
        self._transaction: sa.RootTransaction | None = None

    def __enter__(self) -> Self:
        self._connection = self._engine.connect()
        try:
            self._transaction = self._connection.begin()
        except BaseException:  # e.g. a lock wait that timed out: give the connection back
            self._connection.close()
            raise
        self.book = SqlLoanBook(self._connection, self._products)
        self.reports = SqlReports(self._connection)
        self.messages = SqlMessageStore(self._connection)
        self.collections = SqlCollections(self._connection)
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._connection is not None and self._transaction is not None
        try:
            if self._transaction.is_active:
                self._transaction.rollback()
        finally:
            self._connection.close()
            self._connection = self._transaction = None

    def commit(self) -> None:
        assert self._transaction is not None
        self._transaction.commit()


class SqlUnitOfWorkFactory:
    """Makes units of work on one engine, sharing the immutable product cache."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self._products: dict[str, Product] = {}

    def __call__(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.engine, self._products)
