"""End-of-day: move the book one business date forward, idempotently and resumably.

Per date: only loans with something to do (an installment due or overdue, or left behind by an
earlier failure) are loaded, in batches by id. The others are not touched at all: nothing about
them changes until an installment falls due, so their stored state stays valid and only its
date lags (`current_state` brings it forward when it is read). Each batch commits its loans'
new state, ledger entries, accruals, delinquency changes and events together. A crash loses at
most the batch in flight, and the re-run skips the loans already at the date. A loan whose
computation fails is set aside with its error and the run goes on; it catches up on a later
date. A date that completed is not run again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, timedelta

from arrears.application.ports import BookedLoan, Clock, UnitOfWork
from arrears.application.transitions import Change, change
from arrears.domain.delinquency import WRITE_OFF_DPD
from arrears.domain.errors import DomainError
from arrears.domain.loan import LoanState, advance, summarize

ONE_DAY = timedelta(days=1)
BATCH_SIZE = 1000
SCALAR = "scalar"


class EodRefused(DomainError):
    """The date cannot be run now (out of order, or no business date)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class EodReport:
    business_date: date
    already_completed: bool
    loans_processed: int
    loans_failed: int


def current_state(booked: BookedLoan, closed: date) -> LoanState:
    """The loan's state at the end of the closed date: the stored state brought forward over
    any dates end-of-day had nothing to do for it (or, for a loan set aside by a failure,
    over the dates it missed)."""
    if booked.state.as_of >= closed:
        return booked.state
    return advance(booked.loan, booked.state, [], closed)[0]


def close_loan_day(booked: BookedLoan, day: date, write_off_dpd: int, clock: Clock) -> Change:
    """One loan's end-of-day for `day`: accrual, DPD and bucket, write-off at the threshold."""
    loan = booked.loan
    state, _ = advance(loan, booked.state, [], day)
    if loan.written_off_on is None and summarize(loan, state).dpd >= write_off_dpd:
        loan = replace(loan, written_off_on=day)
    return change(booked, loan, state, entry=f"eod:{day.isoformat()}:{loan.loan_id}",
                  business_date=day, at=clock.now(), record_accrual=True)


BatchCloser = Callable[[UnitOfWork, list[int], date], tuple[int, int]]
"""Closes one batch of loans for a date inside the given unit of work; returns (processed,
failed). The scalar closer is `close_scalar_batch`; the vectorised executor brings its own."""


def close_batch_scalar(uow: UnitOfWork, ids: list[int], day: date, *, write_off_dpd: int,
                       clock: Clock) -> tuple[int, int]:
    """Close `ids` one by one with the domain; a loan that fails is set aside with its error."""
    changes, failures = [], []
    for booked in uow.book.get_many(ids, for_update=True):
        try:
            changes.append(close_loan_day(booked, day, write_off_dpd, clock))
        except Exception as error:  # set aside with its error; the run goes on
            failures.append((booked.id, f"{type(error).__name__}: {error}"))
    uow.book.apply([c.update for c in changes])
    uow.book.emit([event for c in changes for event in c.events])
    uow.book.record_failures(day, failures)
    return len(changes), len(failures)


def run_eod(
    day: date, *, uow_factory: Callable[[], UnitOfWork], clock: Clock,
    write_off_dpd: int = WRITE_OFF_DPD, batch_size: int = BATCH_SIZE,
    on_batch: Callable[[int], None] = lambda _: None,
    engine: str = SCALAR, close_batch: BatchCloser | None = None,
) -> EodReport:
    """Close business date `day`, which must be the open date (the day after the last closed)."""
    def scalar(uow: UnitOfWork, ids: list[int], on: date) -> tuple[int, int]:
        return close_batch_scalar(uow, ids, on, write_off_dpd=write_off_dpd, clock=clock)

    closer = close_batch or scalar
    with uow_factory() as uow:
        run = uow.book.eod_run(day)
        if run is not None and run.status == "completed":
            return EodReport(business_date=day, already_completed=True,
                             loans_processed=run.loans_processed, loans_failed=run.loans_failed)
        closed = uow.book.closed_through()
        if closed is None:
            raise EodRefused("business_date", "the book has no business date; run `arrears init`")
        if day != closed + ONE_DAY:
            raise EodRefused(
                "through", f"{day} is not the open business date {closed + ONE_DAY}")
        if run is None:
            uow.book.start_eod(day, engine, clock.now())
            uow.commit()
    after_id = 0
    while True:
        with uow_factory() as uow:
            ids = uow.book.loans_needing_eod(day, after_id, batch_size)
            if not ids:
                break
            processed, failed = closer(uow, ids, day)
            uow.book.progress_eod(day, processed, failed)
            uow.commit()
        after_id = ids[-1]
        on_batch(len(ids))
    with uow_factory() as uow:
        uow.book.finish_eod(day, clock.now())
        uow.book.close_through(day)
        run = uow.book.eod_run(day)
        uow.commit()
    assert run is not None
    return EodReport(business_date=day, already_completed=False,
                     loans_processed=run.loans_processed, loans_failed=run.loans_failed)


def run_eod_through(
    through: date, *, uow_factory: Callable[[], UnitOfWork], clock: Clock,
    write_off_dpd: int = WRITE_OFF_DPD, on_day: Callable[[date], None] = lambda _: None,
    on_batch: Callable[[int], None] = lambda _: None,
    engine: str = SCALAR, close_batch: BatchCloser | None = None,
    batch_size: int = BATCH_SIZE,
) -> list[EodReport]:
    """Catch up: close every open date through `through`, in order."""
    with uow_factory() as uow:
        closed = uow.book.closed_through()
    if closed is None:
        raise EodRefused("business_date", "the book has no business date; run `arrears init`")
    reports = []
    day = closed + ONE_DAY
    while day <= through:
        reports.append(run_eod(day, uow_factory=uow_factory, clock=clock,
                               write_off_dpd=write_off_dpd, on_batch=on_batch, engine=engine,
                               close_batch=close_batch, batch_size=batch_size))
        on_day(day)
        day += ONE_DAY
    return reports
