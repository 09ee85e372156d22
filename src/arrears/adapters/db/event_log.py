"""`EventLog` on SQLAlchemy Core: events into the book's `outbox`, each id recorded once
(`INSERT … ON CONFLICT DO NOTHING`, on SQLite and PostgreSQL alike)."""

from __future__ import annotations

import json
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from arrears.adapters.db import tables as t
from arrears.adapters.db.messages import utc
from arrears.application.ports import Event

_INSERT = {
    "postgresql": postgresql.insert(t.outbox).on_conflict_do_nothing(
        index_elements=[t.outbox.c.message_id]),
    "sqlite": sqlite.insert(t.outbox).on_conflict_do_nothing(
        index_elements=[t.outbox.c.message_id]),
}


class SqlEventLog:
    def __init__(self, connection: sa.Connection) -> None:
        self.connection = connection

    def emit(self, events: Sequence[Event]) -> None:
        if not events:
            return
        self.connection.execute(_INSERT[self.connection.dialect.name], [
            {"message_id": e.message_id, "topic": e.topic, "loan_id": e.loan_id,
             "business_date": e.business_date,
             "payload": json.dumps(e.payload, ensure_ascii=False, sort_keys=True),
             "created_at": utc(e.created_at)} for e in events])
