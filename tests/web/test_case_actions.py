"""The case page's actions without a browser: a collector records a promise and proposes a
plan (previewed first, nothing kept until proposed) with plain forms; bad input names the
field, keeps the form as sent and changes nothing; a form sent twice records once; a
promise or plan is recorded as who took it (a supervisor's is theirs, not the borrower's);
a form without the session's CSRF token, a role without the action's scope and a loan out
of the user's scope are refused; the proposer never decides their own plan, and a user
named like a collector is not that collector."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from arrears.adapters.db import api_tables
from arrears.application.access import Role
from arrears.application.handlers import plans, users

from web_book import (
    COLLECTOR_LOAN,
    PASSWORD,
    PLACED_LOAN,
    WORKING_HOURS,
    Book,
    app_for,
    sign_in_staff,
)

SUPERVISED_LOAN = "WLD-1002"  # placed with AG-HUAXIN: no collector of the book works it
PROMISE = {"amount": "150.00", "due_on": "2026-03-25"}
DEFERRAL = {"kind": "deferral", "months": "1"}


@pytest.fixture
def client(book: Book, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setenv("ARREARS_SINK_DIR", str(book.sinks))
    book.clock.at = WORKING_HOURS
    with TestClient(app_for(book), headers={"accept-language": "en"}) as test_client:
        yield test_client



def alert(html: str, element: str) -> str:
    found = re.search(rf'id="{element}">([^<]*)<', html)
    assert found is not None, element
    return found.group(1).replace("&#39;", "'")


def promises(book: Book, loan: str) -> list[tuple[int, str, str]]:
    with book.services.uow_factory() as uow:
        booked = uow.book.get(loan)
        assert booked is not None
        return [(p.amount, p.due_on.isoformat(), p.collector_ref)
                for p in uow.collections.promises_of(booked.id, 1000)]


def field_value(html: str, element: str) -> str:
    """The value a form's input `element` (its id) shows."""
    found = re.search(rf'id="{element}"[^>]* value="([^"]*)"', html)
    assert found is not None, element
    return found.group(1)


def access_log(book: Book) -> list[tuple[str, str, str | None]]:
    with book.services.engine.connect() as connection:
        rows = connection.execute(sa.select(api_tables.access_log)
                                  .order_by(api_tables.access_log.c.id))
        return [(r.key_ref, r.route, r.borrower_ref) for r in rows]


def plan_count(book: Book) -> int:
    with book.services.uow_factory() as uow:
        return sum(uow.plans.counts().values())


def test_a_collector_records_a_promise_and_sees_it_on_the_case(client: TestClient,
                                                               book: Book) -> None:
    token = sign_in_staff(client, "c01")
    before = promises(book, COLLECTOR_LOAN)
    response = client.post(f"/work/loans/{COLLECTOR_LOAN}/promises",
                           data={"csrf_token": token, **PROMISE}, follow_redirects=False)
    assert response.status_code == 303
    assert re.fullmatch(rf"/work/loans/{COLLECTOR_LOAN}\?promised=\d+",
                        response.headers["location"])
    assert promises(book, COLLECTOR_LOAN) == [(15_000, "2026-03-25", "C-01"), *before]
    page = client.get(response.headers["location"]).text
    assert "Promise recorded." in page
    rows = re.findall(r"<tr><td class=\"num\">([^<]*)</td><td>2026-03-25</td>"
                      r"<td>2026-03-22</td>\s*<td>C-01</td><td>open</td>", page)
    assert rows and "150.00" in rows[0]


@pytest.mark.parametrize(("amount", "due_on", "field"), [
    ("", "2026-03-25", "amount"), ("lots", "2026-03-25", "amount"),
    ("-5", "2026-03-25", "amount"), ("0", "2026-03-25", "amount"),
    ("1.234", "2026-03-25", "amount"), ("1e9999", "2026-03-25", "amount"),
    ("100.00", "", "due_on"), ("100.00", "2026-02-30", "due_on"),
    ("100.00", "25/03/2026", "due_on"),
    ("100.00", "2026-03-21", "due_on"),  # before the open business date
    ("100.00", "2026-06-21", "due_on"),  # more than 90 days ahead
    ("99999999.00", "2026-03-25", "amount"),  # more than settles the loan
    ("1" * 41, "2026-03-25", "amount"), ("100.00", "2" * 41, "due_on"),  # overlong
])
def test_a_bad_promise_names_its_field_on_the_page_and_records_nothing(
        client: TestClient, book: Book, amount: str, due_on: str, field: str) -> None:
    token = sign_in_staff(client, "c01")
    before = promises(book, COLLECTOR_LOAN)
    response = client.post(f"/work/loans/{COLLECTOR_LOAN}/promises",
                           data={"csrf_token": token, "amount": amount, "due_on": due_on})
    assert response.status_code == 422
    assert alert(response.text, "promise-error").startswith(f"{field}: ")
    # The form as sent, to correct.
    assert (field_value(response.text, "promise-amount"),
            field_value(response.text, "promise-due")) == (amount, due_on)
    assert promises(book, COLLECTOR_LOAN) == before


