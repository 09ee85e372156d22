"""The strategy simulator: two collection strategies (the TOML files `application.strategy`
reads) run over the same synthetic overdue book, with a borrower-response model as data
(`borrower_response`), and compared over seeded runs with 95 % confidence intervals.

In memory and deterministic: run r of seed s builds its book from `Random("s:r:book")`, and
each loan draws from streams of its own (`s:r:<loan>:cure` for paying unprompted,
`s:r:<loan>:response` for answering contacts), so one strategy run twice gives the same
figures, and two strategies meet the same borrowers with the same unprompted payments.

Each day, for each loan still overdue: a promise falling due is paid (or lapses), the
borrower may pay unprompted, then the strategy's steps for the loan's days past due fire at
the strategy's send time, with any contact rescheduled to that day and the agency's call if
the loan is placed. The compliance engine of the product's jurisdiction decides every
contact, with the borrower's earlier contacts in the simulation as history and the channels
they opted out of (after complaining) as preferences, exactly as `handlers.collections` asks
it; a refused contact with a next allowed time is tried once more then, as the strategy runner
reschedules it. A payment clears everything overdue and the loan leaves the book; at
`WRITE_OFF_DPD` days past due it is written off.
"""

from __future__ import annotations

import heapq
import random
import statistics
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from arrears.application.borrower_response import CURRENCY, ResponseModel
from arrears.application.contacts import (
    CHANNEL_KINDS,
    CONTACT_POINTS,
    LENDER,
    Debtor,
    Preferences,
    contact_action,
)
from arrears.application.loan_file import money_text
from arrears.application.strategy import Step, StepKind, Strategy
from arrears.compliance import engine as compliance_engine
from arrears.compliance.facts import Attempt, ContactPoint, Debt, OptOut, Outcome
from arrears.compliance.model import (
    ActionKind,
    Actor,
    ActorKind,
    Decision,
    FieldVisit,
    Pack,
    Purpose,
)
from arrears.domain.delinquency import WRITE_OFF_DPD
from arrears.domain.delinquency import bucket as bucket_of
from arrears.domain.money import Money

START = date(2026, 3, 2)
"""The first simulated business date (a Monday)."""
ZONE = "Asia/Shanghai"
HISTORY_DAYS = 35
"""Contacts this far back are the engine's history (as `contact_decisions.HISTORY_DAYS`)."""
FATIGUE_DAYS = 7
AGENCY = Actor(actor_id="agency:AG-SIM", kind=ActorKind.AGENCY, organisation="AG-SIM")
AGENCY_CALL_AT = time(14, 0)
POINTS = (ContactPoint(id="mobile", kind="cell", zone=ZONE), ContactPoint(id="email", kind="email"),
          ContactPoint(id="address", kind="address"), ContactPoint(id="app", kind="app"))
AGENCY_CALL = "agency_call"
"""An event of the simulation, not a strategy step: the agency's own call on a placed loan."""
MESSAGE_STEPS = {StepKind.SMS, StepKind.EMAIL, StepKind.APP_PUSH, StepKind.CALL,
                 StepKind.LETTER}
T_95 = ((1, "12.706"), (2, "4.303"), (3, "3.182"), (4, "2.776"), (5, "2.571"), (6, "2.447"),
        (7, "2.365"), (8, "2.306"), (9, "2.262"), (10, "2.228"), (12, "2.179"), (15, "2.131"),
        (20, "2.086"), (25, "2.060"), (30, "2.042"), (40, "2.021"), (60, "2.000"),
        (120, "1.980"))
"""Two-sided 95 % quantiles of Student's t by degrees of freedom; between two rows the
smaller degrees of freedom is used (a slightly wider interval)."""
FIGURE_QUANTUM = Decimal("0.01")
RATIO_QUANTUM = Decimal("0.0001")


