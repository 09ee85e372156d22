"""A SQLite book's write-ahead log is copied back into the book on a thread of its own once a
writer's connection comes back to the pool and finds it past `LOG_BYTES` (`checkpoints`),
below the bound at which SQLite would make the writer do it; nothing committed is lost, and the
log starts over from nothing."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import sqlalchemy as sa

from arrears.adapters.db import checkpoints
from arrears.adapters.db.engine import create_engine, upgrade

ROW_BYTES = 4000


def _book_with_filler(tmp_path: Path) -> tuple[Path, sa.Engine]:
    """A migrated book and its writer engine, with a table to fill the log with."""
    book = tmp_path / "book.db"
    engine = create_engine(f"sqlite:///{book}")
    upgrade(engine)
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE filler (n INTEGER, pad TEXT)")
    return book, engine


def _checkpoints_settled() -> None:
    for thread in threading.enumerate():
        if thread.name == checkpoints.THREAD_NAME:
            thread.join()


def test_a_log_past_its_limit_is_checkpointed_beside_the_writer(tmp_path, monkeypatch):
    monkeypatch.setattr(checkpoints, "LOG_BYTES", 1_000_000)
    book, engine = _book_with_filler(tmp_path)
    try:
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == \
                checkpoints.AUTOCHECKPOINT_PAGES
        log = f"{book}-wal"
        rows = 0
        # Below SQLite's own bound (AUTOCHECKPOINT_PAGES): only the thread checkpoints.
        while os.path.getsize(log) < 2 * checkpoints.LOG_BYTES:
            with engine.begin() as connection:
                connection.exec_driver_sql(
                    "INSERT INTO filler VALUES (?, ?)", (rows, "x" * ROW_BYTES))
            rows += 1
        # The last checkpoint may have started before the last commits: the next commit's
        # checkpoint copies them, and the commit after finds the whole log copied and starts
        # it over, cut back to nothing.
        for _ in range(2):
            _checkpoints_settled()
            with engine.begin() as connection:
                connection.exec_driver_sql("INSERT INTO filler VALUES (?, ?)", (rows, "x"))
            rows += 1
        _checkpoints_settled()
        assert os.path.getsize(log) < checkpoints.LOG_BYTES
        with engine.connect() as connection:
            assert connection.scalar(sa.text("SELECT count(*) FROM filler")) == rows
            assert connection.scalar(sa.text("PRAGMA integrity_check")) == "ok"
    finally:
        engine.dispose()


def test_a_checkpoint_of_a_book_gone_meanwhile_is_given_up(tmp_path, monkeypatch):
    """The book file is gone but its log is not: the thread gives up quietly (no error on
    the thread) and the next commit may start another."""
    raised = []
    monkeypatch.setattr(threading, "excepthook", raised.append)
    listener = checkpoints.LogCheckpoints(tmp_path / "gone.db")
    (tmp_path / "gone.db-wal").write_bytes(b"\0" * checkpoints.LOG_BYTES)
    listener(None, None)
    _checkpoints_settled()
    assert not listener._running.locked() and raised == []
    assert not (tmp_path / "gone.db").exists()  # opened read-write only: never created


def test_a_writer_that_never_pauses_keeps_the_log_near_twice_its_limit(tmp_path, monkeypatch):
    """The thread is always a commit behind such a writer, so the log starts over at SQLite's
    own checkpoint (`AUTOCHECKPOINT_PAGES`) rather than growing without end."""
    monkeypatch.setattr(checkpoints, "LOG_BYTES", 256 * 4096)
    monkeypatch.setattr(checkpoints, "AUTOCHECKPOINT_PAGES", 2 * 256)
    book, engine = _book_with_filler(tmp_path)
    try:
        largest = 0
        for n in range(3000):  # some 12 MB of rows, several times the bound
            with engine.begin() as connection:
                connection.exec_driver_sql("INSERT INTO filler VALUES (?, ?)",
                                           (n, "x" * ROW_BYTES))
            largest = max(largest, os.path.getsize(f"{book}-wal"))
        _checkpoints_settled()
    finally:
        engine.dispose()
    bound = checkpoints.AUTOCHECKPOINT_PAGES * 4096
    # Some commits past it: a commit's own checkpoint finds nothing to do while the thread's
    # runs, and a later commit's does it. How many go by depends on how busy the machine is
    # (1.6 times the bound was seen under CI's parallel tests); a log that never started over
    # would reach six times the bound.
    assert bound < largest < 3 * bound


def test_only_a_writer_on_a_book_file_checkpoints(tmp_path):
    def listeners(engine: sa.Engine) -> list[object]:
        return [fn for fn in engine.pool.dispatch.checkin
                if isinstance(fn, checkpoints.LogCheckpoints)]

    url = f"sqlite:///{tmp_path / 'book.db'}"
    writer, reader = create_engine(url), create_engine(url, read_only=True)
    memory = create_engine("sqlite://")
    try:
        assert len(listeners(writer)) == 1
        assert listeners(reader) == [] and listeners(memory) == []
    finally:
        for engine in (writer, reader, memory):
            engine.dispose()


def test_no_thread_to_be_had_fails_no_transaction(tmp_path, monkeypatch):
    """The listener runs once the transaction has ended: a checkpoint that cannot start is
    left to a later writer, and the caller hears nothing of it."""
    monkeypatch.setattr(checkpoints, "LOG_BYTES", 1)
    book = tmp_path / "book.db"
    engine = create_engine(f"sqlite:///{book}")
    try:
        upgrade(engine)

        def no_thread(self: threading.Thread) -> None:
            raise RuntimeError("can't start new thread")

        monkeypatch.setattr(threading.Thread, "start", no_thread)
        with engine.begin() as connection:
            connection.exec_driver_sql("CREATE TABLE filler (n INTEGER)")
            connection.exec_driver_sql("INSERT INTO filler VALUES (1)")
        monkeypatch.undo()
        with engine.connect() as connection:
            assert connection.scalar(sa.text("SELECT count(*) FROM filler")) == 1
    finally:
        engine.dispose()
