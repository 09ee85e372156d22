"""`arrears webhooks add | list | remove | deliveries | redeliver | deliver`: subscribers of
the book's events, their deliveries and dead letters, and the worker that sends them.

Signing secrets derive from ARREARS_WEBHOOK_SECRET (see `application.webhooks`): `add` and
`deliver` need it set, the same value the API server has.
"""

from __future__ import annotations

import math
import os
import socket
import time
from datetime import timedelta
from typing import TYPE_CHECKING, Annotated, Any

import typer

from arrears.entrypoints.cli.output import console, emit_json, fail, user_errors

if TYPE_CHECKING:
    from arrears import bootstrap

DbOption = Annotated[str | None, typer.Option("--db", help="Database URL (default: ARREARS_DB "
                                                             "or sqlite:///./arrears.db)")]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]
PAGE = 500
MAX_ATTEMPTS = 30
MAX_BATCH = 10_000
LONGEST_WAIT_SECONDS = 86_400.0
STATUSES = ("pending", "sending", "delivered", "dead")

webhooks_app = typer.Typer(help="Webhooks out: subscribers, deliveries and dead letters, and "
                                "the worker that sends them.", no_args_is_help=True)


def _services(db: str | None) -> bootstrap.Services:
    from arrears import bootstrap
    from arrears.config import Settings

    with user_errors():
        return bootstrap.build(Settings.from_env(database_url=db))


def _book(db: str | None) -> bootstrap.Services:
    """The services, once the book has answered: a bad --db is named before the secret."""
    from arrears.application.handlers import webhooks

    built = _services(db)
    with user_errors():
        webhooks.list_subscriptions(after=0, limit=1, uow_factory=built.api_uow_factory())
    return built


def _master_secret() -> bytes | None:
    from arrears.entrypoints.api.settings import ApiSettings

    with user_errors():
        return ApiSettings.from_env().webhook_secret


def _allow_private() -> bool:
    """ARREARS_WEBHOOK_ALLOW_PRIVATE, as the API server reads it."""
    from arrears.entrypoints.api.settings import ApiSettings

    with user_errors():
        return ApiSettings.from_env().webhook_allow_private


def _show(document: dict[str, Any], as_json: bool) -> None:
    emit_json(document) if as_json else console().print(document)


