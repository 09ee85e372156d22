"""A book whose outbox holds messages when the bodies and compliance documents move to
`message_content` (2026-12-15) upgrades without losing one, on both backends: each message
keeps its body, document, status, attempts and lease, and the worker carries on where it
stopped (a due message is sent with its body, a lapsed lease is taken again, a live one is
left, a message its document now refuses is blocked). A downgrade moves them back."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from datetime import timedelta

import pytest
import sqlalchemy as sa
from alembic import command

from arrears.adapters.db.engine import alembic_config, create_engine
from arrears.adapters.db.messages import utc
from arrears.application import notifications
from arrears.application.ports import ClaimedMessage, OutgoingMessage
from arrears.bootstrap import Services, build
from arrears.config import Settings

from fakes import FixedClock
from loopback import BACKENDS, postgres_schema_url
from outbox_support import local, message, statuses

BEFORE_CONTENT_MOVED = "f7b9d1e3a457"
THREAT = "【安睿消费金融】再不还款就让你坐牢，通知你全家和单位。"

# The message table as the older schema had it: the body and the document in the row.
OLD_MESSAGE = sa.table(
    "message", *(sa.column(name) for name in (
        "message_id", "channel", "business_date", "template", "language", "recipient",
        "subject", "body", "pack", "compliance", "status", "attempts", "next_attempt_at",
        "lease_until", "claimed_by", "created_at", "delivered_at")))


@pytest.fixture(params=BACKENDS)
def url(request, tmp_path) -> Iterator[str]:  # noqa: ANN001
    if request.param == "sqlite":
        path = tmp_path / "book.db"
        sqlite3.connect(path).close()
        yield f"sqlite:///{path}"
        return
    urls = postgres_schema_url()
    yield next(urls)
    next(urls, None)


def _migrate(engine: sa.Engine, revision: str, *, down: bool = False) -> None:
    # On the engine's own connections, as `arrears init` migrates (SQLite's keys enforced).
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        (command.downgrade if down else command.upgrade)(config, revision)


class _Recorder:
    def __init__(self) -> None:
        self.sent: list[ClaimedMessage] = []

    def send(self, claimed: ClaimedMessage) -> None:
        self.sent.append(claimed)

    def close(self) -> None:
        return None


def _old_row(outgoing: OutgoingMessage, **state: object) -> dict[str, object]:
    return {"message_id": outgoing.message_id, "channel": outgoing.channel,
            "business_date": outgoing.business_date, "template": outgoing.template,
            "language": outgoing.language, "recipient": outgoing.recipient,
            "subject": outgoing.subject, "body": outgoing.body, "pack": outgoing.pack,
            "compliance": outgoing.compliance, "status": "pending", "attempts": 0,
            "next_attempt_at": utc(outgoing.next_attempt_at), "lease_until": None,
            "claimed_by": None, "created_at": utc(outgoing.created_at), "delivered_at": None,
            **state}


def test_messages_survive_the_move_and_the_worker_carries_on(url, tmp_path) -> None:  # noqa: ANN001
    at = local("2026-03-12T10:00")
    outgoing = [message(0, at=at), message(1, at=at, text=THREAT), message(2, at=at),
                message(3, at=at - timedelta(minutes=10)), message(4, at=at),
                message(5, at=at - timedelta(hours=1))]
    engine = create_engine(url)
    try:
        _migrate(engine, BEFORE_CONTENT_MOVED)
        with engine.begin() as connection:
            connection.execute(OLD_MESSAGE.insert(), [
                _old_row(outgoing[0]), _old_row(outgoing[1]), _old_row(outgoing[2]),
                # Leased by a worker that died: the lease has lapsed.
                _old_row(outgoing[3], status="sending", attempts=1, claimed_by="w-old",
                         lease_until=utc(at - timedelta(minutes=5))),
                # Leased by a worker still at it.
                _old_row(outgoing[4], status="sending", attempts=1, claimed_by="w-busy",
                         lease_until=utc(at + timedelta(minutes=5))),
                _old_row(outgoing[5], status="delivered", attempts=1,
                         delivered_at=utc(at - timedelta(minutes=59)))])
        _migrate(engine, "head")
    finally:
        engine.dispose()
    services: Services = build(Settings(database_url=url, key_dir=str(tmp_path / "keys")),
                               clock=FixedClock(at))
    try:
        assert statuses(services) == {
            "msg-sms-00000": ("pending", 0), "msg-sms-00001": ("pending", 0),
            "msg-sms-00002": ("pending", 0), "msg-sms-00003": ("sending", 1),
            "msg-sms-00004": ("sending", 1), "msg-sms-00005": ("delivered", 1)}
        channel = _Recorder()
        notifications.drain(uow_factory=services.uow_factory, channels={"sms": channel},
                            clock=FixedClock(at), worker="w-new")
        by_id = {m.message_id: m for m in outgoing}
        assert [(m.message_id, m.attempts) for m in channel.sent] == [
            ("msg-sms-00003", 2), ("msg-sms-00000", 1), ("msg-sms-00002", 1)]
        for claimed in channel.sent:
            sent = by_id[claimed.message_id]
            assert (claimed.body, claimed.recipient, claimed.pack) == (
                sent.body, sent.recipient, sent.pack)
            assert dict(claimed.compliance) == json.loads(sent.compliance)
        after = statuses(services)
        assert after["msg-sms-00001"] == ("blocked", 1)  # its document still refuses it
        assert after["msg-sms-00004"] == ("sending", 1)
        assert after["msg-sms-00005"] == ("delivered", 1)
        # Back to the older schema: every body and document is in its row again.
        _migrate(services.engine, BEFORE_CONTENT_MOVED, down=True)
        with services.engine.connect() as connection:
            rows = dict(connection.execute(sa.text(
                "SELECT message_id, body || '|' || compliance FROM message")).all())
            assert "message_content" not in sa.inspect(connection).get_table_names()
        assert rows == {m.message_id: f"{m.body}|{m.compliance}" for m in outgoing}
    finally:
        services.engine.dispose()
