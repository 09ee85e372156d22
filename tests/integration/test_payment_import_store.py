"""The payment-file store on both databases (PostgreSQL reads loan by loan and writes whole
chunks in one statement, SQLite by lists): it reads each loan as the book holds it, and a
write that finds a loan moved since it was read is refused whole."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from arrears import bootstrap
from arrears.adapters.db import payment_import_store
from arrears.adapters.db import tables as t
from arrears.adapters.db.payment_import_store import (
    ChunkRows,
    SqlPaymentImports,
    SqlPaymentImportUnitOfWork,
    SqlPaymentImportUnitOfWorkFactory,
)
from arrears.adapters.db.read_ahead import ProcessReadAhead
from arrears.application import demo, payment_file
from arrears.application.handlers import eod, payment_import, payments, servicing
from arrears.application.handlers.payment_import import (
    READ_AHEAD_MIN_ROWS,
    ChunkWrites,
    ImportReport,
    import_payments,
)
from arrears.application.handlers.same_day_payments import (
    LoanPosted,
    LoanSnapshot,
    price_same_day,
)
from arrears.application.ports import BookedLoan, Clock, ReadAhead, StaleWrite
from arrears.domain.errors import PaymentRejected
from arrears.domain.loan import InstallmentState, due_on, owed_on, summarize

from book_checks import assert_ledger_consistent, table_rows
from shipped import default_products

START = date(2026, 1, 1)
CLOSED = START + timedelta(days=75)  # loans fallen due, some overdue with penalty
LOANS = 24


@pytest.fixture
def book(services: bootstrap.Services) -> bootstrap.Services:
    """Demo loans through CLOSED, a third of them paid something on the way (installments
    paid whole, in part, or not at all)."""
    servicing.init_book(START, default_products(), uow_factory=services.uow_factory)
    servicing.board_rows([planned.row for planned in demo.plan_book(LOANS, 1, START, seed=5)],
                         uow_factory=services.uow_factory, clock=services.clock)
    eod.run_eod_through(START + timedelta(days=40), uow_factory=services.uow_factory,
                        clock=services.clock)
    for number in range(1, LOANS + 1, 3):
        with services.uow_factory() as uow:
            ref = uow.book.get_many([number])[0].loan.loan_id
        payments.post_payment(ref, 40_000 * number, START + timedelta(days=41), f"p-{number}",
                              uow_factory=services.uow_factory, clock=services.clock)
    eod.run_eod_through(CLOSED, uow_factory=services.uow_factory, clock=services.clock)
    return services


def _live(row: InstallmentState) -> bool:
    return not row.is_paid or row.penalty_accrued != row.penalty_paid * 10_000 \
        or row.compound_accrued != row.compound_paid * 10_000


def _expected(booked: BookedLoan, open_day: date) -> LoanSnapshot:
    """`LoanSnapshot`'s definition, from the loan as the book loads it whole."""
    state, rows = booked.state, booked.state.installments
    ahead = [r for r in rows if r.due_date > open_day]
    return LoanSnapshot(
        id=booked.id, loan_ref=booked.loan.loan_id, currency=booked.loan.currency,
        product_code=booked.product_code, disbursed_on=booked.loan.disbursed_on,
        state_on=state.as_of, bucket=booked.bucket, delinquent_since=state.delinquent_since,
        holds_plan=False, written_off=booked.loan.written_off_on is not None,
        paused=bool(state.pauses), plan_amounts=bool(state.waived.total()
                                                     or state.capitalised.total()),
        unapplied=state.unapplied, offer_received=state.offer_received,
        next_unpaid_due=min((r.due_date for r in rows if r.due_date > open_day
                             and not r.is_paid), default=None),
        ahead_owed=ahead[0].unpaid_principal + ahead[0].unpaid_interest + ahead[0].unpaid_fee
        if ahead else 0, ahead_principal=sum(r.unpaid_principal for r in ahead),
        rows=[r for r in rows if r.due_date <= open_day and _live(r)])


@pytest.mark.parametrize("days_after", [1, 30, 400])
def test_each_loan_is_read_as_the_book_holds_it(book: bootstrap.Services,
                                               days_after: int) -> None:
    open_day = CLOSED + timedelta(days=days_after)
    with SqlPaymentImportUnitOfWorkFactory(book.engine)() as uow:
        whole = uow.book.get_many(list(range(1, LOANS + 1)))
        refs = [booked.loan.loan_id for booked in whole]
        read = uow.payment_imports.snapshots([*reversed(refs), "NO-SUCH"], open_day)
    assert sorted(read) == sorted(refs)
    assert any(snapshot.rows for snapshot in read.values())
    assert any(row.penalty_accrued for snapshot in read.values() for row in snapshot.rows)
    for booked in whole:
        snapshot = read[booked.loan.loan_id]
        assert snapshot == _expected(booked, open_day)
        # Integers as the book holds them, not numbers a database summed into a decimal.
        assert {type(snapshot.ahead_owed), type(snapshot.ahead_principal)} == {int}


