"""Webhooks out, against a real HTTP receiver on loopback that fails on purpose: every event
arrives, signed; a repeat only ever carries the same event id and body; a receiver that
keeps failing gets the limit of attempts and then a dead letter, which can be redelivered; a
lost lease sends again under the same id. Backoff runs on the injected clock (no sleeping) —
on SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
import json
import sqlite3
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from arrears import bootstrap
from arrears.adapters.channels.webhook import WebhookChannel
from arrears.adapters.db import tables
from arrears.application import notifications
from arrears.application.handlers import disputes, webhooks
from arrears.application.notifications import DeliveryError
from arrears.application.ports import ClaimedMessage, Event
from arrears.application.webhooks import (
    EVENT_ID_HEADER,
    SIGNATURE_HEADER,
    Endpoint,
    signature_header,
    verify_signature,
)
from arrears.entrypoints.api.app import create_app

from api_support import API, OPEN, WEBHOOK_SECRET, app_for, build, key

MAX_ATTEMPTS = 4
POLICY = notifications.DeliveryPolicy(max_attempts=MAX_ATTEMPTS, lease=timedelta(minutes=5),
                                      backoff_base=timedelta(seconds=30))
FAILURES_PER_EVENT = 2  # the receiver's /events answers 500 this often per event, then 204


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    status: int


class Receiver:
    """A subscriber's HTTP endpoint on 127.0.0.1: `/events` fails each event's first
    FAILURES_PER_EVENT deliveries, `/down` always fails, `/ok` never does, `/slow` never
    answers in time."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.probe: Callable[[], bool] | None = None
        self.probed: list[bool] = []
        self.release = threading.Event()
        seen: Counter[tuple[str, str]] = Counter()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the http.server hook's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if self.path == "/slow":
                    receiver.release.wait(timeout=10)
                    return
                if receiver.probe is not None:
                    receiver.probed.append(receiver.probe())
                event_id = self.headers[EVENT_ID_HEADER]
                seen[self.path, event_id] += 1
                status = {"/down": 503, "/ok": 204}.get(self.path) or (
                    500 if seen[self.path, event_id] <= FAILURES_PER_EVENT else 204)
                receiver.received.append(Received(self.path, dict(self.headers), body, status))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,),
                                       daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_port}{path}"

    def at(self, path: str) -> list[Received]:
        return [r for r in self.received if r.path == path]

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


@pytest.fixture
def sqlite_book(tmp_path: Path) -> Iterator[bootstrap.Services]:
    """For what the store's dialect does not change (`small_book` runs on both)."""
    built = build(f"sqlite:///{tmp_path / 'book.db'}")
    yield built
    built.engine.dispose()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver()
    yield running
    running.close()


def write_lock_free(database: str) -> bool:
    """Whether another connection could begin writing the SQLite book now: every unit of work
    begins with the write lock, so False would mean one is open."""
    connection = sqlite3.connect(database, timeout=0, isolation_level=None)
    try:
        connection.execute("BEGIN IMMEDIATE")
        connection.execute("ROLLBACK")
        return True
    except sqlite3.OperationalError:
        return False
    finally:
        connection.close()


def deliver_round(services: bootstrap.Services, *, timeout: float = 5.0) -> None:
    """One pass of `arrears webhooks deliver`, then the clock moves past any backoff."""
    factory = services.api_uow_factory()
    channel = WebhookChannel(partial(webhooks.endpoint_of, master_secret=WEBHOOK_SECRET,
                                     uow_factory=factory), clock=services.clock, timeout=timeout,
                             allow_private=True)  # the receiver listens on loopback
    try:
        webhooks.deliver(uow_factory=factory, channel=channel, clock=services.clock,
                         worker="test", policy=POLICY)
    finally:
        channel.close()
    services.clock.at += timedelta(hours=1)  # type: ignore[attr-defined]


def subscribe(client: TestClient, headers: dict[str, str], url: str, *types: str) -> dict:
    answer = client.post("/api/v1/webhooks/subscriptions", headers=headers,
                         json={"url": url, "event_types": list(types)})
    assert answer.status_code == 201, answer.text
    return answer.json()


def pay(client: TestClient, headers: dict[str, str], loan: str, idempotency_key: str) -> None:
    answer = client.post(f"/api/v1/loans/{loan}/payments", headers=headers | {
        "Idempotency-Key": idempotency_key}, json={"amount": "10.00", "on": OPEN.isoformat()})
    assert answer.status_code in (200, 201), answer.text


def events(services: bootstrap.Services, topic: str) -> set[str]:
    with services.engine.connect() as connection:
        return set(connection.scalars(sa.select(tables.outbox.c.message_id)
                                      .where(tables.outbox.c.topic == topic)))


