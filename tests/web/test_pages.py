"""The pages without a browser: sessions and CSRF, rate limits, sign-in codes, plain-form
posts (no JavaScript), personal data kept out of URLs and logs, and the zh-CN catalog."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from importlib import resources

import pytest
from babel.messages.extract import extract_from_dir
from fastapi.testclient import TestClient

from arrears.application.handlers import login_codes
from arrears.entrypoints.api.settings import ApiSettings
from arrears.entrypoints.web.i18n import catalog
from arrears.entrypoints.web.session import WebSettings

from web_book import (
    BORROWER_PHONE,
    COLLECTOR_LOAN,
    PASSWORD,
    WORKING_HOURS,
    Book,
    app_for,
    codes_sent,
    csrf_of,
)


@pytest.fixture
def client(book: Book, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setenv("ARREARS_SINK_DIR", str(book.sinks))
    with TestClient(app_for(book), headers={"accept-language": "en"}) as test_client:
        yield test_client


def test_forms_without_the_sessions_csrf_token_are_refused(client: TestClient) -> None:
    client.get("/login")
    response = client.post("/login", data={"name": "c01", "password": PASSWORD,
                                           "csrf_token": "forged"}, follow_redirects=False)
    assert response.status_code == 403
    assert "session" not in response.headers.get("location", "")


def test_the_session_cookie_is_signed_http_only_and_same_site(client: TestClient) -> None:
    token = csrf_of(client.get("/login").text)
    response = client.post("/login", data={"name": "c01", "password": PASSWORD,
                                           "csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/work"
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
    assert client.get("/work").status_code == 200
    tampered = client.cookies["arrears_session"][:-2] + "xx"
    client.cookies.clear()  # the jar keeps the server's cookie beside one set by name alone
    client.cookies.set("arrears_session", tampered)
    assert client.get("/work", follow_redirects=False).headers["location"] == "/login"


def test_a_wrong_password_is_refused_and_names_no_user(client: TestClient) -> None:
    token = csrf_of(client.get("/login").text)
    response = client.post("/login", data={"name": "c01", "password": "not the password",
                                           "csrf_token": token})
    assert response.status_code == 401 and "Wrong name or password" in response.text


def test_credential_checks_are_rate_limited(book: Book) -> None:
    app = app_for(book, WebSettings(session_secret="s" * 32, verify_per_minute=3))
    with TestClient(app) as client:
        codes = [client.get("/verify", params={"token": book.token}).status_code
                 for _ in range(5)]
    assert codes == [200, 200, 200, 429, 429]


def test_pages_cannot_be_framed_sniffed_or_cached(client: TestClient) -> None:
    """A page with a one-click form (approve a plan, ask for one) framed by another site could
    be clicked through (clickjacking); a signed-in page kept in a shared computer's cache
    would show the next user a borrower's figures."""
    token = csrf_of(client.get("/login").text)
    for response in (client.get("/login"), client.get("/work", follow_redirects=False),
                     client.post("/login", data={"name": "c01", "password": PASSWORD,
                                                 "csrf_token": token}),
                     client.get("/work/loans/nobody")):
        assert response.headers["x-frame-options"] == "DENY", response.url
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["cache-control"] == "no-store"
        assert response.headers["referrer-policy"] == "same-origin"


def test_settings_keep_their_secrets_out_of_logs_and_tracebacks() -> None:
    """The contexts routes see are dataclasses: their repr, in a log line or a traceback's
    locals, must not carry the secrets sessions, callbacks and webhooks are signed with."""
    api = ApiSettings.from_env({"ARREARS_CALLBACK_SECRET": "c" * 32,
                                "ARREARS_WEBHOOK_SECRET": "w" * 32})
    web = WebSettings.from_env({"ARREARS_SESSION_SECRET": "s" * 32})
    assert api.callback_secret == b"c" * 32 and web.session_secret == "s" * 32
    for shown in (repr(api), repr(web)):
        assert "c" * 32 not in shown and "w" * 32 not in shown and "s" * 32 not in shown


