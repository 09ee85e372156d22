"""Delivering the notification outbox: lease a batch, decide again, send, record.

At-least-once: a worker leases a batch (attempts counted at lease time), sends each message
through its channel with the message's stable id, and records the outcomes in one commit at
the end of the batch. A worker that dies mid-batch leaves its lease to run out; the next
worker takes the batch again, so a message can be delivered twice, never more often than the
batches in flight, and always with the same id, which the receiving side de-duplicates on.
The commit that records a delivery raises its `message.delivered` event (for webhooks).

Before each send the compliance engine decides again, at the instant of sending, with the
action and facts the message was planned with, and the borrower's contact preferences and the
loan's disputes as the book holds them then (an opt-out, a request to stop or a dispute
received since planning blocks it, a revocation or an answer lets it go): a message whose
hour has passed waits for `next_allowed_at` (not counted as an attempt); one the engine now
refuses for good is `blocked` with the rule ids. Failures back off exponentially (base ×
2^(attempts-1), capped) and go to `dead` after the attempt limit. A per-channel token bucket
limits the send rate.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from arrears.application import webhooks
from arrears.application.contact_decisions import with_preferences
from arrears.application.disputes import DisputeRow
from arrears.application.ports import (
    ClaimedMessage,
    Clock,
    ContactPreferenceRow,
    DeliveryOutcome,
    Event,
    UnitOfWork,
)
from arrears.compliance import codec, packs
from arrears.compliance import engine as compliance_engine
from arrears.compliance.model import Action, Decision


class DeliveryError(Exception):
    """A channel could not deliver. `transient` failures are retried, others go dead."""

    def __init__(self, reason: str, *, transient: bool = True) -> None:
        super().__init__(reason)
        self.reason = reason
        self.transient = transient


class Channel(Protocol):
    """One way out (SMTP, SMS gateway, call tasks, letters). Opens nothing until it sends."""

    def send(self, message: ClaimedMessage) -> None:
        """Deliver `message` (carrying `message.message_id`) or raise `DeliveryError`."""
        ...

    def close(self) -> None: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class RateLimit:
    """At most `per_window` sends per `window` (token bucket, `burst` tokens at most)."""

    per_window: int
    window: timedelta = timedelta(seconds=1)
    burst: int | None = None

    @property
    def capacity(self) -> int:
        return self.burst if self.burst is not None else self.per_window


@dataclass(slots=True)
class TokenBucket:
    limit: RateLimit
    tokens: float
    updated: datetime

    def take(self, now: datetime) -> datetime | None:
        """Take a token at `now`; None if taken, else the instant the next one is there."""
        interval = self.limit.window / self.limit.per_window
        if now > self.updated:
            self.tokens = min(float(self.limit.capacity),
                              self.tokens + (now - self.updated) / interval)
            self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            return None
        return now + interval * (1 - self.tokens)


@dataclass(slots=True)
class RateLimiter:
    """Per-channel token buckets on the injected clock (per worker process)."""

    limits: Mapping[str, RateLimit]
    buckets: dict[str, TokenBucket] = field(default_factory=dict)

    def take(self, channel: str, now: datetime) -> datetime | None:
        limit = self.limits.get(channel)
        if limit is None:
            return None
        bucket = self.buckets.get(channel)
        if bucket is None:
            bucket = self.buckets[channel] = TokenBucket(limit, float(limit.capacity), now)
        return bucket.take(now)


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliveryPolicy:
    batch_size: int = 100
    lease: timedelta = timedelta(minutes=5)
    max_attempts: int = 6
    backoff_base: timedelta = timedelta(seconds=30)
    backoff_cap: timedelta = timedelta(hours=2)
    jitter: float = 0.0
    """Up to this share of the delay added, derived from the message id (deterministic)."""

    def backoff(self, message_id: str, attempts: int) -> timedelta:
        delay: timedelta = min(self.backoff_cap,
                               self.backoff_base * (2 ** max(0, attempts - 1)))
        if self.jitter:
            digest = hashlib.blake2b(f"{message_id}:{attempts}".encode(), digest_size=2).digest()
            delay += delay * self.jitter * (int.from_bytes(digest, "big") / 0xFFFF)
        return delay


@dataclass(frozen=True, slots=True, kw_only=True)
class BatchReport:
    claimed: int
    delivered: int
    failed: int
    deferred: int
    blocked: int
    dead: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Standing:
    """What the book holds at send time from the message's borrower: their contact
    preference rows and the disputes of the message's loan."""

    preferences: Sequence[ContactPreferenceRow] = ()
    disputes: Sequence[DisputeRow] = ()


