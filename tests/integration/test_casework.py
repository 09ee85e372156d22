"""Casework on a small migrated book (SQLite, and PostgreSQL when configured): promises to pay
settled after EOD, contacts logged through the compliance engine, agency recoveries and
complaint rates, and field visits under a written authorization."""

from __future__ import annotations

import json
import threading
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from arrears import bootstrap
from arrears.adapters.channels.render import JinjaRenderer
from arrears.adapters.db import collections_tables as ct
from arrears.adapters.db import tables
from arrears.adapters.db.collections_store import SqlCollections
from arrears.application import collections_demo
from arrears.application.handlers import casework, credentials, eod, payments, servicing
from arrears.application.handlers import collections as handlers
from arrears.application.owed_today import owed_today
from arrears.application.strategy import parse_strategy_text
from arrears.domain.errors import DomainError
from arrears.domain.loan import summarize

from collection_strategies import PLACE_WLD as PLACE_ALL
from shipped import default_products

EXAMPLES = Path(__file__).parents[2] / "examples"
OPEN = date(2026, 2, 2)
CLOSED = date(2026, 3, 20)
"""After EOD of this date: WLD-1001 is 33 days past due (M2), WLD-1002 28, PHN-2001 20."""
SHANGHAI = ZoneInfo("Asia/Shanghai")
CALL_FREQUENCY = "cn.gbt45251.call_frequency"
FIELD_VISIT = "cn.cba2026.field_visit"
HOUSE_VISIT = "cn.house.visit_conditions"


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=SHANGHAI)


@pytest.fixture
def book(services: bootstrap.Services) -> bootstrap.Services:
    servicing.init_book(OPEN, default_products(), uow_factory=services.uow_factory)
    servicing.import_loans_csv((EXAMPLES / "loans.csv").read_text(),
                               uow_factory=services.uow_factory, clock=services.clock)
    collections_demo.setup(uow_factory=services.uow_factory, start=OPEN)
    _close_through(services, CLOSED)
    return services


def _close_through(services: bootstrap.Services, day: date) -> None:
    """EOD through `day`, then what the demo runs after each EOD."""
    closed = None
    with services.uow_factory() as uow:
        closed = uow.book.closed_through()
    start = OPEN if closed is None else closed + timedelta(days=1)
    current = start
    while current <= day:
        eod.run_eod(current, uow_factory=services.uow_factory, clock=services.clock)
        casework.evaluate_promises(current, uow_factory=services.uow_factory,
                                   clock=services.clock)
        casework.refresh_recoveries(current, uow_factory=services.uow_factory)
        handlers.sync_cases(current, uow_factory=services.uow_factory, clock=services.clock)
        current += timedelta(days=1)


def _pay(services: bootstrap.Services, loan: str, amount: int, on: date) -> None:
    payments.post_payment(loan, amount, on, f"pay-{loan}-{on}-{amount}",
                          uow_factory=services.uow_factory, clock=services.clock,
                          is_duplicate_key_error=bootstrap.is_duplicate_key_error)


def _rows(services: bootstrap.Services, table: sa.Table) -> list[sa.Row]:
    with services.engine.connect() as connection:
        return list(connection.execute(sa.select(table).order_by(*table.primary_key.columns)))


# --- promises to pay ---------------------------------------------------------------------


