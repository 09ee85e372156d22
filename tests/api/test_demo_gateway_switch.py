"""`arrears serve --demo` serves only a book it built: demo logins and a payment channel that
posts payments no money backs never reach a real book. It signs the channel's notices with a
secret made for each run, never one already set."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from argon2 import PasswordHasher

from arrears import bootstrap
from arrears.application import collections_demo
from arrears.application.handlers import users
from arrears.config import Settings
from arrears.domain.errors import DomainError
from arrears.entrypoints.cli import web_demo
from arrears.entrypoints.web.session import WebSettings

from api_support import OPEN, build

SET_BY_THE_DEMO = ("ARREARS_SESSION_SECRET", "ARREARS_SINK_DIR", "ARREARS_CALLBACK_SECRET",
                   "ARREARS_WEB_DEMO_GATEWAY")
REAL_SECRET = "the-real-channels-secret"


@pytest.fixture(autouse=True)
def demo_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The demo's files in a folder of the test's, its environment restored afterwards,
    and cheap password hashes for its logins."""
    monkeypatch.chdir(tmp_path)
    for name in SET_BY_THE_DEMO:
        # Set, then removed: monkeypatch notes a variable it removes only if it was there, and
        # one the demo sets later would outlive the test (another test's web settings read it).
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)
    monkeypatch.setenv("ARREARS_CALLBACK_SECRET", REAL_SECRET)
    monkeypatch.setattr(users, "_hasher", lambda: PasswordHasher(time_cost=1, memory_cost=8,
                                                                 parallelism=1))


def _book(url: str) -> None:
    """A book with loans, a business date and the collectors the demo's logins act for."""
    built = build(url)
    collections_demo.setup(uow_factory=built.uow_factory, start=OPEN)
    built.engine.dispose()


def _gateway() -> bool:
    return WebSettings.from_env({**os.environ, "ARREARS_SESSION_SECRET": "s" * 32}
                                ).demo_gateway


def test_a_real_book_is_refused_and_gets_no_demo_login(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'real.db'}"
    _book(url)  # a book with loans and a business date the demo did not make
    with pytest.raises(DomainError) as refused:
        web_demo.prepare(url)
    assert refused.value.field == "--db"
    assert "not built by `arrears serve --demo`" in refused.value.reason
    assert not _gateway()
    with bootstrap.build(Settings(database_url=url)).web_uow_factory()() as uow:
        assert uow.web.user("demo-admin") is None


def test_a_book_the_demo_built_gets_the_channel_with_a_new_secret_each_run(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    built: list[str] = []

    def demo(**options: object) -> None:  # the demo book, as `arrears demo` builds it
        built.append(str(options["db"]))
        _book(url)

    monkeypatch.setattr(web_demo.book, "demo", demo)
    first = web_demo.prepare(url)  # an empty book: the demo builds it
    assert built == [url] and _gateway()
    assert {login.role for login in first} >= {"admin", "collector"}
    secret = os.environ["ARREARS_CALLBACK_SECRET"]
    assert secret != REAL_SECRET

    web_demo.prepare(url)  # a later start reuses it
    assert built == [url] and _gateway()
    assert os.environ["ARREARS_CALLBACK_SECRET"] not in (secret, REAL_SECRET)
    # Another book at another address is not the one the demo built.
    other = f"sqlite:///{tmp_path / 'other.db'}"
    _book(other)
    monkeypatch.delenv("ARREARS_WEB_DEMO_GATEWAY")
    with pytest.raises(DomainError):
        web_demo.prepare(other)
    assert not _gateway()
