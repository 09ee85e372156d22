"""The composition root: settings in, wired services out. Nothing happens at import time."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from arrears.adapters.clock import SystemClock
from arrears.adapters.db.engine import create_engine, upgrade
from arrears.adapters.db.unit_of_work import SqlUnitOfWorkFactory
from arrears.application.ports import Clock
from arrears.config import Settings


@dataclass(frozen=True, slots=True, kw_only=True)
class Services:
    settings: Settings
    engine: sa.Engine
    uow_factory: SqlUnitOfWorkFactory
    clock: Clock

    def migrate(self) -> None:
        upgrade(self.engine)


UNIQUE_VIOLATION = "23505"  # PostgreSQL SQLSTATE


def is_duplicate_key_error(error: Exception) -> bool:
    """The store refused a row because a unique key (an idempotency key) already exists —
    not any other integrity error, which must surface as itself."""
    if not isinstance(error, IntegrityError):
        return False
    cause = error.orig
    return (getattr(cause, "sqlstate", None) == UNIQUE_VIOLATION
            or "UNIQUE constraint failed" in str(cause))


def build(settings: Settings, *, clock: Clock | None = None) -> Services:
    engine = create_engine(settings.database_url)
    return Services(settings=settings, engine=engine, uow_factory=SqlUnitOfWorkFactory(engine),
                    clock=clock or SystemClock())