def test_a_promise_is_kept_when_payments_since_it_cover_the_amount_by_its_date(book) -> None:
    services = book
    _pay(services, "WLD-1002", 5_000, CLOSED)  # before the promise: does not count
    promise_id = casework.record_promise("WLD-1002", 30_000, date(2026, 3, 25),
                                         collector="C-01", uow_factory=services.uow_factory,
                                         clock=services.clock)
    _pay(services, "WLD-1002", 20_000, date(2026, 3, 21))
    _close_through(services, date(2026, 3, 21))
    assert _rows(services, ct.promise)[0].status == "open"
    _pay(services, "WLD-1002", 10_000, date(2026, 3, 22))
    _close_through(services, date(2026, 3, 22))
    (row,) = _rows(services, ct.promise)
    assert (row.id, row.status, row.settled_on, row.paid) == (
        promise_id, "kept", date(2026, 3, 22), 30_000)
    assert (row.collector_ref, row.promised_on) == ("C-01", date(2026, 3, 21))
    again = casework.evaluate_promises(date(2026, 3, 22), uow_factory=services.uow_factory,
                                       clock=services.clock)
    assert (again.kept, again.broken, again.open) == (0, 0, 0)


def test_a_promise_is_broken_the_day_after_its_date_when_payments_fall_short(book) -> None:
    services = book
    casework.record_promise("WLD-1001", 100_000, date(2026, 3, 22),
                            uow_factory=services.uow_factory, clock=services.clock)
    _pay(services, "WLD-1001", 40_000, date(2026, 3, 21))
    _close_through(services, date(2026, 3, 22))
    assert _rows(services, ct.promise)[0].status == "open"  # still open on its own date
    _pay(services, "WLD-1001", 60_000, date(2026, 3, 23))  # too late to keep it
    _close_through(services, date(2026, 3, 23))
    (row,) = _rows(services, ct.promise)
    assert (row.status, row.settled_on, row.paid) == ("broken", date(2026, 3, 23), 40_000)
    (event,) = [e for e in _rows(services, tables.outbox) if e.topic == "promise.broken"]
    assert (event.message_id, json.loads(event.payload)["paid"]) == (
        f"promise.broken:{row.id}", 40_000)  # for webhook subscribers


@pytest.mark.parametrize(("loan", "amount", "due", "collector", "field"), [
    ("WLD-1001", 0, date(2026, 3, 25), "", "amount"),
    ("WLD-1001", 100, date(2026, 3, 20), "", "due_on"),
    ("NOPE", 100, date(2026, 3, 25), "", "loan_id"),
    ("WLD-1001", 100, date(2026, 3, 25), "C-99", "actor"),
    ("WLD-1001", 100, date(2026, 3, 25), "agency:AG-HUAXIN", "actor"),  # not placed there
])
def test_a_bad_promise_names_the_field(book, loan, amount, due, collector, field) -> None:
    with pytest.raises(DomainError) as error:
        casework.record_promise(loan, amount, due, collector=collector,
                                uow_factory=book.uow_factory, clock=book.clock)
    assert error.value.field == field
    assert _rows(book, ct.promise) == []


def test_a_loan_end_of_day_skipped_can_be_promised_its_payoff_as_the_portal_shows_it(
        book) -> None:
    """Paid up, WLD-1002 has nothing due for days: EOD leaves its stored state behind while
    interest accrues, so the cap is the payoff brought forward to the closed date."""
    services = book
    paid_on = CLOSED + timedelta(days=1)
    _pay(services, "WLD-1002", owed_today("WLD-1002", uow_factory=services.uow_factory)
         .total_due, paid_on)
    for day in (paid_on, paid_on + timedelta(days=1), paid_on + timedelta(days=2)):
        eod.run_eod(day, uow_factory=services.uow_factory, clock=services.clock)
    with services.uow_factory() as uow:
        booked = uow.book.get("WLD-1002")
    assert booked is not None and booked.state.as_of < paid_on + timedelta(days=2)
    payoff = owed_today("WLD-1002", uow_factory=services.uow_factory).payoff_amount
    assert payoff > summarize(booked.loan, booked.state).payoff_amount  # the stale figure
    due = paid_on + timedelta(days=5)
    with pytest.raises(DomainError) as error:
        casework.record_promise("WLD-1002", payoff + 1, due, uow_factory=services.uow_factory,
                                clock=services.clock)
    assert error.value.field == "amount"
    casework.record_promise("WLD-1002", payoff, due, uow_factory=services.uow_factory,
                            clock=services.clock)
    assert [row.amount for row in _rows(services, ct.promise)] == [payoff]


