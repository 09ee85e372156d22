"""The pages in a real browser (Debian's chromium under Playwright) against a live server:
credential verification, the collector workbench, agency scoping, the borrower portal (the
day-by-day penalty, paying through the demo channel, checking a visit notice), both
languages; each page screenshotted into the test's folder and checked with axe-core."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from itertools import count
from pathlib import Path
from typing import Any

from arrears.application import day_by_day, servicing_queries, statements

from web_book import (
    BORROWER_PHONE,
    COLLECTOR_LOAN,
    PASSWORD,
    PLACED_LOAN,
    WORKING_HOURS,
    Book,
    check_accessibility,
    codes_sent,
    forged_visit_notice,
)

SIGN_INS = count()
PAYING_LOAN, PAYING_PHONE = "PHN-2002", "13812345678"  # B-1001's


def shot(page: Any, tmp_path: Path, name: str) -> None:
    page.screenshot(path=str(tmp_path / f"{name}.png"), full_page=True)


def sign_in(page: Any, name: str) -> None:
    page.goto("/login")
    page.get_by_label("User name").fill(name)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def tampered(token: str) -> str:
    """The token with one character of its signature changed."""
    head, payload, signature = token.split(".")
    flipped = "A" if signature[5] != "A" else "B"
    return ".".join((head, payload, signature[:5] + flipped + signature[6:]))


def test_verification_says_genuine_for_a_real_token_and_forged_for_a_tampered_one(
        page: Any, book: Book, tmp_path: Path) -> None:
    page.goto(f"/verify?token={book.token}")  # the QR code's link
    verdict = page.get_by_role("status")
    assert verdict.get_by_role("heading").inner_text() == "Genuine"
    assert "C-01" in verdict.inner_text() and "phone calls" in verdict.inner_text()
    shot(page, tmp_path, "verify-genuine")
    check_accessibility(page)

    page.get_by_label("Credential").fill(tampered(book.token))
    page.get_by_role("button", name="Check").click()
    verdict = page.get_by_role("status")
    assert verdict.get_by_role("heading").inner_text() == "Forged"
    assert "C-01" not in verdict.inner_text()  # nothing a forger wrote is shown as fact
    shot(page, tmp_path, "verify-forged")


def test_a_collector_works_a_case(page: Any, book: Book, tmp_path: Path) -> None:
    sign_in(page, "c01")
    assert page.url.endswith("/work")
    page.get_by_role("link", name=COLLECTOR_LOAN).wait_for()
    shot(page, tmp_path, "queue")
    check_accessibility(page)

    page.get_by_role("link", name=COLLECTOR_LOAN).click()
    call = page.locator("tr[data-channel=call]")
    assert "Blocked" in call.inner_text()
    assert "2026-03-22 08:00" in call.inner_text()  # the next allowed time, borrower's clock
    assert "cn.gbt45251.collection_hours" in call.inner_text()  # and the rule that says so

    page.get_by_label("What you will say").press_sequentially("Pay today or you will be "
                                                              "arrested")
    flagged = page.locator("#script-check")
    flagged.get_by_text("The script breaks these rules").wait_for()
    assert "arrested" in flagged.inner_text() and "CN-7" in flagged.inner_text()
    shot(page, tmp_path, "case-script-flagged")
    check_accessibility(page)

    book.clock.at = WORKING_HOURS
    page.get_by_label("What you will say").fill("This is a reminder about your installment.")
    page.get_by_label("Outcome", exact=True).select_option("no_answer")
    page.get_by_role("button", name="Log outcome").click()
    page.get_by_text("Outcome logged.").wait_for()
    history = page.locator("#history").locator("..")
    assert "No answer" in history.inner_text() and "C-01" in history.inner_text()
    shot(page, tmp_path, "case-logged")


def test_an_agency_cannot_open_another_agencys_case(page: Any, tmp_path: Path) -> None:
    sign_in(page, "unlisted")
    response = page.goto(f"/work/loans/{PLACED_LOAN}")
    assert response is not None and response.status == 404
    assert page.get_by_role("heading", level=1).inner_text() == "Not found"
    shot(page, tmp_path, "agency-not-found")

    page.get_by_role("button", name="Sign out").click()
    sign_in(page, "huaxin")  # the agency it is placed with may
    response = page.goto(f"/work/loans/{PLACED_LOAN}")
    assert response is not None and response.status == 200


def borrower_signs_in(page: Any, book: Book, phone: str = BORROWER_PHONE) -> None:
    """The borrower with `phone` (B-1003) signs in with the code the local message sink
    received (the clock a few minutes on from the last sign-in: a code is sent at most once a
    minute)."""
    book.clock.at = WORKING_HOURS + timedelta(minutes=5 * next(SIGN_INS))
    page.goto("/borrower/login")
    page.get_by_label("Mobile number").fill(phone)
    page.get_by_role("button", name="Send me a code").click()
    page.get_by_label("Code from the text message").wait_for()
    assert phone not in page.url
    sent = [m for m in codes_sent(book) if m["to"] == f"+86{phone}"]
    code = re.search(r"\b(\d{6})\b", sent[-1]["body"])
    assert code is not None
    page.get_by_label("Code from the text message").fill(code.group(1))
    page.get_by_role("button", name="Sign in").click()
    assert page.url.endswith("/me")


def test_a_borrower_signs_in_with_a_texted_code_and_sees_what_they_owe(
        page: Any, book: Book, tmp_path: Path) -> None:
    borrower_signs_in(page, book)

    status = servicing_queries.loan_status_document(COLLECTOR_LOAN,
                                                    uow_factory=book.services.uow_factory)
    owed = f"{float(status['total_due']):,.2f}"
    assert owed in page.locator(".owe").inner_text()
    assert COLLECTOR_LOAN in page.get_by_role("heading", level=2).first.inner_text()
    shot(page, tmp_path, "portal")
    check_accessibility(page)


def test_a_borrower_reads_the_daily_penalty_pays_and_checks_a_forged_visit_notice(
        page: Any, book: Book, tmp_path: Path) -> None:
    """B-1001 pays on PHN-2002, a loan no other test here reads or pays."""
    borrower_signs_in(page, book, PAYING_PHONE)
    page.get_by_role("link", name=f"Payment plans, disputes and complaints for "
                                   f"{PAYING_LOAN}").click()
    figures = day_by_day.breakdown(statements.book_explanation(
        PAYING_LOAN, uow_factory=book.services.uow_factory))
    daily = page.get_by_role("table", name=re.compile("Day by day: the last"))
    scrolled = page.get_by_role("region", name=re.compile("Day by day: the last"))
    assert scrolled.get_attribute("tabindex") == "0"  # a keyboard can scroll it too
    rows = daily.locator("tbody tr")
    assert rows.count() == len(figures.rows) + (1 if figures.earlier_days else 0)
    assert figures.rows[-1].on.isoformat() in rows.last.inner_text()
    assert "Penalty interest" in daily.inner_text()
    running = rows.last.locator("td").last.inner_text()
    assert Decimal(re.sub(r"[^\d.-]", "", running)) == Decimal(figures.rows[-1].running)
    shot(page, tmp_path, "portal-loan-daily")
    check_accessibility(page)

    owed = servicing_queries.loan_status_document(PAYING_LOAN,
                                                  uow_factory=book.services.uow_factory)
    amount = page.get_by_label("Amount in CNY")
    assert amount.input_value() == owed["total_due"]  # prefilled: what is due today
    amount.fill("10.00")
    page.get_by_role("button", name="Pay", exact=True).click()
    page.get_by_text("Payment received: CN¥10.00").wait_for()
    after = servicing_queries.loan_status_document(PAYING_LOAN,
                                                   uow_factory=book.services.uow_factory)
    assert Decimal(after["total_due"]) == Decimal(owed["total_due"]) - 10
    assert f"{Decimal(after['total_due']):,}" in page.locator(".owe").inner_text()
    assert "CN¥10.00" in page.get_by_role("table", name="Where each payment went").inner_text()
    shot(page, tmp_path, "portal-loan-paid")
    check_accessibility(page)

    page.get_by_role("link", name="Back to my loans").click()
    page.get_by_role("main").get_by_role("link", name="Verify a collector").click()
    page.get_by_label("Credential").fill(forged_visit_notice(book.token))
    page.get_by_label("Which of your loans they came about").select_option(PAYING_LOAN)
    page.get_by_role("button", name="Check").click()
    verdict = page.get_by_role("status")
    assert verdict.get_by_role("heading").inner_text() == "Forged"
    assert "Pay nothing to them" in verdict.inner_text()
    shot(page, tmp_path, "portal-verify-forged")
    check_accessibility(page)


def test_both_languages_render(page: Any, tmp_path: Path) -> None:
    page.goto("/verify")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("heading", level=1).inner_text() == "Verify a collector"
    page.get_by_role("button", name="中文").click()
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    assert page.get_by_role("heading", level=1).inner_text() == "核验催收人员"
    assert page.url.endswith("/verify")
    shot(page, tmp_path, "verify-zh")
    check_accessibility(page)
    page.get_by_role("button", name="English").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Verify a collector"


def received(page: Any, prefix: str) -> str:
    """The id in the page's "Received: …" status."""
    found = re.search(rf"Received: ({prefix}-\d+)", page.get_by_role("status").inner_text())
    assert found is not None
    return found.group(1)


