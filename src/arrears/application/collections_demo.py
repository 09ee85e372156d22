"""Collections in the demo: after each day's EOD, sync cases, plan the next day's actions,
let the collectors work a sample of cases by hand, and deliver what is due to local sinks; and
the summary the demo prints.

`arrears demo` wires these in:

    collections_demo.setup(uow_factory=...)                       # collectors and agencies
    floor = collections_demo.Floor(seed)                          # the collectors' own calls
    collections_demo.run_day(day, uow_factory=..., clock=..., renderer=..., channels=...,
                             floor=floor)
    collections_demo.summary(uow_factory=..., floor=floor)  # messages_by_channel, blocked_by_rule…

The collectors' calls are what real operations produce: most are routine, some are dialled
outside the hours, some redial past the daily cap, some use words that cross a red line. Each
is logged through the contact-logging use case (a day's calls in one `contact_session`), so
the compliance engine decides it; a call it refuses with a next allowed time is placed again
then (rescheduled), one it refuses for good is dropped (cancelled). Now and then a borrower
opts out of SMS or asks the lender to stop (orally, calls only; or in writing), and the
collector tries once more the next day: the strategies' later texts and calls and that call
are refused by the opt-out rules.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from arrears.application import notifications
from arrears.application.demo import CALLS, STRATEGIES, WORKER
from arrears.application.handlers import casework, preferences
from arrears.application.handlers import collections as handlers
from arrears.application.handlers.contact_session import (
    Contact,
    ContactRefused,
    ContactSession,
    contact_session,
)
from arrears.application.notifications import Channel, DeliveryPolicy
from arrears.application.ports import Clock, ReadAhead, Renderer, UnitOfWork, WorkedLoan
from arrears.application.strategy import Strategy
from arrears.domain.errors import DomainError

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


ONE_DAY = timedelta(days=1)
FLOOR_CASES_PER_DAY = 12
"""Cases the collectors work by hand each day: a sample, so the number of calls does not grow
with the book."""
CLEAN_SCRIPTS = {
    "zh-CN": "您好，这里是安睿消费金融，您的本期账单已逾期，请通过 App 或官方还款账户还款。",
    "en": "Hello, this is Arrears Consumer Finance about your overdue instalment; please pay "
          "in the app or to our official account.",
}
RED_LINE_SCRIPTS = {
    "zh-CN": ("再不还钱就让你坐牢。", "不还的话我们就通知你单位。", "去别的平台借钱先还上我们。",
              "我们是法院执行局的，限你今天还款。"),
    "en": ("Pay today or you will be arrested.", "Borrow from another app and pay us today.",
           "We will tell your employer about this debt."),
}
"""What a collector under pressure says: threats, disclosure, borrowing pressure and
impersonation (CN-6, CN-7)."""
OUTCOME_WEIGHTS = {"no_answer": 35, "busy": 10, "voicemail": 15, "conversation": 40}
SESSION_WEIGHTS = {"routine": 60, "after_hours": 12, "redial": 16, "red_line": 12}
CALLBACK_DELAY_MINUTES = 45
"""A refused call is placed again within this many minutes of its next allowed time."""
STATEMENT_CHANCE = 0.4
"""The chance, each day, that one more borrower among the worked cases states a preference."""
STATEMENT_WEIGHTS = {"sms_opt_out": 50, "stop_calling": 30, "written_cease": 20}
"""Replying STOP to a text; "stop calling me" said on a call; a letter asking to stop."""


@dataclass(frozen=True, slots=True, kw_only=True)
class _Call:
    loan_ref: str
    actor: str
    outcome: str
    script: str
    callback: bool = False


@dataclass(slots=True)
class Floor:
    """The collectors' own calls over a run, drawn from a seeded sample of the open cases each
    day, and what the compliance engine made of them: `blocked` is {rule id: {"rescheduled":
    n, "cancelled": n}}. A refused call with a next allowed time is called back once then
    (rescheduled); one refused for good, or refused again on its callback, is dropped
    (cancelled)."""

    seed: int
    cases_per_day: int = FLOOR_CASES_PER_DAY
    logged: int = field(default=0, init=False)
    refused: int = field(default=0, init=False)
    blocked: dict[str, dict[str, int]] = field(default_factory=dict, init=False)
    statements: dict[str, int] = field(default_factory=dict, init=False)
    """Borrowers' preferences recorded over the run, by kind (`STATEMENT_WEIGHTS`)."""
    _rng: random.Random = field(init=False)
    _wishes: random.Random = field(init=False)
    """Separate from `_rng`, so the collectors' sessions do not depend on the statements."""
    _stated: set[str] = field(default_factory=set, init=False)
    _queue: list[tuple[datetime, int, _Call]] = field(default_factory=list, init=False)
    _placed: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        self._rng = random.Random(f"{self.seed}:floor")
        self._wishes = random.Random(f"{self.seed}:preferences")

    def work(self, on: date, *, uow_factory: Callable[[], UnitOfWork], tz: ZoneInfo) -> None:
        """Place the calls of business date `on`, in time order: the day's sampled cases and
        the callbacks that fall due on it; record what a borrower asked that day."""
        with uow_factory() as uow:
            worked = uow.collections.worked_loans(on - ONE_DAY)
        for at, call in self._sessions(on, worked, tz):
            self._push(at, call)
        self._statement(on, worked, uow_factory, tz)
        end = datetime.combine(on + ONE_DAY, time(0), tz)
        if not self._queue or self._queue[0][0] >= end:
            return
        with contact_session(uow_factory=uow_factory) as session:
            # A callback placed today is of a loan already called today.
            session.read({call.loan_ref for at, _, call in self._queue if at < end},
                         since=self._queue[0][0])
            while self._queue and self._queue[0][0] < end:
                at, _, call = heapq.heappop(self._queue)
                self._place(at, call, session)

    def _push(self, at: datetime, call: _Call) -> None:
        self._placed += 1  # the tie-breaker keeps the order of equal instants seeded
        heapq.heappush(self._queue, (at, self._placed, call))

    def _sessions(self, on: date, cases: list[WorkedLoan], tz: ZoneInfo
                  ) -> list[tuple[datetime, _Call]]:
        worked = sorted((case.loan_ref, case.collector_ref, case.language) for case in cases)
        rng = self._rng
        calls: list[tuple[datetime, _Call]] = []
        for loan_ref, actor, language in rng.sample(worked, min(self.cases_per_day,
                                                                len(worked))):
            kind = rng.choices(list(SESSION_WEIGHTS), list(SESSION_WEIGHTS.values()))[0]
            outcome = rng.choices(list(OUTCOME_WEIGHTS), list(OUTCOME_WEIGHTS.values()))[0]
            clean = CLEAN_SCRIPTS.get(language, CLEAN_SCRIPTS["zh-CN"])
            office_hours = datetime.combine(on, time(9), tz) + timedelta(
                minutes=rng.randrange(12 * 60))
            if kind == "routine":
                calls.append((office_hours, _Call(loan_ref=loan_ref, actor=actor,
                                                  outcome=outcome, script=clean)))
            elif kind == "after_hours":  # an early start or a late evening at the desk
                hour = time(7) if rng.random() < 0.5 else time(22)
                at = datetime.combine(on, hour, tz) + timedelta(minutes=rng.randrange(60))
                calls.append((at, _Call(loan_ref=loan_ref, actor=actor, outcome=outcome,
                                        script=clean)))
            elif kind == "redial":  # until the borrower gives in: past 3 connected or 6 unanswered
                outcome, tries = ("conversation", 4) if rng.random() < 0.5 else ("no_answer", 7)
                at = datetime.combine(on, time(9), tz) + timedelta(minutes=rng.randrange(6 * 60))
                for _ in range(tries):
                    calls.append((at, _Call(loan_ref=loan_ref, actor=actor, outcome=outcome,
                                            script=clean)))
                    at += timedelta(minutes=rng.randrange(15, 41))
            else:
                scripts = RED_LINE_SCRIPTS.get(language, RED_LINE_SCRIPTS["zh-CN"])
                calls.append((office_hours, _Call(loan_ref=loan_ref, actor=actor,
                                                  outcome="conversation",
                                                  script=rng.choice(scripts))))
        return calls

    def _statement(self, on: date, cases: list[WorkedLoan],
                   uow_factory: Callable[[], UnitOfWork], tz: ZoneInfo) -> None:
        """Maybe one borrower of a worked case opts out of SMS or asks to stop, during office
        hours of `on`; their collector calls once more the next morning."""
        rng = self._wishes
        if rng.random() >= STATEMENT_CHANCE:
            return
        candidates = sorted(
            (case.borrower_ref, case.loan_ref, case.collector_ref, case.language)
            for case in cases if case.borrower_ref not in self._stated)
        if not candidates:
            return
        borrower, loan_ref, actor, language = rng.choice(candidates)
        kind = rng.choices(list(STATEMENT_WEIGHTS), list(STATEMENT_WEIGHTS.values()))[0]
        at = datetime.combine(on, time(9), tz) + timedelta(minutes=rng.randrange(8 * 60))
        clock = _DayClock(at)
        if kind == "sms_opt_out":
            preferences.record_opt_out(
                borrower, channel="sms", received=preferences.Received(at=at, via="sms"),
                uow_factory=uow_factory, clock=clock)
        else:
            oral = kind == "stop_calling"
            preferences.record_cease(
                borrower, in_writing=not oral, channels=("call",) if oral else (),
                received=preferences.Received(at=at, via="phone" if oral else "letter"),
                uow_factory=uow_factory, clock=clock)
            again = datetime.combine(on + ONE_DAY, time(10), tz) + timedelta(
                minutes=rng.randrange(4 * 60))
            self._push(again, _Call(loan_ref=loan_ref, actor=actor, outcome="no_answer",
                                    script=CLEAN_SCRIPTS.get(language,
                                                             CLEAN_SCRIPTS["zh-CN"]),
                                    callback=True))
        self._stated.add(borrower)
        self.statements[kind] = self.statements.get(kind, 0) + 1

    def _place(self, at: datetime, call: _Call, session: ContactSession) -> None:
        try:
            session.log(Contact(loan_ref=call.loan_ref, actor=call.actor, channel="call",
                                outcome=call.outcome, at=at, script=call.script))
        except ContactRefused as refused:
            self.refused += 1
            again = refused.next_allowed_at is not None and not call.callback
            status = "rescheduled" if again else "cancelled"
            for rule_id in refused.rule_ids:
                entry = self.blocked.setdefault(rule_id, {"rescheduled": 0, "cancelled": 0})
                entry[status] += 1
            if again:
                assert refused.next_allowed_at is not None
                self._push(refused.next_allowed_at + timedelta(
                    minutes=self._rng.randrange(CALLBACK_DELAY_MINUTES + 1)),
                    _Call(loan_ref=call.loan_ref, actor=call.actor, outcome=call.outcome,
                          script=call.script, callback=True))
            return
        except DomainError as error:
            if error.field != "loan_id":
                raise
            return  # the case closed (the borrower paid) before a callback came due
        self.logged += 1


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
    floor: Floor | None = None,
    on_phase: Callable[[str], None] = lambda _: None,
    read_ahead: ReadAhead | None = None,
) -> DayReport:
    """After EOD of `day`: settle promises to pay, recount agency recoveries, sync cases,
    plan the next date's actions, let the `floor` place its calls of the next date, then run
    the worker at the next date's sending times (a simulated clock) so the messages reach the
    sinks. The worker takes the strategies' decisions where nothing they depend on has
    changed (`notifications.PlannedDecisions`). `on_phase` is told each phase as it begins
    (`demo.PHASES`); `read_ahead` plans the strategies' chunks ahead (`run_strategies`)."""
    on_phase(STRATEGIES)
    promises = casework.evaluate_promises(day, uow_factory=uow_factory, clock=clock)
    casework.refresh_recoveries(day, uow_factory=uow_factory)
    cases = handlers.sync_cases(day, uow_factory=uow_factory, clock=clock)
    decided = notifications.PlannedDecisions()
    report = handlers.run_strategies(day, uow_factory=uow_factory, clock=clock,
                                     renderer=renderer, strategies=strategies, decided=decided,
                                     read_ahead=read_ahead)
    tz = ZoneInfo(zone)
    if floor is not None:
        on_phase(CALLS)
        floor.work(day + ONE_DAY, uow_factory=uow_factory, tz=tz)
    on_phase(WORKER)
    delivered = 0
    for wall in deliver_at:
        worker_clock = _DayClock(datetime.combine(day + ONE_DAY, wall, tz))
        for batch in notifications.drain(uow_factory=uow_factory, channels=channels,
                                         clock=worker_clock, worker="demo", policy=policy,
                                         check=decided.check):
            delivered += batch.delivered
    return DayReport(strategies=report.document(), cases=cases, promises=promises,
                     delivered=delivered)


