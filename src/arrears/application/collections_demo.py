"""Collections in the demo: after each day's EOD, sync cases, plan the next day's actions and
deliver what is due to local sinks; and the summary the demo prints.

The lead wires these into `arrears demo`:

    collections_demo.setup(uow_factory=...)                       # collectors and agencies
    collections_demo.run_day(day, uow_factory=..., clock=..., renderer=..., channels=...)
    collections_demo.summary(uow_factory=...)  # messages_by_channel, blocked_by_rule, …
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from arrears.application import notifications
from arrears.application.handlers import casework
from arrears.application.handlers import collections as handlers
from arrears.application.notifications import Channel, DeliveryPolicy
from arrears.application.ports import Clock, Renderer, UnitOfWork
from arrears.application.strategy import Strategy

DEMO_COLLECTORS = (
    ("C-01", "王敏", ("zh-CN",), ("M1",), 400),
    ("C-02", "李强", ("zh-CN", "en"), ("M1", "M2"), 400),
    ("C-03", "张静", ("zh-CN",), ("M2", "M3"), 300),
    ("C-04", "Chen Li", ("en",), ("M1", "M2", "M3"), 200),
    ("C-05", "刘洋", ("zh-CN", "en"), ("M3", "M4", "M5", "M6", "M7+"), 300),
)


def setup(*, uow_factory: Callable[[], UnitOfWork], start: date) -> None:
    """Collectors and two licensed agencies (one whitelisted, one not) for the demo book."""
    with uow_factory() as uow:
        if uow.collections.collectors():
            return
        for ref, name, languages, buckets, capacity in DEMO_COLLECTORS:
            uow.collections.add_collector(ref, name, languages, buckets, capacity)
        uow.commit()
    handlers.add_agency(handlers.Agency(
        agency_ref="AG-HUAXIN", name="华信资产管理有限公司", licence_no="JR-2025-0131",
        licence_valid_from=start - timedelta(days=365),
        licence_valid_until=start + timedelta(days=730), whitelisted=True, capacity=500,
        commission_rate=Decimal("0.12"), fixed_fee=2000), jurisdiction="CN",
        uow_factory=uow_factory)
    handlers.add_agency(handlers.Agency(
        agency_ref="AG-UNLISTED", name="某未公示机构", licence_no="JR-2024-0999",
        licence_valid_from=start - timedelta(days=365),
        licence_valid_until=start + timedelta(days=730), whitelisted=False, capacity=500,
        commission_rate=Decimal("0.10"), fixed_fee=1000), jurisdiction="CN",
        uow_factory=uow_factory)


DEMO_POLICY = DeliveryPolicy(batch_size=500)


class _DayClock:
    """The demo's clock for the worker: the planned date at a given local wall time."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at


@dataclass(frozen=True, slots=True, kw_only=True)
class DayReport:
    strategies: dict[str, Any]
    cases: handlers.CaseReport
    promises: casework.PromiseReport
    delivered: int


def run_day(
    day: date,
    *,
    uow_factory: Callable[[], UnitOfWork],
    clock: Clock,
    renderer: Renderer,
    channels: Mapping[str, Channel],
    strategies: dict[str, Strategy] | None = None,
    zone: str = "Asia/Shanghai",
    deliver_at: tuple[time, ...] = (time(10, 0), time(10, 30), time(15, 0)),
    policy: DeliveryPolicy = DEMO_POLICY,
) -> DayReport:
    """After EOD of `day`: settle promises to pay, recount agency recoveries, sync cases,
    plan the next date's actions, then run the worker at the next date's sending times (a
    simulated clock) so the messages reach the sinks."""
    promises = casework.evaluate_promises(day, uow_factory=uow_factory)
    casework.refresh_recoveries(day, uow_factory=uow_factory)
    cases = handlers.sync_cases(day, uow_factory=uow_factory)
    report = handlers.run_strategies(day, uow_factory=uow_factory, clock=clock,
                                     renderer=renderer, strategies=strategies)
    delivered = 0
    tz = ZoneInfo(zone)
    for wall in deliver_at:
        worker_clock = _DayClock(datetime.combine(day + timedelta(days=1), wall, tz))
        for batch in notifications.drain(uow_factory=uow_factory, channels=channels,
                                         clock=worker_clock, worker="demo", policy=policy):
            delivered += batch.delivered
    return DayReport(strategies=report.document(), cases=cases, promises=promises,
                     delivered=delivered)


def collections_summary_in(uow: UnitOfWork) -> dict[str, Any]:
    return uow.collections.summary()


def summary(*, uow_factory: Callable[[], UnitOfWork]) -> dict[str, Any]:
    """`messages_by_channel` ({channel: {status: n}}), `blocked_by_rule` ({rule id:
    {"rescheduled": n, "cancelled": n}}), `cases_by_queue` ({queue: open cases}; agency
    queues are `agency:<id>`)."""
    with uow_factory() as uow:
        return collections_summary_in(uow)
