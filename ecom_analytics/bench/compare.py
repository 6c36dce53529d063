"""Are the baseline's marts the dbt project's marts? Row for row, read without Spark.

The benchmark compares the two only when they compute the same thing; this check says so. Both
sides are read from their Parquet files (ecom_analytics.dashboard.warehouse), ordered by every
column, integers widened to int64, and floats compared to 1e-9 relative.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from ecom_analytics.bench.baseline import MARTS, SCHEMA_DIR
from ecom_analytics.dashboard.warehouse import FileWarehouse, WarehouseError

RELATIVE_TOLERANCE = 1e-9


def canonical(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows in a fixed column and row order, with comparable types."""
    frame = frame[sorted(frame.columns)].copy()
    for column in frame.columns:
        if pd.api.types.is_integer_dtype(frame[column]):
            frame[column] = frame[column].astype("int64")
        elif frame[column].dtype == object or pd.api.types.is_string_dtype(frame[column]):
            frame[column] = frame[column].astype(object).where(frame[column].notna(), None)
    keys = [column for column in frame.columns if not pd.api.types.is_float_dtype(frame[column])]
    return frame.sort_values(keys, na_position="first", kind="stable").reset_index(drop=True)


def _plain(value: object) -> object:
    """A numpy scalar as the Python value it holds (for comparing and for messages)."""
    item = getattr(value, "item", None)
    return item() if callable(item) else value


def _same_value(left: object, right: object) -> bool:
    if isinstance(left, float) and isinstance(right, float):
        if math.isnan(left) or math.isnan(right):
            return math.isnan(left) and math.isnan(right)
        return math.isclose(left, right, rel_tol=RELATIVE_TOLERANCE)
    if left is None or right is None:
        return left is None and right is None
    return bool(left == right)


def frame_differences(name: str, dbt: pd.DataFrame, baseline: pd.DataFrame) -> list[str]:
    """What differs between two versions of one mart (empty when they hold the same rows)."""
    if sorted(dbt.columns) != sorted(baseline.columns):
        return [
            f"{name}: columns differ: dbt {sorted(dbt.columns)}, baseline "
            f"{sorted(baseline.columns)}"
        ]
    if len(dbt) != len(baseline):
        return [f"{name}: dbt has {len(dbt)} rows, the baseline {len(baseline)}"]
    left, right = canonical(dbt), canonical(baseline)
    for index in range(len(left)):
        for column in left.columns:
            ours, theirs = _plain(left.at[index, column]), _plain(right.at[index, column])
            if not _same_value(ours, theirs):
                return [
                    f"{name}: row {index} (in sorted order) differs in {column}: dbt "
                    f"{ours!r}, baseline {theirs!r}"
                ]
    return []


def mart_differences(
    warehouse_root: Path,
    schema: str,
    baseline_root: Path,
    marts: Sequence[str] = MARTS,
) -> list[str]:
    """Differences between the dbt marts in `schema` and the baseline's (empty when equal)."""
    dbt_side = FileWarehouse(warehouse_root, schema)
    baseline_side = FileWarehouse(baseline_root, SCHEMA_DIR.removesuffix(".db"))
    differences = []
    for mart in marts:
        try:
            dbt, baseline = dbt_side.read(mart), baseline_side.read(mart)
        except WarehouseError as error:
            differences.append(f"{mart}: {error}")
            continue
        if dbt.empty:
            differences.append(f"{mart}: the dbt mart is empty, nothing to compare")
            continue
        differences += frame_differences(mart, dbt, baseline)
    return differences
