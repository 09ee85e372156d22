"""The vectorised EOD executor writes exactly what the scalar EOD writes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa

from arrears import bootstrap
from arrears.adapters.db import tables as t
from arrears.adapters.db.columns import SqlColumnStore
from arrears.adapters.db.payment_import_store import SqlPaymentImportUnitOfWorkFactory
from arrears.application import demo
from arrears.application.handlers import eod, servicing
from arrears.batch.executor import VECTORISED, vectorised_closer
from arrears.config import Settings

from book_checks import assert_ledger_consistent
from fakes import FixedClock
from shipped import default_policies, default_products

START = date(2026, 1, 1)
DAYS = 110
# Surrogate keys and the engine's name are the only columns allowed to differ.
VOLATILE = {"id", "engine"}


def _plain(value: object) -> object:
    """Instants as naive UTC, as SQLite returns them, so the two backends compare."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    return value


def _content(built: bootstrap.Services) -> dict[str, list[str]]:
    dump = {}
    with built.engine.connect() as connection:
        for table in t.metadata.sorted_tables:
            columns = [c for c in table.columns if c.name not in VOLATILE]
            dump[table.name] = sorted(repr(tuple(_plain(v) for v in row)) for row in
                                      connection.execute(sa.select(*columns)))
    return dump


def _simulate(built: bootstrap.Services, engine: str) -> None:
    closer = (vectorised_closer(SqlColumnStore(), write_off_dpd=60, clock=built.clock)
              if engine == VECTORISED else None)
    # A seed whose run has write-offs and plans kept, broken (kept and reverted) and open.
    planned = demo.plan_book(120, DAYS, START, seed=10)
    demo.simulate(planned, START, DAYS, default_products(), uow_factory=built.uow_factory,
                  paying=SqlPaymentImportUnitOfWorkFactory(built.engine),
                  clock=built.clock,
                  write_off_dpd=60, engine=engine, close_batch=closer, eod_batch_size=37,
                  plan_policies=default_policies())


def test_vectorised_and_scalar_books_are_identical(database_url, tmp_path):
    scalar = bootstrap.build(Settings(database_url=f"sqlite:///{tmp_path / 'scalar.db'}"),
                             clock=FixedClock())
    scalar.migrate()
    _simulate(scalar, eod.SCALAR)
    vectorised = bootstrap.build(Settings(database_url=database_url), clock=FixedClock())
    vectorised.migrate()
    _simulate(vectorised, VECTORISED)
    expected, actual = _content(scalar), _content(vectorised)
    assert actual["accrual"] and actual["delinquency_change"]  # the run exercised both paths
    assert any("written_off" in row for row in actual["loan"])
    # Loans under plans (re-aged, deferred; kept and broken) took part on both engines.
    assert {status for status in ("'approved'", "'kept'", "'broken'")
            if any(status in row for row in actual["plan"])} == {"'approved'", "'kept'",
                                                                 "'broken'"}
    assert actual == expected
    assert_ledger_consistent(vectorised)


LOANS_HEADER = ("loan_id,borrower_id,name,national_id,phone,product,currency,principal,"
                "disbursed_on,terms")


def _loan_line(index: int, disbursed_on: str) -> str:
    return (f"L-{index:03d},B-{index:03d},Borrower {index},11010119900307{index:04d},"
            f"1381234{index:04d},WLD-DAILY,CNY,{3000 + 731 * index}.00,{disbursed_on},6")


def _closer(built: bootstrap.Services, engine: str) -> eod.BatchCloser | None:
    if engine == VECTORISED:
        return vectorised_closer(SqlColumnStore(), write_off_dpd=60, clock=built.clock)
    return None


def _board_once(built: bootstrap.Services, line: str) -> Callable[[int], None]:
    """An `on_batch` that boards the loan of `line` after the first batch has committed."""
    boarded: list[str] = []

    def board(_: int) -> None:
        if not boarded:
            boarded.append(line)
            servicing.import_loans_csv("\n".join([LOANS_HEADER, line]) + "\n",
                                       uow_factory=built.uow_factory, clock=built.clock)

    return board


def test_a_loan_boarded_while_a_date_closes_catches_that_date_up_on_both_engines(
        database_url, tmp_path):
    """End-of-day chooses a date's loans once, so a loan boarded meanwhile (already overdue)
    misses that date: on the next its stored state is two days old, and its accrual and the
    interest falling due in between must be caught up, as the scalar engine does."""
    day = date(2026, 3, 10)
    books = {}
    for engine, url in ((eod.SCALAR, f"sqlite:///{tmp_path / 'scalar.db'}"),
                        (VECTORISED, database_url)):
        built = bootstrap.build(Settings(database_url=url), clock=FixedClock())
        built.migrate()
        servicing.init_book(day, default_products(), uow_factory=built.uow_factory)
        servicing.import_loans_csv("\n".join([LOANS_HEADER, _loan_line(0, "2026-01-05"),
                                              _loan_line(1, "2026-01-09")]) + "\n",
                                   uow_factory=built.uow_factory, clock=built.clock)
        boarding = _board_once(built, _loan_line(2, "2026-01-10"))  # overdue and due today
        for offset in range(2):
            eod.run_eod(day + timedelta(days=offset), uow_factory=built.uow_factory,
                        clock=built.clock, write_off_dpd=60, batch_size=1, engine=engine,
                        close_batch=_closer(built, engine), on_batch=boarding)
        books[engine] = built
    expected, actual = _content(books[eod.SCALAR]), _content(books[VECTORISED])
    assert actual == expected
    assert_ledger_consistent(books[VECTORISED])
