"""Page of the page-flow module: single-jump conversion rates along the target flow."""

from __future__ import annotations

import streamlit as st

from ecom_analytics.dashboard import charts, shaping
from ecom_analytics.dashboard.contract import MART_HINT
from ecom_analytics.dashboard.views.common import pick_task, read


def render() -> None:
    """`page_conversion_rates` of the chosen task."""
    st.title("Page flow")
    st.caption(
        "Along the task's target page flow: how many jumps went from each page straight to the "
        "next, out of the jumps that reached the page (for the first page: its actions)."
    )
    task = pick_task()
    if task is None:
        return
    rates = read("page_conversion_rates", MART_HINT, task_id=task)
    if rates is None:
        return
    steps = shaping.funnel(rates)
    overall = shaping.overall_conversion(steps)
    st.markdown(f"**Flow:** pages {shaping.flow_label(steps)}")
    first, second, third = st.columns(3)
    first.metric(
        f"Actions on page {steps['from_page_id'].iloc[0]}", f"{steps['base_count'].iloc[0]:,}"
    )
    second.metric(
        f"Jumps to page {steps['to_page_id'].iloc[-1]}", f"{steps['jump_count'].iloc[-1]:,}"
    )
    third.metric("Whole flow", "n/a" if overall is None else f"{overall:.2%}")
    left, right = st.columns(2)
    left.altair_chart(charts.funnel_stages(shaping.funnel_stages(steps)), width="stretch")
    right.altair_chart(charts.funnel(steps), width="stretch")
    st.dataframe(
        steps[["step", "jump", "jump_count", "base_count", "rate_label"]],
        hide_index=True,
        width="stretch",
        height="content",
        column_config={
            "jump": "page jump",
            "jump_count": st.column_config.NumberColumn("jumps", format="localized"),
            "base_count": st.column_config.NumberColumn("base", format="localized"),
            "rate_label": "conversion rate",
        },
    )