def test_a_borrower_asks_for_a_plan_complains_and_objects_and_a_supervisor_approves(
        page: Any, book: Book, tmp_path: Path) -> None:
    borrower_signs_in(page, book)
    page.get_by_role("link", name=f"Payment plans, disputes and complaints for "
                                   f"{COLLECTOR_LOAN}").click()
    offer = page.get_by_role("article", name="Move your payments 1 month(s) later")
    assert "Next payment" in offer.inner_text() and "You pay in total" in offer.inner_text()
    shot(page, tmp_path, "portal-loan")
    check_accessibility(page)

    offer.get_by_role("button", name="Ask for this plan").click()
    plan_id = received(page, "PL")
    assert f"You asked for plan {plan_id}; it awaits a decision" in page.inner_text("main")

    page.get_by_label("What happened", exact=True).select_option("harassment")
    page.get_by_label("Tell us what happened").fill("They called my employer.")
    page.get_by_role("button", name="File the complaint").click()
    complaint = received(page, "CMP")
    row = page.get_by_role("row", name=re.compile(complaint))
    assert "Harassment" in row.inner_text() and "received" in row.inner_text()

    # About the credit record only: collection and plans go on (an objection about the
    # debt would stop both until it is answered).
    page.get_by_label("What it is about").select_option("credit_record")
    page.get_by_label("What is wrong (optional)").fill("The overdue mark is too early.")
    page.get_by_role("button", name="Raise the dispute").click()
    dispute = received(page, "DSP")
    assert "waiting for our answer" in page.get_by_role("row", name=re.compile(dispute))\
        .inner_text()
    shot(page, tmp_path, "portal-loan-filed")
    check_accessibility(page)

    page.get_by_role("button", name="Sign out").click()
    sign_in(page, "sup")
    assert page.url.endswith("/supervise")
    shot(page, tmp_path, "supervise")
    check_accessibility(page)
    page.get_by_role("link", name=plan_id).click()  # the preview it was proposed on
    assert "You pay in total" in page.inner_text("main")
    shot(page, tmp_path, "supervise-plan")
    check_accessibility(page)
    page.get_by_role("button", name=f"Approve {plan_id}").click()
    assert page.get_by_role("status").inner_text() == f"Decision on {plan_id} recorded."
    assert page.get_by_role("link", name=plan_id).count() == 0
    with book.services.uow_factory() as uow:
        record = uow.plans.get(plan_id)
    assert record is not None and (record.status, record.decided_by) == ("approved", "web:sup")


