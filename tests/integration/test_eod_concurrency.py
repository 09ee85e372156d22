"""One end-of-day per book at a time (issue 16, item 10): two runs started at once close the
date once, on both engines and both databases; the second is refused with one clear error.
Underneath the lock every write is conditional on the state it read, so a writer working
from a stale read posts nothing twice."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa

from arrears import bootstrap
from arrears.adapters.db import tables as t
from arrears.adapters.db.columns import SqlColumnStore
from arrears.application.handlers import eod, payments, plans, servicing
from arrears.application.ports import StaleWrite
from arrears.batch.executor import VECTORISED, plan_batch, vectorised_closer
from arrears.config import Settings
from arrears.entrypoints.cli.main import run

from book_checks import assert_ledger_consistent
from fakes import FixedClock
from shipped import default_policies, default_products

DAY = date(2026, 3, 5)  # the open date: every loan in the book has something to do on it
WRITE_OFF_DPD = 180
# current loans falling due on DAY; loans overdue since 2026-02-05 falling due again (plain
# accrual); loans due the day before, which turn M1 on DAY (the vectorised engine's scalar path)
DISBURSED = ("2026-02-05", "2026-01-05", "2026-02-04")
LOANS = 36
BATCH = 5  # several batches, so a second run would overlap the first
# The winner waits for the loser to return before it goes on; without a lock both would wait,
# and this bounds the wait so such a failure shows as double postings, not a hung test.
DEADLOCK_GUARD_S = 20
HEADER = "loan_id,borrower_id,name,national_id,phone,product,currency,principal,disbursed_on,terms"


def _loans_csv() -> str:
    rows = [HEADER]
    for i in range(LOANS):
        product, terms = ("WLD-DAILY", 12) if i % 2 else ("PHONE-24M", 24)
        rows.append(f"L-{i:03d},B-{i:03d},Borrower {i},11010119900307{i:04d},1381234{i:04d},"
                    f"{product},CNY,{3000 + 137 * i}.00,{DISBURSED[i % 3]},{terms}")
    return "\n".join(rows) + "\n"


def _book(url: str) -> bootstrap.Services:
    built = bootstrap.build(Settings(database_url=url), clock=FixedClock())
    built.migrate()
    servicing.init_book(DAY, default_products(), uow_factory=built.uow_factory)
    servicing.import_loans_csv(_loans_csv(), uow_factory=built.uow_factory, clock=built.clock)
    return built


def _closer(built: bootstrap.Services, engine: str) -> eod.BatchCloser | None:
    if engine == VECTORISED:
        return vectorised_closer(SqlColumnStore(), write_off_dpd=WRITE_OFF_DPD,
                                 clock=built.clock)
    return None


def _run(built: bootstrap.Services, engine: str, on_batch=lambda _: None) -> eod.EodReport:
    return eod.run_eod(DAY, uow_factory=built.uow_factory, clock=built.clock,
                       write_off_dpd=WRITE_OFF_DPD, batch_size=BATCH, on_batch=on_batch,
                       engine=engine, close_batch=_closer(built, engine))


def _plain(value: object) -> object:
    """Instants as naive UTC, as SQLite returns them, so the two backends compare."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    return value


def _content(built: bootstrap.Services) -> dict[str, list[str]]:
    """Every table's rows, surrogate keys aside, in a stable order."""
    dump = {}
    with built.engine.connect() as connection:
        for table in t.metadata.sorted_tables:
            columns = [c for c in table.columns if c.name != "id"]
            dump[table.name] = sorted(repr(tuple(_plain(v) for v in row)) for row in
                                      connection.execute(sa.select(*columns)))
    return dump


