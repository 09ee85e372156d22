"""Strategies planned ahead in other processes (`ProcessReadAhead`) leave the book exactly as
planning in this process does: every row of every table, on twin books run day by day with
plan offers (planned as they write, so left to the writer) and escalations among the steps."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from datetime import date
from functools import partial
from pathlib import Path

import pytest

from arrears import bootstrap
from arrears.adapters.channels.config import ChannelSettings, build_channels
from arrears.adapters.channels.render import JinjaRenderer
from arrears.adapters.db.payment_import_store import SqlPaymentImportUnitOfWorkFactory
from arrears.adapters.db.read_ahead import ProcessReadAhead
from arrears.application import collections_demo, demo
from arrears.application.ports import InProcess, ReadAhead, UnitOfWork
from arrears.application.strategy import default_strategies, parse_strategy_text
from arrears.config import Settings

from book_checks import table_rows
from fakes import FixedClock
from loopback import postgres_schema_url
from shipped import default_policies, default_products

START = date(2026, 1, 1)
DAYS = 100
STRATEGIES = Path(demo.__file__).with_name("strategies")
OFFER = """
[[champion]]
name = "offer-reage"
kind = "sms"
from = 3
to = 400
offer = { kind = "reage", terms = 6 }
"""


def _book(url: str, tmp_path: Path, name: str) -> bootstrap.Services:
    built = bootstrap.build(Settings(database_url=url, key_dir=str(tmp_path / f"{name}-keys")),
                            clock=FixedClock())
    built.migrate()
    return built


@pytest.fixture
def books(database_url: str, tmp_path: Path) -> Iterator[tuple[bootstrap.Services, ...]]:
    """The fixture's book and a twin on the same kind of database."""
    schemas = None
    if database_url.startswith("sqlite"):
        twin_url = f"sqlite:///{tmp_path / 'twin.db'}"
    else:
        schemas = postgres_schema_url()
        twin_url = next(schemas)
    built = (_book(database_url, tmp_path, "book"), _book(twin_url, tmp_path, "twin"))
    yield built
    for services in built:
        services.engine.dispose()
    if schemas is not None:
        next(schemas, None)


def _run(services: bootstrap.Services, read_ahead: ReadAhead, sinks: Path) -> None:
    strategies = default_strategies()
    daily = (STRATEGIES / "wld-daily.toml").read_text(encoding="utf-8")
    strategies["WLD-DAILY"] = parse_strategy_text(daily + OFFER)
    collections_demo.setup(uow_factory=services.uow_factory, start=START)
    channels = build_channels(ChannelSettings(sink_dir=sinks), services.engine, services.clock)
    renderer = JinjaRenderer()
    floor = collections_demo.Floor(seed=5)
    demo.simulate(
        demo.plan_book(150, DAYS, START, seed=11), START, DAYS, default_products(),
        uow_factory=services.uow_factory,
        paying=SqlPaymentImportUnitOfWorkFactory(services.engine), clock=services.clock,
        write_off_dpd=180,
        plan_policies=default_policies(),
        on_day=lambda day: collections_demo.run_day(
            day, uow_factory=services.uow_factory, clock=services.clock, renderer=renderer,
            channels=channels, strategies=strategies, floor=floor, read_ahead=read_ahead))
    for channel in channels.values():
        channel.close()


def test_planning_ahead_in_other_processes_writes_what_planning_here_writes(
        books: tuple[bootstrap.Services, bootstrap.Services], tmp_path: Path) -> None:
    here, ahead = books
    _run(here, InProcess(here.uow_factory), tmp_path / "here")
    url = ahead.engine.url.render_as_string(hide_password=False)
    with ProcessReadAhead(url, workers=2) as read_ahead:
        _run(ahead, read_ahead, tmp_path / "ahead")
    planned, expected = table_rows(ahead), table_rows(here)
    # The writer's own part was exercised: offers made and cases placed with an agency.
    assert any("offer-reage" in row and "scheduled" in row
               for row in planned["collection_action"])
    assert planned["placement"]
    assert planned == expected
    sent = sorted(path.name for path in (tmp_path / "here").rglob("*"))
    assert "sms.jsonl" in sent
    assert sorted(path.name for path in (tmp_path / "ahead").rglob("*")) == sent
    for name in (path.name for path in (tmp_path / "here").glob("*.jsonl")):
        assert (tmp_path / "ahead" / name).read_bytes() == (tmp_path / "here" / name).read_bytes()


def _closed_through(caller: int, readers: Callable[[], UnitOfWork], item: int
                    ) -> tuple[int, date | None]:
    """The book's closed date, read for `item`; item 3 kills the worker that runs it (as the
    kernel's out-of-memory killer would), not the caller's process."""
    if item == 3 and os.getpid() != caller:
        os._exit(9)
    with readers() as uow:
        return item, uow.book.closed_through()


def test_a_lost_worker_leaves_the_items_not_yet_given_to_this_process(
        services: bootstrap.Services, caplog: pytest.LogCaptureFixture) -> None:
    url = services.engine.url.render_as_string(hide_password=False)
    with ProcessReadAhead(url, workers=2) as read_ahead:
        results = list(read_ahead.map(partial(_closed_through, os.getpid()), range(9)))
    assert results == [(item, None) for item in range(9)]  # in order, none lost or twice
    assert "a reading process was lost" in caplog.text