def test_a_promise_sent_twice_is_recorded_once(client: TestClient, book: Book) -> None:
    token = sign_in_staff(client, "c01")
    before = promises(book, COLLECTOR_LOAN)
    sent = {"csrf_token": token, "amount": "151.00", "due_on": "2026-03-26"}
    first = client.post(f"/work/loans/{COLLECTOR_LOAN}/promises", data=sent,
                        follow_redirects=False)
    assert first.status_code == 303
    again = client.post(f"/work/loans/{COLLECTOR_LOAN}/promises", data=sent)
    assert again.status_code == 422
    assert alert(again.text, "promise-error").startswith("promise: ")
    assert promises(book, COLLECTOR_LOAN) == [(15_100, "2026-03-26", "C-01"), *before]


def test_a_promise_taken_by_a_supervisor_is_theirs_not_the_borrowers(
        client: TestClient, book: Book) -> None:
    token = sign_in_staff(client, "sup")
    response = client.post(f"/work/loans/{SUPERVISED_LOAN}/promises",
                           data={"csrf_token": token, "amount": "152.00",
                                 "due_on": "2026-03-27"}, follow_redirects=False)
    assert response.status_code == 303
    assert promises(book, SUPERVISED_LOAN)[0] == (15_200, "2026-03-27", "web:sup")
    page = client.get(response.headers["location"]).text
    row = re.search(r"<tr><td class=\"num\">[^<]*152.00[^<]*</td>.*?</tr>", page, re.DOTALL)
    assert row is not None
    assert "staff user sup" in row.group(0) and "the borrower" not in row.group(0)


def test_reading_a_case_page_is_access_logged(client: TestClient, book: Book) -> None:
    sign_in_staff(client, "c01")
    before = access_log(book)
    assert client.get(f"/work/loans/{COLLECTOR_LOAN}").status_code == 200
    assert access_log(book)[len(before):] == [("web:c01", "web.case", "B-1003")]


def test_a_plan_is_previewed_first_then_proposed_and_waits_for_a_supervisor(
        client: TestClient, book: Book) -> None:
    token = sign_in_staff(client, "c01")
    count = plan_count(book)
    shown = client.post(f"/work/loans/{COLLECTOR_LOAN}/plans/preview",
                        data={"csrf_token": token, **DEFERRAL})
    assert shown.status_code == 200
    assert "Preview: what the borrower would see" in shown.text
    assert "You pay in total" in shown.text and "Next payment" in shown.text
    assert plan_count(book) == count  # a preview keeps nothing
    # The propose form carries exactly the terms previewed.
    propose = shown.text.split('action="/work/loans/PHN-2001/plans"')[1].split("</form>")[0]
    assert sorted(re.findall(r'type="hidden" name="(\w+)" value="([^"]*)"', propose)) == \
        sorted([("csrf_token", token), ("kind", "deferral"), ("months", "1")])

    proposed = client.post(f"/work/loans/{COLLECTOR_LOAN}/plans",
                           data={"csrf_token": token, **DEFERRAL}, follow_redirects=False)
    assert proposed.status_code == 303
    found = re.fullmatch(rf"/work/loans/{COLLECTOR_LOAN}\?proposed=(PL-\d+)",
                         proposed.headers["location"])
    assert found is not None
    plan_id = found.group(1)
    with book.services.uow_factory() as uow:
        record = uow.plans.get(plan_id)
    assert record is not None
    assert (record.status, record.proposed_by, record.kind) == ("proposed", "C-01", "deferral")
    page = client.get(proposed.headers["location"]).text
    assert f"Plan {plan_id} proposed; it awaits a supervisor&#39;s decision." in page
    assert re.search(rf'<tr data-plan="{plan_id}">.*?awaiting a decision.*?C-01', page,
                     re.DOTALL)


