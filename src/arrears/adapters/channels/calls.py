"""Call tasks for collectors and dialers: the call channel writes a `call_task` row (one per
message id, so a repeated delivery adds nothing). The collector's workbench or a dialer takes
the open tasks; the compliance engine is asked again when the call is placed."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from arrears.adapters.db import collections_tables as ct
from arrears.adapters.db.messages import utc
from arrears.application.notifications import DeliveryError
from arrears.application.ports import ClaimedMessage, Clock


class CallTaskChannel:
    def __init__(self, engine: sa.Engine, clock: Clock, *, queue: str = "") -> None:
        self.engine = engine
        self.clock = clock
        self.queue = queue
        # Built once; a repeated delivery of a message meets its task and adds nothing.
        insert = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert
        self._add_task = insert(ct.call_task).on_conflict_do_nothing(
            index_elements=[ct.call_task.c.message_id])

    def send(self, message: ClaimedMessage) -> None:
        try:
            with self.engine.begin() as connection:
                connection.execute(self._add_task, {
                    "message_id": message.message_id, "loan_ref": message.loan_ref,
                    "phone": message.recipient, "script": message.body, "queue": self.queue,
                    "status": "open", "created_at": utc(self.clock.now())})
        except sa.exc.OperationalError as error:
            raise DeliveryError(f"call task store: {type(error).__name__}") from None

    def close(self) -> None:
        return None
