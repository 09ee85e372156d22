"""A case is assigned by hand only to a collector the case sync could have given it to: one who
works its bucket, speaks the borrower's language and has room under their capacity. Each refusal
is a 422 naming `collector_id`, and the case keeps its collector."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from arrears import bootstrap
from arrears.adapters.db import collections_tables as ct

from api_support import app_for, key


@pytest.fixture
def book(placed_book: bootstrap.Services) -> bootstrap.Services:
    return placed_book


def _unplaced(client: TestClient, admin: dict[str, str]) -> tuple[dict, str]:
    case = next(c for c in client.get("/api/v1/cases", headers=admin).json()["cases"]
                if c["agency_id"] is None)
    return case, case["queue"].split("/")[1]  # bucket/language/region


def _assign(client: TestClient, admin: dict[str, str], case_id: int, ref: str) -> tuple[int, str]:
    response = client.put(f"/api/v1/cases/{case_id}/assignment", json={"collector_id": ref},
                          headers=admin)
    return response.status_code, response.text


def test_a_collector_who_does_not_speak_the_borrowers_language_is_refused(book) -> None:
    client = TestClient(app_for(book), raise_server_exceptions=False)
    admin = key(book, "admin")
    case, language = _unplaced(client, admin)
    with book.engine.begin() as connection:  # one collector of the bucket speaks only Tagalog
        ref = connection.execute(sa.select(ct.collector.c.collector_ref)).scalars().first()
        connection.execute(ct.collector.update().where(ct.collector.c.collector_ref == ref)
                           .values(languages="tl", buckets=case["bucket"]))
    status, text = _assign(client, admin, case["case_id"], ref)
    assert status == 422 and '"field":"collector_id"' in text.replace(" ", "")
    assert f"does not speak {language}" in text
    after = next(c for c in client.get("/api/v1/cases", headers=admin).json()["cases"]
                 if c["case_id"] == case["case_id"])
    assert after["collector_id"] == case["collector_id"]


def test_a_collector_at_capacity_is_refused_and_one_with_room_is_not(book) -> None:
    client = TestClient(app_for(book), raise_server_exceptions=False)
    admin = key(book, "admin")
    case, language = _unplaced(client, admin)
    with book.uow_factory() as uow:
        fit = next(c for c in uow.collections.collectors()
                   if case["bucket"] in c.buckets and language in c.languages
                   and c.collector_ref != case["collector_id"])
        load = sum(1 for c in uow.collections.open_cases().values()
                   if c.collector_id == fit.id)
    for capacity, expected in ((load, 422), (load + 1, 204)):
        with book.engine.begin() as connection:
            connection.execute(ct.collector.update().where(ct.collector.c.id == fit.id)
                               .values(capacity=capacity))
        status, text = _assign(client, admin, case["case_id"], fit.collector_ref)
        assert status == expected, text
        if expected == 422:
            assert f"is at capacity: {load} open case" in text and "collector_id" in text
