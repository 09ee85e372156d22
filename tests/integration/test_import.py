"""The loans CSV import against a real book: a file that would lose or misattribute data is
refused whole, with every bad line and field named; a good one boards exactly what the pure
engine says."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from arrears import bootstrap
from arrears.adapters.db import tables as t
from arrears.adapters.db.book import LOANS_PER_SHARED_SCHEDULE
from arrears.application import demo
from arrears.application.handlers import servicing
from arrears.application.loan_import import ImportRejected
from arrears.domain import ledger
from arrears.domain.loan import state_on, summarize

from book_checks import assert_ledger_consistent, table_rows
from shipped import default_products

EXAMPLES = Path(__file__).parents[2] / "examples"
OPEN = date(2026, 2, 2)
LINES = (EXAMPLES / "loans.csv").read_text().splitlines()
# The example file: line 2 WLD-1001 (B-1001 with a contact), 3 WLD-1002 (B-1002),
# 4 PHN-2001 (B-1003), 5 PHN-2002 (B-1001 again, same person, no contact).


def _import(services: bootstrap.Services, text: str) -> servicing.ImportReport:
    return servicing.import_loans_csv(text, uow_factory=services.uow_factory,
                                      clock=services.clock)


def _csv(lines: list[str]) -> str:
    return "\n".join(lines) + "\n"


def _edit(line: int, old: str, new: str) -> Callable[[list[str]], list[str]]:
    def edit(lines: list[str]) -> list[str]:
        assert old in lines[line - 1]
        lines[line - 1] = lines[line - 1].replace(old, new, 1)
        return lines
    return edit


def _cells(line: int, keep: int) -> Callable[[list[str]], list[str]]:
    def edit(lines: list[str]) -> list[str]:
        lines[line - 1] = ",".join(lines[line - 1].split(",")[:keep])
        return lines
    return edit


def _insert(before: int, text: str) -> Callable[[list[str]], list[str]]:
    def edit(lines: list[str]) -> list[str]:
        lines.insert(before - 1, text)
        return lines
    return edit


def _both(*edits: Callable[[list[str]], list[str]]) -> Callable[[list[str]], list[str]]:
    def edit(lines: list[str]) -> list[str]:
        for one in edits:
            lines = one(lines)
        return lines
    return edit


# Each would, if accepted, drop or shift values, or put one person's loan on another person.
REFUSED = {
    "unquoted comma in the address": (
        _edit(2, "北京市朝阳区建国路1号", "北京市朝阳区,建国路1号"), [(2, "row")]),
    "a row two cells short": (_cells(3, 15), [(3, "contact_relation")]),
    "a row of one cell": (_cells(4, 1), [(4, "borrower_id")]),
    "an unterminated quote swallows the rest of the file": (
        _edit(2, ",北京市", ',"北京市'), [(2, "region")]),
    "a header naming an optional column twice": (
        _edit(1, ",region,", ",address,"), [(1, "address")]),
    "a header naming a required column twice": (
        _edit(1, "loan_id,borrower_id,", "loan_id,loan_id,"),
        [(1, "borrower_id"), (1, "loan_id")]),
    "a header column with no name": (_edit(1, ",region,", ",,"), [(1, "column 12")]),
    "a value past the CSV field limit": (
        _edit(3, "上海市浦东新区", "x" * 140_000), [(3, "file")]),
    "a borrower id again with another person's name, ID and phone": (
        _both(_edit(5, "张伟", "王强"), _edit(5, "110101199003071234", "310101198805152345"),
              _edit(5, "13812345678", "13911112222")), [(5, "name")]),
    "a borrower id again with another name": (_edit(5, "张伟", "张伟伟"), [(5, "name")]),
    "a borrower id again with another ID number": (
        _edit(5, "110101199003071234", "110101199003071235"), [(5, "national_id")]),
    "a borrower id again with another phone": (
        _edit(5, "13812345678", "13812345679"), [(5, "phone")]),
    "a borrower id again with another address": (
        _edit(5, "建国路1号", "建国路2号"), [(5, "address")]),
    "a borrower id again with another language": (_edit(5, ",zh-CN,", ",en,"), [(5, "language")]),
    "a borrower id again with another contact": (
        _edit(5, "Asia/Shanghai,zh-CN,,,", "Asia/Shanghai,zh-CN,王五,friend,13700001111"),
        [(5, "contact_name")]),
    "a new borrower id used for two people": (_edit(3, ",B-1002,", ",B-1003,"), [(4, "name")]),
    "rows that mix currencies": (_edit(4, ",CNY,", ",USD,"), [(4, "currency")]),
    "a first row in another currency than the rest": (
        _edit(2, ",CNY,", ",USD,"), [(3, "currency"), (4, "currency"), (5, "currency")]),
    "a blank line does not shift line numbers": (
        _both(_insert(3, ""), _edit(5, "PHONE-24M", "NOPE")), [(5, "product")]),
    "a quoted value over two lines does not shift line numbers": (
        _both(_edit(2, ",北京市朝阳区建国路1号,", ',"北京市朝阳区\n建国路1号",'),
              _edit(3, "WLD-DAILY", "NOPE")), [(4, "product")]),
}


@pytest.mark.parametrize("case", list(REFUSED), ids=list(REFUSED))
def test_a_file_that_would_lose_or_misattribute_data_is_refused_whole(services, case):
    servicing.init_book(OPEN, default_products(), uow_factory=services.uow_factory)
    edit, expected = REFUSED[case]
    before = table_rows(services)
    with pytest.raises(ImportRejected) as rejected:
        _import(services, _csv(edit(list(LINES))))
    assert [(e.line, e.field) for e in rejected.value.errors] == expected
    assert table_rows(services) == before


# The second file: one more loan for B-1001, the person the book already holds.
SECOND = [LINES[0], LINES[4].replace("PHN-2002", "PHN-3001")]
REFUSED_BY_THE_BOOK = {
    "another name": (_edit(2, "张伟", "王强"), [(2, "name")]),
    "another ID number": (_edit(2, "110101199003071234", "310101198805152345"),
                          [(2, "national_id")]),
    "another phone": (_edit(2, "13812345678", "13911112222"), [(2, "phone")]),
    "another region": (_edit(2, ",Beijing,", ",Shanghai,"), [(2, "region")]),
    "another contact than the one held": (
        _edit(2, "Asia/Shanghai,zh-CN,,,", "Asia/Shanghai,zh-CN,李娜,parent,13987654321"),
        [(2, "contact_name")]),
    "another currency than the book's": (_edit(2, ",CNY,", ",USD,"), [(2, "currency")]),
    "a loan id the book holds": (_edit(2, "PHN-3001", "WLD-1001"), [(2, "loan_id")]),
}


@pytest.mark.parametrize("case", list(REFUSED_BY_THE_BOOK), ids=list(REFUSED_BY_THE_BOOK))
def test_a_row_that_disagrees_with_the_book_is_refused(services, case):
    servicing.init_book(OPEN, default_products(), uow_factory=services.uow_factory)
    _import(services, _csv(LINES))
    edit, expected = REFUSED_BY_THE_BOOK[case]
    before = table_rows(services)
    with pytest.raises(ImportRejected) as rejected:
        _import(services, _csv(edit(list(SECOND))))
    assert [(e.line, e.field) for e in rejected.value.errors] == expected
    assert "the book" in rejected.value.errors[0].reason
    assert table_rows(services) == before


@pytest.mark.parametrize("phone", ["13812345678", "+8613812345678", "+86 138 1234 5678"])
def test_the_same_person_again_gets_a_second_loan_not_a_second_record(services, phone):
    servicing.init_book(OPEN, default_products(), uow_factory=services.uow_factory)
    _import(services, _csv(LINES))
    # The contact the book holds for B-1001 may be repeated; leaving it out changes nothing.
    second = SECOND + [LINES[1].replace("WLD-1001", "WLD-3002").replace("13812345678", phone)]
    report = _import(services, "\ufeff" + _csv(second))
    assert (report.loans, report.borrowers) == (2, 0)
    with services.engine.connect() as connection:
        owners = connection.execute(
            sa.select(t.borrower.c.borrower_ref, sa.func.count())
            .select_from(t.loan.join(t.borrower, t.borrower.c.id == t.loan.c.borrower_id))
            .group_by(t.borrower.c.borrower_ref)).all()
        contacts = connection.scalar(sa.select(sa.func.count()).select_from(t.contact_person))
    assert dict(owners) == {"B-1001": 4, "B-1002": 1, "B-1003": 1}
    assert contacts == 1


def test_every_row_over_the_cost_cap_is_listed_even_when_rows_share_terms(services):
    products = {**default_products(), "FEE-LOAN": {
        **default_products()["WLD-DAILY"], "upfront_fee_rate": "0.03"}}
    servicing.init_book(OPEN, products, uow_factory=services.uow_factory)
    # 1 and 3 terms exceed the 24 % cap with a 3 % upfront fee; 24 terms do not.
    terms = [1, 24, 1, 3, 24, 3]
    lines = [LINES[0]] + [
        LINES[2].replace("WLD-1002", f"F-{n}").replace(",B-1002,", f",FB-{n},")
        .replace("WLD-DAILY", "FEE-LOAN").replace(",6,", f",{term},")
        for n, term in enumerate(terms)]
    with pytest.raises(ImportRejected) as rejected:
        _import(services, _csv(lines))
    assert [(e.line, e.field) for e in rejected.value.errors] == [
        (line, "product") for line, term in enumerate(terms, 2) if term != 24]


# (loans planned, how many of them get twins, twins each): mostly distinct terms, whose
# installments are sent row by row; and few terms on many loans, whose schedules the database
# copies to each loan (`LOANS_PER_SHARED_SCHEDULE`).
BOOKS = {"mostly distinct terms": (300, 100, 1), "few terms on many loans": (40, 40, 9)}


@pytest.mark.parametrize("book", list(BOOKS), ids=list(BOOKS))
def test_a_boarded_book_matches_the_pure_engine_loan_by_loan(services, book):
    """Loans that share terms share one boarding computation and are written in bulk; each
    stored loan must still be exactly its own state at the closed date."""
    start = OPEN - timedelta(days=120)
    count, twinned, twins = BOOKS[book]
    planned = demo.plan_book(count, 45, start, seed=3)
    # Many loans on the same terms, some disbursed long enough ago to be overdue.
    rows = [p.row for p in planned] + [
        type(p.row)(line=p.row.line + count * (twin + 1), loan_ref=f"TWIN{twin}-{p.row.loan_ref}",
                    borrower=p.row.borrower, product_code=p.row.product_code,
                    currency=p.row.currency, principal=p.row.principal,
                    disbursed_on=p.row.disbursed_on, terms=p.row.terms)
        for twin in range(twins) for p in planned[:twinned]]
    terms = {(r.product_code, r.principal, r.disbursed_on, r.terms) for r in rows}
    shared = len(rows) >= LOANS_PER_SHARED_SCHEDULE * len(terms)
    assert shared == (book == "few terms on many loans")
    servicing.init_book(OPEN, default_products(), uow_factory=services.uow_factory)
    report = servicing.board_rows(rows, uow_factory=services.uow_factory, clock=services.clock)
    assert (report.loans, report.borrowers) == (len(rows), count)
    closed = OPEN - timedelta(days=1)
    with services.engine.connect() as connection:
        stored = {row.loan_ref: row for row in connection.execute(
            sa.select(t.loan, t.borrower.c.borrower_ref)
            .join(t.borrower, t.borrower.c.id == t.loan.c.borrower_id))}
        moves = connection.execute(sa.select(t.delinquency_change.c.loan_id,
                                             t.delinquency_change.c.to_bucket)).all()
    with services.uow_factory() as uow:
        booked = {b.loan.loan_id: b for b in uow.book.get_many([r.id for r in stored.values()])}
    for row in rows:
        loan = booked[row.loan_ref].loan
        expected = state_on(loan, [], closed)
        summary = summarize(loan, expected)
        assert booked[row.loan_ref].state == expected, row.loan_ref
        kept = stored[row.loan_ref]
        assert (kept.borrower_ref, kept.status, kept.dpd, kept.bucket) == (
            row.borrower.borrower_ref, summary.status.value, summary.dpd, summary.bucket.value)
        unpaid = [i.due_date for i in expected.installments if not i.is_paid]
        assert kept.earliest_unpaid_due_on == min(unpaid, default=None)
    overdue = {r.id: r.bucket for r in stored.values() if r.bucket != "C"}
    assert overdue and dict(moves) == overdue
    assert_ledger_consistent(services)
    with services.uow_factory() as uow:
        totals = uow.reports.account_totals()
    assert totals[ledger.Account.CASH.value] < 0  # money went out, net of upfront fees
