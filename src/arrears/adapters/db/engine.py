"""Engines for the embedded default (SQLite) and PostgreSQL, and schema migration by Alembic."""

from __future__ import annotations

import importlib
import re
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from arrears.adapters.db import checkpoints, tables
from arrears.domain.errors import DomainError, pickled

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")
SQLITE_BUSY_TIMEOUT_MS = 30_000
SQLITE_CACHE_KIB = 64 * 1024  # per connection
SQLITE_MMAP_BYTES = 1024 ** 3  # address space, not memory: the OS pages the file in
POSTGRES_POOL_SIZE = 10
POSTGRES_POOL_OVERFLOW = 30

# Errors that mean the store itself cannot serve any command: PostgreSQL SQLSTATEs (class 08
# connection, 53 insufficient resources, 57P0x shutting down, 25006 read-only) and SQLite
# result codes. A lock wait that timed out is not among them: callers retry those.
_UNAVAILABLE_SQLSTATE = re.compile(r"08...|53...|57P0[1-4]|25006")
_UNAVAILABLE_SQLITE = ("SQLITE_READONLY", "SQLITE_FULL", "SQLITE_IOERR", "SQLITE_CANTOPEN",
                       "SQLITE_NOTADB", "SQLITE_CORRUPT", "SQLITE_PERM")
_UNDEFINED_TABLE, _UNDEFINED_COLUMN = "42P01", "42703"
_PASSWORD_IN_URL = re.compile(r"(://[^:/@]*:)[^@/]*@")


