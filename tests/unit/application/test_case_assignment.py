"""Collector assignment in `sync_cases`, on a hand-written fake store: least loaded among the
collectors with the bucket and the language, within capacity; sticky while the case stays in
its bucket; reassigned when it moves; closed when the borrower is no longer overdue."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any

from arrears.application.handlers.collections import sync_cases
from arrears.application.ports import CaseRow, CollectorRow

from fakes import FixedClock

DAY = date(2026, 3, 1)


@dataclass
class FakeCollections:
    collectors_on_file: list[CollectorRow]
    overdue: dict[int, tuple[int, str]] = field(default_factory=dict)
    """borrower id -> (DPD, language)"""
    cases: dict[int, CaseRow] = field(default_factory=dict)
    closed: list[int] = field(default_factory=list)
    reads: list[str] = field(default_factory=list)
    """What the sync read, in order ("collectors (locked)", "cases")"""

    def open_cases(self, *, lock: bool = False) -> dict[int, CaseRow]:
        self.reads.append("cases")
        return dict(self.cases)

    def collectors(self, *, lock: bool = False) -> list[CollectorRow]:
        self.reads.append("collectors (locked)" if lock else "collectors")
        return list(self.collectors_on_file)

    def active_placements(self, on: date) -> dict[int, tuple[int, int]]:
        return {}

    def agencies(self) -> list[Any]:
        return []

    def overdue_borrowers(self) -> list[tuple[int, int, int, str, str]]:
        return [(b, dpd, 100_00, language, "R") for b, (dpd, language) in
                sorted(self.overdue.items())]

    def open_case(self, borrower_id: int, bucket: str, queue: str, collector_id: int | None,
                  day: date, balance: int) -> int:
        case_id = len(self.cases) + len(self.closed) + 1
        self.cases[borrower_id] = CaseRow(id=case_id, borrower_id=borrower_id, bucket=bucket,
                                          queue=queue, collector_id=collector_id,
                                          opened_on=day)
        return case_id

    def update_case(self, case_id: int, bucket: str, queue: str, collector_id: int | None,
                    day: date, balance: int) -> None:
        borrower = next(b for b, c in self.cases.items() if c.id == case_id)
        self.cases[borrower] = replace(self.cases[borrower], bucket=bucket, queue=queue,
                                       collector_id=collector_id)

    def close_case(self, case_id: int, day: date) -> None:
        borrower = next(b for b, c in self.cases.items() if c.id == case_id)
        del self.cases[borrower]
        self.closed.append(case_id)


@dataclass
class FakeCredentials:
    asked: list[tuple[int, str]] = field(default_factory=list)
    """(case id, collector ref) whose credentials were revoked"""

    def held_on_case(self, case_id: int, at: datetime, *, collector_ref: str = "",
                     agency_ref: str = "", every_collector: bool = False
                     ) -> list[tuple[str, int]]:
        self.asked.append((case_id, collector_ref))
        return []


class FakeUow:
    def __init__(self, collections: FakeCollections) -> None:
        self.collections = collections
        self.credentials = FakeCredentials()
        self.commits = 0

    def __enter__(self) -> FakeUow:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def commit(self) -> None:
        self.commits += 1


def _collector(id_: int, buckets: tuple[str, ...], capacity: int = 10,
               languages: tuple[str, ...] = ("zh-CN",)) -> CollectorRow:
    return CollectorRow(id=id_, collector_ref=f"C-{id_}", languages=languages, buckets=buckets,
                        capacity=capacity)


def _sync(store: FakeCollections, day: date = DAY, revoked: list[tuple[int, str]] | None = None
          ) -> Any:
    uow = FakeUow(store)
    report = sync_cases(day, uow_factory=lambda: uow,  # type: ignore[arg-type,return-value]
                        clock=FixedClock())
    assert uow.commits == 1
    if revoked is not None:
        revoked.extend(uow.credentials.asked)
    return report


def _assigned(store: FakeCollections) -> dict[int, int | None]:
    return {b: c.collector_id for b, c in sorted(store.cases.items())}


def test_new_cases_go_to_the_least_loaded_collector_with_the_skills() -> None:
    store = FakeCollections([_collector(1, ("M1",)), _collector(2, ("M1", "M2")),
                             _collector(3, ("M2",)),
                             _collector(4, ("M1",), languages=("en",))])
    store.overdue = {10: (5, "zh-CN"), 11: (6, "zh-CN"), 12: (7, "zh-CN"), 13: (8, "en")}
    report = _sync(store)
    assert report.opened == 4
    # Ties go to the lower id; then the other one, which is now less loaded.
    assert _assigned(store) == {10: 1, 11: 2, 12: 1, 13: 4}
    assert store.cases[13].queue == "M1/en/R"


def test_existing_load_counts_and_a_full_collector_is_skipped() -> None:
    store = FakeCollections([_collector(1, ("M1",), capacity=2), _collector(2, ("M1",))])
    store.cases = {1: CaseRow(id=1, borrower_id=1, bucket="M1", queue="M1/zh-CN/R",
                              collector_id=1, opened_on=DAY)}
    store.overdue = {1: (3, "zh-CN"), 2: (3, "zh-CN"), 3: (3, "zh-CN"), 4: (3, "zh-CN")}
    _sync(store)
    # 1 already holds one case: 2 takes the next, then 1 (its last slot), then 2 again.
    assert _assigned(store) == {1: 1, 2: 2, 3: 1, 4: 2}
    store.overdue[5] = (3, "zh-CN")
    _sync(store, DAY + timedelta(days=1))
    assert _assigned(store)[5] == 2  # collector 1 is at capacity


def test_no_eligible_collector_leaves_the_case_in_the_queue_unassigned() -> None:
    store = FakeCollections([_collector(1, ("M1",), languages=("en",))])
    store.overdue = {7: (40, "zh-CN")}
    _sync(store)
    assert _assigned(store) == {7: None} and store.cases[7].queue == "M2/zh-CN/R"


def test_assignment_is_sticky_while_the_bucket_stays_and_moves_with_the_bucket() -> None:
    store = FakeCollections([_collector(1, ("M1",)), _collector(2, ("M1", "M2")),
                             _collector(3, ("M2",))])
    store.overdue = {1: (1, "zh-CN"), 2: (1, "zh-CN")}
    _sync(store)
    assert _assigned(store) == {1: 1, 2: 2}
    # Collector 1 gets less loaded than 2 would be; borrower 2 stays with 2 all through M1.
    for offset in range(1, 30):
        store.overdue = {1: (1 + offset, "zh-CN"), 2: (1 + offset, "zh-CN")}
        report = _sync(store, DAY + timedelta(days=offset))
        assert _assigned(store) == {1: 1, 2: 2}
        assert (report.opened, report.escalated, report.closed) == (0, 0, 0)
    # Day 31: both move to M2; collector 1 has no M2 skill, so borrower 1 changes hands.
    store.overdue = {1: (31, "zh-CN"), 2: (31, "zh-CN")}
    report = _sync(store, DAY + timedelta(days=30))
    assert report.escalated == 2
    assert _assigned(store)[1] in (2, 3) and store.cases[1].bucket == "M2"
    # The borrower 2 case left M1: it is assigned afresh, to the least loaded M2 collector.
    assert {_assigned(store)[1], _assigned(store)[2]} == {2, 3}
    # A payment brings borrower 1 back to M1 (de-escalation) and borrower 2 pays off.
    store.overdue = {1: (10, "zh-CN")}
    report = _sync(store, DAY + timedelta(days=31))
    assert (report.de_escalated, report.closed) == (1, 1)
    assert _assigned(store) == {1: 1}


def test_a_collector_losing_a_case_to_a_bucket_move_or_its_closing_loses_its_credentials(
) -> None:
    store = FakeCollections([_collector(1, ("M1",)), _collector(2, ("M2",))],
                            overdue={10: (20, "zh-CN"), 11: (20, "zh-CN")})
    revoked: list[tuple[int, str]] = []
    _sync(store, revoked=revoked)
    assert revoked == []  # new cases: nobody held them
    first, second = store.cases[10].id, store.cases[11].id
    store.overdue = {10: (20, "zh-CN"), 11: (40, "zh-CN")}
    _sync(store, revoked=revoked)
    assert revoked == [(second, "C-1")]  # moved to C-2 with the bucket; the sticky one kept
    store.overdue = {11: (40, "zh-CN")}
    _sync(store, revoked=revoked)
    assert revoked == [(second, "C-1"), (first, "C-1")]  # paid up: its case closed


def test_the_sync_holds_the_collectors_it_chooses_from_before_it_reads_the_cases() -> None:
    """A deactivation must not commit between the sync's choice of a collector and the case
    written with it: the collectors are read locked (FOR SHARE on PostgreSQL), and first, so
    the cases read after already show what a deactivation that went first released."""
    store = FakeCollections([_collector(1, ("M1",))], overdue={10: (5, "zh-CN")})
    _sync(store)
    assert store.reads == ["collectors (locked)", "cases"]
