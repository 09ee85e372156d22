"""The Alembic migrations build exactly the schema the table metadata declares, on SQLite
and PostgreSQL: a column added to a `*_tables.py` module without its migration (or the
reverse) fails here rather than on a lender's database."""

from __future__ import annotations

import importlib
import pkgutil

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import arrears.adapters.db as db_package
from arrears.adapters.db.engine import create_engine, upgrade
from arrears.adapters.db.tables import metadata

from loopback import BACKENDS, postgres_schema_url


def _all_tables() -> sa.MetaData:
    for module in pkgutil.iter_modules(db_package.__path__):
        if module.name.endswith("_tables"):
            importlib.import_module(f"{db_package.__name__}.{module.name}")
    return metadata


def _differences(url: str) -> list[object]:
    engine = create_engine(url)
    try:
        upgrade(engine)
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            return list(compare_metadata(context, _all_tables()))
    finally:
        engine.dispose()


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_migrations_build_the_declared_schema(backend, tmp_path):
    if backend == "sqlite":
        assert _differences(f"sqlite:///{tmp_path / 'book.db'}") == []
        return
    urls = postgres_schema_url()
    try:
        assert _differences(next(urls)) == []
    finally:
        next(urls, None)
