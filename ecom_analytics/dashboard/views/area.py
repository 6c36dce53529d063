"""Page of the area module: the daily top-3 products per area."""

from __future__ import annotations

import streamlit as st

from ecom_analytics.dashboard import charts, shaping
from ecom_analytics.dashboard.contract import MART_HINT
from ecom_analytics.dashboard.views.common import distinct, pick_day, read

TABLE = "area_top3_products"


def render() -> None:
    """`area_top3_products` of the chosen day."""
    st.title("Top products per area")
    st.caption(
        "Each day, the three products clicked most in each area (A: East and North China, "
        "B: South and Central, C: Northwest and Southwest). Hover a bar for its cities."
    )
    days = distinct(TABLE, "action_date")
    if not days:
        read(TABLE, MART_HINT)  # says whether the table is missing or empty
        return
    day = pick_day(days, "Day", key="day")
    frame = read(TABLE, MART_HINT, action_date=day)
    if frame is None:
        return
    products = shaping.area_top3(frame)
    first, second = st.columns(2)
    first.metric("Day", day.isoformat())
    second.metric("Clicks on the top products", f"{int(products['click_count'].sum()):,}")
    st.altair_chart(charts.area_top3(products), width="stretch")
    st.dataframe(
        products[
            [
                "area_level",
                "area",
                "rank",
                "product_id",
                "product_name",
                "product_status",
                "click_count",
                "city_infos",
            ]
        ],
        hide_index=True,
        width="stretch",
        height="content",
        column_config={
            "area_level": "level",
            "product_id": "product id",
            "product_name": "product",
            "product_status": "status",
            "click_count": "clicks",
            "city_infos": "cities",
        },
    )
