"""The portal's Pay form and the demo payment channel: off unless switched on (no such page,
whoever asks, and nothing posted), the payment goes through the signed callback (the same
handler as a real channel's), a form sent twice posts once, every refusal is said in the
page's language next to the field it names and posts nothing, amounts are read as the rest
of the product reads them (grouping commas as the page shows them allowed), only the
borrower's own loans can be paid, and the loan page then shows the payment and the new
figures. Each test that pays has a loan no other test here pays."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from itertools import count

import pytest
from fastapi.testclient import TestClient

from arrears.application import servicing_queries
from arrears.domain.errors import DomainError
from arrears.entrypoints.api.settings import ApiSettings
from arrears.entrypoints.web.i18n import Translator
from arrears.entrypoints.web.session import LANGUAGE_COOKIE, WebSettings

from web_book import (
    BORROWER_PHONE,
    COLLECTOR_LOAN,
    DEMO_CHANNEL_SECRET,
    DUE_TODAY_LOAN,
    DUE_TODAY_PHONE,
    DUE_TODAY_ROW,
    WORKING_HOURS,
    Book,
    app_for,
    module_book,
    sign_in_borrower,
)

OTHERS_LOAN = "WLD-1001"  # B-1001's
PAYOFF_LOAN, PAYOFF_PHONE = "PHN-2002", "13812345678"  # B-1001's too
GROUPED_LOAN, GROUPED_PHONE = "WLD-1002", "13911112222"  # B-1002's
SIGN_INS = count()
GATEWAY = "/demo-gateway/pay"


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Book]:
    """The web book with a loan of B-1004's on its due date, which the payer pays."""
    yield from module_book(tmp_path_factory, boarded_later=(DUE_TODAY_ROW,))


def _app(book: Book, *, demo: bool) -> TestClient:
    web = WebSettings(session_secret="s" * 32, verify_per_minute=10_000,
                      sign_in_per_minute=10_000, demo_gateway=demo)
    return TestClient(app_for(book, web, ApiSettings(key_cache_seconds=0,
                                                     callback_secret=DEMO_CHANNEL_SECRET)),
                      headers={"accept-language": "en"})


def _client(book: Book, monkeypatch: pytest.MonkeyPatch, *, demo: bool,
            phone: str) -> Iterator[tuple[TestClient, str]]:
    monkeypatch.setenv("ARREARS_SINK_DIR", str(book.sinks))
    book.clock.at = WORKING_HOURS + timedelta(minutes=5 * next(SIGN_INS))
    with _app(book, demo=demo) as client:
        yield client, sign_in_borrower(client, book, phone)


@pytest.fixture
def payer(book: Book, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[TestClient, str]]:
    """B-1004 signed in, with the demo channel on; and the session's CSRF token."""
    yield from _client(book, monkeypatch, demo=True, phone=DUE_TODAY_PHONE)


@pytest.fixture
def production(book: Book, monkeypatch: pytest.MonkeyPatch
               ) -> Iterator[tuple[TestClient, str]]:
    """B-1003 signed in on a server without the demo channel."""
    yield from _client(book, monkeypatch, demo=False, phone=BORROWER_PHONE)


def _payments(book: Book) -> int:
    with book.services.uow_factory() as uow:
        return sum(len(uow.book.payments_of(uow.book.get(ref).id))  # type: ignore[union-attr]
                   for ref in (DUE_TODAY_LOAN, COLLECTOR_LOAN, OTHERS_LOAN))


def _status(book: Book, loan: str = DUE_TODAY_LOAN) -> dict[str, str]:
    return servicing_queries.loan_status_document(loan, uow_factory=book.services.uow_factory)


def _pay_form(client: TestClient, loan: str = DUE_TODAY_LOAN) -> dict[str, str]:
    """The loan page's Pay form as shown: its hidden fields and the prefilled amount."""
    page = client.get(f"/me/loans/{loan}").text
    form = page.split('action="/demo-gateway/pay"', 1)[1].split("</form>", 1)[0]
    fields = dict(re.findall(r'name="(csrf_token|loan|payment|amount)"[^>]*?value="([^"]*)"',
                             form))
    return {**fields, "pay": "amount"}


