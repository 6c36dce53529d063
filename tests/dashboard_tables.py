"""Every table of SPEC 3 and 4, crafted by hand with exactly the SPEC columns, for dashboard tests.

`write_tables(spark, schema)` saves them the way dbt-spark and the stream do and returns the
frames, so tests take their expectations from here: the marts as Parquet tables (task-keyed ones
partitioned by `task_id`, the area mart by `action_date`), the stream's tables as Delta tables
(partitioned by `click_date` where the stream's are) after two micro-batches, deletion vectors
enabled: an append of most rows (every other one with an earlier value) and of a row that goes
away, then a MERGE of the final rows. Two tasks (`default`, `t42`), two days of area data, two
days of ad data.

The browser test opens every page on a real build of the project (tests/project_build.py);
these rows serve where exact values prove something: both sources read every table exactly,
the task picker switches between two tasks, the live page picks up a new blacklist entry.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import pandas as pd

from ecom_analytics.dashboard.contract import AD_TABLES

VISIT_BUCKETS = [
    "0s_3s",
    "4s_6s",
    "7s_9s",
    "10s_30s",
    "30s_60s",
    "1m_3m",
    "3m_10m",
    "10m_30m",
    "30m+",
]
STEP_BUCKETS = ["1_3", "4_6", "7_9", "10_30", "30_60", "60+"]
AREAS = [  # area, level, the city_info cities of the area
    ("East China", "A", "1:Shanghai,2:Nanjing"),
    ("North China", "A", "0:Beijing"),
    ("South China", "B", "3:Guangzhou,4:Sanya"),
    ("Central China", "B", "5:Wuhan,6:Changsha"),
    ("Northwest", "C", "7:Xi'an"),
    ("Southwest", "C", "8:Chengdu"),
    ("Northeast", "D", "9:Harbin"),
]
PRODUCT_NAMES = ["Classic Headphones", "Smart Tea Set", "Travel Backpack", "Desk Lamp", "Kettle"]
PROVINCES = [
    "Jiangsu",
    "Zhejiang",
    "Guangdong",
    "Hubei",
    "Hunan",
    "Sichuan",
    "Shaanxi",
    "Heilongjiang",
]
AREA_DAYS = [date(2026, 11, 16), date(2026, 11, 17)]
AD_DAYS = [date(2026, 11, 17), date(2026, 11, 18)]
TREND_END = datetime(2026, 11, 18, 15, 30)


@dataclass(frozen=True)
class Table:
    ddl: str
    partition_by: tuple[str, ...]
    rows: list[tuple[Any, ...]]
    key: tuple[str, ...] = ()
    """The columns a stream table's MERGE matches rows on; the last one is an integer id."""

    @property
    def columns(self) -> list[str]:
        return [part.strip().split(" ")[0] for part in self.ddl.split(",")]


def _distribution(task: str, visit: list[int], steps: list[int]) -> list[tuple[Any, ...]]:
    rows = []
    for dimension, buckets, counts in (
        ("visit_length", VISIT_BUCKETS, visit),
        ("step_length", STEP_BUCKETS, steps),
    ):
        total = sum(counts)
        for order, (bucket, sessions) in enumerate(zip(buckets, counts, strict=True), start=1):
            rows.append((task, dimension, bucket, order, sessions, sessions / total))
    return rows


def _extract(task: str, slots: dict[str, int]) -> list[tuple[Any, ...]]:
    rows = []
    for slot, count in slots.items():
        day, hour = slot.split("_")
        for index in range(count):
            start = datetime.fromisoformat(f"{day} {hour}:00:00") + timedelta(minutes=7 * index)
            rows.append(
                (
                    task,
                    f"{task}-{slot}-{index:02d}",
                    start,
                    slot,
                    ",".join(["green tea", "hotpot", "coffee maker"][: index % 3 + 1]),
                    ",".join(str(category) for category in range(index % 4 + 1)),
                )
            )
    return rows


def _top10(task: str, categories: int) -> list[tuple[Any, ...]]:
    return [
        (task, rank, 40 + rank * 3, 900 - 70 * rank, 300 - 20 * rank, 120 - 9 * rank)
        for rank in range(1, categories + 1)
    ]


