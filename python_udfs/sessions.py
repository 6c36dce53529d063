"""Pure building blocks of session slicing (no JVM needed to use or test them).

A session's actions are ordered by `action_time`, ties broken by `page_id` (SPEC 3); the
lists of a session's keywords and clicked categories keep their order of first appearance.
These helpers render that logic as Spark SQL aggregate expressions, so the work stays in
Spark's engine instead of a row-at-a-time Python UDF.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

ACTION_ORDER: tuple[str, ...] = ("action_time", "page_id")

# `date_hour` of a session: the day and hour of its first action, e.g. 2026-11-20_13.
DATE_HOUR_FORMAT = "yyyy-MM-dd_HH"


def in_action_order_sql(column: str, order: Sequence[str] = ACTION_ORDER) -> str:
    """Aggregate expression: every non-null value of `column`, in the order of the actions.

    Each value is collected with the action's ordering keys and the collected structs are
    sorted (keys first, then the value itself, so equal keys still give one deterministic order).
    """
    for name in (column, *order):
        if not name.isidentifier():
            raise ValueError(f"not a plain column name: {name!r}")
    keys = ", ".join(order)
    return (
        f"transform(array_sort(collect_list("
        f"case when {column} is not null then struct({keys}, {column} as value) end"
        f")), entry -> entry.value)"
    )


def first_appearance_sql(column: str, order: Sequence[str] = ACTION_ORDER) -> str:
    """Aggregate expression: the distinct non-null values of `column`, in order of first appearance
    (duplicates of `in_action_order_sql` dropped, keeping the first occurrence)."""
    return f"array_distinct({in_action_order_sql(column, order)})"


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
