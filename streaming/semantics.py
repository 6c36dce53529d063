"""SPEC 4 for one micro-batch, as DataFrame transformations (no I/O here).

The job (streaming/job.py) reads the state as it stood before the batch, calls these, and writes
the results; given the same batch and the same earlier state they give the same tables, which is
what makes a replayed batch harmless.

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


def cumulate(
    previous: DataFrame | None,
    deltas: DataFrame,
    keys: Sequence[str],
    stamp: DataFrame,
) -> DataFrame:
    """Counts per `keys` after the batch: `previous` (keys, clicks, updated_at) plus `deltas`.

    `updated_at` becomes the stamp's `batch_time` where the batch added clicks and stays as it
    was elsewhere; `changed` tells which.
    """
    added = stamped(deltas, stamp).select(
        *keys, "clicks", F.col("batch_time").alias("updated_at"), F.lit(True).alias("changed")
    )
    if previous is not None:
        added = previous.select(
            *keys, "clicks", "updated_at", F.lit(False).alias("changed")
        ).unionByName(added)
    return added.groupBy(*keys).agg(
        F.sum("clicks").alias("clicks"),
        F.coalesce(F.max(F.when(F.col("changed"), F.col("updated_at"))), F.max("updated_at")).alias(
            "updated_at"
        ),
        F.max("changed").alias("changed"),
    )


def new_blacklist_entries(user_counts: DataFrame, threshold: int, stamp: DataFrame) -> DataFrame:
    """Users whose count on one ad in one day, changed by this batch (`user_counts` as
    `cumulate` returns them), now exceeds `threshold`.

    Only counts the batch changed can cross (a user's older counts were at most the threshold,
    or the user would be on the blacklist already), so blacklisted users never reappear. One row
    per user: the largest such count (ties: earlier day, then smaller ad).
    """
    crossed = user_counts.where(F.col("changed") & (F.col("clicks") > threshold))
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


def click_trend(previous: DataFrame | None, deltas: DataFrame, stamp: DataFrame) -> DataFrame:
    """Clicks per minute and ad from the stamp's `trend_start` on: `previous` plus the batch's
    `deltas`.

    Minutes before `trend_start` are dropped; as it only moves forward, every minute still in
    the window has all its counted clicks (the window's rows are exact, not approximations).
    """
    added = deltas.select(*TREND_KEYS, "clicks")
    if previous is not None:
        added = previous.select(*TREND_KEYS, "clicks").unionByName(added)
    totals = added.groupBy(*TREND_KEYS).agg(F.sum("clicks").alias("clicks"))
    return (
        stamped(totals, stamp)
        .where(F.col("minute") >= F.col("trend_start"))
        .select("ad_id", "clicks", "minute", F.col("batch_time").alias("updated_at"))
    )