def collections_summary_in(uow: UnitOfWork) -> dict[str, Any]:
    return uow.collections.summary()


def summary(*, uow_factory: Callable[[], UnitOfWork], floor: Floor | None = None
            ) -> dict[str, Any]:
    """`messages_by_channel` ({channel: {status: n}}), `blocked_by_rule` ({rule id:
    {"rescheduled": n, "cancelled": n}}, planned actions and the `floor`'s calls together),
    `cases_by_queue` ({queue: open cases}; agency queues are `agency:<id>`) and, with a
    `floor`, `manual_calls` ({"logged": n, "refused": n}) and `contact_preferences` (the
    borrowers' statements recorded, {kind: n})."""
    with uow_factory() as uow:
        document = collections_summary_in(uow)
    if floor is None:
        return document
    blocked: dict[str, dict[str, int]] = document["blocked_by_rule"]
    for rule_id, counts in floor.blocked.items():
        entry = blocked.setdefault(rule_id, {"rescheduled": 0, "cancelled": 0})
        for status, count in counts.items():
            entry[status] = entry.get(status, 0) + count
    document["blocked_by_rule"] = dict(sorted(blocked.items()))
    document["manual_calls"] = {"logged": floor.logged, "refused": floor.refused}
    document["contact_preferences"] = dict(sorted(floor.statements.items()))
    return document
