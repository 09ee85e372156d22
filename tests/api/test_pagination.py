"""Cursor pagination on every list route: `limit` (bounded) and an opaque `cursor` in,
`next_cursor` out; walking the pages shows each row once even while rows are added; a cursor
this API did not give out for that list is a 400 naming `cursor`."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from arrears import bootstrap
from arrears.application import collections_demo
from arrears.application.handlers import webhooks
from arrears.entrypoints.api.pages import DEFAULT_LIMIT, MAX_LIMIT, cursor_of

from api_support import OPEN, WEBHOOK_SECRET, app_for, build, key

LISTS = ("/api/v1/cases", "/api/v1/agencies", "/api/v1/agencies/AG-HUAXIN/placements",
         "/api/v1/webhooks/subscriptions", "/api/v1/webhooks/deliveries")


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> bootstrap.Services:
    built = build(f"sqlite:///{tmp_path_factory.mktemp('pages') / 'book.db'}")
    collections_demo.setup(uow_factory=built.uow_factory, start=OPEN)
    return built


def subscribe(book: bootstrap.Services, number: int) -> str:
    created = webhooks.subscribe(f"https://lender.example/hook/{number}", ["*"],
                                 master_secret=WEBHOOK_SECRET,
                                 uow_factory=book.api_uow_factory(), clock=book.clock)
    return created.subscription.subscription_ref


def test_every_list_route_pages_with_a_bounded_limit_and_a_cursor(book) -> None:
    schema = TestClient(app_for(book)).get("/openapi.json").json()
    lists = {path for path, item in schema["paths"].items() if "get" in item
             and _answer(item["get"]).get("$ref", "").endswith("Page")}
    assert {path.replace("{agency_id}", "AG-HUAXIN") for path in lists} == set(LISTS)
    for path in lists:
        parameters = {p["name"]: p["schema"] for p in schema["paths"][path]["get"]["parameters"]}
        assert parameters["limit"]["maximum"] == MAX_LIMIT, path
        assert parameters["limit"]["default"] == DEFAULT_LIMIT, path
        assert "cursor" in parameters, path


def _answer(operation: dict) -> dict:
    return operation["responses"]["200"]["content"]["application/json"]["schema"]


def test_pages_show_each_row_once_while_rows_are_added(book) -> None:
    client = TestClient(app_for(book))
    admin = key(book, "admin")
    first = [subscribe(book, n) for n in range(5)]
    seen: list[str] = []
    cursor = None
    for page_number in range(10):
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = client.get("/api/v1/webhooks/subscriptions", headers=admin, params=params).json()
        seen += [s["id"] for s in page["subscriptions"]]
        if page_number == 0:
            added = subscribe(book, 99)  # comes at the end, and shifts nothing already seen
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == first + [added]

    agencies = client.get("/api/v1/agencies", headers=admin, params={"limit": 1}).json()
    everything = client.get("/api/v1/agencies", headers=admin).json()["agencies"]
    following = client.get("/api/v1/agencies", headers=admin, params={
        "limit": 1, "cursor": agencies["next_cursor"]}).json()
    assert agencies["agencies"] + following["agencies"] == everything[:2]


@pytest.mark.parametrize("path", LISTS)
def test_a_bad_cursor_or_limit_is_refused_naming_the_field(book, path: str) -> None:
    client = TestClient(app_for(book), raise_server_exceptions=False)
    admin = key(book, "admin")
    for cursor in ("%%%", "bm9wZQ", cursor_of("another-list", 1), "x" * 81):
        answer = client.get(path, headers=admin, params={"cursor": cursor})
        assert answer.status_code in (400, 422), (path, cursor)
        assert answer.json()["field"] == "cursor", (path, cursor)
    assert client.get(path, headers=admin, params={
        "cursor": cursor_of("another-list", 1)}).status_code == 400
    for limit in (0, MAX_LIMIT + 1, "ten"):
        answer = client.get(path, headers=admin, params={"limit": limit})
        assert (answer.status_code, answer.json()["field"]) == (422, "limit"), (path, limit)