def test_one_form_sent_twice_at_once_records_one_promise(book, monkeypatch) -> None:
    """Both submits read "no promise yet" unless the loan's row makes them take turns: the
    check is held open long enough for the other to get there."""
    services = book
    seen = SqlCollections.promise_made

    def slow_promise_made(self, *args):
        found = seen(self, *args)
        time.sleep(0.5)
        return found

    monkeypatch.setattr(SqlCollections, "promise_made", slow_promise_made)
    barrier = threading.Barrier(2)
    outcomes: list[object] = []

    def submit() -> None:
        barrier.wait()
        try:
            outcomes.append(casework.record_promise(
                "WLD-1001", 10_000, date(2026, 3, 25), uow_factory=services.uow_factory,
                clock=services.clock))
        except DomainError as error:
            outcomes.append(error.field)

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes, key=str) == sorted([_rows(services, ct.promise)[0].id, "promise"],
                                               key=str)
    assert len(_rows(services, ct.promise)) == 1


# --- contact logging -----------------------------------------------------------------------


def test_a_fourth_connected_call_in_a_day_is_refused_by_cn2(book) -> None:
    services = book
    day = date(2026, 3, 21)
    # Unanswered attempts are not connected calls: they do not use up the three.
    casework.log_contact("WLD-1001", actor="C-01", channel="call", outcome="no_answer",
                         at=_at(day, 8, 30), uow_factory=services.uow_factory)
    for hour, outcome in ((9, "conversation"), (11, "refused"), (13, "wrong_party")):
        casework.log_contact("WLD-1001", actor="C-02", channel="call", outcome=outcome,
                             at=_at(day, hour), notes="asked for payment",
                             recording_ref=f"rec://{hour}", uow_factory=services.uow_factory)
    with pytest.raises(casework.ContactRefused) as refused:
        casework.log_contact("WLD-1001", actor="C-01", channel="call", outcome="busy",
                             at=_at(day, 15), uow_factory=services.uow_factory)
    assert refused.value.rule_ids == (CALL_FREQUENCY,)
    assert refused.value.field == "compliance" and CALL_FREQUENCY in refused.value.reason
    assert refused.value.next_allowed_at == _at(day + timedelta(days=1), 8)
    rows = _rows(services, ct.contact_log)
    assert [r.outcome for r in rows] == ["no_answer", "conversation", "refused", "wrong_party"]
    assert rows[1].recording_ref == "rec://9" and rows[1].notes == "asked for payment"
    # Another borrower, and the next morning, are not affected.
    casework.log_contact("WLD-1002", actor="C-01", channel="call", outcome="conversation",
                         at=_at(day, 15), uow_factory=services.uow_factory)
    casework.log_contact("WLD-1001", actor="C-02", channel="call", outcome="voicemail",
                         at=_at(day + timedelta(days=1), 9), uow_factory=services.uow_factory)


def test_logged_calls_are_history_for_the_strategy_call_tasks(book) -> None:
    services = book
    day = date(2026, 3, 21)
    for hour in (8, 9, 9):
        casework.log_contact("WLD-1002", actor="C-01", channel="call", outcome="conversation",
                             at=_at(day, hour, 30 if hour == 9 else 0),
                             uow_factory=services.uow_factory)
    calls = parse_strategy_text(CALL_EVERY_DAY)
    report = handlers.run_strategies(CLOSED, uow_factory=services.uow_factory,
                                     clock=services.clock, renderer=JinjaRenderer(),
                                     strategies={"WLD-DAILY": calls})
    assert report.blocked[CALL_FREQUENCY] == 1  # WLD-1002's call moves to the next day
    assert report.actions["call:rescheduled"] == 1 and report.actions["call:scheduled"] >= 1


