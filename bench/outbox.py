"""Notification outbox throughput: messages rendered, committed and delivered per second to a
loopback SMTP server (aiosmtpd) and a loopback HTTP SMS gateway, as ratios to a bare send
loop over the same transport measured in the same run.

    python bench/outbox.py [--json] [--messages N] [--db URL]

Stages, each timed on its own:
- render: Jinja2 renders the message (zh-CN reminder);
- commit: render + compliance decision at the planned instant + outbox insert, committed in
  batches of 500 (the way `run_strategies` writes them);
- deliver: `arrears worker` logic (lease a batch, decide again at send time, send with the
  message id, record outcomes) to each sink;
- bare: a loop that only sends pre-built requests over the same client (httpx / smtplib).
"""

from __future__ import annotations

import argparse
import json
import smtplib
import sys
import tempfile
import time as wall
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from arrears import bootstrap
from arrears.adapters.channels.email import SmtpEmailChannel
from arrears.adapters.channels.loopback import HttpGatewaySink, SmtpSink
from arrears.adapters.channels.render import JinjaRenderer
from arrears.adapters.channels.sms import WebhookSmsChannel
from arrears.application import notifications
from arrears.application.contacts import Debtor, compliance_document, contact_action
from arrears.application.ports import ClaimedMessage, OutgoingMessage
from arrears.compliance import engine, packs
from arrears.compliance.facts import ContactPoint, Debt
from arrears.compliance.model import ActionKind, Purpose
from arrears.config import Settings

SHANGHAI = ZoneInfo("Asia/Shanghai")
AT = datetime(2026, 3, 12, 10, 0, tzinfo=SHANGHAI)


class Clock:
    def now(self) -> datetime:
        return AT


def context(i: int) -> dict[str, Any]:
    return {"lender": "安睿消费金融", "service_phone": "400-800-1234", "name": "王伟",
            "loan_tail": f"{i % 10000:04d}", "installment": 1 + i % 12, "amount": "916.80",
            "currency": "CNY", "due_on": "2026-03-15", "days_to_due": 3, "opt_out": True,
            "debt_collector": False}


def build(i: int, channel: str, body: str) -> OutgoingMessage:
    debtor = Debtor(person_id=f"B-{i}", zones=("Asia/Shanghai",),
                    points=(ContactPoint(id="mobile", kind="cell"),
                            ContactPoint(id="email", kind="email")),
                    debts=(Debt(debt_id=f"L-{i}", dpd=0),))
    kind = ActionKind.SMS if channel == "sms" else ActionKind.EMAIL
    point = "mobile" if channel == "sms" else "email"
    action = contact_action(kind, debtor, point=point, content=body, purpose=Purpose.REMINDER)
    facts = debtor.facts()
    decision = engine.decide(action, facts, packs.get("cn"), AT)
    assert decision.allowed, decision.violations
    return OutgoingMessage(
        message_id=f"bench-{channel}-{i:07d}", channel=channel, loan_id=None, borrower_id=None,
        business_date=date(2026, 3, 12), template="reminder", language="zh-CN",
        recipient=f"+86138{i:08d}" if channel == "sms" else f"b{i}@example.cn",
        subject="还款提醒" if channel == "email" else "", body=body, pack="cn",
        compliance=compliance_document(action, facts), next_attempt_at=AT, created_at=AT)


def timed(fn: Any) -> tuple[float, Any]:
    start = wall.perf_counter()
    result = fn()
    return wall.perf_counter() - start, result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--db", default=None, help="database URL (default: a temp SQLite file)")
    args = parser.parse_args(argv)
    n = args.messages
    folder = tempfile.mkdtemp(prefix="arrears-bench-")
    url = args.db or f"sqlite:///{Path(folder) / 'outbox.db'}"
    services = bootstrap.build(Settings(database_url=url), clock=Clock())
    services.migrate()
    renderer = JinjaRenderer()
    results: dict[str, Any] = {"messages": n, "database": services.engine.dialect.name,
                               "measured_at": datetime.now(UTC).isoformat()}

    seconds, bodies = timed(lambda: [renderer.render("reminder", "zh-CN", context(i)).body
                                     for i in range(n)])
    results["render_per_s"] = round(n / seconds)

    def commit(channel: str) -> None:
        for start in range(0, n, 500):
            batch = [build(i, channel, renderer.render("reminder", "zh-CN", context(i)).body)
                     for i in range(start, min(n, start + 500))]
            with services.uow_factory() as uow:
                uow.messages.enqueue(batch)
                uow.commit()

    for channel in ("sms", "email"):
        seconds, _ = timed(lambda channel=channel: commit(channel))
        results[f"render_commit_{channel}_per_s"] = round(n / seconds)

    policy = notifications.DeliveryPolicy(batch_size=500)
    with HttpGatewaySink() as gateway, SmtpSink() as smtp:
        # Bare loops: the same transports, pre-built requests, nothing else.
        client = httpx.Client(timeout=10)
        payloads = [{"message_id": f"bare-{i}", "to": f"+86138{i:08d}", "text": bodies[i]}
                    for i in range(n)]
        seconds, _ = timed(lambda: [client.post(f"{gateway.url}/sms", json=p,
                                                headers={"Idempotency-Key": p["message_id"]})
                                    for p in payloads])
        client.close()
        results["bare_http_per_s"] = round(n / seconds)
        channel = SmtpEmailChannel("127.0.0.1", smtp.port, sender="c@arrears.local")
        emails = [channel.build(ClaimedMessage(
            message_id=f"bare-{i}", channel="email", loan_ref="", recipient=f"b{i}@example.cn",
            subject="还款提醒", body=bodies[i], language="zh-CN", pack="cn", compliance={},
            attempts=1)) for i in range(n)]
        connection = smtplib.SMTP("127.0.0.1", smtp.port)
        seconds, _ = timed(lambda: [connection.send_message(e) for e in emails])
        connection.quit()
        results["bare_smtp_per_s"] = round(n / seconds)

        sms = WebhookSmsChannel(f"{gateway.url}/sms", timeout=10)
        seconds, reports = timed(lambda: notifications.drain(
            uow_factory=services.uow_factory, channels={"sms": sms}, clock=services.clock,
            worker="bench", policy=policy))
        sms.close()
        assert sum(r.delivered for r in reports) == n
        results["deliver_http_per_s"] = round(n / seconds)
        seconds, reports = timed(lambda: notifications.drain(
            uow_factory=services.uow_factory, channels={"email": channel},
            clock=services.clock, worker="bench", policy=policy))
        channel.close()
        assert sum(r.delivered for r in reports) == n
        results["deliver_smtp_per_s"] = round(n / seconds)
    services.engine.dispose()

    def end_to_end(sink: str, channel_name: str) -> float:
        stages = (results["render_commit_" + channel_name + "_per_s"],
                  results["deliver_" + sink + "_per_s"])
        return 1 / sum(1 / s for s in stages)

    for sink, channel_name in (("http", "sms"), ("smtp", "email")):
        bare = results[f"bare_{sink}_per_s"]
        results[f"deliver_{sink}_ratio_to_bare"] = round(
            results[f"deliver_{sink}_per_s"] / bare, 3)
        e2e = end_to_end(sink, channel_name)
        results[f"end_to_end_{sink}_per_s"] = round(e2e)
        results[f"end_to_end_{sink}_ratio_to_bare"] = round(e2e / bare, 3)
    if args.json:
        sys.stdout.write(json.dumps(results, indent=2) + "\n")
    else:
        for key, value in results.items():
            print(f"{key:34} {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
