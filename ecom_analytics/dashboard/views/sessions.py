"""Pages of the session module: length distributions and the random session extract."""

from __future__ import annotations

import streamlit as st

from ecom_analytics.dashboard import charts, shaping
from ecom_analytics.dashboard.contract import MART_HINT
from ecom_analytics.dashboard.views.common import pick_task, read


def lengths() -> None:
    """`session_length_distribution`: visit and step length buckets of the task's sessions."""
    st.title("Session lengths")
    st.caption(
        "How long the sessions that match the task last (seconds between first and last "
        "action) and how many actions they have. Shares are of all matching sessions."
    )
    task = pick_task()
    if task is None:
        return
    frame = read("session_length_distribution", MART_HINT, task_id=task)
    if frame is None:
        return
    st.metric("Matching sessions", f"{shaping.matching_sessions(frame):,}")
    left, right = st.columns(2)
    left.altair_chart(
        charts.length_distribution(
            shaping.length_distribution(frame, "visit_length"), "Visit length"
        ),
        width="stretch",
    )
    right.altair_chart(
        charts.length_distribution(
            shaping.length_distribution(frame, "step_length"), "Step length (actions)"
        ),
        width="stretch",
    )
    with st.expander("The numbers"):
        st.dataframe(
            frame.sort_values(["dimension", "bucket_order"]).drop(columns="task_id"),
            hide_index=True,
            width="stretch",
            column_config={"ratio": st.column_config.NumberColumn("share", format="percent")},
        )


def extract() -> None:
    """`session_random_extract`: the sessions drawn per hour slot, with their details."""
    st.title("Session extract")
    st.caption(
        "A reproducible random sample of the matching sessions, apportioned to the hours in "
        "proportion to their sessions. Keywords and categories in order of first appearance."
    )
    task = pick_task()
    if task is None:
        return
    frame = read("session_random_extract", MART_HINT, task_id=task)
    if frame is None:
        return
    slots = shaping.sessions_per_slot(frame)
    first, second = st.columns(2)
    first.metric("Sessions extracted", f"{len(frame):,}")
    second.metric("Hour slots", f"{len(slots):,}")
    st.altair_chart(charts.sessions_per_slot(slots), width="stretch")
    st.dataframe(
        shaping.extracted_sessions(frame),
        hide_index=True,
        width="stretch",
        column_config={
            "start_time": st.column_config.DatetimeColumn(
                "start time", format="YYYY-MM-DD HH:mm:ss"
            ),
            "date_hour": "slot",
            "search_keywords": "search keywords",
            "click_category_ids": "clicked categories",
        },
    )
