"""The supervisor's case actions without a browser: assign and reassign a case to a
collector, recall an agency's placement (the case can then be assigned), each naming who
acted and revoking the credentials of whoever loses the case; refusals are shown naming the
case and the field and change nothing; the page keeps its cursors and logs only the
borrowers it shows; no other role may act, no form acts without the session's CSRF token,
and a case that does not exist is a 404."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from arrears.adapters.db import api_tables
from arrears.adapters.db import tables as t
from arrears.application import supervision
from arrears.application.handlers import credentials

from web_book import WORKING_HOURS, Book, app_for, revocation_reasons, sign_in_staff

OPEN_DAY = date(2026, 3, 22)
PLACED_CASE = 1  # WLD-1001's borrower B-1001, placed with AG-HUAXIN
RECALLED_CASE = 2  # WLD-1002's borrower B-1002, placed with AG-HUAXIN; M1
RECALLED_LOAN = "WLD-1002"
ASSIGNED_CASE = 3  # PHN-2001's borrower B-1003, assigned to C-01; M1


@pytest.fixture
def client(book: Book, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setenv("ARREARS_SINK_DIR", str(book.sinks))
    book.clock.at = WORKING_HOURS
    with TestClient(app_for(book), headers={"accept-language": "en"}) as test_client:
        yield test_client



def events(book: Book, topic: str) -> list[dict[str, Any]]:
    with book.services.engine.connect() as connection:
        rows = connection.execute(sa.select(t.outbox.c.payload)
                                  .where(t.outbox.c.topic == topic)
                                  .order_by(t.outbox.c.id))
        return [json.loads(payload) for payload, in rows]


def verdict(client: TestClient, token: str) -> str:
    found = re.search(r"<h2[^>]*>([^<]+)</h2>", client.get("/verify",
                                                          params={"token": token}).text)
    assert found is not None
    return found.group(1).strip()


def access_log(book: Book) -> list[tuple[str, str, str | None]]:
    with book.services.engine.connect() as connection:
        rows = connection.execute(sa.select(api_tables.access_log)
                                  .order_by(api_tables.access_log.c.id))
        return [(r.key_ref, r.route, r.borrower_ref) for r in rows]


def holders(book: Book) -> dict[int, tuple[str | None, str | None]]:
    """case id → (collector, agency) on the open business date."""
    with book.services.web_uow_factory()() as uow:
        rows = uow.api.case_page(after=0, limit=100, on=OPEN_DAY, queue=None,
                                 collector_ref=None, agency_ref=None)
    return {r.case_id: (r.collector_ref, r.agency_ref) for r in rows}


def case_row(html: str, case_id: int) -> str:
    found = re.search(rf'<tr data-case="{case_id}">(.*?)</tr>', html, re.DOTALL)
    assert found is not None
    return found.group(1)


def refusal(html: str, case_id: int) -> str:
    """The refusal shown, which names the case it is about."""
    found = re.search(rf'role="alert" id="supervise-error">Refused: case {case_id}: ([^<]*)<',
                      html)
    assert found is not None
    return found.group(1)


def test_a_supervisor_assigns_and_reassigns_a_case(client: TestClient, book: Book) -> None:
    """Each assignment names who made it; the collector the case is taken from stops
    collecting it, and their credential for its loan is revoked with it."""
    token = sign_in_staff(client, "sup")
    page = client.get("/supervise").text
    assert "C-01" in case_row(page, ASSIGNED_CASE)
    assert verdict(client, book.token) == "Genuine"  # C-01's, for PHN-2001
    for collector in ("C-02", "C-01"):  # C-02 and C-01 both work M1
        response = client.post(f"/supervise/cases/{ASSIGNED_CASE}/assignment",
                               data={"csrf_token": token, "collector": collector},
                               follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"] == f"/supervise?assigned={ASSIGNED_CASE}#cases"
        assert holders(book)[ASSIGNED_CASE] == (collector, None)
        page = client.get(response.headers["location"]).text
        assert f"Case {ASSIGNED_CASE} assigned." in page
        row = case_row(page, ASSIGNED_CASE)
        assert f'<option value="{collector}" selected>' in row
        assert events(book, "case.assigned")[-1] | {"credentials_revoked": []} == {
            "case_id": ASSIGNED_CASE, "collector": collector, "by": "web:sup",
            "from": "C-01" if collector == "C-02" else "C-02", "credentials_revoked": []}
        assert verdict(client, book.token) == "Revoked"
    assert revocation_reasons(book)[-1] == "reassigned"  # no internal case id or staff name


@pytest.mark.parametrize(("case_id", "collector", "field", "reason"), [
    (ASSIGNED_CASE, "C-03", "collector", "does not work bucket M1"),
    (ASSIGNED_CASE, "C-99", "collector", "no active collector"),
    (ASSIGNED_CASE, "", "collector", "must not be empty"),
    (PLACED_CASE, "C-02", "case_id", "recall it first"),
])
def test_an_assignment_the_service_refuses_is_shown_naming_the_field(
        client: TestClient, book: Book, case_id: int, collector: str, field: str,
        reason: str) -> None:
    token = sign_in_staff(client, "sup")
    before = holders(book)
    response = client.post(f"/supervise/cases/{case_id}/assignment",
                           data={"csrf_token": token, "collector": collector})
    assert response.status_code == 422
    shown = refusal(response.text, case_id)
    assert shown.startswith(f"{field}: ") and reason in shown
    assert 'aria-describedby="supervise-error"' in case_row(response.text, case_id)
    assert holders(book) == before


@pytest.mark.parametrize(("case_id", "agency", "field", "reason"), [
    (ASSIGNED_CASE, "AG-UNLISTED", "agency", "not whitelisted"),
    (ASSIGNED_CASE, "AG-NOBODY", "agency", "no agency &#39;AG-NOBODY&#39;"),
    (ASSIGNED_CASE, "", "agency", "must not be empty"),
    (PLACED_CASE, "AG-HUAXIN", "case_id", "already placed with AG-HUAXIN; recall it first"),
])
def test_a_placement_the_service_refuses_is_shown_naming_the_field(
        client: TestClient, book: Book, case_id: int, agency: str, field: str,
        reason: str) -> None:
    token = sign_in_staff(client, "sup")
    before = (holders(book), events(book, "placement.made"))
    response = client.post(f"/supervise/cases/{case_id}/placement",
                           data={"csrf_token": token, "agency": agency})
    assert response.status_code == 422
    shown = refusal(response.text, case_id)
    assert shown.startswith(f"{field}: ") and reason in shown
    assert (holders(book), events(book, "placement.made")) == before


@pytest.mark.parametrize("case_id", ["999999", "0", "abc"])
def test_placing_a_case_that_does_not_exist_is_a_404(client: TestClient, case_id: str) -> None:
    token = sign_in_staff(client, "sup")
    response = client.post(f"/supervise/cases/{case_id}/placement",
                           data={"csrf_token": token, "agency": "AG-HUAXIN"})
    assert response.status_code == 404 and "Not found" in response.text


def test_a_supervisor_recalls_a_placement_and_then_may_assign_the_case(
        client: TestClient, book: Book) -> None:
    """The delegation ends with the recall: the agency's user no longer sees the case, and
    the case may go to a collector."""
    token = sign_in_staff(client, "huaxin")
    assert client.get(f"/work/loans/{RECALLED_LOAN}").status_code == 200
    client.post("/logout", data={"csrf_token": token})
    services = book.services
    agencys = credentials.issue(
        credentials.IssueRequest(collector="agency:AG-HUAXIN", debt=RECALLED_LOAN,
                                 scope="call"),
        uow_factory=services.uow_factory, keys=services.keys, clock=book.clock,
        zone="Asia/Shanghai", issuer="Arrears Demo Lender")
    assert verdict(client, agencys.token) == "Genuine"
    token = sign_in_staff(client, "sup")
    assert f'data-placed="{RECALLED_CASE}"' in client.get("/supervise").text
    response = client.post(f"/supervise/cases/{RECALLED_CASE}/recall",
                           data={"csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"/supervise?recalled={RECALLED_CASE}#placements"
    assert holders(book)[RECALLED_CASE] == (None, None)
    assert verdict(client, agencys.token) == "Revoked"
    assert revocation_reasons(book)[-1] == "recalled from agency AG-HUAXIN"
    assert events(book, "placement.recalled")[-1] == {
        "case_id": RECALLED_CASE, "agency": "AG-HUAXIN", "by": "web:sup",
        "credentials_revoked": [agencys.claims.credential_id]}
    page = client.get(response.headers["location"]).text
    assert f"Case {RECALLED_CASE} recalled from its agency." in page
    assert f'data-placed="{RECALLED_CASE}"' not in page
    assert f'data-placed="{PLACED_CASE}"' in page  # the other placement stays
    # Worked by no one now: the form offers no collector until one is chosen.
    row = case_row(page, RECALLED_CASE).split("/placement", 1)[0]  # the collector's form
    assert '<option value="" selected>Choose a collector…</option>' in row
    assert "selected>" not in row.split("</option>", 1)[1]

    before = (holders(book), events(book, "placement.recalled"))
    again = client.post(f"/supervise/cases/{RECALLED_CASE}/recall", data={"csrf_token": token})
    assert again.status_code == 422
    assert refusal(again.text, RECALLED_CASE) == \
        f"case_id: case {RECALLED_CASE} is not placed with an agency"
    assert (holders(book), events(book, "placement.recalled")) == before

    assigned = client.post(f"/supervise/cases/{RECALLED_CASE}/assignment",
                           data={"csrf_token": token, "collector": "C-02"},
                           follow_redirects=False)
    assert assigned.status_code == 303
    assert holders(book)[RECALLED_CASE] == ("C-02", None)
    client.post("/logout", data={"csrf_token": token})
    sign_in_staff(client, "huaxin")
    assert client.get(f"/work/loans/{RECALLED_LOAN}").status_code == 404


ACTIONS = [(f"/supervise/cases/{ASSIGNED_CASE}/assignment", {"collector": "C-02"}),
           (f"/supervise/cases/{PLACED_CASE}/recall", {}),
           (f"/supervise/cases/{ASSIGNED_CASE}/placement", {"agency": "AG-HUAXIN"})]


@pytest.mark.parametrize(("path", "form"), ACTIONS)
@pytest.mark.parametrize("name", ["c01", "huaxin", "officer"])
def test_only_a_supervisor_may_act(client: TestClient, book: Book, path: str,
                                   form: dict[str, str], name: str) -> None:
    token = sign_in_staff(client, name)
    before = holders(book)
    response = client.post(path, data={"csrf_token": token, **form})
    assert response.status_code == 403 and "Not allowed" in response.text
    assert holders(book) == before


@pytest.mark.parametrize(("path", "form"), ACTIONS)
@pytest.mark.parametrize("token", [None, "forged"])
def test_an_action_without_the_sessions_csrf_token_is_refused(
        client: TestClient, book: Book, path: str, form: dict[str, str],
        token: str | None) -> None:
    sign_in_staff(client, "sup")
    before = holders(book)
    sent = form if token is None else {"csrf_token": token, **form}
    response = client.post(path, data=sent)
    assert response.status_code == 403 and "Form expired" in response.text
    assert holders(book) == before


@pytest.mark.parametrize("case_id", ["999999", "0", "abc", "-1", "1" * 40])
def test_assigning_a_case_that_does_not_exist_is_a_404(client: TestClient,
                                                       case_id: str) -> None:
    token = sign_in_staff(client, "sup")
    response = client.post(f"/supervise/cases/{case_id}/assignment",
                           data={"csrf_token": token, "collector": "C-02"})
    assert response.status_code == 404 and "Not found" in response.text


@pytest.mark.parametrize(("case_id", "status"), [
    (str(ASSIGNED_CASE), 422), ("999999", 404), ("0", 404), ("abc", 404), ("-1", 404),
    ("1" * 40, 404)])
def test_recalling_what_is_not_placed_changes_nothing(client: TestClient, book: Book,
                                                      case_id: str, status: int) -> None:
    """A case placed with no agency is refused on the page, naming it; a case id that names
    no open case is a 404, as an assignment's is."""
    token = sign_in_staff(client, "sup")
    before = (holders(book), events(book, "placement.recalled"))
    response = client.post(f"/supervise/cases/{case_id}/recall", data={"csrf_token": token})
    assert response.status_code == status
    if status == 422:
        assert refusal(response.text, ASSIGNED_CASE) == \
            f"case_id: case {ASSIGNED_CASE} is not placed with an agency"
    assert (holders(book), events(book, "placement.recalled")) == before


