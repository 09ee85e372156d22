"""Setting up the book, its products, and boarding loans (one, or a whole CSV at once)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from arrears.application.loan_file import parse_product
from arrears.application.loan_import import ImportRejected, LoanRow, RowError, parse_loans_csv
from arrears.application.ports import BookedLoan, Clock, UnitOfWork
from arrears.application.transitions import change
from arrears.domain import ledger
from arrears.domain.delinquency import Bucket, LoanStatus
from arrears.domain.disclosure import check_cost_cap, upfront_fee
from arrears.domain.errors import DomainError, InvalidLoan
from arrears.domain.loan import Loan, advance, initial_state

ONE_DAY = timedelta(days=1)
MAX_PRODUCT_CODE = 40


@dataclass(frozen=True, slots=True, kw_only=True)
class ImportReport:
    loans: int
    borrowers: int


def init_book(
    business_date: date, products: dict[str, dict[str, Any]], *,
    uow_factory: Callable[[], UnitOfWork],
) -> date:
    """Open the book on `business_date` (once) and add any products it does not have yet.
    Returns the open business date."""
    for code, definition in products.items():
        parse_product(definition)  # refuse a bad product before anything is written
        if not code.strip() or len(code) > MAX_PRODUCT_CODE:
            raise DomainError("product", f"a product needs a code of 1 to {MAX_PRODUCT_CODE} "
                                         "characters")
    with uow_factory() as uow:
        closed = uow.book.closed_through()
        if closed is None:
            uow.book.close_through(business_date - ONE_DAY)
            closed = business_date - ONE_DAY
        known = uow.book.product_definitions()
        for code, definition in products.items():
            if code not in known:
                uow.book.add_product(code, definition)
            elif known[code] != definition:
                raise DomainError(f"product {code}", "already exists with another definition")
        uow.commit()
    return closed + ONE_DAY


def board_rows(rows: Sequence[LoanRow], *, uow_factory: Callable[[], UnitOfWork],
               clock: Clock) -> ImportReport:
    """Board loans, all or nothing. Each is brought to the closed business date."""
    with uow_factory() as uow:
        book = uow.book
        closed = book.closed_through()
        if closed is None:
            raise DomainError("business_date", "the book has no business date; run `arrears init`")
        products = book.products()
        errors: list[RowError] = []
        duplicates = book.existing_loans(row.loan_ref for row in rows)
        loans: list[tuple[LoanRow, Loan]] = []
        for row in rows:
            if row.loan_ref in duplicates:
                errors.append(RowError(line=row.line, field="loan_id",
                                       reason=f"{row.loan_ref!r} is already in the book"))
                continue
            if row.disbursed_on > closed + ONE_DAY:
                errors.append(RowError(
                    line=row.line, field="disbursed_on",
                    reason=f"is after the open business date {closed + ONE_DAY}"))
                continue
            product = products[row.product_code]
            loan = Loan(loan_id=row.loan_ref, currency=row.currency, principal=row.principal,
                        disbursed_on=row.disbursed_on, terms=row.terms, product=product)
            try:
                check_cost_cap(row.principal, product, row.disbursed_on, row.terms)
            except InvalidLoan as error:
                errors.append(RowError(line=row.line, field=error.field, reason=error.reason))
                continue
            loans.append((row, loan))
        if errors:
            raise ImportRejected(errors)
        borrower_ids = book.existing_borrowers(row.borrower.borrower_ref for row in rows)
        new_borrowers = 0
        updates = []
        for row, loan in loans:
            ref = row.borrower.borrower_ref
            if ref not in borrower_ids:
                borrower_ids[ref] = book.add_borrower(row.borrower)
                new_borrowers += 1
            opening = initial_state(loan)
            booked = BookedLoan(id=0, borrower_id=borrower_ids[ref], product_code=row.product_code,
                                loan=loan, state=opening, status=LoanStatus.CURRENT, dpd=0,
                                bucket=Bucket.C)
            state = advance(loan, opening, [], closed)[0] if closed > opening.as_of else opening
            moved = change(booked, loan, state, entry=f"board:{loan.loan_id}",
                           business_date=closed + ONE_DAY, at=clock.now(),
                           before=ledger.opening_position(),
                           extra_postings=ledger.disbursement_postings(
                               upfront_fee(loan.principal, loan.product)))
            updates.append(moved.update)
        book.add_loans(updates)
        uow.commit()
    return ImportReport(loans=len(updates), borrowers=new_borrowers)


def import_loans_csv(text: str, *, uow_factory: Callable[[], UnitOfWork],
                     clock: Clock) -> ImportReport:
    """Import a loans CSV: every bad row reported, nothing imported unless all are good."""
    with uow_factory() as uow:
        products = set(uow.book.products())
    return board_rows(parse_loans_csv(text, products), uow_factory=uow_factory, clock=clock)
