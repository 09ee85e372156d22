"""Placing a case with an agency by hand and recalling it (`PUT`/`DELETE
/api/v1/cases/{id}/placement`): the checks a strategy's placement makes (CN-11: whitelisted,
licensed on the day, under capacity), each refusal naming its field and changing nothing; the
agency sees the case at once and loses it on recall; only the roles that assign cases may act."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from arrears import bootstrap
from arrears.adapters.db import collections_tables as ct
from arrears.adapters.db import tables as t
from arrears.application.handlers import collections as handlers

from api_support import CLOSED, app_for, key

OPEN_DAY = CLOSED + timedelta(days=2)  # the placed book is closed through the day after CLOSED
PLACED_WITH = "AG-HUAXIN"


@pytest.fixture
def client(placed_book: bootstrap.Services) -> TestClient:
    return TestClient(app_for(placed_book), raise_server_exceptions=False)


def cases(client: TestClient, headers: dict[str, str]) -> list[dict[str, Any]]:
    return client.get("/api/v1/cases", headers=headers).json()["cases"]


def unplaced_case(client: TestClient, headers: dict[str, str]) -> dict[str, Any]:
    return next(c for c in cases(client, headers) if c["agency_id"] is None)


def add_agency(services: bootstrap.Services, ref: str, *, capacity: int = 500,
               licence_until: date = date(2028, 1, 1), whitelisted: bool = True) -> None:
    handlers.add_agency(handlers.Agency(
        agency_ref=ref, name=f"{ref} Ltd", licence_no=f"JR-{ref}",
        licence_valid_from=date(2025, 1, 1), licence_valid_until=licence_until,
        whitelisted=whitelisted, capacity=capacity,
        commission_rate=handlers.parse_rate("0.1"), fixed_fee=5000),
        jurisdiction="CN", uow_factory=services.uow_factory)


def book_state(services: bootstrap.Services) -> tuple[Any, ...]:
    """What a refused placement must leave as it was: placements, their loans, cases, events."""
    with services.engine.connect() as connection:
        return tuple(connection.execute(sa.select(table).order_by(*table.primary_key)).all()
                     for table in (ct.placement, ct.placement_loan, ct.collection_case,
                                   t.outbox))


def made(services: bootstrap.Services) -> list[dict[str, Any]]:
    with services.engine.connect() as connection:
        return [json.loads(payload) for payload, in connection.execute(
            sa.select(t.outbox.c.payload).where(t.outbox.c.topic == "placement.made")
            .order_by(t.outbox.c.id))]


def test_a_supervisor_places_a_case_and_recalls_it(client: TestClient,
                                                    placed_book: bootstrap.Services) -> None:
    supervisor = key(placed_book, "supervisor")
    case = unplaced_case(client, supervisor)
    response = client.put(f"/api/v1/cases/{case['case_id']}/placement",
                          json={"agency_id": PLACED_WITH, "days": 30, "scope": "remote+visit"},
                          headers=supervisor)
    assert response.status_code == 200, response.text
    assert response.json() == {
        "case_id": case["case_id"], "agency_id": PLACED_WITH,
        "placed_on": OPEN_DAY.isoformat(), "ends_on": (OPEN_DAY + timedelta(days=30)).isoformat(),
        "loan_ids": case["loan_ids"], "credentials_revoked": []}
    now = next(c for c in cases(client, supervisor) if c["case_id"] == case["case_id"])
    assert (now["agency_id"], now["collector_id"]) == (PLACED_WITH, None)
    agency = key(placed_book, "agency", agency=PLACED_WITH)
    placements = client.get(f"/api/v1/agencies/{PLACED_WITH}/placements",
                            headers=agency).json()["placements"]
    assert [p["scope"] for p in placements if p["case_id"] == case["case_id"]] \
        == ["remote+visit"]
    assert made(placed_book)[-1] | {"by": None} == {
        "case_id": case["case_id"], "agency": PLACED_WITH, "by": None, "scope": "remote+visit",
        "ends_on": (OPEN_DAY + timedelta(days=30)).isoformat(), "loan_ids": case["loan_ids"],
        "collector": case["collector_id"], "credentials_revoked": []}
    assert made(placed_book)[-1]["by"].startswith("key:")

    refused = client.put(f"/api/v1/cases/{case['case_id']}/placement",
                         json={"agency_id": PLACED_WITH}, headers=supervisor)
    assert refused.status_code == 422
    assert refused.json()["field"] == "case_id"
    assert f"already placed with {PLACED_WITH}" in refused.json()["detail"]

    assert client.delete(f"/api/v1/cases/{case['case_id']}/placement",
                         headers=supervisor).status_code == 204
    assert all(p["case_id"] != case["case_id"] for p in client.get(
        f"/api/v1/agencies/{PLACED_WITH}/placements", headers=agency).json()["placements"])
    again = client.delete(f"/api/v1/cases/{case['case_id']}/placement", headers=supervisor)
    assert (again.status_code, again.json()["field"]) == (404, "case_id")


@pytest.mark.parametrize("body, field, says", [
    ({"agency_id": "AG-NOBODY"}, "agency_id", "no agency 'AG-NOBODY'"),
    ({"agency_id": "AG-UNLISTED"}, "agency_id", "not whitelisted"),
    ({"agency_id": "AG-EXPIRED"}, "agency_id", "licence not valid on"),
    ({"agency_id": "AG-FULL"}, "agency_id", "at capacity (1)"),
    ({"agency_id": PLACED_WITH, "days": 0}, "days", ""),
    ({"agency_id": PLACED_WITH, "days": handlers.MAX_PLACEMENT_DAYS + 1}, "days", ""),
    ({"agency_id": PLACED_WITH, "scope": "visit"}, "scope", ""),
    ({"agency_id": ""}, "agency_id", ""),
    ({"agency": PLACED_WITH}, "agency_id", ""),
])
def test_a_refused_placement_names_its_field_and_changes_nothing(
        client: TestClient, placed_book: bootstrap.Services, body: dict[str, Any], field: str,
        says: str) -> None:
    supervisor = key(placed_book, "supervisor")
    add_agency(placed_book, "AG-EXPIRED", licence_until=OPEN_DAY - timedelta(days=1))
    add_agency(placed_book, "AG-FULL", capacity=1)
    # A case the strategy placed, recalled and placed again to fill AG-FULL's one place.
    first = next(c for c in cases(client, supervisor) if c["agency_id"] == PLACED_WITH)
    second = unplaced_case(client, supervisor)
    assert client.delete(f"/api/v1/cases/{first['case_id']}/placement",
                         headers=supervisor).status_code == 204
    assert client.put(f"/api/v1/cases/{first['case_id']}/placement",
                      json={"agency_id": "AG-FULL"}, headers=supervisor).status_code == 200
    before = book_state(placed_book)
    response = client.put(f"/api/v1/cases/{second['case_id']}/placement", json=body,
                          headers=supervisor)
    assert response.status_code == 422, response.text
    assert response.json()["field"].split(".")[0] == field.split(".")[0] \
        or response.json()["field"] == "body"
    assert says in response.json()["detail"]
    assert book_state(placed_book) == before


def test_unknown_cases_are_404_and_only_case_assigners_may_place(
        client: TestClient, placed_book: bootstrap.Services) -> None:
    supervisor = key(placed_book, "supervisor")
    case = unplaced_case(client, supervisor)
    before = book_state(placed_book)
    for missing in (999_999, 2**62):
        response = client.put(f"/api/v1/cases/{missing}/placement",
                              json={"agency_id": PLACED_WITH}, headers=supervisor)
        assert (response.status_code, response.json()["field"]) == (404, "case_id")
    with placed_book.uow_factory() as uow:
        collector = uow.collections.collectors()[0].collector_ref
    for role, extra in (("collector", {"collector": collector}),
                        ("agency", {"agency": PLACED_WITH}), ("compliance", {})):
        headers = key(placed_book, role, **extra)
        assert client.put(f"/api/v1/cases/{case['case_id']}/placement",
                          json={"agency_id": PLACED_WITH}, headers=headers).status_code == 403
        assert client.delete(f"/api/v1/cases/{case['case_id']}/placement",
                             headers=headers).status_code == 403
    assert book_state(placed_book) == before


def test_a_case_under_legal_review_is_not_placed(client: TestClient,
                                                 placed_book: bootstrap.Services) -> None:
    supervisor = key(placed_book, "supervisor")
    case = unplaced_case(client, supervisor)
    with placed_book.engine.begin() as connection:
        connection.execute(ct.collection_case.update().where(
            ct.collection_case.c.id == case["case_id"]).values(queue="legal"))
    before = book_state(placed_book)
    response = client.put(f"/api/v1/cases/{case['case_id']}/placement",
                          json={"agency_id": PLACED_WITH}, headers=supervisor)
    assert (response.status_code, response.json()["field"]) == (422, "case_id")
    assert "legal queue" in response.json()["detail"]
    assert book_state(placed_book) == before
