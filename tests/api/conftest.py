"""API fixtures: a small book on each backend and a TestClient over it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from arrears import bootstrap

from api_support import app_for, build, place_overdue_wld
from loopback import BACKENDS, postgres_schema_url


@pytest.fixture(params=BACKENDS)
def small_book(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[bootstrap.Services]:
    """The example loans boarded, open on OPEN, no collections yet."""
    if request.param == "sqlite":
        built = build(f"sqlite:///{tmp_path / 'book.db'}")
        yield built
        built.engine.dispose()
        return
    for url in postgres_schema_url():
        built = build(url)
        yield built
        built.engine.dispose()


@pytest.fixture
def client(small_book: bootstrap.Services) -> Iterator[TestClient]:
    with TestClient(app_for(small_book), raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def placed_book(small_book: bootstrap.Services) -> bootstrap.Services:
    """WLD-1001 and WLD-1002 overdue and placed with AG-HUAXIN from the day after CLOSED."""
    place_overdue_wld(small_book)
    return small_book
