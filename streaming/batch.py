"""One micro-batch of the ad-click stream (SPEC 4): the foreachBatch function of streaming/job.py.

Batch N:

1. parses its lines (streaming/parsing.py), flags the clicks of users on the blacklist as it
   stood when N began (entries of batches < N), and takes the batch's figures in one pass;
2. writes, side by side: the clicks to `ad_clicks` and the malformed lines to
   `ad_click_quarantine`; the counts into `ad_daily_clicks` (MERGE), then `ad_province_top3` for
   the days N touched, recomputed from it; the minute counts into `ad_click_trend` (one MERGE
   that also drops the minutes before the window); the users N pushes over the threshold into
   `ad_blacklist`, then the counts into `ad_user_daily_clicks` (MERGE);
3. appends N's row to `ad_stream_batches`: the batch is complete once that row exists.

Every table gets at most one commit for N, exactly once (streaming/writes.py). The blacklist
entries need the user counts after N computed from the counts before N, so they are written
before the user counts' MERGE: when Spark replays N after a crash that came after that MERGE, the
entries are read back from `ad_blacklist` instead of being computed again from counts that
already hold N.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from functools import partial
from typing import TYPE_CHECKING, TypeVar

from pyspark import StorageLevel, inheritable_thread_target
from pyspark.sql import functions as F

from python_udfs.frames import local_frame
from streaming import semantics
from streaming.checks import checkpoint_id
from streaming.parsing import TimeBounds, parse_lines, quarantined_text
from streaming.tables import TABLES
from streaming.writes import BatchWrites

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

    from streaming.options import StreamOptions

MICROS_PER_DAY = 86_400_000_000
CONCURRENT_WRITES = 4
"""Spark jobs a batch runs side by side (its appends and MERGEs of different tables)."""
STAMP_SCHEMA = "batch_id bigint, batch_micros bigint, batch_day int, trend_micros bigint"
T = TypeVar("T")


@dataclass
class BatchMetrics:
    """What one micro-batch did: the progress line and the `ad_stream_batches` row."""

    batch_id: int
    input_lines: int
    clicks: int
    quarantined_lines: int
    dropped_clicks: int
    counted_clicks: int
    new_blacklisted: int
    blacklist_size: int
    threshold: int
    duration_seconds: float
    trend_start: datetime | None
    batch_time: datetime

    @property
    def rows_per_second(self) -> float:
        return self.input_lines / self.duration_seconds if self.duration_seconds > 0 else 0.0

    def line(self) -> str:
        """One progress line a person can follow."""
        trend = f"{self.trend_start:%Y-%m-%d %H:%M} UTC" if self.trend_start else "none"
        return (
            f"ad-stream batch {self.batch_id}: {self.input_lines:,} lines in "
            f"{self.duration_seconds:.2f} s ({self.rows_per_second:,.0f} rows/s); "
            f"{self.clicks:,} clicks, {self.quarantined_lines:,} quarantined, "
            f"{self.dropped_clicks:,} dropped (blacklisted), {self.counted_clicks:,} counted; "
            f"blacklist {self.blacklist_size:,} (+{self.new_blacklisted:,}); "
            f"trend from {trend}"
        )


def _utc(micros: int) -> datetime:
    """An aware UTC datetime from epoch microseconds."""
    return datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(microseconds=micros)


def trend_start(newest_minute: int) -> int:
    """First minute (epoch micros) of the trend window that ends with `newest_minute`."""
    return newest_minute - (semantics.TREND_MINUTES - 1) * 60_000_000


@dataclass(frozen=True)
class _Carry:
    """The blacklisted users and the newest counted minute (epoch micros) after `after_batch`;
    `from_tables`: read from the tables at a start (the next batch may be a replay), not handed
    on by the previous batch of this run."""

    after_batch: int
    blacklist: frozenset[int]
    trend_newest: int | None
    from_tables: bool = False


def batch_stamp(
    spark: SparkSession, batch_id: int, batch_micros: int, trend_newest: int | None
) -> DataFrame:
    """The one-row frame of what changes from batch to batch (streaming/semantics.py says why
    it is not a literal): `batch_id`, `batch_time`, `batch_date` and `trend_start`, made from
    epoch values so no Python time zone is involved."""
    row = (
        batch_id,
        batch_micros,
        batch_micros // MICROS_PER_DAY,
        None if trend_newest is None else trend_start(trend_newest),
    )
    return local_frame(spark, [row], STAMP_SCHEMA).select(
        "batch_id",
        F.timestamp_micros("batch_micros").alias("batch_time"),
        F.date_from_unix_date("batch_day").alias("batch_date"),
        F.timestamp_micros("trend_micros").alias("trend_start"),
    )


class AdStreamBatch:
    """The foreachBatch function: processes micro-batch N of log lines (`line`, `source`,
    `batch_time`) into the streaming tables at `locations` (name -> Delta table location)."""

    def __init__(
        self,
        options: StreamOptions,
        locations: dict[str, str],
        log: Callable[[str], None] = print,
    ) -> None:
        self.options = options
        self.locations = locations
        self.log = log
        self.bounds = TimeBounds(options.max_future_ms, options.max_age_ms)
        self.metrics: list[BatchMetrics] = []
        self._stream_id: str | None = None
        self._carried: _Carry | None = None
        self._blacklist: tuple[frozenset[int], DataFrame] | None = None

    def __call__(self, lines: DataFrame, batch_id: int) -> None:
        started = time.perf_counter()
        spark = lines.sparkSession  # the query's session: the batch's writes run in it
        carry = self._carry(spark, batch_id)
        parsed = semantics.flag_blacklisted(
            parse_lines(lines, self.bounds), self._blacklist_frame(spark, carry.blacklist)
        ).persist(StorageLevel.MEMORY_AND_DISK)
        try:
            metrics = self._process(spark, parsed, batch_id, started, carry)
        finally:
            parsed.unpersist()
        if metrics is None:
            self.log(f"ad-stream batch {batch_id}: no input lines")
            return
        self.metrics.append(metrics)
        self.log(metrics.line())

    def _read(self, spark: SparkSession, name: str) -> DataFrame:
        return spark.read.format("delta").load(self.locations[name])

    def _carry(self, spark: SparkSession, batch_id: int) -> _Carry:
        """Blacklist and newest trend minute as they stood when `batch_id` began: from the
        previous batch of this run, else (first batch after a start) from the tables."""
        if self._carried is not None and self._carried.after_batch == batch_id - 1:
            return self._carried
        blacklist = (
            self._read(spark, "ad_blacklist")
            .where(F.col("batch_id") < batch_id)
            .select("user_id")
            .collect()
        )
        # the newest minute is never dropped from the trend; if a replayed batch N already
        # merged its minutes, it is N's own newest, which N takes into account anyway
        newest = self._read(spark, "ad_click_trend").agg(F.max(F.unix_micros("minute"))).first()
        users = frozenset(row.user_id for row in blacklist)
        return _Carry(batch_id - 1, users, newest[0], from_tables=True)

    def _blacklist_frame(self, spark: SparkSession, users: frozenset[int]) -> DataFrame:
        """The blacklist as a one-column frame (`user_id`), made again only when it changed."""
        if self._blacklist is None or self._blacklist[0] != users:
            rows = [(user,) for user in sorted(users)]
            self._blacklist = (users, local_frame(spark, rows, "user_id bigint"))
        return self._blacklist[1]

    def _stream_id_of(self, spark: SparkSession) -> str:
        """The query's id (its checkpoint's): Delta's transaction app id for its writes."""
        if self._stream_id is None:
            found = checkpoint_id(spark, self.options.checkpoint)
            if found is None:
                raise RuntimeError(f"checkpoint {self.options.checkpoint} has no metadata")
            self._stream_id = found
        return self._stream_id

    def _process(
        self, spark: SparkSession, parsed: DataFrame, batch_id: int, started: float, carry: _Carry
    ) -> BatchMetrics | None:
        counted = F.col("reason").isNull() & ~F.col("blacklisted")
        stats = parsed.agg(
            F.count(F.lit(1)).alias("lines"),
            F.count("timestamp_ms").alias("clicks"),
            F.count_if(counted).alias("counted"),
            F.sort_array(F.collect_set(F.when(counted, F.col("click_date").cast("string")))).alias(
                "days"
            ),
            F.max(F.when(counted, F.unix_micros("minute"))).alias("newest_minute"),
            F.max(F.unix_micros("batch_time")).alias("batch_micros"),
        ).first()
        if stats is None or not stats.lines:
            self._carried = _Carry(batch_id, carry.blacklist, carry.trend_newest)
            return None
        batch_date = date(1970, 1, 1) + timedelta(days=stats.batch_micros // MICROS_PER_DAY)
        quarantined = stats.lines - stats.clicks
        trend_newest = max(
            (m for m in (carry.trend_newest, stats.newest_minute) if m is not None), default=None
        )
        stamp = batch_stamp(spark, batch_id, stats.batch_micros, trend_newest)
        parsed = parsed.drop("batch_time")  # the stamp's from here on
        writes = BatchWrites(spark, self.locations, self._stream_id_of(spark), batch_id)
        jobs: dict[str, Callable[[], object]] = {}
        days = list(stats.days)
        if days:  # in the order they start: the published counts first, then the longest job
            counts = parsed.where(counted)
            jobs["ad_daily_clicks"] = partial(self._daily, writes, counts, days, stamp)
            jobs["ad_user_daily_clicks"] = partial(
                self._users, writes, counts, days, stamp, carry.from_tables
            )
            jobs["ad_click_trend"] = partial(
                writes.merge_trend,
                semantics.trend_deltas(semantics.counted_per(counts, semantics.TREND_KEYS), stamp),
                trend_start(trend_newest),
            )
        jobs["ad_clicks"] = partial(
            writes.append,
            "ad_clicks",
            semantics.stamped(parsed.where(F.col("reason").isNull()), stamp).withColumn(
                "loaded_at", F.col("batch_time")
            ),
        )
        if quarantined:
            jobs["ad_click_quarantine"] = partial(
                writes.append,
                "ad_click_quarantine",
                semantics.stamped(parsed.where(F.col("reason").isNotNull()), stamp).select(
                    quarantined_text(F.col("line")).alias("raw_line"),
                    "reason",
                    "source",
                    "batch_id",
                    F.col("batch_time").alias("quarantined_at"),
                    F.col("batch_date").alias("quarantined_date"),
                ),
            )
        with writes.transaction():
            new_entries = self._concurrently(spark, jobs).get("ad_user_daily_clicks", frozenset())
            self._carried = _Carry(batch_id, carry.blacklist | new_entries, trend_newest)
            metrics = BatchMetrics(
                batch_id=batch_id,
                input_lines=stats.lines,
                clicks=stats.clicks,
                quarantined_lines=quarantined,
                dropped_clicks=stats.clicks - stats.counted,
                counted_clicks=stats.counted,
                new_blacklisted=len(new_entries),
                blacklist_size=len(self._carried.blacklist),
                threshold=self.options.threshold,
                duration_seconds=time.perf_counter() - started,
                trend_start=None if trend_newest is None else _utc(trend_start(trend_newest)),
                batch_time=_utc(stats.batch_micros),
            )
            # the batch's row, written last: the batch is complete once it exists
            writes.append("ad_stream_batches", self._batch_row(spark, writes, metrics, batch_date))
        return metrics

    def _daily(
        self, writes: BatchWrites, counted: DataFrame, days: list[str], stamp: DataFrame
    ) -> None:
        """`ad_daily_clicks` plus the batch's counts, then `ad_province_top3` of its days
        recomputed from it."""
        changes = semantics.count_changes(counted, semantics.CITY_KEYS, stamp)
        writes.merge_counts("ad_daily_clicks", changes, semantics.CITY_KEYS, days)
        daily = self._read(writes.spark, "ad_daily_clicks").where(
            F.col("click_date").isin([date.fromisoformat(day) for day in days])
        )
        writes.replace_days("ad_province_top3", semantics.province_top3(daily, stamp), days)

    def _users(
        self,
        writes: BatchWrites,
        counted: DataFrame,
        days: list[str],
        stamp: DataFrame,
        maybe_replay: bool,
    ) -> frozenset[int]:
        """The users the batch blacklists (appended to `ad_blacklist`), then
        `ad_user_daily_clicks` plus the batch's counts; returns those users.

        The entries come from the counts before the batch plus its own, so they are written
        first; a replay that finds the counts' MERGE committed reads them back instead."""
        spark = writes.spark
        changes = semantics.count_changes(counted, semantics.USER_KEYS, stamp).persist()
        try:
            if maybe_replay and writes.committed("ad_user_daily_clicks"):
                found = (
                    self._read(spark, "ad_blacklist")
                    .where(F.col("batch_id") == writes.batch_id)
                    .select("user_id")
                    .collect()
                )
                return frozenset(row.user_id for row in found)
            before = self._read(spark, "ad_user_daily_clicks").where(
                F.col("click_date").isin([date.fromisoformat(day) for day in days])
            )
            after = semantics.counts_after(before, changes, semantics.USER_KEYS)
            entries = semantics.new_blacklist_entries(after, self.options.threshold, stamp)
            new = entries.toArrow()  # rows and types kept exactly
            if new.num_rows:
                writes.append("ad_blacklist", spark.createDataFrame(new, schema=entries.schema))
            writes.merge_counts("ad_user_daily_clicks", changes, semantics.USER_KEYS, days)
            return frozenset(new.column("user_id").to_pylist())
        finally:
            changes.unpersist()

    def _concurrently(self, spark: SparkSession, calls: dict[str, Callable[[], T]]) -> dict[str, T]:
        """Run a batch's independent Spark jobs at once and wait for all of them.

        A small job's time goes mostly to the driver (planning, committing), so running the
        batch's writes side by side keeps the cores busy (docs/performance.md). Each thread
        inherits the batch thread's Spark properties and tags (job group, so stopping the query
        cancels them too). The first failure is raised once every job has ended.
        """
        if len(calls) <= 1:
            return {name: call() for name, call in calls.items()}
        with ThreadPoolExecutor(
            max_workers=min(len(calls), CONCURRENT_WRITES), thread_name_prefix="ad-stream"
        ) as pool:
            futures = {
                name: pool.submit(inheritable_thread_target(spark)(call))
                for name, call in calls.items()
            }
        return {name: future.result() for name, future in futures.items()}

    def _batch_row(
        self, spark: SparkSession, writes: BatchWrites, metrics: BatchMetrics, batch_date: date
    ) -> DataFrame:
        values = {
            "batch_id": metrics.batch_id,
            "stream_id": writes.stream_id,
            "input_lines": metrics.input_lines,
            "clicks": metrics.clicks,
            "quarantined_lines": metrics.quarantined_lines,
            "dropped_clicks": metrics.dropped_clicks,
            "counted_clicks": metrics.counted_clicks,
            "new_blacklisted": metrics.new_blacklisted,
            "blacklist_size": metrics.blacklist_size,
            "threshold": metrics.threshold,
            "duration_seconds": metrics.duration_seconds,
            "rows_per_second": metrics.rows_per_second,
            "trend_start": metrics.trend_start,
            "batch_time": metrics.batch_time,
            "batch_date": batch_date,
        }
        schema = TABLES["ad_stream_batches"].spark_schema()
        return local_frame(spark, [[values[field.name] for field in schema]], schema)
