"""Checks that must hold after every scenario: the ledger balances and matches the loans."""

from __future__ import annotations

from collections import defaultdict

import sqlalchemy as sa

from arrears import bootstrap
from arrears.adapters.db import tables as t
from arrears.domain import ledger


def orphans(connection: sa.Connection) -> dict[str, int]:
    """Per ledger table, the rows naming a loan the book does not hold: the check that
    stands in for the foreign keys these tables do not carry (the 2026-12-13 migration)."""
    return {table.name: int(connection.scalar(
        sa.select(sa.func.count()).select_from(table).where(
            ~sa.select(t.loan.c.id).where(t.loan.c.id == table.c.loan_id).exists())) or 0)
        for table in (t.posting, t.accrual)}


def assert_ledger_consistent(services: bootstrap.Services) -> None:
    """Every entry sums to zero; every ledger row names a loan of the book; every loan's
    receivables equal what its state implies."""
    with services.engine.connect() as connection:
        assert orphans(connection) == {"posting": 0, "accrual": 0}
        unbalanced = connection.execute(
            sa.select(t.posting.c.entry, sa.func.sum(t.posting.c.amount))
            .group_by(t.posting.c.entry)
            .having(sa.func.sum(t.posting.c.amount) != 0)).all()
        assert unbalanced == []
        balances: dict[tuple[int, str], int] = defaultdict(int)
        for loan_id, account, total in connection.execute(
                sa.select(t.posting.c.loan_id, t.posting.c.account, sa.func.sum(t.posting.c.amount))
                .group_by(t.posting.c.loan_id, t.posting.c.account)):
            balances[(loan_id, account)] = int(total)
        ids = list(connection.scalars(sa.select(t.loan.c.id)))
    with services.uow_factory() as uow:
        for booked in uow.book.get_many(ids):
            position = ledger.position(booked.loan, booked.state)
            for account in ledger.RECEIVABLES:
                assert balances[(booked.id, account.value)] == position.booked(account), (
                    booked.loan.loan_id, account)
            assert balances[(booked.id, ledger.Account.CREDIT.value)] == -position.credit


def table_rows(services: bootstrap.Services) -> dict[str, list[tuple[object, ...]]]:
    """Every table's rows in a stable order, for row-for-row comparison of two books."""
    dump = {}
    with services.engine.connect() as connection:
        for table in t.metadata.sorted_tables:
            order = [c for c in table.primary_key.columns] or list(table.columns)
            dump[table.name] = [tuple(row) for row in
                                connection.execute(sa.select(table).order_by(*order))]
    return dump
