"""The streaming module's pure parts, without a JVM: producer, table definitions, progress line,
options, the warehouse lock test, and the `ecom stream` / `ecom produce-clicks` command lines."""

from __future__ import annotations

import fcntl
import subprocess
import sys
from collections import Counter
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

import pytest

from ecom_analytics import warehouse_lock
from ecom_analytics.cli import main
from ecom_analytics.services.network import free_ports
from streaming.batch import BatchMetrics
from streaming.checks import offset_source
from streaming.options import StreamOptions, duration_ms
from streaming.producer import ProducerConfig, chunk_files, log_files, produce
from streaming.tables import TABLES, load_tables, stream_schema
from tests.ad_stream_reference import classify, replay

START = int(datetime(2026, 11, 20, 10, tzinfo=timezone.utc).timestamp() * 1000)
CONFIG = ProducerConfig(start_ms=START, rate=200, file_seconds=5, chunk_seconds=60, seed=3)


def test_producer_files_are_deterministic_and_cut_by_event_time() -> None:
    files = chunk_files(CONFIG, 0)
    assert files == chunk_files(replace(CONFIG), 0)
    assert chunk_files(replace(CONFIG, seed=4), 0)[0].lines != files[0].lines
    assert len(files) == 12
    assert sum(len(f.lines) for f in files) == 12_000  # 60 s at 200 clicks/s
    for index, log_file in enumerate(files):
        assert log_file.start_ms == START + index * 5_000
        assert log_file.name == f"clicks-{log_file.start_ms}.log"
        stamps = [
            int(line.split(" ")[0]) for line in log_file.lines.to_pylist() if not classify(line)
        ]
        assert all(log_file.start_ms <= stamp < log_file.start_ms + 5_000 for stamp in stamps)
    following = chunk_files(CONFIG, 1)
    assert following[0].start_ms == START + 60_000
    assert [f.name for f in log_files(CONFIG, 14)] == [f.name for f in files + following[:2]]


def test_producer_makes_heavy_clickers_and_malformed_lines() -> None:
    batches = [f.lines.to_pylist() for f in chunk_files(CONFIG, 0)]
    lines = [line for batch in batches for line in batch]
    reasons = Counter(classify(line) for line in lines)
    assert sum(n for reason, n in reasons.items() if reason) == 120  # 1% of 12,000
    assert len(reasons) == 7  # six malformed kinds and the clicks
    result = replay(batches, threshold=100)
    assert len(result.blacklist) == 4  # 600 heavy clicks: 4 clickers of 150 each
    assert all(clicks > 100 for *_, clicks in result.blacklist.values())


