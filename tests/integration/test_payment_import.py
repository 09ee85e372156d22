"""Payment files on a real database: rows post exactly as single payments would, once per key,
bad rows refused with their line and column while the others post, whole chunks at a time."""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa

from arrears import bootstrap
from arrears.adapters.db import tables as t
from arrears.adapters.db.book import BULK_INSERT_ROWS, driver_form, insert_rows
from arrears.adapters.db.payment_import_store import (
    SqlPaymentImports,
    SqlPaymentImportUnitOfWorkFactory,
)
from arrears.application import payment_file
from arrears.application.handlers import eod, payments, servicing
from arrears.application.handlers.payment_import import ImportReport, import_payments

from book_checks import assert_ledger_consistent, table_rows
from shipped import default_products

EXAMPLES = Path(__file__).parents[2] / "examples"
OPEN = date(2026, 2, 2)
CLOSED = date(2026, 2, 20)
# Same-day and back-dated rows, several for one loan, interleaved as a bank lists them.
GOOD = """key,loan_id,amount,paid_on
b-1,WLD-1001,500.00,2026-02-16
b-2,WLD-1002,100.00,2026-02-21
b-3,PHN-2001,300.00,2026-02-10
b-4,WLD-1001,416.80,2026-02-21
b-5,WLD-1002,50,2026-02-21
b-6,PHN-2002,9000.00,2026-02-21
b-7,WLD-1002,20.00,2026-02-18
"""


def _open_book(built: bootstrap.Services) -> None:
    servicing.init_book(OPEN, default_products(), uow_factory=built.uow_factory)
    servicing.import_loans_csv((EXAMPLES / "loans.csv").read_text(),
                               uow_factory=built.uow_factory, clock=built.clock)
    eod.run_eod_through(CLOSED, uow_factory=built.uow_factory, clock=built.clock)


@pytest.fixture
def book(services: bootstrap.Services) -> bootstrap.Services:
    _open_book(services)
    return services


@pytest.fixture
def twin(twin: bootstrap.Services) -> bootstrap.Services:
    """The second book (conftest's), opened as `book` is."""
    _open_book(twin)
    return twin


def _import(built: bootstrap.Services, text: str, layout: str = "generic",
            **options: object) -> ImportReport:
    parsed = payment_file.parse(text, payment_file.FORMATS[layout])
    return import_payments(parsed, hashlib.sha256(text.encode()).hexdigest(),
                           uow_factory=SqlPaymentImportUnitOfWorkFactory(built.engine),
                           clock=built.clock,
                           is_duplicate_key_error=bootstrap.is_duplicate_key_error,
                           **options)  # type: ignore[arg-type]


def _without_ids(built: bootstrap.Services) -> dict[str, list[tuple[object, ...]]]:
    """Every table of the book but the import record, rows without surrogate ids, sorted: two
    books that posted the same payments in another order compare equal."""
    dump = {}
    for name, rows in table_rows(built).items():
        if name == "payment_import":
            continue
        columns = [c.name for c in t.metadata.tables[name].columns]
        kept = [i for i, column in enumerate(columns) if column != "id"]
        dump[name] = sorted((tuple(row[i] for i in kept) for row in rows), key=repr)
    return dump


def test_a_file_posts_what_single_payments_post_whole_chunks_at_a_time(book, twin,
                                                                      monkeypatch):
    real = SqlPaymentImports.write_chunk
    calls = []

    def crash_on_the_third_chunk(self, parts):
        calls.append(len(parts))
        if len(calls) == 3:
            raise RuntimeError("killed")
        return real(self, parts)

    monkeypatch.setattr(SqlPaymentImports, "write_chunk", crash_on_the_third_chunk)
    with pytest.raises(RuntimeError):
        _import(book, GOOD, chunk_rows=3)
    with book.engine.connect() as connection:
        posted = set(connection.scalars(sa.select(t.payment.c.idempotency_key)))
    assert posted == {"b-1", "b-4", "b-2", "b-5", "b-7"}  # the first two chunks: whole loans
    monkeypatch.setattr(SqlPaymentImports, "write_chunk", real)
    rerun = _import(book, GOOD, chunk_rows=3)
    assert [r.line for r in rerun.posted] == [4, 7]
    assert [r.line for r in rerun.already_posted] == [2, 3, 5, 6, 8]
    for row in payment_file.parse(GOOD, payment_file.FORMATS["generic"]).rows:
        payments.post_payment(row.loan_ref, payment_file.minor_units(row.amount, "CNY"),
                              row.on, row.key, uow_factory=twin.uow_factory, clock=twin.clock,
                              is_duplicate_key_error=bootstrap.is_duplicate_key_error)
    assert _without_ids(book) == _without_ids(twin)
    assert_ledger_consistent(book)
    before = table_rows(book)
    again = _import(book, GOOD)
    assert table_rows(book) == before
    assert len(again.already_posted) == 7 and again.posted == again.rejected == []


