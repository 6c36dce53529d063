"""Pure data shaping for the dashboards: the contract tables in, what a chart or table shows out.

No Streamlit and no I/O here, so every function is tested with small frames (tests/unit).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

import pandas as pd

OTHER_ADS = "other ads"
COUNT_MEASURES = {"click_count": "clicks", "order_count": "orders", "pay_count": "payments"}
BREAKDOWN_KINDS = {"all": "All units", "area": "Area of entry", "entry_date": "Day of entry"}
"""funnel_conversion's breakdown kinds, with the picker's labels."""
FUNNEL_SEGMENTS = ["reached", "dropped"]
FUNNEL_PERCENTILES = {"median_seconds_to_step": "median", "p90_seconds_to_step": "90th percentile"}


def pick_default(options: Sequence[Any], wanted: Any = None, preferred: Any = None) -> Any:
    """`wanted` when it is an option, else `preferred` when it is, else the last option."""
    for candidate in (wanted, preferred):
        if candidate is not None and candidate in options:
            return candidate
    return options[-1]


def parse_day(text: str | None) -> date | None:
    """A `yyyy-MM-dd` query parameter as a date; None when absent or not a date."""
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def length_distribution(frame: pd.DataFrame, dimension: str) -> pd.DataFrame:
    """One dimension's buckets (`visit_length` | `step_length`) in bucket order."""
    rows = frame[frame["dimension"] == dimension]
    columns = ["bucket", "bucket_order", "sessions", "ratio"]
    return rows.sort_values("bucket_order")[columns].reset_index(drop=True)


def matching_sessions(frame: pd.DataFrame) -> int:
    """Matching sessions of a task: the sessions over one dimension's buckets."""
    return int(length_distribution(frame, "visit_length")["sessions"].sum())


def sessions_per_slot(extract: pd.DataFrame) -> pd.DataFrame:
    """Extracted sessions per `date_hour` slot (the apportionment), in time order."""
    counts = extract.groupby("date_hour").size().rename("sessions").reset_index()
    return counts.sort_values("date_hour").reset_index(drop=True)


def extracted_sessions(extract: pd.DataFrame) -> pd.DataFrame:
    """The extracted sessions, earliest first, without the task key."""
    ordered = extract.sort_values(["start_time", "session_id"]).drop(columns="task_id")
    return ordered.reset_index(drop=True)


def category_counts(top10: pd.DataFrame) -> pd.DataFrame:
    """Top-10 categories in long form (one row per category and measure), in rank order."""
    ranked = top10.sort_values("rank").assign(category=lambda f: f["category_id"].astype(str))
    long = ranked.melt(
        id_vars=["rank", "category"],
        value_vars=list(COUNT_MEASURES),
        var_name="measure",
        value_name="count",
    )
    long["measure"] = pd.Categorical(
        long["measure"].map(COUNT_MEASURES), categories=list(COUNT_MEASURES.values()), ordered=True
    )
    return long.sort_values(["rank", "measure"]).reset_index(drop=True)


def category_sessions(sessions: pd.DataFrame, category_id: int) -> pd.DataFrame:
    """The top sessions of one category, in rank order."""
    rows = sessions[sessions["category_id"] == category_id].sort_values("rank")
    return rows[["rank", "session_id", "click_count"]].reset_index(drop=True)


def funnel(rates: pd.DataFrame) -> pd.DataFrame:
    """Page-flow steps in order, with a `jump` label (`1 → 2`) and the rate as text."""
    steps = rates.sort_values("step").drop(columns="task_id").reset_index(drop=True)
    steps["jump"] = [
        f"{source} → {target}"
        for source, target in zip(steps["from_page_id"], steps["to_page_id"], strict=True)
    ]
    steps["rate_label"] = [
        "n/a" if pd.isna(rate) else f"{rate:.1%}" for rate in steps["conversion_rate"]
    ]
    return steps


def flow_label(steps: pd.DataFrame) -> str:
    """The page flow of the steps, e.g. `1 → 2 → 3`."""
    pages = [*steps["from_page_id"], *steps["to_page_id"].iloc[-1:]]
    return " → ".join(str(page) for page in pages)


