"""A small book for credit-reporting tests, held in memory: loans with their payments, plans
and write-offs, the notices sent and the disputes filed, behind a fake bureau unit of work
that `handlers.bureau` runs on exactly as on the SQL one."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Self

from arrears.application.bureau import BureauNotice, NoticeKind, Subject
from arrears.application.ports import BookedLoan
from arrears.domain.bureau.snapshot import (
    BureauDispute,
    DisputeKind,
    Month,
    MonthSnapshot,
)
from arrears.domain.delinquency import Bucket, LoanStatus
from arrears.domain.loan import Loan, Payment, due_on, state_on
from arrears.domain.plans import Plan, PlanKind

from builders import product

START = date(2026, 1, 15)
FIRST_MONTH = Month(2026, 1)
MONTHS = 14


def on_time(loan: Loan, numbers: Sequence[int], *, prefix: str, earlier: Sequence[Payment] = (),
            schedule_on: date = START) -> list[Payment]:
    """Payments of exactly what installments `numbers` owe, each on its due date as the
    schedule stands on `schedule_on` (after a plan, its new dates), after `earlier`."""
    payments = list(earlier)
    for number in numbers:
        due = state_on(loan, payments, schedule_on).installments[number - 1].due_date
        state = state_on(loan, payments, due - timedelta(days=1))
        payments.append(Payment(key=f"{prefix}-{number}", on=due,
                                amount=due_on(loan, state, due)))
    return payments[len(earlier):]


def catch_up(loan: Loan, payments: list[Payment], on: date, key: str) -> Payment:
    """A payment of everything due on `on`."""
    state = state_on(loan, payments, on - timedelta(days=1))
    return Payment(key=key, on=on, amount=due_on(loan, state, on))


@dataclass
class GoldenBook:
    loans: dict[str, Loan] = field(default_factory=dict)
    payments: dict[str, list[Payment]] = field(default_factory=dict)
    notices: dict[str, list[BureauNotice]] = field(default_factory=dict)
    disputes: dict[str, tuple[BureauDispute, ...]] = field(default_factory=dict)

    def add(self, loan: Loan, payments: list[Payment]) -> None:
        self.loans[loan.loan_id] = loan
        self.payments[loan.loan_id] = payments


def golden_book() -> GoldenBook:
    """Six loans over 14 months (2026-01 … 2027-02): a cure, a write-off and its recovery, a
    restructure, a US dispute opened and answered, a PRC objection answered `corrected`, and a
    first negative record held until its notice."""
    book = GoldenBook()
    cn = product()
    us = product(jurisdiction="US")

    def make(ref: str, prod: Any, **kw: Any) -> Loan:
        return Loan(loan_id=ref, currency="CNY" if prod is cn else "USD", principal=1_200_000,
                    disbursed_on=START, terms=12, product=prod, **kw)

    cure = make("L-CURE", cn)  # misses Feb–Mar, catches up in May, pays on time after
    paid = on_time(cure, [1], prefix="c")
    paid.append(catch_up(cure, paid, date(2026, 5, 20), "c-catch-up"))
    paid += on_time(cure, range(5, 13), prefix="c", earlier=paid)
    book.add(cure, paid)

    write_off = make("L-WO", cn, written_off_on=date(2026, 8, 14))  # never pays; DPD 180
    book.add(write_off, [Payment(key="wo-r1", on=date(2026, 10, 9), amount=300_000),
                         Payment(key="wo-r2", on=date(2027, 1, 12), amount=5_000_000)])

    deferral = Plan(plan_id="P-RS", kind=PlanKind.DEFERRAL, effective_on=date(2026, 5, 10),
                    months=3)
    restructured = make("L-RS", cn, plans=(deferral,))  # misses Mar–Apr, then a deferral
    paid = on_time(restructured, [1, 2], prefix="r")
    book.add(restructured, paid + on_time(restructured, range(3, 13), prefix="r", earlier=paid,
                                          schedule_on=deferral.effective_on))

    disputed = make("L-DISP", us)  # pays on time; disputes in June, answered in July
    book.add(disputed, on_time(disputed, range(1, 13), prefix="d"))
    book.disputes["L-DISP"] = (BureauDispute(opened_on=date(2026, 6, 10),
                                             answered_on=date(2026, 7, 5)),)

    corrected = make("L-CORR", cn)  # an objection found right: July re-sent in August
    book.add(corrected, on_time(corrected, range(1, 13), prefix="o"))
    book.disputes["L-CORR"] = (BureauDispute(opened_on=date(2026, 7, 25),
                                             answered_on=date(2026, 8, 10),
                                             kind=DisputeKind.CORRECTED),)

    held = make("L-HELD", cn)  # stops paying after March; its notice goes out in June
    book.add(held, on_time(held, [1, 2], prefix="h"))
    for ref in ("L-CURE", "L-WO", "L-RS", "L-CORR"):
        book.notices[ref] = [BureauNotice(loan_ref=ref, kind=NoticeKind.PRE_REPORT,
                                          sent_on=date(2026, 2, 1))]
    book.notices["L-HELD"] = [BureauNotice(loan_ref="L-HELD", kind=NoticeKind.PRE_REPORT,
                                           sent_on=date(2026, 6, 5))]
    book.notices["L-DISP"] = [BureauNotice(loan_ref="L-DISP", kind=NoticeKind.ABOUT_DEBT,
                                           sent_on=date(2026, 2, 1))]
    return book


class FakeBureauStore:
    def __init__(self, book: GoldenBook) -> None:
        self.book = book
        self.rows: dict[tuple[str, Month], MonthSnapshot] = {}

    def snapshots(self, month: Month, loan_refs: Sequence[str] | None = None
                  ) -> dict[str, MonthSnapshot]:
        return {ref: s for (ref, m), s in self.rows.items()
                if m == month and (loan_refs is None or ref in loan_refs)}

    def put(self, snapshots: Sequence[MonthSnapshot]) -> None:
        for snapshot in snapshots:
            self.rows[(snapshot.loan_ref, snapshot.month)] = snapshot

    def months(self) -> list[Month]:
        return sorted({m for _, m in self.rows})

    def loan_ids(self) -> list[int]:
        return list(range(1, len(self.book.loans) + 1))

    def payments(self, loan_ids: Sequence[int]) -> dict[int, list[Payment]]:
        refs = list(self.book.loans)
        return {i: self.book.payments[refs[i - 1]] for i in loan_ids}

    def add_notice(self, notice: BureauNotice) -> bool:
        self.book.notices.setdefault(notice.loan_ref, []).append(notice)
        return True

    def notices(self, loan_refs: Sequence[str]) -> dict[str, list[BureauNotice]]:
        return {ref: self.book.notices.get(ref, []) for ref in loan_refs}

    def subjects(self, loan_refs: Sequence[str]) -> dict[str, Subject]:
        return {ref: Subject(name=f"Pat {ref[2:]} Doe", national_id="123-45-6789",
                             address="1 Main St", region="NY", phone="")
                for ref in loan_refs}


class FakeLoanBook:
    def __init__(self, book: GoldenBook, closed: date) -> None:
        self.book, self.closed = book, closed

    def closed_through(self) -> date:
        return self.closed

    def _booked(self, index: int, loan: Loan) -> BookedLoan:
        return BookedLoan(id=index, borrower_id=index, product_code="p", loan=loan,
                          state=state_on(loan, self.book.payments[loan.loan_id], self.closed),
                          status=LoanStatus.CURRENT, dpd=0, bucket=Bucket.C)

    def get_many(self, ids: Sequence[int], *, for_update: bool = False) -> list[BookedLoan]:
        loans = list(self.book.loans.values())
        return [self._booked(i, loans[i - 1]) for i in ids]

    def get(self, loan_ref: str, *, for_update: bool = False) -> BookedLoan | None:
        refs = list(self.book.loans)
        if loan_ref not in refs:
            return None
        return self._booked(refs.index(loan_ref) + 1, self.book.loans[loan_ref])


class FakeCollections:
    def call_history(self, borrower_ids: Sequence[int], since: object) -> dict[int, list[Any]]:
        return {}


class FakeBureauUnitOfWork:
    def __init__(self, book: GoldenBook, store: FakeBureauStore, closed: date) -> None:
        self.book = FakeLoanBook(book, closed)
        self.bureau = store
        self.collections = FakeCollections()
        self.committed = False

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def commit(self) -> None:
        self.committed = True


class FakeDisputes:
    def __init__(self, book: GoldenBook) -> None:
        self.book = book

    def disputes_of(self, loan_ref: str) -> tuple[BureauDispute, ...]:
        return self.book.disputes.get(loan_ref, ())


def factory(book: GoldenBook, store: FakeBureauStore, closed: date) -> Any:
    return lambda: FakeBureauUnitOfWork(book, store, closed)


def months() -> list[Month]:
    found, month = [], FIRST_MONTH
    for _ in range(MONTHS):
        found.append(month)
        month = month.next()
    return found

