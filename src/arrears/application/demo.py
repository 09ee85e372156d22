"""A synthetic book for the demo: borrowers with realistic behaviours, both product kinds, and
a day-by-day simulation through the real use cases (board, pay, end-of-day). A seasoned book
(`plan_book(season_months=…)`) starts with vintages disbursed monthly before the run, boarded
with their histories (`seasoning`), so every bucket, write-offs and recoveries are there from
the first day.

Deterministic: the same seed gives the same book, row for row.
"""

from __future__ import annotations

import gc
import random
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from enum import StrEnum
from typing import Any

from arrears.application import seasoning
from arrears.application.access import Role
from arrears.application.demo_history import DUE, PAYOFF, RECOVERY, Planned, amount_of
from arrears.application.handlers import eod, payments, plans, servicing
from arrears.application.handlers.payment_import import (
    NewPayment,
    PaymentImportUnitOfWork,
    PaymentImportUnitOfWorkFactory,
    same_day_events,
)
from arrears.application.handlers.same_day_payments import LoanPosted, price_same_day
from arrears.application.loan_import import LoanRow
from arrears.application.ports import (
    Borrower,
    Clock,
    ContactPerson,
    Event,
    LoanUpdate,
    Phone,
    UnitOfWorkFactory,
)
from arrears.domain.delinquency import BUCKETS, LoanStatus
from arrears.domain.errors import DomainError
from arrears.domain.loan import Payment, owed_through
from arrears.domain.schedule import add_months, due_dates

ONE_DAY = timedelta(days=1)
DISBURSEMENT_WINDOW_DAYS = 45
BOARDING, PAYMENTS, EOD, STRATEGIES, CALLS, WORKER = (
    "boarding", "payments", "EOD", "strategies", "calls", "worker")
PHASES = (BOARDING, PAYMENTS, EOD, STRATEGIES, CALLS, WORKER)
"""What a demo day does, in order (`simulate`, `collections_demo.run_day`): board the
loans disbursed that day (the seasoned book first of all), post the payments, close the day,
plan the next day's contacts (cases, promises, strategies), let the collectors call, and run
the worker."""
SEASON_MONTHS = 18
"""A seasoned book holds vintages disbursed in each of this many months before the start."""
WRITE_OFF_DPD = 270
"""The demo lender writes a loan off nine months past due, so M7+ (181+ days) holds loans."""
RECOVERY_SHARE = 0.35
"""Of the borrowers who default, this share pays something once their loan is written off."""
RECOVERY_PERCENTS = (20, 30, 50, 100)
"""What such a borrower pays, in per cent of what they owe then."""

CASH_LOAN = "WLD-DAILY"
PHONE_PLAN = "PHONE-24M"


class Behaviour(StrEnum):
    ON_TIME = "on_time"
    LATE_THEN_CURES = "late_then_cures"
    CHRONIC_LATE = "chronic_late"
    DEFAULTS = "defaults"
    PREPAYS = "prepays"


BEHAVIOUR_WEIGHTS = {
    Behaviour.ON_TIME: 55, Behaviour.LATE_THEN_CURES: 15, Behaviour.CHRONIC_LATE: 12,
    Behaviour.DEFAULTS: 8, Behaviour.PREPAYS: 10,
}
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英"
CITIES = (("Beijing", "北京市朝阳区"), ("Shanghai", "上海市浦东新区"),
          ("Guangdong", "深圳市南山区"), ("Sichuan", "成都市武侯区"), ("Hubei", "武汉市洪山区"))
MOBILE_PREFIXES = ("138", "139", "136", "137", "150", "151", "186", "187", "188")
ZH_EMAIL_SHARE = 0.2
"""Share of zh-CN borrowers who give an e-mail address; every en borrower gives one (notices
to expatriate borrowers go by e-mail)."""
# Hardship plans: a late borrower is offered one on reaching OFFER_DPD days past due (M1);
# this share accepts it, and of those this share keeps it (the others pay nothing more).
OFFER_DPD = 10
PLAN_ACCEPT_SHARE = 0.4
PLAN_KEEP_SHARE = 0.6
OFFERS = {CASH_LOAN: {"kind": "reage", "terms": 6, "treatments": {"penalty": "waive"}},
          PHONE_PLAN: {"kind": "deferral", "months": 2}}