def test_without_the_demo_switch_there_is_no_gateway(production: tuple[TestClient, str],
                                                    book: Book) -> None:
    client, token = production
    page = client.get(f"/me/loans/{COLLECTOR_LOAN}")
    assert GATEWAY not in page.text and "Pay through your bank" in page.text
    assert 'name="payment"' not in page.text  # no payment token made for a form not shown
    before = _payments(book)
    form = {"csrf_token": token, "loan": COLLECTOR_LOAN, "payment": "x" * 24, "pay": "amount",
            "amount": "10.00"}
    assert client.post(GATEWAY, data=form).status_code == 404
    # No sign-in or CSRF check runs first: there is no such page for anyone.
    assert client.post(GATEWAY, data={}).status_code == 404
    client.cookies.clear()
    for signed_out in (client.post(GATEWAY, data=form, follow_redirects=False),
                       client.get(GATEWAY, follow_redirects=False)):
        assert signed_out.status_code == 404
    assert _payments(book) == before


def test_the_switch_needs_the_channels_secret(book: Book) -> None:
    web = WebSettings(session_secret="s" * 32, demo_gateway=True)
    with pytest.raises(DomainError, match="ARREARS_CALLBACK_SECRET"):
        app_for(book, web, ApiSettings(key_cache_seconds=0))
    assert WebSettings.from_env({"ARREARS_SESSION_SECRET": "s" * 32}).demo_gateway is False
    with pytest.raises(DomainError, match="ARREARS_WEB_DEMO_GATEWAY"):
        WebSettings.from_env({"ARREARS_SESSION_SECRET": "s" * 32,
                              "ARREARS_WEB_DEMO_GATEWAY": "yes"})


def test_a_payment_sent_twice_posts_once_and_the_page_shows_it(
        payer: tuple[TestClient, str], book: Book) -> None:
    client, _ = payer
    before, owed = _payments(book), _status(book)
    form = _pay_form(client)
    assert form["amount"] == owed["total_due"]  # prefilled with what is due today
    form["amount"] = "10.00"
    first = client.post(GATEWAY, data=form, follow_redirects=False)
    again = client.post(GATEWAY, data=form, follow_redirects=False)  # a double click
    assert first.status_code == again.status_code == 303
    assert first.headers["location"] == again.headers["location"]
    assert _payments(book) == before + 1
    after = _status(book)
    assert Decimal(after["total_due"]) == Decimal(owed["total_due"]) - Decimal("10.00")

    page = client.get(first.headers["location"]).text
    assert "Payment received: CN¥10.00 on" in page
    assert f"You owe today: <strong>CN¥{Decimal(after['total_due']):,}</strong>" in page
    payments = page.split('id="payments"', 1)[1].split("</table>", 1)[0]
    assert "CN¥10.00" in payments

    form["amount"] = "11.00"  # the same form, sent again with another amount
    reused = client.post(GATEWAY, data=form)
    assert reused.status_code == 422
    assert "Not paid: This Pay form was already sent with another amount" in reused.text
    assert _payments(book) == before + 1


NOT_AN_AMOUNT = "is not an amount you can pay: enter more than zero in CNY, with at most 2 " \
                "decimal places, such as 1,000.00."


@pytest.mark.parametrize(("field", "value", "says", "marked"), [
    ("amount", "ten", f"ten {NOT_AN_AMOUNT}", ("amount",)),
    ("amount", "0", f"0 {NOT_AN_AMOUNT}", ("amount",)),
    ("amount", "-5.00", f"-5.00 {NOT_AN_AMOUNT}", ("amount",)),
    ("amount", "1.001", f"1.001 {NOT_AN_AMOUNT}", ("amount",)),
    ("amount", "１０", f"１０ {NOT_AN_AMOUNT}", ("amount",)),  # full-width, as everywhere else
    ("amount", "1,0.00", f"1,0.00 {NOT_AN_AMOUNT}", ("amount",)),  # not grouped as shown
    ("amount", "99999999.00", "CN¥99,999,999.00 is more than CN¥", ("amount",)),
    ("amount", "1,000,000.00", "CN¥1,000,000.00 is more than CN¥", ("amount",)),  # read
    ("amount", "", "Enter the amount to pay.", ("amount",)),
    ("amount", "1" * 40, f"{'1' * 32} {NOT_AN_AMOUNT}", ("amount",)),
    ("pay", "all", "Choose an amount or paying off the whole loan.",
     ("pay-amount", "pay-payoff")),
    ("payment", "short", "This is not a Pay form this site made", ()),
])
def test_a_refused_payment_names_the_field_and_posts_nothing(
        payer: tuple[TestClient, str], book: Book, field: str, value: str, says: str,
        marked: tuple[str, ...]) -> None:
    client, _ = payer
    before = _payments(book)
    form = {**_pay_form(client), field: value}
    refused = client.post(GATEWAY, data=form)
    assert refused.status_code == 422, refused.text
    shown = re.search(r'<p class="error" role="alert" id="pay-error">Not paid: (.*?)</p>',
                      refused.text)
    assert shown is not None and says in shown.group(1), shown
    invalid = re.findall(r'id="([\w-]+)"[^>]*aria-invalid="true" aria-describedby="pay-error"',
                         refused.text)
    assert tuple(invalid) == marked  # the fields the message describes
    assert _payments(book) == before


