"""The disputes register on a migrated book (SQLite, and PostgreSQL when configured): an open
dispute stops collection on every path that decides a contact, with the rule id (US-23 for the
lender's staff as house policy, `cn.house.objection_suspends` for a PRC objection), and an
answer lets it go again; credit reporting marks the account while it is open (XB, the 异议
mark, CN-23 / M2-8) and re-sends corrected months; plans are refused; the evidence chain keeps
every dispute and contact preference and still verifies; bad input records nothing."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from arrears import bootstrap
from arrears.adapters.channels.render import JinjaRenderer
from arrears.adapters.db import collections_tables as ct
from arrears.adapters.db import disputes_tables as dt
from arrears.adapters.db import trust_tables as tt
from arrears.application import collections_demo, contact_decisions, notifications
from arrears.application.bureau import BureauNotice, NoticeKind
from arrears.application.handlers import bureau as reporting
from arrears.application.handlers import (
    casework,
    disputes,
    eod,
    evidence,
    plans,
    preferences,
    servicing,
)
from arrears.application.handlers import collections as handlers
from arrears.application.strategy import parse_strategy_text
from arrears.domain.bureau.codes import ConditionCode
from arrears.domain.bureau.snapshot import DisputeState, Month
from arrears.domain.errors import DomainError

from fakes import FixedClock
from shipped import default_policies, default_products

EXAMPLES = Path(__file__).parents[2] / "examples"
OPEN = date(2026, 2, 2)
CLOSED = date(2026, 3, 20)
SHANGHAI = ZoneInfo("Asia/Shanghai")
NEW_YORK = ZoneInfo("America/New_York")
OBJECTION = "cn.house.objection_suspends"
US_DISPUTE = "us.house.dispute_suspends"
US_LOAN = ("USL-3001,B-3001,Pat Doe,123456789,+12125550100,US-CASH,USD,5000.00,2026-01-15,12,"
           "1 Main St New York,NY,America/New_York,en,,,")
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


def _cn(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=SHANGHAI)


def _us(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=NEW_YORK)


def _close(services: bootstrap.Services, last: date) -> None:
    with services.uow_factory() as uow:
        closed = uow.book.closed_through()
    day = OPEN if closed is None else closed + timedelta(days=1)
    while day <= last:
        eod.run_eod(day, uow_factory=services.uow_factory, clock=services.clock)
        handlers.sync_cases(day, uow_factory=services.uow_factory, clock=services.clock)
        day += timedelta(days=1)


def _clock(services: bootstrap.Services) -> FixedClock:
    assert isinstance(services.clock, FixedClock)
    return services.clock


@pytest.fixture
def book(services: bootstrap.Services) -> bootstrap.Services:
    """The example PRC book, closed through CLOSED, the clock the next morning."""
    servicing.init_book(OPEN, default_products(), uow_factory=services.uow_factory)
    servicing.import_loans_csv((EXAMPLES / "loans.csv").read_text(),
                               uow_factory=services.uow_factory, clock=services.clock)
    collections_demo.setup(uow_factory=services.uow_factory, start=OPEN)
    _close(services, CLOSED)
    _clock(services).at = _cn(CLOSED + timedelta(days=1), 9)
    return services


@pytest.fixture
def us_book(services: bootstrap.Services) -> bootstrap.Services:
    """One US loan (a book keeps one currency), closed through CLOSED."""
    products = default_products()
    products["US-CASH"] = {**products["WLD-DAILY"], "jurisdiction": "US"}
    servicing.init_book(OPEN, products, uow_factory=services.uow_factory)
    header = (EXAMPLES / "loans.csv").read_text().splitlines()[0]
    servicing.import_loans_csv(f"{header}\n{US_LOAN}\n", uow_factory=services.uow_factory,
                               clock=services.clock)
    collections_demo.setup(uow_factory=services.uow_factory, start=OPEN)
    _close(services, CLOSED)
    _clock(services).at = _us(CLOSED + timedelta(days=1), 9)
    return services


def _open(services: bootstrap.Services, loan: str, kind: str, channel: str, at: datetime,
          about: str = "debt") -> str:
    return disputes.open_dispute(
        disputes.NewDispute(loan_ref=loan, kind=kind, channel=channel, received_at=at,
                            about=about),
        uow_factory=services.uow_factory, clock=services.clock).dispute_ref


def _answer(services: bootstrap.Services, ref: str, outcome: str, at: datetime) -> None:
    disputes.answer_dispute(ref, outcome=outcome, sent_at=at, uow_factory=services.uow_factory,
                            clock=services.clock)


def _may(services: bootstrap.Services, loan: str, channel: str, at: datetime) -> list[str]:
    with services.uow_factory() as uow:
        decision = contact_decisions.decide_contact(uow, loan, channel=channel, at=at)
    return [v.rule_id for v in decision.violations]


def _log(services: bootstrap.Services, loan: str, at: datetime) -> None:
    casework.log_contact(loan, actor="C-01", channel="call", outcome="no_answer", at=at,
                         uow_factory=services.uow_factory)


# --- collection stops while a dispute is open ------------------------------------------------


def test_an_objection_stops_contact_until_answered(book) -> None:
    day = CLOSED + timedelta(days=1)
    ref = _open(book, "WLD-1001", "objection", "phone", _cn(day, 9))
    with pytest.raises(casework.ContactRefused) as refused:
        _log(book, "WLD-1001", _cn(day, 10))
    assert refused.value.rule_ids == (OBJECTION,) and refused.value.next_allowed_at is None
    assert _may(book, "WLD-1001", "call", _cn(day, 10)) == [OBJECTION]
    assert _may(book, "WLD-1001", "call", _cn(day, 8)) == []  # before it was received
    assert _may(book, "WLD-1002", "call", _cn(day, 10)) == []  # another loan
    _clock(book).at = _cn(day, 12)
    _answer(book, ref, "verified", _cn(day, 11))
    _log(book, "WLD-1001", _cn(day, 11) + timedelta(minutes=30))
    assert _may(book, "WLD-1001", "call", _cn(day, 10)) == [OBJECTION]  # as it was then


def test_an_objection_to_a_credit_record_leaves_collection_alone(book) -> None:
    day = CLOSED + timedelta(days=1)
    _open(book, "WLD-1001", "objection", "mail", _cn(day, 8), about="credit_record")
    assert _may(book, "WLD-1001", "call", _cn(day, 10)) == []
    _log(book, "WLD-1001", _cn(day, 10))


def test_a_written_us_dispute_stops_the_lenders_staff_an_oral_one_does_not(us_book) -> None:
    day = CLOSED + timedelta(days=1)
    oral = _open(us_book, "USL-3001", "dispute", "phone", _us(day, 7))
    assert _may(us_book, "USL-3001", "call", _us(day, 10)) == []  # US-23: in writing only
    _answer(us_book, oral, "verified", _us(day, 8))
    written = _open(us_book, "USL-3001", "original_creditor", "mail", _us(day, 8))
    with pytest.raises(casework.ContactRefused) as refused:
        _log(us_book, "USL-3001", _us(day, 10))
    assert refused.value.rule_ids == (US_DISPUTE,)
    assert _may(us_book, "USL-3001", "call", _us(day, 10)) == [US_DISPUTE]
    _answer(us_book, written, "verified", _us(day, 9))
    assert _may(us_book, "USL-3001", "call", _us(day, 10)) == []
    _log(us_book, "USL-3001", _us(day, 10))


def _plan(services: bootstrap.Services, day: date) -> dict[str, str]:
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


def test_strategies_and_the_worker_hold_texts_on_a_disputed_debt(book) -> None:
    _open(book, "WLD-1001", "objection", "mail", _cn(CLOSED, 9))
    planned = _plan(book, CLOSED)
    assert planned["WLD-1001"] == f"cancelled {OBJECTION}"
    assert planned["WLD-1002"] == "scheduled"
    # Planned before the objection, sent after it: the worker decides with the book's.
    day = CLOSED + timedelta(days=1)
    ref = _open(book, "WLD-1002", "objection", "portal", _cn(day, 8))
    at = _cn(day, 10)
    with book.uow_factory() as uow:
        claimed = uow.messages.claim(at, 100, "w", at + timedelta(hours=1), ["sms"])
        found = uow.disputes.of_loans(["WLD-1002"])
    message = next(m for m in claimed if m.loan_ref == "WLD-1002")
    standing = notifications.Standing(disputes=found["WLD-1002"])
    assert [v.rule_id for v in notifications.decide_at_send(message, at, standing)
            .violations] == [OBJECTION]
    _answer(book, ref, "verified", _cn(day, 9))
    with book.uow_factory() as uow:
        found = uow.disputes.of_loans(["WLD-1002"])
    assert notifications.decide_at_send(
        message, at, notifications.Standing(disputes=found["WLD-1002"])).allowed


def test_no_plan_is_proposed_while_the_debt_is_disputed(book) -> None:
    plans.set_policies(default_policies(), uow_factory=book.uow_factory)
    day = CLOSED + timedelta(days=1)
    ref = _open(book, "WLD-1001", "objection", "mail", _cn(day, 8))
    with pytest.raises(plans.PlanRefused) as refused:
        plans.propose("WLD-1001", {"kind": "reage", "terms": 6}, proposed_by="borrower",
                      uow_factory=book.uow_factory, clock=book.clock)
    assert refused.value.field == "loan.dispute"
    _answer(book, ref, "verified", _cn(day, 8) + timedelta(minutes=30))
    assert plans.propose("WLD-1001", {"kind": "reage", "terms": 6}, proposed_by="borrower",
                         uow_factory=book.uow_factory, clock=book.clock)["plan_id"]


# --- credit reporting ---------------------------------------------------------------------


def _month(services: bootstrap.Services, month: Month) -> reporting.MonthRun:
    return reporting.build_month(month, uow_factory=services.bureau_uow_factory(),
                                 disputes=disputes.bureau_disputes(
                                     uow_factory=services.uow_factory))


def _notice(services: bootstrap.Services, loan: str, kind: NoticeKind, on: date) -> None:
    reporting.record_notice(BureauNotice(loan_ref=loan, kind=kind, sent_on=on),
                            uow_factory=services.bureau_uow_factory())


def test_the_pboc_file_marks_an_open_objection_and_resends_corrected_months(book) -> None:
    _notice(book, "WLD-1001", NoticeKind.PRE_REPORT, date(2026, 2, 3))
    ref = _open(book, "WLD-1001", "objection", "mail", _cn(date(2026, 2, 10), 9))
    _close(book, date(2026, 3, 31))
    _clock(book).at = _cn(date(2026, 4, 1), 9)
    records = {r.snapshot.month: r for r in
               (*_month(book, Month(2026, 2)).records, *_month(book, Month(2026, 3)).records)
               if r.snapshot.loan_ref == "WLD-1001"}
    assert records[Month(2026, 2)].snapshot.dispute is DisputeState.OPEN  # the 异议 mark
    march = _month(book, Month(2026, 3))
    assert "WLD-1001" in march.objections_overdue  # received 02-10, reply due 03-02 (CN-23)
    assert disputes.list_disputes(overdue_on=date(2026, 3, 2),
                                  uow_factory=book.uow_factory) == []
    assert [d["dispute_id"] for d in disputes.list_disputes(
        overdue_on=date(2026, 3, 3), uow_factory=book.uow_factory)] == [ref]
    _answer(book, ref, "corrected", _cn(date(2026, 4, 1), 8))
    _close(book, date(2026, 4, 30))
    april = [r for r in _month(book, Month(2026, 4)).records
             if r.snapshot.loan_ref == "WLD-1001"]
    assert [(str(r.snapshot.month), r.correction) for r in april] == [
        ("2026-04", False), ("2026-02", True), ("2026-03", True)]
    assert april[0].snapshot.dispute is DisputeState.ANSWERED
    assert disputes.list_disputes(overdue_on=date(2026, 4, 1),
                                  uow_factory=book.uow_factory) == []


def test_metro2_carries_xb_for_an_oral_dispute_until_answered(us_book) -> None:
    _notice(us_book, "USL-3001", NoticeKind.ABOUT_DEBT, date(2026, 2, 3))
    ref = _open(us_book, "USL-3001", "dispute", "phone", _us(date(2026, 2, 20), 9))
    _close(us_book, date(2026, 3, 31))
    _clock(us_book).at = _us(date(2026, 4, 1), 9)
    codes = {}
    for month in (Month(2026, 2), Month(2026, 3)):
        (record,) = _month(us_book, month).records
        codes[str(month)] = record.snapshot.condition_code
    assert codes == {"2026-02": ConditionCode.UNDER_INVESTIGATION,
                     "2026-03": ConditionCode.UNDER_INVESTIGATION}  # US-27, M2-8
    _answer(us_book, ref, "verified", _us(date(2026, 4, 1), 8))
    _close(us_book, date(2026, 4, 30))
    (april,) = _month(us_book, Month(2026, 4)).records
    assert april.snapshot.condition_code is ConditionCode.INVESTIGATED and not april.correction
    history = reporting.loan_history("USL-3001", uow_factory=us_book.bureau_uow_factory(),
                                     disputes=disputes.bureau_disputes(
                                         uow_factory=us_book.uow_factory, loan_ref="USL-3001"))
    assert [s.condition_code.value for s in history[-3:]] == ["XB", "XB", "XH"]


# --- evidence and bad input ----------------------------------------------------------------


def test_disputes_and_preferences_are_on_the_borrowers_chain_which_verifies(book) -> None:
    day = CLOSED + timedelta(days=1)
    ref = _open(book, "WLD-1001", "objection", "mail", _cn(day, 7))
    opted = preferences.record_opt_out("B-1001", channel="sms",
                                       received=preferences.Received(at=_cn(day, 7), via="sms"),
                                       uow_factory=book.uow_factory, clock=book.clock)
    preferences.revoke("B-1001", opted, received=preferences.Received(at=_cn(day, 8), via="sms"),
                       uow_factory=book.uow_factory, clock=book.clock)
    _answer(book, ref, "rejected", _cn(day, 8))
    with book.uow_factory() as uow:
        borrower_id = uow.evidence.borrower_id("B-1001")
        entries = [(e.kind, e.payload) for e in uow.evidence.entries(borrower_id)]
    kinds = [kind for kind, _ in entries]
    assert kinds[-4:] == ["dispute_opened", "preference_opt_out", "preference_revocation",
                          "dispute_answered"]
    opened, answered = entries[-4][1], entries[-1][1]
    assert opened is not None and answered is not None
    assert (opened["dispute"], opened["kind"], opened["answer_by"]) == \
        (ref, "objection", "2026-04-10")
    assert (answered["outcome"], answered["late"]) == ("rejected", False)
    revocation = entries[-2][1]
    assert revocation is not None and revocation["revokes"]["kind"] == "opt_out"
    members = evidence.export("B-1001", uow_factory=book.uow_factory, keys=book.keys,
                              clock=book.clock, issuer="Arrears")
    report = evidence.verify(members, keys=book.keys, uow_factory=book.uow_factory)
    assert report.intact, report.problems


def _counts(services: bootstrap.Services) -> tuple[int, int]:
    with services.engine.connect() as connection:
        return (connection.scalar(sa.select(sa.func.count()).select_from(dt.dispute)) or 0,
                connection.scalar(sa.select(sa.func.count()).select_from(tt.evidence_entry))
                or 0)


@pytest.mark.parametrize(("change", "field"), [
    ({"kind": "complaint"}, "--kind"),
    ({"kind": "dispute"}, "--kind"),  # a US kind on a PRC loan
    ({"channel": "fax"}, "--channel"),
    ({"about": "everything"}, "--about"),
    ({"loan_ref": "NOPE"}, "LOAN_ID"),
    ({"received_at": _cn(CLOSED, 8).replace(tzinfo=None)}, "--received-at"),  # no offset
    ({"received_at": _cn(date(2027, 1, 1), 8)}, "--received-at"),  # after now
    ({"received_at": _cn(date(2026, 1, 1), 8)}, "--received-at"),  # before disbursement
])
def test_bad_input_names_the_field_and_records_nothing(book, change, field) -> None:
    before = _counts(book)
    request = {"loan_ref": "WLD-1001", "kind": "objection", "channel": "mail",
               "received_at": _cn(CLOSED, 8), **change}
    with pytest.raises(DomainError) as refused:
        disputes.open_dispute(disputes.NewDispute(**request), uow_factory=book.uow_factory,
                              clock=book.clock)
    assert refused.value.field == field
    assert _counts(book) == before


def test_an_answer_is_refused_naming_the_field(book) -> None:
    ref = _open(book, "WLD-1001", "objection", "mail", _cn(CLOSED, 8))
    before = _counts(book)
    for outcome, at, field in (("maybe", _cn(CLOSED, 9), "--outcome"),
                               ("verified", _cn(CLOSED, 7), "--sent-at"),
                               ("verified", _cn(date(2027, 1, 1), 9), "--sent-at")):
        with pytest.raises(DomainError) as refused:
            _answer(book, ref, outcome, at)
        assert refused.value.field == field
    with pytest.raises(DomainError) as refused:
        _answer(book, "DSP-999999", "verified", _cn(CLOSED, 9))
    assert refused.value.field == "ID"
    assert _counts(book) == before
    _answer(book, ref, "verified", _cn(CLOSED, 9))
    with pytest.raises(DomainError) as refused:
        _answer(book, ref, "verified", _cn(CLOSED, 10))
    assert refused.value.field == "ID"
