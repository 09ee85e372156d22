"""A case placed with an agency leaves the lender's collectors whole: every credential any of
them holds on its loans — its collector's, and the visit notices of a visit team that is not
the case's collector — reads revoked at the door, each field visit ahead on its loans is
cancelled, and the borrower's evidence names the agency as the reason."""

from __future__ import annotations

import sqlalchemy as sa

from arrears import bootstrap
from arrears.adapters.db import collections_tables as ct
from arrears.application.handlers import casework
from arrears.application.handlers import collections as handlers
from arrears.domain.credential import Verdict

from test_collector_deactivation import _authorize, _badge, _holder_of, _issue, _verdict, _visit
from trust_book import TODAY, at, open_book


def test_placing_a_case_revokes_every_collectors_notices_and_cancels_its_visits(
        services: bootstrap.Services) -> None:
    book = open_book(services)
    holder = _holder_of(book, "WLD-1001")
    team = tuple(ref for ref in ("C-02", "C-03", "C-04", "C-05") if ref != holder)[:2]
    for ref in (holder, *team):
        _badge(book, ref)
    casework.log_contact("WLD-1001", actor=holder, channel="call", outcome="refused",
                         at=at(TODAY, 9), uow_factory=book.uow_factory)
    _authorize(book, "VA-1", "WLD-1001", team)  # a team that is not the case's collector
    _visit(book, "WLD-1001", 15, "VA-1")
    notices = {ref: _issue(book, ref, "WLD-1001", "visit", visit_on=TODAY) for ref in team}
    calls = _issue(book, holder, "WLD-1001", "call")
    assert all(_verdict(book, token, TODAY) is Verdict.GENUINE
               for token in (*notices.values(), calls))
    with book.uow_factory() as uow:
        booked = uow.book.get("WLD-1001")
        assert booked is not None
        case = uow.collections.case_of_borrower(booked.borrower_id)
    assert case is not None

    placed = handlers.place_case(case.id, "AG-HUAXIN", TODAY, by="cli",
                                 uow_factory=book.uow_factory, clock=book.clock)

    assert len(placed.credentials_revoked) == 3
    assert {ref: _verdict(book, token, TODAY) for ref, token in notices.items()} == dict.fromkeys(
        team, Verdict.REVOKED)
    assert _verdict(book, calls, TODAY) is Verdict.REVOKED
    with book.engine.connect() as connection:
        assert connection.execute(sa.select(ct.field_visit.c.status)).scalars().all() == [
            "cancelled"]
    with book.uow_factory() as uow:
        entries = uow.evidence.entries(booked.borrower_id)
    reasons = {e.payload["reason"] for e in entries
               if e.kind in ("visit_cancelled", "credential_revoked")}
    assert reasons == {"placed with agency AG-HUAXIN"}
