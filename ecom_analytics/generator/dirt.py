"""Rows that break the SPEC 1.1 contract, one defect each, so every kind is counted exactly.

`--dirt-share` is the fraction of written action rows that are dirty, spread evenly over
`DIRT_KINDS` (the remainder to random kinds), named as the staging model's `quarantine_reason`:

- `unparsable_action_time`: garbage text (`undefined`, `NaN`, ...), an impossible clock time
  such as `2026-11-20 25:61:00`, or an empty string.
- `null_session_id`, `null_user_id`: the id is null.
- `unknown_city`: an id outside 0..9 (`UNKNOWN_CITY_IDS`) or null.
- `malformed_id_list`: one id list of an order or pay action is `1,,2`, `a,b`, `3;4` or has a
  trailing comma (`5,7,`).
- `duplicate`: an extra, exact copy of a clean row, written right after it (the first copy
  is clean; the count is of the extra copies).

Defects replace values of distinct clean rows, and duplicates copy other clean rows, so no row
carries two defects. Clean rows are unique (a session never has two actions in one second), and
the choice keeps dirty rows unique too: at most one unparsable time per session, at most one
null session per (user, second).
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ecom_analytics.generator import catalog
from ecom_analytics.generator.frame import ORDER, PAY, ActionFrame
from ecom_analytics.generator.tables import LIST_COLUMNS, distinct_categories

DIRT_KINDS = (
    "unparsable_action_time",
    "null_session_id",
    "null_user_id",
    "unknown_city",
    "malformed_id_list",
    "duplicate",
)
# Kinds whose eligible rows are scarce choose first.
_CHOICE_ORDER = (
    "malformed_id_list",
    "unparsable_action_time",
    "null_session_id",
    "null_user_id",
    "unknown_city",
    "duplicate",
)
GARBAGE_TIMES = ("undefined", "NaN", "#N/A", "--")
UNKNOWN_CITY_IDS = np.array([10, 11, 12, 15, 20, 99, 100, -1])
NULL_CITY_SHARE = 0.25
_LETTERS = pa.array(list("abcdefghijklmnopqrstuvwxyz"))


def dirty_row_target(clean_rows: int, share: float) -> int:
    """How many dirty rows make them `share` of the written rows (duplicates add rows)."""
    return round(share * clean_rows / (1 - share / len(DIRT_KINDS)))


def choose_dirty_rows(
    rng: np.random.Generator, frame: ActionFrame, share: float
) -> dict[str, np.ndarray]:
    """Sorted row indices per dirt kind (for `duplicate`: the rows to copy)."""
    total = dirty_row_target(len(frame), share)
    if not total:
        return {kind: np.array([], dtype=np.int64) for kind in DIRT_KINDS}
    wanted = np.full(len(DIRT_KINDS), total // len(DIRT_KINDS))
    wanted[rng.choice(len(DIRT_KINDS), total % len(DIRT_KINDS), replace=False)] += 1
    wanted_by_kind = dict(zip(DIRT_KINDS, wanted.tolist(), strict=True))
    order = rng.permutation(len(frame))
    taken = np.zeros(len(frame), dtype=bool)
    chosen: dict[str, np.ndarray] = {}
    for kind in _CHOICE_ORDER:
        pool = order[~taken[order]]
        rows = _eligible(kind, frame, pool)[: wanted_by_kind[kind]]
        taken[rows] = True
        chosen[kind] = np.sort(rows)
    return {kind: chosen[kind] for kind in DIRT_KINDS}


def _eligible(kind: str, frame: ActionFrame, pool: np.ndarray) -> np.ndarray:
    """The rows of `pool` (in pool order) that can take defect `kind` and stay unique."""
    if kind == "malformed_id_list":
        return pool[np.isin(frame.kind[pool], (ORDER, PAY))]
    if kind == "unparsable_action_time":
        return _first_per_key(pool, frame.session_key[pool])
    if kind == "null_session_id":
        return _first_per_key(
            pool, frame.user_id[pool] * (int(frame.time.max()) + 1) + frame.time[pool]
        )
    return pool


def _first_per_key(pool: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """The first row of `pool` for each distinct key, in pool order."""
    _, first = np.unique(keys, return_index=True)
    return pool[np.sort(first)]


def apply_dirt(
    rng: np.random.Generator,
    table: pa.Table,
    frame: ActionFrame,
    chosen: dict[str, np.ndarray],
    day: date,
) -> pa.Table:
    """`table` (the clean rows of `frame`) with the chosen defects and duplicates applied."""
    rows = chosen["unparsable_action_time"]
    table = _replace(table, "action_time", rows, _bad_times(rng, day, len(rows)))
    for column, kind in (("session_id", "null_session_id"), ("user_id", "null_user_id")):
        rows = chosen[kind]
        table = _replace(table, column, rows, pa.nulls(len(rows), table.schema.field(column).type))
    rows = chosen["unknown_city"]
    table = _replace(table, "city_id", rows, _unknown_cities(rng, len(rows)))
    table = _malform_lists(rng, table, frame, chosen["malformed_id_list"])
    copies = np.sort(np.concatenate([np.arange(table.num_rows), chosen["duplicate"]]))
    return table.take(pa.array(copies))


def _replace(table: pa.Table, column: str, rows: np.ndarray, values: pa.Array) -> pa.Table:
    """`table` with `column` at the sorted `rows` set to `values`."""
    if not len(rows):
        return table
    mask = np.zeros(table.num_rows, dtype=bool)
    mask[rows] = True
    index = table.schema.get_field_index(column)
    replaced = pc.replace_with_mask(table.column(index).combine_chunks(), pa.array(mask), values)
    return table.set_column(index, table.schema.field(index), replaced)


def _bad_times(rng: np.random.Generator, day: date, count: int) -> pa.Array:
    """Unparsable `action_time` values: garbage text, impossible clock times, empty strings."""
    garbage = pa.array(GARBAGE_TIMES).take(pa.array(rng.integers(0, len(GARBAGE_TIMES), count)))
    clock = [
        pc.cast(pa.array(rng.integers(low, high, count)), pa.string())
        for low, high in ((24, 30), (60, 100), (10, 60))
    ]
    impossible = pc.binary_join_element_wise(
        pa.scalar(day.isoformat()), pc.binary_join_element_wise(*clock, ":"), " "
    )
    empty = pa.array([""] * count, pa.string())
    return pc.choose(pa.array(rng.integers(0, 3, count)), garbage, impossible, empty)


def _unknown_cities(rng: np.random.Generator, count: int) -> pa.Array:
    """City ids that join no city: outside 0..9, or null."""
    ids = UNKNOWN_CITY_IDS[rng.integers(0, len(UNKNOWN_CITY_IDS), count)]
    return pa.array(ids, pa.int64(), mask=rng.random(count) < NULL_CITY_SHARE)


def _malform_lists(
    rng: np.random.Generator, table: pa.Table, frame: ActionFrame, rows: np.ndarray
) -> pa.Table:
    """Break one id list (category or product, chosen at random) of each order/pay row."""
    of_categories = rng.random(len(rows)) < 0.5
    for kind, columns in LIST_COLUMNS.items():
        for column, categories in zip(columns, (True, False), strict=True):
            picked = rows[(frame.kind[rows] == kind) & (of_categories == categories)]
            items = frame.items[picked].astype(np.int64)
            ids = distinct_categories(items) if categories else items
            bound = catalog.N_CATEGORIES if categories else catalog.N_PRODUCTS
            valid = table.column(column).take(pa.array(picked))
            broken = _broken_lists(rng, ids[:, 0], rng.integers(0, bound, len(picked)), valid)
            table = _replace(table, column, picked, broken)
    return table


def _broken_lists(
    rng: np.random.Generator, first: np.ndarray, other: np.ndarray, valid: pa.ChunkedArray
) -> pa.Array:
    """`a,,b`, `a,b` in letters, `a;b`, or the valid list with a trailing comma, at random."""
    first_text = pc.cast(pa.array(first), pa.string())
    other_text = pc.cast(pa.array(other), pa.string())
    letters = [_LETTERS.take(pa.array(ids % len(_LETTERS))) for ids in (first, other)]
    shapes = (
        pc.binary_join_element_wise(first_text, other_text, ",,"),
        pc.binary_join_element_wise(*letters, ","),
        pc.binary_join_element_wise(first_text, other_text, ";"),
        pc.binary_join_element_wise(valid.combine_chunks(), pa.scalar(""), ","),
    )
    return pc.choose(pa.array(rng.integers(0, len(shapes), len(first))), *shapes)