CALL_EVERY_DAY = """
name = "calls"
product = "WLD-DAILY"
send_time = "10:00"
[[champion]]
name = "call"
kind = "call"
from = 1
to = 400
template = "call"
"""


def test_contacts_outside_hours_or_with_bad_input_are_refused(book) -> None:
    services = book
    with pytest.raises(casework.ContactRefused) as refused:
        casework.log_contact("WLD-1001", actor="C-02", channel="sms", outcome="no_answer",
                             at=_at(date(2026, 3, 21), 22, 30),
                             uow_factory=services.uow_factory)
    assert refused.value.rule_ids == ("cn.gbt45251.collection_hours",)
    at = _at(date(2026, 3, 21), 10)
    bad = [
        (dict(outcome="hung_up"), "outcome"),
        (dict(channel="fax"), "channel"),
        (dict(channel="field_visit"), "channel"),
        (dict(at=at.replace(tzinfo=None)), "at"),
        (dict(actor="C-99"), "actor"),
        (dict(actor="agency:AG-HUAXIN"), "actor"),  # the case is not placed with it
        (dict(loan="PHN-9999"), "loan_id"),
    ]
    for change, field in bad:
        arguments = dict(loan="WLD-1001", actor="C-02", channel="call",
                         outcome="conversation", at=at) | change
        loan = arguments.pop("loan")
        with pytest.raises(DomainError) as error:
            casework.log_contact(loan, uow_factory=services.uow_factory, **arguments)
        assert error.value.field == field, change
    assert _rows(services, ct.contact_log) == []


# --- agencies ------------------------------------------------------------------------------




def test_agency_recovery_rate_and_complaints_per_thousand_contacts(book) -> None:
    services = book
    report = handlers.run_strategies(CLOSED, uow_factory=services.uow_factory,
                                     clock=services.clock, renderer=JinjaRenderer(),
                                     strategies={"WLD-DAILY": parse_strategy_text(PLACE_ALL)})
    assert report.actions["agency_placement:done"] == 2  # WLD-1001, WLD-1002; placed 03-21
    _pay(services, "WLD-1001", 7_000, date(2026, 3, 21))  # placed that day: counts
    _close_through(services, date(2026, 3, 21))
    _pay(services, "WLD-1002", 11_000, date(2026, 3, 22))
    _close_through(services, date(2026, 3, 22))
    case_of_1002 = next(c["case_id"] for c in handlers.agency_cases(
        "AG-HUAXIN", date(2026, 3, 22), uow_factory=services.uow_factory)
        if c["borrower_ref"] == "B-1002")
    assert handlers.recall_case(case_of_1002, date(2026, 3, 23), by="web:sup",
                                uow_factory=services.uow_factory, clock=services.clock)
    _pay(services, "WLD-1002", 13_000, date(2026, 3, 23))  # after the recall: not the agency's
    _close_through(services, date(2026, 3, 23))
    for hour in (9, 10, 11):
        casework.log_contact("WLD-1001", actor="agency:AG-HUAXIN", channel="call",
                             outcome="no_answer", at=_at(date(2026, 3, 24), hour),
                             complaint=hour == 10, uow_factory=services.uow_factory)
    casework.log_contact("WLD-1001", actor="agency:AG-HUAXIN", channel="sms",
                         outcome="no_answer", at=_at(date(2026, 3, 24), 12),
                         uow_factory=services.uow_factory)
    with pytest.raises(DomainError) as error:  # recalled: the agency may not work it
        casework.log_contact("WLD-1002", actor="agency:AG-HUAXIN", channel="call",
                             outcome="no_answer", at=_at(date(2026, 3, 24), 12),
                             uow_factory=services.uow_factory)
    assert error.value.field == "actor"
    with services.uow_factory() as uow:
        performance = {row["agency"]: row for row in uow.collections.agency_performance()}
    placed = {r.loan_id: r.balance for r in _rows(services, ct.placement_loan)}
    huaxin = performance["AG-HUAXIN"]
    assert huaxin["placements"] == 2 and huaxin["placed_balance"] == sum(placed.values())
    assert huaxin["recovered"] == 18_000
    assert huaxin["recovery_rate"] == f"{18_000 / sum(placed.values()):.4f}"
    assert (huaxin["contacts"], huaxin["complaints_per_1000_contacts"]) == (4, "250.00")
    assert performance["AG-UNLISTED"]["placements"] == 0
    # A re-run recounts rather than adds.
    casework.refresh_recoveries(date(2026, 3, 23), uow_factory=services.uow_factory)
    assert sum(r.recovered for r in _rows(services, ct.placement)) == 18_000


