"""The borrower's pages without a browser: only their own loans (another's is a 404 and
nothing is written), an offer's preview is exactly the plan that asking for it proposes (and
looking keeps nothing), one plan request at a time, refusals name the field, the evidence
bundle is the CLI's, byte for byte, and verifies; what is owed today adds up, part by part, to
the total on every loan (one on its due date); the day-by-day penalty and compound interest
reconcile to what is owed on every loan and the page shows the domain's rows digit for digit;
a visit notice or credential checked from the portal gets the public page's verdict, asked
about the borrower's own loans only."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from itertools import count
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st

from arrears.adapters.bundle import read_zip, write_zip
from arrears.application import (
    borrower_portal,
    day_by_day,
    owed_today,
    servicing_queries,
    statements,
)
from arrears.application.day_by_day import WINDOW_DAYS
from arrears.application.handlers import casework, credentials, evidence
from arrears.application.handlers.collections import Lender
from arrears.application.loan_file import money_text, parse_amount, sub_minor_text
from arrears.domain import evidence as chain
from arrears.domain.product import Component
from arrears.domain.statement import ACCRUED, accrued
from arrears.entrypoints.web.i18n import Translator

from web_book import (
    COLLECTOR_LOAN,
    DUE_TODAY_LOAN,
    DUE_TODAY_PHONE,
    DUE_TODAY_ROW,
    EXAMPLES,
    SHANGHAI,
    WORKING_HOURS,
    Book,
    app_for,
    forged_visit_notice,
    module_book,
    sign_in_borrower,
)

OTHERS_LOAN = "WLD-1001"  # B-1001's
SIGN_INS = count()
"""Each sign-in a few minutes after the last: a code is sent at most once a minute."""


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Book]:
    """The web book with a loan on its due date (B-1004's)."""
    yield from module_book(tmp_path_factory, boarded_later=(DUE_TODAY_ROW,))


@pytest.fixture
def borrower(book: Book, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[TestClient, str]]:
    """A TestClient signed in as B-1003, and its CSRF token."""
    monkeypatch.setenv("ARREARS_SINK_DIR", str(book.sinks))
    book.clock.at = WORKING_HOURS + timedelta(minutes=5 * next(SIGN_INS))
    with TestClient(app_for(book), headers={"accept-language": "en"}) as client:
        yield client, sign_in_borrower(client, book)


def _counts(book: Book) -> tuple[int, int, int]:
    with book.services.uow_factory() as uow:
        return (sum(uow.plans.counts().values()), len(uow.disputes.listed()),
                len(uow.complaints.listed(open_only=False)))


def test_another_borrowers_loan_is_not_found_and_nothing_is_written(
        borrower: tuple[TestClient, str], book: Book) -> None:
    client, token = borrower
    before = _counts(book)
    assert client.get(f"/me/loans/{OTHERS_LOAN}").status_code == 404
    for action, form in (("plans", {"offer": "deferral-1"}),
                         ("disputes", {"kind": "objection", "about": "debt", "note": ""}),
                         ("complaints", {"category": "other", "summary": "x", "contact": ""})):
        response = client.post(f"/me/loans/{OTHERS_LOAN}/{action}",
                               data={"csrf_token": token, **form})
        assert response.status_code == 404, action
    assert client.post(f"/me/loans/{COLLECTOR_LOAN}/disputes", data={
        "csrf_token": "forged", "kind": "objection", "about": "debt"}).status_code == 403
    assert _counts(book) == before


def test_an_offer_previews_exactly_what_asking_for_it_proposes(
        borrower: tuple[TestClient, str], book: Book) -> None:
    client, token = borrower
    before = _counts(book)
    requests = borrower_portal.loan_requests(
        "B-1003", COLLECTOR_LOAN, uow_factory=book.services.web_uow_factory(),
        rehearsal=book.services.web_uow_factory().rehearsal, clock=book.clock)
    assert [o.offer.key for o in requests.offers] == ["deferral-1", "deferral-2", "holiday-30"]
    assert client.get(f"/me/loans/{COLLECTOR_LOAN}").status_code == 200
    assert _counts(book) == before  # previews keep nothing
    shown = requests.offers[0].preview
    assert shown is not None

    asked = client.post(f"/me/loans/{COLLECTOR_LOAN}/plans",
                        data={"csrf_token": token, "offer": "deferral-1"},
                        follow_redirects=False)
    assert asked.status_code == 303
    plan_id = asked.headers["location"].rsplit("sent=", 1)[1]
    with book.services.uow_factory() as uow:
        record = uow.plans.get(plan_id)
    assert record is not None and record.proposed_by == "borrower:B-1003"
    assert {**record.preview, "plan_id": "", "plan": {}} == \
        {**shown, "plan_id": "", "plan": {}}

    again = client.post(f"/me/loans/{COLLECTOR_LOAN}/plans",
                        data={"csrf_token": token, "offer": "deferral-2"})
    assert again.status_code == 422 and f"offer: plan {plan_id} already awaits" in again.text
    unknown = client.post(f"/me/loans/{COLLECTOR_LOAN}/disputes",
                          data={"csrf_token": token, "kind": "dispute", "about": "debt"})
    assert unknown.status_code == 422 and "kind: dispute is not raised under CN" in unknown.text
    assert _counts(book)[1] == before[1]


def test_the_evidence_bundle_is_the_clis_and_verifies(borrower: tuple[TestClient, str],
                                                      book: Book, tmp_path: Path) -> None:
    client, token = borrower
    client.post(f"/me/loans/{COLLECTOR_LOAN}/complaints", data={
        "csrf_token": token, "category": "other", "summary": "a question", "contact": ""})
    download = client.post("/me/evidence", data={"csrf_token": token})
    assert download.status_code == 200
    assert download.headers["content-type"] == "application/zip"
    assert "attachment" in download.headers["content-disposition"]
    cli = tmp_path / "cli.zip"
    services = book.services
    write_zip(evidence.export("B-1003", uow_factory=services.uow_factory, keys=services.keys,
                              clock=services.clock, issuer=Lender().name_en), cli)
    assert download.content == cli.read_bytes()
    mine = tmp_path / "mine.zip"
    mine.write_bytes(download.content)
    report = evidence.verify(read_zip(mine, "bundle"), keys=services.keys,
                             uow_factory=services.uow_factory)
    assert report.intact, report.problems
    assert b"complaint_filed" in read_zip(mine, "bundle")[chain.ENTRIES]


def _loan_refs() -> list[str]:
    """Every loan of the book, one of them on its due date."""
    with (EXAMPLES / "loans.csv").open(newline="") as rows:
        return [row["loan_id"] for row in csv.DictReader(rows)] + [DUE_TODAY_LOAN]


def _shown(cell: str) -> Decimal:
    """The amount a table cell shows (CN¥1,234.56)."""
    return Decimal(re.sub(r"[^\d.-]", "", cell))


def test_the_parts_of_what_is_owed_add_up_to_the_total_on_every_loan(book: Book) -> None:
    """The table shown on "My loans" and on a loan's page: its rows add up to "Total owed
    today" (an installment due today is a row of its own, DESIGN §9), which is the status's."""
    factory = book.services.uow_factory
    table = app_for(book).state.web.templates.from_string(
        '{% from "_owed_today.html" import owed_table with context %}{{ owed_table(owed) }}')
    due_today = []
    for ref in _loan_refs():
        owed = owed_today.owed_today(ref, uow_factory=factory)
        status = servicing_queries.loan_status_document(ref, uow_factory=factory)
        assert money_text(owed.total_due, owed.currency) == status["total_due"], ref
        assert money_text(owed.payoff_amount, owed.currency) == status["payoff_amount"], ref
        html = table.render(owed=owed, _=Translator("en"))
        rows = dict(re.findall(r'<th scope="row">([^<]+)</th><td class="num">([^<]+)</td>',
                               html))
        total = _shown(rows.pop("Total owed today"))
        assert sum(map(_shown, rows.values())) == total == Decimal(status["total_due"]), \
            (ref, rows)
        if "Installment due today (not yet overdue)" in rows:
            due_today.append(ref)
    assert due_today == [DUE_TODAY_LOAN]  # the case the overdue parts alone miss


def test_a_loan_on_its_due_date_shows_what_falls_due_today(book: Book,
                                                           monkeypatch: pytest.MonkeyPatch
                                                           ) -> None:
    monkeypatch.setenv("ARREARS_SINK_DIR", str(book.sinks))
    book.clock.at = WORKING_HOURS + timedelta(minutes=5 * next(SIGN_INS))
    owed = owed_today.owed_today(DUE_TODAY_LOAN, uow_factory=book.services.uow_factory)
    assert owed.due_today == owed.total_due > 0 and owed.dpd == 0
    due = f"Installment due today (not yet overdue)</th><td class=\"num\">CN¥" \
          f"{Decimal(money_text(owed.due_today, 'CNY')):,}</td>"
    with TestClient(app_for(book), headers={"accept-language": "en"}) as client:
        sign_in_borrower(client, book, DUE_TODAY_PHONE)
        assert due in client.get("/me").text
        assert due in client.get(f"/me/loans/{DUE_TODAY_LOAN}").text


@pytest.mark.parametrize("window", [1, 7, WINDOW_DAYS])
def test_the_day_by_day_figures_reconcile_to_what_is_owed_on_every_loan(
        book: Book, window: int) -> None:
    """Earlier days + each shown day's amount = the running total = what the installments
    hold; rounded, less paid and not yet charged, it is the summary's owed figure."""
    factory = book.services.uow_factory
    for ref in _loan_refs():
        explanation = statements.book_explanation(ref, uow_factory=factory)
        status = servicing_queries.loan_status_document(ref, uow_factory=factory)
        figures = day_by_day.breakdown(explanation, window=window)
        assert explanation.summary.total_due == parse_amount(status["total_due"], "CNY",
                                                             "total_due", positive=False)
        sub = [Decimal(r.amount) for r in figures.rows]
        running = Decimal(figures.earlier_total)
        for row, amount in zip(figures.rows, sub, strict=True):
            running += amount
            assert Decimal(row.running) == running, (ref, row)
        held = {c: sum(accrued(r, c) for r in explanation.state.installments) for c in ACCRUED}
        assert running == Decimal(sum(held.values())) / 10**6, ref
        assert figures.shown_days == len({r.on for r in figures.rows}) <= window
        for total in figures.totals:
            component = Component(total.component)
            assert Decimal(total.accrued) + Decimal(total.adjusted) == \
                Decimal(held[component]) / 10**6, (ref, total)
            assert Decimal(total.charged) - Decimal(total.paid) - Decimal(total.not_yet) == \
                Decimal(total.owed), (ref, total)
            assert Decimal(total.not_yet) >= 0, (ref, total)
            assert total.owed == status[f"{total.component}_interest"], (ref, total)


def test_the_loan_page_shows_the_days_the_domain_computed(
        borrower: tuple[TestClient, str], book: Book) -> None:
    client, _ = borrower
    page = client.get(f"/me/loans/{COLLECTOR_LOAN}")
    assert page.status_code == 200
    figures = day_by_day.breakdown(statements.book_explanation(
        COLLECTOR_LOAN, uow_factory=book.services.uow_factory))
    assert figures.rows, "the test book's loan must be overdue with penalty accruing"
    assert f"the last {figures.shown_days} days with a charge" in page.text
    daily = page.text.split('class="daily"', 1)[1].split("</table>", 1)[0]
    shown = re.findall(r"<tr><td class=\"nowrap\">(\d{4}-\d\d-\d\d)</td>", daily)
    assert shown == [r.on.isoformat() for r in figures.rows]
    last = figures.rows[-1]
    assert f"CN¥{Decimal(last.running):,}" in daily  # every sub-cent digit, none rounded
    for total in figures.totals:
        assert f"<strong>CN¥{Decimal(total.owed):,}</strong>" in page.text


@given(units=st.integers(min_value=-10**15, max_value=10**15))
def test_sub_cent_amounts_are_shown_with_every_digit(units: int) -> None:
    text = sub_minor_text(units, "CNY")
    for language in ("en", "zh-CN"):
        shown = Translator(language).fine(text, "CNY")
        assert Decimal(re.sub(r"[^\d.-]", "", shown)) == Decimal(text)


def _verdict(html: str) -> str:
    found = re.search(r'<h2 id="verdict">\s*(.+?)\s*</h2>', html, re.S)
    assert found is not None
    return found.group(1)


def test_a_borrower_checks_a_visit_notice_and_credentials_from_the_portal(
        borrower: tuple[TestClient, str], book: Book) -> None:
    client, token = borrower
    services = book.services
    form = client.get("/me/verify").text
    assert 'action="/me/verify"' in form and f'<option value="{COLLECTOR_LOAN}"' in form
    assert "You do not need to sign in" not in form  # they have
    assert "You do not need to sign in" in client.get("/verify").text

    forged = client.post("/me/verify", data={"csrf_token": token,
                                              "token": forged_visit_notice(book.token),
                                              "debt": COLLECTOR_LOAN})
    assert _verdict(forged.text) == "Forged" and "Pay nothing to them" in forged.text

    today = book.clock.now().astimezone(SHANGHAI).date()
    casework.authorize_visit(casework.VisitAuthorizationRequest(
        authorization_ref=f"VA-{next(SIGN_INS)}", loan_ref=COLLECTOR_LOAN,
        collectors=("C-01",), issued_at=book.clock.now(),
        valid_until=book.clock.now() + timedelta(days=3)), uow_factory=services.uow_factory)
    visit = credentials.issue(
        credentials.IssueRequest(collector="C-01", debt=COLLECTOR_LOAN, scope="visit",
                                 visit_on=today),
        uow_factory=services.uow_factory, keys=services.keys, clock=book.clock,
        zone="Asia/Shanghai", issuer="Arrears Demo Lender")
    genuine = client.get("/me/verify", params={"token": visit.token})  # the QR code's link
    assert _verdict(genuine.text) == "Genuine"
    assert f"visit you on {today} only" in genuine.text
    ignored = f"{OTHERS_LOAN} is not one of your loans, so the credential was checked " \
              "without a loan."
    for other in (client.post("/me/verify", data={"csrf_token": token, "token": visit.token,
                                                   "debt": OTHERS_LOAN}),
                  client.get("/me/verify", params={"token": visit.token,
                                                    "debt": OTHERS_LOAN})):
        # Asked only about the borrower's own loans: the select shows what was asked.
        assert _verdict(other.text) == "Genuine" and ignored in other.text
        assert "selected" not in other.text.split('id="debt"', 1)[1].split("</select>", 1)[0]
    asked = client.post("/me/verify", data={"csrf_token": token, "token": visit.token,
                                             "debt": COLLECTOR_LOAN})
    assert f'<option value="{COLLECTOR_LOAN}" selected>' in asked.text
    assert "is not one of your loans" not in asked.text
    # The public page has no loans to go by: there the debt asked about is any one typed.
    public = client.post("/verify", data={"csrf_token": token, "token": visit.token,
                                          "debt": OTHERS_LOAN})
    assert _verdict(public.text) == "Wrong debt"

    credentials.revoke(visit.token, uow_factory=services.uow_factory, keys=services.keys,
                       clock=book.clock)
    revoked = client.post("/me/verify", data={"csrf_token": token, "token": visit.token})
    assert _verdict(revoked.text) == "Revoked" and "Pay nothing to them" in revoked.text
    book.clock.at += timedelta(days=40)  # past the call credential's 30 days
    expired = client.post("/me/verify", data={"csrf_token": token, "token": book.token})
    assert _verdict(expired.text) == "Expired"

    assert client.post("/me/verify", data={"token": book.token}).status_code == 403
    client.cookies.clear()
    signed_out = client.get("/me/verify", follow_redirects=False)
    assert signed_out.status_code == 303
    assert signed_out.headers["location"] == "/borrower/login"