@pytest.mark.parametrize(("terms", "field"), [
    ({"kind": ""}, "kind"), ({"kind": "forgive_everything"}, "kind"),
    ({"kind": "deferral", "months": "x"}, "months"),
    ({"kind": "deferral", "months": "1", "terms": "6"}, "terms"),  # not a deferral's
    ({"kind": "settlement", "until": "2026-04-30", "amount": "1.001"}, "amount"),
    ({"kind": "holiday", "until": "someday"}, "until"),
    ({"kind": "waiver", "waive_penalty": "half"}, "waive_penalty"),
    ({"kind": "reage", "terms": "6", "rate": "lots"}, "rate"),
    ({"kind": "reage", "terms": "6", "first_due_on": "2026-13-01"}, "first_due_on"),
    # Python's int() takes these; a count is ASCII digits only.
    ({"kind": "deferral", "months": "1_0"}, "months"),
    ({"kind": "deferral", "months": "\uff11"}, "months"),  # full-width 1
    ({"kind": "deferral", "months": "1e0"}, "months"),
    # An exponent makes a share that forgives nothing pass for one above zero.
    ({"kind": "waiver", "waive_fee": "1e-9999"}, "waive_fee"),
    ({"kind": "waiver", "waive_fee": "0.1", "waive_penalty": "2" * 41}, "waive_penalty"),
])
@pytest.mark.parametrize("step", ["plans/preview", "plans"])
def test_a_refused_plan_names_its_field_and_nothing_is_kept(
        client: TestClient, book: Book, terms: dict[str, str], field: str, step: str) -> None:
    token = sign_in_staff(client, "c01")
    count = plan_count(book)
    response = client.post(f"/work/loans/{COLLECTOR_LOAN}/{step}",
                           data={"csrf_token": token, **terms})
    assert response.status_code == 422
    assert alert(response.text, "plan-error").startswith(f"{field}: ")
    if field != "kind":  # a choice, not a field to type in
        assert field_value(response.text, f"plan-{field}") == terms[field]  # as sent
    assert plan_count(book) == count


def test_a_plan_proposed_twice_is_proposed_once(client: TestClient, book: Book) -> None:
    """The second of two sends of the same form finds the first awaiting a decision."""
    token = sign_in_staff(client, "sup")
    count = plan_count(book)
    first = client.post(f"/work/loans/{PLACED_LOAN}/plans",
                        data={"csrf_token": token, **DEFERRAL}, follow_redirects=False)
    assert first.status_code == 303
    plan_id = first.headers["location"].rsplit("=", 1)[1]
    again = client.post(f"/work/loans/{PLACED_LOAN}/plans", data={"csrf_token": token,
                                                                   **DEFERRAL})
    assert again.status_code == 422
    assert alert(again.text, "plan-error") == \
        f"plan.pending: plan {plan_id} proposed by web:sup already awaits a decision on this loan"
    assert plan_count(book) == count + 1


def test_a_rule_of_the_product_refuses_a_plan_naming_the_rule(client: TestClient,
                                                               book: Book) -> None:
    """PHONE-24M offers no re-age: the refusal names the policy's rule, not a form field."""
    token = sign_in_staff(client, "c01")
    response = client.post(f"/work/loans/{COLLECTOR_LOAN}/plans/preview",
                           data={"csrf_token": token, "kind": "reage", "terms": "6"})
    assert response.status_code == 422
    assert alert(response.text, "plan-error").startswith("policy.kinds: ")


ACTIONS = [(f"/work/loans/{COLLECTOR_LOAN}/promises", PROMISE),
           (f"/work/loans/{COLLECTOR_LOAN}/plans/preview", DEFERRAL),
           (f"/work/loans/{COLLECTOR_LOAN}/plans", DEFERRAL)]


@pytest.mark.parametrize(("path", "form"), ACTIONS)
@pytest.mark.parametrize("token", [None, "forged"])
def test_an_action_without_the_sessions_csrf_token_is_refused(
        client: TestClient, book: Book, path: str, form: dict[str, str],
        token: str | None) -> None:
    sign_in_staff(client, "c01")
    before = (promises(book, COLLECTOR_LOAN), plan_count(book))
    sent = form if token is None else {"csrf_token": token, **form}
    response = client.post(path, data=sent, follow_redirects=False)
    assert response.status_code == 403 and "Form expired" in response.text
    assert (promises(book, COLLECTOR_LOAN), plan_count(book)) == before