# --- field visits --------------------------------------------------------------------------


def _credentials(services: bootstrap.Services) -> None:
    for ref in ("C-02", "C-05"):
        credentials.issue_badge(ref, f"CRED-{ref}", _at(OPEN, 0), _at(date(2027, 1, 1), 0),
                                uow_factory=services.uow_factory, keys=services.keys,
                                clock=services.clock, issuer="lender")


def _refused(services: bootstrap.Services) -> None:
    casework.log_contact("WLD-1001", actor="C-02", channel="call", outcome="refused",
                         at=_at(date(2026, 3, 21), 9), uow_factory=services.uow_factory)


def test_a_visit_request_becomes_a_visit_when_the_engine_allows_it(book) -> None:
    services = book
    _credentials(services)
    _refused(services)
    casework.authorize_visit(casework.VisitAuthorizationRequest(
        authorization_ref="VA-1", loan_ref="WLD-1001", collectors=("C-02", "C-05"),
        issued_at=_at(date(2026, 3, 21), 8), valid_until=_at(date(2026, 4, 21), 0),
        written=True, recording=True, legal_reviewer="法务部 赵律师",
        legal_review_at=_at(date(2026, 3, 21), 8, 30)), uow_factory=services.uow_factory)
    at = _at(date(2026, 3, 21), 15)
    outcome = casework.request_visit("WLD-1001", at, uow_factory=services.uow_factory)
    assert (outcome.allowed, outcome.recorded, outcome.rule_ids) == (True, True, ())
    assert outcome.authorization_ref == "VA-1"
    again = casework.request_visit("WLD-1001", at, uow_factory=services.uow_factory)
    assert again.allowed and not again.recorded
    (visit,) = _rows(services, ct.field_visit)
    assert (visit.collectors, visit.recording, visit.status) == ("C-02,C-05", True, "scheduled")
    # The strategy's field-visit step uses the same authorization the next morning.
    report = handlers.run_strategies(CLOSED, uow_factory=services.uow_factory,
                                     clock=services.clock, renderer=JinjaRenderer(),
                                     strategies={"WLD-DAILY": parse_strategy_text(VISIT)})
    assert report.actions["field_visit:done"] == 1  # WLD-1001
    assert report.blocked[HOUSE_VISIT] == 1  # WLD-1002: no authorization, 28 DPD
    assert len(_rows(services, ct.field_visit)) == 2


VISIT = """
name = "visit"
product = "WLD-DAILY"
[[champion]]
name = "visit"
kind = "field_visit"
from = 1
to = 400
"""


