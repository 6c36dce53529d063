"""SPEC 1.3 log lines to typed clicks or quarantine reasons, with Spark built-ins only.

`<timestamp_ms> <province> <city> <user_id> <ad_id>`, single spaces, epoch milliseconds (UTC).
A line gets the first reason of `QUARANTINE_REASONS` it meets, or none when it is a click: first
its shape (empty, too long, not UTF-8, spaces, fields), then each numeric field, then whether
its time is plausible next to its micro-batch's time (`TimeBounds`). Dates and minutes are
computed from the epoch value by arithmetic, so they are UTC whatever the Spark session's time
zone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from pyspark.sql import Column
from pyspark.sql import functions as F

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

NUMERIC_FIELDS = (("timestamp", 0), ("user_id", 3), ("ad_id", 4))
QUARANTINE_REASONS = (
    "empty_line",
    "line_too_long",
    "invalid_utf8",
    "extra_spaces",
    "wrong_field_count",
    "negative_timestamp",
    "non_numeric_timestamp",
    "timestamp_out_of_range",
    "negative_user_id",
    "non_numeric_user_id",
    "user_id_out_of_range",
    "negative_ad_id",
    "non_numeric_ad_id",
    "ad_id_out_of_range",
    "timestamp_in_future",
    "timestamp_too_old",
)
MAX_LINE_BYTES = 1_000
"""Longest line accepted, in bytes (a click is about 60); `raw_line` keeps this many characters
of a longer one."""
MAX_TIMESTAMP_MS = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z
MS_PER_MINUTE = 60_000
MS_PER_DAY = 86_400_000
KAFKA_COLUMNS = ("key", "value", "topic", "partition", "offset", "timestamp", "timestampType")


@dataclass(frozen=True)
class TimeBounds:
    """How far after (`max_future_ms`) and before (`max_age_ms`) its micro-batch's time a click
    may be stamped; None: no bound."""

    max_future_ms: int | None
    max_age_ms: int | None


NO_BOUNDS = TimeBounds(None, None)


def file_lines(raw: DataFrame) -> DataFrame:
    """`line`, `source` of a text source's rows (`value` plus the file metadata column); the
    bytes of a line are kept as they are (checked for UTF-8 by `parse_lines`)."""
    return raw.select(F.col("value").alias("line"), F.col("_metadata.file_path").alias("source"))


def kafka_lines(records: DataFrame) -> DataFrame:
    """`line`, `source` of Kafka records: the value's bytes as text, one line per record.

    A single trailing line break (`\\n` or `\\r\\n`) is not part of the line; it is cut from the
    bytes, so bytes that are not UTF-8 reach `parse_lines` unchanged. `source` is
    `topic/partition@offset`; a null value gives a null line.
    """
    missing = [column for column in KAFKA_COLUMNS if column not in records.columns]
    if missing:
        raise ValueError(f"not a Kafka source: columns {', '.join(missing)} are missing")
    value = F.col("value")
    size = F.octet_length(value)
    line = (
        F.when(F.endswith(value, F.lit(b"\r\n")), F.substring(value, 1, size - 2))
        .when(F.endswith(value, F.lit(b"\n")), F.substring(value, 1, size - 1))
        .otherwise(value)
    )
    return records.select(
        line.cast("string").alias("line"),
        F.format_string("%s/%d@%d", F.col("topic"), F.col("partition"), F.col("offset")).alias(
            "source"
        ),
    )


def _field_reason(field: Column, name: str, maximum: int | None) -> Column:
    """The reason a numeric field breaks the contract, or null."""
    value = field.try_cast("bigint")
    out_of_range = value.isNull() if maximum is None else value.isNull() | (value > maximum)
    return (
        F.when(field.rlike(r"^-[0-9]+$"), F.lit(f"negative_{name}"))
        .when(~field.rlike(r"^[0-9]+$"), F.lit(f"non_numeric_{name}"))
        .when(out_of_range, F.lit(f"{name}_out_of_range"))
    )


def _time_reason(timestamp_ms: Column, batch_ms: Column, bounds: TimeBounds) -> Column:
    """`timestamp_in_future` / `timestamp_too_old` next to the micro-batch's time, or null."""
    reasons = []
    if bounds.max_future_ms is not None:
        late = timestamp_ms > batch_ms + F.lit(bounds.max_future_ms)
        reasons.append(F.when(late, F.lit("timestamp_in_future")))
    if bounds.max_age_ms is not None:
        early = timestamp_ms < batch_ms - F.lit(bounds.max_age_ms)
        reasons.append(F.when(early, F.lit("timestamp_too_old")))
    return F.coalesce(*reasons) if reasons else F.lit(None).cast("string")