@dataclass(frozen=True, slots=True, kw_only=True)
class PlannedLoan:
    row: LoanRow
    behaviour: Behaviour
    pay_days: tuple[date, ...]  # days the borrower pays what is due
    payoff_day: date | None
    plan: str | None = None  # offered a plan: "keep" or "break" it; None: declines
    recovery_day: date | None = None  # a defaulter pays once more, long after (written off)
    recovery_percent: int = 0  # of what they owe that day

    def payments(self) -> list[Planned]:
        """The payments the borrower means to make, in the order they make them."""
        ref = self.row.loan_ref
        made = [Planned(day=day, kind=DUE, key=payment_key(ref, day, DUE))
                for day in self.pay_days]
        if self.payoff_day is not None:
            made.append(Planned(day=self.payoff_day, kind=PAYOFF,
                                key=payment_key(ref, self.payoff_day, PAYOFF)))
        if self.recovery_day is not None:
            made.append(Planned(day=self.recovery_day, kind=RECOVERY,
                                key=payment_key(ref, self.recovery_day, RECOVERY),
                                percent=self.recovery_percent))
        return made


def payment_key(loan_ref: str, day: date, kind: str) -> str:
    return f"demo-{loan_ref}-{day.isoformat()}-{(DUE, PAYOFF, RECOVERY).index(kind)}"


def _national_id(rng: random.Random) -> str:
    """A synthetic 18-character PRC resident ID with a valid GB 11643 check character."""
    body = f"{rng.choice((110101, 310101, 440301, 510107, 420111))}" \
           f"{rng.randint(1970, 2004)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}" \
           f"{rng.randint(0, 999):03d}"
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    check = "10X98765432"[sum(int(c) * w for c, w in zip(body, weights, strict=True)) % 11]
    return body + check


def _phone(rng: random.Random) -> str:
    return f"+86{rng.choice(MOBILE_PREFIXES)}{rng.randint(0, 99_999_999):08d}"


