"""The web pages' store on SQLAlchemy Core (`WebStore`): users, one-time codes and the
borrower-side reads (`PortalStore`); the unit of work that carries them, and the dashboards'
aggregates, beside the book and the API's store; and its rehearsal, which keeps nothing."""

from __future__ import annotations

from datetime import datetime
from typing import Self

import sqlalchemy as sa

from arrears.adapters.db import collections_tables as ct
from arrears.adapters.db import complaints_tables as cpt
from arrears.adapters.db import tables as t
from arrears.adapters.db import web_tables as wt
from arrears.adapters.db.api_store import SqlApiUnitOfWork, SqlApiUnitOfWorkFactory
from arrears.adapters.db.dashboard_store import SqlDashboards
from arrears.adapters.db.messages import aware, utc
from arrears.application.access import Role
from arrears.application.borrower_portal import MyContact
from arrears.application.web_users import BorrowerLogin, LoginCodeRow, WebUserRow


def _instant(value: datetime | None) -> datetime:
    found = aware(value)
    assert found is not None
    return found


class SqlWebStore:
    def __init__(self, connection: sa.Connection) -> None:
        self.connection = connection

    def add_user(self, row: WebUserRow) -> None:
        self.connection.execute(wt.web_user.insert().values(
            name=row.name, role=row.role.value, agency_ref=row.agency_ref,
            collector_ref=row.collector_ref, password_hash=row.password_hash,
            created_at=utc(row.created_at),
            disabled_at=utc(row.disabled_at) if row.disabled_at else None))

    def user(self, name: str) -> WebUserRow | None:
        row = self.connection.execute(
            sa.select(wt.web_user).where(wt.web_user.c.name == name)).first()
        if row is None:
            return None
        return WebUserRow(name=row.name, role=Role(row.role), agency_ref=row.agency_ref,
                          collector_ref=row.collector_ref, password_hash=row.password_hash,
                          created_at=_instant(row.created_at),
                          disabled_at=aware(row.disabled_at))

    def set_password(self, name: str, password_hash: str) -> bool:
        done = self.connection.execute(wt.web_user.update().where(
            wt.web_user.c.name == name).values(password_hash=password_hash))
        return done.rowcount == 1

    def collector_users(self, collector_ref: str) -> list[str]:
        u = wt.web_user.c
        return list(self.connection.scalars(sa.select(u.name).where(
            u.collector_ref == collector_ref, u.disabled_at.is_(None)).order_by(u.name)))

    def disable_user(self, name: str, at: datetime) -> bool:
        u = wt.web_user.c
        done = self.connection.execute(wt.web_user.update().where(
            u.name == name, u.disabled_at.is_(None)).values(disabled_at=utc(at)))
        return done.rowcount == 1

    def _borrower(self, where: sa.ColumnElement[bool]) -> BorrowerLogin | None:
        b = t.borrower.c
        row = self.connection.execute(
            sa.select(b.id, b.borrower_ref, b.language).where(where).limit(1)).first()
        return None if row is None else BorrowerLogin(borrower_id=row.id,
                                                      borrower_ref=row.borrower_ref,
                                                      language=row.language)

    def borrower_by_phone(self, number: str) -> BorrowerLogin | None:
        phone = t.borrower_phone.c
        return self._borrower(t.borrower.c.id.in_(
            sa.select(phone.borrower_id).where(phone.number == number)))

    def borrower_by_ref(self, borrower_ref: str) -> BorrowerLogin | None:
        return self._borrower(t.borrower.c.borrower_ref == borrower_ref)

    def add_login_code(self, borrower_id: int, code_hash: str, created_at: datetime,
                       expires_at: datetime) -> int:
        result = self.connection.execute(wt.login_code.insert().values(
            borrower_id=borrower_id, code_hash=code_hash, created_at=utc(created_at),
            expires_at=utc(expires_at), attempts=0))
        return int(result.inserted_primary_key[0])

    def latest_login_code(self, borrower_id: int) -> LoginCodeRow | None:
        c = wt.login_code.c
        row = self.connection.execute(
            sa.select(wt.login_code).where(c.borrower_id == borrower_id)
            .order_by(c.id.desc()).limit(1)).first()
        if row is None:
            return None
        return LoginCodeRow(id=row.id, borrower_id=row.borrower_id, code_hash=row.code_hash,
                            created_at=_instant(row.created_at),
                            expires_at=_instant(row.expires_at), attempts=row.attempts,
                            used_at=aware(row.used_at))

    def count_attempt(self, code_id: int, limit: int) -> bool:
        c = wt.login_code.c
        done = self.connection.execute(wt.login_code.update().where(
            c.id == code_id, c.used_at.is_(None), c.attempts < limit)
            .values(attempts=c.attempts + 1))
        return done.rowcount == 1

    def attempts_since(self, borrower_id: int, since: datetime) -> int:
        c = wt.login_code.c
        return int(self.connection.scalar(
            sa.select(sa.func.coalesce(sa.func.sum(c.attempts), 0))
            .where(c.borrower_id == borrower_id, c.created_at >= utc(since))) or 0)

    def use_login_code(self, code_id: int, at: datetime) -> bool:
        c = wt.login_code.c
        done = self.connection.execute(wt.login_code.update().where(
            c.id == code_id, c.used_at.is_(None)).values(used_at=utc(at)))
        return done.rowcount == 1

    def loans_of(self, borrower_id: int) -> list[str]:
        loan = t.loan.c
        return list(self.connection.scalars(
            sa.select(loan.loan_ref).where(loan.borrower_id == borrower_id)
            .order_by(loan.loan_ref)))


class SqlPortalStore:
    def __init__(self, connection: sa.Connection) -> None:
        self.connection = connection

    def contacts_of(self, borrower_id: int, limit: int) -> list[MyContact]:
        case, log = ct.collection_case.c, ct.contact_log.c
        rows = self.connection.execute(
            sa.select(log.id, log.at, log.actor, log.channel, log.outcome)
            .select_from(ct.contact_log.join(ct.collection_case, case.id == log.case_id))
            .where(case.borrower_id == borrower_id)
            .order_by(log.at.desc(), log.id.desc()).limit(limit))
        return [MyContact(contact_id=row.id, at=_instant(row.at), actor=row.actor,
                          channel=row.channel, outcome=row.outcome) for row in rows]

    def complaint_refs_of(self, borrower_id: int) -> list[str]:
        c = cpt.complaint.c
        return [ref for ref in self.connection.scalars(
            sa.select(c.complaint_ref).where(c.borrower_id == borrower_id).order_by(c.id))
            if ref is not None]


class SqlWebUnitOfWork(SqlApiUnitOfWork):
    """The API's unit of work with the web stores on the same transaction."""

    def __enter__(self) -> Self:
        super().__enter__()
        assert self._connection is not None
        self.web = SqlWebStore(self._connection)
        self.portal = SqlPortalStore(self._connection)
        self.dashboards = SqlDashboards(self._connection)
        return self


class SqlRehearsalUnitOfWork(SqlWebUnitOfWork):
    """A unit of work whose commit keeps nothing: a service run in it checks every rule and
    returns what it would have done (a plan's preview), and all of it rolls back on exit."""

    def commit(self) -> None:
        return None


class SqlWebUnitOfWorkFactory(SqlApiUnitOfWorkFactory):
    def __call__(self) -> SqlWebUnitOfWork:
        return SqlWebUnitOfWork(self.engine, self._products)

    def rehearsal(self) -> SqlRehearsalUnitOfWork:
        return SqlRehearsalUnitOfWork(self.engine, self._products)
