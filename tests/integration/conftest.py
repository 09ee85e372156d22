"""Integration fixtures: a migrated book on SQLite always, and on PostgreSQL when
ARREARS_TEST_POSTGRES_URL is set (each test in a schema of its own)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from arrears import bootstrap
from arrears.config import Settings

from fakes import FixedClock
from loopback import BACKENDS, postgres_schema_url


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'book.db'}"
        return
    yield from postgres_schema_url()


@pytest.fixture
def services(database_url: str, tmp_path) -> Iterator[bootstrap.Services]:
    built = bootstrap.build(Settings(database_url=database_url,
                                     key_dir=str(tmp_path / "keys")), clock=FixedClock())
    built.migrate()
    yield built
    built.engine.dispose()
