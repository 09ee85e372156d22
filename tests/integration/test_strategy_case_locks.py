"""A strategy's chunk holds every case its steps may change before it changes any, in id order,
as the case sync holds them all: taken one by one as the steps come, two placements of one chunk
could take their cases in the other order than a sync running beside them and wait on it for
good (PostgreSQL reports a deadlock and fails the run)."""

from __future__ import annotations

from typing import Any

import pytest

from arrears import bootstrap
from arrears.adapters.channels.render import JinjaRenderer
from arrears.adapters.db.collections_store import SqlCollections
from arrears.application.handlers import collections as handlers
from arrears.application.strategy import parse_strategy_text

from collection_strategies import PLACE_WLD
from trust_book import CLOSED, open_book


def test_a_chunk_holds_its_cases_in_id_order_before_placing_any(
        services: bootstrap.Services, monkeypatch: pytest.MonkeyPatch) -> None:
    book = open_book(services)
    held: list[list[int]] = []
    original = SqlCollections.lock_cases

    def holding(self: SqlCollections, case_ids: Any) -> None:
        held.append(list(case_ids))
        original(self, case_ids)

    monkeypatch.setattr(SqlCollections, "lock_cases", holding)
    with book.uow_factory() as uow:
        # The overdue WLD borrowers' cases: each is placed by the strategy below.
        cases = sorted(case.id for case in uow.collections.open_cases().values())
    assert len(cases) >= 2

    report = handlers.run_strategies(
        CLOSED, uow_factory=book.uow_factory, clock=book.clock, renderer=JinjaRenderer(),
        strategies={"WLD-DAILY": parse_strategy_text(PLACE_WLD)})

    placed = report.actions["agency_placement:done"]
    assert placed >= 2, report.actions
    first, *later = held
    assert first == sorted(first) and len(first) >= placed
    # Each placement takes its case again (held already): no case is taken first there.
    assert all(ids[0] in first for ids in later), held
