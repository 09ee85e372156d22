"""A small migrated book for the credential and evidence tests: the example loans after EOD
through 2026-03-20 (WLD-1001 and WLD-1002 in open cases), the demo's collectors and agencies,
and the clock at 2026-03-21 10:00 in Shanghai."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from arrears import bootstrap
from arrears.application import collections_demo
from arrears.application.handlers import collections, eod, servicing

from shipped import default_products

EXAMPLES = Path(__file__).parents[2] / "examples"
OPEN = date(2026, 2, 2)
CLOSED = date(2026, 3, 20)
TODAY = date(2026, 3, 21)
SHANGHAI = ZoneInfo("Asia/Shanghai")
ISSUER = "Arrears Consumer Finance"


def at(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=SHANGHAI)


def open_book(services: bootstrap.Services) -> bootstrap.Services:
    servicing.init_book(OPEN, default_products(), uow_factory=services.uow_factory)
    servicing.import_loans_csv((EXAMPLES / "loans.csv").read_text(),
                               uow_factory=services.uow_factory, clock=services.clock)
    collections_demo.setup(uow_factory=services.uow_factory, start=OPEN)
    day = OPEN
    while day <= CLOSED:
        eod.run_eod(day, uow_factory=services.uow_factory, clock=services.clock)
        day += timedelta(days=1)
    collections.sync_cases(CLOSED, uow_factory=services.uow_factory, clock=services.clock)
    services.clock.at = at(TODAY, 10)  # type: ignore[attr-defined]
    return services
