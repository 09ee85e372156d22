"""`ReadAhead` in worker processes: each opens the book once on a read-only engine of its own,
so planning reads beside the writer (SQLite's WAL, PostgreSQL's MVCC) and keeps a second core
busy. The processes are spawned, not forked: a fork would copy the parent's open connections
and its threads' locks. (Not forked from a fork server either: on Python 3.11 the server
imports the book's modules on its own `sys.path`, the working directory first, so a file
there named like a module would stand in for it; a process spawned takes the caller's.)"""

from __future__ import annotations

import logging
import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Generator, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from typing import Self

import sqlalchemy as sa

from arrears.adapters.db.engine import create_engine
from arrears.adapters.db.unit_of_work import SqlUnitOfWorkFactory
from arrears.application.ports import InProcess, Item, ReadAhead, Result, UnitOfWork

IN_FLIGHT = 2  # items submitted a worker: one running, one queued behind it
log = logging.getLogger("arrears.read_ahead")

_readers: SqlUnitOfWorkFactory | None = None
"""The worker process's units of work on the book."""


def _open(url: str, readers: type[SqlUnitOfWorkFactory]) -> None:
    global _readers
    _readers = readers(create_engine(url, read_only=True))


def _started() -> None:
    """Nothing: submitted once per process to start it."""


def _run(work: Callable[[Callable[[], UnitOfWork], Item], Result], item: Item) -> Result:
    assert _readers is not None
    return work(_readers, item)


class ProcessReadAhead:
    """`workers` processes reading the book at `url` (a file or a server: each process opens
    its own connection) in units of work of `readers`. Use it as a context manager: leaving
    it stops the processes."""

    def __init__(self, url: str, workers: int,
                 readers: type[SqlUnitOfWorkFactory] = SqlUnitOfWorkFactory) -> None:
        self._pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                                         initializer=_open, initargs=(url, readers))
        self._url, self._workers, self._readers = url, workers, readers
        self._here: SqlUnitOfWorkFactory | None = None  # once a worker is lost
        # Started now, each process's start-up (an interpreter and the book's imports, about
        # a second) overlaps the caller's work before its first `map` instead of delaying it.
        for _ in range(workers):
            self._pool.submit(_started)

    def map(self, work: Callable[[Callable[[], UnitOfWork], Item], Result],
            items: Sequence[Item]) -> Generator[Result, None, None]:
        """At most `IN_FLIGHT` items a worker are submitted ahead of the one the caller is
        given (`Executor.map` would submit them all, and their results would wait in memory
        for a caller slower than the workers). A worker lost (killed, out of memory), the
        items not yet given run in this process."""
        window = IN_FLIGHT * self._workers
        pending: deque[Future[Result]] = deque()
        given = submitted = 0
        try:
            while given < len(items):
                try:
                    while submitted < len(items) and len(pending) < window:
                        pending.append(self._pool.submit(_run, work, items[submitted]))
                        submitted += 1
                    result = pending.popleft().result()
                except BrokenProcessPool:
                    break
                given += 1
                yield result
        finally:
            for future in pending:
                future.cancel()
        if given < len(items):
            here = self._in_this_process()
            for item in items[given:]:
                yield work(here, item)

    def _in_this_process(self) -> SqlUnitOfWorkFactory:
        """Units of work on the book for the items a lost worker leaves: a pool once broken
        stays broken, so every later `map` runs here too."""
        if self._here is None:
            log.warning("a reading process was lost: what is left runs in this process")
            self._here = self._readers(create_engine(self._url, read_only=True))
        return self._here

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self._pool.shutdown(cancel_futures=True)
        if self._here is not None:
            self._here.engine.dispose()


@contextmanager
def planners(engine: sa.Engine, uow_factory: Callable[[], UnitOfWork],
             readers: type[SqlUnitOfWorkFactory] = SqlUnitOfWorkFactory) -> Iterator[ReadAhead]:
    """Planning read ahead in one process per core (units of work of `readers`), or in this
    process on one core or for a book in memory, which no other process can open."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    database = engine.url.database
    in_memory = engine.dialect.name == "sqlite" and (not database or database == ":memory:")
    if (cores or 1) < 2 or in_memory:
        yield InProcess(uow_factory)
        return
    with ProcessReadAhead(engine.url.render_as_string(hide_password=False), cores or 1,
                          readers) as ahead:
        yield ahead
