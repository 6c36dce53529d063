"""The real-time ad traffic job (SPEC 4): a Structured Streaming query with one foreachBatch sink.

Opening Spark on the warehouse, the checks at start (streaming/checks.py), the source
(streaming/source.py) and the query whose micro-batches streaming/batch.py processes into the
Delta tables of streaming/tables.py. Design and guarantees: docs/streaming.md.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING

from streaming import storage
from streaming.batch import AdStreamBatch, BatchMetrics
from streaming.checks import check_resume, check_source
from streaming.options import StreamOptions, log_file
from streaming.source import read_lines
from streaming.tables import drop_tables, ensure_tables

if TYPE_CHECKING:
    from pyspark.sql import SparkSession
    from pyspark.sql.streaming import StreamingQuery

ROCKSDB_PROVIDER = "org.apache.spark.sql.execution.streaming.state.RocksDBStateStoreProvider"
STREAM_CONF = {
    "spark.sql.streaming.stateStore.providerClass": ROCKSDB_PROVIDER,
    "spark.sql.streaming.stateStore.rocksdb.changelogCheckpointing.enabled": "true",
    # A batch runs about 110 pieces of generated code; with Spark's default cache of 100 they
    # pushed each other out and every batch compiled all of them again (docs/performance.md).
    "spark.sql.codegen.cache.maxEntries": "1000",
    # Without it every PySpark column function tells the JVM its Python call site (several round
    # trips more per call). Errors of the stream's queries then name no Python line; ours raise
    # none (try_cast).
    "spark.python.sql.dataFrameDebugging.enabled": "false",
}
QUERY_NAME = "ad_stream"
STREAM_PAGE_SIZE = "1m"
"""Size of Spark's memory pages in the embedded stream (`spark.buffer.pageSize`; Spark's default
here: 64 MiB). Each batch broadcasts the blacklist for its join, and Spark builds a broadcast's
hash table in a page of its own: 64 MiB of Java heap for a few users, kept until Spark cleans the
broadcast up, and the full collections they cause stop a batch (docs/performance.md)."""


def local_stream_conf() -> dict[str, str]:
    """Settings of the embedded stream on top of the warehouse's (under spark-submit, the
    submitted ones apply): a micro-batch's queries are small, so adaptive execution's
    re-planning costs more than it saves, and one shuffle partition per core is enough, also
    for a day's per-user counts. Memory pages of STREAM_PAGE_SIZE."""
    return {
        "spark.sql.adaptive.enabled": "false",
        "spark.sql.shuffle.partitions": str(os.cpu_count() or 2),
        "spark.buffer.pageSize": STREAM_PAGE_SIZE,
    }


def open_spark(options: StreamOptions, app_name: str = "ecom_analytics-ad_stream") -> SparkSession:
    """The embedded Spark of the warehouse with `local_stream_conf` (or, under spark-submit, the
    submitted application, which brings Delta Lake and the Kafka connector with its --packages
    or --jars), with STREAM_CONF. WarehouseLockedError when another program holds the embedded
    warehouse."""
    if os.environ.get("PYSPARK_GATEWAY_PORT"):  # started by spark-submit: use its settings
        from pyspark.sql import SparkSession

        builder = SparkSession.builder.appName(app_name).enableHiveSupport()
        for key, value in STREAM_CONF.items():
            builder = builder.config(key, value)
        return builder.getOrCreate()
    from ecom_analytics import spark_session, warehouse_lock

    warehouse_lock.check_free(spark_session.warehouse_dir())
    # a long-running job compiles its code once: the batch JIT settings cost it about 3%
    return spark_session.local_spark(
        app_name,
        {**STREAM_CONF, **local_stream_conf()},
        batch_jit=False,
        log_file=log_file(options.checkpoint),
    )


def start_stream(
    spark: SparkSession, options: StreamOptions, log: Callable[[str], None] = print
) -> tuple[StreamingQuery, AdStreamBatch]:
    """Create the tables if missing, check the checkpoint matches them, start the query."""
    check_source(spark, options)
    locations = ensure_tables(spark, options.schema)
    check_resume(spark, options)
    batch = AdStreamBatch(options, locations, log)
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
    timeout_seconds: float | None = None,
) -> list[BatchMetrics]:
    """Run the stream until it ends (--available-now), `timeout_seconds` pass or Ctrl-C; returns
    the metrics of the batches it processed. A failed batch raises StreamingQueryException."""
    query, batch = start_stream(spark, options, log)
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
    drop_tables(spark, options.schema)
    storage.delete_path(spark, options.checkpoint)
