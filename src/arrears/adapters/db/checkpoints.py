"""A SQLite book's write-ahead log copied back into the book file on a thread beside the writer.

A commit appends the pages it changed to the log (`<book>-wal`); a checkpoint copies them into
the book file and lets the log start over. SQLite checkpoints within the commit that finds the
log past its limit, so the writer stops for the copy and for the file's flush to disk. Here a
writer's connection that comes back to the pool (its transaction ended) and finds the log past
`LOG_BYTES`, and grown since the last checkpoint began, starts a checkpoint on a thread with a
connection of its own, one at a time, and the writer goes on. A PASSIVE checkpoint takes no
lock a writer or reader waits on and copies only what is committed; SQLite runs it in C with
the interpreter's lock released, so with a core to spare it costs the writer nothing: the
demo's end-of-day phase took 18–20 s instead of 26–28, the whole demo 157–174 s instead of
175–195 (two cores, side by side). The log is cut back to nothing when it starts over
(`journal_size_limit`), so its size is what was written since.

The log starts over only when a writer begins a transaction with all of it copied, which a
writer that never pauses rarely finds: the thread is always a commit behind. SQLite's own
checkpoint at commit stays for that (`AUTOCHECKPOINT_PAGES`, twice the limit): by then the
thread has copied most of the log, the commit copies the rest and the next transaction starts
the log over. So the log peaks near twice `LOG_BYTES` rather than at it. A reader holding an
old snapshot keeps the log from starting over whoever checkpoints, as it always did.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
from pathlib import Path
from typing import Any

LOG_PAGES = 16384  # 64 MB of 4 KB pages: a checkpoint copies each page once however often
# it was written since the last, and the demo's commits rewrite the same index pages all day
LOG_BYTES = LOG_PAGES * 4096
AUTOCHECKPOINT_PAGES = 2 * LOG_PAGES
THREAD_NAME = "arrears-log-checkpoint"
log = logging.getLogger("arrears.db")


def log_pragmas(cursor: sqlite3.Cursor) -> None:
    """On each connection to a book: SQLite's own checkpoint only past the bound, and the log
    cut back to nothing when it starts over."""
    cursor.execute(f"PRAGMA wal_autocheckpoint = {AUTOCHECKPOINT_PAGES}")
    cursor.execute("PRAGMA journal_size_limit = 0")


class LogCheckpoints:
    """The listener of a writer engine's connections coming back to its pool (SQLAlchemy's
    `checkin` event), for the book at `path`."""

    def __init__(self, path: Path) -> None:
        path = path.resolve()  # a relative --db stays this book if the directory changes
        self._uri = f"{path.as_uri()}?mode=rw"
        self._log = f"{path}-wal"
        self._running = threading.Lock()
        self._begun_at = 0  # the log's size when the last checkpoint began

    def __call__(self, *_checked_in: Any) -> None:
        # The transaction has ended, committed or not: nothing here may fail it. A checkpoint
        # not started now is started by a later writer, or by SQLite's own at the bound.
        try:
            written = os.stat(self._log).st_size
        except OSError:
            return
        if written < LOG_BYTES or written == self._begun_at \
                or not self._running.acquire(blocking=False):
            return
        self._begun_at = written
        try:
            threading.Thread(target=self._checkpoint, name=THREAD_NAME, daemon=True).start()
        except Exception as error:  # no thread to be had (a process limit, shutting down)
            self._running.release()
            log.warning("write-ahead log checkpoint not started: %s", error)

    def _checkpoint(self) -> None:
        try:
            connection = sqlite3.connect(self._uri, uri=True)
            try:
                connection.execute("PRAGMA wal_checkpoint(PASSIVE)")
            finally:
                connection.close()
        except sqlite3.Error:
            pass  # the book moved or is gone: a later writer tries again
        finally:
            self._running.release()
