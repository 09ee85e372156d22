"""`arrears serve --demo`: a small demo book (built once through the `arrears demo` code,
reused on later starts) with one web login per role, fresh passwords at every start, a
session secret for this run, borrowers' sign-in codes going to a local sink, and the demo
payment channel on (its signing secret made for this run) — only for a book this command
built: it posts payments no money backs, which a real book must never take."""

from __future__ import annotations

import hashlib
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from arrears import bootstrap
from arrears.adapters.db import tables as t
from arrears.application.handlers import users
from arrears.domain.errors import DomainError
from arrears.entrypoints.cli import book

DEMO_DB = "sqlite:///./arrears-web-demo.db"
DEMO_SINKS = Path("arrears-web-demo-sinks")
DEMO_MARKS = Path("arrears-web-demo-books")
"""Where `prepare` notes each book it built (a hash of its URL, no password kept): a book has
no mark of its own, so this is how a later start tells a demo book from a real one."""
DEMO_LOANS, DEMO_DAYS = 500, 60
DEMO_USERS = (
    ("demo-admin", "admin", {}),
    ("demo-supervisor", "supervisor", {}),
    ("demo-compliance", "compliance", {}),
    ("demo-collector", "collector", {"collector": "C-01"}),
    ("demo-agency", "agency", {"agency": "AG-HUAXIN"}),
)


@dataclass(frozen=True, slots=True, kw_only=True)
class DemoLogin:
    name: str
    role: str
    password: str


def overdue_borrower(db: str) -> tuple[str, str] | None:
    """(phone, loan) of an overdue demo borrower to sign in to the portal as: the book is
    synthetic, so its number may be shown in full."""
    built = book.services(db)
    with built.engine.connect() as connection:
        row = connection.execute(
            sa.select(t.borrower_phone.c.number, t.loan.c.loan_ref)
            .join(t.loan, t.loan.c.borrower_id == t.borrower_phone.c.borrower_id)
            .where(t.loan.c.status == "overdue").order_by(t.loan.c.id).limit(1)).first()
    return None if row is None else (row.number, row.loan_ref)


def _mark(db: str) -> Path:
    return DEMO_MARKS / hashlib.sha256(db.encode()).hexdigest()


def mark_built(db: str) -> None:
    """Note that `db` is a demo book this command built."""
    DEMO_MARKS.mkdir(exist_ok=True)
    _mark(db).touch()


def prepare(db: str) -> list[DemoLogin]:
    """The demo book at `db` (built when it has no business date yet) and its logins, with the
    demo payment channel on (its signing secret made for this run). A book this command did
    not build is refused: demo logins with printed passwords and a channel that posts
    payments no money backs must never reach a real book."""
    built = book.services(db)
    built.migrate()
    with built.uow_factory() as uow:
        ready = uow.book.closed_through() is not None
    if not ready:
        book.demo(loans=DEMO_LOANS, days=DEMO_DAYS, seed=7, start="2026-01-01", db=db,
                  collections=True, sinks=DEMO_SINKS, engine="scalar", as_json=False)
        mark_built(db)
    elif not (_mark(db).exists() or db == DEMO_DB):  # the default: a demo book of old
        raise DomainError("--db", "this book was not built by `arrears serve --demo`, which "
                                  "adds demo logins and takes payments no money backs; "
                                  "serve it with `arrears serve` (no --demo)")
    os.environ.setdefault("ARREARS_SESSION_SECRET", secrets.token_urlsafe(32))
    os.environ.setdefault("ARREARS_SINK_DIR", str(DEMO_SINKS))
    # The channel's notices are signed with a secret made for this run, never one already
    # set: no secret lives in the repository, and none outlives the run.
    os.environ["ARREARS_CALLBACK_SECRET"] = secrets.token_urlsafe(32)
    os.environ["ARREARS_WEB_DEMO_GATEWAY"] = "1"
    return [_login(built, name, role, extra) for name, role, extra in DEMO_USERS]


def _login(built: bootstrap.Services, name: str, role: str, extra: dict[str, str]
           ) -> DemoLogin:
    password = secrets.token_urlsafe(12)
    factory = built.web_uow_factory()
    try:
        users.create_user(name, role, password, uow_factory=factory, clock=built.clock,
                          **extra)
    except DomainError as error:
        if error.field != "name":  # anything but "already exists" is a real problem
            raise
        users.set_password(name, password, uow_factory=factory)
    return DemoLogin(name=name, role=role, password=password)
