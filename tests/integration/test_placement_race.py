"""Placements from two transactions at once (PostgreSQL; SQLite's writer lock makes them take
turns anyway): a case is placed once however many supervisors place it together, and an
agency never holds more cases than its capacity because two placements counted its load at
the same time, and a case is never both placed and assigned. The second transaction waits for
the first to commit, then reads it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from arrears import bootstrap
from arrears.adapters.db import collections_tables as ct
from arrears.adapters.db.collections_store import SqlCollections
from arrears.application.handlers import case_assignment
from arrears.application.handlers import collections as handlers
from arrears.domain.errors import DomainError

from lock_races import race
from trust_book import CLOSED, open_book

OPEN_DAY = CLOSED + timedelta(days=1)


@pytest.fixture
def book(services: bootstrap.Services) -> bootstrap.Services:
    if services.engine.dialect.name != "postgresql":
        pytest.skip("a SQLite writer holds the whole database: no other writer comes between")
    return open_book(services)


def open_cases(book: bootstrap.Services) -> list[int]:
    with book.uow_factory() as uow:
        placed = uow.collections.active_placements(OPEN_DAY)
        return sorted(c.id for c in uow.collections.open_cases().values() if c.id not in placed)


def place(book: bootstrap.Services, case_id: int, agency: str) -> Callable[[], Any]:
    return lambda: handlers.place_case(case_id, agency, OPEN_DAY, by="test",
                                       uow_factory=book.uow_factory, clock=book.clock)


def test_a_case_placed_by_two_supervisors_at_once_is_placed_once(book, monkeypatch) -> None:
    case_id = open_cases(book)[0]
    results = race(book, monkeypatch, SqlCollections, "active_placements",
                   place(book, case_id, "AG-HUAXIN"), place(book, case_id, "AG-HUAXIN"))
    assert isinstance(results["first"], handlers.Placed), results["first"]
    refused = results["second"]
    assert isinstance(refused, DomainError) and refused.field == "case_id", refused
    assert "already placed with AG-HUAXIN" in refused.reason
    with book.engine.connect() as connection:
        assert connection.execute(sa.select(sa.func.count()).select_from(ct.placement).where(
            ct.placement.c.case_id == case_id)).scalar() == 1


def test_an_agency_never_takes_more_than_its_capacity_from_two_at_once(book,
                                                                       monkeypatch) -> None:
    first_case, second_case = open_cases(book)[:2]
    with book.engine.begin() as connection:
        connection.execute(ct.agency.update().where(ct.agency.c.agency_ref == "AG-HUAXIN")
                           .values(capacity=1))
    results = race(book, monkeypatch, SqlCollections, "active_placements",
                   place(book, first_case, "AG-HUAXIN"), place(book, second_case, "AG-HUAXIN"))
    assert isinstance(results["first"], handlers.Placed), results["first"]
    refused = results["second"]
    assert isinstance(refused, DomainError) and refused.field == "agency_id", refused
    assert "at capacity (1)" in refused.reason


def test_a_case_assigned_while_it_is_placed_is_refused_not_both(book, monkeypatch) -> None:
    """The assignment waits for the placement's lock on the case, then finds it placed."""
    case_id = open_cases(book)[0]
    with book.uow_factory() as uow:
        case = next(c for c in uow.collections.open_cases().values() if c.id == case_id)
        collector = next(c.collector_ref for c in uow.collections.collectors()
                         if case.bucket in c.buckets)
    results = race(book, monkeypatch, SqlCollections, "active_placements",
                   place(book, case_id, "AG-HUAXIN"),
                   lambda: case_assignment.assign_case(
                       case_id, collector, by="test", uow_factory=book.api_uow_factory(),
                       clock=book.clock))
    assert isinstance(results["first"], handlers.Placed), results["first"]
    refused = results["second"]
    assert isinstance(refused, DomainError) and "recall it first" in refused.reason, refused
    with book.api_uow_factory()() as uow:
        holder = uow.api.case_holder(case.borrower_id, OPEN_DAY)
    assert holder is not None and (holder.collector_ref, holder.agency_ref) == (
        None, "AG-HUAXIN")
