"""The streaming job (SPEC 4) on real Spark, one log file per micro-batch.

- a crafted stream crossing the threshold mid-stream, against tables computed by hand;
- a generated stream (the producer: heavy clickers, malformed lines, midnight inside the
  stream) against the plain-Python replay of SPEC 4 in tests/ad_stream_reference.py;
- the same stream killed at several points inside batches and restarted, against the
  uninterrupted run;
- dbt: the tables the `on-run-start` macro creates are the ones the job writes, and the batch
  recomputation reconciles with the stream.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from ecom_analytics.generator.config import GenerateConfig
from ecom_analytics.generator.output import write_log_file
from ecom_analytics.generator.pipeline import generate
from python_udfs.frames import local_frame
from streaming.job import StreamOptions, run_stream
from streaming.producer import ProducerConfig, chunk_files
from streaming.semantics import flag_blacklisted
from tests.ad_stream_reference import Replay, replay
from tests.dbt_harness import DbtProject

pytestmark = [pytest.mark.spark]

DAY = date(2026, 11, 20)
PREVIOUS_DAY = date(2026, 11, 19)
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def ms(day: date, clock: str) -> int:
    """Epoch milliseconds of `clock` (HH:MM:SS) on `day`, UTC."""
    hours, minutes, seconds = (int(part) for part in clock.split(":"))
    moment = datetime(day.year, day.month, day.day, hours, minutes, seconds, tzinfo=timezone.utc)
    return int(moment.timestamp() * 1000)


def click(day: date, clock: str, province: str, city: str, user: int, ad: int) -> str:
    return f"{ms(day, clock)} {province} {city} {user} {ad}"


def write_batches(folder: Path, batches: list[list[str]]) -> None:
    """One log file per batch, in order (increasing modification times)."""
    folder.mkdir(parents=True)
    for index, lines in enumerate(batches):
        write_log_file(folder / f"batch-{index:03d}.log", pa.array(lines, pa.string()))


def options(folder: Path, work: Path, schema: str, threshold: int = 100) -> StreamOptions:
    return StreamOptions(
        input_dir=str(folder),
        checkpoint=str(work / f"checkpoint-{schema}"),
        schema=schema,
        threshold=threshold,
        max_files_per_trigger=1,
        available_now=True,
    )


def read_tables(spark: Any, schema: str) -> dict[str, Any]:
    """The job's tables as Python values, without processing-time columns (those differ
    between two runs of the same input; a replayed batch keeps them)."""

    def rows(name: str, *columns: str) -> list[tuple[Any, ...]]:
        return [
            tuple(row) for row in spark.table(f"{schema}.{name}").selectExpr(*columns).collect()
        ]

    def keyed(found: list[tuple[Any, ...]]) -> dict[tuple[Any, ...], int]:
        counts = {row[:-1]: row[-1] for row in found}
        assert len(counts) == len(found), "one row per key"
        return counts

    return {
        "ad_blacklist": sorted(
            rows(
                "ad_blacklist",
                "user_id",
                "batch_id",
                "ad_id",
                "click_date",
                "clicks",
                "threshold",
                "reason",
            )
        ),
        "ad_user_daily_clicks": keyed(
            rows("ad_user_daily_clicks", "click_date", "user_id", "ad_id", "clicks")
        ),
        "ad_daily_clicks": keyed(
            rows("ad_daily_clicks", "click_date", "province", "city", "ad_id", "clicks")
        ),
        "ad_province_top3": sorted(
            rows("ad_province_top3", "click_date", "province", "rank", "ad_id", "clicks")
        ),
        "ad_click_trend": keyed(rows("ad_click_trend", "unix_millis(minute)", "ad_id", "clicks")),
        "ad_clicks": Counter(
            rows(
                "ad_clicks",
                "timestamp_ms",
                "province",
                "city",
                "user_id",
                "ad_id",
                "batch_id",
                "click_date",
                "unix_millis(click_time)",
            )
        ),
        "ad_click_quarantine": Counter(
            rows("ad_click_quarantine", "raw_line", "reason", "batch_id", "source")
        ),
        "ad_stream_batches": sorted(
            rows(
                "ad_stream_batches",
                "batch_id",
                "input_lines",
                "clicks",
                "quarantined_lines",
                "dropped_clicks",
                "counted_clicks",
                "new_blacklisted",
                "blacklist_size",
                "threshold",
                "unix_millis(trend_start)",
            )
        ),
    }


# --- a crafted stream, computed by hand ----------------------------------------------------------

CRAFTED = [
    [  # batch 0: user 1 reaches the threshold (3) on ad 7 without exceeding it
        click(DAY, "10:00:00", "Jiangsu", "Nanjing", 1, 7),
        click(DAY, "10:00:01", "Jiangsu", "Nanjing", 1, 7),
        click(DAY, "10:00:02", "Jiangsu", "Nanjing", 1, 7),
        click(DAY, "10:00:30", "Zhejiang", "Hangzhou", 2, 7),
        click(DAY, "10:00:10", "Jiangsu", "Suzhou", 4, 9),
        click(DAY, "10:00:11", "Jiangsu", "Suzhou", 4, 10),
        "abc Jiangsu Nanjing 1 7",
        "",
    ],
    [  # batch 1: user 1 exceeds it (5 > 3): blacklisted from batch 2, all 5 clicks count
        click(DAY, "10:01:00", "Jiangsu", "Nanjing", 1, 7),
        click(DAY, "10:01:05", "Jiangsu", "Nanjing", 1, 7),
        click(DAY, "10:01:10", "Jiangsu", "Nanjing", 1, 8),
        click(PREVIOUS_DAY, "23:59:59", "Zhejiang", "Hangzhou", 2, 8),  # late, the day before
        f"{ms(DAY, '10:01:00')} Jiangsu Nanjing -5 7",
        "1 2 3",
        f"{ms(DAY, '10:01:00')} Jiangsu  Nanjing 1 7",
    ],
    [  # batch 2: user 1's clicks are dropped; user 3 exceeds the threshold within the batch
        click(DAY, "10:02:00", "Jiangsu", "Nanjing", 1, 7),
        click(DAY, "10:02:01", "Jiangsu", "Nanjing", 1, 7),
        click(DAY, "10:02:02", "Jiangsu", "Nanjing", 1, 7),
        click(DAY, "10:02:03", "Jiangsu", "Nanjing", 1, 7),
        click(DAY, "11:30:00", "Jiangsu", "Nanjing", 1, 9),  # dropped: does not move the trend
        *(click(DAY, f"10:02:3{i}", "Guangdong", "Shenzhen", 3, 7) for i in range(4)),
        click(DAY, "10:59:00", "Zhejiang", "Hangzhou", 2, 7),
        f"{ms(DAY, '10:03:00')} Guangdong Shenzhen 3 99999999999999999999",
    ],
]


def test_blacklist_flags_every_line_once(spark: Any) -> None:
    """The blacklist is joined in: a listed user's lines are flagged, no line is lost or
    doubled (lines without a user included), and an empty blacklist flags nothing."""
    lines = spark.createDataFrame(
        [(1, "a"), (2, "b"), (None, "c"), (1, "d"), (4, "e")], "user_id bigint, line string"
    )
    flagged = flag_blacklisted(lines, spark.createDataFrame([(1,), (3,), (4,)], "user_id bigint"))
    assert flagged.columns == ["user_id", "line", "blacklisted"]
    assert sorted((tuple(row) for row in flagged.collect()), key=lambda row: row[1]) == [
        (1, "a", True),
        (2, "b", False),
        (None, "c", False),
        (1, "d", True),
        (4, "e", True),
    ]
    unlisted = flag_blacklisted(lines, spark.createDataFrame([], "user_id bigint"))
    assert [row.blacklisted for row in unlisted.collect()] == [False] * 5


def test_local_frame_keeps_values_and_types(spark: Any) -> None:
    """Driver-held frames (the stream's batch stamp, blacklist and batch row, the page
    conversion model's rows) keep every value and type: an aware timestamp stays the same
    instant, None stays null, a date stays a date; a row of the wrong width is refused."""
    moment = datetime(2026, 11, 20, 23, 59, 59, 123456, tzinfo=timezone(timedelta(hours=8)))
    schema = "id bigint, at timestamp, day date, share double, name string"
    frame = local_frame(
        spark,
        [(1, moment, date(2026, 11, 20), 0.5, "a"), (2, None, None, None, None)],
        schema,
    )
    assert [(f.name, f.dataType.simpleString()) for f in frame.schema] == [
        tuple(column.split(" ")) for column in schema.split(", ")
    ]
    assert [
        tuple(row)
        for row in frame.selectExpr(
            "id", "unix_micros(at)", "cast(day as string)", "share", "name"
        ).collect()
    ] == [
        (
            1,
            (moment - EPOCH) // timedelta(microseconds=1),
            "2026-11-20",
            0.5,
            "a",
        ),
        (2, None, None, None, None),
    ]
    assert local_frame(spark, [], "id bigint").count() == 0
    with pytest.raises(ValueError):
        local_frame(spark, [(1, 2)], "id bigint")


def test_crafted_stream_gives_the_tables_computed_by_hand(spark: Any, module_dir: Path) -> None:
    folder = module_dir / "crafted"
    write_batches(folder, CRAFTED)
    metrics = run_stream(spark, options(folder, module_dir, "t_ad_stream_crafted", threshold=3))
    assert [batch.batch_id for batch in metrics] == [0, 1, 2]
    tables = read_tables(spark, "t_ad_stream_crafted")

    assert tables["ad_blacklist"] == [
        (1, 1, 7, DAY, 5, 3, "5 clicks on ad 7 on 2026-11-20 (threshold 3)"),
        (3, 2, 7, DAY, 4, 3, "4 clicks on ad 7 on 2026-11-20 (threshold 3)"),
    ]
    assert tables["ad_user_daily_clicks"] == {
        (DAY, 1, 7): 5,
        (DAY, 1, 8): 1,
        (DAY, 2, 7): 2,
        (PREVIOUS_DAY, 2, 8): 1,
        (DAY, 3, 7): 4,
        (DAY, 4, 9): 1,
        (DAY, 4, 10): 1,
    }
    assert tables["ad_daily_clicks"] == {
        (DAY, "Jiangsu", "Nanjing", 7): 5,
        (DAY, "Jiangsu", "Nanjing", 8): 1,
        (DAY, "Jiangsu", "Suzhou", 9): 1,
        (DAY, "Jiangsu", "Suzhou", 10): 1,
        (DAY, "Zhejiang", "Hangzhou", 7): 2,
        (PREVIOUS_DAY, "Zhejiang", "Hangzhou", 8): 1,
        (DAY, "Guangdong", "Shenzhen", 7): 4,
    }
    assert tables["ad_province_top3"] == sorted(
        [
            (DAY, "Jiangsu", 1, 7, 5),
            (DAY, "Jiangsu", 2, 8, 1),  # ads 8, 9, 10 tie at 1 click: the smaller ids win
            (DAY, "Jiangsu", 3, 9, 1),
            (DAY, "Zhejiang", 1, 7, 2),
            (DAY, "Guangdong", 1, 7, 4),
            (PREVIOUS_DAY, "Zhejiang", 1, 8, 1),
        ]
    )
    # newest counted click 10:59 (user 1's 11:30 was dropped): minutes 10:00-10:59
    assert tables["ad_click_trend"] == {
        (ms(DAY, "10:00:00"), 7): 4,
        (ms(DAY, "10:00:00"), 9): 1,
        (ms(DAY, "10:00:00"), 10): 1,
        (ms(DAY, "10:01:00"), 7): 2,
        (ms(DAY, "10:01:00"), 8): 1,
        (ms(DAY, "10:02:00"), 7): 4,
        (ms(DAY, "10:59:00"), 7): 1,
    }
    assert {
        (line, reason, batch)
        for (line, reason, batch, _), n in tables["ad_click_quarantine"].items()
    } == {
        ("abc Jiangsu Nanjing 1 7", "non_numeric_timestamp", 0),
        ("", "empty_line", 0),
        (f"{ms(DAY, '10:01:00')} Jiangsu Nanjing -5 7", "negative_user_id", 1),
        ("1 2 3", "wrong_field_count", 1),
        (f"{ms(DAY, '10:01:00')} Jiangsu  Nanjing 1 7", "extra_spaces", 1),
        (
            f"{ms(DAY, '10:03:00')} Guangdong Shenzhen 3 99999999999999999999",
            "ad_id_out_of_range",
            2,
        ),
    }
    assert all(source.endswith(".log") for (*_, source) in tables["ad_click_quarantine"])
    # (batch, lines, clicks, quarantined, dropped, counted, new blacklisted, blacklist, threshold,
    #  first trend minute)
    assert tables["ad_stream_batches"] == [
        (0, 8, 6, 2, 0, 6, 0, 0, 3, ms(DAY, "09:01:00")),
        (1, 7, 4, 3, 0, 4, 1, 1, 3, ms(DAY, "09:02:00")),
        (2, 11, 10, 1, 5, 5, 1, 2, 3, ms(DAY, "10:00:00")),
    ]
    # each batch's time (Spark's, kept in its offset log) stamps its rows unchanged
    times = dict(
        spark.sql(
            "select batch_id, unix_micros(batch_time) from t_ad_stream_crafted.ad_stream_batches"
        ).collect()
    )
    assert times == {
        m.batch_id: (m.batch_time - EPOCH) // timedelta(microseconds=1) for m in metrics
    }
    blacklisted = spark.sql(
        "select batch_id, unix_micros(blacklisted_at) from t_ad_stream_crafted.ad_blacklist"
    ).collect()
    assert sorted(tuple(row) for row in blacklisted) == [(1, times[1]), (2, times[2])]
    assert sum(tables["ad_clicks"].values()) == 20  # every click, the dropped ones included
    assert [(m.quarantined_lines, m.blacklist_size, m.dropped_clicks) for m in metrics] == [
        (2, 0, 0),
        (3, 1, 0),
        (1, 2, 5),
    ]


# --- a generated stream against the plain-Python replay ------------------------------------------

GENERATED = ProducerConfig(
    start_ms=ms(DAY, "23:58:50"),  # midnight falls inside the stream
    rate=50,
    file_seconds=20,
    chunk_seconds=100,
    seed=6,
    users=40,
    ads=6,
    heavy_share=0.1,
    malformed_share=0.03,
)


@pytest.fixture(scope="module")
def generated(module_dir: Path) -> list[list[str]]:
    """Five files of 1,000 lines from the producer; heavy clickers cross 100 mid-stream."""
    folder = module_dir / "generated"
    folder.mkdir()
    batches = []
    for log_file in chunk_files(GENERATED, 0):
        write_log_file(folder / log_file.name, log_file.lines)
        batches.append(log_file.lines.to_pylist())
    return batches


@pytest.fixture(scope="module")
def expected(generated: list[list[str]]) -> Replay:
    reference = replay(generated, threshold=100)
    # the data exercise what they should: blacklisting in several batches, drops, both days
    assert len({batch for batch, *_ in reference.blacklist.values()}) >= 2
    assert sum(batch.get("dropped_clicks", 0) for batch in reference.batches) > 100
    assert {day for day, *_ in reference.daily} == {DAY, date(2026, 11, 21)}
    assert len(reference.quarantine) >= 5
    return reference


@pytest.fixture(scope="module")
def clean_run(
    spark: Any, module_dir: Path, generated: list[list[str]], dbt_project: DbtProject
) -> dict[str, Any]:
    """The uninterrupted run, into the dbt test schema, on tables dbt's macro created."""
    created = dbt_project.invoke("run-operation", "create_ad_stream_tables")
    assert created.success, created.text()
    assert spark.catalog.tableExists(dbt_project.relation("ad_province_top3"))
    metrics = run_stream(spark, options(module_dir / "generated", module_dir, dbt_project.schema))
    assert len(metrics) == 5
    return read_tables(spark, dbt_project.schema)


def test_generated_stream_equals_the_python_replay(
    clean_run: dict[str, Any], expected: Replay
) -> None:
    assert clean_run["ad_blacklist"] == sorted(
        (user, batch, ad, day, clicks, 100, f"{clicks} clicks on ad {ad} on {day} (threshold 100)")
        for user, (batch, ad, day, clicks) in expected.blacklist.items()
    )
    assert clean_run["ad_user_daily_clicks"] == dict(expected.user_daily)
    assert clean_run["ad_daily_clicks"] == dict(expected.daily)
    assert clean_run["ad_province_top3"] == sorted(expected.province_top3())
    assert clean_run["ad_click_trend"] == expected.trend()
    quarantined = Counter()
    for (_, reason, _, _), count in clean_run["ad_click_quarantine"].items():
        quarantined[reason] += count
    assert quarantined == expected.quarantine
    newest = max(minute for minute, _ in expected.minutes)
    figures = [
        tuple(
            batch.get(name, 0)
            for name in (
                "input_lines",
                "clicks",
                "quarantined_lines",
                "dropped_clicks",
                "counted_clicks",
                "new_blacklisted",
                "blacklist_size",
            )
        )
        for batch in expected.batches
    ]
    assert [row[1:8] for row in clean_run["ad_stream_batches"]] == figures
    assert clean_run["ad_stream_batches"][-1][-1] == newest - 59 * 60_000
    assert sum(clean_run["ad_clicks"].values()) == sum(b["clicks"] for b in expected.batches)


class SimulatedCrash(RuntimeError):
    pass


def test_restarts_after_crashes_inside_batches_give_the_same_tables(
    spark: Any, module_dir: Path, clean_run: dict[str, Any]
) -> None:
    from pyspark.errors import StreamingQueryException

    crashes = [
        (1, "ad_daily_clicks_published"),
        (2, "published"),
        (3, "blacklist_written"),
        (4, "logged"),
    ]
    run = options(module_dir / "generated", module_dir, "t_ad_stream_restarted")

    def crash_at(batch_id: int, stage: str) -> None:
        if crashes and (batch_id, stage) == crashes[0]:
            crashes.pop(0)
            raise SimulatedCrash(f"killed in batch {batch_id} after {stage}")

    for _ in range(len(crashes)):
        with pytest.raises(StreamingQueryException, match="killed in batch"):
            run_stream(spark, run, stage_hook=crash_at, log=lambda _: None)
    processed = [m.batch_id for m in run_stream(spark, run, stage_hook=crash_at)]
    assert not crashes
    assert processed == [4]  # batch 4 was replayed after its last crash, then the input ended
    assert read_tables(spark, "t_ad_stream_restarted") == clean_run


def test_dbt_recomputation_reconciles_with_the_stream(
    spark: Any, module_dir: Path, dbt_project: DbtProject, clean_run: dict[str, Any]
) -> None:
    generate(
        GenerateConfig(
            raw_dir=dbt_project.raw_dir,
            ad_click_dir=module_dir / "unused_ad_clicks",
            days=1,
            users=20,
            sessions_per_day=5,
        ),
        progress=False,
    )
    build = dbt_project.build("--select", "source:ad_stream+")
    statuses = build.statuses()
    assert statuses["assert_ad_daily_clicks_reconcile"] == "pass"
    assert statuses["int_ad_daily_clicks_recomputed"] == "success"
    assert statuses["source_has_no_rows_ad_stream_ad_click_quarantine_"] == "warn"
    recomputed = spark.table(dbt_project.relation("int_ad_daily_clicks_recomputed")).collect()
    assert {
        (row.click_date, row.province, row.city, row.ad_id): row.clicks for row in recomputed
    } == clean_run["ad_daily_clicks"]