def test_every_event_arrives_signed_and_a_failing_receiver_gets_a_dead_letter(
        small_book: bootstrap.Services, receiver: Receiver) -> None:
    client = TestClient(app_for(small_book), raise_server_exceptions=False)
    admin = key(small_book, "admin")
    payments = subscribe(client, admin, receiver.url("/events"), "payment.posted")
    down = subscribe(client, admin, receiver.url("/down"), "*")
    for loan, idempotency_key in (("WLD-1001", "p-1"), ("WLD-1002", "p-2"),
                                  ("PHN-2001", "p-3"), ("WLD-1001", "p-1")):  # p-1 retried
        pay(client, admin, loan, idempotency_key)
    assert client.post("/api/v1/payments/p-3/reversals", headers=admin | {
        "Idempotency-Key": "r-3"}).status_code == 201
    posted = events(small_book, "payment.posted")
    assert len(posted) == 3

    for _ in range(MAX_ATTEMPTS + 2):
        deliver_round(small_book)

    got = receiver.at("/events")
    by_event: dict[str, list[Received]] = {}
    for request in got:
        by_event.setdefault(request.headers[EVENT_ID_HEADER], []).append(request)
    assert set(by_event) == posted  # the reversal went only to the "*" subscriber
    for event_id, requests in by_event.items():
        # Every event arrives; the failed tries and the success carry one id and one body.
        assert [r.status for r in requests] == [500] * FAILURES_PER_EVENT + [204]
        assert {r.body for r in requests} == {requests[0].body}
        document = json.loads(requests[0].body)
        assert (document["id"], document["type"]) == (event_id, "payment.posted")
        assert document["data"]["loan_id"] in {"WLD-1001", "WLD-1002", "PHN-2001"}
    for request in got:
        header = request.headers[SIGNATURE_HEADER]
        stamp = int(header.split(",")[0].removeprefix("t="))
        assert verify_signature(payments["secret"], header, request.body, now=stamp)
        assert not verify_signature(down["secret"], header, request.body, now=stamp)
        assert not verify_signature(payments["secret"], header, request.body + b" ", now=stamp)
        assert not verify_signature(payments["secret"], header, request.body, now=stamp + 301)

    # /down got each of the four events MAX_ATTEMPTS times, spaced by the backoff, then
    # nothing more: they are dead letters.
    assert Counter(r.headers[EVENT_ID_HEADER] for r in receiver.at("/down")) == {
        event_id: MAX_ATTEMPTS for event_id in posted | events(small_book, "payment.reversed")}
    dead = client.get("/api/v1/webhooks/deliveries", headers=admin,
                      params={"status": "dead", "subscription_id": down["id"]}).json()
    assert len(dead["deliveries"]) == 4
    assert {d["attempts"] for d in dead["deliveries"]} == {MAX_ATTEMPTS}
    assert {d["last_error"] for d in dead["deliveries"]} == {"the receiver answered 503"}
    delivered = client.get("/api/v1/webhooks/deliveries", headers=admin,
                           params={"subscription_id": payments["id"]}).json()["deliveries"]
    assert {d["status"] for d in delivered} == {"delivered"} and len(delivered) == 3

    redo = dead["deliveries"][0]
    answer = client.post(f"/api/v1/webhooks/deliveries/{redo['id']}/redelivery", headers=admin)
    assert answer.status_code == 202, answer.text
    before = len(receiver.at("/down"))
    deliver_round(small_book)
    assert [r.headers[EVENT_ID_HEADER] for r in receiver.at("/down")[before:]] == [
        redo["event_id"]]
    assert client.post(f"/api/v1/webhooks/deliveries/{delivered[0]['id']}/redelivery",
                       headers=admin).json()["field"] == "delivery_id"  # not dead: a 404

    event = Event(message_id="message.delivered:x", topic="message.delivered", loan_id=None,
                  business_date=OPEN, payload={"message_id": "x"},
                  created_at=small_book.clock.now())
    for _ in range(2):  # a message delivered again after a lost lease reports itself once
        with small_book.uow_factory() as uow:
            uow.events.emit([event])
            uow.commit()
    assert events(small_book, "message.delivered") == {"message.delivered:x"}


