"""Setting up the book, its products, and boarding loans (one, or a whole CSV at once)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from arrears.application.loan_file import parse_product
from arrears.application.loan_import import ImportRejected, LoanRow, RowError, parse_loans_csv
from arrears.application.ports import BookedLoan, Borrower, Clock, LoanUpdate, UnitOfWork
from arrears.application.transitions import change
from arrears.domain import ledger
from arrears.domain.delinquency import Bucket, LoanStatus
from arrears.domain.disclosure import check_cost_cap, upfront_fee
from arrears.domain.errors import DomainError, InvalidLoan
from arrears.domain.loan import Loan, advance, initial_state
from arrears.domain.schedule import build_schedule

ONE_DAY = timedelta(days=1)
MAX_PRODUCT_CODE = 40


class BookAlreadyOpen(DomainError):
    """`init` named another date than the one the book is open at: moving it would change
    which dates end-of-day closes, so only end-of-day moves it."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ImportReport:
    loans: int
    borrowers: int
    ids: dict[str, int] = field(default_factory=dict)
    """The book's id of each boarded loan, by loan id."""


def init_book(
    business_date: date, products: dict[str, dict[str, Any]], *,
    uow_factory: Callable[[], UnitOfWork],
) -> date:
    """Open the book on `business_date` (once) and add any products it does not have yet.
    Returns the open business date. On an open book `business_date` must be its open date."""
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
        elif business_date != closed + ONE_DAY:
            raise BookAlreadyOpen(
                "business_date", f"the book is already open at {closed + ONE_DAY}, not "
                                 f"{business_date}; `arrears eod` moves it forward")
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
    """Board loans, all or nothing. Each is brought to the closed business date.

    Every path that adds loans comes here, so here the book stays one currency (its reports
    add principal across loans) and a borrower id keeps naming one person: a row that
    disagrees with the book or with an earlier row on either is refused, never merged."""
    with uow_factory() as uow:
        book = uow.book
        closed = book.closed_through()
        if closed is None:
            raise DomainError("business_date", "the book has no business date; run `arrears init`")
        products = book.products()
        duplicates = book.existing_loans(row.loan_ref for row in rows)
        known = book.existing_borrowers(row.borrower.borrower_ref for row in rows)
        currency = _CurrencyRule(uow.reports.currencies(), rows)
        first_seen: dict[str, tuple[int, Borrower]] = {}
        boardings: dict[tuple[str, int, date, int], LoanUpdate | InvalidLoan] = {}
        at = clock.now()
        errors: list[RowError] = []
        boarded: list[tuple[LoanRow, Loan, LoanUpdate]] = []
        for row in rows:
            try:
                if row.loan_ref in duplicates:
                    raise DomainError("loan_id", f"{row.loan_ref!r} is already in the book")
                if row.disbursed_on > closed + ONE_DAY:
                    raise DomainError("disbursed_on",
                                      f"is after the open business date {closed + ONE_DAY}")
                currency.check(row.currency)
                _check_borrower(row, known, first_seen)
                loan = Loan(loan_id=row.loan_ref, currency=row.currency,
                            principal=row.principal, disbursed_on=row.disbursed_on,
                            terms=row.terms, product=products[row.product_code])
                boarded.append((row, loan, _boarding(row, loan, closed, at, boardings)))
            except DomainError as error:
                errors.append(RowError(line=row.line, field=error.field, reason=error.reason))
        if errors:
            raise ImportRejected(errors)
        new = {ref: borrower for ref, (_, borrower) in first_seen.items()}
        borrower_ids = {ref: id_ for ref, (id_, _) in known.items()}
        borrower_ids.update(book.add_borrowers(list(new.values())))
        updates = [
            LoanUpdate(
                booked=BookedLoan(id=0, borrower_id=borrower_ids[row.borrower.borrower_ref],
                                  product_code=row.product_code, loan=loan,
                                  state=like.booked.state, status=like.booked.status,
                                  dpd=like.booked.dpd, bucket=like.booked.bucket),
                loan=loan, state=like.state, status=like.status, dpd=like.dpd,
                bucket=like.bucket, entry=f"board:{loan.loan_id}",
                business_date=like.business_date, postings=like.postings)
            for row, loan, like in boarded]
        ids = book.add_loans(updates)
        uow.commit()
    return ImportReport(loans=len(updates), borrowers=len(new),
                        ids={u.loan.loan_id: id_ for u, id_ in zip(updates, ids, strict=True)})


