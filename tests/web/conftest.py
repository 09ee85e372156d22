"""Web fixtures: the book of `web_book` (one per module), the app served on a loopback port,
and Debian's chromium driven by Playwright (the browser tests skip, saying why, only when no
chromium binary is found, and fail instead under CI, which must have it)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest
from argon2 import PasswordHasher

from arrears.application.handlers import users
from arrears.entrypoints.api.settings import ApiSettings
from arrears.entrypoints.web.session import WebSettings

from loopback import LiveServer
from web_book import BEFORE_HOURS, DEMO_CHANNEL_SECRET, Book, app_for, module_book


@pytest.fixture(scope="session", autouse=True)
def cheap_password_hashes() -> Iterator[None]:
    """Argon2 at its lowest cost: users are hashed and checked by the same code, only fast
    (the production cost takes most of a second per user on a busy CI core, and each book
    has seven users)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(users, "_hasher", lambda: PasswordHasher(time_cost=1, memory_cost=8,
                                                               parallelism=1))
        yield


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Book]:
    yield from module_book(tmp_path_factory)


@pytest.fixture(autouse=True)
def before_hours(book: Book) -> None:
    book.clock.at = BEFORE_HOURS


@pytest.fixture(scope="module")
def server(book: Book) -> Iterator[LiveServer]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ARREARS_SINK_DIR", str(book.sinks))
        # As `serve --demo` runs: the portal's Pay button goes through the demo channel.
        live = LiveServer(app_for(
            book, WebSettings(session_secret="s" * 32, verify_per_minute=10_000,
                              sign_in_per_minute=10_000, demo_gateway=True),
            ApiSettings(key_cache_seconds=0, callback_secret=DEMO_CHANNEL_SECRET)))
    yield live
    live.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        if os.environ.get("CI"):
            pytest.fail("CI must run the browser tests: .ci/run installs Debian's chromium")
        pytest.skip("no chromium binary on PATH (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Any, server: LiveServer) -> Iterator[Any]:
    context = browser.new_context(base_url=server.url, locale="en-US")
    opened = context.new_page()
    yield opened
    context.close()

