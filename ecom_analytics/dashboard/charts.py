"""Altair charts of the dashboards, built from the frames of `shaping` (pure: no Streamlit).

Charts render as SVG (small data), so each bar, line and label is an element of the page a
browser test can count.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from ecom_analytics.dashboard.shaping import (
    COUNT_MEASURES,
    FUNNEL_PERCENTILES,
    FUNNEL_SEGMENTS,
    OTHER_ADS,
)

ACCENT = "#2f6fde"
MUTED = "#9aa5b1"
MEASURE_COLOURS = ["#2f6fde", "#f29e38", "#3aa76d"]
RANK_COLOURS = ["#2f6fde", "#6d9eeb", "#b4cdf5"]
STATUS_COLOURS = {"self-operated": "#2f6fde", "third-party": "#f29e38"}


def _room_for_labels(values: pd.Series) -> alt.Scale:
    """A value scale with room right of the longest bar for its label."""
    return alt.Scale(domain=[0, max(1.0, float(values.max()) * 1.2)], nice=False)


def _finish(chart: alt.TopLevelMixin, title: str, height: int) -> alt.TopLevelMixin:
    """Title, plot height, compact legends, and SVG output (so marks are page elements)."""
    return (
        chart.properties(
            title=alt.TitleParams(title, anchor="start", offset=8),
            height=height,
            usermeta={"embedOptions": {"renderer": "svg"}},
        )
        .configure_legend(orient="top", direction="horizontal", offset=6, padding=0)
        .configure_view(strokeWidth=0)
    )


def length_distribution(buckets: pd.DataFrame, title: str) -> alt.TopLevelMixin:
    """Sessions per bucket as bars in bucket order, each labelled with its share."""
    base = alt.Chart(buckets).encode(
        x=alt.X(
            "bucket:N",
            sort=buckets["bucket"].tolist(),
            title=None,
            axis=alt.Axis(labelAngle=0, labelOverlap=False),
        ),
        y=alt.Y("sessions:Q", title="sessions"),
        tooltip=[
            alt.Tooltip("bucket:N"),
            alt.Tooltip("sessions:Q", format=","),
            alt.Tooltip("ratio:Q", format=".2%", title="share"),
        ],
    )
    bars = base.mark_bar(color=ACCENT, cornerRadiusTopLeft=3, cornerRadiusTopRight=3)
    labels = base.mark_text(dy=-7, fontSize=11, color="#333").encode(
        text=alt.Text("ratio:Q", format=".1%")
    )
    return _finish(bars + labels, title, 300)


def sessions_per_slot(slots: pd.DataFrame) -> alt.TopLevelMixin:
    """Extracted sessions per (day, hour) slot."""
    chart = (
        alt.Chart(slots)
        .mark_bar(color=ACCENT)
        .encode(
            x=alt.X(
                "date_hour:O",
                title="day and hour of the session's first action",
                axis=alt.Axis(labelAngle=0, labelOverlap="greedy"),
            ),
            y=alt.Y("sessions:Q", title="sessions extracted"),
            tooltip=[alt.Tooltip("date_hour:O", title="slot"), alt.Tooltip("sessions:Q")],
        )
    )
    return _finish(chart, "Sessions extracted per hour slot", 260)


def category_counts(counts: pd.DataFrame) -> alt.TopLevelMixin:
    """Clicks, orders and payments of the top-10 categories side by side, in rank order."""
    order = counts.drop_duplicates("category")["category"].tolist()
    measures = list(COUNT_MEASURES.values())
    chart = (
        alt.Chart(counts)
        .mark_bar()
        .encode(
            x=alt.X(
                "category:N", sort=order, title="category (rank order)", axis=alt.Axis(labelAngle=0)
            ),
            xOffset=alt.XOffset("measure:N", sort=measures),
            y=alt.Y("count:Q", title="count"),
            color=alt.Color(
                "measure:N",
                sort=measures,
                scale=alt.Scale(domain=measures, range=MEASURE_COLOURS),
                legend=alt.Legend(title=None),
            ),
            tooltip=["rank:Q", "category:N", "measure:N", alt.Tooltip("count:Q", format=",")],
        )
    )
    return _finish(chart, "Top-10 categories", 320)


def category_sessions(sessions: pd.DataFrame, category_id: int) -> alt.TopLevelMixin:
    """Clicks on one category by its top sessions, most first."""
    base = alt.Chart(sessions).encode(
        y=alt.Y("session_id:N", sort=sessions["session_id"].tolist(), title=None),
        x=alt.X(
            "click_count:Q",
            title=f"clicks on category {category_id}",
            scale=_room_for_labels(sessions["click_count"]),
        ),
        tooltip=["rank:Q", "session_id:N", "click_count:Q"],
    )
    bars = base.mark_bar(color=ACCENT)
    labels = base.mark_text(align="left", dx=4, fontSize=11).encode(text="click_count:Q")
    return _finish(
        bars + labels, f"Top sessions of category {category_id}", 80 + 30 * len(sessions)
    )


def funnel(steps: pd.DataFrame) -> alt.TopLevelMixin:
    """Single-jump conversion rate of each step of the page flow, labelled with the rate."""
    base = alt.Chart(steps).encode(
        x=alt.X(
            "jump:N", sort=steps["jump"].tolist(), title="page jump", axis=alt.Axis(labelAngle=0)
        ),
        y=alt.Y("conversion_rate:Q", title="conversion rate", axis=alt.Axis(format="%")),
        tooltip=[
            "step:Q",
            "jump:N",
            alt.Tooltip("jump_count:Q", format=","),
            alt.Tooltip("base_count:Q", format=","),
            alt.Tooltip("conversion_rate:Q", format=".2%"),
        ],
    )
    bars = base.mark_bar(color=ACCENT, cornerRadiusTopLeft=3, cornerRadiusTopRight=3)
    labels = base.mark_text(dy=-7, fontSize=11).encode(text="rate_label:N")
    return _finish(bars + labels, "Conversion rate per step", 280)


def funnel_stages(stages: pd.DataFrame) -> alt.TopLevelMixin:
    """The page-flow funnel: how many of the first page's actions carried on, stage by stage."""
    base = alt.Chart(stages).encode(
        y=alt.Y("stage:N", sort=stages["stage"].tolist(), title=None),
        x=alt.X("count:Q", title="actions, then jumps", scale=_room_for_labels(stages["count"])),
        tooltip=[
            "stage:N",
            alt.Tooltip("count:Q", format=","),
            alt.Tooltip("share:Q", format=".2%"),
        ],
    )
    bars = base.mark_bar(color=ACCENT)
    labels = base.mark_text(align="left", dx=4, fontSize=11).encode(
        text=alt.Text("count:Q", format=",")
    )
    return _finish(bars + labels, "Funnel", 40 * len(stages))


