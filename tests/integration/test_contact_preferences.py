"""Borrowers' opt-outs and requests to stop, honoured on every path that decides a contact:
strategy planning, a collector's logged contact, the worker's send-time re-check and the
book-assembled decision (`compliance may`, the API), each with the rule id, and each allowed
again after a revocation. One loan at one instant gets the same facts on every path."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from arrears import bootstrap
from arrears.adapters.channels.render import JinjaRenderer
from arrears.adapters.db import collections_tables as ct
from arrears.application import collections_demo, contact_decisions, notifications
from arrears.application.contacts import CONTACT_POINTS, contact_action
from arrears.application.handlers import casework, eod, preferences, servicing
from arrears.application.handlers import collections as handlers
from arrears.application.ports import ClaimedMessage
from arrears.application.strategy import parse_strategy_text
from arrears.compliance import codec
from arrears.compliance.model import ActionKind
from arrears.domain.errors import DomainError

from fakes import FixedClock
from shipped import default_products

EXAMPLES = Path(__file__).parents[2] / "examples"
OPEN = date(2026, 2, 2)
CLOSED = date(2026, 3, 20)
SHANGHAI = ZoneInfo("Asia/Shanghai")
OPT_OUT = "cn.house.opt_out"
SMS_EVERY_DAY = """
name = "texts"
product = "WLD-DAILY"
send_time = "10:00"
[[champion]]
name = "text"
kind = "sms"
from = 1
to = 400
template = "overdue"
"""


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=SHANGHAI)


@pytest.fixture
def book(services: bootstrap.Services) -> bootstrap.Services:
    servicing.init_book(OPEN, default_products(), uow_factory=services.uow_factory)
    servicing.import_loans_csv((EXAMPLES / "loans.csv").read_text(),
                               uow_factory=services.uow_factory, clock=services.clock)
    collections_demo.setup(uow_factory=services.uow_factory, start=OPEN)
    _close_through(services, OPEN, CLOSED)
    assert isinstance(services.clock, FixedClock)
    services.clock.at = _at(CLOSED + timedelta(days=1), 9, 30)
    return services


def _close_through(services: bootstrap.Services, first: date, last: date) -> None:
    day = first
    while day <= last:
        eod.run_eod(day, uow_factory=services.uow_factory, clock=services.clock)
        handlers.sync_cases(day, uow_factory=services.uow_factory, clock=services.clock)
        day += timedelta(days=1)


def _received(day: date, hour: int, via: str = "sms") -> preferences.Received:
    return preferences.Received(at=_at(day, hour), via=via)


def _plan(services: bootstrap.Services, day: date) -> dict[str, str]:
    """Plan the texts of the day after `day`: {loan ref: status of its text}."""
    handlers.run_strategies(day, uow_factory=services.uow_factory, clock=services.clock,
                            renderer=JinjaRenderer(),
                            strategies={"WLD-DAILY": parse_strategy_text(SMS_EVERY_DAY)})
    with services.engine.connect() as connection:
        rows = connection.execute(
            sa.select(ct.collection_action.c.action_key, ct.collection_action.c.status,
                      ct.collection_action.c.rule_ids)
            .where(ct.collection_action.c.business_date == day)).all()
    return {key.split(":")[1]: f"{status} {rule_ids or ''}".strip()
            for key, status, rule_ids in rows}


def test_strategies_cancel_texts_after_an_opt_out_and_send_again_after_revocation(book):
    opted = preferences.record_opt_out("B-1001", channel="sms", received=_received(CLOSED, 9),
                                       uow_factory=book.uow_factory, clock=book.clock)
    planned = _plan(book, CLOSED)
    assert planned["WLD-1001"] == f"cancelled {OPT_OUT}"
    assert planned["WLD-1002"] == "scheduled"  # another borrower
    book.clock.at = _at(CLOSED + timedelta(days=1), 13)
    preferences.revoke("B-1001", opted, received=_received(CLOSED + timedelta(days=1), 12),
                       uow_factory=book.uow_factory, clock=book.clock)
    _close_through(book, CLOSED + timedelta(days=1), CLOSED + timedelta(days=1))
    assert _plan(book, CLOSED + timedelta(days=1))["WLD-1001"] == "scheduled"


def test_a_logged_call_after_stop_calling_is_refused_until_revoked(book):
    day = CLOSED + timedelta(days=1)
    stop = preferences.record_cease("B-1001", in_writing=False, channels=("call",),
                                    received=_received(day, 6, via="phone"),
                                    uow_factory=book.uow_factory, clock=book.clock)
    with pytest.raises(casework.ContactRefused) as refused:
        casework.log_contact("WLD-1001", actor="C-01", channel="call", outcome="no_answer",
                             at=_at(day, 10), uow_factory=book.uow_factory)
    assert refused.value.rule_ids == (OPT_OUT,) and refused.value.next_allowed_at is None
    casework.log_contact("WLD-1001", actor="C-01", channel="sms", outcome="no_answer",
                         at=_at(day, 10), script="您好，这里是安睿消费金融，请按时还款。",
                         uow_factory=book.uow_factory)  # an oral "stop calling" is calls only
    book.clock.at = _at(day, 13)
    preferences.revoke("B-1001", stop, received=_received(day, 12, via="phone"),
                       uow_factory=book.uow_factory, clock=book.clock)
    with pytest.raises(casework.ContactRefused):  # revoked from 12:00 on, not before
        casework.log_contact("WLD-1001", actor="C-01", channel="call", outcome="no_answer",
                             at=_at(day, 11), uow_factory=book.uow_factory)
    logged = casework.log_contact("WLD-1001", actor="C-01", channel="call",
                                  outcome="no_answer", at=_at(day, 12, 30),
                                  uow_factory=book.uow_factory)
    assert logged.decision.allowed


def test_the_worker_blocks_a_planned_text_after_a_written_cease_and_sends_after_revocation(
        book):
    assert _plan(book, CLOSED)["WLD-1001"] == "scheduled"
    written = preferences.record_cease("B-1001", in_writing=True,
                                       received=_received(CLOSED + timedelta(days=1), 8,
                                                          via="letter"),
                                       uow_factory=book.uow_factory, clock=book.clock)
    with book.uow_factory() as uow:
        claimed = uow.messages.claim(_at(CLOSED + timedelta(days=1), 10), 100, "w",
                                     _at(CLOSED + timedelta(days=1), 11), ["sms"])
        rows = uow.collections.contact_preferences(
            [m.borrower_id for m in claimed if m.borrower_id is not None])
    mine = next(m for m in claimed if m.loan_ref == "WLD-1001")
    other = next(m for m in claimed if m.loan_ref == "WLD-1002")
    at = _at(CLOSED + timedelta(days=1), 10)
    assert mine.borrower_id is not None and other.borrower_id is not None
    blocked = notifications.decide_at_send(mine, at, notifications.Standing(
        preferences=rows.get(mine.borrower_id, ())))
    assert [v.rule_id for v in blocked.violations] == [OPT_OUT]
    assert blocked.next_allowed_at is None
    assert notifications.decide_at_send(other, at, notifications.Standing(
        preferences=rows.get(other.borrower_id, ()))).allowed
    preferences.revoke("B-1001", written, received=_received(CLOSED + timedelta(days=1), 9,
                                                                  via="letter"),
                       uow_factory=book.uow_factory, clock=book.clock)
    with book.uow_factory() as uow:
        rows = uow.collections.contact_preferences([mine.borrower_id])
    assert notifications.decide_at_send(mine, at, notifications.Standing(
        preferences=rows[mine.borrower_id])).allowed


def test_the_worker_records_a_send_time_opt_out_as_blocked(book):
    _plan(book, CLOSED)
    preferences.record_opt_out("B-1001", channel="sms",
                               received=_received(CLOSED + timedelta(days=1), 6),
                               uow_factory=book.uow_factory, clock=book.clock)
    sent: list[ClaimedMessage] = []

    class Sink:
        def send(self, message: ClaimedMessage) -> None:
            sent.append(message)

        def close(self) -> None: ...

    clock = FixedClock(_at(CLOSED + timedelta(days=1), 10, 5))
    reports = notifications.drain(uow_factory=book.uow_factory, channels={"sms": Sink()},
                                  clock=clock, worker="w")
    assert sum(r.blocked for r in reports) == 1
    assert "WLD-1001" not in {m.loan_ref for m in sent} and sent
    with book.engine.connect() as connection:
        detail = connection.execute(
            sa.select(ct.message_attempt.c.detail)
            .where(ct.message_attempt.c.outcome == "blocked")).scalar_one()
    assert detail == f"compliance: {OPT_OUT}"


def test_compliance_may_blocks_with_the_rule_id_and_allows_after_revocation(book):
    day = CLOSED + timedelta(days=1)
    opted = preferences.record_opt_out("B-1001", channel="email",
                                       received=_received(day, 6, via="email"),
                                       uow_factory=book.uow_factory, clock=book.clock)
    with book.uow_factory() as uow:
        refused = contact_decisions.decide_contact(uow, "WLD-1001", channel="email",
                                                   at=_at(day, 10))
        called = contact_decisions.decide_contact(uow, "WLD-1001", channel="call",
                                                  at=_at(day, 10))
    assert [v.rule_id for v in refused.violations] == [OPT_OUT] and called.allowed
    preferences.revoke("B-1001", opted, received=_received(day, 6, via="email"),
                       uow_factory=book.uow_factory, clock=book.clock)
    with book.uow_factory() as uow:
        assert contact_decisions.decide_contact(uow, "WLD-1001", channel="email",
                                                at=_at(day, 10)).allowed


def test_one_loan_at_one_instant_gets_the_same_facts_on_every_path(book):
    """Strategies (in a batch), log_contact / compliance may (one loan) and the worker (the
    planned facts refreshed from the book) all assemble the same `Facts`."""
    day = CLOSED + timedelta(days=1)
    casework.log_contact("WLD-1001", actor="C-01", channel="call", outcome="refused",
                         at=_at(CLOSED, 15), uow_factory=book.uow_factory)
    preferences.record_opt_out("B-1001", channel="email", received=_received(CLOSED, 16),
                               uow_factory=book.uow_factory, clock=book.clock)
    preferences.record_inconvenient_time("B-1001", start=_at(day, 12).time(),
                                         end=_at(day, 14).time(),
                                         received=_received(CLOSED, 16, via="phone"),
                                         uow_factory=book.uow_factory, clock=book.clock)
    _plan(book, CLOSED)
    at = _at(day, 10)
    with book.uow_factory() as uow:
        found = contact_decisions.case_loan(uow, "WLD-1001")
        one = contact_decisions.loan_facts(uow, found, at)
        claimed = uow.messages.claim(at, 100, "w", at + timedelta(hours=1), ["sms"])
        rows = uow.collections.contact_preferences([found.booked.borrower_id])
        disputed = uow.disputes.of_loans(["WLD-1001"]).get("WLD-1001", [])
    planned = next(m for m in claimed if m.loan_ref == "WLD-1001")
    from_strategy = codec.parse_facts(planned.compliance["facts"])
    refreshed = contact_decisions.with_preferences(
        from_strategy, "B-1001", rows[found.booked.borrower_id], at, disputes=disputed)
    assert one.facts == from_strategy == refreshed
    assert one.facts.refused_to_pay_at == _at(CLOSED, 15)
    assert [o.channel for o in one.facts.opt_outs] == [ActionKind.EMAIL]
    assert len(one.facts.inconvenient_times) == 1
    action = contact_action(ActionKind.SMS, one.debtor, point=CONTACT_POINTS[ActionKind.SMS])
    assert action.recipient.person_id == "B-1001"


@pytest.mark.parametrize(("call", "field"), [
    (lambda b: preferences.record_opt_out("B-1001", channel="fax", received=_received(
        CLOSED, 9), uow_factory=b.uow_factory, clock=b.clock), "channel"),
    (lambda b: preferences.record_opt_out("B-9999", channel="sms", received=_received(
        CLOSED, 9), uow_factory=b.uow_factory, clock=b.clock), "borrower_id"),
    (lambda b: preferences.record_opt_out("B-1001", channel="sms", received=_received(
        CLOSED + timedelta(days=2), 9), uow_factory=b.uow_factory, clock=b.clock),
     "received_at"),
    (lambda b: preferences.record_opt_out("B-1001", channel="sms", received=preferences
                                          .Received(at=_at(CLOSED, 9), via="pigeon"),
                                          uow_factory=b.uow_factory, clock=b.clock), "via"),
    (lambda b: preferences.record_cease("B-1001", in_writing=False, received=_received(
        CLOSED, 9, via="phone"), uow_factory=b.uow_factory, clock=b.clock), "channels"),
    (lambda b: preferences.record_cease("B-1001", in_writing=True, received=_received(
        CLOSED, 9, via="phone"), uow_factory=b.uow_factory, clock=b.clock), "via"),
    (lambda b: preferences.record_inconvenient_time(
        "B-1001", start=_at(CLOSED, 14).time(), end=_at(CLOSED, 12).time(),
        received=_received(CLOSED, 9), uow_factory=b.uow_factory, clock=b.clock), "end"),
    (lambda b: preferences.revoke("B-1001", 999, received=_received(CLOSED, 9),
                                  uow_factory=b.uow_factory, clock=b.clock), "preference_id"),
])
def test_bad_preferences_name_the_field_and_record_nothing(book, call, field):
    with pytest.raises(DomainError) as error:
        call(book)
    assert error.value.field == field
    with book.engine.connect() as connection:
        assert connection.execute(sa.select(sa.func.count()).select_from(
            ct.contact_preference)).scalar_one() == 0


def test_a_preference_is_revoked_once_and_not_before_it_was_received(book):
    opted = preferences.record_opt_out("B-1001", channel="sms", received=_received(CLOSED, 9),
                                       uow_factory=book.uow_factory, clock=book.clock)
    with pytest.raises(DomainError) as early:
        preferences.revoke("B-1001", opted, received=_received(CLOSED, 8),
                           uow_factory=book.uow_factory, clock=book.clock)
    assert early.value.field == "received_at"
    preferences.revoke("B-1001", opted, received=_received(CLOSED, 10),
                       uow_factory=book.uow_factory, clock=book.clock)
    with pytest.raises(DomainError) as twice:
        preferences.revoke("B-1001", opted, received=_received(CLOSED, 11),
                           uow_factory=book.uow_factory, clock=book.clock)
    assert twice.value.field == "preference_id"
    (listed,) = preferences.preferences("B-1001", uow_factory=book.uow_factory)
    assert listed["kind"] == "opt_out"
    assert datetime.fromisoformat(listed["revoked"]["received_at"]) == _at(CLOSED, 10)