def _race(built: bootstrap.Services, engine: str) -> list[object]:
    """Two runs of DAY released together. Whichever gets going first holds its first batch
    until the other has returned, so the two overlap however the threads are scheduled."""
    barrier = threading.Barrier(2)
    returned = threading.Event()
    outcomes: list[object] = []

    def hold_first_batch(_: int) -> None:
        returned.wait(DEADLOCK_GUARD_S)

    def one_run() -> None:
        barrier.wait()
        try:
            outcomes.append(_run(built, engine, on_batch=hold_first_batch))
        except Exception as error:  # judged by the caller
            outcomes.append(error)
        finally:
            returned.set()

    threads = [threading.Thread(target=one_run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def _assert_day_posted_once(built: bootstrap.Services) -> None:
    with built.engine.connect() as connection:
        entries = dict(connection.execute(
            sa.select(t.loan.c.loan_ref, sa.func.count(sa.distinct(t.posting.c.entry)))
            .select_from(t.loan.outerjoin(t.posting, (t.posting.c.loan_id == t.loan.c.id)
                                          & t.posting.c.entry.startswith("eod:")))
            .group_by(t.loan.c.loan_ref)).all())
        repeated = connection.execute(
            sa.select(t.posting.c.entry, t.posting.c.account, sa.func.count())
            .group_by(t.posting.c.entry, t.posting.c.account)
            .having(sa.func.count() > 1)).all()
        accruals = connection.execute(
            sa.select(t.accrual.c.loan_id, sa.func.count()).where(
                t.accrual.c.business_date == DAY)
            .group_by(t.accrual.c.loan_id).having(sa.func.count() > 1)).all()
        state_dates = set(connection.scalars(sa.select(t.loan.c.state_on)))
    # one entry for each loan with something to post (the third cohort is in its grace days)
    assert entries == {f"L-{i:03d}": int(i % 3 < 2) for i in range(LOANS)}
    assert repeated == [] and accruals == []
    assert state_dates == {DAY}


@pytest.mark.parametrize("engine", [eod.SCALAR, VECTORISED])
def test_two_runs_at_once_close_the_date_once(database_url, tmp_path, engine):
    raced = _book(database_url)
    alone = _book(f"sqlite:///{tmp_path / 'alone.db'}")
    report = _run(alone, engine)
    assert report.loans_processed == LOANS

    outcomes = _race(raced, engine)

    finished = [o for o in outcomes if isinstance(o, eod.EodReport)]
    refused = [o for o in outcomes if isinstance(o, eod.EodRefused)]
    assert len(finished) == 1 and len(refused) == 1, outcomes
    assert finished[0] == report
    assert refused[0].field == "eod"
    assert refused[0].reason.startswith(
        "another end-of-day run is in progress on this book (")
    _assert_day_posted_once(raced)
    assert_ledger_consistent(raced)
    assert _content(raced) == _content(alone)
    # the book is free again: a later run finds the date completed
    assert _run(raced, engine).already_completed


@pytest.mark.parametrize("engine", [eod.SCALAR, VECTORISED])
def test_a_batch_chosen_before_another_run_closed_it_changes_nothing(database_url, engine):
    """What a second run bypassing the lock would do on PostgreSQL: choose its ids, then lock
    and read them after the first run committed them."""
    built = _book(database_url)
    with built.uow_factory() as uow:
        ids = uow.book.loans_needing_eod(DAY, 0, LOANS)
    assert len(ids) == LOANS
    _run(built, engine)
    before = _content(built)
    closer = _closer(built, engine) or (lambda uow, batch, day: eod.close_batch_scalar(
        uow, batch, day, write_off_dpd=WRITE_OFF_DPD, clock=built.clock))
    with built.uow_factory() as uow:
        assert closer(uow, ids, DAY) == (0, 0)
        uow.commit()
    assert _content(built) == before


def test_a_stale_vectorised_write_back_is_refused(database_url):
    built = _book(database_url)
    store = SqlColumnStore()
    with built.uow_factory() as uow:
        ids = uow.book.loans_needing_eod(DAY, 0, LOANS)
        stale, _ = plan_batch(store.read_state(uow, ids, DAY), DAY, WRITE_OFF_DPD)
    assert stale.loan_ids.size and stale.ledger()
    _run(built, VECTORISED)
    with built.uow_factory() as uow, pytest.raises(StaleWrite, match="changed after"):
        store.write_accruals(uow, stale)


def test_a_stale_scalar_write_back_is_refused(database_url):
    built = _book(database_url)
    with built.uow_factory() as uow:
        ids = uow.book.loans_needing_eod(DAY, 0, LOANS)
        stale = [eod.close_loan_day(booked, DAY, WRITE_OFF_DPD, built.clock).update
                 for booked in uow.book.get_many(ids)]
    _run(built, eod.SCALAR)
    with built.uow_factory() as uow, pytest.raises(StaleWrite, match=f"{LOANS} of {LOANS}"):
        uow.book.apply(stale)


def test_a_run_whose_write_back_is_stale_rolls_the_batch_back(database_url):
    """The closer's conflict is reported as the run's one error, and its batch keeps nothing."""
    built = _book(database_url)
    store = SqlColumnStore()
    with built.uow_factory() as uow:
        ids = uow.book.loans_needing_eod(DAY, 0, LOANS)
        stale, _ = plan_batch(store.read_state(uow, ids, DAY), DAY, WRITE_OFF_DPD)
    aged = replace(stale, loans={**stale.loans, "read_on": stale.loans["read_on"] - 1})
    before = _content(built)

    def close(uow, batch, day):
        store.write_accruals(uow, aged)
        return len(batch), 0

    with pytest.raises(eod.EodRefused, match="rolled back: run again"):
        eod.run_eod(DAY, uow_factory=built.uow_factory, clock=built.clock, close_batch=close)
    after = _content(built)
    assert after.pop("eod_run") != before.pop("eod_run")  # the run started, and may resume
    assert after == before


def test_the_cli_refuses_a_second_run_with_one_line(database_url, capsys):
    built = _book(database_url)
    with built.uow_factory.eod_lock() as holder:
        assert holder is None
        with pytest.raises(SystemExit) as exit_info:
            run(["eod", "--through", DAY.isoformat(), "--engine", "vectorised",
                 "--db", database_url])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2
    assert err.startswith("error: eod: another end-of-day run is in progress on this book (")
    assert err.count("\n") == 1
    with built.uow_factory() as uow:
        assert uow.book.eod_run(DAY) is None and uow.book.closed_through() < DAY


@pytest.mark.parametrize("engine", [eod.SCALAR, VECTORISED])
def test_batches_closed_side_by_side_write_what_one_at_a_time_writes(database_url, tmp_path,
                                                                     engine):
    side_by_side = _book(database_url)
    one_at_a_time = _book(f"sqlite:///{tmp_path / 'alone.db'}")
    batches: list[int] = []
    report = eod.run_eod(DAY, uow_factory=side_by_side.uow_factory, clock=side_by_side.clock,
                         write_off_dpd=WRITE_OFF_DPD, batch_size=BATCH, on_batch=batches.append,
                         engine=engine, close_batch=_closer(side_by_side, engine), workers=3)
    assert report == _run(one_at_a_time, engine)
    assert sorted(batches) == sorted([BATCH] * (LOANS // BATCH) + [LOANS % BATCH])
    _assert_day_posted_once(side_by_side)
    assert _content(side_by_side) == _content(one_at_a_time)


def _wait_until_blocked(connection: sa.Connection, pid: int) -> None:
    """Until the session `pid` waits for a lock (bounded, so a failure shows, not a hang)."""
    waiting = sa.text("SELECT count(*) FROM pg_locks WHERE pid = :pid AND NOT granted")
    deadline = time.monotonic() + DEADLOCK_GUARD_S
    while not connection.scalar(waiting, {"pid": pid}):
        assert time.monotonic() < deadline, "the batch never waited for the loan"
        time.sleep(0.01)


class _CommitHeld:
    """Units of work whose commit first calls `before_commit` (their locks still held)."""

    def __init__(self, built: bootstrap.Services, before_commit) -> None:
        self.built = built
        self.before_commit = before_commit

    def __call__(self):
        uow = self.built.uow_factory()
        commit = uow.commit

        def held_commit() -> None:
            self.before_commit()
            commit()

        uow.commit = held_commit
        return uow


def _repriced_and_closed(url: str, engine: str, *, race: bool) -> bootstrap.Services:
    """A book whose overdue L-001 gets a rate reduction approved on DAY (its penalty rate
    follows the contract rate), then its end-of-day; with `race`, the batch reads the loan
    while the approval holds it, and waits for its commit."""
    built = _book(url)
    plans.set_policies(default_policies(), uow_factory=built.uow_factory)
    plan = plans.propose("L-001", {"kind": "rate_reduction", "rate": "0.06"},
                         proposed_by="borrower", uow_factory=built.uow_factory,
                         clock=built.clock)
    with built.uow_factory() as uow:
        loan_id = uow.book.get("L-001").id
    closer = _closer(built, engine) or (lambda uow, batch, day: eod.close_batch_scalar(
        uow, batch, day, write_off_dpd=WRITE_OFF_DPD, clock=built.clock))
    session: list[int] = []
    started = threading.Event()

    def close_the_loan() -> None:
        with built.uow_factory() as uow:
            if race:
                session.append(uow.book.connection.scalar(sa.text("SELECT pg_backend_pid()")))
                started.set()
            assert closer(uow, [loan_id], DAY) == (1, 0)
            uow.commit()

    batch = threading.Thread(target=close_the_loan)

    def start_the_batch_and_let_it_wait() -> None:
        batch.start()
        assert started.wait(DEADLOCK_GUARD_S)
        with built.engine.connect() as watcher:
            _wait_until_blocked(watcher, session[0])

    approving = _CommitHeld(built, start_the_batch_and_let_it_wait) if race else \
        built.uow_factory
    plans.approve(plan["plan_id"], by="C-02", uow_factory=approving, clock=built.clock)
    if race:
        batch.join()
    else:
        close_the_loan()
    return built


@pytest.mark.parametrize("engine", [eod.SCALAR, VECTORISED])
def test_a_batch_that_waited_for_a_plan_approval_closes_the_loan_under_the_plan(
        database_url, tmp_path, engine):
    """Either engine's batch reads a loan whose plan was approved while it waited for the
    loan's lock exactly as if it had come after the approval."""
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite writers queue before they read anything (BEGIN IMMEDIATE)")
    serial = _repriced_and_closed(f"sqlite:///{tmp_path / 'serial.db'}", engine, race=False)
    raced = _repriced_and_closed(database_url, engine, race=True)
    assert _content(raced) == _content(serial)
    assert_ledger_consistent(raced)


def _loan_states(built: bootstrap.Services) -> dict[str, object]:
    with built.uow_factory() as uow:
        ids = list(uow.book.connection.scalars(sa.select(t.loan.c.id)))
        return {b.loan.loan_id: (b.state, b.status, b.dpd, b.bucket)
                for b in uow.book.get_many(ids)}


def test_payments_posted_while_parallel_vectorised_batches_run_count_as_posted_before(
        database_url, tmp_path):
    """Payments dated the open date, posted while the date's batches close side by side (some
    to loans already closed, some to loans still waiting), leave every loan as if they had
    been posted before the run: nothing lost, nothing accrued on money already paid."""
    paid = [(f"L-{i:03d}", 900 + 37 * i, f"mid-run-{i}") for i in range(0, LOANS, 2)]
    before = _book(f"sqlite:///{tmp_path / 'before.db'}")
    for loan, amount, key in paid:
        payments.post_payment(loan, amount, DAY, key, uow_factory=before.uow_factory,
                              clock=before.clock)
    _run(before, VECTORISED)
    during = _book(database_url)
    posted: list[int] = []

    def pay_after_the_first_batch(_: int) -> None:
        if not posted:
            posted.append(1)
            for loan, amount, key in paid:
                payments.post_payment(loan, amount, DAY, key, uow_factory=during.uow_factory,
                                      clock=during.clock)

    eod.run_eod(DAY, uow_factory=during.uow_factory, clock=during.clock,
                write_off_dpd=WRITE_OFF_DPD, batch_size=BATCH, engine=VECTORISED,
                close_batch=_closer(during, VECTORISED), workers=2,
                on_batch=pay_after_the_first_batch)
    assert _loan_states(during) == _loan_states(before)
    assert_ledger_consistent(during)


def _repriced_and_paid(url: str, *, race: bool) -> bootstrap.Services:
    """L-001 gets a rate reduction approved on DAY, and a payment dated DAY; with `race`, the
    payment reads the loan while the approval holds it, and waits for its commit."""
    built = _book(url)
    plans.set_policies(default_policies(), uow_factory=built.uow_factory)
    plan = plans.propose("L-001", {"kind": "rate_reduction", "rate": "0.06"},
                         proposed_by="borrower", uow_factory=built.uow_factory,
                         clock=built.clock)

    def pay() -> None:
        payments.post_payment("L-001", 1_000_00, DAY, "during-approval",
                              uow_factory=built.uow_factory, clock=built.clock)

    payer = threading.Thread(target=pay)

    def start_the_payment_and_let_it_wait() -> None:
        payer.start()
        waiting = sa.text("SELECT count(*) FROM pg_locks WHERE NOT granted")
        deadline = time.monotonic() + DEADLOCK_GUARD_S
        with built.engine.connect() as watcher:
            while not watcher.scalar(waiting):
                assert time.monotonic() < deadline, "the payment never waited for the loan"
                time.sleep(0.01)

    approving = _CommitHeld(built, start_the_payment_and_let_it_wait) if race else \
        built.uow_factory
    plans.approve(plan["plan_id"], by="C-02", uow_factory=approving, clock=built.clock)
    if race:
        payer.join()
    else:
        pay()
    return built


def test_a_payment_that_waited_for_a_plan_approval_is_priced_under_the_plan(
        database_url, tmp_path):
    """A payment that reads a loan while a plan approval holds it prices it as if it had come
    after the approval (the lock is a statement of its own, before the read)."""
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite writers queue before they read anything (BEGIN IMMEDIATE)")
    serial = _repriced_and_paid(f"sqlite:///{tmp_path / 'serial.db'}", race=False)
    raced = _repriced_and_paid(database_url, race=True)
    assert _loan_states(raced) == _loan_states(serial)
    assert_ledger_consistent(raced)