AtSend = Standing | None
"""None when the message names no borrower (then the facts it was planned with stand)."""
SendCheck = Callable[[ClaimedMessage, datetime, AtSend], Decision]


def decide_at_send(message: ClaimedMessage, at: datetime, standing: AtSend) -> Decision:
    """The compliance decision for sending `message` at `at`, with the facts it was planned
    with (hours, wording, identification and every other rule of its pack), the borrower's
    preferences in force at `at` and the loan's disputes."""
    document = message.compliance
    action = codec.parse_dataclass(document["action"], Action, "compliance.action")
    facts = codec.parse_facts(document["facts"])
    if standing is not None:
        facts = with_preferences(facts, action.recipient.person_id, standing.preferences, at,
                                 disputes=standing.disputes)
    return compliance_engine.decide(action, facts, packs.get(message.pack), at)


@dataclass(slots=True)
class PlannedDecisions:
    """The decisions a strategy run made for the messages it scheduled, kept for a worker in
    the same process. A message sent at the very instant it was decided for, with the
    borrower's contact preferences and the loan's disputes as they stood then, gets the same
    decision again (the engine is a function of the action, its facts and the instant, and
    the message carries the action and facts it was decided with), so the worker takes it
    from here; any other message is decided again (`decide_at_send`)."""

    decisions: dict[str, tuple[datetime, Standing, Decision]] = field(default_factory=dict)

    def record(self, message_id: str, at: datetime, standing: Standing,
               decision: Decision) -> None:
        self.decisions[message_id] = (at, standing, decision)

    def check(self, message: ClaimedMessage, at: datetime, standing: AtSend) -> Decision:
        """A `SendCheck`."""
        found = self.decisions.pop(message.message_id, None)
        if found is not None and standing is not None and found[0] == at and \
                tuple(standing.preferences) == tuple(found[1].preferences) and \
                tuple(standing.disputes) == tuple(found[1].disputes):
            return found[2]
        return decide_at_send(message, at, standing)


def deliver_batch(
    *,
    uow_factory: Callable[[], UnitOfWork],
    channels: Mapping[str, Channel],
    clock: Clock,
    worker: str,
    policy: DeliveryPolicy = DeliveryPolicy(),
    limiter: RateLimiter | None = None,
    check: SendCheck = decide_at_send,
    on_sent: Callable[[ClaimedMessage], None] = lambda _: None,
) -> BatchReport:
    """Lease one batch of due messages, deliver it, record every outcome in one commit."""
    now = clock.now()
    with uow_factory() as uow:
        batch = uow.messages.claim(now, policy.batch_size, worker, now + policy.lease,
                                   sorted(channels))
        borrowers = sorted({m.borrower_id for m in batch if m.borrower_id is not None})
        preferences = uow.collections.contact_preferences(borrowers) if borrowers else {}
        disputes = uow.disputes.of_loans(sorted({m.loan_ref for m in batch
                                                 if m.borrower_id is not None}))
        uow.commit()
    if not batch:
        return BatchReport(claimed=0, delivered=0, failed=0, deferred=0, blocked=0, dead=0)
    outcomes: list[DeliveryOutcome] = []
    for message in batch:
        standing = None if message.borrower_id is None else Standing(
            preferences=preferences.get(message.borrower_id, ()),
            disputes=disputes.get(message.loan_ref, ()))
        outcomes.append(_deliver_one(message, standing, channels, clock, policy, limiter, check,
                                     on_sent))
    with uow_factory() as uow:
        uow.messages.settle(worker, outcomes)
        uow.events.emit(_delivered(batch, outcomes))
        uow.commit()
    logs = [o.log for o in outcomes]
    return BatchReport(claimed=len(batch), delivered=logs.count("delivered"),
                       failed=logs.count("failed"), deferred=logs.count("deferred"),
                       blocked=logs.count("blocked"), dead=logs.count("dead"))


