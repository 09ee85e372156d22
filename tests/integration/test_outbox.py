"""The notification outbox over real channels on loopback: SMTP (aiosmtpd), an HTTP SMS
gateway (generic JSON webhook and Twilio's format) that fails on purpose, call tasks, PDF
letters; retries with backoff, dead-letter, rate limits, and the send-time compliance check.
No test sleeps: the worker runs on a test clock that the test moves."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from arrears.adapters.channels.calls import CallTaskChannel
from arrears.adapters.channels.email import SmtpEmailChannel
from arrears.adapters.channels.letters import PdfLetterChannel
from arrears.adapters.channels.loopback import HANG, HttpGatewaySink, SmtpSink
from arrears.adapters.channels.sms import TwilioSmsChannel, WebhookSmsChannel
from arrears.adapters.db import collections_tables as ct
from arrears.adapters.db.messages import aware
from arrears.application import notifications
from arrears.application.notifications import DeliveryPolicy, RateLimit, RateLimiter
from arrears.application.ports import ClaimedMessage

from fakes import FixedClock
from outbox_support import (
    SHANGHAI,
    attempt_log,
    body,
    enqueue,
    local,
    message,
    run_until_settled,
    statuses,
)

POLICY = DeliveryPolicy(batch_size=10, max_attempts=4, backoff_base=timedelta(minutes=2))


def _in_hours(at) -> bool:  # noqa: ANN001
    wall = at.astimezone(SHANGHAI).time()
    return wall.hour >= 8 and wall.hour < 22


def test_email_over_smtp_carries_the_message_id(services) -> None:
    clock = FixedClock(local("2026-03-12T10:00"))
    enqueue(services, [message(i, "email", at=clock.at, recipient=f"b{i}@example.cn",
                               subject="还款提醒") for i in range(3)])
    with SmtpSink(now=clock.now) as smtp:
        channel = SmtpEmailChannel("127.0.0.1", smtp.port, sender="c@arrears.local")
        reports = notifications.drain(uow_factory=services.uow_factory,
                                      channels={"email": channel}, clock=clock, worker="w",
                                      policy=POLICY)
        channel.close()
        received = smtp.received
    assert sum(r.delivered for r in reports) == 3
    assert sorted(r.message_id for r in received) == [f"msg-email-{i:05d}" for i in range(3)]
    first = next(r for r in received if r.message_id == "msg-email-00000")
    assert first.headers["Message-ID"] == "<msg-email-00000@arrears.local>"
    assert "回复TD退订" in first.body["text"] and "安睿消费金融" in first.body["text"]
    assert first.body["to"] == ["b0@example.cn"]
    assert all(status == ("delivered", 1) for status in statuses(services).values())


def test_sms_webhook_and_twilio_request_formats(services) -> None:
    clock = FixedClock(local("2026-03-12T10:00"))
    enqueue(services, [message(1, at=clock.at), message(2, at=clock.at)])
    with HttpGatewaySink(now=clock.now) as gateway:
        webhook = WebhookSmsChannel(f"{gateway.url}/sms", token="t0ken", timeout=2)
        notifications.drain(uow_factory=services.uow_factory, channels={"sms": webhook},
                            clock=clock, worker="w", policy=POLICY)
        webhook.close()
        twilio = TwilioSmsChannel("AC123", "secret", sender="+15550001", base_url=gateway.url,
                                  timeout=2)
        enqueue(services, [message(3, at=clock.at)])
        notifications.drain(uow_factory=services.uow_factory, channels={"sms": twilio},
                            clock=clock, worker="w", policy=POLICY)
        twilio.close()
        received = gateway.received
    json_request = received[0]
    assert json_request.path == "/sms"
    assert json_request.headers["Idempotency-Key"] == "msg-sms-00001"
    assert json_request.headers["Authorization"] == "Bearer t0ken"
    assert json_request.body["to"] == "+8613800000001"
    assert json_request.body["message_id"] == "msg-sms-00001"
    form = received[2]
    assert form.path == "/2010-04-01/Accounts/AC123/Messages.json"
    assert form.headers["I-Twilio-Idempotency-Token"] == "msg-sms-00003"
    assert form.body["To"] == "+8613800000003" and form.body["From"] == "+15550001"
    assert form.headers["Authorization"].startswith("Basic ")


def test_gateway_500s_and_timeouts_retry_with_backoff_then_dead_letter(services) -> None:
    # 21:50 in Shanghai: retries run into the 22:00-08:00 quiet hours (CN-1) and must wait.
    clock = FixedClock(local("2026-03-12T21:50"))
    enqueue(services, [message(i, at=clock.at) for i in range(6)])
    calls: dict[str, int] = {}

    def plan(received, _n: int) -> int:  # noqa: ANN001
        calls[received.message_id] = calls.get(received.message_id, 0) + 1
        number = int(received.message_id[-1])
        if number == 0:
            return 500  # always fails: dead-letter after the limit
        if number == 1:
            return HANG if calls[received.message_id] == 1 else 200  # times out once
        if number == 2:
            return 500 if calls[received.message_id] <= 2 else 200
        if number == 3:
            return 400  # permanent
        return 200

    with HttpGatewaySink(plan=plan, now=clock.now) as gateway:
        channel = WebhookSmsChannel(f"{gateway.url}/sms", timeout=0.3)
        run_until_settled(services, {"sms": channel}, clock, POLICY)
        channel.close()
        received = gateway.received
    final = statuses(services)
    assert final["msg-sms-00000"] == ("dead", POLICY.max_attempts)
    assert final["msg-sms-00003"] == ("dead", 1)
    for number in (1, 2, 4, 5):
        assert final[f"msg-sms-{number:05d}"][0] == "delivered"
    # Nothing lost: every message reached the gateway; nothing outside 08:00-22:00 local.
    assert {r.message_id for r in received} == {f"msg-sms-{i:05d}" for i in range(6)}
    assert all(_in_hours(r.at) for r in received)
    # Backoff doubles between failed attempts (2, 4, 8 min), quiet hours only push it later.
    failures = [at for at, outcome in attempt_log(services, "msg-sms-00000")
                if outcome in ("failed", "dead")]
    gaps = [later - earlier for earlier, later in zip(failures, failures[1:], strict=False)]
    assert gaps[0] == timedelta(minutes=2) and gaps[1] == timedelta(minutes=4)
    assert gaps[2] >= timedelta(minutes=8)
    deferred = [at for at, outcome in attempt_log(services, "msg-sms-00000")
                if outcome == "deferred"]
    assert deferred, "the 22:04 retry must have been deferred to 08:00"
    assert any(r.at == local("2026-03-13T08:00") for r in received)


def test_rate_limit_per_channel_spaces_the_sends(services) -> None:
    clock = FixedClock(local("2026-03-12T10:00"))
    enqueue(services, [message(i, at=clock.at) for i in range(5)])
    limiter = RateLimiter({"sms": RateLimit(per_window=2, window=timedelta(minutes=1))})
    with HttpGatewaySink(now=clock.now) as gateway:
        channel = WebhookSmsChannel(gateway.url, timeout=2)
        first = notifications.drain(uow_factory=services.uow_factory, channels={"sms": channel},
                                    clock=clock, worker="w", policy=POLICY, limiter=limiter)
        assert sum(r.delivered for r in first) == 2
        run_until_settled(services, {"sms": channel}, clock, POLICY, limiter)
        channel.close()
        times = sorted(r.at for r in gateway.received)
    assert len(times) == 5
    # After the burst of 2, one token every 30 s.
    assert times[2] - times[0] >= timedelta(seconds=30)
    assert times[4] - times[0] >= timedelta(seconds=90)
    assert all(status == ("delivered", 1) for status in statuses(services).values())


def test_content_the_engine_blocks_never_leaves(services) -> None:
    clock = FixedClock(local("2026-03-12T10:00"))
    threat = "【安睿消费金融】再不还款就让你坐牢，通知你全家和单位。"
    enqueue(services, [message(1, at=clock.at, text=threat), message(2, at=clock.at)])
    with HttpGatewaySink(now=clock.now) as gateway:
        channel = WebhookSmsChannel(gateway.url, timeout=2)
        run_until_settled(services, {"sms": channel}, clock, POLICY)
        channel.close()
        sent = [r.message_id for r in gateway.received]
    assert sent == ["msg-sms-00002"]
    assert statuses(services)["msg-sms-00001"][0] == "blocked"
    log = attempt_log(services, "msg-sms-00001")
    assert log[-1][1] == "blocked"


def test_call_tasks_and_pdf_letters(services, tmp_path) -> None:
    clock = FixedClock(local("2026-03-12T10:00"))
    enqueue(services, [message(1, "call", at=clock.at),
                       message(2, "letter", at=clock.at, recipient="王伟\n北京市朝阳区1号",
                               subject="逾期还款提醒")])
    channels = {"call": CallTaskChannel(services.engine, clock),
                "letter": PdfLetterChannel(tmp_path / "letters")}
    notifications.drain(uow_factory=services.uow_factory, channels=channels, clock=clock,
                        worker="w", policy=POLICY)
    # A repeated delivery (after a crash) changes nothing at the receiving side.
    again = ClaimedMessage(message_id="msg-call-00001", channel="call", loan_ref="L-1",
                           recipient="+8613800000001", subject="", body="x",
                           language="zh-CN", pack="cn", compliance={}, attempts=2)
    channels["call"].send(again)
    with services.engine.connect() as connection:
        tasks = connection.execute(sa.select(ct.call_task.c.message_id,
                                             ct.call_task.c.phone)).all()
    assert tasks == [("msg-call-00001", "+8613800000001")]
    pdf = (tmp_path / "letters" / "msg-letter-00002.pdf").read_bytes()
    assert pdf.startswith(b"%PDF") and b"msg-letter-00002" in pdf
    assert statuses(services) == {"msg-call-00001": ("delivered", 1),
                                  "msg-letter-00002": ("delivered", 1)}


def test_settle_records_each_outcome_whether_shared_or_not(services) -> None:
    # A batch delivered at one instant is settled by one UPDATE over its ids, the other
    # outcomes row by row: either way each message ends as its own outcome says, and only the
    # messages the settling worker holds change.
    import random

    from arrears.application.ports import DeliveryOutcome

    at = local("2026-03-12T10:00")
    enqueue(services, [message(i, at=at) for i in range(40)])
    rng = random.Random(15)
    with services.uow_factory() as uow:
        held = uow.messages.claim(at, 30, "w1", at + timedelta(minutes=5), ["sms"])
        uow.commit()
    later = at + timedelta(minutes=7)
    expected: dict[str, tuple[str, int]] = {}
    outcomes = []
    for number, claimed in enumerate(held):
        kind = rng.choice(("delivered", "delivered", "deferred", "failed", "blocked"))
        when = at if rng.random() < 0.7 else at + timedelta(seconds=number)
        if kind == "delivered":
            outcome = DeliveryOutcome(message_id=claimed.message_id, status="delivered",
                                      at=when, log="delivered")
        elif kind == "deferred":  # the hours rule: not counted as an attempt
            outcome = DeliveryOutcome(message_id=claimed.message_id, status="pending", at=when,
                                      log="deferred", next_attempt_at=later,
                                      detail="compliance: hours", uncount=True)
        elif kind == "failed":
            outcome = DeliveryOutcome(message_id=claimed.message_id, status="pending", at=when,
                                      log="failed", next_attempt_at=when + timedelta(minutes=2),
                                      detail="HTTP 500")
        else:
            outcome = DeliveryOutcome(message_id=claimed.message_id, status="blocked", at=when,
                                      log="blocked", detail="compliance: content")
        outcomes.append(outcome)
        expected[claimed.message_id] = (outcome.status, 0 if outcome.uncount else 1)
    stranger = DeliveryOutcome(message_id="msg-sms-00039", status="delivered", at=at,
                               log="delivered")  # never claimed: stays pending
    with services.uow_factory() as uow:
        applied = uow.messages.settle("w2", outcomes[:3])  # another worker's: nothing moves
        assert applied == 0
        applied = uow.messages.settle("w1", [*outcomes, stranger])
        uow.commit()
    assert applied == len(held)
    final = statuses(services)
    assert {ref: final[ref] for ref in expected} == expected
    assert final["msg-sms-00039"] == ("pending", 0)
    with services.engine.connect() as connection:
        m = ct.message.c
        rows = {r.message_id: r for r in connection.execute(sa.select(
            m.message_id, m.claimed_by, m.lease_until, m.last_error, m.next_attempt_at,
            m.delivered_at))}
    for outcome in outcomes:
        row = rows[outcome.message_id]
        assert row.claimed_by is None and row.lease_until is None
        assert (row.last_error or "") == outcome.detail
        if outcome.status == "delivered":
            assert aware(row.delivered_at) == outcome.at
        if outcome.next_attempt_at is not None:
            assert aware(row.next_attempt_at) == outcome.next_attempt_at


def test_a_claim_takes_the_earliest_due_first_and_never_a_message_twice(services) -> None:
    # A claim picks, leases and reads back in one statement: the batch comes in due order
    # (ties by insertion), from the asked channels only, not yet due ones left; a second
    # worker gets the rest; a lease that lapsed is taken again with its attempt counted.
    at = local("2026-03-12T10:00")
    due = [at - timedelta(minutes=minutes) for minutes in (5, 30, 5, 60, 1, 30)]
    enqueue(services, [message(i, at=when) for i, when in enumerate(due)]
            + [message(6, at=at + timedelta(minutes=1)), message(7, "email", at=at)])
    lease = timedelta(minutes=5)
    with services.uow_factory() as uow:
        first = uow.messages.claim(at, 4, "w1", at + lease, ["sms"])
        second = uow.messages.claim(at, 4, "w2", at + lease, ["sms"])
        uow.commit()
    assert [m.message_id for m in first] == [
        "msg-sms-00003", "msg-sms-00001", "msg-sms-00005", "msg-sms-00000"]
    assert [m.message_id for m in second] == ["msg-sms-00002", "msg-sms-00004"]
    assert {m.attempts for m in first + second} == {1}
    assert first[0].loan_ref == "" and first[0].body == body(3)
    held = statuses(services)
    assert held["msg-sms-00006"] == ("pending", 0) and held["msg-email-00007"] == ("pending", 0)
    later = at + lease
    with services.uow_factory() as uow:
        again = uow.messages.claim(later, 10, "w3", later + lease, ["sms"])
        uow.commit()
    assert [m.message_id for m in again] == [
        "msg-sms-00003", "msg-sms-00001", "msg-sms-00005", "msg-sms-00000", "msg-sms-00002",
        "msg-sms-00004", "msg-sms-00006"]
    assert [m.attempts for m in again] == [2, 2, 2, 2, 2, 2, 1]


def test_workers_claiming_at_once_take_different_messages_without_waiting(services) -> None:
    # Two workers' transactions open together: the second skips the rows the first has
    # locked (PostgreSQL's SKIP LOCKED) instead of waiting for them or taking them too.
    if services.engine.dialect.name != "postgresql":
        pytest.skip("SQLite lets one writer in at a time: its claims cannot overlap")
    at = local("2026-03-12T10:00")
    enqueue(services, [message(i, at=at - timedelta(minutes=i)) for i in range(6)])
    lease = at + timedelta(minutes=5)
    with services.uow_factory() as first_worker, services.uow_factory() as second_worker:
        first = first_worker.messages.claim(at, 4, "w1", lease, ["sms"])
        # Waiting on the first worker's locks would fail the test rather than hang it.
        second_worker.messages.connection.exec_driver_sql("SET LOCAL lock_timeout = '5s'")
        second = second_worker.messages.claim(at, 4, "w2", lease, ["sms"])
        first_worker.commit()
        second_worker.commit()
    assert len(first) == 4 and len(second) == 2
    assert {m.message_id for m in first}.isdisjoint(m.message_id for m in second)
    held = statuses(services)
    assert sorted(held.values()) == [("sending", 1)] * 6


def test_two_workers_draining_at_once_deliver_each_message_once_with_its_own_body(
        services) -> None:
    # Two worker threads drain one outbox in small batches at the same time (on PostgreSQL
    # their claims overlap and skip each other's locked rows; SQLite queues their writes).
    # Every message is sent exactly once, by one of them, carrying its own body and
    # compliance document, which live beside the message rather than in its row.
    import threading

    at = local("2026-03-12T10:00")
    outgoing = [message(i, at=at - timedelta(seconds=i % 7)) for i in range(60)]
    enqueue(services, outgoing)
    expected = {m.message_id: (m.body, m.recipient) for m in outgoing}
    sent: dict[str, list[tuple[str, str, str]]] = {"w1": [], "w2": []}
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    class Recorder:
        def __init__(self, worker: str) -> None:
            self.worker = worker

        def send(self, claimed: ClaimedMessage) -> None:
            action = claimed.compliance["action"]  # the document planned with this message
            assert action["recipient"]["person_id"] == f"B-{int(claimed.message_id[-5:])}"
            assert action["content"] == claimed.body
            sent[self.worker].append((claimed.message_id, claimed.body, claimed.recipient))

        def close(self) -> None:
            return None

    def work(worker: str) -> None:
        try:
            start.wait()
            notifications.drain(uow_factory=services.uow_factory,
                                channels={"sms": Recorder(worker)}, clock=FixedClock(at),
                                worker=worker, policy=DeliveryPolicy(batch_size=4))
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=work, args=(worker,)) for worker in sent]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    everything = sent["w1"] + sent["w2"]
    assert sorted(mid for mid, _, _ in everything) == sorted(expected)  # once each
    assert all(expected[mid] == (text, to) for mid, text, to in everything)
    assert set(statuses(services).values()) == {("delivered", 1)}