def test_the_compliance_dashboard_charts_each_figure_with_its_numbers(
        page: Any, tmp_path: Path) -> None:
    sign_in(page, "officer")
    assert page.url.endswith("/compliance")
    charts = page.locator("figure.chart")
    assert charts.count() == 6
    for index in range(charts.count()):
        figure = charts.nth(index)
        assert figure.get_by_role("table").count() == 1
        if figure.locator("svg").count():  # no chart without data: its table says so
            caption = figure.locator("figcaption").inner_text()
            assert figure.get_by_role("img", name=caption).count() == 1  # its <title>
    for drawn in ("Contact actions by day", "Answered in time", "Active loans by bucket",
                  "Roll rates"):  # the charts this book has data for
        assert page.get_by_role("img", name=drawn).count() == 1
    shot(page, tmp_path, "compliance")
    check_accessibility(page)

    page.get_by_role("button", name="中文").click()
    assert page.get_by_role("heading", level=1).inner_text() == "合规"
    shot(page, tmp_path, "compliance-zh")
    response = page.goto("/supervise")
    assert response is not None and response.status == 403
    assert page.get_by_role("heading", level=1).inner_text() == "无权访问"


def test_a_supervisor_recalls_a_placement_for_a_collector_whose_plan_they_approve(
        page: Any, book: Book, tmp_path: Path) -> None:
    """The supervisor recalls WLD-1002's case from its agency and gives it to C-01, who
    records the borrower's promise and proposes a plan (previewed first); the supervisor
    approves it. Every form is a plain POST; refusals name the field on the page."""
    sign_in(page, "sup")
    page.get_by_role("button", name="Recall case 2").click()
    assert page.get_by_role("status").inner_text() == "Case 2 recalled from its agency."
    assert page.locator("tr[data-placed='2']").count() == 0
    assert page.locator("tr[data-placed='1']").count() == 1  # WLD-1001's stays placed
    page.get_by_label("Collector for case 2").select_option("C-03")  # works M2, M3 only
    page.get_by_role("button", name="Assign case 2").click()
    assert "collector: C-03 does not work bucket M1" in page.get_by_role("alert").inner_text()
    page.get_by_label("Collector for case 2").select_option("C-01")
    page.get_by_role("button", name="Assign case 2").click()
    assert page.get_by_role("status").inner_text() == "Case 2 assigned."
    shot(page, tmp_path, "supervise-assigned")
    check_accessibility(page)
    page.get_by_role("button", name="Sign out").click()

    sign_in(page, "c01")
    page.get_by_role("link", name="WLD-1002").click()
    page.get_by_label("Amount promised").fill("12.345")
    page.get_by_label("Pay by").fill("2026-03-25")
    page.get_by_role("button", name="Record the promise").click()
    assert page.locator("#promise-error").inner_text().startswith("amount: ")
    shot(page, tmp_path, "case-promise-refused")
    check_accessibility(page)
    page.get_by_label("Amount promised").fill("300.00")
    page.get_by_role("button", name="Record the promise").click()
    assert page.get_by_role("status").inner_text() == "Promise recorded."
    promises = page.locator("#promises").locator("..")
    assert "300.00" in promises.inner_text() and "C-01" in promises.inner_text()

    page.get_by_label("Kind of plan").select_option("deferral")
    page.get_by_label("Months to move the due dates").fill("1")
    page.get_by_role("button", name="Preview the plan").click()
    preview = page.get_by_role("region", name="Preview: what the borrower would see")
    assert "You pay in total" in preview.inner_text()
    shot(page, tmp_path, "case-plan-preview")
    check_accessibility(page)
    preview.get_by_role("button", name="Propose this plan for approval").click()
    found = re.fullmatch(r"Plan (PL-\d+) proposed; it awaits a supervisor's decision\.",
                         page.get_by_role("status").inner_text())
    assert found is not None
    plan_id = found.group(1)
    assert "awaiting a decision" in page.locator(f"tr[data-plan='{plan_id}']").inner_text()
    shot(page, tmp_path, "case-plan-proposed")
    check_accessibility(page)
    page.get_by_role("button", name="Sign out").click()

    sign_in(page, "sup")
    page.get_by_role("button", name=f"Approve {plan_id}").click()
    assert page.get_by_role("status").inner_text() == f"Decision on {plan_id} recorded."
    with book.services.uow_factory() as uow:
        record = uow.plans.get(plan_id)
    assert record is not None
    assert (record.status, record.proposed_by, record.decided_by) == \
        ("approved", "C-01", "web:sup")