def test_a_visit_request_is_refused_with_the_rule_id(book) -> None:
    services = book
    _credentials(services)
    # Before any refusal or failed contact, with one collector, no legal review, unwritten.
    casework.authorize_visit(casework.VisitAuthorizationRequest(
        authorization_ref="VA-2", loan_ref="WLD-1001", collectors=("C-02",),
        issued_at=_at(date(2026, 3, 21), 8), valid_until=_at(date(2026, 4, 21), 0),
        written=False, recording=True), uow_factory=services.uow_factory)
    outcome = casework.request_visit("WLD-1001", _at(date(2026, 3, 21), 15),
                                     uow_factory=services.uow_factory)
    assert not outcome.allowed and not outcome.recorded
    assert outcome.rule_ids == (FIELD_VISIT, HOUSE_VISIT)
    assert "at least 2 collectors" in outcome.reason
    assert "written visit authorization" in outcome.reason
    assert "remote contact has neither failed nor been refused" in outcome.reason
    assert _rows(services, ct.field_visit) == []
    with pytest.raises(DomainError) as error:
        casework.authorize_visit(casework.VisitAuthorizationRequest(
            authorization_ref="VA-3", loan_ref="WLD-1001", collectors=("C-02", "C-77"),
            issued_at=_at(date(2026, 3, 21), 8), valid_until=_at(date(2026, 4, 21), 0)),
            uow_factory=services.uow_factory)
    assert error.value.field == "collectors"
    with pytest.raises(DomainError) as error:
        casework.request_visit("WLD-1001", _at(date(2026, 3, 21), 15), authorization_ref="VA-9",
                               uow_factory=services.uow_factory)
    assert error.value.field == "authorization"


def test_a_collector_is_deactivated_once(services: bootstrap.Services) -> None:
    """On both databases: the collector leaves the floor (no longer listed, no case kept);
    a second deactivation, one of a collector never on file, or their id given again names
    the collector."""
    servicing.init_book(date(2026, 1, 1), {}, uow_factory=services.uow_factory)
    casework.add_collector("C-09", "王敏", languages=(), buckets=("M1",), capacity=5,
                           uow_factory=services.uow_factory)
    done = casework.deactivate_collector("C-09", reason="left",
                                         uow_factory=services.web_uow_factory(),
                                         clock=services.clock, zone="Asia/Shanghai")
    assert (done.cases_released, done.credentials_revoked) == (0, ())
    with services.engine.connect() as connection:
        # The operator's reason stays internal: an event, not the borrowers' evidence.
        payloads = connection.execute(sa.select(tables.outbox.c.payload).where(
            tables.outbox.c.topic == "collector.deactivated")).scalars().all()
    assert [json.loads(p)["reason"] for p in payloads] == ["left"]
    with services.uow_factory() as uow:
        assert [c.collector_ref for c in uow.collections.collectors()] == []
    for ref in ("C-09", "C-99"):
        with pytest.raises(DomainError) as refused:
            casework.deactivate_collector(ref, reason="left",
                                          uow_factory=services.web_uow_factory(),
                                          clock=services.clock, zone="Asia/Shanghai")
        assert refused.value.field == "collector"
    # Credentials and evidence name the collector by id: it is never given to another.
    with pytest.raises(DomainError, match="deactivated") as refused:
        casework.add_collector("C-09", "李强", languages=(), buckets=("M1",), capacity=5,
                               uow_factory=services.uow_factory)
    assert refused.value.field == "collector"


def test_a_case_leaves_a_collector_who_left_the_floor_at_the_next_sync(book) -> None:
    """A collector taken off the floor while a sync was under way (the deactivation missed a
    case the sync then gave them): the next sync gives the case to a collector on the floor,
    bucket unchanged or not."""
    with book.engine.begin() as connection:
        worked = connection.execute(
            sa.select(ct.collection_case.c.id, ct.collection_case.c.collector_id)
            .where(ct.collection_case.c.status == "open",
                   ct.collection_case.c.collector_id.is_not(None))).all()
        assert worked
        gone = worked[0].collector_id
        connection.execute(ct.collector.update().where(ct.collector.c.id == gone)
                           .values(active=False))
    handlers.sync_cases(CLOSED, uow_factory=book.uow_factory, clock=book.clock)
    with book.engine.connect() as connection:
        holders = connection.execute(sa.select(ct.collection_case.c.collector_id).where(
            ct.collection_case.c.status == "open")).scalars().all()
    assert gone not in holders
