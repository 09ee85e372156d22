"""End-of-day: move the book one business date forward, idempotently and resumably.

Per date: only loans with something to do (an installment due or overdue, or left behind by an
earlier failure) are loaded, in batches by id. The others are not touched at all: nothing about
them changes until an installment falls due, so their stored state stays valid and only its
date lags (`current_state` brings it forward when it is read). Each batch commits its loans'
new state, ledger entries, accruals, delinquency changes and events together. A crash loses at
most the batch in flight, and the re-run skips the loans already at the date. A loan whose
computation fails is set aside with its error and the run goes on; it catches up on a later
date. A date that completed is not run again. The transaction that closes a date also
settles which hardship plans were kept or broken that day (`plan_outcomes`).

One run per book at a time: a run holds the book's end-of-day lock from its first read to its
last commit, and a second run started meanwhile is refused at once (`EodRefused`, field `eod`)
rather than queued behind it; run again when the first has finished and the date is found
completed. The writes do not rely on the lock alone: a loan found at the date once its row is
locked was closed by another writer and is left alone, and every loan row is written only if
it is still in the state that was read (`StaleWrite` rolls the batch back otherwise), so a
writer working from a stale read never posts a day twice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, as_completed, wait
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date, timedelta

from arrears.application.handlers.plan_outcomes import review_plans
from arrears.application.ports import (
    BookedLoan,
    Clock,
    StaleWrite,
    UnitOfWork,
    UnitOfWorkFactory,
)
from arrears.application.transitions import Change, change
from arrears.domain.delinquency import WRITE_OFF_DPD, check_write_off_dpd
from arrears.domain.errors import DomainError
from arrears.domain.loan import LoanState, advance, summarize

ONE_DAY = timedelta(days=1)
BATCH_SIZE = 1000
CANDIDATE_PAGE = 1_000_000
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
    return advance(booked.loan, booked.state, [], closed, opened=True)[0]


def eod_entry(day: date, loan_ref: str) -> str:
    """The name of the ledger entry of one loan's end-of-day for `day`."""
    return f"eod:{day.isoformat()}:{loan_ref}"


def close_loan_day(booked: BookedLoan, day: date, write_off_dpd: int, clock: Clock) -> Change:
    """One loan's end-of-day for `day`: accrual, DPD and bucket, write-off at the threshold."""
    loan = booked.loan
    # A stored state already holds the plans of its open day (approved on that day).
    state, _ = advance(loan, booked.state, [], day, opened=True)
    if loan.written_off_on is None and summarize(loan, state).dpd >= write_off_dpd:
        loan = replace(loan, written_off_on=day)
    return change(booked, loan, state, entry=eod_entry(day, loan.loan_id),
                  business_date=day, at=clock.now(), record_accrual=True)


BatchCloser = Callable[[UnitOfWork, list[int], date], tuple[int, int]]
"""Closes one batch of loans for a date inside the given unit of work; returns (processed,
failed). The scalar closer is `close_scalar_batch`; the vectorised executor brings its own."""


def close_batch_scalar(uow: UnitOfWork, ids: list[int], day: date, *, write_off_dpd: int,
                       clock: Clock) -> tuple[int, int]:
    """Close `ids` one by one with the domain; a loan that fails is set aside with its error.
    A loan already at `day` once its row is locked was closed by another writer after the ids
    were chosen: it is left as it is."""
    changes, failures = [], []
    for booked in uow.book.get_many(ids, for_update=True):
        if booked.state.as_of >= day:
            continue
        try:
            changes.append(close_loan_day(booked, day, write_off_dpd, clock))
        except Exception as error:  # set aside with its error; the run goes on
            failures.append((booked.id, f"{type(error).__name__}: {error}"))
    uow.book.apply([c.update for c in changes])
    uow.book.emit([event for c in changes for event in c.events])
    uow.book.record_failures(day, failures)
    return len(changes), len(failures)


@contextmanager
def exclusive(uow_factory: UnitOfWorkFactory) -> Iterator[None]:
    """Hold the book's end-of-day lock for the block, or refuse without waiting."""
    with uow_factory.eod_lock() as holder:
        if holder is not None:
            raise EodRefused("eod", f"another end-of-day run is in progress on this book "
                                    f"({holder}); run again when it has finished")
        yield


def run_eod(
    day: date, *, uow_factory: UnitOfWorkFactory, clock: Clock,
    write_off_dpd: int = WRITE_OFF_DPD, batch_size: int = BATCH_SIZE,
    on_batch: Callable[[int], None] = lambda _: None,
    engine: str = SCALAR, close_batch: BatchCloser | None = None, workers: int = 1,
) -> EodReport:
    """Close business date `day`, which must be the open date (the day after the last closed).
    `workers` batches run at once (more than one only for a store with concurrent writers)."""
    check_write_off_dpd(write_off_dpd, "write_off_dpd")
    with exclusive(uow_factory):
        return _close_date(day, uow_factory=uow_factory, batch_size=batch_size,
                           on_batch=on_batch, engine=engine,
                           closer=_closer(close_batch, write_off_dpd, clock), clock=clock,
                           workers=workers)