def _category_sessions(task: str, top10: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    rows = []
    for _, rank, category_id, *_counts in top10:
        for session_rank in range(1, (10 if rank == 1 else 3) + 1):
            session_id = f"s{category_id:03d}{session_rank:02d}aa7f"
            rows.append((task, category_id, session_rank, session_id, 30 - 2 * session_rank))
    return rows


def _rates(task: str, flow: list[int], base: int, jumps: list[int]) -> list[tuple[Any, ...]]:
    rows = []
    for step, (jump_count, source, target) in enumerate(
        zip(jumps, flow, flow[1:], strict=False), start=1
    ):
        rate = jump_count / base if base else None
        rows.append((task, step, source, target, jump_count, base, rate))
        base = jump_count
    return rows


def _funnel(
    task: str, steps: list[str], breakdowns: dict[tuple[str, str], list[int]]
) -> list[tuple[Any, ...]]:
    """funnel_conversion rows: per breakdown the units reached at each step (not increasing),
    the durations growing with the step."""
    rows = []
    for (kind, value), reached in breakdowns.items():
        for step, (name, units) in enumerate(zip(steps, reached, strict=True), start=1):
            previous = reached[step - 2] if step > 1 else units
            median = None if units == 0 else 45.0 * (step - 1)
            rows.append(
                (
                    task,
                    kind,
                    value,
                    step,
                    name,
                    units,
                    previous - units,
                    1.0 if step == 1 else (units / previous if previous else None),
                    units / reached[0],
                    median,
                    None if median is None else 4 * median,
                    3 if step == 1 and kind == "all" else 0,
                )
            )
    return rows


def _area_top3() -> list[tuple[Any, ...]]:
    rows = []
    for day_index, day in enumerate(AREA_DAYS):
        for area_index, (area, level, cities) in enumerate(AREAS):
            for rank in (1, 2, 3):
                product_id = (area_index * 7 + rank * 3 + day_index) % 100
                rows.append(
                    (
                        day,
                        area,
                        level,
                        rank,
                        product_id,
                        f"{PRODUCT_NAMES[product_id % 5]} {product_id}",
                        "self-operated" if product_id % 2 == 0 else "third-party",
                        200 - 30 * rank - 9 * area_index + 5 * day_index,
                        cities,
                    )
                )
    return rows


def _ad_tables() -> dict[str, list[tuple[Any, ...]]]:
    newest = AD_DAYS[-1]
    daily, top3 = [], []
    for day in AD_DAYS:
        for province_index, province in enumerate(PROVINCES):
            for ad_id in range(4):
                clicks = 500 - 40 * province_index - 90 * ad_id + (60 if day == newest else 0)
                daily.append((day, province, f"{province}City", ad_id, clicks))
            if day == newest or province_index < 2:
                for rank in (1, 2, 3):
                    clicks = 500 - 40 * province_index - 90 * (rank - 1)
                    top3.append((day, province, rank, rank - 1, clicks + 60 * (day == newest)))
    trend = [
        (
            TREND_END - timedelta(minutes=minute),
            ad_id,
            round(30 - 3 * ad_id + (8 - ad_id) * math.sin((minute + 11 * ad_id) / 7)),
        )
        for minute in range(70)  # ten minutes older than the last hour
        for ad_id in range(7)
    ]
    return {
        "ad_blacklist": [
            (9001, datetime(2026, 11, 17, 10, 4, 5), "more than 100 clicks on ad 3 on 2026-11-17"),
            (9002, datetime(2026, 11, 18, 8, 0, 1), "more than 100 clicks on ad 0 on 2026-11-18"),
            (9003, datetime(2026, 11, 18, 9, 30, 0), "more than 100 clicks on ad 1 on 2026-11-18"),
        ],
        "ad_user_daily_clicks": [
            (day, user_id, user_id % 4, 5 + (user_id * 7) % 90)
            for day in AD_DAYS
            for user_id in range(100, 115)
        ],
        "ad_daily_clicks": daily,
        "ad_province_top3": top3,
        "ad_click_trend": trend,
    }


def tables() -> dict[str, Table]:
    """The crafted tables by name."""
    top10_default, top10_t42 = _top10("default", 10), _top10("t42", 3)
    ads = _ad_tables()
    return {
        "session_length_distribution": Table(
            "task_id string, dimension string, bucket string, bucket_order int, sessions bigint,"
            " ratio double",
            ("task_id",),
            _distribution(
                "default", [120, 80, 60, 150, 90, 70, 40, 20, 10], [300, 160, 90, 70, 15, 5]
            )
            + _distribution("t42", [3, 0, 1, 4, 0, 0, 2, 0, 0], [6, 2, 1, 1, 0, 0]),
        ),
        "session_random_extract": Table(
            "task_id string, session_id string, start_time timestamp, date_hour string,"
            " search_keywords string, click_category_ids string",
            ("task_id",),
            _extract(
                "default",
                {"2026-11-16_09": 4, "2026-11-16_10": 3, "2026-11-16_14": 3, "2026-11-17_08": 2},
            )
            + _extract("t42", {"2026-11-17_19": 5}),
        ),
        "top10_categories": Table(
            "task_id string, rank int, category_id bigint, click_count bigint, order_count bigint,"
            " pay_count bigint",
            ("task_id",),
            top10_default + top10_t42,
        ),
        "top10_category_sessions": Table(
            "task_id string, category_id bigint, rank int, session_id string, click_count bigint",
            ("task_id",),
            _category_sessions("default", top10_default) + _category_sessions("t42", top10_t42),
        ),
        "page_conversion_rates": Table(
            "task_id string, step int, from_page_id bigint, to_page_id bigint, jump_count bigint,"
            " base_count bigint, conversion_rate double",
            ("task_id",),
            _rates("default", [1, 2, 3, 4, 5, 6, 7], 4000, [1200, 700, 520, 300, 210, 80])
            + _rates("t42", [1, 2, 3, 4], 400, [50, 0, 0]),
        ),
        "funnel_conversion": Table(
            "task_id string, breakdown_kind string, breakdown_value string, step int,"
            " step_name string, units_reached bigint, dropped bigint,"
            " conversion_from_previous double, conversion_from_start double,"
            " median_seconds_to_step double, p90_seconds_to_step double, incomplete_units bigint",
            ("task_id",),
            _funnel(
                "default",
                ["page:1", "page:2", "page:3", "page:4"],
                {
                    ("all", "all"): [900, 610, 330, 120],
                    ("area", "East China"): [500, 350, 200, 80],
                    ("area", "North China"): [400, 260, 130, 40],
                    ("entry_date", "2026-11-16"): [420, 300, 160, 70],
                    ("entry_date", "2026-11-17"): [480, 310, 170, 50],
                },
            )
            + _funnel(
                "t42",
                ["search:tea set", "order:any", "pay:any"],
                {("all", "all"): [40, 9, 0], ("area", "South China"): [40, 9, 0]},
            ),
        ),
        "task_parameters": Table(
            "task_id string, sex string, funnel_order string, funnel_unit string,"
            " professionals string, cities string, keywords string, category_ids string,"
            " target_page_flow string, funnel_steps string, start_age int, end_age int,"
            " extract_sessions int, random_seed bigint, funnel_window_seconds int,"
            " start_date date, end_date date",
            ("task_id",),
            [
                (
                    "default",
                    None,
                    "ordered",
                    "session",
                    "[]",
                    "[]",
                    "[]",
                    "[]",
                    "[1,2,3,4]",
                    '["page:1","page:2","page:3","page:4"]',
                    None,
                    None,
                    100,
                    42,
                    1800,
                    date(2026, 11, 16),
                    date(2026, 11, 17),
                ),
                (
                    "t42",
                    "female",
                    "strict",
                    "user",
                    '["Engineer"]',
                    '["Beijing","Wuhan"]',
                    '["tea set"]',
                    "[]",
                    "[1,2,3,4]",
                    '["search:tea set","order:any","pay:any"]',
                    20,
                    40,
                    50,
                    7,
                    3600,
                    date(2026, 11, 17),
                    date(2026, 11, 17),
                ),
            ],
        ),
        "area_top3_products": Table(
            "action_date date, area string, area_level string, rank int, product_id bigint,"
            " product_name string, product_status string, click_count bigint, city_infos string",
            ("action_date",),
            _area_top3(),
        ),
        "ad_blacklist": Table(
            "user_id bigint, blacklisted_at timestamp, reason string",
            (),
            ads["ad_blacklist"],
            ("user_id",),
        ),
        "ad_user_daily_clicks": Table(
            "click_date date, user_id bigint, ad_id bigint, clicks bigint",
            ("click_date",),
            ads["ad_user_daily_clicks"],
            ("click_date", "user_id", "ad_id"),
        ),
        "ad_daily_clicks": Table(
            "click_date date, province string, city string, ad_id bigint, clicks bigint",
            ("click_date",),
            ads["ad_daily_clicks"],
            ("click_date", "province", "city", "ad_id"),
        ),
        "ad_province_top3": Table(
            "click_date date, province string, rank int, ad_id bigint, clicks bigint",
            ("click_date",),
            ads["ad_province_top3"],
            ("click_date", "province", "rank"),
        ),
        "ad_click_trend": Table(
            "minute timestamp, ad_id bigint, clicks bigint",
            (),
            ads["ad_click_trend"],
            ("minute", "ad_id"),
        ),
    }


def frames() -> dict[str, pd.DataFrame]:
    """The crafted tables as pandas frames (columns in DDL order)."""
    return {
        name: pd.DataFrame.from_records(table.rows, columns=table.columns)
        for name, table in tables().items()
    }


def write_tables(spark: Any, schema: str) -> dict[str, pd.DataFrame]:
    """Save every crafted table into `schema` (marts as Parquet tables, the stream's tables as
    Delta tables); returns the frames."""
    spark.sql(f"create database if not exists {schema}")
    for name, table in tables().items():
        if name in AD_TABLES:
            write_stream_table(spark, f"{schema}.{name}", table)
            continue
        writer = spark.createDataFrame(table.rows, table.ddl).coalesce(1).write
        if table.partition_by:
            writer = writer.partitionBy(*table.partition_by)
        writer.format("parquet").mode("overwrite").saveAsTable(f"{schema}.{name}")
    return frames()


def write_stream_table(spark: Any, name: str, table: Table) -> None:
    """`table` as a Delta table the stream updated twice: a first batch appends all rows but the
    last, every other one with an earlier value, and a row that is gone later; a second MERGEs
    the final rows: it updates the changed rows and deletes the gone one through a deletion
    vector (the file keeps rows it does not touch), and inserts the last row."""
    spark.sql(f"drop table if exists {name}")
    partitioned = f" partitioned by ({', '.join(table.partition_by)})" if table.partition_by else ""
    spark.sql(
        f"create table {name} ({table.ddl}) using delta{partitioned}"
        " tblproperties ('delta.enableDeletionVectors' = 'true')"
    )
    gone = list(table.rows[0])
    gone[table.columns.index(table.key[-1])] = -1
    first_batch = [
        _earlier(row) if index % 2 else row for index, row in enumerate(table.rows[:-1])
    ] + [tuple(gone)]
    frame = spark.createDataFrame(first_batch, table.ddl).coalesce(1)
    frame.write.format("delta").mode("append").saveAsTable(name)
    spark.createDataFrame(table.rows, table.ddl).createOrReplaceTempView("second_batch")
    matched = " and ".join(f"t.{column} = s.{column}" for column in table.key)
    value = table.columns[-1]
    spark.sql(
        f"merge into {name} as t using second_batch as s on {matched}"
        f" when matched and t.{value} <> s.{value} then update set *"
        " when not matched then insert *"
        " when not matched by source then delete"
    )
    spark.catalog.dropTempView("second_batch")


def _earlier(row: tuple[Any, ...]) -> tuple[Any, ...]:
    """`row` as an earlier batch left it: its last value (a count, a reason) different."""
    *rest, last = row
    return (*rest, last - 1 if isinstance(last, int) else f"earlier: {last}")