def test_a_refusal_is_in_the_pages_language(payer: tuple[TestClient, str], book: Book
                                            ) -> None:
    client, _ = payer
    form = {**_pay_form(client), "amount": "99999999.00"}
    client.cookies.set(LANGUAGE_COOKIE, "zh-CN")
    refused = client.post(GATEWAY, data=form)
    payoff = Decimal(_status(book)["payoff_amount"])
    zh = Translator("zh-CN")
    assert zh("{amount} is more than {payoff}, which repays the whole loan today.",
              amount="¥99,999,999.00", payoff=f"¥{payoff:,}") in refused.text
    assert "is more than" not in refused.text


@pytest.mark.parametrize(("written", "paid"), [("+10", "10.00"), ("1e1", "10.00")])
def test_an_amount_is_read_as_the_cli_reads_it(payer: tuple[TestClient, str], book: Book,
                                               written: str, paid: str) -> None:
    """The product's amount parser takes a sign and an exponent (the CLI's `--amount` does);
    the Pay form is no stricter and no looser."""
    client, _ = payer
    answer = client.post(GATEWAY, data={**_pay_form(client), "amount": written})
    assert answer.status_code == 200 and f"Payment received: CN¥{paid} on" in answer.text


def test_an_amount_grouped_as_the_page_shows_it_is_paid(book: Book,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """B-1002 types 1,000.00, as the page writes amounts."""
    for client, _ in _client(book, monkeypatch, demo=True, phone=GROUPED_PHONE):
        owed = Decimal(_status(book, GROUPED_LOAN)["payoff_amount"])
        assert owed > 1000
        paid = client.post(GATEWAY, data={**_pay_form(client, GROUPED_LOAN),
                                          "amount": "1,000.00"})
        assert paid.status_code == 200 and "Payment received: CN¥1,000.00 on" in paid.text
        assert Decimal(_status(book, GROUPED_LOAN)["payoff_amount"]) == owed - 1000


def test_only_the_borrowers_own_loan_with_the_forms_token_can_be_paid(
        payer: tuple[TestClient, str], book: Book) -> None:
    client, _ = payer
    before = _payments(book)
    form = _pay_form(client)
    assert client.post(GATEWAY, data={**form, "loan": OTHERS_LOAN}).status_code == 404
    assert client.post(GATEWAY, data={**form, "csrf_token": "forged"}).status_code == 403
    no_token = {k: v for k, v in form.items() if k != "csrf_token"}
    assert client.post(GATEWAY, data=no_token).status_code == 403
    client.cookies.clear()
    signed_out = client.post(GATEWAY, data=form, follow_redirects=False)
    assert signed_out.headers["location"] == "/borrower/login"
    assert _payments(book) == before


def test_paying_off_settles_the_loan(book: Book, monkeypatch: pytest.MonkeyPatch) -> None:
    """B-1001 pays off a loan no other test here pays."""
    for client, _ in _client(book, monkeypatch, demo=True, phone=PAYOFF_PHONE):
        payoff = _status(book, PAYOFF_LOAN)["payoff_amount"]
        assert Decimal(payoff) > 0
        paid = client.post(GATEWAY, data={**_pay_form(client, PAYOFF_LOAN), "pay": "payoff",
                                          "amount": "1.00"})  # the choice wins
        assert paid.status_code == 200
        assert f"Payment received: CN¥{Decimal(payoff):,} on" in paid.text
        assert "Nothing is owed on this loan." in paid.text
        status = _status(book, PAYOFF_LOAN)
        assert (status["total_due"], status["payoff_amount"]) == ("0.00", "0.00")
