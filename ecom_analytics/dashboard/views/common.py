"""What every page shares: the warehouse, cached reads, the task and day pickers, notices.

A table that is missing or empty, or a source that cannot be reached, is a message on the page
that says what to do (never a traceback); the page then stops drawing what depends on it.
"""

from __future__ import annotations

import os
from datetime import date
from typing import Any

import pandas as pd
import streamlit as st

from ecom_analytics.dashboard.contract import MART_HINT, TASK_TABLES
from ecom_analytics.dashboard.shaping import parse_day, pick_default
from ecom_analytics.dashboard.warehouse import (
    TableNotFound,
    Warehouse,
    WarehouseError,
    from_environment,
)

MART_TTL_SECONDS = 30
DEFAULT_TASK = "default"


def refresh_seconds() -> int:
    """Seconds between two refreshes of the live page (`ECOM_DASHBOARD_REFRESH`, default 5)."""
    text = os.environ.get("ECOM_DASHBOARD_REFRESH", "5")
    return max(1, int(text)) if text.isdigit() else 5


@st.cache_resource(show_spinner=False)
def warehouse() -> Warehouse:
    """The configured source, made once per app process."""
    return from_environment()


@st.cache_data(ttl=MART_TTL_SECONDS, show_spinner=False)
def _read_cached(table: str, equals: tuple[tuple[str, Any], ...]) -> pd.DataFrame:
    return warehouse().read(table, **dict(equals))


@st.cache_data(ttl=MART_TTL_SECONDS, show_spinner=False)
def _distinct_cached(table: str, column: str) -> list[Any]:
    return warehouse().distinct(table, column)


def read(table: str, hint: str, *, live: bool = False, **equals: Any) -> pd.DataFrame | None:
    """The rows of `table` matching `equals`, or None after a notice saying why there are none.

    Mart reads are cached for a short while; `live` reads go to the source every time.
    """
    try:
        if live:
            frame = warehouse().read(table, **equals)
        else:
            frame = _read_cached(table, tuple(sorted(equals.items())))
    except TableNotFound:
        st.info(f"Table `{table}` is not in the warehouse yet: {hint}.", icon=":material/info:")
        return None
    except WarehouseError as error:
        st.warning(str(error), icon=":material/cloud_off:")
        return None
    if frame.empty:
        where = ", ".join(f"{column} = {value}" for column, value in equals.items())
        st.info(
            f"Table `{table}` has no rows{f' for {where}' if where else ''}: {hint}.",
            icon=":material/info:",
        )
        return None
    return frame


def distinct(table: str, column: str, *, live: bool = False) -> list[Any]:
    """The values of `column` in `table`; empty when the table is missing or unreachable."""
    try:
        return warehouse().distinct(table, column) if live else _distinct_cached(table, column)
    except WarehouseError:
        return []


def pick_task() -> str | None:
    """The task picker (sidebar): tasks found in any task-keyed mart, `default` first choice."""
    tasks = sorted({task for table in TASK_TABLES for task in distinct(table, "task_id")})
    if not tasks:
        st.info(f"No task has been built yet: {MART_HINT}.", icon=":material/info:")
        return None
    if st.session_state.get("task") not in tasks:
        remembered = st.query_params.get("task") or st.session_state.get("last_task")
        st.session_state["task"] = pick_default(tasks, remembered, DEFAULT_TASK)
    task = st.sidebar.selectbox(
        "Task",
        tasks,
        key="task",
        help="An analysis task (`task_id`): run another with `dbt build --vars '{task_id: ...}'`.",
    )
    st.session_state["last_task"] = task
    st.query_params["task"] = task
    return task


def pick_day(days: list[date], label: str, key: str) -> date:
    """A day picker (sidebar) over `days` (sorted, not empty), the newest by default."""
    if st.session_state.get(key) is None:
        wanted = parse_day(st.query_params.get(key))
        st.session_state[key] = pick_default(days, wanted)
    chosen = st.sidebar.date_input(
        label,
        key=key,
        min_value=days[0],
        max_value=days[-1],
        format="YYYY-MM-DD",
        help=f"Days with data: {days[0].isoformat()} to {days[-1].isoformat()}.",
    )
    st.query_params[key] = chosen.isoformat()
    return chosen


def source_caption() -> None:
    """Where the data comes from, at the bottom of the sidebar."""
    try:
        label = warehouse().label
    except WarehouseError as error:
        st.error(str(error), icon=":material/error:")
        st.stop()
    st.sidebar.caption(f"Reading {label}.")
