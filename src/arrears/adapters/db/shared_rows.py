"""Rows that many owners share, sent to the database once and copied there for each owner.

A loans file of 100,000 rows on a few thousand distinct terms boards over a million
installment rows that differ only in their loan id. Building, binding and sending each of them
from Python costs more than the database's own insert, so the distinct rows and the
(owner, rows) pairs go into two temporary tables and one INSERT … SELECT joins them into the
target table. Both temporary tables are dropped in the same transaction (a rollback drops
them too), so a pooled connection never keeps them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa

BulkInsert = Callable[[sa.Connection, sa.Table, Sequence[str], list[tuple[Any, ...]]], None]


def insert_shared(connection: sa.Connection, table: sa.Table, owner_column: str,
                  columns: Sequence[str], shared: Sequence[Sequence[tuple[Any, ...]]],
                  owners: list[tuple[int, int]], bulk_insert: BulkInsert) -> None:
    """For each (owner id, index) in `owners`, insert the rows `shared[index]` (values of
    `columns`, already in the driver's form) into `table` with the owner id in
    `owner_column`. `bulk_insert` writes the temporary tables' rows."""
    metadata = sa.MetaData()
    rows = sa.Table(f"shared_{table.name}", metadata, sa.Column("shared", sa.Integer),
                    sa.Column("position", sa.Integer),
                    *(sa.Column(name, table.c[name].type) for name in columns),
                    prefixes=["TEMPORARY"])
    pairs = sa.Table(f"owners_{table.name}", metadata,
                     sa.Column("owner", table.c[owner_column].type),
                     sa.Column("shared", sa.Integer), prefixes=["TEMPORARY"])
    # Created afresh (a table of these names left on the connection is an error, never
    # reused with its rows) and dropped even when the copy fails.
    metadata.create_all(connection, checkfirst=False)
    try:
        bulk_insert(connection, rows, ("shared", "position", *columns),
                    [(index, position, *row) for index, group in enumerate(shared)
                     for position, row in enumerate(group)])
        bulk_insert(connection, pairs, ("owner", "shared"), owners)
        connection.execute(table.insert().from_select(
            [owner_column, *columns],
            sa.select(pairs.c.owner, *(rows.c[name] for name in columns))
            .join_from(pairs, rows, pairs.c.shared == rows.c.shared)
            .order_by(pairs.c.owner, rows.c.position)))  # as if each were inserted alone
    finally:
        metadata.drop_all(connection, checkfirst=False)
