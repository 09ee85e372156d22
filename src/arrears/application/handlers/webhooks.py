"""Webhooks: subscribe, list and remove subscribers; dispatch new events into deliveries; send
them; list and redeliver dead letters (see `application.webhooks` for the whole design).

Sending reuses the notification outbox's worker on the `webhook` channel: leases, attempts
counted at lease time, exponential backoff, a dead-letter after the attempt limit, and no
database transaction open while a request is on the wire. A webhook tells a lender's system
what happened in the book; it contacts no borrower, so no compliance rule applies to it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from arrears.application import notifications
from arrears.application.notifications import AtSend, BatchReport, Channel, DeliveryPolicy
from arrears.application.ports import ClaimedMessage, Clock, OutgoingMessage
from arrears.application.webhooks import (
    CHANNEL,
    DeliveryRow,
    Endpoint,
    PendingEvent,
    Subscription,
    WebhookUnitOfWork,
    check_master_secret,
    delivery_id,
    document,
    new_salt,
    new_subscription_ref,
    parse_event_types,
    parse_url,
    subscription_secret,
)
from arrears.compliance.model import Decision
from arrears.domain.errors import DomainError

MAX_SUBSCRIPTIONS = 100
"""Each event is copied once per subscriber; a bound keeps one event's fan-out small."""
DISPATCH_BATCH = 500
STATUSES = ("pending", "sending", "delivered", "dead")

UowFactory = Callable[[], WebhookUnitOfWork]


@dataclass(frozen=True, slots=True, kw_only=True)
class Subscribed:
    subscription: Subscription
    secret: str
    """The signing secret: shown to the subscriber once, never stored."""


def subscribe(url: str, event_types: Sequence[str], *, master_secret: bytes | None,
              uow_factory: UowFactory, clock: Clock, allow_private: bool = False
              ) -> Subscribed:
    """A new subscriber of `event_types` (`*` for all) at `url` (a public address unless
    `allow_private`), and its signing secret."""
    row = Subscription(id=0, subscription_ref=new_subscription_ref(),
                       url=parse_url(url, allow_private=allow_private),
                       event_types=parse_event_types(event_types), salt=new_salt(),
                       created_at=clock.now())
    master = check_master_secret(master_secret)
    with uow_factory() as uow:
        if len(uow.webhooks.subscriptions(limit=MAX_SUBSCRIPTIONS)) >= MAX_SUBSCRIPTIONS:
            raise DomainError("url", f"there are {MAX_SUBSCRIPTIONS} subscriptions already; "
                                     "remove one first")
        uow.webhooks.add_subscription(row)
        uow.commit()
    return Subscribed(subscription=row,
                      secret=subscription_secret(master, row.subscription_ref, row.salt))


def subscription_document(row: Subscription) -> dict[str, Any]:
    return {"id": row.subscription_ref, "url": row.url, "event_types": sorted(row.event_types),
            "created_at": row.created_at.isoformat(),
            "removed_at": row.removed_at.isoformat() if row.removed_at else None}


def list_subscriptions(*, after: int, limit: int, uow_factory: UowFactory
                       ) -> list[Subscription]:
    """Live subscriptions with id > `after`, by id."""
    with uow_factory() as uow:
        return uow.webhooks.subscriptions(after=after, limit=limit)


def unsubscribe(subscription_ref: str, *, uow_factory: UowFactory, clock: Clock) -> datetime:
    """Remove a subscriber; its deliveries still queued go dead instead of being sent."""
    at = clock.now()
    with uow_factory() as uow:
        if not uow.webhooks.remove_subscription(subscription_ref, at):
            raise DomainError("id", f"no subscription {subscription_ref!r}")
        uow.commit()
    return at


