"""The web tests' book (an assigned case, agency placements, web users and a signed credential
on SQLite), the app on a uvicorn server on a free loopback port, and the axe-core check."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient

from arrears import bootstrap
from arrears.adapters.channels.render import JinjaRenderer
from arrears.adapters.db import collections_tables as ct
from arrears.adapters.db import trust_tables
from arrears.application import collections_demo
from arrears.application.handlers import (
    case_assignment,
    casework,
    credentials,
    eod,
    plans,
    servicing,
    users,
)
from arrears.application.handlers import collections as handlers
from arrears.application.strategy import parse_strategy_text
from arrears.config import Settings
from arrears.entrypoints.api.app import create_app
from arrears.entrypoints.api.settings import ApiSettings
from arrears.entrypoints.web.session import WebSettings

from collection_strategies import PLACE_WLD
from fakes import FixedClock

EXAMPLES = Path(__file__).parents[2] / "examples"
AXE = Path(__file__).parent / "vendor" / "axe-4.14.1.min.js"
SHANGHAI = ZoneInfo("Asia/Shanghai")
OPEN, CLOSED = date(2026, 2, 2), date(2026, 3, 20)
BEFORE_HOURS = datetime(2026, 3, 22, 7, 0, tzinfo=SHANGHAI)
"""Before the CN pack's calling hours: calls and texts are blocked until 08:00."""
WORKING_HOURS = datetime(2026, 3, 22, 10, 0, tzinfo=SHANGHAI)
PASSWORD = "correct horse battery"
COLLECTOR_LOAN = "PHN-2001"  # B-1003's case, assigned to C-01
BORROWER_PHONE = "13600001111"  # B-1003
PLACED_LOAN = "WLD-1001"  # placed with AG-HUAXIN


DUE_TODAY_LOAN, DUE_TODAY_PHONE = "PHN-2003", "13700002222"  # B-1004's
DUE_TODAY_ROW = ("PHN-2003,B-1004,Chen Jie,310101198902244057,13700002222,PHONE-24M,CNY,"
                 "4999.00,2026-02-21,24,上海市浦东新区世纪大道8号,Shanghai,Asia/Shanghai,en,,,")
"""A loan boarded on its disbursement day, whose first installment falls due on the book's
closed date: in what is owed today, not yet overdue (`build_book(boarded_later=…)`)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Book:
    services: bootstrap.Services
    clock: FixedClock
    token: str
    """A genuine credential: C-01 may call about PHN-2001."""
    sinks: Path


def build_book(tmp: Path, url: str | None = None, *, boarded_later: tuple[str, ...] = ()
               ) -> Book:
    """The book on `url` (default: SQLite in `tmp`); `boarded_later` are rows of loans.csv
    disbursed after the book opens, each boarded on its disbursement day."""
    clock = FixedClock(BEFORE_HOURS)
    services = bootstrap.build(Settings(database_url=url or f"sqlite:///{tmp / 'book.db'}",
                                        key_dir=str(tmp / "keys")), clock=clock)
    services.migrate()
    products = json.loads((resources.files("arrears") / "default_products.json").read_text())
    servicing.init_book(OPEN, products, uow_factory=services.uow_factory)
    plans.set_policies(json.loads((resources.files("arrears") / "default_plan_policies.json")
                                  .read_text()), uow_factory=services.uow_factory)
    servicing.import_loans_csv((EXAMPLES / "loans.csv").read_text(),
                               uow_factory=services.uow_factory, clock=clock)
    collections_demo.setup(uow_factory=services.uow_factory, start=OPEN)
    header = (EXAMPLES / "loans.csv").read_text().splitlines()[0]
    later = {date.fromisoformat(row.split(",")[8]): row for row in boarded_later}
    day = OPEN
    while day <= CLOSED:
        if day in later:
            servicing.import_loans_csv(f"{header}\n{later[day]}\n",
                                       uow_factory=services.uow_factory, clock=clock)
        eod.run_eod(day, uow_factory=services.uow_factory, clock=clock)
        casework.evaluate_promises(day, uow_factory=services.uow_factory, clock=clock)
        handlers.sync_cases(day, uow_factory=services.uow_factory, clock=clock)
        day += timedelta(days=1)
    handlers.run_strategies(CLOSED, uow_factory=services.uow_factory, clock=clock,
                            renderer=JinjaRenderer(),
                            strategies={"WLD-DAILY": parse_strategy_text(PLACE_WLD)})
    eod.run_eod(CLOSED + timedelta(days=1), uow_factory=services.uow_factory, clock=clock)
    api = services.api_uow_factory()
    with api() as uow:
        case_id = next(c.id for c in uow.collections.open_cases().values()
                       if c.borrower_id == uow.book.get(COLLECTOR_LOAN).borrower_id)
    with services.engine.begin() as connection:  # C-01 speaks English too in this book
        connection.execute(ct.collector.update().where(ct.collector.c.collector_ref == "C-01")
                           .values(languages="zh-CN,en"))
    case_assignment.assign_case(case_id, "C-01", by="web:sup", uow_factory=api, clock=clock)
    web = services.web_uow_factory()
    for name, role, extra in (("c01", "collector", {"collector": "C-01"}),
                              ("huaxin", "agency", {"agency": "AG-HUAXIN"}),
                              ("unlisted", "agency", {"agency": "AG-UNLISTED"}),
                              ("sup", "supervisor", {}), ("officer", "compliance", {})):
        users.create_user(name, role, PASSWORD, uow_factory=web, clock=clock, **extra)
    issued = credentials.issue(
        credentials.IssueRequest(collector="C-01", debt=COLLECTOR_LOAN, scope="call"),
        uow_factory=services.uow_factory, keys=services.keys, clock=clock,
        zone="Asia/Shanghai", issuer="Arrears Demo Lender")
    return Book(services=services, clock=clock, token=issued.token, sinks=tmp / "sinks")


def module_book(tmp_path_factory: pytest.TempPathFactory, *,
                boarded_later: tuple[str, ...] = ()) -> Iterator[Book]:
    """A test module's own book (the `book` fixture's body), its sign-in codes in its sinks."""
    tmp = tmp_path_factory.mktemp("web")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ARREARS_SINK_DIR", str(tmp / "sinks"))  # where sign-in codes land
        built = build_book(tmp, boarded_later=boarded_later)
        yield built
    built.services.engine.dispose()


DEMO_CHANNEL_SECRET = b"demo-channel-secret-for-the-tests-only"
"""The payment channel's secret in the tests (a real one comes from the environment)."""


