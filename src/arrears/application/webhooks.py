"""Webhooks out: what a subscription is, the events it may ask for, the document a receiver
gets, and how that document is signed.

Events are the rows of the book's `outbox`, committed with the change that caused them
(`LoanBook.emit`, `EventLog.emit`); each has a stable id, so a receiver de-duplicates on it.
The dispatcher (`handlers.webhooks.dispatch_events`) turns each new event into one delivery
per subscription that wants it, in the notification outbox on the `webhook` channel, whose
worker sends at least once with backoff and a dead-letter (`application.notifications`).

Signatures work like Stripe's: `Arrears-Signature: t=<unix seconds>,v1=<hex>`, where the hex
is the HMAC-SHA256, under the subscription's secret, of `<t>.<body>`. The receiver recomputes
it and refuses a `t` outside its tolerance, so a captured delivery cannot be replayed later.

A subscription's secret is never stored: it is derived from the server's
`ARREARS_WEBHOOK_SECRET` and the subscription's random salt, shown once when subscribing, and
derived again by the worker for each delivery. A copy of the database alone cannot forge an
event.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import json
import secrets
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol
from urllib.parse import urlsplit

from arrears.application.ports import UnitOfWork
from arrears.domain.errors import DomainError

CHANNEL = "webhook"
"""The notification-outbox channel webhook deliveries travel on."""
SIGNATURE_HEADER = "Arrears-Signature"
EVENT_ID_HEADER = "Arrears-Event-Id"
DEFAULT_TOLERANCE_SECONDS = 300
MAX_STAMP_DIGITS = 12
"""Unix seconds for the next thirty thousand years; a longer forged `t` is refused unread."""
ALL_EVENTS = "*"
EVENT_TYPES = (
    "payment.posted", "payment.reversed",
    "loan.bucket_changed", "loan.written_off",
    "plan.approved", "plan.undone", "plan.kept", "plan.broken",
    "promise.kept", "promise.broken",
    "dispute.opened", "dispute.answered",
    "message.delivered",
    "case.assigned", "placement.made", "placement.recalled",
)
MAX_URL = 2000
MIN_MASTER_SECRET_BYTES = 32
SECRET_PREFIX = "whsec_"
SUBSCRIPTION_PREFIX = "whs_"
DELIVERY_PREFIX = "whd_"
_LOOPBACK_NAME = "localhost"
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True, slots=True, kw_only=True)
class Subscription:
    id: int
    subscription_ref: str
    url: str
    event_types: frozenset[str]
    """Event types, or `ALL_EVENTS`."""
    salt: str
    """Random; with the server's secret it gives the subscription's signing secret."""
    created_at: datetime
    removed_at: datetime | None = None

    def wants(self, event: PendingEvent) -> bool:
        """Whether this subscription gets `event`: one of its types, raised since it began
        (a new subscriber is not sent the book's history)."""
        return (self.removed_at is None and event.created_at >= self.created_at
                and (ALL_EVENTS in self.event_types or event.topic in self.event_types))


@dataclass(frozen=True, slots=True, kw_only=True)
class Endpoint:
    """Where and with which secret a subscription's deliveries go."""

    url: str
    secret: str


@dataclass(frozen=True, slots=True, kw_only=True)
class PendingEvent:
    """An outbox event not yet handed to the subscribers."""

    id: int
    event_id: str
    topic: str
    business_date: date
    payload: dict[str, Any]
    created_at: datetime
    loan_ref: str | None
    currency: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliveryRow:
    """One event on its way to one subscriber."""

    id: int
    delivery_id: str
    subscription_ref: str
    event_id: str
    event_type: str
    status: str  # pending | sending | delivered | dead
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None


class WebhookStore(Protocol):
    """Subscriptions, the events waiting for dispatch and the deliveries, inside one unit of
    work. Never commits."""

    def add_subscription(self, row: Subscription) -> None: ...
    def subscription(self, subscription_ref: str) -> Subscription | None: ...
    def subscriptions(self, *, after: int = 0, limit: int | None = None,
                      live_only: bool = True) -> list[Subscription]:
        """Subscriptions with id > `after`, by id."""
        ...
    def remove_subscription(self, subscription_ref: str, at: datetime) -> bool:
        """False when there is no such live subscription."""
        ...
    def pending_events(self, limit: int) -> list[PendingEvent]:
        """Up to `limit` undispatched events, oldest first, locked against other
        dispatchers (rows another holds are skipped)."""
        ...
    def mark_dispatched(self, ids: Sequence[int], at: datetime) -> None: ...
    def deliveries(self, *, after: int, limit: int, status: str | None,
                   subscription_ref: str | None) -> list[DeliveryRow]:
        """Webhook deliveries with id > `after`, by id."""
        ...
    def redeliver(self, delivery_id: str, at: datetime) -> bool:
        """Put a dead delivery back in the queue, due at `at` with its attempts reset; False
        when there is no dead delivery of that id."""
        ...


class WebhookUnitOfWork(UnitOfWork, Protocol):
    webhooks: WebhookStore


def new_subscription_ref() -> str:
    return SUBSCRIPTION_PREFIX + secrets.token_hex(8)


def new_salt() -> str:
    return secrets.token_hex(16)


def check_master_secret(secret: bytes | None, field: str = "ARREARS_WEBHOOK_SECRET") -> bytes:
    if secret is None or len(secret) < MIN_MASTER_SECRET_BYTES:
        raise DomainError(field, f"set it to at least {MIN_MASTER_SECRET_BYTES} random bytes: "
                                 "webhook signing secrets derive from it")
    return secret


def subscription_secret(master: bytes, subscription_ref: str, salt: str) -> str:
    """The subscription's signing secret (see the module docstring)."""
    digest = hmac.new(master, f"arrears-webhook\n{subscription_ref}\n{salt}".encode(),
                      hashlib.sha256).digest()
    return SECRET_PREFIX + base64.urlsafe_b64encode(digest).decode().rstrip("=")


def signature_header(secret: str, timestamp: int, body: bytes) -> str:
    """`t=<timestamp>,v1=<hex HMAC-SHA256 of "<timestamp>.<body>">`."""
    return f"t={timestamp},v1={_mac(secret, timestamp, body)}"


def _mac(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), str(timestamp).encode() + b"." + body,
                    hashlib.sha256).hexdigest()