def funnel_stages(steps: pd.DataFrame) -> pd.DataFrame:
    """The funnel: actions on the flow's first page, then the jumps that carried on each step.

    By SPEC 3 a step's base is the previous step's jumps, so the stages chain; `share` is of
    the first stage (None when it is 0).
    """
    first = steps.iloc[0]
    stages = [(f"page {first['from_page_id']}", int(first["base_count"]))]
    stages += [
        (f"→ page {target}", int(jumps))
        for target, jumps in zip(steps["to_page_id"], steps["jump_count"], strict=True)
    ]
    frame = pd.DataFrame(stages, columns=["stage", "count"])
    start = frame["count"].iloc[0]
    frame["share"] = frame["count"] / start if start else None
    return frame


def overall_conversion(steps: pd.DataFrame) -> float | None:
    """Share of the first page's actions that went through the whole flow (None if no base)."""
    if steps.empty:
        return None
    base = steps["base_count"].iloc[0]
    return None if not base else float(steps["jump_count"].iloc[-1] / base)


def breakdown_values(frame: pd.DataFrame, kind: str) -> list[str]:
    """The values of one breakdown kind in a task's funnel_conversion rows, sorted (areas by
    name, days in time order)."""
    return sorted(frame.loc[frame["breakdown_kind"] == kind, "breakdown_value"].unique())


def funnel_steps(frame: pd.DataFrame, kind: str, value: str) -> pd.DataFrame:
    """One breakdown value's funnel in step order, with a `stage` label (`1 page:1`) and the
    conversions as text."""
    chosen = (frame["breakdown_kind"] == kind) & (frame["breakdown_value"] == value)
    steps = frame[chosen].sort_values("step").drop(columns="task_id").reset_index(drop=True)
    steps["stage"] = [
        f"{step} {name}" for step, name in zip(steps["step"], steps["step_name"], strict=True)
    ]
    for column in ("conversion_from_previous", "conversion_from_start"):
        steps[f"{column}_label"] = [
            "n/a" if pd.isna(rate) else f"{rate:.1%}" for rate in steps[column]
        ]
    return steps


def funnel_bars(steps: pd.DataFrame) -> pd.DataFrame:
    """The funnel in long form for stacked bars: per step the units that reached it and the
    units that dropped just before it (reached + dropped = the previous step's units)."""
    long = steps.melt(
        id_vars=["step", "stage", "conversion_from_start_label"],
        value_vars=["units_reached", "dropped"],
        var_name="segment",
        value_name="units",
    )
    long["segment"] = long["segment"].map({"units_reached": "reached", "dropped": "dropped"})
    order = {segment: index for index, segment in enumerate(FUNNEL_SEGMENTS)}
    long["segment_order"] = long["segment"].map(order)
    return long.sort_values(["step", "segment_order"]).reset_index(drop=True)


def funnel_durations(steps: pd.DataFrame) -> pd.DataFrame:
    """Median and 90th-percentile seconds from entry to each step after the first that some
    unit reached, in long form (`step`, `stage`, `percentile`, `seconds`, `duration` text)."""
    later = steps[(steps["step"] > 1) & (steps["units_reached"] > 0)]
    long = later.melt(
        id_vars=["step", "stage"],
        value_vars=list(FUNNEL_PERCENTILES),
        var_name="percentile",
        value_name="seconds",
    )
    long["percentile"] = long["percentile"].map(FUNNEL_PERCENTILES)
    long["duration"] = long["seconds"].map(duration_label)
    order = {name: index for index, name in enumerate(FUNNEL_PERCENTILES.values())}
    long["percentile_order"] = long["percentile"].map(order)
    return long.sort_values(["step", "percentile_order"]).reset_index(drop=True)


def duration_label(seconds: float | None) -> str:
    """Seconds for people: `45 s`, `12.5 min`, `3.2 h`, `2.0 d` (`n/a` when unknown)."""
    if seconds is None or pd.isna(seconds):
        return "n/a"
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:.1f} {unit}"
    return f"{seconds:g} s"