def test_a_lost_lease_sends_again_under_the_same_event_id_and_no_transaction_waits_on_it(
        sqlite_book: bootstrap.Services, receiver: Receiver) -> None:
    client = TestClient(app_for(sqlite_book), raise_server_exceptions=False)
    admin = key(sqlite_book, "admin")
    subscription = subscribe(client, admin, receiver.url("/ok"), "payment.posted")
    pay(client, admin, "WLD-1001", "p-9")
    factory = sqlite_book.api_uow_factory()
    webhooks.dispatch_events(uow_factory=factory, clock=sqlite_book.clock)

    class DiesAfterSending(WebhookChannel):
        def send(self, message: object) -> None:
            super().send(message)  # type: ignore[arg-type]
            raise SystemExit("the worker died before recording the delivery")

    database = sqlite_book.engine.url.database
    assert database is not None
    receiver.probe = partial(write_lock_free, database)
    dying = DiesAfterSending(partial(webhooks.endpoint_of, master_secret=WEBHOOK_SECRET,
                                     uow_factory=factory), clock=sqlite_book.clock,
                             allow_private=True)
    with pytest.raises(SystemExit):
        notifications.deliver_batch(uow_factory=factory, channels={"webhook": dying},
                                    clock=sqlite_book.clock, worker="dies", policy=POLICY,
                                    check=webhooks.not_a_contact)
    dying.close()
    sqlite_book.clock.at += POLICY.lease  # type: ignore[attr-defined]
    deliver_round(sqlite_book)
    deliver_round(sqlite_book)
    sent = receiver.at("/ok")
    assert [r.status for r in sent] == [204, 204]  # once before the crash, once after
    assert receiver.probed == [True, True]  # no transaction open while a request is out
    assert {r.headers[EVENT_ID_HEADER] for r in sent} == events(sqlite_book, "payment.posted")
    assert len({r.body for r in sent}) == 1
    assert subscription["secret"].startswith("whsec_")


def test_a_removed_subscription_and_a_slow_receiver_get_nothing_delivered(
        sqlite_book: bootstrap.Services, receiver: Receiver) -> None:
    client = TestClient(app_for(sqlite_book), raise_server_exceptions=False)
    admin = key(sqlite_book, "admin")
    removed = subscribe(client, admin, receiver.url("/ok"), "*")
    slow = subscribe(client, admin, receiver.url("/slow"), "payment.posted")
    pay(client, admin, "WLD-1001", "p-5")
    webhooks.dispatch_events(uow_factory=sqlite_book.api_uow_factory(), clock=sqlite_book.clock)
    assert client.delete(f"/api/v1/webhooks/subscriptions/{removed['id']}",
                         headers=admin).status_code == 204
    assert client.delete(f"/api/v1/webhooks/subscriptions/{removed['id']}",
                         headers=admin).status_code == 404
    deliver_round(sqlite_book, timeout=0.2)
    assert receiver.at("/ok") == []
    rows = client.get("/api/v1/webhooks/deliveries", headers=admin).json()["deliveries"]
    state = {d["subscription_id"]: (d["status"], d["last_error"]) for d in rows}
    assert state == {removed["id"]: ("dead", "the subscription was removed"),
                     slow["id"]: ("pending", "the receiver did not answer within 0.2s")}
    listed = client.get("/api/v1/webhooks/subscriptions", headers=admin).json()
    assert [s["id"] for s in listed["subscriptions"]] == [slow["id"]]
    assert "secret" not in listed["subscriptions"][0]


def test_subscriptions_refuse_bad_input_naming_the_field(
        sqlite_book: bootstrap.Services) -> None:
    client = TestClient(app_for(sqlite_book), raise_server_exceptions=False)
    admin = key(sqlite_book, "admin")
    route = "/api/v1/webhooks/subscriptions"
    for body, field in (
            ({"url": "http://lender.example/hook", "event_types": ["*"]}, "url"),
            ({"url": "ftp://127.0.0.1/hook", "event_types": ["*"]}, "url"),
            ({"url": "https://user:pw@lender.example/", "event_types": ["*"]}, "url"),
            ({"url": "https://lender.example/", "event_types": ["payment.lost"]},
             "event_types[0]"),
            ({"url": "https://lender.example/", "event_types": []}, "event_types")):
        answer = client.post(route, headers=admin, json=body)
        assert (answer.status_code, answer.json()["field"]) == (422, field), body
    supervisor = key(sqlite_book, "supervisor")
    assert client.get(route, headers=supervisor).status_code == 403
    assert client.get(route, params={"cursor": "bm9wZQ"},
                      headers=admin).json()["field"] == "cursor"


def test_signature_header_is_stripe_like() -> None:
    header = signature_header("whsec_test", 1_700_000_000, b'{"id":"e"}')
    stamp, mac = header.split(",")
    assert stamp == "t=1700000000" and mac.startswith("v1=") and len(mac) == 3 + 64
    assert verify_signature("whsec_test", header, b'{"id":"e"}', now=1_700_000_299)
    assert not verify_signature("whsec_test", header, b'{"id":"e"}', now=1_700_000_301)
    assert not verify_signature("whsec_test", "garbage", b'{"id":"e"}', now=1_700_000_000)
    # A forged header's `t` may be any length: refused, not a crash of the receiver.
    assert not verify_signature("whsec_test", f"t={'9' * 5000},{mac}", b'{"id":"e"}',
                                now=1_700_000_000)


