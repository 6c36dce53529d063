"""Pure building blocks of session slicing (no JVM needed to use or test them).

A session's actions are ordered by `action_time`, ties broken by `page_id` (SPEC 3); the
lists of a session's keywords and clicked categories keep their order of first appearance.
These helpers render that logic as Spark SQL expressions: one aggregate collects a session's
actions once, sorted, and everything else (first and last action, the ordered lists) is read
off that array, so the work stays in Spark's engine instead of a row-at-a-time Python UDF.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

ACTION_ORDER: tuple[str, ...] = ("action_time", "page_id")

# `date_hour` of a session: the day and hour of its first action, e.g. 2026-11-20_13.
DATE_HOUR_FORMAT = "yyyy-MM-dd_HH"


def _check_names(*names: str) -> None:
    for name in names:
        if not name.isidentifier():
            raise ValueError(f"not a plain column name: {name!r}")


def sorted_actions_sql(columns: Sequence[str], order: Sequence[str] = ACTION_ORDER) -> str:
    """Aggregate expression: a group's actions as an array of structs, in action order.

    Each struct holds the ordering keys, then `columns` (field names as the columns'); the
    array is sorted by all fields in that order, so actions that tie on the keys still come in
    one deterministic order (by the first of `columns`, then the next, ...).
    """
    fields = [*order, *(column for column in columns if column not in order)]
    _check_names(*fields)
    return f"array_sort(collect_list(struct({', '.join(fields)})))"


def values_in_order_sql(actions: str, column: str) -> str:
    """Expression: the non-null values of `column` in the sorted `actions` array, in order."""
    _check_names(actions, column)
    return f"filter(transform({actions}, action -> action.{column}), value -> value is not null)"


def first_appearances_sql(actions: str, column: str) -> str:
    """Expression: the distinct non-null values of `column` in `actions`, in order of first
    appearance (array_distinct keeps the first occurrence)."""
    return f"array_distinct({values_in_order_sql(actions, column)})"


def first_action_sql(actions: str, column: str) -> str:
    """Expression: `column` of the first action of the sorted `actions` array."""
    _check_names(actions, column)
    return f"element_at({actions}, 1).{column}"


def last_action_sql(actions: str, column: str) -> str:
    """Expression: `column` of the last action of the sorted `actions` array."""
    _check_names(actions, column)
    return f"element_at({actions}, -1).{column}"


def in_task_date_range(actions: Any, task: Any, column: str = "action_date") -> Any:
    """`actions` (a DataFrame) restricted to the task's inclusive date range (SPEC 3).

    `task` is the row of `int_task_parameters`; an unset bound leaves that side open.
    """
    from pyspark.sql import functions as F

    if task.start_date is not None:
        actions = actions.where(F.col(column) >= F.lit(task.start_date))
    if task.end_date is not None:
        actions = actions.where(F.col(column) <= F.lit(task.end_date))
    return actions