def verify_signature(secret: str, header: str, body: bytes, now: int,
                     tolerance: int = DEFAULT_TOLERANCE_SECONDS) -> bool:
    """What a receiver does: the header's `v1` matches the body and its `t` is within
    `tolerance` seconds of `now`."""
    parts: dict[str, str] = {}
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        parts.setdefault(name, value)
    stamp, sent = parts.get("t", ""), parts.get("v1", "")
    if not (stamp.isascii() and stamp.isdigit() and len(stamp) <= MAX_STAMP_DIGITS) \
            or abs(now - int(stamp)) > tolerance:
        return False
    return hmac.compare_digest(sent, _mac(secret, int(stamp), body))


def delivery_id(subscription_ref: str, event_id: str) -> str:
    """Stable per (subscription, event): dispatching an event twice queues it once."""
    digest = hashlib.sha256(f"{subscription_ref}\n{event_id}".encode()).hexdigest()
    return DELIVERY_PREFIX + digest[:40]


def document(event: PendingEvent) -> bytes:
    """The body a receiver gets. `data` is the event's payload, with the loan's id and its
    currency when the event is about a loan (amounts in `data` are integer minor units)."""
    data = dict(event.payload)
    if event.loan_ref is not None:
        data.setdefault("loan_id", event.loan_ref)
        data.setdefault("currency", event.currency)
    return json.dumps({"id": event.event_id, "type": event.topic,
                       "created_at": event.created_at.isoformat(),
                       "business_date": event.business_date.isoformat(), "data": data},
                      ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def parse_url(url: str, field: str = "url", *, allow_private: bool = False) -> str:
    """An https URL with a host and no credentials, to a public address unless
    `allow_private` (then plain http too, to this machine only). A host name is checked again
    for the addresses it resolves to when each delivery is sent (`public_address`)."""
    if not url or len(url) > MAX_URL:
        raise DomainError(field, f"must be a URL of at most {MAX_URL} characters")
    if not url.isprintable() or " " in url:
        raise DomainError(field, "must not hold spaces or control characters")
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").rstrip(".")
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:
        raise DomainError(field, f"{url!r} is not a URL") from None
    if parts.scheme not in ("https", "http") or not host:
        raise DomainError(field, "must be an https:// URL with a host")
    if parts.username is not None or parts.password is not None:
        raise DomainError(field, "must not carry a user name or password")
    address = ip_literal(host)
    if not allow_private and (_loopback_name(host) or (address is not None
                                                       and not public_address(address))):
        raise DomainError(field, f"{host} is not a public address (loopback, private and "
                                 "reserved addresses are refused)")
    if parts.scheme == "http" and not (_loopback_name(host) or (
            address is not None and address.is_loopback)):
        raise DomainError(field, "must be https:// (plain http:// only to localhost)")
    return url


def _loopback_name(host: str) -> bool:
    return host == _LOOPBACK_NAME or host.endswith("." + _LOOPBACK_NAME)


def ip_literal(host: str) -> IPAddress | None:
    """The address `host` spells, in any form a resolver reads as one (`127.1`,
    `2130706433`, `0x7f.1` as well as `127.0.0.1`), else None for a name."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    try:  # the C library's reading of a dotted, decimal, octal or hex IPv4 number
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except OSError:
        return None


def public_address(address: IPAddress) -> bool:
    """Whether `address` is on the public internet: not loopback, private, link-local
    (cloud metadata), shared, multicast or reserved, nor an IPv6 form of such an IPv4
    address (mapped, 6to4, NAT64)."""
    if isinstance(address, ipaddress.IPv6Address):
        if address in _NAT64:
            return public_address(ipaddress.IPv4Address(int(address) & 0xFFFF_FFFF))
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is not None:
            return public_address(embedded)
    return address.is_global and not address.is_multicast


def parse_event_types(names: Sequence[str], field: str = "event_types") -> frozenset[str]:
    """Known event types (or `*` for all); at least one."""
    if not names:
        raise DomainError(field, f"name at least one event type, or {ALL_EVENTS!r} for all")
    for name in names:
        if name != ALL_EVENTS and name not in EVENT_TYPES:
            raise DomainError(field, f"unknown event type {name!r} (expected {ALL_EVENTS!r} "
                                     f"or some of {', '.join(EVENT_TYPES)})")
    return frozenset(names)