def test_bad_rows_are_refused_by_line_and_column_and_the_others_post(book):
    payments.post_payment("PHN-2002", 900000, date(2026, 2, 21), "b-6",
                          uow_factory=book.uow_factory, clock=book.clock)  # its callback
    payments.post_payment("WLD-1001", 999, date(2026, 2, 21), "b-4",
                          uow_factory=book.uow_factory, clock=book.clock)  # another payment
    lines = GOOD.splitlines()
    lines[2] = lines[2].replace("100.00", "100.005")  # more decimals than CNY has
    lines[3] = lines[3].replace("PHN-2001", "NO-SUCH-LOAN")
    lines[7] = lines[7].replace("2026-02-18", "2026-02-22")  # after the open day
    lines.append("b-8,WLD-1001,10.00,2026-01-01")  # before disbursement
    lines.append("b-1,WLD-1002,1.00,2026-02-21")  # b-1 again, for another payment: both out
    lines.append("b-5,WLD-1002,50.00,2026-02-21")  # b-5 again: the same payment
    lines.append(lines[3])  # a refused row again
    report = _import(book, "\n".join(lines) + "\n")
    assert [(r.line, r.field) for r in report.rejected] == [
        (2, "key"), (3, "amount"), (4, "loan_id"), (5, "key"), (8, "paid_on"), (9, "paid_on"),
        (10, "key"), (12, "loan_id")]
    assert [r.line for r in report.posted] == [6]
    assert [r.line for r in report.already_posted] == [7, 11]
    assert report.rows == 11
    with book.engine.connect() as connection:
        keys = set(connection.scalars(sa.select(t.payment.c.idempotency_key)))
    assert keys == {"b-4", "b-5", "b-6"}  # b-1 names two payments: neither is posted
    assert_ledger_consistent(book)


def test_provider_bills_post_their_payments_and_refuse_refunds(book):
    for layout, sample, encoding, posted in (
            ("wechat", "payments-wechat.csv", "utf-8", ["WLD-1001", "WLD-1002"]),
            ("alipay", "payments-alipay.csv", "gb18030", ["WLD-1001", "PHN-2001"])):
        content = (EXAMPLES / sample).read_text(encoding="utf-8").encode(encoding)
        parsed = payment_file.parse(
            payment_file.decode(content, payment_file.FORMATS[layout], "FILE.csv"),
            payment_file.FORMATS[layout])
        report = import_payments(parsed, hashlib.sha256(content).hexdigest(),
                                 uow_factory=SqlPaymentImportUnitOfWorkFactory(book.engine),
                                 clock=book.clock)
        assert [r.loan_ref for r in report.posted] == posted
        assert all(r.key.startswith(f"{layout}:") and r.restated for r in report.posted)
        assert [r.field for r in report.rejected] == [parsed.columns["status"]]
    with book.engine.connect() as connection:
        recorded = connection.execute(
            sa.select(t.payment_import.c.source, t.payment_import.c.line)
            .order_by(t.payment_import.c.source, t.payment_import.c.line)).all()
    assert recorded == [("alipay", 6), ("alipay", 7), ("wechat", 2), ("wechat", 3)]
    assert_ledger_consistent(book)


def test_a_bulk_write_meeting_a_key_already_taken_raises_the_error_imports_retry_on(book):
    """A bulk write (a COPY on PostgreSQL, which goes to the driver itself) that meets a key
    another transaction took raises what SQLAlchemy raises for its own statements: the
    duplicate-key error `import_payments` retries its chunk on, refusing that row alone. (A
    raw driver error failed the whole file when a payment raced it under the same key.)"""
    payments.post_payment("WLD-1001", 999, date(2026, 2, 21), "k-taken",
                          uow_factory=book.uow_factory, clock=book.clock)
    columns = [c.name for c in t.payment.columns if c.name != "id"]
    with book.engine.connect() as connection:
        taken = connection.execute(sa.select(t.payment).where(
            t.payment.c.idempotency_key == "k-taken")).one()
        again = tuple(driver_form(connection.dialect, t.payment.c[name].type)(
            getattr(taken, name)) for name in columns)
        with pytest.raises(sa.exc.IntegrityError) as refused:
            insert_rows(connection, t.payment, columns, [again] * BULK_INSERT_ROWS)
        connection.rollback()
    assert bootstrap.is_duplicate_key_error(refused.value)


def test_a_chunk_whose_key_a_concurrent_payment_took_is_posted_again_alone(book, monkeypatch):
    """Another writer takes one of a chunk's keys after the chunk was priced and before it is
    written: the write fails on the key, and the chunk is read and priced again, refusing that
    row alone, though the write went on the writer's thread while the next chunk was priced
    (`side_by_side`)."""
    if book.engine.dialect.name == "sqlite":
        pytest.skip("a SQLite writer holds the whole database: no other writer comes between")
    real = SqlPaymentImports.write_chunk
    calls = []

    def taken_meanwhile(self, parts):
        calls.append(sum(len(part.payments) for part in parts))
        at = book.clock.now()
        if len(calls) == 2:  # WLD-1002's chunk, priced with b-5 free
            with book.engine.begin() as other:
                loan_id = other.scalar(sa.select(t.loan.c.id).where(
                    t.loan.c.loan_ref == "WLD-1001"))
                other.execute(t.payment.insert().values(
                    loan_id=loan_id, idempotency_key="b-5", paid_on=CLOSED, amount=1,
                    to_fee=0, to_penalty=0, to_compound=0, to_interest=0, to_principal=0,
                    to_credit=1, recovery=False, prepayment=False, recorded_at=at))
        return real(self, parts)

    monkeypatch.setattr(SqlPaymentImports, "write_chunk", taken_meanwhile)
    report = _import(book, GOOD, chunk_rows=3)
    assert [r.line for r in report.rejected] == [6]
    assert "already used" in report.rejected[0].reason
    assert [r.line for r in report.posted] == [2, 3, 4, 5, 7, 8]
    assert calls == [2, 3, 2, 2]  # WLD-1002's chunk written again without b-5
