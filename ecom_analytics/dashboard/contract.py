"""The tables the dashboards show (SPEC 3 and 4), grouped the way the pages use them."""

from __future__ import annotations

TASK_TABLES = (
    "session_length_distribution",
    "session_random_extract",
    "top10_categories",
    "top10_category_sessions",
    "page_conversion_rates",
    "funnel_conversion",
    "task_parameters",
)
"""Offline marts keyed by `task_id` (one partition per task)."""

DAILY_TABLES = ("area_top3_products",)
"""Offline marts keyed by day (`action_date`), built incrementally."""

AD_TABLES = (
    "ad_blacklist",
    "ad_user_daily_clicks",
    "ad_daily_clicks",
    "ad_province_top3",
    "ad_click_trend",
)
"""Tables the ad-click stream keeps up to date."""

DATE_COLUMNS = frozenset({"action_date", "click_date", "start_date", "end_date"})
"""Columns holding a day; read as `datetime.date` whatever the source delivers."""

TIMESTAMP_COLUMNS = frozenset({"start_time", "blacklisted_at", "minute"})
"""Columns holding a time; read as pandas timestamps whatever the source delivers."""

MART_HINT = "run `make demo` (or `dbt build`) first"
STREAM_HINT = "start the ad-click stream first (see the README's real-time section)"
