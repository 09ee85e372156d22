"""Two supervisors assigning cases to one collector at once (PostgreSQL; SQLite's writer lock
makes them take turns anyway): the second waits for the first to commit and counts its case, so
a collector is never given more cases than their capacity. Assigning a case to the collector who
holds it changes nothing, at capacity or over it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa

from arrears import bootstrap
from arrears.adapters.db import collections_tables as ct
from arrears.adapters.db.collections_store import SqlCollections
from arrears.application.handlers import case_assignment
from arrears.domain.errors import DomainError

from lock_races import race
from trust_book import open_book

COLLECTOR = "C-02"  # zh-CN and en, buckets M1 and M2


def _cases(book: bootstrap.Services) -> tuple[list[int], int, int]:
    """The open cases C-02 could take but does not hold, C-02's id and its load."""
    with book.uow_factory() as uow:
        collector = next(c for c in uow.collections.collectors() if c.collector_ref == COLLECTOR)
        cases = list(uow.collections.open_cases().values())
        free = [c.id for c in cases if c.bucket in collector.buckets
                and c.collector_id != collector.id]
        return free, collector.id, sum(1 for c in cases if c.collector_id == collector.id)


def _capacity(book: bootstrap.Services, capacity: int) -> None:
    with book.engine.begin() as connection:
        connection.execute(ct.collector.update().where(ct.collector.c.collector_ref == COLLECTOR)
                           .values(capacity=capacity))


def assign(book: bootstrap.Services, case_id: int) -> Callable[[], Any]:
    return lambda: case_assignment.assign_case(case_id, COLLECTOR, by="test",
                                               uow_factory=book.api_uow_factory(),
                                               clock=book.clock)


def test_two_assignments_at_once_never_exceed_the_collectors_capacity(
        services: bootstrap.Services, monkeypatch: pytest.MonkeyPatch) -> None:
    if services.engine.dialect.name != "postgresql":
        pytest.skip("a SQLite writer holds the whole database: no other writer comes between")
    book = open_book(services)
    free, collector_id, load = _cases(book)
    assert len(free) >= 2
    _capacity(book, load + 1)  # room for one more
    results = race(book, monkeypatch, SqlCollections, "borrower_language",
                   assign(book, free[0]), assign(book, free[1]))
    assert results["first"] is None, results["first"]
    refused = results["second"]
    assert isinstance(refused, DomainError) and refused.field == "collector_id", refused
    assert f"is at capacity: {load + 1} open case" in refused.reason
    with book.engine.connect() as connection:
        assert connection.execute(sa.select(sa.func.count()).select_from(ct.collection_case)
                                  .where(ct.collection_case.c.collector_id == collector_id,
                                         ct.collection_case.c.status == "open")
                                  ).scalar() == load + 1


def test_a_case_given_again_to_its_collector_is_no_more_work(
        services: bootstrap.Services) -> None:
    book = open_book(services)
    free, _, load = _cases(book)
    assign(book, free[0])()
    _capacity(book, 1)  # below what they hold once they have it
    assign(book, free[0])()  # no error: nothing changes
    with pytest.raises(DomainError, match=f"is at capacity: {load + 1} open case"):
        assign(book, free[1])()
