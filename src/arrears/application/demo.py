"""A synthetic book for the demo: borrowers with realistic behaviours, both product kinds, and
a day-by-day simulation through the real use cases (board, pay, end-of-day).

Deterministic: the same seed gives the same book, row for row.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import Any

from arrears.application.handlers import eod, payments, servicing
from arrears.application.loan_import import LoanRow
from arrears.application.ports import Borrower, Clock, ContactPerson, Phone, UnitOfWork
from arrears.domain.delinquency import BUCKETS
from arrears.domain.loan import LoanState, due_on, summarize
from arrears.domain.schedule import due_dates

ONE_DAY = timedelta(days=1)
DISBURSEMENT_WINDOW_DAYS = 45

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


@dataclass(frozen=True, slots=True, kw_only=True)
class PlannedLoan:
    row: LoanRow
    behaviour: Behaviour
    pay_days: tuple[date, ...]  # days the borrower pays what is due
    payoff_day: date | None


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


def plan_book(loans: int, days: int, start: date, seed: int) -> list[PlannedLoan]:
    """The synthetic portfolio and each borrower's payment plan."""
    rng = random.Random(seed)
    behaviours = list(BEHAVIOUR_WEIGHTS)
    weights = list(BEHAVIOUR_WEIGHTS.values())
    window = max(1, min(days, DISBURSEMENT_WINDOW_DAYS))
    planned = []
    for index in range(loans):
        behaviour = rng.choices(behaviours, weights)[0]
        phone_plan = rng.random() < 0.4
        disbursed_on = start + timedelta(days=rng.randrange(window))
        if phone_plan:
            product, terms = PHONE_PLAN, 24
            principal = rng.choice((299_900, 459_900, 599_900, 699_900, 899_900))
        else:
            product, terms = CASH_LOAN, rng.choice((5, 6, 9, 12, 18, 24))
            principal = rng.randrange(100_000, 5_000_000, 10_000)
        region, address = rng.choice(CITIES)
        name = rng.choice(SURNAMES) + rng.choice(GIVEN) + (rng.choice(GIVEN)
                                                           if rng.random() < 0.6 else "")
        borrower = Borrower(
            borrower_ref=f"DB-{index + 1:06d}", name=name, national_id=_national_id(rng),
            address=f"{address}{rng.randint(1, 999)}号", region=region,
            time_zone="Asia/Shanghai", language="zh-CN" if rng.random() < 0.9 else "en",
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
        planned.append(PlannedLoan(row=row, behaviour=behaviour,
                                   pay_days=tuple(sorted(set(pay_days))),
                                   payoff_day=payoff_day))
    return planned


@dataclass(frozen=True, slots=True, kw_only=True)
class DemoResult:
    start: date
    through: date
    payments_posted: int


def simulate(
    planned: list[PlannedLoan], start: date, days: int, products: dict[str, dict[str, Any]], *,
    uow_factory: Callable[[], UnitOfWork], clock: Clock,
    is_duplicate_key_error: Callable[[Exception], bool],
    write_off_dpd: int, on_day: Callable[[date], None] = lambda _: None,
    engine: str = eod.SCALAR, close_batch: eod.BatchCloser | None = None,
    eod_batch_size: int = eod.BATCH_SIZE,
) -> DemoResult:
    """Run the book from `start` for `days` business dates: board, pay, close each day."""
    servicing.init_book(start, products, uow_factory=uow_factory)
    boarding: dict[date, list[LoanRow]] = defaultdict(list)
    paying: dict[date, list[tuple[str, bool]]] = defaultdict(list)
    for plan in planned:
        boarding[plan.row.disbursed_on].append(plan.row)
        for day in plan.pay_days:
            paying[day].append((plan.row.loan_ref, False))
        if plan.payoff_day is not None:
            paying[plan.payoff_day].append((plan.row.loan_ref, True))
    posted = 0
    last = start + timedelta(days=days - 1)
    day = start
    while day <= last:
        if boarding[day]:
            servicing.board_rows(boarding[day], uow_factory=uow_factory, clock=clock)
        for loan_ref, payoff in paying[day]:
            with uow_factory() as uow:
                booked = uow.book.get(loan_ref)
            if booked is None:
                continue
            state = eod.current_state(booked, day - ONE_DAY)
            if payoff:
                amount = summarize(booked.loan, state).payoff_amount
            else:
                amount = due_on(booked.loan, state, day) or next_installment(state, day)
            if amount > 0:
                payments.post_payment(
                    loan_ref, amount, day, f"demo-{loan_ref}-{day.isoformat()}-{int(payoff)}",
                    uow_factory=uow_factory, clock=clock,
                    is_duplicate_key_error=is_duplicate_key_error)
                posted += 1
        eod.run_eod(day, uow_factory=uow_factory, clock=clock, write_off_dpd=write_off_dpd,
                    engine=engine, close_batch=close_batch, batch_size=eod_batch_size)
        on_day(day)
        day += ONE_DAY
    return DemoResult(start=start, through=last, payments_posted=posted)


def next_installment(state: LoanState, day: date) -> int:
    """What the next installment after `day` still asks for (a borrower paying ahead)."""
    for row in state.installments:
        if row.due_date > day and not row.is_paid:
            return row.unpaid_principal + row.unpaid_interest + row.unpaid_fee
    return 0


def roll_rates(moves: list[tuple[str, str, int]]) -> dict[str, str]:
    """Share of loans entering a bucket that rolled on to the next one, e.g. "M1→M2"."""
    entered: dict[str, int] = defaultdict(int)
    rolled: dict[str, int] = defaultdict(int)
    order = [b.value for b in BUCKETS]
    for source, target, count in moves:
        entered[target] += count
        if source in order[1:-1] and order.index(target) == order.index(source) + 1:
            rolled[source] += count
    return {f"{b}→{order[i + 1]}": f"{rolled[b] / entered[b]:.4f}" if entered[b] else "0.0000"
            for i, b in enumerate(order[1:-1], start=1)}
