"""Read side of one booked loan for the API: its status, schedule, payoff quote, and a posted
payment as stored (so a retried request gets the document the first one got)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from arrears.application.handlers.eod import current_state
from arrears.application.loan_file import money_text, schedule_document, status_document
from arrears.application.ports import BookedLoan, UnitOfWork
from arrears.domain.errors import DomainError
from arrears.domain.loan import summarize
from arrears.domain.schedule import build_schedule

PARTS = ("fee", "penalty", "compound", "interest", "principal", "credit")


def _booked(uow: UnitOfWork, loan_ref: str) -> BookedLoan:
    booked = uow.book.get(loan_ref)
    if booked is None:
        raise DomainError("loan_id", f"no loan {loan_ref!r}")
    return booked


def loan_status_document(loan_ref: str, *, uow_factory: Callable[[], UnitOfWork]
                         ) -> dict[str, Any]:
    """The `loan status --json` document of a booked loan at the closed business date."""
    with uow_factory() as uow:
        booked = _booked(uow, loan_ref)
        closed = uow.book.closed_through()
    state = booked.state if closed is None else current_state(booked, closed)
    return status_document(booked.loan, state, summarize(booked.loan, state))


def loan_schedule_document(loan_ref: str, *, uow_factory: Callable[[], UnitOfWork]
                           ) -> dict[str, Any]:
    """The contractual schedule, as `arrears schedule --json` prints it."""
    with uow_factory() as uow:
        loan = _booked(uow, loan_ref).loan
    rows = build_schedule(loan.principal, loan.product, loan.disbursed_on, loan.terms)
    return {"loan_id": loan_ref, "currency": loan.currency,
            "installments": schedule_document(rows, loan.currency)}


def payoff_quote_document(loan_ref: str, *, uow_factory: Callable[[], UnitOfWork]
                          ) -> dict[str, Any]:
    """What settles the loan (提前结清) on the open business date."""
    with uow_factory() as uow:
        booked = _booked(uow, loan_ref)
        closed = uow.book.closed_through()
    if closed is None:
        raise DomainError("business_date", "the book has no business date; run `arrears init`")
    summary = summarize(booked.loan, current_state(booked, closed))
    return {"loan_id": loan_ref, "on": (closed + timedelta(days=1)).isoformat(),
            "currency": booked.loan.currency,
            "payoff_amount": money_text(summary.payoff_amount, booked.loan.currency)}


def payment_document(key: str, *, uow_factory: Callable[[], UnitOfWork]) -> dict[str, Any]:
    """The payment (or reversal) posted under `key`, with its split, as stored."""
    with uow_factory() as uow:
        stored = uow.book.payment_by_key(key)
        if stored is None:
            raise DomainError("key", f"no payment {key!r}")
        booked = uow.book.get_many([stored.loan_id])[0]
        loan_ref, currency = booked.loan.loan_id, booked.loan.currency
        row = next(p for p in uow.reports.payments_of(loan_ref)
                   if p["idempotency_key"] == key)
    return {"payment_id": stored.id, "loan_id": loan_ref, "key": key,
            "on": stored.on.isoformat(), "amount": money_text(stored.amount, currency),
            "currency": currency, "reverses": row["reverses_id"] is not None,
            **{f"to_{part}": money_text(row[f"to_{part}"], currency) for part in PARTS}}
