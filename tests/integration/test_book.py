"""The loan book on a real database: boarding, import, payments, reversals, EOD, write-off."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.dialects import sqlite

from arrears import bootstrap
from arrears.adapters.db import tables as t
from arrears.adapters.db.book import (
    INSTALLMENT_AMOUNTS,
    INSTALLMENT_FIELDS,
    driver_form,
    stored_installment,
)
from arrears.adapters.db.payment_import_store import SqlPaymentImportUnitOfWorkFactory
from arrears.application import queries
from arrears.application.handlers import eod, payments, servicing
from arrears.application.loan_import import ImportRejected
from arrears.domain.errors import DomainError, PaymentRejected
from arrears.domain.loan import InstallmentState, Payment, state_on

from book_checks import assert_ledger_consistent, table_rows
from shipped import default_products

EXAMPLES = Path(__file__).parents[2] / "examples"
OPEN = date(2026, 2, 2)


def _open_book(services: bootstrap.Services) -> None:
    servicing.init_book(OPEN, default_products(), uow_factory=services.uow_factory)
    servicing.import_loans_csv((EXAMPLES / "loans.csv").read_text(),
                               uow_factory=services.uow_factory, clock=services.clock)


def _eod(services: bootstrap.Services, through: date, **options: object) -> None:
    eod.run_eod_through(through, uow_factory=services.uow_factory, clock=services.clock,
                        **options)  # type: ignore[arg-type]


def _pay(services: bootstrap.Services, loan: str, amount: int, on: date, key: str):
    return payments.post_payment(loan, amount, on, key, uow_factory=services.uow_factory,
                                 clock=services.clock,
                                 is_duplicate_key_error=bootstrap.is_duplicate_key_error)


def _count(services: bootstrap.Services, table: sa.Table) -> int:
    with services.engine.connect() as connection:
        return int(connection.scalar(sa.select(sa.func.count()).select_from(table)) or 0)


def test_import_boards_loans_and_borrowers(services):
    _open_book(services)
    assert _count(services, t.loan) == 4
    assert _count(services, t.borrower) == 3  # B-1001 has a cash loan and a phone
    assert _count(services, t.contact_person) == 1
    assert_ledger_consistent(services)


def test_a_csv_with_one_bad_row_imports_nothing_and_names_line_and_field(services):
    servicing.init_book(OPEN, default_products(), uow_factory=services.uow_factory)
    lines = (EXAMPLES / "loans.csv").read_text().splitlines()
    lines[3] = lines[3].replace(",6999.00,", ",-1.00,")
    with pytest.raises(ImportRejected) as rejected:
        servicing.import_loans_csv("\n".join(lines) + "\n", uow_factory=services.uow_factory,
                                   clock=services.clock)
    assert [(e.line, e.field) for e in rejected.value.errors] == [(4, "principal")]
    assert _count(services, t.loan) == 0
    assert _count(services, t.borrower) == 0


def test_every_bad_row_is_reported(services):
    servicing.init_book(OPEN, default_products(), uow_factory=services.uow_factory)
    lines = (EXAMPLES / "loans.csv").read_text().splitlines()
    lines[1] = lines[1].replace("13812345678", "12345")
    lines[2] = lines[2].replace("WLD-DAILY", "NOPE")
    lines[4] = lines[4].replace("2026-02-01", "2026-02-30")
    with pytest.raises(ImportRejected) as rejected:
        servicing.import_loans_csv("\n".join(lines) + "\n", uow_factory=services.uow_factory,
                                   clock=services.clock)
    assert [(e.line, e.field) for e in rejected.value.errors] == [
        (2, "phone"), (3, "product"), (5, "disbursed_on")]


def test_a_retried_payment_posts_once(services):
    _open_book(services)
    _eod(services, date(2026, 2, 14))
    first = _pay(services, "WLD-1001", 91_680, date(2026, 2, 15), "cb-1")
    again = _pay(services, "WLD-1001", 91_680, date(2026, 2, 15), "cb-1")
    assert not first.duplicate and again.duplicate
    assert again.payment_id == first.payment_id
    assert _count(services, t.payment) == 1
    with pytest.raises(PaymentRejected, match="already used"):
        _pay(services, "WLD-1001", 100, date(2026, 2, 15), "cb-1")
    assert_ledger_consistent(services)


def test_payments_outside_the_open_date_or_before_disbursement_are_refused(services):
    _open_book(services)
    with pytest.raises(PaymentRejected, match="after the open business date"):
        _pay(services, "WLD-1001", 100, date(2026, 3, 1), "future")
    with pytest.raises(PaymentRejected, match="before disbursement"):
        _pay(services, "PHN-2002", 100, date(2026, 1, 31), "early")
    with pytest.raises(PaymentRejected, match="no loan"):
        _pay(services, "NOPE", 100, OPEN, "nope")


def test_the_book_agrees_with_the_pure_engine(services):
    _open_book(services)
    _eod(services, date(2026, 2, 14))
    _pay(services, "WLD-1001", 91_680, date(2026, 2, 15), "a")
    _eod(services, date(2026, 3, 19))
    _pay(services, "WLD-1001", 50_000, date(2026, 3, 20), "b")
    _eod(services, date(2026, 5, 1))
    with services.uow_factory() as uow:
        booked = uow.book.get("WLD-1001")
    assert booked is not None
    expected = state_on(booked.loan, [Payment(key="a", on=date(2026, 2, 15), amount=91_680),
                                      Payment(key="b", on=date(2026, 3, 20), amount=50_000)],
                        date(2026, 5, 1))
    assert booked.state == expected
    assert_ledger_consistent(services)


def test_a_back_dated_payment_restates_the_loan(services):
    _open_book(services)
    _eod(services, date(2026, 3, 31))
    _pay(services, "WLD-1001", 91_680, date(2026, 2, 15), "late-file")
    with services.uow_factory() as uow:
        booked = uow.book.get("WLD-1001")
    assert booked is not None
    assert booked.state == state_on(
        booked.loan, [Payment(key="late-file", on=date(2026, 2, 15), amount=91_680)],
        date(2026, 3, 31))
    assert_ledger_consistent(services)


def test_a_reversal_restates_the_loan_without_the_payment(services):
    _open_book(services)
    _eod(services, date(2026, 2, 14))
    _pay(services, "WLD-1001", 91_680, date(2026, 2, 15), "a")
    _eod(services, date(2026, 4, 1))
    result = payments.reverse_payment("a", "rev-a", uow_factory=services.uow_factory,
                                      clock=services.clock)
    assert result.applied is not None and result.applied.amount == -91_680
    with services.uow_factory() as uow:
        booked = uow.book.get("WLD-1001")
    assert booked is not None
    assert booked.state == state_on(booked.loan, [], date(2026, 4, 1))
    assert _count(services, t.payment) == 2  # the original stays; the reversal is new
    income = queries.income_document(OPEN, date(2026, 4, 2), uow_factory=services.uow_factory)
    assert income["payments_received"] == "0.00"  # received, then handed back
    assert_ledger_consistent(services)
    with pytest.raises(PaymentRejected, match="already reversed"):
        payments.reverse_payment("a", "rev-a-2", uow_factory=services.uow_factory,
                                 clock=services.clock)


def test_eod_of_a_completed_date_changes_nothing(services):
    _open_book(services)
    _eod(services, date(2026, 4, 1))
    before = table_rows(services)
    report = eod.run_eod(date(2026, 4, 1), uow_factory=services.uow_factory,
                         clock=services.clock)
    assert report.already_completed
    assert table_rows(services) == before


def test_eod_refuses_a_date_out_of_order(services):
    _open_book(services)
    with pytest.raises(DomainError, match="not the open business date"):
        eod.run_eod(date(2026, 3, 1), uow_factory=services.uow_factory, clock=services.clock)


def test_write_off_at_the_configured_dpd_then_recovery(services):
    _open_book(services)
    _eod(services, date(2026, 4, 1), write_off_dpd=40)
    with services.uow_factory() as uow:
        booked = uow.book.get("WLD-1001")
    assert booked is not None and booked.loan.written_off_on == date(2026, 3, 27)
    document = queries.loan_document("WLD-1001", uow_factory=services.uow_factory)
    assert document["status"] == "written_off"
    penalty = document["installments"][0]["penalty_accrued"]
    _eod(services, date(2026, 4, 10), write_off_dpd=40)
    after = queries.loan_document("WLD-1001", uow_factory=services.uow_factory)
    assert after["installments"][0]["penalty_accrued"] == penalty  # accrual stopped
    _pay(services, "WLD-1001", 10_000, date(2026, 4, 11), "recovery")
    income = queries.income_document(OPEN, date(2026, 4, 11), uow_factory=services.uow_factory)
    assert income["recoveries"] == "100.00"
    assert income["written_off"] != "0.00"
    assert_ledger_consistent(services)


def test_a_loan_that_fails_is_set_aside_and_catches_up(services, monkeypatch):
    _open_book(services)
    _eod(services, date(2026, 3, 1))
    real = eod.close_loan_day

    def failing(booked, day, write_off_dpd, clock):
        if booked.loan.loan_id == "WLD-1002":
            raise RuntimeError("disk on fire")
        return real(booked, day, write_off_dpd, clock)

    monkeypatch.setattr(eod, "close_loan_day", failing)
    report = eod.run_eod(date(2026, 3, 2), uow_factory=services.uow_factory,
                         clock=services.clock)
    assert report.loans_failed == 1
    portfolio = queries.portfolio_document(None, uow_factory=services.uow_factory)
    assert portfolio["eod_failures"] == [{"loan_id": "WLD-1002",
                                          "error": "RuntimeError: disk on fire"}]
    monkeypatch.setattr(eod, "close_loan_day", real)
    _eod(services, date(2026, 3, 10))
    with services.uow_factory() as uow:
        booked = uow.book.get("WLD-1002")
    assert booked is not None
    assert booked.state == state_on(booked.loan, [], date(2026, 3, 10))
    assert_ledger_consistent(services)


def test_portfolio_report_shape(services):
    _open_book(services)
    _eod(services, date(2026, 3, 20))
    document = queries.portfolio_document(date(2026, 3, 20), uow_factory=services.uow_factory)
    assert set(document["buckets"]) == {"C", "M1", "M2", "M3", "M4", "M5", "M6", "M7+"}
    assert sum(b["loans"] for b in document["buckets"].values()) == 4
    with pytest.raises(DomainError, match="closed through"):
        queries.portfolio_document(date(2026, 3, 1), uow_factory=services.uow_factory)


def test_demo_is_deterministic_and_consistent(services, tmp_path):
    from arrears.application import demo

    planned = demo.plan_book(60, 50, date(2026, 1, 1), seed=3)
    result = demo.simulate(planned, date(2026, 1, 1), 50, default_products(),
                           uow_factory=services.uow_factory,
                           paying=SqlPaymentImportUnitOfWorkFactory(services.engine),
                           clock=services.clock,
                           write_off_dpd=180)
    assert result.payments_posted > 0
    assert_ledger_consistent(services)
    assert demo.plan_book(60, 50, date(2026, 1, 1), seed=3) == planned
    assert timedelta(days=49) == result.through - result.start


def test_a_key_used_for_another_loan_or_posting_is_refused(services):
    _open_book(services)
    _pay(services, "WLD-1001", 10_000, OPEN, "K")
    with pytest.raises(PaymentRejected, match="another loan or amount"):
        _pay(services, "WLD-1002", 10_000, OPEN, "K")
    _pay(services, "WLD-1002", 10_000, OPEN, "K2")
    payments.reverse_payment("K", "R", uow_factory=services.uow_factory, clock=services.clock)
    with pytest.raises(PaymentRejected, match="already used for another posting"):
        payments.reverse_payment("K2", "R", uow_factory=services.uow_factory,
                                 clock=services.clock)
    assert_ledger_consistent(services)


def test_a_payment_posted_while_eod_runs_counts_from_its_own_date(services):
    """A loan EOD has already closed for the open date takes a payment dated that date as a
    restatement, so the day's accrual is on the balance after the payment."""
    _open_book(services)
    _eod(services, date(2026, 2, 20))
    day = date(2026, 2, 21)

    posted: list[int] = []

    def pay_once(count: int) -> None:
        if not posted:  # after the first batch (WLD-1001 alone) has committed
            posted.append(count)
            _pay(services, "WLD-1001", 50_000, day, "mid-run")

    eod.run_eod(day, uow_factory=services.uow_factory, clock=services.clock, batch_size=1,
                on_batch=pay_once)
    _eod(services, date(2026, 2, 23))
    with services.uow_factory() as uow:
        booked = uow.book.get("WLD-1001")
    assert booked is not None
    assert booked.state == state_on(
        booked.loan, [Payment(key="mid-run", on=day, amount=50_000)], date(2026, 2, 23))
    assert_ledger_consistent(services)