def _closer(close_batch: BatchCloser | None, write_off_dpd: int, clock: Clock) -> BatchCloser:
    def scalar(uow: UnitOfWork, ids: list[int], on: date) -> tuple[int, int]:
        return close_batch_scalar(uow, ids, on, write_off_dpd=write_off_dpd, clock=clock)

    return close_batch or scalar


def _close_date(
    day: date, *, uow_factory: UnitOfWorkFactory, clock: Clock, batch_size: int,
    on_batch: Callable[[int], None], engine: str, closer: BatchCloser, workers: int,
) -> EodReport:
    """`run_eod` under the lock."""
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
    _close_batches(day, uow_factory=uow_factory, closer=closer, batch_size=batch_size,
                   workers=workers, on_batch=on_batch)
    with uow_factory() as uow:
        review_plans(uow, day, clock)
        uow.book.finish_eod(day, clock.now())
        uow.book.close_through(day)
        run = uow.book.eod_run(day)
        uow.commit()
    assert run is not None
    return EodReport(business_date=day, already_completed=False,
                     loans_processed=run.loans_processed, loans_failed=run.loans_failed)


def _close_batches(day: date, *, uow_factory: UnitOfWorkFactory, closer: BatchCloser,
                   batch_size: int, workers: int, on_batch: Callable[[int], None]) -> None:
    """Close the date's batches, up to `workers` at once. Each batch is its own unit of work
    (on PostgreSQL its own connection, served by its own server process), so several keep
    several cores busy; they share nothing but the run's progress row. A batch that fails
    stops the run once the batches already started have finished."""

    def close(ids: list[int]) -> int:
        with uow_factory() as uow:
            try:
                processed, failed = closer(uow, ids, day)
            except StaleWrite as error:  # leaving the unit of work rolls the batch back
                raise EodRefused("eod", f"{error}; the batch was rolled back: run again to "
                                        "resume") from error
            uow.book.progress_eod(day, processed, failed)
            uow.commit()
        return len(ids)

    if workers <= 1:
        for ids in _batches(uow_factory, day, batch_size):
            on_batch(close(ids))
        return
    with ThreadPoolExecutor(max_workers=workers) as pool:
        running: set[Future[int]] = set()
        for ids in _batches(uow_factory, day, batch_size):
            if len(running) >= workers:
                done, running = wait(running, return_when=FIRST_COMPLETED)
                for finished in done:
                    on_batch(finished.result())
            running.add(pool.submit(close, ids))
        for finished in as_completed(running):
            on_batch(finished.result())


def _batches(uow_factory: UnitOfWorkFactory, day: date, batch_size: int
             ) -> Iterator[list[int]]:
    """The loans to close on `day`, in batches by id. They are chosen a page of
    `CANDIDATE_PAGE` at a time, each page one pass over the book's due loans (asking batch by
    batch would pass over them once a batch). A loan another writer closes meanwhile is left
    alone by the closer, which reads each loan under its lock."""
    page_size = max(batch_size, CANDIDATE_PAGE)
    after_id = 0
    while True:
        with uow_factory() as uow:
            page = uow.book.loans_needing_eod(day, after_id, page_size)
        for start in range(0, len(page), batch_size):
            yield page[start:start + batch_size]
        if len(page) < page_size:
            return
        after_id = page[-1]


def run_eod_through(
    through: date, *, uow_factory: UnitOfWorkFactory, clock: Clock,
    write_off_dpd: int = WRITE_OFF_DPD, on_day: Callable[[date], None] = lambda _: None,
    on_batch: Callable[[int], None] = lambda _: None,
    engine: str = SCALAR, close_batch: BatchCloser | None = None,
    batch_size: int = BATCH_SIZE, workers: int = 1,
) -> list[EodReport]:
    """Catch up: close every open date through `through`, in order, holding the book's lock
    for the whole catch-up."""
    check_write_off_dpd(write_off_dpd, "write_off_dpd")
    closer = _closer(close_batch, write_off_dpd, clock)
    with exclusive(uow_factory):
        with uow_factory() as uow:
            closed = uow.book.closed_through()
        if closed is None:
            raise EodRefused("business_date",
                             "the book has no business date; run `arrears init`")
        reports = []
        day = closed + ONE_DAY
        while day <= through:
            reports.append(_close_date(day, uow_factory=uow_factory, clock=clock,
                                       batch_size=batch_size, on_batch=on_batch,
                                       engine=engine, closer=closer, workers=workers))
            on_day(day)
            day += ONE_DAY
    return reports