def test_producer_writes_in_real_time_and_never_overwrites(tmp_path: Path) -> None:
    now = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    lines = produce(
        CONFIG, tmp_path, files=3, wait=True, log=lambda _: None, clock=lambda: now[0], sleep=sleep
    )
    assert slept == [5.0, 5.0, 5.0]
    written = sorted(tmp_path.iterdir())
    assert [path.name for path in written] == [f.name for f in chunk_files(CONFIG, 0)[:3]]
    assert sum(len(path.read_text().splitlines()) for path in written) == lines
    assert [p.stat().st_mtime_ns for p in written] == sorted(p.stat().st_mtime_ns for p in written)
    with pytest.raises(Exception, match="exists already"):
        produce(CONFIG, tmp_path, files=1, wait=False, log=lambda _: None)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"rate": 0}, "--rate"),
        ({"file_seconds": 120}, "--file-seconds"),
        ({"heavy_share": 0.6, "malformed_share": 0.5}, "below 1"),
    ],
)
def test_producer_rejects_bad_settings(change: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        replace(CONFIG, **change)


def test_table_definitions_come_from_the_dbt_sources_file() -> None:
    assert list(TABLES) == [
        "ad_clicks",
        "ad_click_quarantine",
        "ad_blacklist",
        "ad_user_daily_clicks",
        "ad_daily_clicks",
        "ad_province_top3",
        "ad_click_trend",
        "ad_stream_batches",
    ]
    assert load_tables() == TABLES
    assert TABLES["ad_daily_clicks"].ddl("ecom") == (
        "create table if not exists ecom.ad_daily_clicks (ad_id bigint, province string, "
        "city string, clicks bigint, updated_at timestamp, click_date date) using delta "
        "partitioned by (click_date) tblproperties ('delta.enableDeletionVectors' = 'false', "
        "'delta.autoOptimize.autoCompact' = 'true', "
        "'delta.logRetentionDuration' = 'interval 1 day', "
        "'delta.deletedFileRetentionDuration' = 'interval 1 day')"
    )
    assert TABLES["ad_click_trend"].partition_by is None
    spec = {
        "ad_blacklist": {"user_id", "blacklisted_at", "reason"},
        "ad_user_daily_clicks": {"click_date", "user_id", "ad_id", "clicks"},
        "ad_daily_clicks": {"click_date", "province", "city", "ad_id", "clicks"},
        "ad_province_top3": {"click_date", "province", "rank", "ad_id", "clicks"},
        "ad_click_trend": {"minute", "ad_id", "clicks"},
    }
    for name, columns in spec.items():
        assert columns <= set(TABLES[name].column_names), name


def test_stream_schema_follows_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ECOM_AD_STREAM_SCHEMA", raising=False)
    monkeypatch.delenv("ECOM_SCHEMA", raising=False)
    assert stream_schema() == "ecom"
    monkeypatch.setenv("ECOM_SCHEMA", "shop")
    assert stream_schema() == "shop"
    monkeypatch.setenv("ECOM_AD_STREAM_SCHEMA", "ads")
    assert stream_schema() == "ads"


def test_progress_line_names_every_figure() -> None:
    metrics = BatchMetrics(
        batch_id=7,
        input_lines=200_000,
        clicks=198_000,
        quarantined_lines=2_000,
        dropped_clicks=1_500,
        counted_clicks=196_500,
        new_blacklisted=2,
        blacklist_size=9,
        threshold=100,
        duration_seconds=4.0,
        trend_start=datetime(2026, 11, 20, 9, 1, tzinfo=timezone.utc),
        batch_time=datetime(2026, 11, 25, tzinfo=timezone.utc),
    )
    assert metrics.line() == (
        "ad-stream batch 7: 200,000 lines in 4.00 s (50,000 rows/s); 198,000 clicks, "
        "2,000 quarantined, 1,500 dropped (blacklisted), 196,500 counted; blacklist 9 (+2); "
        "trend from 2026-11-20 09:01 UTC"
    )


def test_durations_of_the_time_bounds() -> None:
    assert duration_ms("10 minutes") == 600_000
    assert duration_ms("90s") == 90_000
    assert duration_ms("1 hour") == duration_ms("1h") == 3_600_000
    assert duration_ms("14 days") == 14 * 86_400_000
    assert duration_ms("off") is None
    for text in ("ten minutes", "5 fortnights", "-1 day", ""):
        with pytest.raises(ValueError, match="expected a duration"):
            duration_ms(text)
    defaults = StreamOptions()
    assert (defaults.max_future_ms, defaults.max_age_ms) == (600_000, 14 * 86_400_000)


def test_a_warehouse_held_by_another_process_is_named_before_spark_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Derby's exclusive lock on metastore_db/dbex.lck, held by another process, is found (and
    left alone); a free or missing metastore is free."""
    from pyspark import SparkContext

    monkeypatch.setattr(SparkContext, "_active_spark_context", None)  # no JVM of our own
    assert warehouse_lock.holder(tmp_path) is None  # no metastore yet
    lock = tmp_path / "metastore_db" / "dbex.lck"
    lock.parent.mkdir()
    lock.write_bytes(b"")
    assert warehouse_lock.holder(tmp_path) is None
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import fcntl, sys; f = open(sys.argv[1], 'r+b'); fcntl.lockf(f, fcntl.LOCK_EX); "
            "print('locked', flush=True); sys.stdin.read()",
            str(lock),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "locked\n"
        assert warehouse_lock.holder(tmp_path) in (holder.pid, 0)
        with pytest.raises(warehouse_lock.WarehouseLockedError, match="another program holds"):
            warehouse_lock.check_free(tmp_path)
    finally:
        holder.communicate("")
    assert warehouse_lock.holder(tmp_path) is None
    with open(lock, "r+b") as handle:  # the test left no lock of its own behind
        fcntl.lockf(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)


CLOSED = free_ports(1)[0]
"""A loopback port where nothing listens."""


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["stream", "--source", "kafka", "--kafka-bootstrap-servers", f"127.0.0.1:{CLOSED}"],
            f"no Kafka broker answers at 127.0.0.1:{CLOSED} (127.0.0.1:{CLOSED}: Connection "
            "refused): start it (`ecom kafka start`",
        ),
        (["stream", "--source", "kafka", "--kafka-option", "acks=all"], "expected kafka.NAME="),
        (["stream", "--kafka-option", "kafka.acks=all"], "--kafka-option is for --source kafka"),
        (["stream", "--input", "/nonexistent/clicks"], "is not a folder"),
        (["stream", "--threshold", "0"], "expected a whole number"),
        (["stream", "--available-now", "--trigger-interval", "5 seconds"], "not allowed"),
        (["stream", "--max-future", "soon"], "expected a duration"),
        (["stream", "--max-age", "7 weeks"], "expected a duration"),
        (["produce-clicks", "--rate", "-5"], "--rate"),
        (["produce-clicks", "--kafka-topic", "t"], "--kafka-topic need --sink kafka"),
        (["produce-clicks", "--sink", "kafka,s3"], "expected files, kafka or files,kafka"),
        (["produce-clicks", "--start", "yesterday"], "expected 'now' or a date-time"),
    ],
)
def test_commands_report_bad_options_in_one_line(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    error = capsys.readouterr().err
    assert message in error
    assert "Traceback" not in error and len(error.strip().splitlines()) == 1


def test_the_source_of_a_checkpoint_is_told_by_its_offsets() -> None:
    assert offset_source('{"logOffset":4}') == "files"
    assert offset_source('{"ad_clicks":{"0":120,"1":118}}') == "kafka"
    assert offset_source('{"ad_clicks":{"0":"x"}}') is None
    assert offset_source("{}") is None
    assert offset_source("not json") is None
