"""Pure data shaping for the dashboards: the contract tables in, what a chart or table shows out.

No Streamlit and no I/O here, so every function is tested with small frames (tests/unit).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

import pandas as pd

OTHER_ADS = "other ads"
COUNT_MEASURES = {"click_count": "clicks", "order_count": "orders", "pay_count": "payments"}


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
