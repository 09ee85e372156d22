"""Alembic environment: runs on the connection `arrears init` hands over, or on the URL in
alembic.ini / ARREARS_DB when the alembic command is used directly."""

from __future__ import annotations

import os

import sqlalchemy as sa
from alembic import context

from arrears.adapters.db.tables import metadata

config = context.config


def run_on(connection: sa.Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    run_on(connection)
else:
    url = os.environ.get("ARREARS_DB") or config.get_main_option("sqlalchemy.url")
    engine = sa.create_engine(url or "sqlite:///./arrears.db")
    with engine.begin() as fresh:
        run_on(fresh)
