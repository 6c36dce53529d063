"""Reading a Delta table's newest committed version with delta-rs (the `deltalake` package).

The ad-click stream keeps its tables as Delta tables: each micro-batch is one commit (a MERGE or
an append) to `_delta_log/`, and only the files the newest commit lists are the table. Reads go
through delta-rs's own engine (DataFusion, `DeltaTable.scan`), which prunes partitions, skips
files by their statistics and applies deletion vectors; the pyarrow-dataset readers of
`deltalake` refuse tables with deletion vectors.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from datetime import date, datetime, timezone
from pathlib import Path

import pyarrow as pa
from deltalake import DeltaTable, QueryBuilder

LOG_DIR = "_delta_log"


def is_delta_table(path: Path) -> bool:
    """Whether the table folder `path` is a Delta table (it has a transaction log)."""
    return (path / LOG_DIR).is_dir()


def read(path: Path, equals: Mapping[str, object]) -> pa.Table:
    """The rows of the newest version whose columns equal `equals` (all rows when empty)."""
    table = DeltaTable(path)
    _check_columns(table, equals)
    predicate = " and ".join(
        f'"{column}" = {sql_literal(value)}' for column, value in equals.items()
    )
    return pa.table(table.scan(predicate=predicate or None))


def distinct(path: Path, column: str) -> pa.ChunkedArray:
    """The distinct non-null values of `column` in the newest version (none if no such column)."""
    table = DeltaTable(path)
    if column not in _column_names(table):
        return pa.chunked_array([], pa.null())
    query = f'select distinct "{column}" from t where "{column}" is not null'
    return pa.table(QueryBuilder().register("t", table).execute(query)).column(0)


def sql_literal(value: object) -> str:
    """`value` as a SQL literal of DataFusion; a naive time is UTC, the warehouse's zone."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real) and math.isfinite(value):
        return repr(float(value))
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(timezone.utc).replace(tzinfo=None)
        return f"timestamp '{value.isoformat(sep=' ')}'"
    if isinstance(value, date):
        return f"date '{value.isoformat()}'"
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    raise TypeError(f"cannot compare a column with {value!r} ({type(value).__name__})")


def _column_names(table: DeltaTable) -> list[str]:
    return [field.name for field in table.schema().fields]


def _check_columns(table: DeltaTable, equals: Mapping[str, object]) -> None:
    missing = sorted(set(equals) - set(_column_names(table)))
    if missing:
        raise ValueError(f"the table has no column {', '.join(missing)}")