def quarantine_reason(line: Column, fields: Column, batch_ms: Column, bounds: TimeBounds) -> Column:
    """The first rule of SPEC 1.3 (and of `bounds`, next to the micro-batch's epoch milliseconds
    `batch_ms`) that `line` (split on single spaces: `fields`) breaks, or null for a click."""
    return F.coalesce(
        F.when(line.isNull() | (line == ""), F.lit("empty_line")),
        F.when(F.octet_length(line) > MAX_LINE_BYTES, F.lit("line_too_long")),
        F.when(~F.is_valid_utf8(line), F.lit("invalid_utf8")),
        F.when(F.array_contains(fields, ""), F.lit("extra_spaces")),
        F.when(F.size(fields) != 5, F.lit("wrong_field_count")),
        *(
            _field_reason(F.get(fields, index), name, MAX_TIMESTAMP_MS if index == 0 else None)
            for name, index in NUMERIC_FIELDS
        ),
        _time_reason(F.get(fields, 0).try_cast("bigint"), batch_ms, bounds),
    )


def quarantined_text(line: Column) -> Column:
    """A malformed line as `ad_click_quarantine.raw_line` keeps it: bytes that are not UTF-8
    replaced by U+FFFD, cut to MAX_LINE_BYTES characters."""
    return F.left(F.make_valid_utf8(line), F.lit(MAX_LINE_BYTES))


def parse_lines(lines: DataFrame, bounds: TimeBounds = NO_BOUNDS) -> DataFrame:
    """Every line with its `reason` (null for a click) and, for clicks, the typed fields.

    Input columns: `line`, `source`, `batch_time` (the micro-batch's time, which `bounds` are
    measured from) and whatever else, passed through. Added: `reason`, `timestamp_ms`,
    `province`, `city`, `user_id`, `ad_id`, `click_time`, `click_date`, `minute`.
    """
    fields = F.col("_fields")
    click = F.col("reason").isNull()
    timestamp_ms = F.col("timestamp_ms")
    batch_ms = F.unix_millis(F.col("batch_time"))
    return (
        lines.withColumn("_fields", F.split(F.col("line"), " ", -1))
        .withColumn("reason", quarantine_reason(F.col("line"), fields, batch_ms, bounds))
        .withColumn("timestamp_ms", F.when(click, F.get(fields, 0).try_cast("bigint")))
        .withColumn("province", F.when(click, F.get(fields, 1)))
        .withColumn("city", F.when(click, F.get(fields, 2)))
        .withColumn("user_id", F.when(click, F.get(fields, 3).try_cast("bigint")))
        .withColumn("ad_id", F.when(click, F.get(fields, 4).try_cast("bigint")))
        .drop("_fields")
        .withColumn("click_time", F.timestamp_millis(timestamp_ms))
        .withColumn(
            "click_date", F.date_from_unix_date(F.floor(timestamp_ms / MS_PER_DAY).cast("int"))
        )
        .withColumn(
            "minute",
            F.timestamp_millis(timestamp_ms - F.pmod(timestamp_ms, F.lit(MS_PER_MINUTE))),
        )
    )
