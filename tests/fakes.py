"""Test doubles for the ports."""

from __future__ import annotations

from datetime import UTC, datetime


class FixedClock:
    """A clock that says what the test tells it."""

    def __init__(self, at: datetime | None = None) -> None:
        self.at = at or datetime(2026, 1, 1, 9, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self.at