def _priced(uow: SqlPaymentImportUnitOfWork, open_day: date) -> list[LoanPosted]:
    """Every loan of the book that the same-day path prices, each paid 0.01 on `open_day`."""
    whole = {b.loan.loan_id: b for b in uow.book.get_many(list(range(1, LOANS + 1)))}
    read = uow.payment_imports.snapshots(list(whole), open_day)
    return [posted for ref, snapshot in read.items() if snapshot.rows
            if (posted := price_same_day(snapshot, whole[ref].loan.product,
                                         [(f"k-{ref}", 1)], open_day)) is not None]


def test_a_loan_moved_since_it_was_read_refuses_the_whole_write(
        book: bootstrap.Services) -> None:
    open_day = CLOSED + timedelta(days=1)
    before = table_rows(book)
    with SqlPaymentImportUnitOfWorkFactory(book.engine)() as uow:
        priced = _priced(uow, open_day)
        assert len(priced) >= 2
        priced[-1].snapshot.state_on -= timedelta(days=1)  # as another writer left it
        with pytest.raises(StaleWrite, match=f"1 of {len(priced)} loans"):
            uow.payment_imports.write_same_day(priced, open_day)
    assert table_rows(book) == before


def _second_month(built: bootstrap.Services) -> date:
    """LOANS demo loans; every other one paid its first installment on its due date, so
    end-of-day passes it over after; the book closed the day before the second falls due.
    The open day."""
    servicing.init_book(START, default_products(), uow_factory=built.uow_factory)
    servicing.board_rows([planned.row for planned in demo.plan_book(LOANS, 1, START, seed=5)],
                         uow_factory=built.uow_factory, clock=built.clock)
    first_due = START + timedelta(days=31)
    eod.run_eod_through(first_due - timedelta(days=1), uow_factory=built.uow_factory,
                        clock=built.clock)
    with built.uow_factory() as uow:
        loans = uow.book.get_many(list(range(1, LOANS + 1, 2)))
    for booked in loans:
        payments.post_payment(booked.loan.loan_id, due_on(booked.loan, booked.state, first_due),
                              first_due, f"m1-{booked.id}", uow_factory=built.uow_factory,
                              clock=built.clock)
    second_due = first_due + timedelta(days=28)
    eod.run_eod_through(second_due - timedelta(days=1), uow_factory=built.uow_factory,
                        clock=built.clock)
    return second_due


def _same_day_file(built: bootstrap.Services, open_day: date) -> str:
    """A row or two for each loan, dated the open day, in turn: what it owes through the
    day, one minor unit less, the same split at its first installment's end, one minor unit
    more, that and the next installment paid early (both held as credit), and its payoff
    (which goes the domain's way)."""
    closed = open_day - timedelta(days=1)
    lines = ["key,loan_id,amount,paid_on"]
    with built.uow_factory() as uow:
        loans = uow.book.get_many(list(range(1, LOANS + 1)))
    for index, booked in enumerate(loans):
        state = eod.current_state(booked, closed)
        due = due_on(booked.loan, state, open_day)
        first = next(sum(owed_on(row, booked.loan.product, open_day).values())
                     for row in state.installments if not row.is_paid)
        ahead = next(row.principal + row.interest + row.fee for row in state.installments
                     if row.due_date > open_day)
        amounts = [[due], [due - 1], [first, due - first], [due + 1], [due + ahead],
                   [summarize(booked.loan, state).payoff_amount]][index % 6]
        lines += [f"f-{booked.id}-{n},{booked.loan.loan_id},{amount // 100}."
                  f"{amount % 100:02d},{open_day}" for n, amount in enumerate(amounts)
                  if amount > 0]
    return "\n".join(lines) + "\n"


