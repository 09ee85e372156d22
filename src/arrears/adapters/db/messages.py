"""The notification outbox on SQLAlchemy Core (`MessageStore`).

Instants are stored in UTC (SQLite keeps no offset) and read back as UTC-aware datetimes.
On PostgreSQL a claim skips rows another worker has locked (`FOR UPDATE SKIP LOCKED`); SQLite
serialises writers with `BEGIN IMMEDIATE` (see `engine.py`). A message's body and compliance
document are written once, to `message_content`, and read by the claim that leases it: the
lease and the outcome rewrite only the narrow `message` row.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from arrears.adapters.db import collections_tables as ct
from arrears.adapters.db import tables as t
from arrears.adapters.db.book import (
    driver_dates,
    driver_form,
    insert_rows,
    new_ids,
)
from arrears.application.ports import ClaimedMessage, DeliveryOutcome, OutgoingMessage


def utc(at: datetime) -> datetime:
    """`at` in UTC, for storage."""
    return at.astimezone(UTC)


def aware(value: datetime | None) -> datetime | None:
    """A stored instant as a UTC-aware datetime (SQLite hands back naive UTC)."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _claim() -> sa.UpdateBase:
    """Lease the due messages of some channels to a worker: picked, leased and read back in one
    statement (RETURNING gives no order; `claim` sorts the batch as it was picked)."""
    m = ct.message.c
    now = sa.bindparam("b_now")
    due = sa.or_(sa.and_(m.status == "pending", m.next_attempt_at <= now),
                 sa.and_(m.status == "sending", m.lease_until <= now))
    picked = (sa.select(m.id).where(due, m.channel.in_(sa.bindparam("b_channels",
                                                                    expanding=True)))
              .order_by(m.next_attempt_at, m.id).limit(sa.bindparam("b_limit"))
              .with_for_update(skip_locked=True))
    loan_ref = (sa.select(t.loan.c.loan_ref).where(t.loan.c.id == m.loan_id)
                .scalar_subquery().label("loan_ref"))
    content = ct.message_content.c
    # SQLite's RETURNING is rendered without table names, where `id = id` would name the
    # content's own key twice: the message's is spelled out.
    message_key = sa.literal_column("message.id")
    body, compliance = (sa.select(column).where(content.id == message_key).scalar_subquery()
                        .label(column.name) for column in (content.body, content.compliance))
    return (ct.message.update().where(m.id.in_(picked.scalar_subquery()))
            .values(status="sending", lease_until=sa.bindparam("b_lease_until"),
                    claimed_by=sa.bindparam("b_worker"), attempts=m.attempts + 1)
            .returning(m.id, m.next_attempt_at, m.message_id, m.channel, loan_ref, m.recipient,
                       m.subject, body, m.language, m.pack, compliance, m.attempts,
                       m.borrower_id, m.business_date))


# Built once: building the claim cost more than running it on an empty outbox.
CLAIM = _claim()


class _StoredDocument(Mapping[str, Any]):
    """A message's compliance document, parsed from its stored JSON when first read: a
    worker that already holds the decision (`notifications.PlannedDecisions`) never reads
    it, and parsing thousands of them was most of a claim."""

    __slots__ = ("_text", "_parsed")

    def __init__(self, text: str) -> None:
        self._text = text
        self._parsed: dict[str, Any] | None = None

    def _document(self) -> dict[str, Any]:
        if self._parsed is None:
            self._parsed = json.loads(self._text)
        return self._parsed

    def __getitem__(self, key: str) -> Any:
        return self._document()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._document())

    def __len__(self) -> int:
        return len(self._document())


_IN_CHUNK = 900
"""Ids per `IN (…)` list: under SQLite's default limit of 999 bound parameters."""


MESSAGE_COLUMNS = ("id", "message_id", "channel", "loan_id", "borrower_id", "business_date",
                   "template", "language", "recipient", "subject", "pack", "status",
                   "attempts", "next_attempt_at", "created_at")
CONTENT_COLUMNS = ("id", "body", "compliance")
ATTEMPT_COLUMNS = ("message_id", "at", "worker", "outcome", "detail")


