"""The dashboards' pure data shaping and chart specs, on small hand-made frames (no browser)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pandas as pd
import pytest

from ecom_analytics.dashboard import charts, shaping


def test_pick_default_prefers_the_wanted_then_the_preferred_then_the_last() -> None:
    assert shaping.pick_default(["a", "default", "t9"], "t9", "default") == "t9"
    assert shaping.pick_default(["a", "default", "t9"], "gone", "default") == "default"
    assert shaping.pick_default(["a", "b"], None, "default") == "b"


@pytest.mark.parametrize(
    ("text", "expected"),
    [("2026-11-17", date(2026, 11, 17)), ("2026-02-30", None), ("yesterday", None), (None, None)],
)
def test_parse_day(text: str | None, expected: date | None) -> None:
    assert shaping.parse_day(text) == expected


def distribution() -> pd.DataFrame:
    rows = [
        ("t", "visit_length", "4s_6s", 2, 1, 0.25),
        ("t", "step_length", "1_3", 1, 4, 1.0),
        ("t", "visit_length", "0s_3s", 1, 3, 0.75),
    ]
    columns = ["task_id", "dimension", "bucket", "bucket_order", "sessions", "ratio"]
    return pd.DataFrame(rows, columns=columns)


def test_length_distribution_keeps_one_dimension_in_bucket_order() -> None:
    visit = shaping.length_distribution(distribution(), "visit_length")
    assert visit["bucket"].tolist() == ["0s_3s", "4s_6s"]
    assert visit.columns.tolist() == ["bucket", "bucket_order", "sessions", "ratio"]
    assert shaping.matching_sessions(distribution()) == 4


def test_length_chart_draws_the_buckets_in_their_order_as_svg() -> None:
    spec = charts.length_distribution(
        shaping.length_distribution(distribution(), "visit_length"), "Visit"
    ).to_dict()
    x = spec["layer"][0]["encoding"]["x"]
    assert x["field"] == "bucket"
    assert x["sort"] == ["0s_3s", "4s_6s"]
    assert spec["usermeta"]["embedOptions"]["renderer"] == "svg"
    assert [layer["mark"]["type"] for layer in spec["layer"]] == ["bar", "text"]


def test_sessions_per_slot_counts_each_hour_in_time_order() -> None:
    extract = pd.DataFrame(
        {
            "task_id": "t",
            "session_id": ["a", "b", "c", "d"],
            "start_time": pd.to_datetime(
                ["2026-11-17 10:05", "2026-11-16 23:59", "2026-11-17 10:01", "2026-11-17 10:59"]
            ),
            "date_hour": ["2026-11-17_10", "2026-11-16_23", "2026-11-17_10", "2026-11-17_10"],
        }
    )
    slots = shaping.sessions_per_slot(extract)
    assert slots.to_dict("list") == {
        "date_hour": ["2026-11-16_23", "2026-11-17_10"],
        "sessions": [1, 3],
    }
    ordered = shaping.extracted_sessions(extract)
    assert ordered["session_id"].tolist() == ["b", "c", "a", "d"]
    assert "task_id" not in ordered


def test_category_counts_are_long_in_rank_then_measure_order() -> None:
    top10 = pd.DataFrame(
        {
            "task_id": "t",
            "rank": [2, 1],
            "category_id": [7, 30],
            "click_count": [5, 9],
            "order_count": [4, 1],
            "pay_count": [0, 1],
        }
    )
    long = shaping.category_counts(top10)
    assert long["category"].tolist() == ["30"] * 3 + ["7"] * 3
    assert long["measure"].astype(str).tolist() == ["clicks", "orders", "payments"] * 2
    assert long["count"].tolist() == [9, 1, 1, 5, 4, 0]
    spec = charts.category_counts(long).to_dict()
    assert spec["encoding"]["x"]["sort"] == ["30", "7"]
    assert spec["encoding"]["xOffset"]["field"] == "measure"


def test_category_sessions_selects_one_category_in_rank_order() -> None:
    sessions = pd.DataFrame(
        {
            "task_id": "t",
            "category_id": [1, 2, 1],
            "rank": [2, 1, 1],
            "session_id": ["s2", "x", "s1"],
            "click_count": [3, 9, 4],
        }
    )
    rows = shaping.category_sessions(sessions, 1)
    assert rows.to_dict("list") == {
        "rank": [1, 2],
        "session_id": ["s1", "s2"],
        "click_count": [4, 3],
    }


def rates(base: int, jumps: list[int], flow: list[int]) -> pd.DataFrame:
    """page_conversion_rates rows the way SPEC 3 chains them, shuffled."""
    rows = []
    for step, (jump, source, target) in enumerate(
        zip(jumps, flow[:-1], flow[1:], strict=True), start=1
    ):
        rows.append(("t", step, source, target, jump, base, jump / base if base else None))
        base = jump
    columns = [
        "task_id", "step", "from_page_id", "to_page_id", "jump_count", "base_count",
        "conversion_rate",
    ]  # fmt: skip
    return pd.DataFrame(rows[::-1], columns=columns)


def test_funnel_orders_steps_and_labels_jumps_and_rates() -> None:
    steps = shaping.funnel(rates(200, [50, 10, 0], [3, 1, 4, 2]))
    assert steps["jump"].tolist() == ["3 → 1", "1 → 4", "4 → 2"]
    assert steps["rate_label"].tolist() == ["25.0%", "20.0%", "0.0%"]
    assert shaping.flow_label(steps) == "3 → 1 → 4 → 2"
    assert shaping.overall_conversion(steps) == 0.0
    stages = shaping.funnel_stages(steps)
    assert stages["stage"].tolist() == ["page 3", "→ page 1", "→ page 4", "→ page 2"]
    assert stages["count"].tolist() == [200, 50, 10, 0]
    assert stages["share"].tolist() == [1.0, 0.25, 0.05, 0.0]


def test_funnel_without_a_base_has_no_rates() -> None:
    steps = shaping.funnel(rates(0, [0, 0], [1, 2, 3]))
    assert steps["rate_label"].tolist() == ["n/a", "n/a"]
    assert shaping.overall_conversion(steps) is None
    assert shaping.funnel_stages(steps)["share"].isna().all()


FUNNEL_COLUMNS = [
    "task_id",
    "breakdown_kind",
    "breakdown_value",
    "step",
    "step_name",
    "units_reached",
    "dropped",
    "conversion_from_previous",
    "conversion_from_start",
    "median_seconds_to_step",
    "p90_seconds_to_step",
    "incomplete_units",
]


def funnel_rows() -> pd.DataFrame:
    """A three-step funnel: all units (10, 4, 0) and two areas; rows out of order."""
    rows = [
        ("t", "all", "all", 2, "search:any", 4, 6, 0.4, 0.4, 90.0, 1500.0, 0),
        ("t", "area", "North China", 1, "page:1", 3, 0, 1.0, 1.0, 0.0, 0.0, 0),
        ("t", "all", "all", 1, "page:1", 10, 0, 1.0, 1.0, 0.0, 0.0, 2),
        ("t", "all", "all", 3, "pay:any", 0, 4, 0.0, 0.0, None, None, 0),
        ("t", "area", "East China", 1, "page:1", 7, 0, 1.0, 1.0, 0.0, 0.0, 2),
        ("t", "area", "East China", 2, "search:any", 4, 3, 4 / 7, 4 / 7, 90.0, 1500.0, 0),
        ("t", "area", "North China", 2, "search:any", 0, 3, 0.0, 0.0, None, None, 0),
        ("t", "area", "East China", 3, "pay:any", 0, 4, 0.0, 0.0, None, None, 0),
        ("t", "area", "North China", 3, "pay:any", 0, 0, None, 0.0, None, None, 0),
    ]
    return pd.DataFrame(rows, columns=FUNNEL_COLUMNS)


def test_breakdown_values_are_sorted_per_kind() -> None:
    assert shaping.breakdown_values(funnel_rows(), "area") == ["East China", "North China"]
    assert shaping.breakdown_values(funnel_rows(), "all") == ["all"]
    assert shaping.breakdown_values(funnel_rows(), "entry_date") == []


def test_funnel_steps_keeps_one_breakdown_value_in_step_order_with_labels() -> None:
    steps = shaping.funnel_steps(funnel_rows(), "area", "North China")
    assert steps["stage"].tolist() == ["1 page:1", "2 search:any", "3 pay:any"]
    assert steps["units_reached"].tolist() == [3, 0, 0]
    assert steps["conversion_from_previous_label"].tolist() == ["100.0%", "0.0%", "n/a"]
    assert "task_id" not in steps


def test_funnel_bars_stack_the_dropped_units_on_the_reached_ones() -> None:
    bars = shaping.funnel_bars(shaping.funnel_steps(funnel_rows(), "all", "all"))
    assert bars[["stage", "segment", "units"]].values.tolist() == [
        ["1 page:1", "reached", 10],
        ["1 page:1", "dropped", 0],
        ["2 search:any", "reached", 4],
        ["2 search:any", "dropped", 6],
        ["3 pay:any", "reached", 0],
        ["3 pay:any", "dropped", 4],
    ]
    # each bar stands as high as the step before it
    tops = bars.groupby("step")["units"].sum().tolist()
    assert tops == [10, 10, 4]


def test_funnel_durations_skip_step_one_and_steps_nobody_reached() -> None:
    durations = shaping.funnel_durations(shaping.funnel_steps(funnel_rows(), "all", "all"))
    assert durations[["stage", "percentile", "seconds", "duration"]].values.tolist() == [
        ["2 search:any", "median", 90.0, "1.5 min"],
        ["2 search:any", "90th percentile", 1500.0, "25.0 min"],
    ]


@pytest.mark.parametrize(
    ("seconds", "label"),
    [(0.0, "0 s"), (45.5, "45.5 s"), (60.0, "1.0 min"), (5400.0, "1.5 h"), (172800.0, "2.0 d")],
)
def test_duration_label(seconds: float, label: str) -> None:
    assert shaping.duration_label(seconds) == label
    assert shaping.duration_label(None) == shaping.duration_label(float("nan")) == "n/a"


def test_funnel_parameters_read_the_json_lists_and_say_what_is_unset() -> None:
    row = pd.Series(
        {
            "task_id": "t",
            "sex": None,
            "funnel_order": "strict",
            "funnel_unit": "user",
            "professionals": "[]",
            "cities": '["Beijing","Wuhan"]',
            "keywords": "[]",
            "category_ids": "[12]",
            "target_page_flow": "[1,2]",
            "funnel_steps": '["page:1","search:tea set","pay:any"]',
            "start_age": 20,
            "end_age": None,
            "extract_sessions": 100,
            "random_seed": 42,
            "funnel_window_seconds": 3600,
            "start_date": date(2026, 11, 17),
            "end_date": None,
        }
    )
    assert dict(shaping.funnel_parameters(row)) == {
        "Steps": "page:1 → search:tea set → pay:any",
        "Window": "1.0 h",
        "Order": "strict (each step is the very next event)",
        "Unit": "each user (all their sessions)",
        "Days": "2026-11-17 to …",
        "Filters": "home cities Beijing, Wuhan; categories 12; ages 20 to …",
    }


def test_funnel_charts_draw_steps_in_order_as_svg() -> None:
    steps = shaping.funnel_steps(funnel_rows(), "all", "all")
    drop_off = charts.funnel_drop_off(shaping.funnel_bars(steps)).to_dict()
    assert drop_off["usermeta"]["embedOptions"]["renderer"] == "svg"
    bars = drop_off["layer"][0]
    assert bars["encoding"]["x"]["sort"] == ["1 page:1", "2 search:any", "3 pay:any"]
    assert bars["encoding"]["color"]["scale"]["domain"] == ["reached", "dropped"]
    times = charts.time_to_step(shaping.funnel_durations(steps)).to_dict()
    assert times["encoding"]["xOffset"]["sort"] == ["median", "90th percentile"]


def test_area_top3_orders_areas_by_level_then_name_products_by_rank() -> None:
    frame = pd.DataFrame(
        {
            "area": ["South China", "East China", "East China", "North China"],
            "area_level": ["B", "A", "A", "A"],
            "rank": [1, 2, 1, 1],
            "product_id": [1, 2, 3, 4],
        }
    )
    ordered = shaping.area_top3(frame)
    assert ordered["product_id"].tolist() == [3, 2, 4, 1]
    assert ordered["area_label"].iloc[0] == "A · East China"


def test_province_top3_keeps_the_day_and_orders_provinces_by_their_leader() -> None:
    day, other = date(2026, 11, 18), date(2026, 11, 17)
    frame = pd.DataFrame(
        {
            "click_date": [day, day, day, day, other],
            "province": ["Hubei", "Hubei", "Jiangsu", "Jiangsu", "Hunan"],
            "rank": [1, 2, 2, 1, 1],
            "ad_id": [4, 5, 6, 7, 8],
            "clicks": [90, 10, 20, 300, 999],
        }
    )
    ads = shaping.province_top3(frame, day)
    assert ads["province"].tolist() == ["Jiangsu", "Jiangsu", "Hubei", "Hubei"]
    assert ads["ad"].tolist() == ["ad 7", "ad 6", "ad 4", "ad 5"]


def trend(minutes: int, clicks_by_ad: dict[int, int]) -> pd.DataFrame:
    end = datetime(2026, 11, 18, 12, 0)
    rows = [
        (end - timedelta(minutes=minute), ad_id, clicks)
        for minute in range(minutes)
        for ad_id, clicks in clicks_by_ad.items()
    ]
    return pd.DataFrame(rows, columns=["minute", "ad_id", "clicks"])


def test_last_hour_counts_back_from_the_newest_minute() -> None:
    hour = shaping.last_hour(trend(75, {1: 1}))
    assert len(hour) == 60
    assert hour["minute"].min() == datetime(2026, 11, 18, 11, 1)
    assert shaping.last_hour(trend(0, {})).empty


def test_trend_by_ad_keeps_the_leading_ads_and_sums_the_rest() -> None:
    lines = shaping.trend_by_ad(trend(3, {1: 5, 2: 1, 3: 9, 4: 2}), top=2)
    assert sorted(set(lines["ad"])) == ["ad 1", "ad 3", shaping.OTHER_ADS]
    assert lines[lines["ad"] == shaping.OTHER_ADS]["clicks"].tolist() == [3, 3, 3]
    spec = charts.click_trend(lines).to_dict()
    assert spec["encoding"]["color"]["scale"]["domain"] == ["ad 1", "ad 3", shaping.OTHER_ADS]


def test_day_totals_and_blacklist_order() -> None:
    day = date(2026, 11, 18)
    daily = pd.DataFrame(
        {
            "click_date": [day, day, day, date(2026, 11, 17)],
            "province": ["Hubei", "Hubei", "Hunan", "Hunan"],
            "city": ["Wuhan", "Yichang", "Changsha", "Changsha"],
            "ad_id": [1, 2, 1, 9],
            "clicks": [10, 5, 7, 100],
        }
    )
    assert shaping.day_totals(daily, day) == {"clicks": 22, "ads": 2, "provinces": 2}
    blacklist = pd.DataFrame(
        {
            "user_id": [3, 1, 2],
            "blacklisted_at": pd.to_datetime(
                ["2026-11-17 09:00", "2026-11-18 08:00", "2026-11-18 08:00"]
            ),
            "reason": ["x", "y", "z"],
        }
    )
    assert shaping.blacklist(blacklist)["user_id"].tolist() == [1, 2, 3]
