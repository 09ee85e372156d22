"""Builders for the outbox tests: CN borrower messages with their compliance documents."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from arrears.adapters.channels.render import JinjaRenderer
from arrears.application.contacts import Debtor, compliance_document, contact_action
from arrears.application.ports import OutgoingMessage
from arrears.compliance.facts import ContactPoint, Debt
from arrears.compliance.model import ActionKind, Purpose

SHANGHAI = ZoneInfo("Asia/Shanghai")
KINDS = {"sms": ActionKind.SMS, "email": ActionKind.EMAIL, "call": ActionKind.CALL,
         "letter": ActionKind.LETTER, "app_push": ActionKind.APP_PUSH}
POINTS = {"sms": "mobile", "email": "email", "call": "mobile", "letter": "address",
          "app_push": "app"}


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def body(number: int, language: str = "zh-CN") -> str:
    return JinjaRenderer().render("reminder", language, {
        "lender": "安睿消费金融", "service_phone": "400-800-1234", "name": "王伟",
        "loan_tail": f"{number:04d}", "installment": 1, "amount": "916.80", "currency": "CNY",
        "due_on": "2026-03-15", "days_to_due": 3, "opt_out": True,
        "debt_collector": False}).body


def message(number: int, channel: str = "sms", *, at: datetime, recipient: str = "",
            text: str | None = None, subject: str = "") -> OutgoingMessage:
    debtor = Debtor(person_id=f"B-{number}", zones=("Asia/Shanghai",),
                    points=(ContactPoint(id="mobile", kind="cell", zone="Asia/Shanghai"),
                            ContactPoint(id="email", kind="email"),
                            ContactPoint(id="address", kind="address"),
                            ContactPoint(id="app", kind="app")),
                    debts=(Debt(debt_id=f"L-{number}", dpd=0),))
    content = body(number) if text is None else text
    action = contact_action(KINDS[channel], debtor, point=POINTS[channel], content=content,
                            purpose=Purpose.REMINDER)
    return OutgoingMessage(
        message_id=f"msg-{channel}-{number:05d}", channel=channel, loan_id=None,
        borrower_id=None, business_date=date(2026, 3, 12), template="reminder",
        language="zh-CN", recipient=recipient or f"+86138{number:08d}", subject=subject,
        body=content, pack="cn", compliance=compliance_document(action, debtor.facts()),
        next_attempt_at=at, created_at=at)


def enqueue(services, messages) -> None:  # noqa: ANN001
    with services.uow_factory() as uow:
        uow.messages.enqueue(messages)
        uow.commit()


def statuses(services) -> dict[str, tuple[str, int]]:  # noqa: ANN001
    import sqlalchemy as sa

    from arrears.adapters.db import collections_tables as ct

    with services.engine.connect() as connection:
        rows = connection.execute(sa.select(ct.message.c.message_id, ct.message.c.status,
                                            ct.message.c.attempts))
        return {r[0]: (r[1], r[2]) for r in rows}


def attempt_log(services, message_id: str) -> list[tuple[datetime, str]]:  # noqa: ANN001
    import sqlalchemy as sa

    from arrears.adapters.db import collections_tables as ct
    from arrears.adapters.db.messages import aware

    with services.engine.connect() as connection:
        rows = connection.execute(
            sa.select(ct.message_attempt.c.at, ct.message_attempt.c.outcome)
            .where(ct.message_attempt.c.message_id == message_id)
            .order_by(ct.message_attempt.c.id))
        return [(aware(r[0]), r[1]) for r in rows]


def run_until_settled(services, channels, clock, policy, limiter=None,  # noqa: ANN001
                      max_rounds: int = 200) -> None:
    """Deliver, then move the test clock to the next due instant, until nothing is due."""
    from arrears.application import notifications

    for _ in range(max_rounds):
        notifications.drain(uow_factory=services.uow_factory, channels=channels, clock=clock,
                            worker="test-worker", policy=policy, limiter=limiter)
        with services.uow_factory() as uow:
            due = uow.messages.next_due()
        if due is None:
            return
        clock.at = max(clock.at, due)
    raise AssertionError("the outbox did not settle")