def funnel_parameters(parameters: pd.Series) -> list[tuple[str, str]]:
    """A task's funnel and filters (a row of task_parameters) as (label, text) pairs, the
    JSON lists read."""

    def listed(column: str) -> list[Any]:
        text = parameters.get(column)
        return json.loads(text) if isinstance(text, str) and text else []

    def bounded(low: Any, high: Any) -> str:
        low = None if low is None or pd.isna(low) else low
        high = None if high is None or pd.isna(high) else high
        if low is None and high is None:
            return "all"
        return f"{low if low is not None else '…'} to {high if high is not None else '…'}"

    unit = {"session": "each session", "user": "each user (all their sessions)"}
    order = {
        "ordered": "ordered (other events may come between steps)",
        "strict": "strict (each step is the very next event)",
    }
    filters = [
        f"{name} {', '.join(str(value) for value in listed(column))}"
        for name, column in (
            ("professions", "professionals"),
            ("home cities", "cities"),
            ("keywords", "keywords"),
            ("categories", "category_ids"),
        )
        if listed(column)
    ]
    sex = parameters.get("sex")
    if isinstance(sex, str) and sex:
        filters.append(f"sex {sex}")
    ages = bounded(parameters.get("start_age"), parameters.get("end_age"))
    if ages != "all":
        filters.append(f"ages {ages}")
    return [
        ("Steps", " → ".join(listed("funnel_steps"))),
        ("Window", duration_label(float(parameters["funnel_window_seconds"]))),
        ("Order", order.get(parameters["funnel_order"], parameters["funnel_order"])),
        ("Unit", unit.get(parameters["funnel_unit"], parameters["funnel_unit"])),
        ("Days", bounded(parameters.get("start_date"), parameters.get("end_date"))),
        ("Filters", "; ".join(filters) or "none"),
    ]


def area_top3(frame: pd.DataFrame) -> pd.DataFrame:
    """A day's top-3 products per area, areas by level (A first) then name, products by rank."""
    ordered = frame.sort_values(["area_level", "area", "rank"]).reset_index(drop=True)
    ordered["area_label"] = ordered["area_level"] + " · " + ordered["area"]
    return ordered


def province_top3(frame: pd.DataFrame, day: date) -> pd.DataFrame:
    """A day's top-3 ads per province, provinces by clicks of their first ad (most first)."""
    rows = frame[frame["click_date"] == day].copy()
    rows["ad"] = "ad " + rows["ad_id"].astype(str)
    leaders = rows[rows["rank"] == 1].sort_values(["clicks", "province"], ascending=[False, True])
    order = {province: index for index, province in enumerate(leaders["province"])}
    rows["province_order"] = rows["province"].map(order).fillna(len(order))
    return rows.sort_values(["province_order", "rank"]).reset_index(drop=True)


def last_hour(trend: pd.DataFrame) -> pd.DataFrame:
    """Minutes of the last hour of the trend, counted back from its newest minute (event time)."""
    if trend.empty:
        return trend
    newest = trend["minute"].max()
    return trend[trend["minute"] > newest - timedelta(hours=1)].reset_index(drop=True)


def trend_by_ad(trend: pd.DataFrame, top: int) -> pd.DataFrame:
    """Clicks per minute of the `top` ads with most clicks; the other ads summed as one line."""
    totals = trend.groupby("ad_id")["clicks"].sum().sort_values(ascending=False, kind="stable")
    leaders = sorted(totals.index[:top])
    lines = trend.assign(ad=[f"ad {ad}" if ad in leaders else OTHER_ADS for ad in trend["ad_id"]])
    summed = lines.groupby(["minute", "ad"], as_index=False)["clicks"].sum()
    return summed.sort_values(["minute", "ad"]).reset_index(drop=True)


def day_totals(daily_clicks: pd.DataFrame, day: date) -> dict[str, int]:
    """A day's clicks, ads and provinces from `ad_daily_clicks`."""
    rows = daily_clicks[daily_clicks["click_date"] == day]
    return {
        "clicks": int(rows["clicks"].sum()),
        "ads": int(rows["ad_id"].nunique()),
        "provinces": int(rows["province"].nunique()),
    }


def blacklist(frame: pd.DataFrame) -> pd.DataFrame:
    """The blacklist, newest entries first."""
    return frame.sort_values(["blacklisted_at", "user_id"], ascending=[False, True]).reset_index(
        drop=True
    )
