"""The API's store on SQLAlchemy Core (`ApiStore`): keys, the access log and scoped case lists;
and the unit of work that carries it and the webhook store beside the book."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, Self

import sqlalchemy as sa

from arrears.adapters.db import api_tables as at
from arrears.adapters.db import collections_tables as ct
from arrears.adapters.db import tables as t
from arrears.adapters.db.messages import aware, utc
from arrears.adapters.db.unit_of_work import SqlUnitOfWork, SqlUnitOfWorkFactory
from arrears.adapters.db.webhook_store import SqlWebhookStore
from arrears.application.access import (
    AccessEntry,
    ApiKeyRow,
    CaseHolder,
    CaseListRow,
    Role,
    Scope,
)


class SqlApiStore:
    def __init__(self, connection: sa.Connection) -> None:
        self.connection = connection

    def add_key(self, row: ApiKeyRow) -> None:
        self.connection.execute(at.api_key.insert().values(
            key_ref=row.key_ref, name=row.name, role=row.role.value,
            scopes=" ".join(sorted(s.value for s in row.scopes)), agency_ref=row.agency_ref,
            collector_ref=row.collector_ref, secret_hash=row.secret_hash,
            created_at=utc(row.created_at)))

    @staticmethod
    def _key(row: sa.Row[tuple[object, ...]]) -> ApiKeyRow:
        m = row._mapping
        created = aware(m["created_at"])
        assert created is not None
        return ApiKeyRow(key_ref=m["key_ref"], name=m["name"], role=Role(m["role"]),
                         scopes=frozenset(Scope(s) for s in m["scopes"].split()),
                         agency_ref=m["agency_ref"], collector_ref=m["collector_ref"],
                         secret_hash=m["secret_hash"], created_at=created,
                         revoked_at=aware(m["revoked_at"]))

    def key_by_ref(self, key_ref: str) -> ApiKeyRow | None:
        row = self.connection.execute(
            sa.select(at.api_key).where(at.api_key.c.key_ref == key_ref)).first()
        return None if row is None else self._key(row)

    def keys(self) -> list[ApiKeyRow]:
        return [self._key(row) for row in self.connection.execute(
            sa.select(at.api_key).order_by(at.api_key.c.id))]

    def revoke_key(self, key_ref: str, when: datetime) -> bool:
        k = at.api_key.c
        done = self.connection.execute(at.api_key.update().where(
            k.key_ref == key_ref, k.revoked_at.is_(None)).values(revoked_at=utc(when)))
        return done.rowcount == 1

    def log_access(self, entries: Sequence[AccessEntry]) -> None:
        if entries:
            self.connection.execute(at.access_log.insert(), [
                {"at": utc(e.at), "key_ref": e.key_ref, "role": e.role, "route": e.route,
                 "loan_ref": e.loan_ref, "borrower_ref": e.borrower_ref} for e in entries])

    def loan_currency(self, loan_ref: str) -> str | None:
        return self.connection.scalar(sa.select(t.loan.c.currency).where(
            t.loan.c.loan_ref == loan_ref))

    def payment(self, key: str) -> dict[str, Any] | None:
        row = self.connection.execute(
            sa.select(t.payment, t.loan.c.loan_ref, t.loan.c.currency)
            .select_from(t.payment.join(t.loan, t.loan.c.id == t.payment.c.loan_id))
            .where(t.payment.c.idempotency_key == key)).first()
        return None if row is None else dict(row._mapping)

    def _placed_agency(self, on: date, loan_id: int | None = None) -> sa.ScalarSelect[str]:
        p, a, case = ct.placement.c, ct.agency.c, ct.collection_case.c
        query = (sa.select(a.agency_ref)
                 .select_from(ct.placement.join(ct.agency, ct.agency.c.id == p.agency_id))
                 .where(p.case_id == case.id, p.placed_on <= on, p.ends_on >= on,
                        sa.or_(p.recalled_on.is_(None), p.recalled_on > on)))
        if loan_id is not None:  # the placement's own loans, not the borrower's others
            placed = ct.placement_loan.c
            query = query.where(sa.exists().where(placed.placement_id == p.id,
                                                  placed.loan_id == loan_id))
        return query.order_by(p.id.desc()).limit(1).correlate(
            ct.collection_case).scalar_subquery()

    def case_holder(self, borrower_id: int, on: date, loan_id: int | None = None
                    ) -> CaseHolder | None:
        # A deactivated collector holds no case, even one a sync gave them before it saw.
        case, collector = ct.collection_case, ct.collector
        row = self.connection.execute(
            sa.select(collector.c.collector_ref, self._placed_agency(on, loan_id))
            .select_from(case.outerjoin(collector, (collector.c.id == case.c.collector_id)
                                        & collector.c.active.is_(True)))
            .where(case.c.borrower_id == borrower_id, case.c.status == "open")).first()
        return None if row is None else CaseHolder(collector_ref=row[0], agency_ref=row[1])

    def assign_case(self, case_id: int, collector_id: int) -> None:
        self.connection.execute(ct.collection_case.update().where(
            ct.collection_case.c.id == case_id).values(collector_id=collector_id))

    def case_page(self, *, after: int, limit: int, on: date, queue: str | None,
                  collector_ref: str | None, agency_ref: str | None) -> list[CaseListRow]:
        case, collector, borrower = ct.collection_case, ct.collector, t.borrower
        placed = self._placed_agency(on).label("agency_ref")
        query = (
            sa.select(case.c.id, borrower.c.borrower_ref, case.c.bucket, case.c.queue,
                      collector.c.collector_ref, placed, case.c.balance, case.c.opened_on,
                      case.c.borrower_id)
            .select_from(case.join(borrower, borrower.c.id == case.c.borrower_id)
                         .outerjoin(collector, (collector.c.id == case.c.collector_id)
                                    & collector.c.active.is_(True)))
            .where(case.c.status == "open", case.c.id > after)
            .order_by(case.c.id).limit(limit))
        if queue is not None:
            query = query.where(case.c.queue == queue)
        if collector_ref is not None:
            query = query.where(collector.c.collector_ref == collector_ref)
        if agency_ref is not None:
            query = query.where(self._placed_agency(on) == agency_ref)
        rows = self.connection.execute(query).all()
        loans: dict[int, list[str]] = {}
        if rows:
            query = (sa.select(t.loan.c.borrower_id, t.loan.c.loan_ref)
                     .where(t.loan.c.borrower_id.in_({r.borrower_id for r in rows}))
                     .order_by(t.loan.c.loan_ref))
            if agency_ref is not None:  # an agency sees only the loans placed with it
                query = query.where(sa.exists().where(
                    ct.placement_loan.c.loan_id == t.loan.c.id,
                    ct.placement_loan.c.placement_id.in_(
                        sa.select(ct.placement.c.id).join(
                            ct.agency, ct.agency.c.id == ct.placement.c.agency_id)
                        .where(ct.agency.c.agency_ref == agency_ref))))
            for borrower_id, loan_ref in self.connection.execute(query):
                loans.setdefault(borrower_id, []).append(loan_ref)
        return [CaseListRow(case_id=r.id, borrower_ref=r.borrower_ref, bucket=r.bucket,
                            queue=r.queue, collector_ref=r.collector_ref,
                            agency_ref=r.agency_ref, balance=r.balance,
                            opened_on=r.opened_on,
                            loan_refs=tuple(loans.get(r.borrower_id, ())))
                for r in rows]


class SqlApiUnitOfWork(SqlUnitOfWork):
    """The book's unit of work with the API's stores on the same transaction, so a scope
    check, the access-log row it writes and the read it guards commit or roll back together."""

    def __enter__(self) -> Self:
        super().__enter__()
        assert self._connection is not None
        self.api = SqlApiStore(self._connection)
        self.webhooks = SqlWebhookStore(self._connection)
        return self


class SqlApiUnitOfWorkFactory(SqlUnitOfWorkFactory):
    def __call__(self) -> SqlApiUnitOfWork:
        return SqlApiUnitOfWork(self.engine, self._products)
