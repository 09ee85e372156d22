"""Borrower sign-in codes under attack: simultaneous guesses cannot spend more than a code's
attempts (on PostgreSQL, where they really run at once), and asking for code after code does
not buy more than a day's worth of guesses at one borrower."""

from __future__ import annotations

import json
import os
import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta
from importlib import resources
from pathlib import Path

import pytest
import sqlalchemy as sa

from arrears import bootstrap
from arrears.adapters.db import web_tables
from arrears.adapters.db.web_store import SqlWebStore
from arrears.application.handlers import login_codes, servicing
from arrears.config import Settings
from arrears.domain.errors import DomainError

from fakes import FixedClock

EXAMPLES = Path(__file__).parents[2] / "examples"
POSTGRES_URL = os.environ.get("ARREARS_TEST_POSTGRES_URL")
PHONE = "13600001111"  # B-1003 in examples/loans.csv
START = datetime.fromisoformat("2026-02-02T09:00:00+08:00")


def _book(url: str) -> bootstrap.Services:
    built = bootstrap.build(Settings(database_url=url), clock=FixedClock(START))
    built.migrate()
    products = json.loads((resources.files("arrears") / "default_products.json").read_text())
    servicing.init_book(date(2026, 2, 2), products, uow_factory=built.uow_factory)
    servicing.import_loans_csv((EXAMPLES / "loans.csv").read_text(),
                               uow_factory=built.uow_factory, clock=built.clock)
    return built


@pytest.fixture
def sqlite_book(tmp_path: Path) -> Iterator[bootstrap.Services]:
    built = _book(f"sqlite:///{tmp_path / 'book.db'}")
    yield built
    built.engine.dispose()


@pytest.fixture
def postgres_book() -> Iterator[bootstrap.Services]:
    if POSTGRES_URL is None:
        pytest.skip("needs ARREARS_TEST_POSTGRES_URL")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.exec_driver_sql(f"CREATE SCHEMA {schema}")
    separator = "&" if "?" in POSTGRES_URL else "?"
    built = _book(f"{POSTGRES_URL}{separator}options=-csearch_path%3D{schema}")
    yield built
    built.engine.dispose()
    with admin.begin() as connection:
        connection.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
    admin.dispose()


def attempts(services: bootstrap.Services) -> list[int]:
    with services.engine.connect() as connection:
        return [row.attempts for row in connection.execute(
            sa.select(web_tables.login_code).order_by(web_tables.login_code.c.id))]


def guess(services: bootstrap.Services, code: str) -> bool:
    try:
        login_codes.redeem_code(PHONE, code, uow_factory=services.web_uow_factory(),
                                clock=services.clock)
    except DomainError:
        return False
    return True


@pytest.mark.postgres
def test_simultaneous_guesses_spend_no_more_than_a_codes_attempts(
        postgres_book: bootstrap.Services, monkeypatch: pytest.MonkeyPatch) -> None:
    services = postgres_book
    login_codes.request_code(PHONE, uow_factory=services.web_uow_factory(),
                             clock=services.clock)
    guesses = 12
    # Every guess has read the code's row before any counts its attempt: the widest race.
    everyone_read = threading.Barrier(guesses)
    read = SqlWebStore.latest_login_code

    def read_then_wait(store: SqlWebStore, borrower_id: int):  # type: ignore[no-untyped-def]
        row = read(store, borrower_id)
        everyone_read.wait(timeout=30)
        return row

    monkeypatch.setattr(SqlWebStore, "latest_login_code", read_then_wait)
    with ThreadPoolExecutor(max_workers=guesses) as pool:
        results = list(pool.map(lambda n: guess(services, f"{n:06d}"), range(guesses)))
    assert attempts(services) == [login_codes.MAX_ATTEMPTS]
    assert sum(results) <= 1  # the odd chance one of 000000…000011 was the code


def test_new_codes_do_not_buy_more_than_a_days_guesses(sqlite_book: bootstrap.Services
                                                       ) -> None:
    services = sqlite_book
    clock = services.clock
    assert isinstance(clock, FixedClock)
    spent = 0
    for _ in range(login_codes.DAILY_ATTEMPTS):  # more codes than a day's guesses need
        login_codes.request_code(PHONE, uow_factory=services.web_uow_factory(), clock=clock)
        for _ in range(login_codes.MAX_ATTEMPTS):
            guess(services, "000000")
        spent = sum(attempts(services))
        clock.at += timedelta(seconds=login_codes.RESEND_SECONDS)
    assert spent == login_codes.DAILY_ATTEMPTS
    clock.at = START + timedelta(days=1, minutes=1)  # a day on, guesses are allowed again
    login_codes.request_code(PHONE, uow_factory=services.web_uow_factory(), clock=clock)
    guess(services, "000000")
    assert sum(attempts(services)) == login_codes.DAILY_ATTEMPTS + 1
