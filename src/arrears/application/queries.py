"""Read side: documents for the CLI, the API and the web pages (plain dicts, JSON-ready)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from enum import StrEnum
from typing import Any, TypeVar

from arrears.application.handlers.eod import current_state
from arrears.application.loan_file import money_text, status_document
from arrears.application.loan_import import mask
from arrears.application.ports import UnitOfWork
from arrears.domain.delinquency import ACTIVE_STATUSES, BUCKETS, Bucket, LoanStatus
from arrears.domain.errors import DomainError
from arrears.domain.ledger import Account
from arrears.domain.loan import summarize

DEFAULT_LIST_LIMIT = 50
MAX_LIST_LIMIT = 10_000

E = TypeVar("E", bound=StrEnum)


class FilterRejected(DomainError):
    """A list filter no loan could match; `field` is the filter's name."""


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


def _choice(kind: type[E], value: str | None, field: str) -> E | None:
    if value is None:
        return None
    by_name = {member.value.casefold(): member for member in kind}
    if value.casefold() not in by_name:
        raise FilterRejected(field, f"unknown value {value!r} (expected one of "
                                    f"{', '.join(member.value for member in kind)})")
    return by_name[value.casefold()]


def loan_list_document(
    *, status: str | None = None, bucket: str | None = None, product: str | None = None,
    borrower: str | None = None, limit: int = DEFAULT_LIST_LIMIT,
    uow_factory: Callable[[], UnitOfWork],
) -> dict[str, Any]:
    """The loans matching every filter given, most days past due first, then by loan id, at
    most `limit`: status, bucket and DPD as end-of-day stored them (a written-off loan keeps
    its DPD at the write-off, since end-of-day no longer ages it). The store selects the
    loans; their amounts come from the domain, the one place that knows grace windows and
    each product's rounding, for the selected loans only."""
    wanted_status = _choice(LoanStatus, status, "status")
    wanted_bucket = _choice(Bucket, bucket, "bucket")
    if not 1 <= limit <= MAX_LIST_LIMIT:
        raise FilterRejected("limit", f"must be from 1 to {MAX_LIST_LIMIT:,} (got {limit})")
    with uow_factory() as uow:
        closed = uow.book.closed_through()
        if closed is None:
            raise DomainError("book", "has no business date yet; run `arrears init`")
        if product is not None:
            codes = sorted(uow.book.product_definitions())
            if product not in codes:
                raise FilterRejected("product", f"no product {product!r} (the book has "
                                                f"{', '.join(codes) or 'none'})")
        # One row beyond the limit tells whether more loans match.
        rows = uow.reports.loan_list(
            status=wanted_status.value if wanted_status else None,
            bucket=wanted_bucket.value if wanted_bucket else None,
            product=product, borrower=borrower, limit=limit + 1)
        if not rows and borrower is not None and not uow.book.existing_borrowers([borrower]):
            raise FilterRejected("borrower", f"no borrower {borrower!r}")
        shown = rows[:limit]
        booked = {loan.id: loan for loan in uow.book.get_many([row.id for row in shown])}
    loans = []
    for row in shown:
        loan = booked[row.id].loan
        summary = summarize(loan, booked[row.id].state)
        loans.append({
            "loan_id": row.loan_ref, "borrower_id": row.borrower_ref,
            "product": row.product_code, "status": row.status, "bucket": row.bucket,
            "dpd": row.dpd, "currency": loan.currency,
            "principal_outstanding": money_text(summary.principal_outstanding, loan.currency),
            "total_due": money_text(summary.total_due, loan.currency),
        })
    return {"as_of": closed.isoformat(), "loans": loans, "count": len(loans), "limit": limit,
            "more": len(rows) > limit}


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
        restructured, by_kind, waived = uow.reports.restructured()
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
        "restructured": {"loans": restructured, "by_kind": dict(sorted(by_kind.items())),
                         "waived": money_text(waived, currency)},
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
