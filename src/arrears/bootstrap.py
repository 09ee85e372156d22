"""The composition root: settings in, wired services out. Nothing happens at import time."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from arrears.adapters.clock import SystemClock
from arrears.adapters.db.api_store import SqlApiUnitOfWorkFactory
from arrears.adapters.db.bureau_store import SqlBureauUnitOfWorkFactory
from arrears.adapters.db.engine import create_engine, rebuild, upgrade
from arrears.adapters.db.unit_of_work import SqlUnitOfWorkFactory
from arrears.adapters.db.web_store import SqlWebUnitOfWorkFactory
from arrears.adapters.signing import FileKeyVault, default_key_dir
from arrears.application.ports import Clock
from arrears.application.trust import KeyVault
from arrears.config import Settings


@dataclass(frozen=True, slots=True, kw_only=True)
class Services:
    settings: Settings
    engine: sa.Engine
    uow_factory: SqlUnitOfWorkFactory
    clock: Clock
    keys: KeyVault

    def api_uow_factory(self) -> SqlApiUnitOfWorkFactory:
        """Units of work that also carry the API's keys, access log and case lists."""
        return SqlApiUnitOfWorkFactory(self.engine)

    def web_uow_factory(self) -> SqlWebUnitOfWorkFactory:
        """Units of work that also carry the web pages' users and sign-in codes."""
        return SqlWebUnitOfWorkFactory(self.engine)

    def bureau_uow_factory(self) -> SqlBureauUnitOfWorkFactory:
        """Units of work that also carry the credit-reporting snapshots and notices."""
        return SqlBureauUnitOfWorkFactory(self.engine)

    def migrate(self) -> None:
        upgrade(self.engine)

    def rebuild(self) -> None:
        """An empty book at the newest schema, whatever was there before."""
        rebuild(self.engine)


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
    key_dir = Path(settings.key_dir) if settings.key_dir else default_key_dir(os.environ)
    return Services(settings=settings, engine=engine, uow_factory=SqlUnitOfWorkFactory(engine),
                    clock=clock or SystemClock(), keys=FileKeyVault(key_dir))
