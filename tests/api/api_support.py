"""API test support: a migrated book, keys per role and the app. (A module of its own, not
conftest: another test folder has a conftest too, and importing a conftest by name would pick
whichever was imported first.)"""

from __future__ import annotations

import json
from datetime import date, timedelta
from importlib import resources
from pathlib import Path

from fastapi import FastAPI

from arrears import bootstrap
from arrears.adapters.channels.render import JinjaRenderer
from arrears.application import collections_demo
from arrears.application.handlers import api_keys, casework, eod, servicing
from arrears.application.handlers import collections as handlers
from arrears.application.strategy import parse_strategy_text
from arrears.config import Settings
from arrears.entrypoints.api.app import create_app
from arrears.entrypoints.api.settings import ApiSettings

from collection_strategies import PLACE_WLD as PLACE_ALL
from fakes import FixedClock

EXAMPLES = Path(__file__).parents[2] / "examples"
OPEN = date(2026, 2, 2)
CLOSED = date(2026, 3, 20)
SECRET = b"s" * 32
WEBHOOK_SECRET = b"w" * 32
API = ApiSettings(callback_secret=SECRET, key_cache_seconds=0, public_rate_per_second=1000,
                  public_burst=1000, webhook_secret=WEBHOOK_SECRET,
                  webhook_allow_private=True)  # the webhook receivers listen on loopback


def products() -> dict[str, object]:
    return json.loads((resources.files("arrears") / "default_products.json").read_text())


def build(url: str) -> bootstrap.Services:
    built = bootstrap.build(Settings(database_url=url), clock=FixedClock())
    built.migrate()
    servicing.init_book(OPEN, products(), uow_factory=built.uow_factory)
    servicing.import_loans_csv((EXAMPLES / "loans.csv").read_text(),
                               uow_factory=built.uow_factory, clock=built.clock)
    return built


def key(services: bootstrap.Services, role: str, **kwargs: object) -> dict[str, str]:
    created = api_keys.create_key(f"test {role}", role, uow_factory=services.api_uow_factory(),
                                  clock=services.clock, **kwargs)  # type: ignore[arg-type]
    return {"Authorization": f"Bearer {created.key}"}


def app_for(services: bootstrap.Services) -> FastAPI:
    return create_app(services.settings, api_settings=API, services=services)


def place_overdue_wld(services: bootstrap.Services) -> None:
    """The collections demo's collectors and agencies, the book closed through CLOSED with its
    cases synced, and WLD-DAILY's overdue loans placed with an agency by strategy."""
    collections_demo.setup(uow_factory=services.uow_factory, start=OPEN)
    day = OPEN
    while day <= CLOSED:
        eod.run_eod(day, uow_factory=services.uow_factory, clock=services.clock)
        casework.evaluate_promises(day, uow_factory=services.uow_factory,
                                   clock=services.clock)
        handlers.sync_cases(day, uow_factory=services.uow_factory, clock=services.clock)
        day += timedelta(days=1)
    handlers.run_strategies(CLOSED, uow_factory=services.uow_factory, clock=services.clock,
                            renderer=JinjaRenderer(),
                            strategies={"WLD-DAILY": parse_strategy_text(PLACE_ALL)})
    eod.run_eod(CLOSED + timedelta(days=1), uow_factory=services.uow_factory,
                clock=services.clock)
