"""Page of the category module: the top-10 categories and each one's top sessions."""

from __future__ import annotations

import streamlit as st

from ecom_analytics.dashboard import charts, shaping
from ecom_analytics.dashboard.contract import MART_HINT
from ecom_analytics.dashboard.views.common import pick_task, read


def render() -> None:
    """`top10_categories` and `top10_category_sessions` of the chosen task."""
    st.title("Top categories")
    st.caption(
        "The ten categories clicked most by the matching sessions (then ordered, then paid), "
        "and for each the ten sessions that clicked it most."
    )
    task = pick_task()
    if task is None:
        return
    top10 = read("top10_categories", MART_HINT, task_id=task)
    if top10 is None:
        return
    st.altair_chart(charts.category_counts(shaping.category_counts(top10)), width="stretch")
    ranked = top10.sort_values("rank")
    with st.expander("The numbers"):
        st.dataframe(ranked.drop(columns="task_id"), hide_index=True, width="stretch")

    st.subheader("Top sessions per category")
    category = st.selectbox(
        "Category",
        ranked["category_id"].tolist(),
        format_func=lambda value: f"category {value}",
    )
    sessions = read("top10_category_sessions", MART_HINT, task_id=task)
    if sessions is None:
        return
    rows = shaping.category_sessions(sessions, category)
    if rows.empty:
        st.info(f"No sessions recorded for category {category} in this task.")
        return
    left, right = st.columns([3, 2])
    left.altair_chart(charts.category_sessions(rows, category), width="stretch")
    right.dataframe(rows, hide_index=True, width="stretch")
