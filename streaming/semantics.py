"""SPEC 4 for one micro-batch, as DataFrame transformations (no I/O here).

The batch (streaming/batch.py) calls these on its parsed lines and on the tables' state and
writes the results (streaming/writes.py); given the same batch and the same earlier state they
give the same rows, which is what makes a replayed batch harmless.

What changes from batch to batch (its id, time, trend window) comes in `stamp`, a one-row
DataFrame joined in, never as a literal: Spark writes a literal's value into the code it
generates, so each batch would compile its queries anew (and the JVM would compile that code
again), which cost more CPU than the counting itself (docs/performance.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from pyspark.sql import Window
from pyspark.sql import functions as F

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

USER_KEYS = ("click_date", "user_id", "ad_id")
CITY_KEYS = ("click_date", "province", "city", "ad_id")
TREND_KEYS = ("minute", "ad_id")
TOP_N = 3
TREND_MINUTES = 60


def counted_per(counted: DataFrame, keys: Sequence[str]) -> DataFrame:
    """The batch's counted clicks (blacklisted users' already dropped) per `keys` (`clicks`)."""
    return counted.groupBy(*keys).agg(F.count(F.lit(1)).alias("clicks"))


def count_changes(counted: DataFrame, keys: Sequence[str], stamp: DataFrame) -> DataFrame:
    """What the batch adds to a count table: its counted clicks per `keys` (`clicks`), with
    `updated_at` the batch's time."""
    return stamped(counted_per(counted, keys), stamp).select(
        *keys, "clicks", F.col("batch_time").alias("updated_at")
    )


def flag_blacklisted(lines: DataFrame, blacklist: DataFrame) -> DataFrame:
    """`lines` with `blacklisted`: true for a user on `blacklist` (one `user_id` per row), else
    false (also for lines without a user).

    The blacklist is joined in (broadcast), not written into the queries as a list of literals
    (`isin`), which grew with every user blacklisted: with 500-2,000 users on it, batches took
    1.5-3 s longer (docs/performance.md, "The stream's batches").
    """
    flags = F.broadcast(blacklist.select("user_id", F.lit(True).alias("blacklisted")))
    return (
        lines.join(flags, "user_id", "left")
        .withColumn("blacklisted", F.coalesce(F.col("blacklisted"), F.lit(False)))
        .select(*lines.columns, "blacklisted")
    )


def stamped(frame: DataFrame, stamp: DataFrame) -> DataFrame:
    """`frame` with the batch's values of `stamp` (one row) as columns."""
    return frame.crossJoin(F.broadcast(stamp))


def counts_after(before: DataFrame, deltas: DataFrame, keys: Sequence[str]) -> DataFrame:
    """The counts per `keys` after the batch, for the keys the batch changed: `deltas` (keys,
    `clicks`) plus the count each had before it (`before`: keys, `clicks`; any rows, only the
    matching ones count)."""
    previous = before.select(*keys, F.col("clicks").alias("_before"))
    return deltas.join(previous, list(keys), "left").select(
        *keys, (F.col("clicks") + F.coalesce(F.col("_before"), F.lit(0))).alias("clicks")
    )


def new_blacklist_entries(changed: DataFrame, threshold: int, stamp: DataFrame) -> DataFrame:
    """Users whose count on one ad in one day, changed by this batch (`changed`: the counts
    after the batch of the keys it changed, as `counts_after` returns them), now exceeds
    `threshold`.

    Only counts the batch changed can cross (a user's older counts were at most the threshold,
    or the user would be on the blacklist already), so blacklisted users never reappear. One row
    per user: the largest such count (ties: earlier day, then smaller ad).
    """
    crossed = changed.where(F.col("clicks") > threshold)
    first = Window.partitionBy("user_id").orderBy(
        F.col("clicks").desc(), F.col("click_date"), F.col("ad_id")
    )
    return stamped(
        crossed.withColumn("pick", F.row_number().over(first)).where("pick = 1"), stamp
    ).select(
        "user_id",
        "ad_id",
        F.format_string(
            "%d clicks on ad %d on %s (threshold %d)",
            F.col("clicks"),
            F.col("ad_id"),
            F.col("click_date").cast("string"),
            F.lit(threshold),
        ).alias("reason"),
        "clicks",
        F.lit(threshold).cast("bigint").alias("threshold"),
        "batch_id",
        "click_date",
        F.col("batch_time").alias("blacklisted_at"),
    )


def province_top3(daily: DataFrame, stamp: DataFrame) -> DataFrame:
    """Per day and province the `TOP_N` ads with most clicks (ties: smaller `ad_id` first)."""
    per_province = daily.groupBy("click_date", "province", "ad_id").agg(
        F.sum("clicks").alias("clicks")
    )
    order = Window.partitionBy("click_date", "province").orderBy(
        F.col("clicks").desc(), F.col("ad_id")
    )
    ranked = per_province.withColumn("rank", F.row_number().over(order)).where(
        F.col("rank") <= TOP_N
    )
    return stamped(ranked, stamp).select(
        "ad_id", "province", "rank", "clicks", F.col("batch_time").alias("updated_at"), "click_date"
    )


def trend_deltas(deltas: DataFrame, stamp: DataFrame) -> DataFrame:
    """The batch's clicks per minute and ad (`deltas`) from the stamp's `trend_start` on, with
    `updated_at`: what the batch adds to `ad_click_trend`.

    Minutes before `trend_start` leave the table; as it only moves forward, every minute still
    in the window has all its counted clicks (the window's rows are exact, not approximations).
    """
    return (
        stamped(deltas, stamp)
        .where(F.col("minute") >= F.col("trend_start"))
        .select(*TREND_KEYS, "clicks", F.col("batch_time").alias("updated_at"))
    )
