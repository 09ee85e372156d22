"""A case placed with an agency leaves its collector, by hand (`place_case`) or by a strategy's
step: the collector's credential for its loans reads revoked at once, the borrower's evidence
gives the reason, and the agency holds the case."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from arrears.adapters.channels.render import JinjaRenderer
from arrears.adapters.db import tables as t
from arrears.application.handlers import collections as handlers
from arrears.application.strategy import parse_strategy_text

from web_book import Book, app_for, build_book, revocation_reasons, sign_in_staff

OPEN_DAY = date(2026, 3, 22)
ASSIGNED_CASE = 3  # PHN-2001's borrower B-1003, assigned to C-01, who holds `Book.token`
PLACE_PHONES = """
name = "place phones"
product = "PHONE-24M"
[[champion]]
name = "place"
kind = "agency_placement"
from = 1
to = 400
days = 10
"""


@pytest.fixture
def book(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Book:
    monkeypatch.setenv("ARREARS_SINK_DIR", str(tmp_path / "sinks"))
    built = build_book(tmp_path)
    yield built
    built.services.engine.dispose()


def verdict(book: Book) -> str:
    with TestClient(app_for(book)) as client:
        page = client.get("/verify", params={"token": book.token},
                          headers={"accept-language": "en"}).text
    found = re.search(r"<h2[^>]*>([^<]+)</h2>", page)
    assert found is not None
    return found.group(1).strip()


def holder(book: Book) -> tuple[str | None, str | None]:
    with book.services.web_uow_factory()() as uow:
        rows = uow.api.case_page(after=0, limit=100, on=OPEN_DAY, queue=None,
                                 collector_ref=None, agency_ref=None)
    return next((r.collector_ref, r.agency_ref) for r in rows if r.case_id == ASSIGNED_CASE)


def test_placing_a_case_by_hand_revokes_its_collectors_credential(book: Book) -> None:
    assert (holder(book), verdict(book)) == (("C-01", None), "Genuine")
    placed = handlers.place_case(ASSIGNED_CASE, "AG-HUAXIN", OPEN_DAY, by="cli",
                                 uow_factory=book.services.uow_factory, clock=book.clock)
    assert placed.loan_refs == ("PHN-2001",)
    assert len(placed.credentials_revoked) == 1
    assert (holder(book), verdict(book)) == ((None, "AG-HUAXIN"), "Revoked")
    assert revocation_reasons(book)[-1] == "placed with agency AG-HUAXIN"


def test_a_strategys_placement_revokes_its_collectors_credential(book: Book) -> None:
    assert verdict(book) == "Genuine"
    handlers.run_strategies(date(2026, 3, 21), uow_factory=book.services.uow_factory,
                            clock=book.clock, renderer=JinjaRenderer(),
                            strategies={"PHONE-24M": parse_strategy_text(PLACE_PHONES)})
    assert holder(book) == (None, "AG-HUAXIN")
    assert verdict(book) == "Revoked"
    assert revocation_reasons(book)[-1] == "placed with agency AG-HUAXIN"


def test_a_supervisor_places_a_case_from_the_page(book: Book) -> None:
    """Only whitelisted agencies are offered; the placement names who made it."""
    book.clock.at = book.clock.at.replace(hour=10)
    with TestClient(app_for(book), headers={"accept-language": "en"}) as client:
        token = sign_in_staff(client, "sup")
        page = client.get("/supervise").text
        assert '<option value="AG-HUAXIN">' in page and "AG-UNLISTED</option>" not in page
        response = client.post(f"/supervise/cases/{ASSIGNED_CASE}/placement",
                               data={"csrf_token": token, "agency": "AG-HUAXIN"},
                               follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"] == f"/supervise?placed={ASSIGNED_CASE}#cases"
        assert f"Case {ASSIGNED_CASE} placed with an agency." in client.get(
            response.headers["location"]).text
    assert holder(book) == (None, "AG-HUAXIN")
    with book.services.engine.connect() as connection:
        by = connection.execute(sa.select(t.outbox.c.payload).where(
            t.outbox.c.topic == "placement.made")).scalar_one()
    assert json.loads(by)["by"] == "web:sup"
    assert verdict(book) == "Revoked"