def plan_book(loans: int, days: int, start: date, seed: int, season_months: int = 0
              ) -> list[PlannedLoan]:
    """The synthetic portfolio and each borrower's payment plan. Loans are disbursed in the
    run's first weeks; with `season_months`, most belong to vintages disbursed in each of that
    many months before `start` instead (in proportion to the days each covers), so the book
    starts with the history of a lender's running book."""
    rng = random.Random(seed)
    # A stream of its own: drawing e-mail addresses does not shift the rest of a seed's book.
    contact_rng = random.Random(f"{seed}:contact")
    plan_rng = random.Random(f"{seed}:plan")  # so are the answers to a plan offer
    vintage_rng = random.Random(f"{seed}:vintage")  # and the vintages and recoveries
    window = max(1, min(days, DISBURSEMENT_WINDOW_DAYS))
    vintages = _vintages(start, season_months, window)
    behaviours = list(BEHAVIOUR_WEIGHTS)
    weights = list(BEHAVIOUR_WEIGHTS.values())
    planned = []
    for index in range(loans):
        behaviour = rng.choices(behaviours, weights)[0]
        phone_plan = rng.random() < 0.4
        disbursed_on = start + timedelta(days=rng.randrange(window))
        if season_months:
            disbursed_on = _vintage_day(vintage_rng, vintages, disbursed_on)
        if phone_plan:
            product, terms = PHONE_PLAN, 24
            principal = rng.choice((299_900, 459_900, 599_900, 699_900, 899_900))
        else:
            product, terms = CASH_LOAN, rng.choice((5, 6, 9, 12, 18, 24))
            principal = rng.randrange(100_000, 5_000_000, 10_000)
        region, address = rng.choice(CITIES)
        name = rng.choice(SURNAMES) + rng.choice(GIVEN) + (rng.choice(GIVEN)
                                                           if rng.random() < 0.6 else "")
        borrower_ref = f"DB-{index + 1:06d}"
        national_id = _national_id(rng)
        street = f"{address}{rng.randint(1, 999)}号"
        language = "zh-CN" if rng.random() < 0.9 else "en"
        email = f"{borrower_ref.lower()}@mail.example.com" if (
            language == "en" or contact_rng.random() < ZH_EMAIL_SHARE) else ""
        borrower = Borrower(
            borrower_ref=borrower_ref, name=name, national_id=national_id, address=street,
            region=region, time_zone="Asia/Shanghai", language=language, email=email,
            phones=(Phone(number=_phone(rng), time_zone="Asia/Shanghai"),),
            contacts=(ContactPerson(name=rng.choice(SURNAMES) + rng.choice(GIVEN),
                                    relation=rng.choice(("spouse", "parent", "friend")),
                                    phone=_phone(rng)),),
            behaviour=behaviour.value,
        )
        row = LoanRow(line=index + 2, loan_ref=f"DL-{index + 1:06d}", borrower=borrower,
                      product_code=product, currency="CNY", principal=principal,
                      disbursed_on=disbursed_on, terms=terms)
        dues = due_dates(disbursed_on, terms)
        pay_days: list[date] = []
        payoff_day = None
        late_index = rng.randrange(3)
        stop_after = rng.randrange(3)
        for number, due in enumerate(dues):
            if behaviour is Behaviour.DEFAULTS and number >= stop_after:
                break
            delay = -rng.randint(0, 3)  # on time: on the due date or on an earlier reminder
            if behaviour is Behaviour.CHRONIC_LATE:
                delay = rng.randint(3, 25)
            elif behaviour is Behaviour.LATE_THEN_CURES and number == late_index:
                delay = rng.randint(5, 45)
            pay_days.append(due + timedelta(days=delay))
        if behaviour is Behaviour.PREPAYS:
            payoff_day = dues[0] + timedelta(days=rng.randint(1, 60))
        accepts = plan_rng.random() < PLAN_ACCEPT_SHARE
        keeps = plan_rng.random() < PLAN_KEEP_SHARE
        recovery_day, recovery_percent = None, 0
        if behaviour is Behaviour.DEFAULTS and stop_after < terms and \
                vintage_rng.random() < RECOVERY_SHARE:
            recovery_day = dues[stop_after] + timedelta(
                days=WRITE_OFF_DPD + vintage_rng.randint(15, 120))
            recovery_percent = vintage_rng.choice(RECOVERY_PERCENTS)
        planned.append(PlannedLoan(row=row, behaviour=behaviour,
                                   pay_days=tuple(sorted(set(pay_days))),
                                   payoff_day=payoff_day,
                                   plan=("keep" if keeps else "break") if accepts else None,
                                   recovery_day=recovery_day,
                                   recovery_percent=recovery_percent))
    return planned


def _vintages(start: date, months: int, window: int) -> tuple[list[date], list[int]]:
    """(first day, days) of the run's disbursement window and of each of the `months`
    calendar months before `start`'s."""
    first = start.replace(day=1)
    starts = [start, *(add_months(first, -back) for back in range(1, months + 1))]
    return starts, [window, *((add_months(day, 1) - day).days for day in starts[1:])]


def _vintage_day(rng: random.Random, vintages: tuple[list[date], list[int]], in_run: date
                 ) -> date:
    """A disbursement date: `in_run` (in the run's window), or a day of one of the months
    before it, each month as likely as the days it has."""
    starts, sizes = vintages
    back = rng.choices(range(len(starts)), sizes)[0]
    return in_run if back == 0 else starts[back] + timedelta(days=rng.randrange(sizes[back]))


@dataclass(frozen=True, slots=True, kw_only=True)
class DemoResult:
    start: date
    through: date
    payments_posted: int
    plans: dict[str, dict[str, int]] = field(default_factory=dict)
    """kind -> proposed, approved, kept, broken."""
    cure_rates: dict[str, str] = field(default_factory=dict)
    """Of the loans that reached OFFER_DPD: the share current or settled at the end, with a
    plan and without one."""


YOUNG_OBJECTS_PER_COLLECTION = 50_000
"""The cycle collector's first threshold during a simulation (CPython's default: 700)."""