def app_for(book: Book, web: WebSettings | None = None, api: ApiSettings | None = None
            ) -> FastAPI:
    return create_app(book.services.settings, services=book.services,
                      api_settings=api or ApiSettings(key_cache_seconds=0),
                      web_settings=web or WebSettings(session_secret="s" * 32,
                                                      verify_per_minute=10_000,
                                                      sign_in_per_minute=10_000))


def codes_sent(book: Book) -> list[dict[str, Any]]:
    path = book.sinks / "sms.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def forged_visit_notice(token: str) -> str:
    """A visit notice made from a genuine credential: its claims rewritten to a visit, the
    lender's signature kept (so it no longer matches)."""
    head, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["scope"] = ["visit"]
    claims["visit_on"] = "2026-03-23"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return ".".join((head, forged, signature))


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


def sign_in_staff(client: TestClient, name: str) -> str:
    """Sign the staff user `name` in (the book's users share `PASSWORD`); the signed-in
    session's CSRF token."""
    token = csrf_of(client.get("/login").text)
    response = client.post("/login", data={"name": name, "password": PASSWORD,
                                           "csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303, f"{name} could not sign in"
    return csrf_of(client.get("/").text)


def sign_in_borrower(client: TestClient, book: Book, phone: str = BORROWER_PHONE) -> str:
    """Sign `client` in as the borrower with `phone`, with the code the local message sink
    received (ARREARS_SINK_DIR must be the book's); the signed-in session's CSRF token. A code
    is sent at most once a minute: move the book's clock on between sign-ins."""
    token = csrf_of(client.get("/borrower/login").text)
    client.post("/borrower/code", data={"csrf_token": token, "phone": phone})
    sent = [m for m in codes_sent(book) if m["to"].endswith(phone)]
    code = re.search(r"\b(\d{6})\b", sent[-1]["body"])
    assert code is not None
    signed_in = client.post("/borrower/login", data={"csrf_token": token, "phone": phone,
                                                     "code": code.group(1)})
    assert signed_in.url.path == "/me"
    return csrf_of(signed_in.text)


def check_accessibility(page: Any) -> None:
    """axe-core's WCAG 2 A/AA rules (labels, contrast, names, language) find nothing."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("""async () => {
        const r = await axe.run(document, {runOnly: {type: 'tag',
                                                     values: ['wcag2a', 'wcag2aa']}});
        return r.violations.map(v => v.id + ': ' + v.nodes.map(n => n.target).join(' '));
    }""")
    assert result == [], result


def revocation_reasons(book: Book) -> list[str]:
    """The reasons on the borrowers' evidence chains for credentials revoked (what a borrower
    is shown), oldest first."""
    with book.services.engine.connect() as connection:
        rows = connection.execute(sa.select(trust_tables.evidence_entry.c.payload)
                                  .where(trust_tables.evidence_entry.c.kind
                                         == "credential_revoked")
                                  .order_by(trust_tables.evidence_entry.c.id))
        return [json.loads(payload)["reason"] for payload, in rows]