def dispatch_events(*, uow_factory: UowFactory, clock: Clock,
                    limit: int = DISPATCH_BATCH) -> int:
    """Turn up to `limit` new events into one queued delivery per subscriber that wants each;
    returns how many events were dispatched. The events are locked while this runs, and a
    delivery's id is fixed by its subscriber and event, so two dispatchers queue nothing
    twice."""
    with uow_factory() as uow:
        events = uow.webhooks.pending_events(limit)
        if not events:
            return 0
        subscriptions = uow.webhooks.subscriptions()
        now = clock.now()
        uow.messages.enqueue([_delivery(event, subscription, now) for event in events
                              for subscription in subscriptions if subscription.wants(event)])
        uow.webhooks.mark_dispatched([event.id for event in events], now)
        uow.commit()
    return len(events)


def _delivery(event: PendingEvent, subscription: Subscription, now: datetime
              ) -> OutgoingMessage:
    return OutgoingMessage(
        message_id=delivery_id(subscription.subscription_ref, event.event_id), channel=CHANNEL,
        loan_id=None, borrower_id=None, business_date=event.business_date,
        template=event.topic, language="", recipient=subscription.subscription_ref,
        subject=event.event_id, body=document(event).decode(), pack="", compliance="{}",
        next_attempt_at=now, created_at=now)


def endpoint_of(subscription_ref: str, *, master_secret: bytes, uow_factory: UowFactory
                ) -> Endpoint | None:
    """The URL and signing secret of a live subscription (None once removed): read when each
    delivery is sent, so a removal stops what is still queued."""
    with uow_factory() as uow:
        row = uow.webhooks.subscription(subscription_ref)
    if row is None or row.removed_at is not None:
        return None
    return Endpoint(url=row.url,
                    secret=subscription_secret(master_secret, row.subscription_ref, row.salt))


def not_a_contact(message: ClaimedMessage, at: datetime, _: AtSend) -> Decision:
    """The send-time check of a webhook: always allowed (see the module docstring)."""
    return Decision(allowed=True, at=at, pack="", pack_version="")


def deliver(*, uow_factory: UowFactory, channel: Channel, clock: Clock, worker: str,
            policy: DeliveryPolicy) -> tuple[int, list[BatchReport]]:
    """Dispatch every new event, then send what is due at the clock's current instant:
    (events dispatched, the batch reports)."""
    dispatched = 0
    while batch := dispatch_events(uow_factory=uow_factory, clock=clock):
        dispatched += batch
    reports = notifications.drain(uow_factory=uow_factory, channels={CHANNEL: channel},
                                  clock=clock, worker=worker, policy=policy,
                                  check=not_a_contact)
    return dispatched, reports


def delivery_document(row: DeliveryRow) -> dict[str, Any]:
    return {"id": row.delivery_id, "subscription_id": row.subscription_ref,
            "event_id": row.event_id, "event_type": row.event_type, "status": row.status,
            "attempts": row.attempts, "next_attempt_at": row.next_attempt_at.isoformat(),
            "last_error": row.last_error, "created_at": row.created_at.isoformat(),
            "delivered_at": row.delivered_at.isoformat() if row.delivered_at else None}


def list_deliveries(*, status: str | None, subscription_ref: str | None, after: int,
                    limit: int, uow_factory: UowFactory) -> list[DeliveryRow]:
    """Deliveries with id > `after`, by id; `status` `dead` lists the dead letters."""
    if status is not None and status not in STATUSES:
        raise DomainError("status", f"must be one of {', '.join(STATUSES)}")
    with uow_factory() as uow:
        return uow.webhooks.deliveries(after=after, limit=limit, status=status,
                                       subscription_ref=subscription_ref)


def redeliver(delivery: str, *, uow_factory: UowFactory, clock: Clock) -> datetime:
    """Queue a dead letter again (after the receiver is fixed), due now, attempts from 0."""
    at = clock.now()
    with uow_factory() as uow:
        if not uow.webhooks.redeliver(delivery, at):
            raise DomainError("id", f"no dead delivery {delivery!r}")
        uow.commit()
    return at