@contextmanager
def _collections_spaced() -> Iterator[None]:
    """CPython's cycle collector run less often while the book is simulated. Every day
    allocates millions of short-lived objects (loan states, rows, rendered messages, compliance
    facts) that reference counting frees; at the default thresholds the collector also walks
    the survivors again and again, which measured as 15 % of the demo's CPU time (1 % at this
    threshold). Cycles are still collected, a few dozen times a run instead of thousands."""
    before = gc.get_threshold()
    gc.set_threshold(YOUNG_OBJECTS_PER_COLLECTION, 20, 20)
    try:
        yield
    finally:
        gc.set_threshold(*before)


@_collections_spaced()
def simulate(
    planned: list[PlannedLoan], start: date, days: int, products: dict[str, dict[str, Any]], *,
    uow_factory: UnitOfWorkFactory, paying: PaymentImportUnitOfWorkFactory, clock: Clock,
    write_off_dpd: int, on_day: Callable[[date], None] = lambda _: None,
    engine: str = eod.SCALAR, close_batch: eod.BatchCloser | None = None,
    eod_batch_size: int = eod.BATCH_SIZE, plan_policies: dict[str, Any] | None = None,
    seasoned: Callable[[], seasoning.SeasoningUnitOfWork] | None = None,
    on_phase: Callable[[str], None] = lambda _: None,
) -> DemoResult:
    """Run the book from `start` for `days` business dates: board, pay, offer plans (with
    `plan_policies`), close each day. Loans disbursed before `start` are boarded first with
    their histories (`seasoning.board`, on the units of work of `seasoned`); payments are
    posted on the units of work of `paying`, which price a plain loan's payment as a payment
    file's row. `on_phase` is told each phase as it begins (`PHASES`)."""
    servicing.init_book(start, products, uow_factory=uow_factory)
    offers = _PlanOffers(planned, uow_factory=uow_factory, clock=clock)
    if plan_policies is not None:
        plans.set_policies(plan_policies, uow_factory=uow_factory)
    loan_ids = _LoanIds(len(planned))
    history = [(p.row, p.payments()) for p in planned if p.row.disbursed_on < start]
    if history:
        if seasoned is None:
            raise ValueError("loans disbursed before the start need a book that takes their "
                             "histories (`seasoned`)")
        on_phase(BOARDING)
        seasoning.board(history, start - ONE_DAY, write_off_dpd, uow_factory=seasoned,
                        clock=clock)
        loan_ids.refresh(uow_factory)
    boarding: dict[date, list[LoanRow]] = defaultdict(list)
    due_by_day: dict[date, list[tuple[str, Planned]]] = defaultdict(list)
    for plan in planned:
        boarding[plan.row.disbursed_on].append(plan.row)
        for payment in plan.payments():
            due_by_day[payment.day].append((plan.row.loan_ref, payment))
    posted = 0
    last = start + timedelta(days=days - 1)
    day = start
    while day <= last:
        if boarding[day]:
            on_phase(BOARDING)
            loan_ids.ids.update(servicing.board_rows(boarding[day], uow_factory=uow_factory,
                                                     clock=clock).ids)
        on_phase(PAYMENTS)
        if plan_policies is not None:
            offers.offer(day)
        posted += _pay_day(offers.payments(due_by_day[day], day), day, loan_ids,
                           uow_factory=paying, clock=clock)
        on_phase(EOD)
        eod.run_eod(day, uow_factory=uow_factory, clock=clock, write_off_dpd=write_off_dpd,
                    engine=engine, close_batch=close_batch, batch_size=eod_batch_size)
        on_day(day)
        day += ONE_DAY
    return DemoResult(start=start, through=last, payments_posted=posted,
                      plans=offers.counts(), cure_rates=offers.cure_rates())


class _LoanIds:
    """The book's database id of each of the demo's loan ids: read once the seasoned book is
    boarded, then told by each day's boarding."""

    def __init__(self, loans: int) -> None:
        self.loans = loans
        self.ids: dict[str, int] = {}

    def refresh(self, uow_factory: UnitOfWorkFactory) -> None:
        with uow_factory() as uow:
            rows = uow.reports.loan_list(status=None, bucket=None, product=None, borrower=None,
                                         limit=self.loans)
        self.ids = {row.loan_ref: row.id for row in rows}


