"""Log-line parsing with Spark built-ins (SPEC 1.3), from files and from Kafka-shaped records.

Verdicts are compared with the plain-Python parser of tests/ad_stream_reference.py. The Kafka
path is fed a DataFrame with the Kafka source's columns, so no broker is needed.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest

from streaming.job import StreamOptions, StreamSetupError, read_lines
from streaming.parsing import QUARANTINE_REASONS, kafka_lines, parse_lines
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
]


def test_every_reason_is_exercised() -> None:
    assert {classify(line) for line in LINES} - {None} == set(QUARANTINE_REASONS)


def test_file_lines_parse_like_the_contract(spark: Any) -> None:
    frame = spark.createDataFrame([(line, "f.log") for line in LINES], "line string, source string")
    rows = parse_lines(frame).collect()
    assert [row.reason for row in rows] == [classify(line) for line in LINES]
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
    assert rows[1].click_date == date(1970, 1, 1)
    assert rows[2].click_date == date(9999, 12, 31) and rows[2].user_id == 2**63 - 1
    assert all(row.user_id is None for row in rows if row.reason is not None)


def test_kafka_records_parse_like_file_lines(spark: Any) -> None:
    records = spark.createDataFrame(
        [
            (
                None,
                f"{line}\n".encode() if index % 2 else line.encode(),
                "clicks",
                2,
                index,
                None,
                0,
            )
            for index, line in enumerate(LINES)
        ],
        "key binary, value binary, topic string, partition int, offset bigint, "
        "timestamp timestamp, timestampType int",
    )
    rows = parse_lines(kafka_lines(records)).collect()
    assert [row.line for row in rows] == LINES  # one trailing line break is not part of a line
    assert [row.reason for row in rows] == [classify(line) for line in LINES]
    assert [row.source for row in rows] == [f"clicks/2@{index}" for index in range(len(LINES))]


def test_kafka_lines_refuses_other_frames(spark: Any) -> None:
    with pytest.raises(ValueError, match="not a Kafka source"):
        kafka_lines(spark.createDataFrame([("x",)], "value string"))


def test_kafka_without_connector_says_which_package_to_add(spark: Any) -> None:
    options = StreamOptions(source="kafka", kafka_bootstrap_servers="h:9092", kafka_topic="t")
    with pytest.raises(StreamSetupError, match=r"spark-sql-kafka-0-10_2\.13:4\."):
        read_lines(spark, options)