class SqlMessageStore:
    def __init__(self, connection: sa.Connection) -> None:
        self.connection = connection

    def enqueue(self, messages: Sequence[OutgoingMessage]) -> int:
        if not messages:
            return 0
        ids = [m.message_id for m in messages]
        existing: set[str] = set()
        for start in range(0, len(ids), _IN_CHUNK):
            existing.update(self.connection.scalars(
                sa.select(ct.message.c.message_id)
                .where(ct.message.c.message_id.in_(ids[start:start + _IN_CHUNK]))))
        dialect = self.connection.dialect
        day = driver_dates(dialect)
        instant = driver_form(dialect, ct.message.c.next_attempt_at.type)
        added: dict[str, OutgoingMessage] = {}
        for m in messages:
            if m.message_id not in existing:
                added.setdefault(m.message_id, m)
        if not added:
            return 0
        # The content is keyed by the message's id, taken before either is written.
        ids = new_ids(self.connection, ct.message, len(added))
        insert_rows(self.connection, ct.message, MESSAGE_COLUMNS, [
            (id_, m.message_id, m.channel, m.loan_id, m.borrower_id, day(m.business_date),
             m.template, m.language, m.recipient, m.subject, m.pack, "pending", 0,
             instant(utc(m.next_attempt_at)), instant(utc(m.created_at)))
            for id_, m in zip(ids, added.values(), strict=True)])
        insert_rows(self.connection, ct.message_content, CONTENT_COLUMNS, [
            (id_, m.body, m.compliance) for id_, m in zip(ids, added.values(), strict=True)])
        return len(added)

    def claim(self, now: datetime, limit: int, worker: str, lease_until: datetime,
              channels: Sequence[str]) -> list[ClaimedMessage]:
        rows = self.connection.execute(CLAIM, {
            "b_now": utc(now), "b_channels": list(channels), "b_limit": limit,
            "b_lease_until": utc(lease_until), "b_worker": worker}).all()
        return [
            ClaimedMessage(message_id=r.message_id, channel=r.channel, loan_ref=r.loan_ref or "",
                           recipient=r.recipient, subject=r.subject, body=r.body,
                           language=r.language, pack=r.pack,
                           compliance=_StoredDocument(r.compliance), attempts=r.attempts,
                           borrower_id=r.borrower_id, business_date=r.business_date)
            for r in sorted(rows, key=lambda r: (r.next_attempt_at, r.id))
        ]

    def settle(self, worker: str, outcomes: Sequence[DeliveryOutcome]) -> int:
        """Record `outcomes` of messages `worker` holds. Messages given the same changes (a
        batch delivered at one instant) take one UPDATE over their ids; the others one
        statement per kind of outcome, run for all messages of that kind at once."""
        # A batch's outcomes share a few instants: each is put in UTC once (a zone
        # conversion a message was a tenth of a settle).
        instants: dict[datetime, datetime] = {}

        def stored(at: datetime) -> datetime:
            found = instants.get(at)
            if found is None:
                found = instants[at] = utc(at)
            return found

        groups: dict[tuple[tuple[str, Any], ...], list[str]] = {}
        for o in outcomes:
            values: dict[str, Any] = {"status": o.status}
            if o.status == "delivered":
                values["delivered_at"] = stored(o.at)
            if o.next_attempt_at is not None:
                values["next_attempt_at"] = stored(o.next_attempt_at)
            if o.detail:
                values["last_error"] = o.detail
            groups.setdefault((*values.items(), ("uncount", o.uncount)), []).append(
                o.message_id)
        m = ct.message.c
        applied = 0
        singles: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for changes, message_ids in groups.items():
            values, uncount = dict(changes[:-1]), changes[-1][1]
            if len(message_ids) == 1:
                singles.setdefault((*values, *(("uncount",) if uncount else ())), []).append(
                    {"b_message_id": message_ids[0], **values})
                continue
            for start in range(0, len(message_ids), _IN_CHUNK):
                applied += self.connection.execute(self._release(
                    worker, m.message_id.in_(message_ids[start:start + _IN_CHUNK]), values,
                    uncount=uncount)).rowcount
        for shape, rows in singles.items():
            applied += self.connection.execute(self._release(
                worker, m.message_id == sa.bindparam("b_message_id"),
                {name: sa.bindparam(name) for name in shape if name != "uncount"},
                uncount="uncount" in shape), rows).rowcount
        instant = driver_form(self.connection.dialect, ct.message_attempt.c.at.type)
        insert_rows(self.connection, ct.message_attempt, ATTEMPT_COLUMNS, [
            (o.message_id, instant(stored(o.at)), worker, o.log, o.detail) for o in outcomes])
        return applied

    @staticmethod
    def _release(worker: str, which: sa.ColumnElement[bool], values: dict[str, Any], *,
                 uncount: bool) -> sa.Update:
        """Set `values` on the messages `which` that `worker` holds, and release them; an
        `uncount` outcome gives back the attempt its claim counted."""
        m = ct.message.c
        changes = {**values, **({"attempts": m.attempts - 1} if uncount else {})}
        return ct.message.update().where(which, m.claimed_by == worker,
                                         m.status == "sending").values(
            lease_until=None, claimed_by=None, **changes)

    def next_due(self) -> datetime | None:
        m = ct.message.c
        value = self.connection.scalar(
            sa.select(sa.func.min(sa.case((m.status == "pending", m.next_attempt_at),
                                          else_=m.lease_until)))
            .where(m.status.in_(("pending", "sending"))))
        return aware(value)

    def status_counts(self) -> dict[tuple[str, str], int]:
        m = ct.message.c
        rows = self.connection.execute(
            sa.select(m.channel, m.status, sa.func.count()).group_by(m.channel, m.status))
        return {(channel, status): count for channel, status, count in rows}
