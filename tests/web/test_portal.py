"""The borrower's requests without a browser: only their own loans (another's is a 404 and
nothing is written), an offer's preview is exactly the plan that asking for it proposes (and
looking keeps nothing), one plan request at a time, refusals name the field, and the evidence
bundle is the CLI's, byte for byte, and verifies."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from itertools import count
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from arrears.adapters.bundle import read_zip, write_zip
from arrears.application import borrower_portal
from arrears.application.handlers import evidence
from arrears.application.handlers.collections import Lender
from arrears.domain import evidence as chain

from web_book import BORROWER_PHONE, COLLECTOR_LOAN, WORKING_HOURS, Book, app_for, codes_sent

OTHERS_LOAN = "WLD-1001"  # B-1001's
SIGN_INS = count()
"""Each sign-in a few minutes after the last: a code is sent at most once a minute."""


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


@pytest.fixture
def borrower(book: Book, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[TestClient, str]]:
    """A TestClient signed in as B-1003, and its CSRF token."""
    monkeypatch.setenv("ARREARS_SINK_DIR", str(book.sinks))
    book.clock.at = WORKING_HOURS + timedelta(minutes=5 * next(SIGN_INS))
    with TestClient(app_for(book), headers={"accept-language": "en"}) as client:
        token = csrf_of(client.get("/borrower/login").text)
        client.post("/borrower/code", data={"csrf_token": token, "phone": BORROWER_PHONE})
        code = re.search(r"\b(\d{6})\b", codes_sent(book)[-1]["body"])
        assert code is not None
        signed_in = client.post("/borrower/login", data={
            "csrf_token": token, "phone": BORROWER_PHONE, "code": code.group(1)})
        assert signed_in.url.path == "/me"
        yield client, csrf_of(signed_in.text)


def _counts(book: Book) -> tuple[int, int, int]:
    with book.services.uow_factory() as uow:
        return (sum(uow.plans.counts().values()), len(uow.disputes.listed()),
                len(uow.complaints.listed(open_only=False)))


def test_another_borrowers_loan_is_not_found_and_nothing_is_written(
        borrower: tuple[TestClient, str], book: Book) -> None:
    client, token = borrower
    before = _counts(book)
    assert client.get(f"/me/loans/{OTHERS_LOAN}").status_code == 404
    for action, form in (("plans", {"offer": "deferral-1"}),
                         ("disputes", {"kind": "objection", "about": "debt", "note": ""}),
                         ("complaints", {"category": "other", "summary": "x", "contact": ""})):
        response = client.post(f"/me/loans/{OTHERS_LOAN}/{action}",
                               data={"csrf_token": token, **form})
        assert response.status_code == 404, action
    assert client.post(f"/me/loans/{COLLECTOR_LOAN}/disputes", data={
        "csrf_token": "forged", "kind": "objection", "about": "debt"}).status_code == 403
    assert _counts(book) == before


def test_an_offer_previews_exactly_what_asking_for_it_proposes(
        borrower: tuple[TestClient, str], book: Book) -> None:
    client, token = borrower
    before = _counts(book)
    requests = borrower_portal.loan_requests(
        "B-1003", COLLECTOR_LOAN, uow_factory=book.services.web_uow_factory(),
        rehearsal=book.services.web_uow_factory().rehearsal, clock=book.clock)
    assert [o.offer.key for o in requests.offers] == ["deferral-1", "deferral-2", "holiday-30"]
    assert client.get(f"/me/loans/{COLLECTOR_LOAN}").status_code == 200
    assert _counts(book) == before  # previews keep nothing
    shown = requests.offers[0].preview
    assert shown is not None

    asked = client.post(f"/me/loans/{COLLECTOR_LOAN}/plans",
                        data={"csrf_token": token, "offer": "deferral-1"},
                        follow_redirects=False)
    assert asked.status_code == 303
    plan_id = asked.headers["location"].rsplit("sent=", 1)[1]
    with book.services.uow_factory() as uow:
        record = uow.plans.get(plan_id)
    assert record is not None and record.proposed_by == "borrower:B-1003"
    assert {**record.preview, "plan_id": "", "plan": {}} == \
        {**shown, "plan_id": "", "plan": {}}

    again = client.post(f"/me/loans/{COLLECTOR_LOAN}/plans",
                        data={"csrf_token": token, "offer": "deferral-2"})
    assert again.status_code == 422 and f"offer: plan {plan_id} already awaits" in again.text
    unknown = client.post(f"/me/loans/{COLLECTOR_LOAN}/disputes",
                          data={"csrf_token": token, "kind": "dispute", "about": "debt"})
    assert unknown.status_code == 422 and "kind: dispute is not raised under CN" in unknown.text
    assert _counts(book)[1] == before[1]


def test_the_evidence_bundle_is_the_clis_and_verifies(borrower: tuple[TestClient, str],
                                                      book: Book, tmp_path: Path) -> None:
    client, token = borrower
    client.post(f"/me/loans/{COLLECTOR_LOAN}/complaints", data={
        "csrf_token": token, "category": "other", "summary": "a question", "contact": ""})
    download = client.post("/me/evidence", data={"csrf_token": token})
    assert download.status_code == 200
    assert download.headers["content-type"] == "application/zip"
    assert "attachment" in download.headers["content-disposition"]
    cli = tmp_path / "cli.zip"
    services = book.services
    write_zip(evidence.export("B-1003", uow_factory=services.uow_factory, keys=services.keys,
                              clock=services.clock, issuer=Lender().name_en), cli)
    assert download.content == cli.read_bytes()
    mine = tmp_path / "mine.zip"
    mine.write_bytes(download.content)
    report = evidence.verify(read_zip(mine, "bundle"), keys=services.keys,
                             uow_factory=services.uow_factory)
    assert report.intact, report.problems
    assert b"complaint_filed" in read_zip(mine, "bundle")[chain.ENTRIES]