def _pay_day(due: list[tuple[str, Planned]], day: date, loan_ids: _LoanIds, *,
             uow_factory: PaymentImportUnitOfWorkFactory, clock: Clock) -> int:
    """The day's payments (loan id, payment) in one unit of work, each priced and written as
    `payments.post_payment` prices and writes it: what a borrower pays is read off the loan as
    the payments before it that day left it. A loan paying once, what it owes or the next
    installment ahead, is priced on its plain rows as a payment file's row is
    (`same_day_payments`); any other loan whole.
    Returns the number posted."""
    if not due:
        return 0
    at = clock.now()
    with uow_factory() as uow:
        book = uow.book
        quick = _priced_same_day(uow, due, day)
        loans = {b.loan.loan_id: b for b in book.get_many(
            sorted({loan_ids.ids[ref] for ref, _ in due if ref not in quick}), for_update=True)}
        paid: list[NewPayment] = []
        updates: list[LoanUpdate] = []
        events: list[Event] = []
        for loan_ref, planned in due:
            posted = quick.get(loan_ref)
            if posted is not None:
                events += same_day_events(posted.snapshot, posted.postings[0], day, at)
                paid.append(NewPayment(loan_id=posted.snapshot.id,
                                       applied=posted.postings[0].applied, recovery=False))
                continue
            booked = loans[loan_ref]
            amount = amount_of(booked.loan, eod.current_state(booked, day - ONE_DAY), planned)
            if amount <= 0:
                continue
            payment = Payment(key=planned.key, on=day, amount=amount)
            # Dated the open day, a payment is applied to the stored state: nothing replays.
            posting = payments.price(booked, payment, day, lambda: [], at)
            paid.append(NewPayment(loan_id=booked.id, applied=posting.applied,
                                   recovery=posting.recovery))
            updates.append(posting.moved.update)
            events += [*posting.moved.events, posting.event]
            update = posting.moved.update
            loans[loan_ref] = replace(booked, state=posting.state, status=update.status,
                                      dpd=update.dpd, bucket=update.bucket)
        uow.payment_imports.add_payments(paid, at)
        book.apply(updates)
        uow.payment_imports.write_same_day(list(quick.values()), day)
        book.emit(events)
        uow.commit()
    return len(paid)


def _priced_same_day(uow: PaymentImportUnitOfWork, due: list[tuple[str, Planned]], day: date
                     ) -> dict[str, LoanPosted]:
    """The loans paying once today exactly what they owe through today, or the next
    installment ahead, priced on their plain rows; a loan `price_same_day` does not price (a
    plan, credit held, …) is left out."""
    times = Counter(loan_ref for loan_ref, _ in due)
    once = {loan_ref: planned for loan_ref, planned in due
            if times[loan_ref] == 1 and planned.kind == DUE}
    products = uow.book.products()
    # Every loan paying today is read, so that all of them are locked here, in one statement
    # and in id order as every writer locks loans; the whole-loan reads find them locked.
    snapshots = uow.payment_imports.snapshots(sorted(times), day)
    quick: dict[str, LoanPosted] = {}  # in the day's order, as they are written
    for loan_ref, planned in once.items():
        snapshot = snapshots[loan_ref]
        product = products[snapshot.product_code]
        # `amount_of`: `due_on` (the installments the snapshot leaves out owe nothing), or
        # with nothing due, the next installment paid ahead (when the first after today is
        # paid already, the one the borrower pays is read off the whole loan).
        amount = owed_through(snapshot.rows, product, day) or snapshot.ahead_owed
        posted = price_same_day(snapshot, product, [(planned.key, amount)], day) \
            if amount else None
        if posted is not None:
            quick[loan_ref] = posted
    return quick


