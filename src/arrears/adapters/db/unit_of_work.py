"""The SQL unit of work: one connection and one transaction; commit is explicit and anything
not committed is rolled back on exit. Its factory also holds the book's end-of-day lock.

The lock is one that dies with its holder, so a run killed with SIGKILL never blocks the
book: on PostgreSQL a session-level advisory lock (the session ends with the process), on
SQLite an exclusive `flock` on a file beside the database (the kernel drops it with the
process's files). Neither has a lease to expire or a pid to check, so there is no timeout
to tune against the longest batch and no pid that a new process could reuse. The lock file
(`<database>-eod-lock`) stays beside the database like its `-wal` file; deleting it while a
run holds it would let a second run lock a new file, so it is never deleted. Like SQLite's own
locking, `flock` is not to be trusted on a network filesystem.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import socket
from collections.abc import Iterator
from typing import Self

import sqlalchemy as sa

from arrears.adapters.db.book import SqlLoanBook, SqlReports
from arrears.adapters.db.collections_store import SqlCollections
from arrears.adapters.db.complaints_store import SqlComplaints
from arrears.adapters.db.disputes_store import SqlDisputes
from arrears.adapters.db.event_log import SqlEventLog
from arrears.adapters.db.messages import SqlMessageStore
from arrears.adapters.db.plan_store import SqlPlanStore
from arrears.adapters.db.trust_store import SqlCredentials, SqlEvidence
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
        self.credentials = SqlCredentials(self._connection)
        self.evidence = SqlEvidence(self._connection)
        self.plans = SqlPlanStore(self._connection)
        self.complaints = SqlComplaints(self._connection)
        self.disputes = SqlDisputes(self._connection)
        self.events = SqlEventLog(self._connection)
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
    """Makes units of work on one engine, sharing the immutable product cache; holds the
    book's end-of-day lock."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self._products: dict[str, Product] = {}

    def __call__(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.engine, self._products)

    def eod_lock(self) -> contextlib.AbstractContextManager[str | None]:
        """`UnitOfWorkFactory.eod_lock` (see the module docstring)."""
        if self.engine.dialect.name == "postgresql":
            return _advisory_lock(self.engine, EOD_LOCK)
        database = self.engine.url.database
        if not database or database == ":memory:":
            return contextlib.nullcontext()  # no other connection can open this database
        return _file_lock(f"{database}-eod-lock")


EOD_LOCK = "arrears-eod"


@contextlib.contextmanager
def _advisory_lock(engine: sa.Engine, name: str) -> Iterator[str | None]:
    with engine.connect() as connection:
        # Per book: two schemas of one database are two books.
        name = f"{name}:{connection.scalar(sa.text('SELECT current_schema()'))}"
        key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
        taken = connection.scalar(sa.text("SELECT pg_try_advisory_lock(:key)"), {"key": key})
        holder = None if taken else _advisory_holder(connection, name, key)
        connection.commit()  # the lock outlives the transaction; an idle transaction would not
        try:
            yield holder
        finally:
            if taken:
                _advisory_unlock(connection, key)


def _advisory_unlock(connection: sa.Connection, key: int) -> None:
    # Unlocked explicitly: a closed session's backend may hold the lock a moment after the
    # client has gone, and the next run must not find it taken.
    try:
        connection.scalar(sa.text("SELECT pg_advisory_unlock(:key)"), {"key": key})
        connection.commit()
    except sa.exc.DBAPIError:
        # The session is gone, and its lock with it; the connection must not be pooled.
        connection.invalidate()


def _advisory_holder(connection: sa.Connection, name: str, key: int) -> str:
    # A bigint advisory key shows in pg_locks as its high and low 32 bits.
    pid = connection.scalar(sa.text(
        "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1 "
        "AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
        "AND classid::bigint = :high AND objid::bigint = :low"),
        {"high": (key >> 32) & 0xFFFFFFFF, "low": key & 0xFFFFFFFF})
    session = f"PostgreSQL session pid {pid}" if pid is not None else "another session"
    return f"{session} holds advisory lock {name!r}"


@contextlib.contextmanager
def _file_lock(path: str) -> Iterator[str | None]:
    holder: str | None = None
    with open(path, "a+", encoding="utf-8") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = f"{path} is locked; last taken by {handle.read().strip() or 'a process'}"
        else:
            handle.truncate(0)
            handle.write(f"pid {os.getpid()} on {socket.gethostname()}\n")
            handle.flush()
        yield holder
