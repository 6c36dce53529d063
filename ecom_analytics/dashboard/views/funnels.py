"""Page of the funnel module: the task's ordered funnel with its conversion window."""

from __future__ import annotations

import streamlit as st

from ecom_analytics.dashboard import charts, shaping
from ecom_analytics.dashboard.contract import MART_HINT
from ecom_analytics.dashboard.views.common import pick_task, read

TABLE = "funnel_conversion"


def render() -> None:
    """`funnel_conversion` of the chosen task and breakdown, built with `task_parameters`."""
    st.title("Funnel")
    st.caption(
        "Of the units (sessions or users) that reached the first step, how many went on to each "
        "later step in order within the window, with their best attempt; where they dropped "
        "off, and how long the ones that got there took."
    )
    task = pick_task()
    if task is None:
        return
    frame = read(TABLE, MART_HINT, task_id=task)
    if frame is None:
        return
    kinds = [kind for kind in shaping.BREAKDOWN_KINDS if kind in set(frame["breakdown_kind"])]
    kind = st.radio(
        "Breakdown",
        kinds,
        format_func=shaping.BREAKDOWN_KINDS.get,
        horizontal=True,
        key="funnel_breakdown",
    )
    values = shaping.breakdown_values(frame, kind)
    value = values[0] if kind == "all" else st.selectbox(shaping.BREAKDOWN_KINDS[kind], values)
    steps = shaping.funnel_steps(frame, kind, value)
    first, last = steps.iloc[0], steps.iloc[-1]

    columns = st.columns(4)
    columns[0].metric("Units at step 1", f"{first['units_reached']:,}")
    columns[1].metric("Reached the last step", f"{last['units_reached']:,}")
    columns[2].metric("Conversion", last["conversion_from_start_label"])
    columns[3].metric(
        "Median time to the last step", shaping.duration_label(last["median_seconds_to_step"])
    )
    if first["incomplete_units"]:
        st.caption(
            f"{first['incomplete_units']:,} of the units that stopped short of the last step "
            "entered so late that their window outlasts the data: they may still convert."
        )

    left, right = st.columns(2)
    left.altair_chart(charts.funnel_drop_off(shaping.funnel_bars(steps)), width="stretch")
    durations = shaping.funnel_durations(steps)
    if durations.empty:
        right.caption("No unit got past the first step: no times to show.")
    else:
        right.altair_chart(charts.time_to_step(durations), width="stretch")

    st.dataframe(
        steps[
            [
                "step",
                "step_name",
                "units_reached",
                "dropped",
                "conversion_from_previous_label",
                "conversion_from_start_label",
                "median_seconds_to_step",
                "p90_seconds_to_step",
            ]
        ],
        hide_index=True,
        width="stretch",
        height="content",
        column_config={
            "step_name": "step name",
            "units_reached": st.column_config.NumberColumn("units", format="localized"),
            "dropped": st.column_config.NumberColumn("dropped", format="localized"),
            "conversion_from_previous_label": "from previous",
            "conversion_from_start_label": "from start",
            "median_seconds_to_step": st.column_config.NumberColumn("median s", format="%.1f"),
            "p90_seconds_to_step": st.column_config.NumberColumn("p90 s", format="%.1f"),
        },
    )

    parameters = read("task_parameters", MART_HINT, task_id=task)
    if parameters is not None:
        st.subheader("Built with")
        st.markdown(
            "\n".join(
                f"- **{label}:** {text}"
                for label, text in shaping.funnel_parameters(parameters.iloc[0])
            )
        )