class _PlanOffers:
    """The demo's hardship plans: offered to late borrowers who would accept one, approved by
    a supervisor; a borrower keeping it pays each installment on its due date, one breaking it
    pays nothing more."""

    def __init__(self, planned: list[PlannedLoan], *, uow_factory: UnitOfWorkFactory,
                 clock: Clock) -> None:
        self.answers = {p.row.loan_ref: p.plan for p in planned}
        self.uow_factory = uow_factory
        self.clock = clock
        self.reached: set[str] = set()  # loans that reached OFFER_DPD
        self.under_plan: dict[str, bool] = {}  # loan -> keeps it
        self.due: dict[date, list[str]] = defaultdict(list)  # a keeper's plan due dates

    def offer(self, day: date) -> None:
        with self.uow_factory() as uow:
            late = [row for row in uow.reports.loan_list(
                status=LoanStatus.OVERDUE.value, bucket="M1", product=None, borrower=None,
                limit=len(self.answers)) if row.dpd == OFFER_DPD]
        for row in late:
            self.reached.add(row.loan_ref)
            answer = self.answers.get(row.loan_ref)
            if answer is None or row.loan_ref in self.under_plan:
                continue
            try:
                shown = plans.propose(row.loan_ref, OFFERS[row.product_code],
                                      proposed_by="strategy", uow_factory=self.uow_factory,
                                      clock=self.clock)
                plans.approve(shown["plan_id"], by="S-DEMO", role=Role.SUPERVISOR,
                              uow_factory=self.uow_factory, clock=self.clock)
            except DomainError:
                continue  # the policy refuses this loan a plan: it goes on being collected
            self.under_plan[row.loan_ref] = answer == "keep"
            if answer == "keep":
                for due in (date.fromisoformat(r["due_date"]) for r in shown["new_schedule"]):
                    self.due[max(due, day)].append(row.loan_ref)

    def payments(self, scheduled: list[tuple[str, Planned]], day: date
                 ) -> list[tuple[str, Planned]]:
        """The day's payments: a borrower under a plan pays by the plan, not as before."""
        kept = [(loan, Planned(day=day, kind=DUE, key=payment_key(loan, day, DUE)))
                for loan in self.due[day]]
        return [(loan, planned) for loan, planned in scheduled
                if loan not in self.under_plan] + kept

    def counts(self) -> dict[str, dict[str, int]]:
        with self.uow_factory() as uow:
            found = uow.plans.counts()
        kinds: dict[str, dict[str, int]] = {}
        for (kind, status), count in sorted(found.items()):
            figures = kinds.setdefault(kind, dict.fromkeys(
                ("proposed", "approved", "kept", "broken"), 0))
            figures["proposed"] += count
            if status in ("approved", "kept", "broken"):
                figures["approved"] += count
            if status in ("kept", "broken"):
                figures[status] += count
        return kinds

    def cure_rates(self) -> dict[str, str]:
        with self.uow_factory() as uow:
            rows = uow.reports.loan_list(status=None, bucket=None, product=None, borrower=None,
                                         limit=len(self.answers))
        cured = {row.loan_ref for row in rows if row.dpd == 0}
        with_plan = set(self.under_plan)
        without = self.reached - with_plan

        def rate(loans: set[str]) -> str:
            return f"{len(loans & cured) / len(loans):.4f}" if loans else "0.0000"

        return {"with_plan": rate(with_plan), "without_plan": rate(without)}


def roll_rates(moves: list[tuple[str, str, int]], at_start: Mapping[str, int]
               ) -> dict[str, str]:
    """Of the loans in a bucket over a run (there at its start, `at_start` by bucket, or
    entering it, `moves`), the share that rolled on to the next one, e.g. "M1→M2": each roll
    out of a bucket follows a stay in it, so a share is at most 1 (a loan that entered twice
    counts twice)."""
    entered: dict[str, int] = defaultdict(int, at_start)
    rolled: dict[str, int] = defaultdict(int)
    order = [b.value for b in BUCKETS]
    for source, target, count in moves:
        entered[target] += count
        if source in order[1:-1] and order.index(target) == order.index(source) + 1:
            rolled[source] += count
    return {f"{b}→{order[i + 1]}": f"{rolled[b] / entered[b]:.4f}" if entered[b] else "0.0000"
            for i, b in enumerate(order[1:-1], start=1)}
