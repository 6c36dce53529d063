"""The live page of the real-time module: ad tables the stream keeps up to date, refreshed.

Everything under the sidebar's day choice is a fragment that re-reads the tables every
`ECOM_DASHBOARD_REFRESH` seconds, without reloading the page. Days and minutes are event time
(UTC), so "today" and "the last hour" are the newest ones in the data.
"""

from __future__ import annotations

from datetime import datetime, timezone

import streamlit as st

from ecom_analytics.dashboard import charts, shaping
from ecom_analytics.dashboard.contract import STREAM_HINT
from ecom_analytics.dashboard.views.common import distinct, pick_day, read, refresh_seconds

TREND_ADS = 5
WATCH_LIST = 10


def render() -> None:
    """The ad tables: totals, province top-3, blacklist, heaviest clickers, last-hour trend."""
    st.title("Live ad clicks")
    st.caption(
        "Real-time ad traffic from the click stream: clicks of blacklisted users are dropped "
        f"before counting. Refreshes every {refresh_seconds()} s."
    )
    follow = st.sidebar.toggle(
        "Follow the newest day", value=True, help="Off: pick a day of the stream below."
    )
    chosen = None
    if not follow:
        days = distinct("ad_daily_clicks", "click_date", live=True)
        if days:
            chosen = pick_day(days, "Click day", key="click_day")
    st.fragment(run_every=refresh_seconds())(_live)(chosen)


def _live(chosen: object) -> None:
    daily = read("ad_daily_clicks", STREAM_HINT, live=True)
    if daily is None:
        return
    day = chosen or max(daily["click_date"])
    totals = shaping.day_totals(daily, day)
    blacklist = read("ad_blacklist", STREAM_HINT, live=True)
    now = datetime.now(timezone.utc).strftime("%H:%M:%S")
    st.caption(f"Day {day.isoformat()} (UTC) · updated {now} UTC")

    columns = st.columns(4)
    columns[0].metric("Clicks", f"{totals['clicks']:,}")
    columns[1].metric("Ads clicked", f"{totals['ads']:,}")
    columns[2].metric("Provinces", f"{totals['provinces']:,}")
    columns[3].metric("Blacklisted users", f"{0 if blacklist is None else len(blacklist):,}")

    left, right = st.columns([3, 2])
    with left:
        top3 = read("ad_province_top3", STREAM_HINT, live=True)
        if top3 is not None:
            ads = shaping.province_top3(top3, day)
            if ads.empty:
                st.caption(f"No province top-3 for {day.isoformat()} yet.")
            else:
                st.altair_chart(charts.province_top3(ads), width="stretch")
    with right:
        st.markdown("**Blacklist**")
        if blacklist is not None:
            st.dataframe(
                shaping.blacklist(blacklist),
                hide_index=True,
                width="stretch",
                column_config={
                    "blacklisted_at": st.column_config.DatetimeColumn(
                        "blacklisted at (UTC)", format="YYYY-MM-DD HH:mm:ss"
                    )
                },
            )
        st.markdown("**Heaviest clickers of the day**")
        clicks = read("ad_user_daily_clicks", STREAM_HINT, live=True)
        if clicks is not None:
            heavy = clicks[clicks["click_date"] == day].nlargest(WATCH_LIST, "clicks")
            st.dataframe(heavy.drop(columns="click_date"), hide_index=True, width="stretch")

    trend = read("ad_click_trend", STREAM_HINT, live=True)
    if trend is not None:
        lines = shaping.trend_by_ad(shaping.last_hour(trend), TREND_ADS)
        st.altair_chart(charts.click_trend(lines), width="stretch")