def _delivered(batch: Sequence[ClaimedMessage], outcomes: Sequence[DeliveryOutcome]
               ) -> list[Event]:
    """A `message.delivered` event per message handed over (a webhook delivery raises none: it
    would raise an event for each event). Its id is the message's, so a message delivered
    twice is reported once."""
    sent = {o.message_id: o for o in outcomes if o.status == "delivered"}
    return [Event(message_id=f"message.delivered:{_short(m.message_id)}",
                  topic="message.delivered", loan_id=None,
                  business_date=m.business_date or sent[m.message_id].at.date(),
                  created_at=sent[m.message_id].at,
                  payload={"message_id": m.message_id, "channel": m.channel,
                           "loan_id": m.loan_ref or None})
            for m in batch if m.message_id in sent and m.channel != webhooks.CHANNEL]


def _short(message_id: str) -> str:
    # The event id must fit the outbox's column whatever the message id's length.
    return hashlib.sha256(message_id.encode()).hexdigest()[:40]


def _deliver_one(
    message: ClaimedMessage,
    standing: AtSend,
    channels: Mapping[str, Channel],
    clock: Clock,
    policy: DeliveryPolicy,
    limiter: RateLimiter | None,
    check: SendCheck,
    on_sent: Callable[[ClaimedMessage], None],
) -> DeliveryOutcome:
    at = clock.now()
    decision = check(message, at, standing)
    if not decision.allowed:
        rules = ",".join(v.rule_id for v in decision.violations)
        if decision.next_allowed_at is not None:
            return DeliveryOutcome(message_id=message.message_id, status="pending", at=at,
                                   log="deferred", next_attempt_at=decision.next_allowed_at,
                                   detail=f"compliance: {rules}", uncount=True)
        return DeliveryOutcome(message_id=message.message_id, status="blocked", at=at,
                               log="blocked", detail=f"compliance: {rules}")
    if limiter is not None:
        wait_until = limiter.take(message.channel, at)
        if wait_until is not None:
            return DeliveryOutcome(message_id=message.message_id, status="pending", at=at,
                                   log="deferred", next_attempt_at=wait_until,
                                   detail="rate limit", uncount=True)
    try:
        channels[message.channel].send(message)
    except DeliveryError as error:
        if not error.transient or message.attempts >= policy.max_attempts:
            return DeliveryOutcome(message_id=message.message_id, status="dead", at=at,
                                   log="dead", detail=error.reason)
        retry_at = at + policy.backoff(message.message_id, message.attempts)
        return DeliveryOutcome(message_id=message.message_id, status="pending", at=at,
                               log="failed", next_attempt_at=retry_at, detail=error.reason)
    on_sent(message)
    return DeliveryOutcome(message_id=message.message_id, status="delivered", at=at,
                           log="delivered")


def drain(
    *,
    uow_factory: Callable[[], UnitOfWork],
    channels: Mapping[str, Channel],
    clock: Clock,
    worker: str,
    policy: DeliveryPolicy = DeliveryPolicy(),
    limiter: RateLimiter | None = None,
    check: SendCheck = decide_at_send,
    max_batches: int | None = None,
) -> list[BatchReport]:
    """Deliver batches until nothing is due at the clock's current instant."""
    reports: list[BatchReport] = []
    while max_batches is None or len(reports) < max_batches:
        report = deliver_batch(uow_factory=uow_factory, channels=channels, clock=clock,
                               worker=worker, policy=policy, limiter=limiter, check=check)
        if not report.claimed:
            break
        reports.append(report)
        if report.deferred == report.claimed:
            break  # everything waits for a later instant
    return reports