@pytest.mark.parametrize(("path", "form"), ACTIONS)
def test_a_role_without_the_actions_scope_gets_403(client: TestClient, book: Book,
                                                   path: str, form: dict[str, str]) -> None:
    """A compliance officer reads every case and writes neither promises nor plans."""
    token = sign_in_staff(client, "officer")
    assert client.get(f"/work/loans/{COLLECTOR_LOAN}").status_code == 200
    before = (promises(book, COLLECTOR_LOAN), plan_count(book))
    response = client.post(path, data={"csrf_token": token, **form})
    assert response.status_code == 403 and "Not allowed" in response.text
    assert (promises(book, COLLECTOR_LOAN), plan_count(book)) == before


@pytest.mark.parametrize(("name", "loan"), [
    ("c01", PLACED_LOAN),  # placed with an agency, not assigned to C-01
    ("unlisted", PLACED_LOAN),  # placed with another agency
    ("c01", "NO-SUCH-LOAN")])
@pytest.mark.parametrize("action", ["promises", "plans/preview", "plans"])
def test_a_loan_out_of_scope_is_a_404_and_nothing_changes(
        client: TestClient, book: Book, name: str, loan: str, action: str) -> None:
    token = sign_in_staff(client, name)
    count = plan_count(book)
    response = client.post(f"/work/loans/{loan}/{action}",
                           data={"csrf_token": token, **PROMISE, **DEFERRAL})
    assert response.status_code == 404 and "Not found" in response.text
    assert plan_count(book) == count
    if loan == PLACED_LOAN:
        assert promises(book, loan) == []


def test_the_proposer_never_decides_their_own_plan(client: TestClient, book: Book) -> None:
    """Maker-checker across the pages: a supervisor who proposes on a case page is refused
    on the supervisor's page; another supervisor approves."""
    users.create_user("sup2", "supervisor", PASSWORD,
                      uow_factory=book.services.web_uow_factory(), clock=book.clock)
    token = sign_in_staff(client, "sup")
    proposed = client.post(f"/work/loans/{SUPERVISED_LOAN}/plans",
                           data={"csrf_token": token, **DEFERRAL}, follow_redirects=False)
    assert proposed.status_code == 303
    plan_id = proposed.headers["location"].rsplit("=", 1)[1]
    refused = client.post(f"/supervise/plans/{plan_id}/approve", data={"csrf_token": token})
    assert refused.status_code == 422 and "maker-checker" in refused.text

    client.post("/logout", data={"csrf_token": token})
    token = sign_in_staff(client, "sup2")
    approved = client.post(f"/supervise/plans/{plan_id}/approve", data={"csrf_token": token},
                           follow_redirects=False)
    assert approved.status_code == 303
    with book.services.uow_factory() as uow:
        record = uow.plans.get(plan_id)
    assert record is not None
    assert (record.status, record.proposed_by, record.decided_by) == \
        ("approved", "web:sup", "web:sup2")


def test_a_user_named_like_a_collector_is_not_that_collector(client: TestClient,
                                                             book: Book) -> None:
    """Maker-checker tells who acts by kind: a supervisor whose user name is C-01 is not
    collector C-01, so they may decide C-01's proposal (and C-01's proposal is still C-01's,
    whom their own approval would be refused)."""
    users.create_user("C-01", "supervisor", PASSWORD,
                      uow_factory=book.services.web_uow_factory(), clock=book.clock)
    shown = plans.propose(SUPERVISED_LOAN, DEFERRAL, proposed_by="C-01",
                          uow_factory=book.services.uow_factory, clock=book.clock)
    with pytest.raises(plans.PlanRefused, match="maker-checker"):
        plans.approve(shown["plan_id"], by="C-01", role=Role.COLLECTOR,
                      uow_factory=book.services.uow_factory, clock=book.clock)
    token = sign_in_staff(client, "C-01")
    approved = client.post(f"/supervise/plans/{shown['plan_id']}/approve",
                           data={"csrf_token": token}, follow_redirects=False)
    assert approved.status_code == 303
    with book.services.uow_factory() as uow:
        record = uow.plans.get(shown["plan_id"])
    assert record is not None
    assert (record.status, record.proposed_by, record.decided_by) == \
        ("approved", "C-01", "web:C-01")
