"""Integer columns go into PostgreSQL by binary COPY and come back as a matrix unchanged, in
the order asked for, at every width and at the extremes of each."""

from __future__ import annotations

import os
from collections.abc import Iterator

import numpy as np
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from arrears.adapters.db import pg_bulk

from loopback import postgres_schema_url

pytestmark = pytest.mark.skipif(os.environ.get("ARREARS_TEST_POSTGRES_URL") is None,
                                reason="needs ARREARS_TEST_POSTGRES_URL")
KINDS = (np.int64, np.int32, np.int16, np.int8)


@pytest.fixture(scope="module")
def cursor() -> Iterator[object]:
    urls = postgres_schema_url()
    engine = sa.create_engine(next(urls))
    try:
        with engine.connect() as connection:
            raw = connection.connection.driver_connection
            assert raw is not None
            with raw.cursor(binary=True) as cursor:
                yield cursor
            connection.rollback()
    finally:
        engine.dispose()
        next(urls, None)


def _column(kind: type) -> st.SearchStrategy[int]:
    info = np.iinfo(kind)
    return st.integers(int(info.min), int(info.max))


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(*(_column(kind) for kind in KINDS)), max_size=300))
def test_columns_round_trip(cursor, rows):
    columns = {f"c{index}": np.array([row[index] for row in rows], dtype=kind)
               for index, kind in enumerate(KINDS)}
    types = {name: column.dtype for name, column in columns.items()}
    cursor.execute(f"CREATE TEMP TABLE IF NOT EXISTS bulk ({pg_bulk.table_columns(types)})")
    cursor.execute("DELETE FROM bulk")
    with cursor.copy("COPY bulk FROM STDIN (FORMAT BINARY)") as copy:
        copy.write(pg_bulk.copy_stream(columns))
    back = pg_bulk.bigint_rows(cursor, "SELECT c1, c0, c2, c3 FROM bulk", {}, 4, order=(1, 0))
    expected = sorted((row[1], row[0], row[2], row[3]) for row in rows)
    back_rows = [tuple(int(value) for value in row) for row in back]
    assert sorted(back_rows, key=lambda row: (row[1], row[0])) == back_rows
    assert sorted(back_rows) == expected


def test_a_null_is_refused_not_dropped(cursor):
    with pytest.raises(ValueError, match="null"):
        pg_bulk.bigint_rows(cursor, "SELECT * FROM (VALUES (1::int8), (NULL)) AS v", {}, 1,
                            order=(0,))
