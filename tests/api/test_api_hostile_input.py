"""Hand-made hostile requests the schema-driven fuzzing seldom reaches: instants at the ends of
the calendar, JSON nested past the parser, bodies larger than any route takes, made-up keys by
the thousand, a payment key that names nothing. Each is a 4xx problem naming what was wrong,
never a 500."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from test_scopes import book  # noqa: F401  (the fixture: cases open, some placed)

from arrears import bootstrap
from arrears.entrypoints.api import deps
from arrears.entrypoints.api.app import MAX_BODY_BYTES

from api_support import app_for, key

EDGES = ("9999-12-31T23:59:59-12:00", "0001-01-01T00:00:00+14:00", "9999-12-31T00:00:00Z")


@pytest.mark.parametrize("at", EDGES)
def test_instants_at_the_ends_of_the_calendar_are_refused_by_name(
        book: bootstrap.Services, at: str) -> None:  # noqa: F811
    client = TestClient(app_for(book), raise_server_exceptions=False)
    admin = key(book, "admin")
    contact = client.post("/api/v1/loans/WLD-1001/contacts", headers=admin, json={
        "outcome": "no_answer", "at": at, "actor": "agency:AG-HUAXIN"})
    decision = client.post("/api/v1/compliance/decisions", headers=admin, json={
        "loan_id": "WLD-1001", "channel": "call", "at": at})
    for response in (contact, decision):
        assert response.status_code == 422, response.text
        assert response.json()["field"] == "at", response.json()


def test_dates_at_the_ends_of_the_calendar_are_refused_by_name(client: TestClient,
                                                               small_book) -> None:
    admin = key(small_book, "admin")
    for path, body, field in (
            ("/api/v1/loans/WLD-1001/promises", {"amount": "1.00", "due_on": "9999-12-31"},
             "due_on"),
            ("/api/v1/eod/runs", {"through": "0001-01-01"}, "through")):
        response = client.post(path, headers=admin, json=body)
        assert response.status_code == 422, response.text
        assert response.json()["field"] == field


def test_json_nested_past_the_parser_is_a_problem(client: TestClient, small_book) -> None:
    admin = key(small_book, "admin")
    deep = b"[" * 100_000 + b"]" * 100_000
    for path in ("/api/v1/compliance/decisions", "/api/v1/loans"):
        response = client.post(path, headers=admin | {"Content-Type": "application/json"},
                               content=deep)
        assert 400 <= response.status_code < 500, (path, response.text)


def test_a_body_over_the_limit_is_413_before_anyone_is_asked_who_sent_it(
        client: TestClient) -> None:
    big = b" " * (MAX_BODY_BYTES + 1)
    declared = client.post("/api/v1/loans", content=big,
                           headers={"Content-Type": "application/json"})
    assert declared.status_code == 413, declared.text

    def chunks():  # no Content-Length: counted as it arrives
        for _ in range(MAX_BODY_BYTES // 2**20 + 1):
            yield b" " * 2**20

    streamed = client.post("/api/v1/compliance/decisions", content=chunks(),
                           headers={"Content-Type": "application/json"})
    assert streamed.status_code in (401, 413), streamed.text
    assert client.post("/api/v1/loans", json={"loans": []}).status_code == 401


def test_made_up_keys_do_not_grow_the_key_cache_without_end(
        client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(deps, "MAX_CACHED_KEYS", 50)
    ctx = client.app.state.ctx  # type: ignore[attr-defined]
    for n in range(200):
        client.get("/api/v1/cases", headers={"Authorization": f"Bearer arr_x{n}_guess"})
    assert len(ctx._keys) <= 50


def test_a_payment_key_that_names_nothing_is_404(client: TestClient, small_book) -> None:
    response = client.post("/api/v1/payments/no-such-payment/reversals",
                           headers=key(small_book, "admin") | {"Idempotency-Key": "r-1"})
    assert response.status_code == 404, response.text
    assert response.json()["field"] == "payment_key"