def _boarding(row: LoanRow, loan: Loan, closed: date, at: datetime,
              known: dict[tuple[str, int, date, int], LoanUpdate | InvalidLoan]) -> LoanUpdate:
    """The boarding update (cost-cap check, schedule, state at the closed date, opening ledger
    entry) of a loan like this one. It depends only on the product, principal, disbursement
    date and terms, and the APR search alone is most of a row's cost, so rows with the same
    terms share one; the caller puts in each row's loan and borrower."""
    key = (row.product_code, row.principal, row.disbursed_on, row.terms)
    found = known.get(key)
    if found is None:
        try:
            schedule = build_schedule(loan.principal, loan.product, loan.disbursed_on,
                                      loan.terms)
            check_cost_cap(loan.principal, loan.product, loan.disbursed_on, loan.terms,
                           schedule=schedule)
            opening = initial_state(loan, schedule)
            state = advance(loan, opening, [], closed)[0] if closed > opening.as_of else opening
            booked = BookedLoan(id=0, borrower_id=0, product_code=row.product_code, loan=loan,
                                state=opening, status=LoanStatus.CURRENT, dpd=0, bucket=Bucket.C)
            found = change(booked, loan, state, entry=f"board:{loan.loan_id}",
                           business_date=closed + ONE_DAY, at=at,
                           before=ledger.opening_position(),
                           extra_postings=ledger.disbursement_postings(
                               upfront_fee(loan.principal, loan.product))).update
        except InvalidLoan as error:
            found = error
        known[key] = found
    if isinstance(found, InvalidLoan):
        raise InvalidLoan(found.field, found.reason)  # a fresh one: each row has its own
    return found


class _CurrencyRule:
    """One book, one currency: the book's, or (for the first loans) the first row's."""

    def __init__(self, held: list[str], rows: Sequence[LoanRow]) -> None:
        self.held = held
        self.first = rows[0] if rows else None

    def check(self, currency: str) -> None:
        if self.held:
            if self.held != [currency]:
                raise DomainError("currency", f"the book holds {', '.join(self.held)} loans; "
                                              "a book keeps one currency")
        elif self.first is not None and currency != self.first.currency:
            raise DomainError("currency", f"differs from line {self.first.line} "
                                          f"({self.first.currency}); a book keeps one currency")


def _check_borrower(row: LoanRow, known: dict[str, tuple[int, Borrower]],
                    first_seen: dict[str, tuple[int, Borrower]]) -> None:
    """A borrower id already in the book, or on an earlier row, must come with the same
    person: otherwise collections would reach one person about another's loan."""
    ref = row.borrower.borrower_ref
    if ref in known:
        where, reference = f"borrower {ref!r} in the book", known[ref][1]
    elif ref in first_seen:
        line, reference = first_seen[ref]
        where = f"line {line}, where borrower {ref!r} first appears"
    else:
        first_seen[ref] = (row.line, row.borrower)
        return
    column = _first_difference(row.borrower, reference)
    if column is not None:
        raise DomainError(column, f"differs from {where}")


def _first_difference(row: Borrower, reference: Borrower) -> str | None:
    """The first column in which `row` says something else about the person than
    `reference` does; details a row leaves out (a contact, an email) are no difference."""
    zones = {phone.number: phone.time_zone for phone in reference.phones}
    same = (
        ("name", row.name == reference.name),
        ("national_id", row.national_id == reference.national_id),
        ("phone", all(phone.number in zones for phone in row.phones)),
        ("phone_time_zone", all(zones.get(p.number) == p.time_zone for p in row.phones)),
        ("address", row.address == reference.address),
        ("region", row.region == reference.region),
        ("time_zone", row.time_zone == reference.time_zone),
        ("language", row.language == reference.language),
        ("contact_name", all(contact in reference.contacts for contact in row.contacts)),
        ("email", row.email in ("", reference.email)),
    )
    return next((column for column, agrees in same if not agrees), None)


def import_loans_csv(text: str, *, uow_factory: Callable[[], UnitOfWork],
                     clock: Clock) -> ImportReport:
    """Import a loans CSV: every bad row reported, nothing imported unless all are good."""
    with uow_factory() as uow:
        products = set(uow.book.products())
    return board_rows(parse_loans_csv(text, products), uow_factory=uow_factory, clock=clock)
