"""The payment-file store on both databases (PostgreSQL reads loan by loan and writes whole
chunks in one statement, SQLite by lists): it reads each loan as the book holds it, and a
write that finds a loan moved since it was read is refused whole."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from arrears import bootstrap
from arrears.adapters.db.payment_import_store import SqlPaymentImportUnitOfWorkFactory
from arrears.application import demo
from arrears.application.handlers import eod, payments, servicing
from arrears.application.handlers.same_day_payments import LoanSnapshot, price_same_day
from arrears.application.ports import BookedLoan, StaleWrite
from arrears.domain.loan import InstallmentState

from book_checks import table_rows
from shipped import default_products

START = date(2026, 1, 1)
CLOSED = START + timedelta(days=75)  # loans fallen due, some overdue with penalty
LOANS = 24
AMOUNTS = ("principal", "interest", "fee", "paid_principal", "paid_interest", "paid_fee",
           "penalty_accrued", "penalty_paid", "compound_accrued", "compound_paid",
           "interest_earned", "fee_earned")
PENALTY = 2 + AMOUNTS.index("penalty_accrued")  # in a snapshot's row, after number and date


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
    return LoanSnapshot(
        id=booked.id, loan_ref=booked.loan.loan_id, currency=booked.loan.currency,
        product_code=booked.product_code, disbursed_on=booked.loan.disbursed_on,
        state_on=state.as_of, bucket=booked.bucket, delinquent_since=state.delinquent_since,
        holds_plan=False, written_off=booked.loan.written_off_on is not None,
        paused=bool(state.pauses), plan_amounts=bool(state.waived.total()
                                                     or state.capitalised.total()),
        unapplied=state.unapplied, offer_received=state.offer_received,
        first_due=min(r.due_date for r in rows),
        next_unpaid_due=min((r.due_date for r in rows if r.due_date > open_day
                             and not r.is_paid), default=None),
        rows=[[r.number, r.due_date, *(getattr(r, name) for name in AMOUNTS)]
              for r in rows if r.due_date <= open_day and _live(r)])


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
    assert any(row[PENALTY] for snapshot in read.values() for row in snapshot.rows)
    for booked in whole:
        assert read[booked.loan.loan_id] == _expected(booked, open_day)


def test_a_loan_moved_since_it_was_read_refuses_the_whole_write(
        book: bootstrap.Services) -> None:
    open_day = CLOSED + timedelta(days=1)
    before = table_rows(book)
    with SqlPaymentImportUnitOfWorkFactory(book.engine)() as uow:
        whole = {b.loan.loan_id: b for b in uow.book.get_many(list(range(1, LOANS + 1)))}
        read = uow.payment_imports.snapshots(list(whole), open_day)
        priced = [posted for ref, snapshot in read.items() if snapshot.rows
                  if (posted := price_same_day(snapshot, whole[ref].loan.product,
                                               [(f"k-{ref}", 1)], open_day)) is not None]
        assert len(priced) >= 2
        priced[-1].snapshot.state_on -= timedelta(days=1)  # as another writer left it
        with pytest.raises(StaleWrite, match=f"1 of {len(priced)} loans"):
            uow.payment_imports.write_same_day(priced, open_day)
    assert table_rows(book) == before
