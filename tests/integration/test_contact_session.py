"""A collector's run of contacts logged in one session (SQLite, and PostgreSQL when
configured) decides and records each contact as logging them one at a time does: the same
refusals, the same contact log, the same evidence chains; and a session that fails logs
nothing."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from arrears import bootstrap
from arrears.adapters.db import collections_tables as ct
from arrears.adapters.db import trust_tables as tt
from arrears.application import collections_demo
from arrears.application.handlers import casework, eod, servicing
from arrears.application.handlers import collections as handlers
from arrears.application.handlers.contact_session import Contact, contact_session
from arrears.domain.errors import DomainError

from shipped import default_products

EXAMPLES = Path(__file__).parents[2] / "examples"
GOLDEN = Path(__file__).parents[1] / "golden" / "contacts"
OPEN = date(2026, 2, 2)
CLOSED = date(2026, 3, 20)
DAY = date(2026, 3, 21)
SHANGHAI = ZoneInfo("Asia/Shanghai")


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=SHANGHAI)


def _call(loan: str, actor: str, outcome: str, at: datetime, **more: Any) -> Contact:
    return Contact(loan_ref=loan, actor=actor, channel="call", outcome=outcome, at=at, **more)


NEXT = DAY + timedelta(days=1)
RUN = (
    _call("WLD-1001", "C-01", "no_answer", _at(DAY, 8, 30)),
    _call("WLD-1001", "C-02", "conversation", _at(DAY, 9), notes="asked for payment",
          recording_ref="rec://9"),
    _call("WLD-1002", "C-01", "conversation", _at(DAY, 9, 10)),
    _call("WLD-1001", "C-02", "refused", _at(DAY, 11)),
    _call("WLD-1001", "C-02", "wrong_party", _at(DAY, 13), complaint=True),
    _call("WLD-1001", "C-01", "busy", _at(DAY, 15)),  # a fourth connected call: CN-2
    _call("WLD-1002", "C-01", "no_answer", _at(DAY, 22, 30)),  # after hours
    _call("WLD-1002", "C-01", "conversation", _at(DAY, 16),
          script="再不还钱就让你坐牢。"),  # a threat
    Contact(loan_ref="PHN-2001", actor="C-02", channel="sms", outcome="no_answer",
            at=_at(DAY, 10)),  # not read ahead
    _call("NOPE-1", "C-01", "no_answer", _at(DAY, 10)),  # no such loan
    _call("WLD-1002", "agency:AG-HUAXIN", "no_answer", _at(DAY, 10)),  # not placed with it
    _call("WLD-1001", "C-02", "voicemail", _at(NEXT, 9)),  # the next morning
)


def _open_book(built: bootstrap.Services) -> None:
    servicing.init_book(OPEN, default_products(), uow_factory=built.uow_factory)
    servicing.import_loans_csv((EXAMPLES / "loans.csv").read_text(),
                               uow_factory=built.uow_factory, clock=built.clock)
    collections_demo.setup(uow_factory=built.uow_factory, start=OPEN)
    day = OPEN
    while day <= CLOSED:
        eod.run_eod(day, uow_factory=built.uow_factory, clock=built.clock)
        handlers.sync_cases(day, uow_factory=built.uow_factory, clock=built.clock)
        day += timedelta(days=1)


@pytest.fixture
def book(services: bootstrap.Services) -> bootstrap.Services:
    _open_book(services)
    return services


@pytest.fixture
def twin(twin: bootstrap.Services) -> bootstrap.Services:
    """The second book (conftest's), opened as `book` is."""
    _open_book(twin)
    return twin


def _outcome(log: Any) -> tuple[Any, ...]:
    """What became of one contact: logged (with the decision's pack), refused (rules, next
    allowed time) or rejected (the field)."""
    try:
        logged = log()
    except casework.ContactRefused as refused:
        return ("refused", refused.rule_ids, refused.next_allowed_at)
    except DomainError as error:
        return ("rejected", error.field)
    return ("logged", logged.decision.allowed, logged.decision.pack)


def _recorded(built: bootstrap.Services) -> dict[str, list[tuple[Any, ...]]]:
    log, entry, chain = ct.contact_log.c, tt.evidence_entry.c, tt.evidence_chain.c
    with built.engine.connect() as connection:
        return {
            "contacts": [tuple(r) for r in connection.execute(sa.select(
                log.case_id, log.actor, log.channel, log.outcome, log.at, log.notes,
                log.recording_ref, log.complaint).order_by(log.id))],
            "evidence": [tuple(r) for r in connection.execute(sa.select(
                entry.borrower_id, entry.seq, entry.kind, entry.at, entry.hashed, entry.hash,
                entry.payload).order_by(entry.borrower_id, entry.seq))],
            "heads": [tuple(r) for r in connection.execute(sa.select(
                chain.borrower_id, chain.seq, chain.head).order_by(chain.borrower_id))],
        }


def test_a_run_in_one_session_logs_what_one_at_a_time_logs(book, twin) -> None:
    one_by_one = [_outcome(lambda c=c: casework.log_contact(
        c.loan_ref, actor=c.actor, channel=c.channel, outcome=c.outcome, at=c.at,
        notes=c.notes, recording_ref=c.recording_ref, complaint=c.complaint, script=c.script,
        uow_factory=book.uow_factory)) for c in RUN]
    with contact_session(uow_factory=twin.uow_factory) as session:
        session.read(["WLD-1001", "WLD-1002", "NOPE-1"], since=RUN[0].at)
        in_session = [_outcome(lambda c=c: session.log(c)) for c in RUN]
    assert in_session == one_by_one
    # The run covers each path: logged, refused by frequency, hours and wording, rejected.
    assert [o[0] for o in one_by_one].count("logged") == 7
    assert [o[1] for o in one_by_one if o[0] == "refused"] == [
        ("cn.gbt45251.call_frequency",), ("cn.gbt45251.collection_hours",),
        ("cn.cba2026.prohibited_conduct",)]
    assert [o for o in one_by_one if o[0] == "rejected"] == [("rejected", "loan_id"),
                                                             ("rejected", "actor")]
    recorded = _recorded(book)
    assert len(recorded["contacts"]) == 7 and len(recorded["evidence"]) == 7
    assert _recorded(twin) == recorded
    golden = json.loads((GOLDEN / "run_chain_heads.json").read_text())["heads"]
    assert [list(head) for head in recorded["heads"]] == golden


def test_a_session_that_fails_logs_nothing(book) -> None:
    with pytest.raises(RuntimeError), contact_session(uow_factory=book.uow_factory) as session:
        session.log(RUN[0])
        raise RuntimeError("the collector's desk crashed")
    assert _recorded(book)["contacts"] == [] and _recorded(book)["evidence"] == []
