"""Log-line parsing with Spark built-ins (SPEC 1.3), from files and from Kafka-shaped records.

Verdicts are compared with the plain-Python parser of tests/ad_stream_reference.py. The Kafka
path is fed a DataFrame with the Kafka source's columns, so no broker is needed.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest
from pyspark.sql import functions as F

from streaming.options import StreamOptions
from streaming.parsing import (
    MAX_LINE_BYTES,
    QUARANTINE_REASONS,
    TimeBounds,
    kafka_lines,
    parse_lines,
    quarantined_text,
)
from streaming.source import read_lines
from tests.ad_stream_reference import classify

pytestmark = [pytest.mark.spark]

LINES = [
    "1795132800000 Jiangsu Nanjing 17 3",
    "0 Hubei Wuhan 0 0",
    "253402300799999 Hubei Wuhan 9223372036854775807 1",
    "253402300800000 Hubei Wuhan 1 1",
    "",
    " 1795132800000 Jiangsu Nanjing 17 3",
    "1795132800000 Jiangsu Nanjing 17 3 ",
    "1795132800000 Jiangsu  Nanjing 17 3",
    "1795132800000 Jiangsu 17 3",
    "1795132800000 Jiangsu Nanjing 17 3 app",
    "-1795132800000 Jiangsu Nanjing 17 3",
    "1795132800000ms Jiangsu Nanjing 17 3",
    "null Jiangsu Nanjing 17 3",
    "99999999999999999999 Jiangsu Nanjing 17 3",
    "1795132800000 Jiangsu Nanjing -17 3",
    "1795132800000 Jiangsu Nanjing user17 3",
    "1795132800000 Jiangsu Nanjing 9223372036854775808 3",
    "1795132800000 Jiangsu Nanjing 17 -3",
    "1795132800000 Jiangsu Nanjing 17 ad3",
    "1795132800000 Jiangsu Nanjing 17 1.5",
    "1795132800000 Jiangsu Nanjing 17 9223372036854775808",
    "1795132800000\tJiangsu Nanjing 17 3",
    "1795132800000 Jiangsu Nanjing 17 3 " + "x" * 2_000,
    "1795132800000 \xff\xfe Nanjing 17 3".encode("latin-1"),  # a province that is not UTF-8
    "32503680000000 Jiangsu Nanjing 17 3",  # 3000-01-01
    "1795000000000 Jiangsu Nanjing 17 3",  # 36 hours before the batch
]
BATCH_MS = 1795132800000 + 60_000  # the micro-batch's time: 2026-11-20T00:01Z
BOUNDS = TimeBounds(max_future_ms=600_000, max_age_ms=86_400_000)


def verdicts(lines: list[str | bytes]) -> list[str | None]:
    return [classify(line, BATCH_MS, BOUNDS.max_future_ms, BOUNDS.max_age_ms) for line in lines]


def line_frame(spark: Any, lines: list[str | bytes]) -> Any:
    """Lines as the file source gives them: the bytes as they are, as text."""
    raw = [line if isinstance(line, bytes) else line.encode() for line in lines]
    return spark.createDataFrame(
        [(value, "f.log") for value in raw], "value binary, source string"
    ).select(
        F.col("value").cast("string").alias("line"),
        "source",
        F.timestamp_millis(F.lit(BATCH_MS)).alias("batch_time"),
    )


def test_every_reason_is_exercised() -> None:
    assert set(verdicts(LINES)) - {None} == set(QUARANTINE_REASONS)


def test_file_lines_parse_like_the_contract(spark: Any) -> None:
    rows = parse_lines(line_frame(spark, LINES), BOUNDS).collect()
    assert [row.reason for row in rows] == verdicts(LINES)
    first = rows[0]
    assert (first.timestamp_ms, first.province, first.city, first.user_id, first.ad_id) == (
        1795132800000,
        "Jiangsu",
        "Nanjing",
        17,
        3,
    )
    assert first.click_date == date(2026, 11, 20)
    assert first.minute == datetime(2026, 11, 20, 0, 0)
    assert all(row.user_id is None for row in rows if row.reason is not None)
    # without bounds, times from 1970 to 9999 are clicks
    unbounded = parse_lines(line_frame(spark, [*LINES[1:3], *LINES[-2:]])).collect()
    assert [row.reason for row in unbounded] == [None] * 4
    assert [row.click_date for row in unbounded] == [
        date(1970, 1, 1),
        date(9999, 12, 31),
        date(3000, 1, 1),
        date(2026, 11, 18),
    ]
    assert unbounded[1].user_id == 2**63 - 1


def test_quarantined_lines_keep_valid_text_of_bounded_length(spark: Any) -> None:
    """A megabyte line keeps its first MAX_LINE_BYTES characters; bytes that are not UTF-8
    become U+FFFD, so every reader can read `raw_line`."""
    lines = ["9" * 1_000_000, b"1795132800000 \xff\xfe Nanjing 17 3"]
    frame = parse_lines(line_frame(spark, lines), BOUNDS)
    rows = frame.select("reason", quarantined_text(F.col("line")).alias("raw")).collect()
    assert [row.reason for row in rows] == ["line_too_long", "invalid_utf8"]
    assert rows[0].raw == "9" * MAX_LINE_BYTES
    assert rows[1].raw == "1795132800000 \ufffd\ufffd Nanjing 17 3"


def test_kafka_records_parse_like_file_lines(spark: Any) -> None:
    values = [line if isinstance(line, bytes) else line.encode() for line in LINES]
    endings = (b"", b"\n", b"\r\n")
    records = spark.createDataFrame(
        [
            (None, value + endings[index % 3], "clicks", 2, index, None, 0)
            for index, value in enumerate(values)
        ]
        + [(None, None, "clicks", 2, len(values), None, 0)],  # a record without a value
        "key binary, value binary, topic string, partition int, offset bigint, "
        "timestamp timestamp, timestampType int",
    )
    lines = kafka_lines(records).withColumn("batch_time", F.timestamp_millis(F.lit(BATCH_MS)))
    rows = (
        parse_lines(lines, BOUNDS)
        .select("reason", "source", F.hex(F.col("line").cast("binary")).alias("bytes"))
        .collect()
    )
    # one trailing line break is not part of a line; bytes that are not UTF-8 arrive as they are
    assert [row.bytes for row in rows] == [value.hex().upper() for value in values] + [None]
    assert [row.reason for row in rows] == [*verdicts(LINES), "empty_line"]
    assert [row.source for row in rows] == [f"clicks/2@{index}" for index in range(len(rows))]


def test_kafka_lines_refuses_other_frames(spark: Any) -> None:
    with pytest.raises(ValueError, match="not a Kafka source"):
        kafka_lines(spark.createDataFrame([("x",)], "value string"))


def test_the_kafka_source_is_on_the_embedded_classpath(spark: Any) -> None:
    """No download at start: the connector comes with the warehouse's Spark (`make setup`)."""
    options = StreamOptions(source="kafka", kafka_bootstrap_servers="h:9092", kafka_topic="t")
    lines = read_lines(spark, options)
    assert lines.isStreaming and lines.columns == ["line", "source", "batch_time"]