def funnel_drop_off(bars: pd.DataFrame) -> alt.TopLevelMixin:
    """Units per funnel step as bars, each topped by the units that dropped just before it (so
    a bar stands as high as the step before), labelled with the conversion from the start."""
    stages = bars["stage"].drop_duplicates().tolist()
    base = alt.Chart(bars).encode(
        x=alt.X("stage:N", sort=stages, title=None, axis=alt.Axis(labelAngle=0)),
        tooltip=[
            alt.Tooltip("stage:N", title="step"),
            alt.Tooltip("segment:N", title="units"),
            alt.Tooltip("units:Q", format=","),
            alt.Tooltip("conversion_from_start_label:N", title="from the start"),
        ],
    )
    segments = base.mark_bar(cornerRadiusTopLeft=3, cornerRadiusTopRight=3).encode(
        y=alt.Y("units:Q", title="units", stack="zero"),
        color=alt.Color(
            "segment:N",
            sort=FUNNEL_SEGMENTS,
            scale=alt.Scale(domain=FUNNEL_SEGMENTS, range=[ACCENT, "#e3e7ec"]),
            legend=alt.Legend(title=None),
        ),
        order=alt.Order("segment_order:Q"),
    )
    labels = (
        base.transform_filter(alt.datum.segment == "reached")
        .mark_text(dy=-7, fontSize=11, color="#333")
        .encode(y=alt.Y("units:Q"), text="conversion_from_start_label:N")
    )
    return _finish(segments + labels, "Units per step, and those that dropped before it", 320)


