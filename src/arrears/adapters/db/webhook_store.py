"""Webhook subscriptions, the outbox events waiting for dispatch, and the webhook deliveries
(rows of the notification outbox on the `webhook` channel) on SQLAlchemy Core."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa

from arrears.adapters.db import api_tables as apt
from arrears.adapters.db import collections_tables as ct
from arrears.adapters.db import tables as t
from arrears.adapters.db.messages import aware, utc
from arrears.application.webhooks import CHANNEL, DeliveryRow, PendingEvent, Subscription


def _aware(value: datetime) -> datetime:
    instant = aware(value)
    assert instant is not None
    return instant


class SqlWebhookStore:
    def __init__(self, connection: sa.Connection) -> None:
        self.connection = connection

    def add_subscription(self, row: Subscription) -> None:
        self.connection.execute(apt.webhook_subscription.insert().values(
            subscription_ref=row.subscription_ref, url=row.url,
            event_types=" ".join(sorted(row.event_types)), salt=row.salt,
            created_at=utc(row.created_at)))

    @staticmethod
    def _subscription(row: sa.Row[tuple[object, ...]]) -> Subscription:
        m = row._mapping
        return Subscription(id=m["id"], subscription_ref=m["subscription_ref"], url=m["url"],
                            event_types=frozenset(m["event_types"].split()), salt=m["salt"],
                            created_at=_aware(m["created_at"]),
                            removed_at=aware(m["removed_at"]))

    def subscription(self, subscription_ref: str) -> Subscription | None:
        s = apt.webhook_subscription.c
        row = self.connection.execute(sa.select(apt.webhook_subscription).where(
            s.subscription_ref == subscription_ref)).first()
        return None if row is None else self._subscription(row)

    def subscriptions(self, *, after: int = 0, limit: int | None = None,
                      live_only: bool = True) -> list[Subscription]:
        s = apt.webhook_subscription.c
        query = sa.select(apt.webhook_subscription).where(s.id > after).order_by(s.id)
        if live_only:
            query = query.where(s.removed_at.is_(None))
        if limit is not None:
            query = query.limit(limit)
        return [self._subscription(row) for row in self.connection.execute(query)]

    def remove_subscription(self, subscription_ref: str, at: datetime) -> bool:
        s = apt.webhook_subscription.c
        done = self.connection.execute(apt.webhook_subscription.update().where(
            s.subscription_ref == subscription_ref, s.removed_at.is_(None)).values(
            removed_at=utc(at)))
        return done.rowcount == 1

    def pending_events(self, limit: int) -> list[PendingEvent]:
        o, loan = t.outbox.c, t.loan.c
        rows = self.connection.execute(
            sa.select(o.id, o.message_id, o.topic, o.business_date, o.payload, o.created_at,
                      loan.loan_ref, loan.currency)
            .select_from(t.outbox.outerjoin(t.loan, loan.id == o.loan_id))
            # Inline, not a bound parameter: only a literal lets a prepared statement use the
            # partial index of pending events (`ix_outbox_pending`).
            .where(o.status == sa.literal_column("'pending'")).order_by(o.id).limit(limit)
            .with_for_update(skip_locked=True, of=t.outbox))
        return [PendingEvent(id=r.id, event_id=r.message_id, topic=r.topic,
                             business_date=r.business_date, payload=json.loads(r.payload),
                             created_at=_aware(r.created_at), loan_ref=r.loan_ref,
                             currency=r.currency) for r in rows]

    def mark_dispatched(self, ids: Sequence[int], at: datetime) -> None:
        o = t.outbox.c
        for start in range(0, len(ids), 900):
            self.connection.execute(t.outbox.update().where(o.id.in_(ids[start:start + 900]))
                                    .values(status="dispatched", delivered_at=utc(at)))

    def deliveries(self, *, after: int, limit: int, status: str | None,
                   subscription_ref: str | None) -> list[DeliveryRow]:
        m = ct.message.c
        query = (sa.select(m.id, m.message_id, m.recipient, m.subject, m.template, m.status,
                           m.attempts, m.next_attempt_at, m.last_error, m.created_at,
                           m.delivered_at)
                 .where(m.channel == CHANNEL, m.id > after).order_by(m.id).limit(limit))
        if status is not None:
            query = query.where(m.status == status)
        if subscription_ref is not None:
            query = query.where(m.recipient == subscription_ref)
        return [DeliveryRow(id=r.id, delivery_id=r.message_id, subscription_ref=r.recipient,
                            event_id=r.subject, event_type=r.template, status=r.status,
                            attempts=r.attempts, next_attempt_at=_aware(r.next_attempt_at),
                            last_error=r.last_error, created_at=_aware(r.created_at),
                            delivered_at=aware(r.delivered_at))
                for r in self.connection.execute(query)]

    def redeliver(self, delivery_id: str, at: datetime) -> bool:
        m = ct.message.c
        done = self.connection.execute(ct.message.update().where(
            m.message_id == delivery_id, m.channel == CHANNEL, m.status == "dead").values(
            status="pending", attempts=0, next_attempt_at=utc(at), last_error=None))
        return done.rowcount == 1
