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


@pytest.fixture
def twin(database_url: str, tmp_path) -> Iterator[bootstrap.Services]:
    """A second migrated book on the same kind of database as `services` (a file or a schema
    of its own), for tests that compare two ways of doing the same thing."""
    urls = (iter([f"sqlite:///{tmp_path / 'twin.db'}"]) if database_url.startswith("sqlite")
            else postgres_schema_url())
    built = bootstrap.build(Settings(database_url=next(urls),
                                     key_dir=str(tmp_path / "twin-keys")), clock=FixedClock())
    built.migrate()
    yield built
    built.engine.dispose()
    for _ in urls:  # drops the schema
        pass
