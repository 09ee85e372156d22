"""Integration fixtures: a migrated book on SQLite always, and on PostgreSQL when
ARREARS_TEST_POSTGRES_URL is set (each test in a schema of its own)."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from importlib import resources
from typing import Any

import pytest
import sqlalchemy as sa

from arrears import bootstrap
from arrears.config import Settings

from fakes import FixedClock

POSTGRES_URL = os.environ.get("ARREARS_TEST_POSTGRES_URL")
BACKENDS = ["sqlite"] + (["postgresql"] if POSTGRES_URL else [])


def default_products() -> dict[str, Any]:
    return json.loads((resources.files("arrears") / "default_products.json").read_text())


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'book.db'}"
        return
    assert POSTGRES_URL is not None
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.exec_driver_sql(f"CREATE SCHEMA {schema}")
    separator = "&" if "?" in POSTGRES_URL else "?"
    yield f"{POSTGRES_URL}{separator}options=-csearch_path%3D{schema}"
    with admin.begin() as connection:
        connection.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
    admin.dispose()


@pytest.fixture
def services(database_url: str) -> Iterator[bootstrap.Services]:
    built = bootstrap.build(Settings(database_url=database_url), clock=FixedClock())
    built.migrate()
    yield built
    built.engine.dispose()