@dataclass(frozen=True, slots=True, kw_only=True)
class SimLoan:
    ref: str
    balance: int
    """Principal outstanding, minor units."""
    installment: int
    dpd: int
    """Days past due on the first simulated date."""

    def overdue(self, dpd: int) -> int:
        """One installment for every month (or part) past due, at most the balance."""
        return min(self.balance, self.installment * ((dpd - 1) // 30 + 1))


def synthetic_book(model: ResponseModel, loans: int, rng: random.Random) -> tuple[SimLoan, ...]:
    shape = model.book
    buckets = [b for b, w in shape.dpd_weights.items() if w]
    weights = [shape.dpd_weights[b] for b in buckets]
    book = []
    for index in range(loans):
        first = int(rng.choices(buckets, weights)[0][1:]) * 30 - 29  # M1 … M6
        dpd = rng.randint(first, first + 29)
        balance = rng.randint(shape.balance_min, shape.balance_max)
        installment = max(1, int((Decimal(balance) * shape.installment_share)
                                 .quantize(Decimal(1), ROUND_HALF_UP)))
        book.append(SimLoan(ref=f"SIM-{index + 1:06d}", balance=balance,
                            installment=installment, dpd=dpd))
    return tuple(book)


@dataclass(slots=True)
class RunResult:
    """One strategy's figures over one run; money in minor units."""

    recovered: int = 0
    cost: int = 0
    contacts: int = 0
    blocked: int = 0
    blocked_by_rule: Counter[str] = field(default_factory=Counter)
    expected_complaints: float = 0.0
    promises_made: int = 0
    promises_kept: int = 0
    placements: int = 0
    paid: int = 0
    written_off: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class Setting:
    """What every loan of a run shares."""

    strategy: Strategy
    model: ResponseModel
    pack: Pack
    reminder_days: tuple[int, ...]
    days: int
    stream: str
    """The run's seed prefix for the loans' random streams."""


def _commission(amount: int, rate: Decimal) -> int:
    return int((Decimal(amount) * rate).quantize(Decimal(1), ROUND_HALF_UP))


class _Borrower:
    """One loan's borrower through the simulated days."""

    def __init__(self, loan: SimLoan, setting: Setting, result: RunResult) -> None:
        self.loan = loan
        self.setting = setting
        self.result = result
        self.zone = ZoneInfo(ZONE)
        self.cure = random.Random(f"{setting.stream}:{loan.ref}:cure")
        self.response = random.Random(f"{setting.stream}:{loan.ref}:response")
        self.history: list[Attempt] = []
        self.opt_outs: list[OptOut] = []
        self.retries: list[tuple[datetime, int, str]] = []
        self.promise_due: date | None = None
        self.promise_kept = False
        self.placed_until: date | None = None
        self.arm = setting.strategy.arm_of(loan.ref)

    def live(self) -> None:
        setting, model = self.setting, self.setting.model
        for offset in range(setting.days):
            day = START + timedelta(days=offset)
            dpd = self.loan.dpd + offset
            if dpd >= WRITE_OFF_DPD:
                self.result.written_off += 1
                return
            bucket = bucket_of(dpd).value
            if self.promise_due == day:
                self.promise_due = None
                if self.promise_kept:
                    self.result.promises_kept += 1
                    self._pay(day, dpd)
                    return
            if self.cure.random() < model.self_cure[bucket]:
                self._pay(day, dpd)
                return
            for at, kind, retry in self._events(day, dpd):
                self._act(kind, at, dpd, retry)

    def _events(self, day: date, dpd: int) -> list[tuple[datetime, str, bool]]:
        strategy = self.setting.strategy
        planned = datetime.combine(day, strategy.send_time, self.zone)
        events = [(planned, step.kind.value, False) for step in strategy.steps_for(
            self.arm, dpd, self.setting.reminder_days) if self._wanted(step)]
        end = datetime.combine(day + timedelta(days=1), time(0), self.zone)
        while self.retries and self.retries[0][0] < end:
            at, _, kind = heapq.heappop(self.retries)
            events.append((at, kind, True))
        if self.placed_until is not None and day <= self.placed_until and \
                self.response.random() < self.setting.model.agency_daily_call:
            events.append((datetime.combine(day, AGENCY_CALL_AT, self.zone), AGENCY_CALL,
                           False))
        return sorted(events, key=lambda e: e[0])

    def _wanted(self, step: Step) -> bool:
        """A placement step for a loan already placed does nothing."""
        return not (step.kind is StepKind.AGENCY_PLACEMENT and self.placed_until is not None)

    def _debtor(self, dpd: int, at: datetime) -> Debtor:
        since = at - timedelta(days=HISTORY_DAYS)
        return Debtor(person_id=self.loan.ref, zones=(ZONE,), points=POINTS,
                      debts=(Debt(debt_id=self.loan.ref,
                                  balance=Money.from_minor(self.loan.balance, CURRENCY),
                                  dpd=dpd),),
                      attempts=tuple(a for a in self.history if since <= a.at <= at),
                      preferences=Preferences(opt_outs=tuple(self.opt_outs)))

    def _decide(self, kind: ActionKind, at: datetime, dpd: int, actor: Actor,
                visit: FieldVisit | None = None) -> Decision:
        debtor = self._debtor(dpd, at)
        action = contact_action(kind, debtor, point=CONTACT_POINTS.get(kind, "address"),
                                actor=actor,
                                purpose=Purpose.REMINDER if dpd <= 0 else Purpose.COLLECTION,
                                visit=visit)
        facts = debtor.facts(agency_whitelist=(AGENCY.organisation,))
        return compliance_engine.decide(action, facts, self.setting.pack, at)

    def _act(self, kind: str, at: datetime, dpd: int, retry: bool) -> None:
        if kind == StepKind.AGENCY_PLACEMENT.value:
            decision = self._decide(ActionKind.LETTER, at, dpd, AGENCY)
            if self._allowed(decision, kind, retry):
                step_days = self.setting.strategy.placement_days
                self.placed_until = at.date() + timedelta(days=step_days)
                self.result.placements += 1
                self.result.cost += self.setting.model.agency_fixed_fee
            return
        if kind == AGENCY_CALL:
            action_kind, channel, actor, visit = ActionKind.CALL, "call", AGENCY, None
        elif kind == StepKind.LEGAL_REVIEW.value:
            action_kind, channel, actor, visit = ActionKind.LEGAL_ACTION, kind, LENDER, None
        elif kind == StepKind.FIELD_VISIT.value:
            # The synthetic book holds no written visit authorization (CN-9): the engine
            # decides whether a visit may go ahead without one.
            action_kind, channel, actor = ActionKind.FIELD_VISIT, kind, LENDER
            visit = FieldVisit(collector_ids=(), recording=True)
        else:
            action_kind, channel, actor, visit = CHANNEL_KINDS[kind], kind, LENDER, None
        decision = self._decide(action_kind, at, dpd, actor, visit)
        if self._allowed(decision, kind, retry):
            self._contact(channel, action_kind, at, dpd, actor)

    def _allowed(self, decision: Decision, kind: str, retry: bool) -> bool:
        if decision.allowed:
            return True
        self.result.blocked += 1
        self.result.blocked_by_rule.update(v.rule_id for v in decision.violations)
        if decision.next_allowed_at is not None and not retry:
            heapq.heappush(self.retries, (decision.next_allowed_at, len(self.retries), kind))
        return False

    def _contact(self, channel: str, kind: ActionKind, at: datetime, dpd: int,
                 actor: Actor) -> None:
        model, result, draw = self.setting.model, self.result, self.response.random
        response = model.channels[channel]
        bucket = bucket_of(dpd).value
        result.contacts += 1
        result.cost += response.cost
        week = at - timedelta(days=FATIGUE_DAYS)
        recent = sum(1 for a in self.history if week <= a.at < at)
        complaint = min(1.0, response.complaint * (1 + model.complaint_fatigue * recent))
        result.expected_complaints += complaint
        reached = draw() < response.right_party[bucket]
        voice = kind in (ActionKind.CALL, ActionKind.FIELD_VISIT)
        outcome = Outcome.CONVERSATION if reached else (
            Outcome.UNANSWERED if voice else Outcome.SENT)
        self.history.append(Attempt(
            at=at, channel=kind, actor_id=actor.actor_id, organisation=actor.organisation,
            person_id=self.loan.ref, debt_ids=(self.loan.ref,), outcome=outcome,
            contact_point=CONTACT_POINTS.get(kind, "address"), purpose=Purpose.COLLECTION))
        if draw() < complaint:
            self.opt_outs.append(OptOut(person_id=self.loan.ref, channel=kind, at=at,
                                        contact_point=CONTACT_POINTS.get(kind, "address")))
        if reached and self.promise_due is None and draw() < response.promise[bucket]:
            result.promises_made += 1
            self.promise_kept = draw() < model.kept[bucket]
            self.promise_due = at.date() + timedelta(
                days=self.response.randint(1, model.pay_within_days))

    def _pay(self, day: date, dpd: int) -> None:
        amount = self.loan.overdue(dpd)
        self.result.recovered += amount
        self.result.paid += 1
        if self.placed_until is not None and day <= self.placed_until:
            self.result.cost += _commission(amount, self.setting.model.agency_commission_rate)


def run_strategy(book: Sequence[SimLoan], setting: Setting) -> RunResult:
    result = RunResult()
    for loan in book:
        _Borrower(loan, setting, result).live()
    return result


# --- comparison over runs -------------------------------------------------------------------


METRICS: tuple[tuple[str, Callable[[RunResult], Decimal], bool], ...] = (
    ("recovered", lambda r: Decimal(r.recovered), True),
    ("cost", lambda r: Decimal(r.cost), True),
    ("cost_per_yuan_recovered", lambda r: (Decimal(r.cost) / Decimal(r.recovered)
                                           if r.recovered else Decimal(0)), False),
    ("contacts", lambda r: Decimal(r.contacts), False),
    ("contacts_blocked", lambda r: Decimal(r.blocked), False),
    ("expected_complaints", lambda r: Decimal(repr(r.expected_complaints)), False),
    ("promises_made", lambda r: Decimal(r.promises_made), False),
    ("promises_kept", lambda r: Decimal(r.promises_kept), False),
    ("agency_placements", lambda r: Decimal(r.placements), False),
    ("loans_paid", lambda r: Decimal(r.paid), False),
    ("loans_written_off", lambda r: Decimal(r.written_off), False),
)
"""(name, figure of a run, whether it is money in minor units)."""


def t_quantile(degrees: int) -> Decimal:
    chosen = T_95[0][1]
    for df, value in T_95:
        if df <= degrees:
            chosen = value
    return Decimal(chosen)


def interval(values: Sequence[Decimal]) -> tuple[Decimal, Decimal | None]:
    """(mean, half-width of its 95 % confidence interval; None for a single run)."""
    mean = sum(values, Decimal(0)) / len(values)
    if len(values) < 2:
        return mean, None
    spread = statistics.stdev(values)
    return mean, t_quantile(len(values) - 1) * spread / Decimal(len(values)).sqrt()


def _figure(value: Decimal, money: bool, ratio: bool) -> str:
    if money:
        return money_text(int(value.quantize(Decimal(1), ROUND_HALF_UP)), CURRENCY)
    return str(value.quantize(RATIO_QUANTUM if ratio else FIGURE_QUANTUM, ROUND_HALF_UP))


def summarise(values: Sequence[Decimal], money: bool, ratio: bool) -> dict[str, Any]:
    mean, half = interval(values)
    return {"mean": _figure(mean, money, ratio),
            "ci95": None if half is None else [_figure(mean - half, money, ratio),
                                                 _figure(mean + half, money, ratio)]}


def compare(runs: Sequence[tuple[RunResult, RunResult]]) -> dict[str, Any]:
    """The figures of both strategies over the runs, and the challenger's difference."""
    document: dict[str, Any] = {"strategy": {}, "challenger": {}, "difference": {}}
    for name, figure, money in METRICS:
        ratio = name == "cost_per_yuan_recovered"
        first = [figure(a) for a, _ in runs]
        second = [figure(b) for _, b in runs]
        document["strategy"][name] = summarise(first, money, ratio)
        document["challenger"][name] = summarise(second, money, ratio)
        document["difference"][name] = summarise(
            [b - a for a, b in zip(first, second, strict=True)], money, ratio)
    for side, index in (("strategy", 0), ("challenger", 1)):
        rules = sorted({rule for pair in runs for rule in pair[index].blocked_by_rule})
        document[side]["blocked_by_rule"] = {
            rule: str((Decimal(sum(pair[index].blocked_by_rule[rule] for pair in runs))
                       / len(runs)).quantize(FIGURE_QUANTUM, ROUND_HALF_UP))
            for rule in rules}
    return document


def simulate(strategy: Strategy, challenger: Strategy, *, model: ResponseModel, pack: Pack,
             reminder_days: tuple[int, ...], loans: int, days: int, seed: int, runs: int
             ) -> dict[str, Any]:
    """Both strategies over `runs` seeded books; figures are means over the runs with 95 %
    confidence intervals (money as decimal strings)."""
    pairs = []
    for run in range(runs):
        stream = f"{seed}:{run}"
        book = synthetic_book(model, loans, random.Random(f"{stream}:book"))
        first, second = (run_strategy(book, Setting(
            strategy=chosen, model=model, pack=pack, reminder_days=reminder_days, days=days,
            stream=stream)) for chosen in (strategy, challenger))
        pairs.append((first, second))
    document = compare(pairs)
    document["strategy"]["name"] = strategy.name
    document["challenger"]["name"] = challenger.name
    return {"loans": loans, "days": days, "runs": runs, "seed": seed,
            "start": START.isoformat(), "currency": CURRENCY, **document}
