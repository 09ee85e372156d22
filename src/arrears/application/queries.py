"""Read side: documents for the CLI, the API and the web pages (plain dicts, JSON-ready)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from arrears.application.handlers.eod import current_state
from arrears.application.loan_file import money_text, status_document
from arrears.application.loan_import import mask
from arrears.application.ports import UnitOfWork
from arrears.domain.delinquency import ACTIVE_STATUSES, BUCKETS
from arrears.domain.errors import DomainError
from arrears.domain.ledger import Account
from arrears.domain.loan import summarize


def loan_document(loan_ref: str, *, uow_factory: Callable[[], UnitOfWork]) -> dict[str, Any]:
    """The loan's state at the end of its stored date, its borrower (masked) and payments."""
    with uow_factory() as uow:
        booked = uow.book.get(loan_ref)
        if booked is None:
            raise DomainError("loan_id", f"no loan {loan_ref!r}")
        closed = uow.book.closed_through()
        borrower = uow.reports.borrower_of(loan_ref) or {}
        payments = uow.reports.payments_of(loan_ref)
    state = booked.state if closed is None else current_state(booked, closed)
    document = status_document(booked.loan, state, summarize(booked.loan, state))
    currency = booked.loan.currency
    document["product"] = booked.product_code
    document["written_off_on"] = (booked.loan.written_off_on.isoformat()
                                  if booked.loan.written_off_on else None)
    document["borrower"] = {
        "borrower_id": borrower.get("borrower_ref"), "name": borrower.get("name"),
        "national_id": mask(borrower.get("national_id", "")),
        "phones": [mask(number) for number, _ in borrower.get("phones", [])],
        "time_zone": borrower.get("time_zone"),
    }
    document["payments"] = [
        {"key": p["idempotency_key"], "on": p["paid_on"].isoformat(),
         "amount": money_text(p["amount"], currency),
         "reverses": p["reverses_id"] is not None,
         **{part: money_text(p[f"to_{part}"], currency)
            for part in ("fee", "penalty", "compound", "interest", "principal", "credit")}}
        for p in payments]
    return document


def portfolio_document(
    as_of: date | None, *, uow_factory: Callable[[], UnitOfWork]
) -> dict[str, Any]:
    """Loans and principal by bucket at the closed business date, the roll from the day
    before, and totals. Amounts are kept for the closed date only."""
    with uow_factory() as uow:
        closed = uow.book.closed_through()
        if closed is None:
            raise DomainError("as_of", "the book has no closed business date yet")
        if as_of is not None and as_of != closed:
            raise DomainError("as_of", f"the book is closed through {closed}; report that date")
        currency = book_currency(uow)
        rows = uow.reports.portfolio()
        moves = uow.reports.bucket_moves(closed, closed)
        failures = uow.reports.eod_failures(closed)
    buckets = {b.value: {"loans": 0, "principal": 0} for b in BUCKETS}
    by_status: dict[str, dict[str, int]] = {}
    for status, bucket_name, loans, principal in rows:
        totals = by_status.setdefault(status, {"loans": 0, "principal": 0})
        totals["loans"] += loans
        totals["principal"] += principal
        if status in ACTIVE_STATUSES:
            buckets[bucket_name]["loans"] += loans
            buckets[bucket_name]["principal"] += principal
    active_loans = sum(b["loans"] for b in buckets.values())
    active_principal = sum(b["principal"] for b in buckets.values())
    return {
        "as_of": closed.isoformat(),
        "loans": sum(t["loans"] for t in by_status.values()),
        "buckets": {name: {"loans": b["loans"], "principal": money_text(b["principal"], currency)}
                    for name, b in buckets.items()},
        "by_status": {status: {"loans": t["loans"],
                               "principal": money_text(t["principal"], currency)}
                      for status, t in sorted(by_status.items())},
        "active": {"loans": active_loans, "principal": money_text(active_principal, currency)},
        "roll_from_yesterday": [{"from": a, "to": b, "loans": n} for a, b, n in sorted(moves)],
        "eod_failures": [{"loan_id": ref, "error": error} for ref, error in failures],
    }


def book_currency(uow: UnitOfWork) -> str:
    """The book's one currency; sums across currencies would mean nothing."""
    currencies = uow.reports.currencies()
    if len(currencies) > 1:
        raise DomainError("currency", f"the book holds {', '.join(currencies)}; "
                                      "portfolio totals need one currency")
    return currencies[0] if currencies else "CNY"


def income_document(first: date, last: date, *, uow_factory: Callable[[], UnitOfWork]
                    ) -> dict[str, str]:
    """Money in and charges recognised over business dates [first, last]."""
    with uow_factory() as uow:
        currency = book_currency(uow)
        totals = uow.reports.account_totals(first, last)
        received = uow.reports.cash_received(first, last)

    def credit(account: Account) -> str:
        return money_text(-totals.get(account.value, 0), currency)

    return {
        "penalty_charged": credit(Account.PENALTY_INCOME),
        "compound_charged": credit(Account.COMPOUND_INCOME),
        "interest_charged": credit(Account.INTEREST_INCOME),
        "fees_charged": credit(Account.FEE_INCOME),
        "written_off": money_text(totals.get(Account.WRITE_OFF.value, 0), currency),
        "recoveries": credit(Account.RECOVERY),
        "payments_received": money_text(received, currency),
    }
