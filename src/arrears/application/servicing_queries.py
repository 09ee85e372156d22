"""Read side of one booked loan for the API: its status, schedule, payoff quote, and a posted
payment as stored (so a retried request gets the document the first one got)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from arrears.application.access import ApiUnitOfWork
from arrears.application.handlers.eod import current_state
from arrears.application.loan_file import money_text, schedule_document, status_document
from arrears.application.ports import BookedLoan, UnitOfWork
from arrears.domain.errors import DomainError
from arrears.domain.loan import PaymentApplied, summarize
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


def payment_document(key: str, *, uow_factory: Callable[[], ApiUnitOfWork]
                     ) -> dict[str, Any]:
    """The payment (or reversal) posted under `key`, with its split, as stored (one read:
    it answers every retried payment request, and a loan may have many payments)."""
    with uow_factory() as uow:
        row = uow.api.payment(key)
    if row is None:
        raise DomainError("key", f"no payment {key!r}")
    return _document(row["id"], row["loan_ref"], key, row["paid_on"], row["amount"],
                     row["currency"], reverses=row["reverses_id"] is not None,
                     parts={part: row[f"to_{part}"] for part in PARTS})


def posted_document(payment_id: int, loan_ref: str, applied: PaymentApplied, currency: str,
                    *, reverses: bool) -> dict[str, Any]:
    """`payment_document` of a payment just posted, from what was stored (no read back)."""
    return _document(payment_id, loan_ref, applied.key, applied.on, applied.amount, currency,
                     reverses=reverses,
                     parts={part: getattr(applied, f"to_{part}") for part in PARTS})


def _document(payment_id: int, loan_ref: str, key: str, on: date, amount: int, currency: str,
              *, reverses: bool, parts: dict[str, int]) -> dict[str, Any]:
    return {"payment_id": payment_id, "loan_id": loan_ref, "key": key, "on": on.isoformat(),
            "amount": money_text(amount, currency), "currency": currency,
            "reverses": reverses,
            **{f"to_{part}": money_text(units, currency) for part, units in parts.items()}}
