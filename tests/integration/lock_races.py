"""Two transactions at once on PostgreSQL, ordered by conditions rather than by time: the first
pauses at a chosen read (holding the locks it took), the second starts and is seen waiting for
a row lock, then the first goes on. (A module of its own, not conftest: see api_support.)"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa

from arrears import bootstrap

TIMEOUT = 60.0


def until_a_lock_is_awaited(book: bootstrap.Services, waiter: threading.Thread) -> None:
    """Return once a connection to the book's database waits for a lock (the second
    transaction, blocked by the first); fail if `waiter` ends or none ever waits."""
    with book.engine.connect() as connection:
        for _ in range(int(TIMEOUT * 100)):
            if connection.execute(sa.text(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                    "AND datname = current_database()")).scalar():
                return
            waiter.join(0.01)
            if not waiter.is_alive():
                raise AssertionError("the second transaction ended without waiting for a lock")
    raise AssertionError("the second transaction never waited for a lock")


def race(book: bootstrap.Services, monkeypatch: pytest.MonkeyPatch, owner: type,
         method: str, first: Callable[[], Any], second: Callable[[], Any]) -> dict[str, Any]:
    """Run `first` until it has called `owner.method` (it pauses there, in its transaction),
    then `second` until it waits for a lock, then let `first` finish; each one's result or
    error by name ("first", "second")."""
    paused, proceed = threading.Event(), threading.Event()
    original = getattr(owner, method)

    def pausing(self: Any, *args: Any, **kwargs: Any) -> Any:
        found = original(self, *args, **kwargs)
        if threading.current_thread().name == "first" and not paused.is_set():
            paused.set()
            assert proceed.wait(TIMEOUT)
        return found

    monkeypatch.setattr(owner, method, pausing)
    results: dict[str, Any] = {}

    def start(name: str, work: Callable[[], Any]) -> threading.Thread:
        def target() -> None:
            try:
                results[name] = work()
            except BaseException as error:  # noqa: BLE001 - reported by the assertions
                results[name] = error
        thread = threading.Thread(target=target, name=name)
        thread.start()
        return thread

    one = start("first", first)
    assert paused.wait(TIMEOUT)
    two = start("second", second)
    try:
        until_a_lock_is_awaited(book, two)
    finally:
        proceed.set()
        one.join(TIMEOUT)
        two.join(TIMEOUT)
    return results
