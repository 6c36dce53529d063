"""The real-time ad traffic job (SPEC 4): a Structured Streaming query with one foreachBatch sink.

Each micro-batch N, in `AdStreamBatch.__call__`:

1. parses the lines (streaming/parsing.py) and appends the clicks to `ad_clicks` and the
   malformed lines to `ad_click_quarantine` (files keyed by N);
2. reads the blacklist as it stood when N began (entries of batches < N) and drops those users'
   clicks; counts the rest per day/user/ad, day/province/city/ad and minute/ad;
3. reads, for the days N touches, the newest snapshot versions written before N, adds the counts
   and writes version N of `ad_user_daily_clicks`, `ad_daily_clicks`, `ad_province_top3` and
   `ad_click_trend` (these writes, the appends of step 1 and the search for users N pushed over
   the threshold run side by side); appends those users to `ad_blacklist`;
4. points the tables at version N, then appends N's row to `ad_stream_batches` (the batch is
   complete once that row exists) and prints the batch's progress line.

Every step only reads state older than N and writes files keyed by N, so a batch that Spark replays
after a crash (same input, from the checkpoint's offset log) rewrites the same tables: exactly once.
Why the state lives in versioned tables and not in a stateful operator: docs/streaming.md.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta, timezone
from functools import partial
from typing import TYPE_CHECKING, TypeVar

from pyspark import StorageLevel, inheritable_thread_target
from pyspark.sql import functions as F

from python_udfs.frames import local_frame
from streaming import semantics, storage
from streaming.parsing import file_lines, kafka_lines, parse_lines
from streaming.tables import TABLES, ensure_tables, table_location, version_root

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession
    from pyspark.sql.streaming import StreamingQuery

ROCKSDB_PROVIDER = "org.apache.spark.sql.execution.streaming.state.RocksDBStateStoreProvider"
STREAM_CONF = {
    "spark.sql.streaming.stateStore.providerClass": ROCKSDB_PROVIDER,
    "spark.sql.streaming.stateStore.rocksdb.changelogCheckpointing.enabled": "true",
    # A batch runs about 110 pieces of generated code; with Spark's default cache of 100 they
    # pushed each other out and every batch compiled all of them again (docs/performance.md).
    "spark.sql.codegen.cache.maxEntries": "1000",
    # Without it every PySpark column function tells the JVM its Python call site (several round
    # trips more per call): 1,300 of a batch's 4,900 py4j calls. Errors of the stream's queries
    # then name no Python line; ours raise none (try_cast). Measured in docs/performance.md.
    "spark.python.sql.dataFrameDebugging.enabled": "false",
}
SOURCES = ("files", "kafka")
DEFAULT_THRESHOLD = 100
DEFAULT_TRIGGER_INTERVAL = "10 seconds"
QUERY_NAME = "ad_stream"
COUNT_TABLES = ("ad_daily_clicks", "ad_province_top3", "ad_user_daily_clicks", "ad_click_trend")
"""The snapshot tables a batch versions, in the order their jobs start (the published counts
first: a click's latency ends when ad_daily_clicks shows it)."""
STAGES = (
    *(f"{name}_published" for name in COUNT_TABLES),
    "appended",
    "published",
    "blacklist_written",
    "logged",
)
"""Points in a batch where `stage_hook` is called (tests crash the job there). Each count table
is published as soon as its version is written (`<table>_published`, from the job's thread);
`published`: all of them are."""
MICROS_PER_DAY = 86_400_000_000
CONCURRENT_WRITES = 4
"""Spark jobs a batch runs side by side (its appends, count versions and blacklist check)."""
STREAM_PAGE_SIZE = "1m"
"""Size of Spark's memory pages in the embedded stream (`spark.buffer.pageSize`; Spark's default
here: 64 MiB). Each batch broadcasts the blacklist for its join, and Spark builds a broadcast's
hash table in a page of its own: 64 MiB of Java heap for a few users, kept until Spark cleans the
broadcast up. Those pages grew the heap's live data by about 10 MiB a second, and the full
collections they caused stopped a batch for 0.25-0.5 s every 10-20 s. With 1 MiB pages a batch's
aggregations and sorts take more, smaller pages, and the stream processed 2-4% more rows a
second."""
T = TypeVar("T")


class StreamSetupError(RuntimeError):
    """The job cannot start as asked; the message says what to do."""


def default_input_dir() -> str:
    return os.environ.get("ECOM_AD_CLICK_DIR", "data/ad_clicks")


def default_checkpoint() -> str:
    warehouse = os.environ.get("ECOM_WAREHOUSE_DIR", ".warehouse")
    return f"{warehouse}/checkpoints/ad_stream"


def kafka_package() -> str:
    """Maven coordinate of the Kafka connector matching the installed PySpark."""
    import pyspark

    return f"org.apache.spark:spark-sql-kafka-0-10_2.13:{pyspark.__version__}"


@dataclass(frozen=True)
class StreamOptions:
    """What `ecom stream` was asked to do."""

    source: str = "files"
    input_dir: str = field(default_factory=default_input_dir)
    kafka_bootstrap_servers: str | None = None
    kafka_topic: str | None = None
    kafka_starting_offsets: str = "earliest"
    max_offsets_per_trigger: int | None = None
    checkpoint: str = field(default_factory=default_checkpoint)
    schema: str = "ecom"
    threshold: int = DEFAULT_THRESHOLD
    max_files_per_trigger: int | None = None
    max_file_age: str = "7d"
    available_now: bool = False
    trigger_interval: str = DEFAULT_TRIGGER_INTERVAL


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


def _trend_start(newest_minute: int) -> int:
    """First minute (epoch micros) of the trend window that ends with `newest_minute`."""
    return newest_minute - (semantics.TREND_MINUTES - 1) * 60_000_000


@dataclass(frozen=True)
class _Carry:
    """What a batch hands the next one in the same run (saves re-reading it from the tables):
    the blacklisted users and the newest counted minute (epoch micros) after `after_batch`."""

    after_batch: int
    blacklist: frozenset[int]
    trend_newest: int | None


STAMP_SCHEMA = "batch_id bigint, batch_micros bigint, batch_day int, trend_micros bigint"


def batch_stamp(
    spark: SparkSession, batch_id: int, batch_micros: int, trend_newest: int | None
) -> DataFrame:
    """The one-row frame of what changes from batch to batch (streaming/semantics.py says why
    it is not a literal): `batch_id`, `batch_time`, `batch_date` and `trend_start` (the first
    minute of the trend window), made from epoch values so no Python time zone is involved."""
    row = (
        batch_id,
        batch_micros,
        batch_micros // MICROS_PER_DAY,
        None if trend_newest is None else _trend_start(trend_newest),
    )
    return local_frame(spark, [row], STAMP_SCHEMA).select(
        "batch_id",
        F.timestamp_micros("batch_micros").alias("batch_time"),
        F.date_from_unix_date("batch_day").alias("batch_date"),
        F.timestamp_micros("trend_micros").alias("trend_start"),
    )


class AdStreamBatch:
    """The foreachBatch function: processes micro-batch N of log lines (`line`, `source`,
    `batch_time`) into the streaming tables of `schema`."""

    def __init__(
        self,
        spark: SparkSession,
        options: StreamOptions,
        log: Callable[[str], None] = print,
        stage_hook: Callable[[int, str], None] | None = None,
    ) -> None:
        self.spark = spark
        self.options = options
        self.log = log
        self.stage_hook = stage_hook
        self.metrics: list[BatchMetrics] = []
        self.stream_id: str | None = None
        self._carried: _Carry | None = None
        self._blacklist: tuple[frozenset[int], DataFrame] | None = None
        schema = options.schema
        self.locations = {
            name: version_root(table_location(spark, schema, name)) for name in TABLES
        }
        self.partitions = {
            name: _partition_values(spark, f"{schema}.{name}")
            for name, table in TABLES.items()
            if table.partition_by
        }

    # --- helpers ---------------------------------------------------------------------------

    def _stage(self, batch_id: int, stage: str) -> None:
        if self.stage_hook is not None:
            self.stage_hook(batch_id, stage)

    def _table(self, name: str) -> str:
        return f"{self.options.schema}.{name}"

    def _append(self, name: str, df: DataFrame, batch_id: int) -> None:
        table = TABLES[name]
        values = storage.append_batch(
            self.spark,
            df.select(*table.column_names),
            self.locations[name],
            batch_id,
            table.partition_by,
        )
        new = sorted(set(values) - self.partitions[name]) if table.partition_by else []
        if new:
            specs = " ".join(f"partition ({table.partition_by}='{value}')" for value in new)
            self.spark.sql(f"alter table {self._table(name)} add if not exists {specs}")
            self.partitions[name].update(new)
        # readers in this Spark session must not keep listing the table's files from a cache
        self.spark.catalog.refreshTable(self._table(name))

    def _previous(self, name: str, days: list[str], batch_id: int) -> DataFrame | None:
        """The newest versions before `batch_id` of the given days (or of the whole table)."""
        table = TABLES[name]
        schema = table.spark_schema()
        frames = []
        for day in days if table.partition_by else [None]:
            partition = f"{table.partition_by}={day}" if day else None
            folder = storage.latest_before(self.spark, self.locations[name], partition, batch_id)
            if folder is None:
                continue
            frame = self.spark.read.schema(schema).parquet(folder)
            if day:
                frame = frame.drop(table.partition_by).withColumn(
                    table.partition_by, F.lit(day).cast("date")
                )
            frames.append(frame.select(*table.column_names))
        if not frames:
            return None
        result = frames[0]
        for frame in frames[1:]:
            result = result.unionByName(frame)
        return result

    def _write_version(self, name: str, df: DataFrame, batch_id: int) -> dict[str | None, str]:
        table = TABLES[name]
        return storage.write_versions(
            self.spark,
            df.select(*table.column_names),
            self.locations[name],
            batch_id,
            table.partition_by,
        )

    def _publish(self, name: str, written: dict[str | None, str], batch_id: int) -> None:
        """Point the table's partitions (or the table) at version `batch_id`; prune older ones."""
        table = TABLES[name]
        for value, folder in written.items():
            if value is None:
                self.spark.sql(f"alter table {self._table(name)} set location '{folder}'")
                partition = None
            elif value in self.partitions[name]:
                self.spark.sql(
                    f"alter table {self._table(name)} partition ({table.partition_by}='{value}') "
                    f"set location '{folder}'"
                )
                partition = f"{table.partition_by}={value}"
            else:
                self.spark.sql(
                    f"alter table {self._table(name)} add if not exists "
                    f"partition ({table.partition_by}='{value}') location '{folder}'"
                )
                self.partitions[name].add(value)
                partition = f"{table.partition_by}={value}"
            previous = storage.latest_before(self.spark, self.locations[name], partition, batch_id)
            if previous is not None:
                keep_from = int(previous.rsplit("=", 1)[1])
                storage.prune_versions(self.spark, self.locations[name], partition, keep_from)

    def _stream_id(self) -> str:
        if self.stream_id is None:
            self.stream_id = checkpoint_id(self.spark, self.options.checkpoint) or ""
        return self.stream_id

    # --- the batch -------------------------------------------------------------------------

    def __call__(self, lines: DataFrame, batch_id: int) -> None:
        started = time.perf_counter()
        carry = self._carry(batch_id)
        parsed = semantics.flag_blacklisted(
            parse_lines(lines), self._blacklist_frame(carry.blacklist)
        ).persist(StorageLevel.MEMORY_AND_DISK)
        try:
            metrics = self._process(parsed, batch_id, started, carry)
        finally:
            parsed.unpersist()
        if metrics is None:
            self.log(f"ad-stream batch {batch_id}: no input lines")
            return
        self.metrics.append(metrics)
        self.log(metrics.line())

    def _carry(self, batch_id: int) -> _Carry:
        """Blacklist and newest trend minute as they stood when `batch_id` began: from the
        previous batch of this run, else (first batch after a start) from the tables."""
        if self._carried is not None and self._carried.after_batch == batch_id - 1:
            return self._carried
        blacklist = (
            self.spark.read.schema(TABLES["ad_blacklist"].spark_schema())
            .parquet(self.locations["ad_blacklist"])
            .where(F.col("batch_id") < batch_id)
            .select("user_id")
            .collect()
        )
        trend = self._previous("ad_click_trend", [], batch_id)
        newest = trend.agg(F.max(F.unix_micros("minute"))).first()[0] if trend else None
        return _Carry(batch_id - 1, frozenset(row.user_id for row in blacklist), newest)

    def _blacklist_frame(self, users: frozenset[int]) -> DataFrame:
        """The blacklist as a one-column frame (`user_id`), made again only when it changed."""
        if self._blacklist is None or self._blacklist[0] != users:
            rows = [(user,) for user in sorted(users)]
            frame = local_frame(self.spark, rows, "user_id bigint")
            self._blacklist = (users, frame)
        return self._blacklist[1]

    def _process(
        self, parsed: DataFrame, batch_id: int, started: float, carry: _Carry
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
            self._carried = replace(carry, after_batch=batch_id)
            return None
        batch_date = date(1970, 1, 1) + timedelta(days=stats.batch_micros // MICROS_PER_DAY)
        quarantined = stats.lines - stats.clicks
        trend_newest = max(
            (m for m in (carry.trend_newest, stats.newest_minute) if m is not None), default=None
        )
        stamp = batch_stamp(self.spark, batch_id, stats.batch_micros, trend_newest)
        parsed = parsed.drop("batch_time")  # the stamp's from here on
        clicks = semantics.stamped(parsed.where(F.col("reason").isNull()), stamp)

        # 1. the raw tables: every click, every malformed line
        writes: dict[str, Callable[[], object]] = {
            "ad_clicks": partial(
                self._append,
                "ad_clicks",
                clicks.withColumn("loaded_at", F.col("batch_time")),
                batch_id,
            )
        }
        if quarantined:
            writes["ad_click_quarantine"] = partial(
                self._append,
                "ad_click_quarantine",
                semantics.stamped(parsed.where(F.col("reason").isNotNull()), stamp).select(
                    F.col("line").alias("raw_line"),
                    "reason",
                    "source",
                    "batch_id",
                    F.col("batch_time").alias("quarantined_at"),
                    F.col("batch_date").alias("quarantined_date"),
                ),
                batch_id,
            )
        # 2.-3. count the clicks of users not blacklisted before this batch (if none are left,
        # the counts stay as they are)
        new_entries: frozenset[int] = frozenset()
        if stats.days:
            new_entries = self._update_counts(
                parsed.where(counted), list(stats.days), batch_id, stamp, writes
            )
        else:
            self._concurrently(writes)
            self._stage(batch_id, "appended")
        self._stage(batch_id, "published")

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
            trend_start=None if trend_newest is None else _utc(_trend_start(trend_newest)),
            batch_time=_utc(stats.batch_micros),
        )
        # 4. the batch's row, written last: the batch is complete once it exists
        self._append("ad_stream_batches", self._batch_row(metrics, batch_date), batch_id)
        self._stage(batch_id, "logged")
        return metrics

    def _concurrently(self, calls: dict[str, Callable[[], T]]) -> dict[str, T]:
        """Run a batch's independent Spark jobs at once and wait for all of them.

        A small job's time goes mostly to the driver (planning, committing and moving files),
        so running the batch's writes side by side keeps the cores busy (docs/performance.md).
        Each thread inherits the batch thread's Spark properties and tags (job group, so
        stopping the query cancels them too). The first failure is raised once every job has ended.
        """
        if len(calls) <= 1:
            return {name: call() for name, call in calls.items()}
        with ThreadPoolExecutor(
            max_workers=min(len(calls), CONCURRENT_WRITES), thread_name_prefix="ad-stream"
        ) as pool:
            futures = {
                name: pool.submit(inheritable_thread_target(self.spark)(call))
                for name, call in calls.items()
            }
        return {name: future.result() for name, future in futures.items()}

    def _update_counts(
        self,
        counted: DataFrame,
        days: list[str],
        batch_id: int,
        stamp: DataFrame,
        appends: dict[str, Callable[[], object]],
    ) -> frozenset[int]:
        """Step 3, with the `appends` of step 1 run alongside: version `batch_id` of each count
        table, published as soon as it is written, then the new blacklist entries; returns the
        users newly blacklisted."""
        user_counts = semantics.cumulate(
            self._previous("ad_user_daily_clicks", days, batch_id),
            semantics.counted_per(counted, semantics.USER_KEYS),
            semantics.USER_KEYS,
            stamp,
        ).persist()
        daily = semantics.cumulate(
            self._previous("ad_daily_clicks", days, batch_id),
            semantics.counted_per(counted, semantics.CITY_KEYS),
            semantics.CITY_KEYS,
            stamp,
        ).persist()
        trend = semantics.click_trend(
            self._previous("ad_click_trend", [], batch_id),
            semantics.counted_per(counted, semantics.TREND_KEYS),
            stamp,
        )
        versions = {
            "ad_user_daily_clicks": user_counts,
            "ad_daily_clicks": daily,
            "ad_province_top3": semantics.province_top3(daily, stamp),
            "ad_click_trend": trend,
        }
        entries = semantics.new_blacklist_entries(user_counts, self.options.threshold, stamp)
        # in COUNT_TABLES' order (the published counts first, then the longest job), the
        # appends and the blacklist check after them
        jobs: dict[str, Callable[[], object]] = {
            **{
                name: partial(self._write_and_publish, name, versions[name], batch_id)
                for name in COUNT_TABLES
            },
            **appends,
            "ad_blacklist": entries.toArrow,
        }
        try:
            done = self._concurrently(jobs)
        finally:
            user_counts.unpersist()
            daily.unpersist()
        self._stage(batch_id, "appended")
        self._stage(batch_id, "published")
        new_entries = done["ad_blacklist"]  # a pyarrow Table: rows and types kept exactly
        if new_entries.num_rows:
            self._append(
                "ad_blacklist",
                self.spark.createDataFrame(new_entries, schema=entries.schema),
                batch_id,
            )
        self._stage(batch_id, "blacklist_written")
        return frozenset(new_entries.column("user_id").to_pylist())

    def _write_and_publish(self, name: str, frame: DataFrame, batch_id: int) -> None:
        """Version `batch_id` of a count table, published at once: each table's readers see one
        whole version, so nothing waits for the batch's other tables (a replay of the batch
        starts again from the version before it, which publication keeps)."""
        self._publish(name, self._write_version(name, frame, batch_id), batch_id)
        self._stage(batch_id, f"{name}_published")

    def _batch_row(self, metrics: BatchMetrics, batch_date: date) -> DataFrame:
        values = {
            "batch_id": metrics.batch_id,
            "stream_id": self._stream_id(),
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
        return local_frame(self.spark, [[values[field.name] for field in schema]], schema)


def _partition_values(spark: SparkSession, table: str) -> set[str]:
    """Values of a table's single partition column, as stored in the metastore."""
    return {row[0].split("=", 1)[1] for row in spark.sql(f"show partitions {table}").collect()}


def checkpoint_id(spark: SparkSession, checkpoint: str) -> str | None:
    """The query id a checkpoint belongs to (its `metadata` file), None for a new checkpoint."""
    import json

    if not storage.exists(spark, f"{checkpoint}/metadata"):
        return None
    text = "".join(row.value for row in spark.read.text(f"{checkpoint}/metadata").collect())
    return str(json.loads(text)["id"])


def check_resume(spark: SparkSession, options: StreamOptions) -> None:
    """Refuse to mix the tables of one checkpoint with another one, or to change the threshold
    of a running stream: either would break the counts silently."""
    table = TABLES["ad_stream_batches"]
    location = version_root(table_location(spark, options.schema, table.name))
    written = (
        spark.read.schema(table.spark_schema())
        .parquet(location)
        .agg(
            F.sort_array(F.collect_set("stream_id")).alias("streams"),
            F.sort_array(F.collect_set("threshold")).alias("thresholds"),
            F.max("batch_id").alias("last_batch"),
        )
        .first()
    )
    streams, thresholds = list(written.streams), list(written.thresholds)
    current = checkpoint_id(spark, options.checkpoint)
    if streams and streams != [current]:
        raise StreamSetupError(
            f"the streaming tables in schema {options.schema} were written by stream "
            f"{', '.join(streams)} (up to batch {written.last_batch}), and checkpoint "
            f"{options.checkpoint} is {'new' if current is None else 'stream ' + current}: run "
            "with the checkpoint those tables came from, or add --reset to drop the streaming "
            "tables and the checkpoint and start over"
        )
    if thresholds and thresholds != [options.threshold]:
        raise StreamSetupError(
            f"this stream runs with --threshold {thresholds[-1]}; a running stream cannot change "
            "it (users blacklisted so far would not be): add --reset to start over with "
            f"--threshold {options.threshold}"
        )
    if (
        current is not None
        and not streams
        and storage.has_children(spark, f"{options.checkpoint}/commits")
    ):
        raise StreamSetupError(
            f"checkpoint {options.checkpoint} has committed batches but the streaming tables in "
            f"schema {options.schema} are empty (dropped?): add --reset to start over"
        )


def local_stream_conf() -> dict[str, str]:
    """Settings of the embedded stream on top of the warehouse's (under spark-submit, the
    submitted ones apply): a micro-batch's queries are small, so adaptive execution's
    re-planning costs more than it saves, and one shuffle partition per core is enough, also
    for a day's per-user counts. Memory pages of STREAM_PAGE_SIZE (measured in
    docs/performance.md)."""
    return {
        "spark.sql.adaptive.enabled": "false",
        "spark.sql.shuffle.partitions": str(os.cpu_count() or 2),
        "spark.buffer.pageSize": STREAM_PAGE_SIZE,
    }


def open_spark(options: StreamOptions, app_name: str = "ecom_analytics-ad_stream") -> SparkSession:
    """The embedded Spark of the warehouse with `local_stream_conf` (or, under spark-submit, the
    submitted application), with STREAM_CONF (and the Kafka connector for --source kafka)."""
    extra = {**STREAM_CONF, **local_stream_conf()}
    if options.source == "kafka":
        extra["spark.jars.packages"] = kafka_package()
    if os.environ.get("PYSPARK_GATEWAY_PORT"):  # started by spark-submit: use its settings
        from pyspark.sql import SparkSession

        builder = SparkSession.builder.appName(app_name).enableHiveSupport()
        for key, value in STREAM_CONF.items():
            builder = builder.config(key, value)
        return builder.getOrCreate()
    from ecom_analytics.spark_session import local_spark

    # a long-running job compiles its code once: the batch JIT settings cost it about 3%
    return local_spark(app_name, extra, batch_jit=False)


def read_lines(spark: SparkSession, options: StreamOptions) -> DataFrame:
    """The streaming DataFrame of log lines (`line`, `source`, `batch_time`)."""
    if options.source == "files":
        reader = spark.readStream.format("text").option("maxFileAge", options.max_file_age)
        if options.max_files_per_trigger:
            reader = reader.option("maxFilesPerTrigger", options.max_files_per_trigger)
        lines = file_lines(reader.load(options.input_dir))
    else:
        reader = (
            spark.readStream.format("kafka")
            .option("kafka.bootstrap.servers", options.kafka_bootstrap_servers)
            .option("subscribe", options.kafka_topic)
            .option("startingOffsets", options.kafka_starting_offsets)
            .option("failOnDataLoss", "true")
        )
        if options.max_offsets_per_trigger:
            reader = reader.option("maxOffsetsPerTrigger", options.max_offsets_per_trigger)
        try:
            records = reader.load()
        except Exception as error:
            if "kafka" in str(error).lower() and "data source" in str(error).lower():
                raise StreamSetupError(
                    "the Kafka connector is not on Spark's classpath: it is not part of pyspark. "
                    f"Run under spark-submit with `--packages {kafka_package()}`, or let "
                    "`ecom stream --source kafka` fetch it (it sets spark.jars.packages; needs "
                    "Maven Central)"
                ) from None
            raise
        lines = kafka_lines(records)
    # In a streaming plan current_timestamp() is the micro-batch's timestamp from the offset log:
    # the same value when Spark replays the batch.
    return lines.withColumn("batch_time", F.current_timestamp())


def start_stream(
    spark: SparkSession,
    options: StreamOptions,
    log: Callable[[str], None] = print,
    stage_hook: Callable[[int, str], None] | None = None,
) -> tuple[StreamingQuery, AdStreamBatch]:
    """Create the tables if missing, check the checkpoint matches them, start the query."""
    ensure_tables(spark, options.schema)
    check_resume(spark, options)
    batch = AdStreamBatch(spark, options, log, stage_hook)
    writer = (
        read_lines(spark, options)
        .writeStream.queryName(QUERY_NAME)
        .foreachBatch(batch)
        .option("checkpointLocation", options.checkpoint)
    )
    if options.available_now:
        writer = writer.trigger(availableNow=True)
    else:
        writer = writer.trigger(processingTime=options.trigger_interval)
    return writer.start(), batch


def run_stream(
    spark: SparkSession,
    options: StreamOptions,
    log: Callable[[str], None] = print,
    stage_hook: Callable[[int, str], None] | None = None,
    timeout_seconds: float | None = None,
) -> list[BatchMetrics]:
    """Run the stream until it ends (--available-now), `timeout_seconds` pass or Ctrl-C; returns
    the metrics of the batches it processed. A failed batch raises StreamingQueryException."""
    query, batch = start_stream(spark, options, log, stage_hook)
    try:
        if timeout_seconds is None:
            query.awaitTermination()
        elif not query.awaitTermination(timeout_seconds):
            query.stop()
    finally:
        if query.isActive:
            query.stop()
    return batch.metrics


def reset(spark: SparkSession, options: StreamOptions) -> None:
    """Drop the streaming tables (with their files) and delete the checkpoint."""
    from streaming.tables import drop_tables

    drop_tables(spark, options.schema)
    storage.delete_path(spark, options.checkpoint)
