"""Integer columns in and out of PostgreSQL in bulk, with no Python object per row.

In: PostgreSQL's binary COPY format, built by NumPy. The stream is a 19-byte header, then per
row a field count (int16) and per field a length (int32) and the value, all big-endian, then an
int16 −1; with fixed-width integer fields every row has the same layout, so the whole stream is
one NumPy record array.

Out: the rows of a query as one `bytea`, each row its BIGINTs end to end (`int8send`), which
NumPy reads as a matrix. A COPY out would hand them over one Python call per row, which costs
more than the query.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

HEADER = b"PGCOPY\n\xff\r\n\x00" + b"\x00\x00\x00\x00" + b"\x00\x00\x00\x00"
TRAILER = b"\xff\xff"
# NumPy integer types and the PostgreSQL type holding each (int8 widens to smallint).
SQL_TYPES = {np.dtype(np.int64): "bigint", np.dtype(np.int32): "integer",
             np.dtype(np.int16): "smallint", np.dtype(np.int8): "smallint"}
_WIDE = {np.dtype(np.int8): np.dtype(np.int16)}


def _wire(dtype: np.dtype[Any]) -> np.dtype[Any]:
    return _WIDE.get(dtype, dtype).newbyteorder(">")


def copy_stream(columns: Mapping[str, np.ndarray]) -> bytes:
    """The binary COPY stream of `columns` (equal-length integer arrays, in table order)."""
    arrays = list(columns.values())
    rows = arrays[0].size if arrays else 0
    fields: list[tuple[str, Any]] = [("count", ">i2")]
    for index, array in enumerate(arrays):
        fields += [(f"length{index}", ">i4"), (f"value{index}", _wire(array.dtype))]
    records = np.empty(rows, dtype=np.dtype(fields))
    records["count"] = len(arrays)
    for index, array in enumerate(arrays):
        records[f"length{index}"] = records.dtype[f"value{index}"].itemsize
        records[f"value{index}"] = array
    return HEADER + records.tobytes() + TRAILER


def table_columns(types: Mapping[str, np.dtype[Any]]) -> str:
    """Column definitions for a table that takes `copy_stream` of columns of these types."""
    return ", ".join(f"{name} {SQL_TYPES[kind]}" for name, kind in types.items())


def bigint_rows(cursor: Any, query: str, params: Mapping[str, Any], columns: int,
                order: Sequence[int]) -> np.ndarray:
    """The rows of `query` (`columns` BIGINT columns, none null) as an int64 matrix, sorted
    by the columns at positions `order`. `cursor` is a psycopg cursor."""
    names = [f"c{index}" for index in range(columns)]
    packed = " || ".join(f"int8send(q.{name})" for name in names)
    by = ", ".join(f"q.{names[index]}" for index in order)
    cursor.execute(f"SELECT count(*), string_agg({packed}, ''::bytea ORDER BY {by}) "
                   f"FROM ({query}) AS q({', '.join(names)})", params)
    count, data = cursor.fetchone()
    data = bytes(data or b"")
    if len(data) != count * columns * 8:
        raise ValueError("a null where a BIGINT was expected")
    return np.frombuffer(data, dtype=">i8").astype(np.int64).reshape(count, columns)
