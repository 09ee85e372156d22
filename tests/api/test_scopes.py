"""Roles and scopes route by route: an agency sees only the cases placed with it and only while
placed (anything else is 404, not 403); a collector only their assigned cases; roles without a
scope get 403; staff reads of personal data land in the access log."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from arrears import bootstrap
from arrears.adapters.db import api_tables
from arrears.application.handlers import collections as handlers

from api_support import CLOSED, app_for, key

PLACED, OTHER = "AG-HUAXIN", "AG-UNLISTED"
BORROWER_ROUTES = ("/api/v1/loans/{}", "/api/v1/loans/{}/status",
                   "/api/v1/loans/{}/schedule", "/api/v1/loans/{}/payoff-quote")


@pytest.fixture
def book(placed_book: bootstrap.Services) -> bootstrap.Services:
    return placed_book


def decide(client: TestClient, headers: dict[str, str], loan: str) -> int:
    return client.post("/api/v1/compliance/decisions", headers=headers, json={
        "loan_id": loan, "channel": "sms", "at": "2026-03-22T10:00:00+08:00"}).status_code


def test_an_agency_sees_only_cases_placed_with_it_while_placed(book) -> None:
    client = TestClient(app_for(book), raise_server_exceptions=False)
    mine = key(book, "agency", agency=PLACED)
    theirs = key(book, "agency", agency=OTHER)
    for route in BORROWER_ROUTES:
        assert client.get(route.format("WLD-1001"), headers=mine).status_code == 200, route
        assert client.get(route.format("WLD-1001"), headers=theirs).status_code == 404, route
        assert client.get(route.format("PHN-2002"), headers=mine).status_code == 404, route
    assert decide(client, mine, "WLD-1001") == 200
    assert decide(client, theirs, "WLD-1001") == 404
    promise = {"amount": "100.00", "due_on": "2026-03-30"}
    assert client.post("/api/v1/loans/WLD-1001/promises", json=promise,
                       headers=theirs).status_code == 404
    cases = client.get("/api/v1/cases", headers=mine).json()["cases"]
    assert {tuple(c["loan_ids"]) for c in cases} == {("WLD-1001",), ("WLD-1002",)}
    assert client.get("/api/v1/cases", headers=theirs).json()["cases"] == []
    assert client.get(f"/api/v1/agencies/{PLACED}/placements",
                      headers=theirs).status_code == 404
    assert len(client.get(f"/api/v1/agencies/{PLACED}/placements",
                          headers=mine).json()["placements"]) == 2
    assert [a["agency_id"] for a in client.get("/api/v1/agencies",
                                               headers=theirs).json()["agencies"]] == [OTHER]
    case_id = next(c["case_id"] for c in cases if c["loan_ids"] == ["WLD-1001"])
    handlers.recall_case(case_id, CLOSED + timedelta(days=2), by="web:sup",
                         uow_factory=book.uow_factory, clock=book.clock)
    for route in BORROWER_ROUTES:  # recalled: no longer the agency's
        assert client.get(route.format("WLD-1001"), headers=mine).status_code == 404, route
    assert decide(client, mine, "WLD-1001") == 404


def test_a_collector_sees_only_assigned_cases(book) -> None:
    client = TestClient(app_for(book), raise_server_exceptions=False)
    admin = key(book, "admin")
    cases = client.get("/api/v1/cases", headers=admin).json()["cases"]
    unplaced = next(c for c in cases if c["agency_id"] is None)
    language = unplaced["queue"].split("/")[1]  # bucket/language/region
    with book.uow_factory() as uow:
        collectors = [c for c in uow.collections.collectors()
                      if unplaced["bucket"] in c.buckets and language in c.languages]
    assigned, other = collectors[0].collector_ref, collectors[-1].collector_ref
    assert assigned != other
    response = client.put(f"/api/v1/cases/{unplaced['case_id']}/assignment",
                          json={"collector_id": assigned}, headers=admin)
    assert response.status_code == 204, response.text
    loan = unplaced["loan_ids"][0]
    mine = key(book, "collector", collector=assigned)
    theirs = key(book, "collector", collector=other)
    for route in BORROWER_ROUTES:
        assert client.get(route.format(loan), headers=mine).status_code == 200, route
        assert client.get(route.format(loan), headers=theirs).status_code == 404, route
    assert [c["case_id"] for c in client.get("/api/v1/cases", headers=mine).json()["cases"]] \
        == [unplaced["case_id"]]
    assert client.get("/api/v1/cases", headers=theirs).json()["cases"] == []


def test_roles_without_a_scope_get_403(book) -> None:
    client = TestClient(app_for(book), raise_server_exceptions=False)
    compliance = key(book, "compliance")
    supervisor = key(book, "supervisor")
    agency = key(book, "agency", agency=PLACED)
    assert client.post("/api/v1/eod/runs", json={"through": "2026-03-23"},
                       headers=supervisor).status_code == 403
    assert client.get("/api/v1/reports/portfolio", headers=agency).status_code == 403
    assert client.put("/api/v1/cases/1/assignment", json={"collector_id": "x"},
                      headers=compliance).status_code == 403
    assert client.get("/api/v1/reports/portfolio", headers=compliance).status_code == 200


def test_staff_reads_of_personal_data_are_logged(book) -> None:
    client = TestClient(app_for(book), raise_server_exceptions=False)
    supervisor = key(book, "supervisor")
    assert client.get("/api/v1/loans/WLD-1001", headers=supervisor).status_code == 200
    assert client.get("/api/v1/loans/WLD-1001/status", headers=supervisor).status_code == 200
    with book.engine.connect() as connection:
        rows = list(connection.execute(sa.select(api_tables.access_log)))
    assert [(r.route, r.loan_ref, r.borrower_ref, r.role) for r in rows] == [
        ("loans.show", "WLD-1001", "B-1001", "supervisor")]
