"""Hardship plans over HTTP: propose → preview → approve by another caller (maker-checker),
reject, undo; a rule's refusal is a 422 naming it; roles without the scope get 403 and loans
out of the caller's scope 404."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient

from arrears import bootstrap
from arrears.adapters.db.plan_store import SqlPlanStore
from arrears.application import collections_demo
from arrears.application.handlers import collections as handlers
from arrears.application.handlers import eod, plans

from api_support import app_for, key
from shipped import default_policies

CLOSED = date(2026, 3, 1)  # WLD-1001's first installment (due 2026-02-15) is 15 days late
REAGE = {"kind": "reage", "terms": 6}


@pytest.fixture
def book(small_book: bootstrap.Services) -> bootstrap.Services:
    plans.set_policies(default_policies(), uow_factory=small_book.uow_factory)
    collections_demo.setup(uow_factory=small_book.uow_factory, start=CLOSED)
    eod.run_eod_through(CLOSED, uow_factory=small_book.uow_factory, clock=small_book.clock)
    return small_book


@pytest.fixture
def client(book: bootstrap.Services):
    with TestClient(app_for(book), raise_server_exceptions=False) as test_client:
        yield test_client


def test_propose_then_approve_by_another_caller_restates_the_loan(book, client):
    maker, checker = key(book, "supervisor"), key(book, "supervisor")
    proposed = client.post("/api/v1/loans/WLD-1001/plans", json=REAGE, headers=maker)
    assert proposed.status_code == 201, proposed.text
    shown = proposed.json()
    assert shown["status"] == "proposed" and shown["kind"] == "reage"
    assert len(shown["new_schedule"]) == 6 and "borrower_total_after" in shown
    plan_id = shown["plan_id"]
    assert client.get(f"/api/v1/plans/{plan_id}", headers=maker).json()["status"] == "proposed"
    # Maker-checker: the proposer cannot approve its own plan.
    refused = client.post(f"/api/v1/plans/{plan_id}/approval", headers=maker)
    assert refused.status_code == 422 and "proposer" in refused.text
    approved = client.post(f"/api/v1/plans/{plan_id}/approval", headers=checker)
    assert approved.status_code == 200, approved.text
    status = client.get("/api/v1/loans/WLD-1001/status", headers=checker).json()
    assert status["dpd"] == 0
    listed = client.get("/api/v1/loans/WLD-1001/plans", headers=checker).json()
    assert [p["status"] for p in listed["plans"]] == ["approved"]
    undone = client.post(f"/api/v1/plans/{plan_id}/undo", headers=checker)
    assert undone.status_code == 200, undone.text
    assert client.get("/api/v1/loans/WLD-1001/status", headers=checker).json()["dpd"] > 0


def test_a_refused_plan_names_the_rule_and_stores_nothing(book, client):
    headers = key(book, "supervisor")
    response = client.post("/api/v1/loans/WLD-1001/plans",
                           json={"kind": "reage", "terms": 600}, headers=headers)
    assert response.status_code == 422
    assert "terms" in response.text
    assert client.get("/api/v1/loans/WLD-1001/plans", headers=headers).json()["plans"] == []


def test_a_rejection_keeps_the_loan_as_it_was(book, client):
    maker, checker = key(book, "supervisor"), key(book, "supervisor")
    plan_id = client.post("/api/v1/loans/WLD-1001/plans", json=REAGE,
                          headers=maker).json()["plan_id"]
    before = client.get("/api/v1/loans/WLD-1001/status", headers=maker).json()
    rejected = client.post(f"/api/v1/plans/{plan_id}/rejection",
                           json={"reason": "asked for 12"}, headers=checker)
    assert rejected.status_code == 200, rejected.text
    assert client.get("/api/v1/loans/WLD-1001/status", headers=maker).json() == before


def test_roles_and_scope(book, client):
    proposer = key(book, "supervisor")
    plan_id = client.post("/api/v1/loans/WLD-1001/plans", json=REAGE,
                          headers=proposer).json()["plan_id"]
    compliance = key(book, "compliance")
    assert client.post("/api/v1/loans/WLD-1001/plans", json=REAGE,
                       headers=compliance).status_code == 403
    assert client.post(f"/api/v1/plans/{plan_id}/approval",
                       headers=compliance).status_code == 403
    # A collector with no case for the loan does not see it, nor its plans: 404, not 403.
    with book.uow_factory() as uow:
        someone = uow.collections.collectors()[0].collector_ref
    collector = key(book, "collector", collector=someone)
    assert client.get(f"/api/v1/plans/{plan_id}", headers=collector).status_code == 404
    assert client.post(f"/api/v1/plans/{plan_id}/approval",
                       headers=collector).status_code == 404
    assert client.get("/api/v1/plans/PL-999999", headers=proposer).status_code == 404
    unknown = client.post("/api/v1/loans/NOPE/plans", json=REAGE, headers=proposer)
    assert unknown.status_code == 404


def test_bad_bodies_are_refused_naming_the_field(book, client):
    headers = key(book, "supervisor")
    for body, field in (({}, "kind"), ({"kind": "reage", "plan_id": "PL-1"}, "plan_id"),
                        ({"kind": "forgive"}, "kind"),
                        # JSON of the wrong shape anywhere is a 4xx naming it, never a 500.
                        ({"kind": "reage", "terms": 6.5}, "terms"),
                        ({"kind": "reage", "terms": 10**40}, "terms"),
                        ({"kind": "reage", "terms": 6, "treatments": [1]}, "treatments"),
                        ({"kind": "reage", "terms": 6, "treatments": {"fee": {}}},
                         "treatments"),
                        ({"kind": "reage", "terms": 6, "first_due_on": "2200-01-01"},
                         "first_due_on"),
                        ({"kind": "deferral", "months": 1, "rate": 0.05}, "rate"),
                        ({"kind": "waiver", "waive": {"penalty": None}}, "waive"),
                        ({"kind": "holiday", "until": ["2026-03-09"]}, "until"),
                        ({"kind": "settlement", "until": "2026-03-31", "amount": "1e400"},
                         "amount")):
        response = client.post("/api/v1/loans/WLD-1001/plans", json=body, headers=headers)
        assert response.status_code in (400, 422), response.text
        assert field in response.text
    later = CLOSED + timedelta(days=40)
    response = client.post("/api/v1/loans/WLD-1001/plans",
                           json={"kind": "deferral", "months": 1,
                                 "effective_on": later.isoformat()}, headers=headers)
    assert response.status_code == 422 and "effective_on" in response.text


def test_the_plan_list_pages_newest_first_by_cursor(book, client):
    headers, checker = key(book, "supervisor"), key(book, "supervisor")
    made = []
    for months in (1, 2, 3):  # each rejected before the next: one proposal waits at a time
        made.append(client.post("/api/v1/loans/WLD-1001/plans",
                                json={"kind": "deferral", "months": months},
                                headers=headers).json()["plan_id"])
        assert client.post(f"/api/v1/plans/{made[-1]}/rejection", json={},
                           headers=checker).status_code == 200
    first = client.get("/api/v1/loans/WLD-1001/plans?limit=2", headers=headers).json()
    assert [p["plan_id"] for p in first["plans"]] == made[:0:-1]
    second = client.get(f"/api/v1/loans/WLD-1001/plans?limit=2&cursor={first['next_cursor']}",
                        headers=headers).json()
    assert [p["plan_id"] for p in second["plans"]] == made[:1]
    assert second["next_cursor"] is None
    bad = client.get("/api/v1/loans/WLD-1001/plans?cursor=bm9wZQ", headers=headers)
    assert bad.status_code == 400 and "cursor" in bad.text
    unknown = client.get("/api/v1/loans/WLD-1001/plans?status=lost", headers=headers)
    assert (unknown.status_code, unknown.json()["field"]) == (422, "status")  # not the CLI's


def test_a_collector_cannot_undo_what_only_a_supervisor_could_approve(book, client):
    policies = default_policies()
    policies["WLD-DAILY"]["collector_waiver_limit"] = "0.01"
    plans.set_policies(policies, uow_factory=book.uow_factory)
    admin, maker, checker = key(book, "admin"), key(book, "supervisor"), key(book, "supervisor")
    handlers.sync_cases(CLOSED, uow_factory=book.uow_factory, clock=book.clock)
    case = next(c for c in client.get("/api/v1/cases", headers=admin).json()["cases"]
                if "WLD-1001" in c["loan_ids"])
    case_id = case["case_id"]
    with book.uow_factory() as uow:
        someone = next(c.collector_ref for c in uow.collections.collectors()
                       if case["bucket"] in c.buckets)
    assert client.put(f"/api/v1/cases/{case_id}/assignment", json={"collector_id": someone},
                      headers=admin).status_code == 204
    collector = key(book, "collector", collector=someone)
    waiver = {"kind": "waiver", "waive": {"penalty": "1"}}
    plan_id = client.post("/api/v1/loans/WLD-1001/plans", json=waiver,
                          headers=maker).json()["plan_id"]
    refused = client.post(f"/api/v1/plans/{plan_id}/approval", headers=collector)
    assert refused.status_code == 422 and "collector_waiver_limit" in refused.text
    assert client.post(f"/api/v1/plans/{plan_id}/approval", headers=checker).status_code == 200
    # The same limit guards taking the concession back.
    refused = client.post(f"/api/v1/plans/{plan_id}/undo", headers=collector)
    assert refused.status_code == 422 and "collector_waiver_limit" in refused.text
    assert client.post(f"/api/v1/plans/{plan_id}/undo", headers=maker).status_code == 200


def test_a_proposal_that_lost_the_race_for_its_id_asks_again(book, client, monkeypatch):
    """Two proposals at once may count the same plans and choose the same next id: the store
    refuses the second whole (`PlanRefTaken`), and the plan handler, which the API, the web
    pages and the portal share, drafts it again after the first."""
    supervisor = key(book, "supervisor")
    first = client.post("/api/v1/loans/WLD-1001/plans", json=REAGE, headers=supervisor)
    assert first.status_code == 201, first.text
    assert client.post(f"/api/v1/plans/{first.json()['plan_id']}/rejection", json={},
                       headers=key(book, "supervisor")).status_code == 200
    real, calls = SqlPlanStore.counts, []

    def read_before_the_first_committed(store: SqlPlanStore) -> dict[tuple[str, str], int]:
        calls.append(1)
        counted = real(store)
        return {} if len(calls) == 1 else counted

    monkeypatch.setattr(SqlPlanStore, "counts", read_before_the_first_committed)
    again = client.post("/api/v1/loans/WLD-1001/plans", json=REAGE, headers=supervisor)
    assert again.status_code == 201, again.text
    assert len(calls) == 2
    assert (first.json()["plan_id"], again.json()["plan_id"]) == ("PL-000001", "PL-000002")