class StoreUnavailable(Exception):
    """The database cannot serve the command: its URL does not parse, its driver is missing,
    it cannot be opened or written, or the book in it is not initialised. It names a `field`
    and a `reason` like a `DomainError` but is not one, so nothing that sets aside a bad input
    (EOD sets aside a loan) sets aside a dead store instead of stopping."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason

    def __reduce__(self) -> tuple[Any, ...]:
        return pickled(self)  # from a reading process (`read_ahead`) to the caller


def masked(url: str) -> str:
    """`url` with any password replaced, for messages (it may not even parse)."""
    return _PASSWORD_IN_URL.sub(r"\1***@", url)


def _first_line(error: BaseException, url: sa.URL) -> str:
    text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return text.replace(url.password, "***") if url.password else text


def _explain(context: sa.engine.ExceptionContext) -> None:
    """Replace a driver error that no caller can act on with one naming the store."""
    if context.is_pre_ping or context.engine is None:
        return  # a failed ping makes the pool reconnect; the reconnect reports for itself
    error = context.original_exception
    url = context.engine.url
    shown = url.render_as_string(hide_password=True)
    sqlstate = getattr(error, "sqlstate", None) or ""
    code = getattr(error, "sqlite_errorname", None) or ""
    reason = _first_line(error, url)
    if sqlstate == _UNDEFINED_TABLE or reason.startswith("no such table"):
        raise StoreUnavailable("db", f"the book at {shown} is not initialised; "
                                     f"run `arrears init`")
    if sqlstate == _UNDEFINED_COLUMN or reason.startswith("no such column"):
        raise StoreUnavailable("db", f"the book at {shown} has an older schema; "
                                     f"run `arrears init` to upgrade it")
    if context.connection is None:
        raise StoreUnavailable("--db", f"cannot open {shown}: {reason}")
    if _UNAVAILABLE_SQLSTATE.fullmatch(sqlstate) or code.startswith(_UNAVAILABLE_SQLITE):
        raise StoreUnavailable("--db", f"{shown}: {reason}")
    if "cannot contain NUL" in reason:  # inputs refuse NUL first; this is the net under them
        raise DomainError("text", "contains a NUL character, which PostgreSQL cannot store")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Foreign keys are off by default in SQLite; WAL lets readers run beside the EOD writer.
    # The driver's own transaction handling is switched off so `_begin_immediate` decides.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
    # SQLite's default page cache is 2 MB, and reads go through read() calls: a book of
    # 10,000 loans a few months on is a gigabyte, whose indexes (random message ids, evidence
    # chains) every insert walks. A larger cache and reading the file mapped cut the demo's
    # system time by a third and its run by about a tenth.
    cursor.execute(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")
    cursor.execute(f"PRAGMA mmap_size = {SQLITE_MMAP_BYTES}")
    checkpoints.log_pragmas(cursor)
    cursor.close()


def _query_only(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.execute("PRAGMA query_only = ON")


def _begin_deferred(connection: sa.Connection) -> None:
    # A reader takes no lock until it reads, and in WAL mode never waits for the writer.
    connection.exec_driver_sql("BEGIN")


def _begin_immediate(connection: sa.Connection) -> None:
    # Take the write lock when the transaction starts, so two writers queue instead of
    # deadlocking on a read-to-write upgrade (a payment reads the loan, then writes it).
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def create_engine(url: str, *, read_only: bool = False) -> sa.Engine:
    """An engine for `url` (`sqlite:///path.db` or `postgresql+psycopg://…`); errors that
    make the store unusable surface as `StoreUnavailable`. A `read_only` engine's
    transactions refuse to write and never queue behind a writer."""
    try:
        parsed = make_url(url)
    except sa.exc.ArgumentError:
        raise StoreUnavailable("--db", f"{masked(url)!r} is not a database URL (expected "
                                       f"sqlite:///PATH or postgresql+psycopg://…)") from None
    shown = parsed.render_as_string(hide_password=True)
    try:
        if parsed.get_backend_name() == "sqlite":
            _check_folder(parsed)
            # Bound parameters carry ID numbers and phones: never put them in an error message.
            engine = sa.create_engine(
                parsed, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
                hide_parameters=True, **_last_in_first_out(parsed),
                **_existing_file_only(parsed))
            sa.event.listen(engine, "connect", _sqlite_pragmas)
            if read_only:
                sa.event.listen(engine, "connect", _query_only)
            sa.event.listen(engine, "begin", _begin_deferred if read_only else _begin_immediate)
            book = _book_file(parsed)
            if not read_only and book is not None:
                sa.event.listen(engine, "checkin", checkpoints.LogCheckpoints(book))
        else:
            # The API runs its routes in anyio's 40 worker threads, each holding at most one
            # connection: a pool as large never makes a burst wait out its timeout.
            engine = sa.create_engine(parsed, pool_pre_ping=True, hide_parameters=True,
                                      pool_size=POSTGRES_POOL_SIZE,
                                      max_overflow=POSTGRES_POOL_OVERFLOW)
            if read_only:
                engine = engine.execution_options(postgresql_readonly=True)
    except (sa.exc.NoSuchModuleError, ImportError):
        raise StoreUnavailable("--db", f"no installed driver {parsed.drivername!r} for "
                                       f"{shown}") from None
    except sa.exc.ArgumentError as error:
        raise StoreUnavailable("--db", f"{shown}: {_first_line(error, parsed)}") from None
    sa.event.listen(engine, "handle_error", _explain)
    return engine


def _book_file(url: sa.URL) -> Path | None:
    name = url.database or ""
    return None if not name or name == ":memory:" or name.startswith("file:") else Path(name)


def _last_in_first_out(url: sa.URL) -> dict[str, Any]:
    # One caller's units of work one after another get the same pooled connection, whose own
    # counters (`PRAGMA data_version`, `total_changes`) tell a payment file's writer that
    # nothing else wrote between its chunks. A book in memory has one connection a thread.
    pooled = issubclass(url.get_dialect().get_pool_class(url), sa.pool.QueuePool)
    return {"pool_use_lifo": True} if pooled else {}


def _existing_file_only(url: sa.URL) -> dict[str, Any]:
    # SQLite creates a missing file on connect, so a mistyped --db would leave an empty file
    # behind every command that then says the book is not initialised. Connections open the
    # file read-write only; `upgrade` (init, demo) is what creates a book.
    path = _book_file(url)
    if path is None:
        return {}
    shown = url.render_as_string(hide_password=True)

    def connect() -> sqlite3.Connection:
        if not path.exists():
            raise StoreUnavailable("--db", f"there is no book at {shown}; run `arrears init`")
        return sqlite3.connect(f"{path.resolve().as_uri()}?mode=rw", uri=True,
                               timeout=SQLITE_BUSY_TIMEOUT_MS / 1000, check_same_thread=False)

    return {"creator": connect}


def _check_folder(url: sa.URL) -> None:
    # SQLite creates the file but not its folder, and would only say "unable to open".
    name = url.database or ""
    if name and name != ":memory:" and not name.startswith("file:"):
        folder = Path(name).parent
        if not folder.is_dir():
            raise StoreUnavailable("--db", f"folder {folder} does not exist")


def alembic_config(url: str) -> Config:
    from alembic.config import Config  # a tenth of a second: only where the schema is made

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def _create_book_file(engine: sa.Engine) -> None:
    path = _book_file(engine.url) if engine.dialect.name == "sqlite" else None
    if path is not None and not path.exists():
        sqlite3.connect(path).close()


def upgrade(engine: sa.Engine) -> None:
    """Bring the schema to the newest migration (the only way the schema, and a new SQLite
    book file, is created)."""
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    _create_book_file(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        from alembic import command

        command.upgrade(config, "head")


def _book_tables() -> list[str]:
    """Every table the migrations create (each `*_tables` module declares its own)."""
    package = Path(__file__).parent
    for module in sorted(package.glob("*_tables.py")):
        importlib.import_module(f"{__package__}.{module.stem}")
    return [*tables.metadata.tables, "alembic_version"]


def rebuild(engine: sa.Engine) -> None:
    """Drop every table of the book (what an earlier demo left) and migrate from scratch.
    Tables that are not the book's are left alone."""
    _create_book_file(engine)
    quote = engine.dialect.identifier_preparer.quote
    with engine.begin() as connection:
        # A book of an older release may keep a foreign key the newest schema dropped, so no
        # drop order from this release's schema is safe: PostgreSQL drops the keys with their
        # table; SQLite checks them only at commit, when every table is gone.
        cascade = " CASCADE" if engine.dialect.name == "postgresql" else ""
        if engine.dialect.name == "sqlite":
            connection.exec_driver_sql("PRAGMA defer_foreign_keys = ON")
        for name in _book_tables():
            connection.exec_driver_sql(f"DROP TABLE IF EXISTS {quote(name)}{cascade}")
    upgrade(engine)
