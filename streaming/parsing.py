"""SPEC 1.3 log lines to typed clicks or quarantine reasons, with Spark built-ins only.

`<timestamp_ms> <province> <city> <user_id> <ad_id>`, single spaces, epoch milliseconds (UTC).
A line gets the first reason of `QUARANTINE_REASONS` it meets, or none when it is a click. Dates
and minutes are computed from the epoch value by arithmetic, so they are UTC whatever the Spark
session's time zone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pyspark.sql import Column
from pyspark.sql import functions as F

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

NUMERIC_FIELDS = (("timestamp", 0), ("user_id", 3), ("ad_id", 4))
QUARANTINE_REASONS = (
    "empty_line",
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
)
MAX_TIMESTAMP_MS = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z
MS_PER_MINUTE = 60_000
MS_PER_DAY = 86_400_000
KAFKA_COLUMNS = ("key", "value", "topic", "partition", "offset", "timestamp", "timestampType")


def file_lines(raw: DataFrame) -> DataFrame:
    """`line`, `source` of a text source's rows (`value` plus the file metadata column)."""
    return raw.select(F.col("value").alias("line"), F.col("_metadata.file_path").alias("source"))


def kafka_lines(records: DataFrame) -> DataFrame:
    """`line`, `source` of Kafka records: the value as UTF-8 text, one line per record.

    A single trailing line break is not part of the line; `source` is `topic/partition@offset`.
    """
    missing = [column for column in KAFKA_COLUMNS if column not in records.columns]
    if missing:
        raise ValueError(f"not a Kafka source: columns {', '.join(missing)} are missing")
    return records.select(
        F.regexp_replace(F.col("value").cast("string"), r"\r?\n$", "").alias("line"),
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


def quarantine_reason(line: Column, fields: Column) -> Column:
    """The first rule of SPEC 1.3 that `line` (split on single spaces: `fields`) breaks, or null
    for a well-formed line."""
    return F.coalesce(
        F.when(line == "", F.lit("empty_line")),
        F.when(F.array_contains(fields, ""), F.lit("extra_spaces")),
        F.when(F.size(fields) != 5, F.lit("wrong_field_count")),
        *(
            _field_reason(F.get(fields, index), name, MAX_TIMESTAMP_MS if index == 0 else None)
            for name, index in NUMERIC_FIELDS
        ),
    )


def parse_lines(lines: DataFrame) -> DataFrame:
    """Every line with its `reason` (null for a click) and, for clicks, the typed fields.

    Input columns: `line`, `source` (and whatever else, passed through). Added: `reason`,
    `timestamp_ms`, `province`, `city`, `user_id`, `ad_id`, `click_time`, `click_date`, `minute`.
    """
    fields = F.col("_fields")
    click = F.col("reason").isNull()
    timestamp_ms = F.col("timestamp_ms")
    return (
        lines.withColumn("_fields", F.split(F.col("line"), " ", -1))
        .withColumn("reason", quarantine_reason(F.col("line"), fields))
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