@webhooks_app.command("add")
def add(
    url: Annotated[str, typer.Argument(metavar="URL", help="https URL that receives events")],
    event: Annotated[list[str] | None, typer.Option(
        "--event", help="An event type, or * for all (repeat; default: all)")] = None,
    db: DbOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Subscribe a URL to event types; its signing secret is printed only now."""
    from arrears.application.handlers import webhooks

    built = _book(db)
    master = _master_secret()
    with user_errors():
        created = webhooks.subscribe(url, event or ["*"], master_secret=master,
                                     uow_factory=built.api_uow_factory(), clock=built.clock,
                                     allow_private=_allow_private())
    document = webhooks.subscription_document(created.subscription)
    if as_json:
        emit_json(document | {"secret": created.secret})
        return
    console().print(document)
    console().print("signing secret (shown only now):")
    typer.echo(created.secret)


@webhooks_app.command("list")
def list_subscriptions(db: DbOption = None, as_json: JsonFlag = False) -> None:
    """Live subscriptions, oldest first (no secrets)."""
    from arrears.application.handlers import webhooks

    built = _services(db)
    rows, after = [], 0
    while page := webhooks.list_subscriptions(after=after, limit=PAGE,
                                              uow_factory=built.api_uow_factory()):
        rows += page
        after = page[-1].id
    _show({"subscriptions": [webhooks.subscription_document(r) for r in rows]}, as_json)


@webhooks_app.command("remove")
def remove(
    subscription_id: Annotated[str, typer.Argument(metavar="ID", help="e.g. whs_…")],
    db: DbOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Remove a subscription: nothing more is sent to it, queued deliveries included."""
    from arrears.application.handlers import webhooks

    built = _services(db)
    with user_errors():
        at = webhooks.unsubscribe(subscription_id, uow_factory=built.api_uow_factory(),
                                  clock=built.clock)
    _show({"id": subscription_id, "removed_at": at.isoformat()}, as_json)


@webhooks_app.command("deliveries")
def deliveries(
    status: Annotated[str | None, typer.Option(
        help="pending, sending, delivered or dead (the dead letters)")] = None,
    subscription: Annotated[str | None, typer.Option(help="Only this subscription's")] = None,
    limit: Annotated[int, typer.Option(help="At most this many, oldest first")] = 100,
    db: DbOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Deliveries, oldest first: each event on its way to one subscriber."""
    from arrears.application.handlers import webhooks

    if status is not None and status not in STATUSES:
        fail("--status", f"must be one of {', '.join(STATUSES)} (got {status!r})")
    if not 1 <= limit <= MAX_BATCH:
        fail("--limit", f"must be from 1 to {MAX_BATCH:,} (got {limit})")
    built = _services(db)
    rows = webhooks.list_deliveries(status=status, subscription_ref=subscription, after=0,
                                    limit=limit, uow_factory=built.api_uow_factory())
    _show({"deliveries": [webhooks.delivery_document(r) for r in rows]}, as_json)


@webhooks_app.command("redeliver")
def redeliver(
    delivery_id: Annotated[str, typer.Argument(metavar="ID", help="A dead delivery, whd_…")],
    db: DbOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Queue a dead letter again, due now with its attempts counted from zero."""
    from arrears.application.handlers import webhooks

    built = _services(db)
    with user_errors():
        at = webhooks.redeliver(delivery_id, uow_factory=built.api_uow_factory(),
                                clock=built.clock)
    _show({"id": delivery_id, "next_attempt_at": at.isoformat()}, as_json)


def _seconds(value: float, field: str) -> float:
    # NaN, an infinity, zero or a negative would make every retry immediate or overflow.
    if not (math.isfinite(value) and 0 < value <= LONGEST_WAIT_SECONDS):
        fail(field, f"must be a number of seconds above 0 and at most "
                    f"{LONGEST_WAIT_SECONDS:g} (got {value})")
    return value


@webhooks_app.command("deliver")
def deliver(
    worker_id: Annotated[str | None, typer.Option(help="Name of this worker")] = None,
    batch_size: Annotated[int, typer.Option(help="Deliveries leased per batch")] = 100,
    lease_seconds: Annotated[float, typer.Option(help="Lease per batch")] = 300.0,
    max_attempts: Annotated[int, typer.Option(help="Attempts before dead-letter")] = 8,
    backoff_seconds: Annotated[float, typer.Option(help="First retry delay")] = 30.0,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for a receiver")] = 10.0,
    until_idle: Annotated[bool, typer.Option(
        "--until-idle", help="Exit when nothing is due now")] = False,
    poll: Annotated[float, typer.Option(help="Seconds between polls when idle")] = 2.0,
    db: DbOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Send webhook deliveries: at least once, signed, with backoff and a dead-letter."""
    from functools import partial

    from arrears.adapters.channels.webhook import WebhookChannel
    from arrears.application import notifications
    from arrears.application.handlers import webhooks
    from arrears.application.webhooks import check_master_secret

    if not 1 <= batch_size <= MAX_BATCH:
        fail("--batch-size", f"must be from 1 to {MAX_BATCH:,} (got {batch_size})")
    if not 1 <= max_attempts <= MAX_ATTEMPTS:
        fail("--max-attempts", f"must be from 1 to {MAX_ATTEMPTS} (got {max_attempts})")
    for value, field in ((lease_seconds, "--lease-seconds"), (timeout, "--timeout"),
                         (poll, "--poll")):
        _seconds(value, field)
    # A retry waits at most the policy's cap, so a longer first delay would mean nothing.
    cap = notifications.DeliveryPolicy().backoff_cap.total_seconds()
    if not (math.isfinite(backoff_seconds) and 0 < backoff_seconds <= cap):
        fail("--backoff-seconds", f"must be above 0 and at most {cap:g} (got {backoff_seconds})")
    policy = notifications.DeliveryPolicy(
        batch_size=batch_size, max_attempts=max_attempts,
        lease=timedelta(seconds=lease_seconds), backoff_base=timedelta(seconds=backoff_seconds))
    built = _book(db)
    with user_errors():
        master = check_master_secret(_master_secret())
    uow_factory = built.api_uow_factory()
    channel = WebhookChannel(partial(webhooks.endpoint_of, master_secret=master,
                                     uow_factory=uow_factory),
                             clock=built.clock, timeout=timeout,
                             allow_private=_allow_private())
    name = worker_id or f"{socket.gethostname()}-{os.getpid()}"
    totals = {"dispatched": 0, "batches": 0, "claimed": 0, "delivered": 0, "failed": 0,
              "dead": 0}
    try:
        while True:
            with user_errors():
                dispatched, reports = webhooks.deliver(uow_factory=uow_factory,
                                                       channel=channel, clock=built.clock,
                                                       worker=name, policy=policy)
            totals["dispatched"] += dispatched
            for report in reports:
                totals["batches"] += 1
                for key in ("claimed", "delivered", "failed", "dead"):
                    totals[key] += getattr(report, key)
            if until_idle:
                break
            if not reports and not dispatched:
                time.sleep(poll)
    except KeyboardInterrupt:
        pass
    finally:
        channel.close()
    _show(totals, as_json)
