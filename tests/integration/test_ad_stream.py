"""The streaming job (SPEC 4) on real Spark, one log file per micro-batch.

- a crafted stream crossing the threshold mid-stream, against tables computed by hand;
- bad input (clicks from the year 3000 or weeks back, text that is not UTF-8, a megabyte line)
  quarantined, the trend left alone;
- a generated stream (the producer: heavy clickers, malformed lines, midnight inside the
  stream) against the plain-Python replay of SPEC 4 in tests/ad_stream_reference.py;
- Delta: one commit per table and batch, carrying the batch's transaction id, and a replayed
  batch changes nothing;
- the same stream run by `ecom stream`, killed (SIGKILL) twice inside batches and restarted,
  against the replay and the uninterrupted run;
- dbt: the tables the `on-run-start` macro creates are the ones the job writes, and the batch
  recomputation reconciles with the stream.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from pyspark.sql import functions as F

from ecom_analytics.generator.config import GenerateConfig
from ecom_analytics.generator.output import write_log_file
from ecom_analytics.generator.pipeline import generate
from python_udfs.frames import local_frame
from streaming.batch import AdStreamBatch
from streaming.checks import checkpoint_id
from streaming.job import run_stream
from streaming.options import StreamOptions
from streaming.producer import ProducerConfig, chunk_files
from streaming.semantics import flag_blacklisted
from streaming.tables import TABLES, table_location
from tests.ad_stream_reference import Replay, replay
from tests.ad_stream_tables import (
    assert_equals_replay,
    delta_commits,
    read_tables,
    run_killed_twice,
)
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
        max_age_ms=None,  # the data's fixed days are weeks old by now
    )


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


# --- bad input ---------------------------------------------------------------------------------


def test_implausible_times_bad_text_and_huge_lines_are_quarantined(
    spark: Any, module_dir: Path
) -> None:
    """One click stamped in the year 3000 and one from weeks back (the default bounds of
    `ecom stream`, measured from the batch's time), a province that is not UTF-8, a megabyte
    line: all quarantined with their reason, the trend and the counts follow the real clicks."""
    now_ms = int(time.time() * 1000)
    minute = now_ms - 5 * 60_000 - now_ms % 60_000
    day = date(1970, 1, 1) + timedelta(days=minute // 86_400_000)
    lines = [
        *(f"{minute + second * 1000} Jiangsu Nanjing 1 7".encode() for second in range(3)),
        b"32503680000000 Jiangsu Nanjing 2 7",  # 3000-01-01
        f"{now_ms - 20 * 86_400_000} Jiangsu Nanjing 3 7".encode(),
        f"{minute} ".encode() + b"\xff\xfe Nanjing 4 7",
        b"9" * 1_000_000,
    ]
    folder = module_dir / "bad_input"
    folder.mkdir()
    (folder / "clicks.log").write_bytes(b"\n".join(lines) + b"\n")
    schema = "t_ad_stream_bad_input"
    run = replace(options(folder, module_dir, schema), max_age_ms=StreamOptions().max_age_ms)
    (metrics,) = run_stream(spark, run, log=lambda _: None)
    assert (metrics.clicks, metrics.quarantined_lines, metrics.counted_clicks) == (3, 4, 3)
    tables = read_tables(spark, schema)
    assert {(reason, batch) for (_, reason, batch, _) in tables["ad_click_quarantine"]} == {
        ("timestamp_in_future", 0),
        ("timestamp_too_old", 0),
        ("invalid_utf8", 0),
        ("line_too_long", 0),
    }
    raw = dict(
        spark.table(f"{schema}.ad_click_quarantine").selectExpr("reason", "raw_line").collect()
    )
    assert raw["line_too_long"] == "9" * 1_000
    assert raw["invalid_utf8"] == f"{minute} \ufffd\ufffd Nanjing 4 7"
    assert raw["timestamp_in_future"] == "32503680000000 Jiangsu Nanjing 2 7"
    assert tables["ad_click_trend"] == {(minute, 7): 3}
    assert tables["ad_daily_clicks"] == {(day, "Jiangsu", "Nanjing", 7): 3}
    assert tables["ad_stream_batches"][0][-1] == minute - 59 * 60_000


def test_a_second_program_on_the_warehouse_stops_at_once_with_one_line(
    spark: Any, module_dir: Path
) -> None:
    """This test session's JVM holds the warehouse's Derby metastore: `ecom stream` on the same
    warehouse says so in one line and exits non-zero, before starting Spark."""
    assert spark.sql("show databases").count() >= 1  # the metastore is open in this JVM
    folder = module_dir / "second_program"
    folder.mkdir()
    started = time.monotonic()
    result = subprocess.run(
        [str(Path(sys.executable).parent / "ecom"), "stream", "--input", str(folder)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert "holds the embedded metastore" in line and "(pid " in line
    assert "ecom metastore start" in line  # how to run several programs at once
    assert time.monotonic() - started < 60  # no JVM was started


def stamped(line: str) -> datetime | None:
    """The `HH:MM:SS` stamp that starts one of dbt's output lines (after its colour codes)."""
    found = re.match(r"(?:\x1b\[[0-9;]*m)*(\d\d:\d\d:\d\d) ", line)
    return datetime.strptime(found[1], "%H:%M:%S") if found else None


def seconds_between(first: str, second: str) -> float:
    """Seconds between the stamps of two of dbt's output lines."""
    start, end = stamped(first), stamped(second)
    assert start is not None and end is not None, (first, second)
    return (end - start).total_seconds() % 86400


def test_dbt_on_a_held_warehouse_stops_at_once_with_one_line(
    spark: Any, dbt_project: DbtProject
) -> None:
    """The same for `dbt build` on the embedded target: one line before its JVM starts."""
    assert spark.sql("show databases").count() >= 1
    result = subprocess.run(
        [
            str(Path(sys.executable).parent / "dbt"),
            "build",
            "--project-dir",
            str(dbt_project.project_dir),
            "--profiles-dir",
            str(dbt_project.profiles_dir),
            "--target-path",
            str(dbt_project.target_path.with_name("target-held")),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**os.environ, "ECOM_RAW_DIR": str(dbt_project.raw_dir)},
    )
    assert result.returncode != 0
    said = [line for line in result.stdout.splitlines() if "holds the embedded metastore" in line]
    assert len(said) == 1 and "(pid " in said[0], result.stdout[-3000:]
    assert "ecom metastore start" in said[0]
    assert "\tat " not in result.stdout + result.stderr and "XSDB6" not in result.stdout
    # no JVM was started and no wait for Derby: the error comes right after dbt's parse, whose
    # own time depends on the machine's load
    lines = result.stdout.splitlines()
    parsed = next(line for line in lines if re.search(r"\bFound \d+ ", line))
    error = next(line for line in reversed(lines[: lines.index(said[0])]) if stamped(line))
    assert seconds_between(parsed, error) < 15, result.stdout[-3000:]


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
    assert_equals_replay(clean_run, expected)


def test_each_table_gets_one_commit_per_batch_with_its_transaction_id(
    spark: Any, module_dir: Path, dbt_project: DbtProject, clean_run: dict[str, Any]
) -> None:
    """Delta's history of every table: the batches' commits, one per table and batch at most,
    each with the stream's app id and the batch id as transaction version, the batch named in
    `userMetadata`; any other commit after the table's creation only compacts files."""
    stream_id = checkpoint_id(spark, options(module_dir, module_dir, dbt_project.schema).checkpoint)
    assert stream_id
    written = {}
    for name in TABLES:
        location = table_location(spark, dbt_project.schema, name)
        commits = delta_commits(location)
        assert commits[0]["operation"] == "CREATE TABLE" and commits[0]["txn"] is None
        batch_commits = [commit for commit in commits if commit["txn"]]
        assert {commit["txn"][0] for commit in batch_commits} == {stream_id}, name
        versions = [commit["txn"][1] for commit in batch_commits]
        assert versions == sorted(set(versions)), f"{name}: one commit per batch, in order"
        assert all(
            json.loads(commit["user_metadata"]) == {"stream_id": stream_id, "batch_id": version}
            for commit, version in zip(batch_commits, versions, strict=True)
        )
        others = [commit for commit in commits[1:] if not commit["txn"]]
        assert all(
            commit["operation"] == "OPTIMIZE" and not commit["data_change"] for commit in others
        ), (name, others)
        written[name] = versions
        history = spark.sql(f"describe history {dbt_project.schema}.{name}").collect()
        assert len(history) == len(commits)
    # every batch wrote its appends, counts and row; the blacklist only when users crossed
    assert written["ad_stream_batches"] == written["ad_clicks"] == [0, 1, 2, 3, 4]
    assert written["ad_daily_clicks"] == written["ad_user_daily_clicks"] == [0, 1, 2, 3, 4]
    assert set(written["ad_blacklist"]) == {batch for batch, *_ in clean_run_blacklist(clean_run)}


def clean_run_blacklist(tables: dict[str, Any]) -> list[tuple[int, int]]:
    """(batch, user) of the blacklist entries of a run's tables."""
    return [(batch, user) for user, batch, *_ in tables["ad_blacklist"]]


def test_a_replayed_batch_changes_nothing(
    spark: Any,
    module_dir: Path,
    dbt_project: DbtProject,
    generated: list[list[str]],
    clean_run: dict[str, Any],
) -> None:
    """Batches 3 and 4 run again with their input and time, as Spark replays a batch after a
    crash: every write is skipped (no new commit anywhere), the tables stay as they were, and
    the batch reports the same figures (its blacklist entries read back)."""
    run = options(module_dir / "generated", module_dir, dbt_project.schema)
    locations = {name: table_location(spark, run.schema, name) for name in TABLES}
    before = {name: len(delta_commits(location)) for name, location in locations.items()}
    logged = {row.batch_id: row for row in spark.table(f"{run.schema}.ad_stream_batches").collect()}
    for batch_id in (3, 4):
        job = AdStreamBatch(run, locations, log=lambda _: None)
        batch_time = logged[batch_id].batch_time
        lines = spark.createDataFrame(
            [(line, f"replayed-{batch_id}.log") for line in generated[batch_id]],
            "line string, source string",
        ).withColumn("batch_time", F.lit(batch_time))
        job(lines, batch_id)
        (metrics,) = job.metrics
        assert (metrics.counted_clicks, metrics.new_blacklisted, metrics.blacklist_size) == (
            logged[batch_id].counted_clicks,
            logged[batch_id].new_blacklisted,
            logged[batch_id].blacklist_size,
        )
    assert {name: len(delta_commits(location)) for name, location in locations.items()} == before
    assert read_tables(spark, run.schema) == clean_run


def test_killed_twice_inside_batches_and_restarted_nothing_is_lost_or_doubled(
    spark: Any,
    module_dir: Path,
    expected: Replay,
    clean_run: dict[str, Any],
) -> None:
    """`ecom stream` in a warehouse of its own, killed with SIGKILL (the process and its JVM)
    first right after a batch wrote its blacklist entries and before its per-user counts,
    then after a batch's per-user counts and before its row in the batch log; run again each
    time. The tables equal the replay of SPEC 4 and the uninterrupted run."""
    warehouse = module_dir / "killed"
    schema = "t_ad_stream_killed"
    tables_dir = warehouse / "warehouse" / f"{schema}.db"
    command = [
        str(Path(sys.executable).parent / "ecom"),
        "stream",
        "--input",
        str(module_dir / "generated"),
        "--checkpoint",
        str(warehouse / "checkpoint"),
        "--schema",
        schema,
        "--available-now",
        "--max-files-per-trigger",
        "1",
        "--max-age",
        "off",
    ]
    environment = {**os.environ, "ECOM_WAREHOUSE_DIR": str(warehouse)}
    finished = run_killed_twice(command, environment, tables_dir)
    assert "ad-stream batch 4:" in finished.stdout

    killed = read_tables(
        spark, schema, lambda name: spark.read.format("delta").load(str(tables_dir / name))
    )
    assert_equals_replay(killed, expected)
    assert killed == clean_run
    for name in TABLES:  # the replays committed nothing twice
        versions = [c["txn"][1] for c in delta_commits(str(tables_dir / name)) if c["txn"]]
        assert versions == sorted(set(versions)), name


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
