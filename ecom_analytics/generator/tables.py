"""Arrow schemas of the raw datasets (SPEC 1.1) and the conversion of actions into a table.

Types are exactly the contract's: bigint -> int64, int -> int32, everything else string. The
`date` column of `user_visit_action` is not in the files: it is the Hive partition directory.
Absent click ids are -1 (as in the original system), absent strings null. An order or pay action
lists its product ids comma-joined in the order drawn and, in `*_category_ids`, the categories of
those products in the same order with repeats dropped (two products of one category give that
category once).
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ecom_analytics.generator import catalog
from ecom_analytics.generator.frame import CLICK, ORDER, PAY, ActionFrame

ACTION_SCHEMA = pa.schema(
    [
        ("user_id", pa.int64()),
        ("session_id", pa.string()),
        ("page_id", pa.int64()),
        ("action_time", pa.string()),
        ("search_keyword", pa.string()),
        ("click_category_id", pa.int64()),
        ("click_product_id", pa.int64()),
        ("order_category_ids", pa.string()),
        ("order_product_ids", pa.string()),
        ("pay_category_ids", pa.string()),
        ("pay_product_ids", pa.string()),
        ("city_id", pa.int64()),
    ]
)
USER_SCHEMA = pa.schema(
    [
        ("user_id", pa.int64()),
        ("username", pa.string()),
        ("name", pa.string()),
        ("age", pa.int32()),
        ("professional", pa.string()),
        ("city", pa.string()),
        ("sex", pa.string()),
    ]
)
LIST_COLUMNS = {
    ORDER: ("order_category_ids", "order_product_ids"),
    PAY: ("pay_category_ids", "pay_product_ids"),
}
_KEYWORDS = pa.array(catalog.KEYWORDS, pa.string())
_DIGITS = np.frombuffer(b"0123456789", dtype=np.uint8)


def fixed_width_strings(chars: np.ndarray) -> pa.StringArray:
    """A string array from an (rows, width) uint8 matrix of ASCII characters, without copies."""
    rows, width = chars.shape
    offsets = np.arange(0, (rows + 1) * width, width, dtype=np.int32)
    data = np.ascontiguousarray(chars)
    return pa.StringArray.from_buffers(rows, pa.py_buffer(offsets), pa.py_buffer(data))


def action_times(day: date, seconds_of_day: np.ndarray) -> pa.StringArray:
    """`yyyy-MM-dd HH:mm:ss` strings of times on `day`, built digit by digit."""
    chars = np.empty((len(seconds_of_day), 19), dtype=np.uint8)
    chars[:, :11] = np.frombuffer(f"{day.isoformat()} ".encode(), dtype=np.uint8)
    chars[:, [13, 16]] = ord(":")
    hours, rest = np.divmod(seconds_of_day, 3600)
    minutes, seconds = np.divmod(rest, 60)
    for column, value in ((11, hours), (14, minutes), (17, seconds)):
        chars[:, column] = _DIGITS[value // 10]
        chars[:, column + 1] = _DIGITS[value % 10]
    return fixed_width_strings(chars)


def id_lists(ids: np.ndarray) -> pa.Array:
    """Comma-joined ids per row of an (rows, 3) int matrix; -1 entries are left out."""
    parts = [
        pc.cast(pa.array(ids[:, slot].astype(np.int64), mask=ids[:, slot] < 0), pa.string())
        for slot in range(ids.shape[1])
    ]
    return pc.binary_join_element_wise(*parts, ",", null_handling="skip")


def distinct_categories(items: np.ndarray) -> np.ndarray:
    """Categories of each row's products, repeats replaced by -1 (first occurrence kept)."""
    categories = np.where(items >= 0, catalog.PRODUCT_CATEGORY[items.astype(np.int64)], -1)
    for slot in range(1, categories.shape[1]):
        repeated = (categories[:, slot, None] == categories[:, :slot]).any(axis=1)
        categories[repeated, slot] = -1
    return categories


def _scatter(rows: int, mask: np.ndarray, values: pa.Array) -> pa.Array:
    """A column of `rows` nulls with `values` placed, in order, where `mask` is true."""
    return pc.replace_with_mask(pa.nulls(rows, values.type), pa.array(mask), values)


def action_table(frame: ActionFrame, day: date, day_start: int) -> pa.Table:
    """The clean `user_visit_action` rows of one day; `day_start` is that day's `time` at 00:00."""
    rows = len(frame)
    clicked = frame.kind == CLICK
    first_item = frame.items[:, 0].astype(np.int64)
    columns: dict[str, pa.Array] = {
        "user_id": pa.array(frame.user_id, pa.int64()),
        "session_id": fixed_width_strings(
            frame.session_id.view(np.uint8).reshape(rows, frame.session_id.itemsize)
        ),
        "page_id": pa.array(frame.page_id.astype(np.int64)),
        "action_time": action_times(day, frame.time - day_start),
        "search_keyword": _KEYWORDS.take(pa.array(frame.keyword, mask=frame.keyword < 0)),
        "click_category_id": pa.array(
            np.where(clicked, catalog.PRODUCT_CATEGORY[np.maximum(first_item, 0)], -1)
        ),
        "click_product_id": pa.array(np.where(clicked, first_item, -1)),
    }
    for kind, (category_column, product_column) in LIST_COLUMNS.items():
        listed = frame.kind == kind
        items = frame.items[listed]
        columns[category_column] = _scatter(rows, listed, id_lists(distinct_categories(items)))
        columns[product_column] = _scatter(rows, listed, id_lists(items))
    columns["city_id"] = pa.array(frame.city_id.astype(np.int64))
    return pa.table(columns, schema=ACTION_SCHEMA)