def test_an_action_keeps_the_pages_it_was_sent_from(client: TestClient, book: Book,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(supervision, "CASE_PAGE", 1)
    token = sign_in_staff(client, "sup")
    page = client.get("/supervise", params={"after": "2", "placed_after": "1"}).text
    form = case_row(page, ASSIGNED_CASE)
    assert '<input type="hidden" name="after" value="2">' in form
    assert '<input type="hidden" name="placed_after" value="1">' in form
    response = client.post(f"/supervise/cases/{ASSIGNED_CASE}/assignment",
                           data={"csrf_token": token, "collector": "C-01", "after": "2",
                                 "placed_after": "1"}, follow_redirects=False)
    assert response.headers["location"] == \
        f"/supervise?assigned={ASSIGNED_CASE}&after=2&placed_after=1#cases"


def test_the_page_logs_the_borrowers_it_shows_and_only_those(
        client: TestClient, book: Book, monkeypatch: pytest.MonkeyPatch) -> None:
    """Pages of one case and one placement: case 1 and its placement (B-1001, logged once),
    then case 2 and any placement after case 1 (B-1002's, if not yet recalled)."""
    monkeypatch.setattr(supervision, "CASE_PAGE", 1)
    sign_in_staff(client, "sup")
    before = access_log(book)
    page = client.get("/supervise").text
    assert page.count("<tr data-case=") == 1 and page.count("<tr data-placed=") == 1
    assert 'href="/supervise?after=1#cases"' in page
    assert access_log(book)[len(before):] == [("web:sup", "web.supervise", "B-1001")]
    shown = client.get("/supervise", params={"after": "1", "placed_after": "1"}).text
    assert 'data-case="2"' in shown and 'data-placed="1"' not in shown
    assert access_log(book)[len(before) + 1:] == [("web:sup", "web.supervise", "B-1002")]


def test_the_case_list_pages_and_ignores_a_bad_cursor(client: TestClient) -> None:
    sign_in_staff(client, "sup")
    for after in ("", "x", "-1", "1" * 40):
        page = client.get("/supervise", params={"after": after}).text
        assert 'data-case="1"' in page
    assert 'data-case="1"' not in client.get("/supervise", params={"after": "1"}).text
