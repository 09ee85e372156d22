"""A SQLite book's write-ahead log copied back into the book file on a thread beside the writer.

A commit appends the pages it changed to the log (`<book>-wal`); a checkpoint copies them into
the book file and lets the log start over. SQLite checkpoints within the commit that finds the
log past its limit, so the writer stops for the copy and for the file's flush to disk. Here a
writer's connection that comes back to the pool (its transaction ended) and finds the log past
`LOG_BYTES` starts a checkpoint on a thread with a connection of its own, one at a time, and
the writer goes on. A PASSIVE checkpoint takes no lock a writer or reader waits on and copies
only what is committed; SQLite runs it in C with the interpreter's lock released, so with a
core to spare it costs the writer nothing: the demo's end-of-day phase took 18–20 s instead of
26–28, the whole demo 157–164 s instead of 175–195 (two cores, side by side). The log is cut
back to nothing when it starts over (`journal_size_limit`), so its size is what was written
since.

SQLite's own checkpoint at commit stays as the bound (`AUTOCHECKPOINT_PAGES`, four times the
limit), for a log the thread cannot keep up with: a writer that never pauses, or a reader
holding an old snapshot so the log cannot start over. A process that ends during a checkpoint
leaves the log behind, as a crash would; the next connection carries on from it.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from pathlib import Path
from typing import Any

LOG_PAGES = 16384  # 64 MB of 4 KB pages: a checkpoint copies each page once however often
# it was written since the last, and the demo's commits rewrite the same index pages all day
LOG_BYTES = LOG_PAGES * 4096
AUTOCHECKPOINT_PAGES = 4 * LOG_PAGES
THREAD_NAME = "arrears-log-checkpoint"


def log_pragmas(cursor: sqlite3.Cursor) -> None:
    """On each connection to a book: SQLite's own checkpoint only past the bound, and the log
    cut back to nothing when it starts over."""
    cursor.execute(f"PRAGMA wal_autocheckpoint = {AUTOCHECKPOINT_PAGES}")
    cursor.execute("PRAGMA journal_size_limit = 0")


class LogCheckpoints:
    """The listener of a writer engine's connections coming back to its pool (SQLAlchemy's
    `checkin` event), for the book at `path`."""

    def __init__(self, path: Path) -> None:
        self._uri = f"{path.resolve().as_uri()}?mode=rw"
        self._log = f"{path}-wal"
        self._running = threading.Lock()

    def __call__(self, *_checked_in: Any) -> None:
        try:
            written = os.stat(self._log).st_size
        except FileNotFoundError:
            return
        if written >= LOG_BYTES and self._running.acquire(blocking=False):
            try:
                threading.Thread(target=self._checkpoint, name=THREAD_NAME,
                                 daemon=True).start()
            except BaseException:
                self._running.release()
                raise

    def _checkpoint(self) -> None:
        try:
            connection = sqlite3.connect(self._uri, uri=True)
            try:
                connection.execute("PRAGMA wal_checkpoint(PASSIVE)")
            finally:
                connection.close()
        except sqlite3.Error:
            pass  # the book moved or is gone: the next commit tries again, SQLite's bound holds
        finally:
            self._running.release()