def test_staff_sign_in_is_rate_limited_per_user_name(book: Book) -> None:
    """Guesses at one account from many addresses share the account's limit."""
    app = app_for(book, WebSettings(session_secret="s" * 32, sign_in_per_minute=3))
    codes = []
    for address in range(5):
        with TestClient(app, client=(f"192.0.2.{address}", 5000)) as client:
            token = csrf_of(client.get("/login").text)
            codes.append(client.post("/login", data={"name": "sup", "password": "guess",
                                                     "csrf_token": token}).status_code)
    assert codes == [401, 401, 401, 429, 429]


def test_a_collector_logs_an_outcome_with_a_plain_form(client: TestClient, book: Book) -> None:
    """No JavaScript: the form posts, the page redirects, the history shows the contact; a
    script the screen flags is refused by the engine with its rule id, and nothing logged."""
    book.clock.at = WORKING_HOURS
    token = csrf_of(client.get("/login").text)
    client.post("/login", data={"name": "c01", "password": PASSWORD, "csrf_token": token})
    token = csrf_of(client.get(f"/work/loans/{COLLECTOR_LOAN}").text)
    refused = client.post(f"/work/loans/{COLLECTOR_LOAN}/contacts", data={
        "csrf_token": token, "channel": "call", "outcome": "conversation",
        "script": "pay now or we will have you arrested", "notes": ""})
    assert refused.status_code == 422 and "Refused by compliance" in refused.text
    assert "cn.cba2026.prohibited_conduct" in refused.text
    logged = client.post(f"/work/loans/{COLLECTOR_LOAN}/contacts", data={
        "csrf_token": token, "channel": "call", "outcome": "busy", "script": "", "notes": ""},
        follow_redirects=False)
    assert logged.status_code == 303
    page = client.get(logged.headers["location"]).text
    assert "Outcome logged." in page and "Busy" in page


def test_a_code_dies_after_five_wrong_guesses(client: TestClient, book: Book,
                                              caplog: pytest.LogCaptureFixture) -> None:
    book.clock.at = book.clock.at.replace(hour=11)  # past the resend interval of other tests
    caplog.set_level(logging.DEBUG)
    token = csrf_of(client.get("/borrower/login").text)
    sent = client.post("/borrower/code", data={"csrf_token": token, "phone": BORROWER_PHONE})
    assert sent.status_code == 200
    code = re.search(r"\b(\d{6})\b", codes_sent(book)[-1]["body"])
    assert code is not None
    wrong = "000000" if code.group(1) != "000000" else "111111"
    for _ in range(login_codes.MAX_ATTEMPTS):
        response = client.post("/borrower/login", data={"csrf_token": token,
                                                        "phone": BORROWER_PHONE,
                                                        "code": wrong})
        assert response.status_code == 401
    response = client.post("/borrower/login", data={"csrf_token": token,
                                                    "phone": BORROWER_PHONE,
                                                    "code": code.group(1)})
    assert response.status_code == 401
    assert client.get("/me", follow_redirects=False).headers["location"] == "/borrower/login"
    assert BORROWER_PHONE not in caplog.text and code.group(1) not in caplog.text


def test_an_unknown_number_gets_the_same_answer_and_no_message(client: TestClient,
                                                               book: Book) -> None:
    before = len(codes_sent(book))
    token = csrf_of(client.get("/borrower/login").text)
    response = client.post("/borrower/code", data={"csrf_token": token,
                                                   "phone": "13900000000"})
    assert response.status_code == 200 and "If this number is on file" in response.text
    assert len(codes_sent(book)) == before
    bad = client.post("/borrower/code", data={"csrf_token": token, "phone": "12"})
    assert bad.status_code == 422 and "phone" in bad.text


def test_every_message_of_the_pages_has_a_chinese_translation() -> None:
    folder = resources.files("arrears.entrypoints.web")
    method_map = [("templates/**.html", "jinja2"), ("**.py", "python")]
    found = {message for _, _, message, _, _ in extract_from_dir(
        str(folder), method_map, keywords={"_": None}) if isinstance(message, str)}
    assert len(found) > 100
    missing = sorted(found - set(catalog("zh-CN")))
    assert missing == []