def test_a_csv_with_values_too_long_for_the_store_names_them(services):
    servicing.init_book(OPEN, default_products(), uow_factory=services.uow_factory)
    lines = (EXAMPLES / "loans.csv").read_text().splitlines()
    lines[1] = lines[1].replace("WLD-1001", "W" * 70)
    lines[2] = lines[2].replace(",5000.00,", ",100000000000000000.00,")
    with pytest.raises(ImportRejected) as rejected:
        servicing.import_loans_csv("\n".join(lines) + "\n", uow_factory=services.uow_factory,
                                   clock=services.clock)
    assert [(e.line, e.field) for e in rejected.value.errors] == [(2, "loan_id"),
                                                                  (3, "principal")]


@given(st.tuples(st.integers(1, 60), st.dates(),
                 *(st.integers(-10**15, 10**15) for _ in INSTALLMENT_AMOUNTS)))
def test_a_stored_installment_is_the_one_its_keyword_init_makes(values):
    """`stored_installment` sets the fields as the dataclass's `__init__` would, which holds
    only while the class checks nothing as it is made."""
    assert not hasattr(InstallmentState, "__post_init__")
    made = stored_installment(values)
    assert made == InstallmentState(**dict(zip(INSTALLMENT_FIELDS, values, strict=True)))
    assert hash(made) == hash(InstallmentState(**dict(zip(INSTALLMENT_FIELDS, values,
                                                           strict=True))))
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.number = 0


def test_driver_form_memo_tells_equal_instants_in_two_zones_apart():
    """SQLite's driver form of an instant is its wall time: the memo must not hand the form of
    an equal instant met earlier in another zone."""
    convert = driver_form(sqlite.dialect(), t.payment.c.recorded_at.type)
    shanghai = datetime(2026, 1, 1, 9, 0, tzinfo=timezone(timedelta(hours=8)))
    utc_instant = datetime(2026, 1, 1, 1, 0, tzinfo=UTC)
    assert shanghai == utc_instant
    assert (convert(shanghai), convert(utc_instant)) == (
        "2026-01-01 09:00:00.000000", "2026-01-01 01:00:00.000000")