def test_a_same_day_file_writes_what_paying_one_by_one_writes(
        services: bootstrap.Services, twin: bootstrap.Services,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """On-time payers end-of-day passed over and overdue loans with penalty, priced on their
    rows and written as `write_same_day` writes them (installments, postings, bucket
    changes), beside loans the domain prices, in chunks mixing both: the same book as `pay`
    row by row, events in file order."""
    open_day = _second_month(services)
    assert _second_month(twin) == open_day
    written: list[int] = []
    rows_of = SqlPaymentImports.chunk_rows

    def counted(self: SqlPaymentImports, chunk: ChunkWrites, business_date: date,
                source: str, file_sha256: str) -> ChunkRows:
        written.extend(posted.snapshot.id for posted in chunk.same_day)
        return rows_of(self, chunk, business_date, source, file_sha256)

    monkeypatch.setattr(SqlPaymentImports, "chunk_rows", counted)
    parsed = payment_file.parse(_same_day_file(services, open_day),
                                payment_file.FORMATS["generic"])
    report = import_payments(parsed, "0" * 64, clock=services.clock, chunk_rows=7,
                             uow_factory=SqlPaymentImportUnitOfWorkFactory(services.engine),
                             is_duplicate_key_error=bootstrap.is_duplicate_key_error)
    assert len(report.posted) == len(parsed.rows)
    for row in parsed.rows:
        payments.post_payment(row.loan_ref, payment_file.minor_units(row.amount, "CNY"),
                              row.on, row.key, uow_factory=twin.uow_factory, clock=twin.clock)
    # Both kinds of loan went the fast way: paid on time (stored a month back) and overdue;
    # and paying ahead, held as credit.
    assert {loan_id % 2 for loan_id in written} == {0, 1}
    assert len(written) >= LOANS // 2
    with services.uow_factory() as uow:
        held = [b.id for b in uow.book.get_many(sorted(set(written))) if b.state.unapplied]
    assert {(loan_id - 1) % 6 for loan_id in held} == {3, 4}
    filed, single = table_rows(services), table_rows(twin)
    assert [row for row in filed["delinquency_change"] if row[2] == open_day], \
        "an overdue loan paid up moves bucket on the open day"
    for name, rows in filed.items():
        if name == "payment_import":
            continue
        # Ids aside; the outbox in the order written, the rest as sets of rows.
        if "id" in t.metadata.tables[name].c:
            rows, twin_rows = [row[1:] for row in rows], [row[1:] for row in single[name]]
        else:
            twin_rows = single[name]
        if name != "outbox":
            rows, twin_rows = sorted(rows, key=repr), sorted(twin_rows, key=repr)
        assert rows == twin_rows, name
    assert_ledger_consistent(services)


def test_an_installment_gone_since_it_was_read_refuses_the_whole_write(
        book: bootstrap.Services) -> None:
    open_day = CLOSED + timedelta(days=1)
    before = table_rows(book)
    with SqlPaymentImportUnitOfWorkFactory(book.engine)() as uow:
        priced = _priced(uow, open_day)
        # As if another writer had rescheduled the loan: the installment is not there (a
        # payment held whole as credit changes none).
        moved = next(posted for posted in priced if posted.changed)
        moved.changed[0] = replace(moved.changed[0], number=999)
        with pytest.raises(StaleWrite, match="installments changed"):
            uow.payment_imports.write_same_day(priced, open_day)
    assert table_rows(book) == before


@pytest.fixture
def sqlite_only(database_url: str) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("PostgreSQL cannot tell another connection's commits: nothing is priced "
                    "ahead there (`pricing_ahead`)")


def _import_ahead(built: bootstrap.Services, text: str, ahead: ReadAhead | None,
                  on_chunk: Callable[[int], None] = lambda _: None) -> ImportReport:
    parsed = payment_file.parse(text, payment_file.FORMATS["generic"])
    return import_payments(parsed, "0" * 64, clock=built.clock, chunk_rows=7,
                           uow_factory=SqlPaymentImportUnitOfWorkFactory(built.engine),
                           is_duplicate_key_error=bootstrap.is_duplicate_key_error,
                           on_chunk=on_chunk, read_ahead=ahead)


def _priced_here(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the chunks this process prices itself (the pricing processes are not patched)."""
    priced: list[int] = []
    real = payment_import._price_chunk

    def counted(uow: SqlPaymentImportUnitOfWork, parsed: payment_file.PaymentFile,
                chunk: list[list[payment_file.PaymentRow]], clock: Clock) -> object:
        priced.append(len(chunk))
        return real(uow, parsed, chunk, clock)

    monkeypatch.setattr(payment_import, "_price_chunk", counted)
    return priced


def test_chunks_priced_ahead_in_other_processes_write_what_the_writer_would(
        services: bootstrap.Services, twin: bootstrap.Services, sqlite_only: None,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Both ways of pricing (loans priced on their rows ahead, loans the domain prices in
    the writer) in chunks mixing them: the same rows, ids and outbox order as a file posted
    without pricing processes, and none of its chunks priced again in the writer."""
    open_day = _second_month(services)
    assert _second_month(twin) == open_day
    text = _same_day_file(services, open_day)
    priced_here = _priced_here(monkeypatch)
    # Two connections lent at once before, both idle now: the writer's units of work still
    # get one and the same connection, whose counters tell that nothing else wrote.
    first, second = services.engine.connect(), services.engine.connect()
    first.close()
    second.close()
    monkeypatch.setattr(payment_import_store, "READ_AHEAD_MIN_ROWS", 8)  # a file this small
    factory = SqlPaymentImportUnitOfWorkFactory(services.engine)
    with payment_import_store.pricing_ahead(factory, 8) as ahead:
        assert isinstance(ahead, ProcessReadAhead)
        report = _import_ahead(services, text, ahead)
    assert priced_here == []
    assert report == _import_ahead(twin, text, None)
    assert len(priced_here) > 3  # the twin's chunks, for the record
    assert table_rows(services) == table_rows(twin)
    assert_ledger_consistent(services)


def test_a_commit_by_another_writer_meanwhile_has_the_writer_price_again(
        services: bootstrap.Services, twin: bootstrap.Services, sqlite_only: None,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Between two chunks another connection posts a payment to a loan of the file's last
    chunk, which the pricing processes may have read already: the next chunk is priced
    again in the writer, the rest read again after it, and the book ends as the twin that
    priced every chunk in its writer with the same payment between the same chunks."""
    open_day = _second_month(services)
    assert _second_month(twin) == open_day
    text = _same_day_file(services, open_day)
    last_loan = text.splitlines()[-1].split(",")[1]

    def paid_meanwhile(built: bootstrap.Services) -> Callable[[int], None]:
        chunks: list[int] = []

        def after_chunk(rows: int) -> None:
            chunks.append(rows)
            if len(chunks) == 1:
                payments.post_payment(last_loan, 100, open_day, "meanwhile",
                                      uow_factory=built.uow_factory, clock=built.clock)
        return after_chunk

    priced_here = _priced_here(monkeypatch)
    with ProcessReadAhead(str(services.engine.url), 2, SqlPaymentImportUnitOfWorkFactory) as ahead:
        report = _import_ahead(services, text, ahead, paid_meanwhile(services))
    assert priced_here == [7]  # the chunk after the payment; the others read again after it
    assert report == _import_ahead(twin, text, None, paid_meanwhile(twin))
    assert table_rows(services) == table_rows(twin)
    assert_ledger_consistent(services)


def test_the_version_moves_when_anyone_else_writes(services: bootstrap.Services,
                                                  sqlite_only: None) -> None:
    """What a transaction leaves is what the next finds, unless something else wrote
    between: another connection, or another unit of work lent the same pooled connection."""
    factory = SqlPaymentImportUnitOfWorkFactory(services.engine)
    with services.engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE scratch (x)")
    with factory() as uow:
        uow.payment_imports.connection.exec_driver_sql("INSERT INTO scratch VALUES (1)")
        left = uow.payment_imports.version()
        uow.commit()
    with factory() as uow:
        assert uow.payment_imports.version() == left
    with services.engine.begin() as connection:  # the pool's one connection, lent again
        connection.exec_driver_sql("INSERT INTO scratch VALUES (2)")
    with factory() as uow:
        found = uow.payment_imports.version()
    assert isinstance(left, tuple) and isinstance(found, tuple)
    assert found[0] is left[0] and found != left
    other = sa.create_engine(services.engine.url)
    with other.begin() as connection:
        connection.exec_driver_sql("INSERT INTO scratch VALUES (3)")
    other.dispose()
    with factory() as uow:
        assert uow.payment_imports.version() != found


def test_a_refusal_in_a_pricing_process_reaches_the_caller_as_itself(
        services: bootstrap.Services, sqlite_only: None,
        caplog: pytest.LogCaptureFixture) -> None:
    text = "key,loan_id,amount,paid_on\n" + "".join(
        f"k-{n},L-{n},1.00,2026-02-01\n" for n in range(20))
    with ProcessReadAhead(str(services.engine.url), 2, SqlPaymentImportUnitOfWorkFactory) as ahead:
        with pytest.raises(PaymentRejected, match="no business date") as refused:
            _import_ahead(services, text, ahead)  # a book never opened (`arrears init`)
    assert refused.value.field == "on"
    # Raised by the pricing process, not again here after the pool broke on it.
    assert "a reading process was lost" not in caplog.text


def test_small_files_and_postgresql_books_are_priced_in_the_writer(
        services: bootstrap.Services) -> None:
    factory = SqlPaymentImportUnitOfWorkFactory(services.engine)
    with payment_import_store.pricing_ahead(factory, READ_AHEAD_MIN_ROWS - 1) as ahead:
        assert ahead is None  # processes would cost more to start than they save
    if services.engine.dialect.name == "postgresql":
        with payment_import_store.pricing_ahead(factory, 10 * READ_AHEAD_MIN_ROWS) as ahead:
            assert ahead is None  # no version: another writer's commit would go unseen
