"""The web tests' book (an assigned case, agency placements, web users and a signed credential
on SQLite), the app on a uvicorn server on a free loopback port, and the axe-core check."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import FastAPI

from arrears import bootstrap
from arrears.adapters.channels.render import JinjaRenderer
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
PLACE_WLD = """
name = "place"
product = "WLD-DAILY"
[[champion]]
name = "place"
kind = "agency_placement"
from = 1
to = 400
scope = "remote"
days = 10
"""


@dataclass(frozen=True, slots=True, kw_only=True)
class Book:
    services: bootstrap.Services
    clock: FixedClock
    token: str
    """A genuine credential: C-01 may call about PHN-2001."""
    sinks: Path


def build_book(tmp: Path, url: str | None = None) -> Book:
    """The book on `url` (default: SQLite in `tmp`)."""
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
    day = OPEN
    while day <= CLOSED:
        eod.run_eod(day, uow_factory=services.uow_factory, clock=clock)
        casework.evaluate_promises(day, uow_factory=services.uow_factory, clock=clock)
        handlers.sync_cases(day, uow_factory=services.uow_factory)
        day += timedelta(days=1)
    handlers.run_strategies(CLOSED, uow_factory=services.uow_factory, clock=clock,
                            renderer=JinjaRenderer(),
                            strategies={"WLD-DAILY": parse_strategy_text(PLACE_WLD)})
    eod.run_eod(CLOSED + timedelta(days=1), uow_factory=services.uow_factory, clock=clock)
    api = services.api_uow_factory()
    with api() as uow:
        case_id = next(c.id for c in uow.collections.open_cases().values()
                       if c.borrower_id == uow.book.get(COLLECTOR_LOAN).borrower_id)
    case_assignment.assign_case(case_id, "C-01", uow_factory=api)
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


def app_for(book: Book, web: WebSettings | None = None) -> FastAPI:
    return create_app(book.services.settings, services=book.services,
                      api_settings=ApiSettings(key_cache_seconds=0),
                      web_settings=web or WebSettings(session_secret="s" * 32,
                                                      verify_per_minute=10_000,
                                                      sign_in_per_minute=10_000))


def codes_sent(book: Book) -> list[dict[str, Any]]:
    path = book.sinks / "sms.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def check_accessibility(page: Any) -> None:
    """axe-core's WCAG 2 A/AA rules (labels, contrast, names, language) find nothing."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("""async () => {
        const r = await axe.run(document, {runOnly: {type: 'tag',
                                                     values: ['wcag2a', 'wcag2aa']}});
        return r.violations.map(v => v.id + ': ' + v.nodes.map(n => n.target).join(' '));
    }""")
    assert result == [], result