PRIVATE_TARGETS = (
    "https://169.254.169.254/latest/meta-data", "https://10.0.0.1/hook", "https://127.0.0.1/",
    "http://127.0.0.1:8080/", "http://localhost/", "https://a.localhost./", "https://[::1]/",
    "https://[::ffff:10.0.0.1]/", "https://[fd00::1]/", "https://[64:ff9b::a00:1]/",
    "https://2130706433/", "https://0x7f.1/", "https://0/", "https://100.64.0.1/",
    "https://224.0.0.1/")


def test_webhooks_go_only_to_public_addresses_unless_a_setting_allows_private_ones(
        sqlite_book: bootstrap.Services) -> None:
    """A subscription cannot aim the server at itself or its network (cloud metadata, an
    admin port): loopback, private, link-local, shared and reserved addresses, in any
    spelling, are refused unless ARREARS_WEBHOOK_ALLOW_PRIVATE says so (the tests' receivers
    listen on loopback)."""
    strict = TestClient(create_app(sqlite_book.settings, services=sqlite_book,
                                   api_settings=dataclasses.replace(
                                       API, webhook_allow_private=False)),
                        raise_server_exceptions=False)
    admin = key(sqlite_book, "admin")
    route = "/api/v1/webhooks/subscriptions"
    for url in PRIVATE_TARGETS:
        answer = strict.post(route, headers=admin, json={"url": url, "event_types": ["*"]})
        assert (answer.status_code, answer.json()["field"]) == (422, "url"), url
    assert strict.post(route, headers=admin, json={
        "url": "https://hooks.lender.example/", "event_types": ["*"]}).status_code == 201
    allowed = TestClient(app_for(sqlite_book), raise_server_exceptions=False)
    assert allowed.post(route, headers=admin, json={
        "url": "http://127.0.0.1:9/hook", "event_types": ["*"]}).status_code == 201


def _claimed() -> ClaimedMessage:
    return ClaimedMessage(message_id="whd_1", channel="webhook", loan_ref="",
                          recipient="whs_1", subject="payment.posted:k",
                          body='{"id":"payment.posted:k"}', language="", pack="",
                          compliance={}, attempts=1)


def test_a_host_name_is_checked_and_pinned_to_the_address_it_resolves_to(
        sqlite_book: bootstrap.Services, receiver: Receiver) -> None:
    """The name a subscription gives is resolved when sending: an address that is not public
    is refused before any connection (a name may point anywhere, and change after
    subscribing), and the request goes to the very address checked, naming the host."""
    port = receiver.server.server_port
    endpoint = Endpoint(url=f"http://hooks.lender.example:{port}/ok", secret="whsec_t")
    resolved = {"hooks.lender.example": ["10.1.2.3"]}

    def resolve(host: str, _: int) -> list[str]:
        return resolved[host]

    strict = WebhookChannel(lambda _: endpoint, clock=sqlite_book.clock, resolve=resolve)
    with pytest.raises(DeliveryError) as refused:
        strict.send(_claimed())
    assert not refused.value.transient and "10.1.2.3" in str(refused.value)
    strict.close()

    resolved["hooks.lender.example"] = ["127.0.0.1"]
    pinned = WebhookChannel(lambda _: endpoint, clock=sqlite_book.clock, resolve=resolve,
                            allow_private=True)
    pinned.send(_claimed())
    pinned.close()
    (got,) = receiver.at("/ok")
    assert got.headers["Host"] == f"hooks.lender.example:{port}"


def test_disputes_reach_subscribers_without_their_notes(sqlite_book: bootstrap.Services,
                                                        receiver: Receiver) -> None:
    sqlite_book.clock.at = datetime(2026, 2, 2, 9, tzinfo=UTC)  # type: ignore[attr-defined]
    client = TestClient(app_for(sqlite_book), raise_server_exceptions=False)
    subscribe(client, key(sqlite_book, "admin"), receiver.url("/ok"), "dispute.opened",
              "dispute.answered")
    opened = disputes.open_dispute(disputes.NewDispute(
        loan_ref="WLD-1001", kind="objection", channel="mail", note="金额不对",
        received_at=datetime(2026, 2, 1, 10, tzinfo=ZoneInfo("Asia/Shanghai"))),
        uow_factory=sqlite_book.uow_factory, clock=sqlite_book.clock)
    disputes.answer_dispute(opened.dispute_ref, outcome="verified",
                            uow_factory=sqlite_book.uow_factory, clock=sqlite_book.clock)
    deliver_round(sqlite_book)
    documents = [json.loads(r.body) for r in receiver.at("/ok")]
    assert [(d["type"], d["data"]["dispute"], d["data"]["loan_id"]) for d in documents] == [
        ("dispute.opened", opened.dispute_ref, "WLD-1001"),
        ("dispute.answered", opened.dispute_ref, "WLD-1001")]
    assert documents[1]["data"]["outcome"] == "verified"
    assert "金额不对" not in str(documents)
