"""`EventLog` on SQLAlchemy Core: events into the book's `outbox`, each id recorded once
(`INSERT … ON CONFLICT DO NOTHING`, on SQLite and PostgreSQL alike)."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from arrears.adapters.db import tables as t
from arrears.adapters.db.book import driver_dates, driver_form, execute_rows, payload_text
from arrears.adapters.db.messages import utc
from arrears.application.ports import Event

_INSERT = {
    "postgresql": postgresql.insert(t.outbox).on_conflict_do_nothing(
        index_elements=[t.outbox.c.message_id]),
    "sqlite": sqlite.insert(t.outbox).on_conflict_do_nothing(
        index_elements=[t.outbox.c.message_id]),
}

_KEYS = ("message_id", "topic", "loan_id", "business_date", "payload", "created_at")


class SqlEventLog:
    def __init__(self, connection: sa.Connection) -> None:
        self.connection = connection

    def emit(self, events: Sequence[Event]) -> None:
        if not events:
            return
        # Straight to the driver: SQLAlchemy's per-row parameter handling cost more than the
        # insert itself for the worker's batch of `message.delivered` events.
        dialect = self.connection.dialect
        day, instant = driver_dates(dialect), driver_form(dialect, t.outbox.c.created_at.type)
        execute_rows(self.connection, _INSERT[dialect.name], _KEYS, [
            (e.message_id, e.topic, e.loan_id, day(e.business_date),
             payload_text(e.payload),
             instant(utc(e.created_at))) for e in events])