def time_to_step(durations: pd.DataFrame) -> alt.TopLevelMixin:
    """Median and 90th-percentile time from entry to each later step, side by side."""
    stages = durations["stage"].drop_duplicates().tolist()
    percentiles = list(FUNNEL_PERCENTILES.values())
    chart = (
        alt.Chart(durations)
        .mark_bar()
        .encode(
            x=alt.X("stage:N", sort=stages, title=None, axis=alt.Axis(labelAngle=0)),
            xOffset=alt.XOffset("percentile:N", sort=percentiles),
            y=alt.Y("seconds:Q", title="seconds from entry"),
            color=alt.Color(
                "percentile:N",
                sort=percentiles,
                scale=alt.Scale(domain=percentiles, range=[ACCENT, MEASURE_COLOURS[1]]),
                legend=alt.Legend(title=None),
            ),
            tooltip=[
                alt.Tooltip("stage:N", title="step"),
                "percentile:N",
                alt.Tooltip("duration:N", title="time"),
                alt.Tooltip("seconds:Q", format=",.1f"),
            ],
        )
    )
    return _finish(chart, "Time to reach each step", 280)


def area_top3(products: pd.DataFrame) -> alt.TopLevelMixin:
    """Clicks of each area's top-3 products, grouped by area, labelled with the product."""
    areas = products["area_label"].drop_duplicates().tolist()
    base = alt.Chart(products).encode(
        y=alt.Y("area_label:N", sort=areas, title=None),
        yOffset=alt.YOffset("rank:O"),
        x=alt.X("click_count:Q", title="clicks", scale=_room_for_labels(products["click_count"])),
        tooltip=[
            "area:N",
            "area_level:N",
            "rank:Q",
            "product_name:N",
            "product_status:N",
            alt.Tooltip("click_count:Q", format=","),
            alt.Tooltip("city_infos:N", title="cities"),
        ],
    )
    bars = base.mark_bar().encode(
        color=alt.Color(
            "product_status:N",
            scale=alt.Scale(domain=list(STATUS_COLOURS), range=list(STATUS_COLOURS.values())),
            legend=alt.Legend(title=None),
        )
    )
    labels = base.mark_text(align="left", dx=4, fontSize=11).encode(text=alt.Text("product_name:N"))
    height = max(240, 60 * len(areas))
    return _finish(bars + labels, "Top-3 products per area", height)


def province_top3(ads: pd.DataFrame) -> alt.TopLevelMixin:
    """Clicks of each province's top-3 ads, grouped by province, labelled with the ad."""
    provinces = ads["province"].drop_duplicates().tolist()
    base = alt.Chart(ads).encode(
        y=alt.Y("province:N", sort=provinces, title=None),
        yOffset=alt.YOffset("rank:O"),
        x=alt.X("clicks:Q", title="clicks today", scale=_room_for_labels(ads["clicks"])),
        tooltip=["province:N", "rank:Q", "ad:N", alt.Tooltip("clicks:Q", format=",")],
    )
    bars = base.mark_bar().encode(
        color=alt.Color(
            "rank:O",
            scale=alt.Scale(domain=[1, 2, 3], range=RANK_COLOURS),
            legend=alt.Legend(title="rank"),
        )
    )
    labels = base.mark_text(align="left", dx=4, fontSize=11).encode(text="ad:N")
    height = max(240, 80 + 48 * len(provinces))
    return _finish(bars + labels, "Top-3 ads per province", height)


def click_trend(lines: pd.DataFrame) -> alt.TopLevelMixin:
    """Clicks per minute over the last hour, one line per leading ad (and one for the rest)."""
    ads = sorted(set(lines["ad"]) - {OTHER_ADS}, key=lambda name: int(name.split()[-1]))
    domain = ads + ([OTHER_ADS] if OTHER_ADS in set(lines["ad"]) else [])
    palette = ["#2f6fde", "#f29e38", "#3aa76d", "#d64550", "#8e5bd4", "#1fa5b8", "#b8862f"]
    colours = palette[: len(ads)] + ([MUTED] if len(domain) > len(ads) else [])
    chart = (
        alt.Chart(lines)
        .mark_line(point=False, strokeWidth=2)
        .encode(
            x=alt.X("minute:T", title=None, axis=alt.Axis(format="%H:%M")),
            y=alt.Y("clicks:Q", title="clicks per minute"),
            color=alt.Color(
                "ad:N",
                sort=domain,
                scale=alt.Scale(domain=domain, range=colours),
                legend=alt.Legend(title=None),
            ),
            tooltip=[alt.Tooltip("minute:T", format="%H:%M"), "ad:N", "clicks:Q"],
        )
    )
    return _finish(chart, "Clicks per minute over the last hour (UTC)", 300)
