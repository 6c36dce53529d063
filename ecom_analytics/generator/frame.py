"""`ActionFrame`: a day's actions as parallel NumPy columns, before they become an Arrow table.

Compact dtypes keep a million-row day small; ids that Arrow writes as bigint are widened only
when the table is built. Action kinds are codes (`SEARCH` .. `PAY`); `items` holds the 1..3
product ids of a click, order or pay action, padded with -1.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

SEARCH, CLICK, ORDER, PAY = 0, 1, 2, 3
MAX_ITEMS = 3


@dataclass(frozen=True)
class ActionFrame:
    """One row per action; `time` counts seconds from the first generated day's midnight."""

    session_key: np.ndarray  # int64, unique per session over the whole run
    session_id: np.ndarray  # bytes, 32 hex characters
    user_id: np.ndarray  # int64
    city_id: np.ndarray  # int8
    time: np.ndarray  # int64
    page_id: np.ndarray  # int8, 1..10
    kind: np.ndarray  # int8, SEARCH | CLICK | ORDER | PAY
    keyword: np.ndarray  # int8, index into catalog.KEYWORDS, -1 unless SEARCH
    n_items: np.ndarray  # int8, 0 for SEARCH, 1 for CLICK, 1..3 for ORDER and PAY
    items: np.ndarray  # int8, shape (rows, MAX_ITEMS), product ids padded with -1

    def __len__(self) -> int:
        return len(self.time)

    def take(self, rows: np.ndarray) -> ActionFrame:
        """The frame restricted to (and reordered by) `rows`, an index or boolean mask."""
        return ActionFrame(
            **{field.name: getattr(self, field.name)[rows] for field in dataclasses.fields(self)}
        )

    @staticmethod
    def concat(frames: list[ActionFrame]) -> ActionFrame:
        """The rows of `frames`, one after the other."""
        return ActionFrame(
            **{
                field.name: np.concatenate([getattr(frame, field.name) for frame in frames])
                for field in dataclasses.fields(ActionFrame)
            }
        )
