"""The streaming part of `ecom bench`: the real job fed live at increasing rates.

For each rate (clicks/s), in a scratch folder of its own: the ad-click job of streaming/job.py
runs with a processing-time trigger, and `ecom produce-clicks --rate R --file-seconds 1` writes
one log file per second in real time, for --seconds. Then the job drains what is left and
stops. From Spark's progress (the whole trigger, file listing and commit included) and the
job's progress lines it reports the batch durations, whether the rate was sustained (every batch
after the warm-up within the trigger interval), and each file's latency from landing to its
clicks being published in ad_daily_clicks: the time of the batch's Delta commit to that table,
from the table's history (ecom_analytics/bench/stream_stats.py).
With `--source kafka` the probe runs a broker of its own (`ecom kafka`, in the scratch folder),
the producer sends every line to a topic as well as to its file (`--sink files,kafka`), and the
job reads the topic; a file's landing time then stands for its records' production time.
It stops at the first rate not sustained. One JVM for all rates, like one long-running job,
and, as such a job would be, warm: before the first rate the job processes --warmup-batches
batches of the first rate's size from files written beforehand (the JVM compiles Spark's hot
code paths during its first minute or so; a 40-second feed would otherwise measure mostly that).

    python -m ecom_analytics.bench.stream_probe --rates 10000,20000 --source kafka --json FILE
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ecom_analytics.bench.stream_stats import (
    FinishedBatch,
    LandedFile,
    highest_sustained,
    rate_summary,
)
from streaming.options import StreamOptions

_BATCH_LINE = re.compile(r"^ad-stream batch (\d+):")
PUBLISHED = "ad_daily_clicks"
"""The table whose commit of a batch makes the batch's counts visible to readers: a click's
latency ends there."""
USERS = 20_000
ADS = 100


def landed_files(folder: Path) -> list[LandedFile]:
    """The feed's files: modification time (the rename that made them appear) and lines."""
    return [
        LandedFile(path.stat().st_mtime, path.read_bytes().count(b"\n"))
        for path in sorted(folder.glob("clicks-*.log"))
    ]


def trigger_seconds_by_batch(progress: list[dict[str, Any]]) -> dict[int, float]:
    """Each batch's whole trigger duration from Spark's progress reports."""
    seconds: dict[int, float] = {}
    for report in progress:
        if report.get("numInputRows"):
            duration = report.get("durationMs", {}).get("triggerExecution", 0) / 1000
            batch_id = int(report["batchId"])
            seconds[batch_id] = max(seconds.get(batch_id, 0.0), duration)
    return seconds


def batch_commit_times(history: list[tuple[int, str | None]]) -> dict[int, float]:
    """Batch id -> epoch seconds of its commit, from a Delta table's history rows (commit time in
    epoch milliseconds, `userMetadata`: the stream's JSON naming the batch; others are skipped,
    e.g. a compaction's)."""
    times: dict[int, float] = {}
    for millis, metadata in history:
        try:
            batch_id = int(json.loads(metadata or "")["batch_id"])
        except (ValueError, KeyError, TypeError):
            continue
        times.setdefault(batch_id, millis / 1000)
    return times


def published_times(spark: Any, table: str) -> dict[int, float]:
    """When each batch's commit to `table` made its counts visible (the table's history)."""
    rows = spark.sql(f"describe history {table}").where("operation != 'OPTIMIZE'")
    history = rows.selectExpr("unix_millis(timestamp)", "userMetadata").collect()
    return batch_commit_times(sorted((tuple(row) for row in history), key=lambda row: row[0]))


@dataclass(frozen=True)
class Feed:
    """Where the job reads: the producer's files, or a topic (`topic`) of the broker at
    `bootstrap_servers` that the producer sends each line to as well."""

    bootstrap_servers: str | None = None

    @property
    def name(self) -> str:
        return "files" if self.bootstrap_servers is None else "kafka"

    def sink(self, topic: str) -> list[str]:
        """The producer's options for this feed."""
        if self.bootstrap_servers is None:
            return []
        return [
            "--sink",
            "files,kafka",
            "--kafka-bootstrap-servers",
            self.bootstrap_servers,
            "--kafka-topic",
            topic,
        ]

    def options(self, folder: Path, topic: str, **settings: Any) -> StreamOptions:
        """The job's options for this feed."""
        if self.bootstrap_servers is None:
            return StreamOptions(input_dir=str(folder), **settings)
        return StreamOptions(
            source="kafka",
            kafka_bootstrap_servers=self.bootstrap_servers,
            kafka_topic=topic,
            **settings,
        )


@contextmanager
def feed(source: str, workdir: Path) -> Iterator[Feed]:
    """The feed of `source`: for kafka, a broker of its own in `workdir`, stopped afterwards."""
    if source == "files":
        yield Feed()
        return
    from ecom_analytics.kafka_broker import broker
    from ecom_analytics.kafka_broker.settings import BrokerSettings
    from ecom_analytics.services.network import free_ports

    port, controller_port = free_ports(2)
    settings = BrokerSettings(
        state_dir=workdir / "kafka", port=port, controller_port=controller_port
    )
    if broker.start(settings, timeout=240) != 0:
        raise SystemExit("stream-probe: the Kafka broker did not start (its log is above)")
    try:
        yield Feed(settings.bootstrap_servers)
    finally:
        broker.stop(settings)


def produce_clicks(
    folder: Path,
    rate: int,
    file_seconds: float,
    seconds: float,
    *,
    wait: bool,
    sink: Sequence[str] = (),
) -> None:
    """`ecom produce-clicks` into `folder` (and the `sink` options' topic): `seconds` of clicks
    at `rate`, a file per `file_seconds`, in real time (`wait`) or as fast as possible."""
    subprocess.run(
        [
            str(Path(sys.executable).parent / "ecom"),
            "produce-clicks",
            "--rate",
            str(rate),
            "--file-seconds",
            f"{file_seconds:g}",
            "--seconds",
            f"{seconds:g}",
            *([] if wait else ["--no-wait"]),
            "--output",
            str(folder),
            "--users",
            str(USERS),
            "--ads",
            str(ADS),
            *sink,
        ],
        check=True,
        timeout=seconds * 3 + 60,
    )


def warm_up(spark: Any, rate: int, args: argparse.Namespace, source: Feed) -> dict[str, Any]:
    """Run the job over `args.warmup_batches` batches of a trigger interval's worth of clicks at
    `rate`, written beforehand, in a schema of its own; the figures of that pass."""
    from streaming.job import start_stream

    base = args.workdir / "warm-up"
    clicks = base / "clicks"
    seconds = args.warmup_batches * args.trigger_seconds
    started = time.time()
    topic = "bench_warm_up"
    produce_clicks(clicks, rate, args.trigger_seconds, seconds, wait=False, sink=source.sink(topic))
    options = source.options(
        clicks,
        topic,
        checkpoint=str(base / "checkpoint"),
        schema="bench_stream_warm_up",
        available_now=True,
        max_files_per_trigger=1,
        max_offsets_per_trigger=int(rate * args.trigger_seconds),
    )
    query, job = start_stream(spark, options, log=lambda line: print(line, flush=True))
    query.awaitTermination()
    durations = [batch.duration_seconds for batch in job.metrics]
    return {
        "batches": len(durations),
        "lines": sum(batch.input_lines for batch in job.metrics),
        "wall_seconds": round(time.time() - started, 1),
        "first_batch_seconds": round(durations[0], 2) if durations else None,
        "last_batch_seconds": round(durations[-1], 2) if durations else None,
    }


def probe_rate(spark: Any, rate: int, args: argparse.Namespace, source: Feed) -> dict[str, Any]:
    """Feed the job at `rate` clicks/s for args.seconds; the rate's figures."""
    from pyspark.sql import functions as F

    from streaming.job import start_stream

    base = args.workdir / f"rate-{rate}"
    clicks = base / "clicks"
    clicks.mkdir(parents=True)
    topic = f"bench_{rate}"
    if source.bootstrap_servers:  # the topic exists before the job subscribes to it
        from ecom_analytics.kafka_broker.client import create_topic

        create_topic(source.bootstrap_servers, topic, partitions=2)
    options = source.options(
        clicks,
        topic,
        checkpoint=str(base / "checkpoint"),
        schema=f"bench_stream_{source.name}_{rate}",
        trigger_interval=f"{args.trigger_seconds:g} seconds",
    )
    ended: dict[int, float] = {}

    def on_batch(line: str) -> None:
        match = _BATCH_LINE.match(line)
        if match:
            ended[int(match.group(1))] = time.time()
        print(line, flush=True)

    query, job = start_stream(spark, options, log=on_batch)
    started = time.time()
    produce_clicks(clicks, rate, 1.0, args.seconds, wait=True, sink=source.sink(topic))
    produced = sum(item.lines for item in landed_files(clicks))
    deadline = time.monotonic() + max(args.drain_seconds, args.seconds)
    while sum(batch.input_lines for batch in job.metrics) < produced:
        if time.monotonic() > deadline or not query.isActive:
            break
        time.sleep(0.2)
    progress = list(query.recentProgress)
    query.stop()
    durations = trigger_seconds_by_batch(progress)
    published = published_times(spark, f"{options.schema}.{PUBLISHED}")
    batches = [
        FinishedBatch(
            batch_id=batch.batch_id,
            ended_at=ended.get(batch.batch_id, time.time()),
            input_lines=batch.input_lines,
            duration_seconds=durations.get(batch.batch_id, batch.duration_seconds),
            published_at=published.get(batch.batch_id),
        )
        for batch in job.metrics
    ]
    summary = rate_summary(
        rate, args.trigger_seconds, landed_files(clicks), batches, started + args.warmup_seconds
    )
    total = spark.table(f"{options.schema}.ad_daily_clicks").agg(F.sum("clicks")).first()[0]
    summary["counted_clicks"] = sum(batch.counted_clicks for batch in job.metrics)
    summary["ad_daily_clicks_total"] = int(total or 0)
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ecom_analytics.bench.stream_probe",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--rates", default="10000,15000,20000,30000", help="clicks/s, increasing")
    parser.add_argument("--trigger-seconds", type=float, default=3.0, help="trigger interval")
    parser.add_argument("--seconds", type=float, default=40.0, help="seconds of feed per rate")
    parser.add_argument(
        "--warmup-seconds",
        type=float,
        default=10.0,
        help="batches starting and files landing this early in a rate do not count",
    )
    parser.add_argument(
        "--warmup-batches",
        type=int,
        default=30,
        help="batches of the first rate's size run before the rates, to warm the JVM up (0: none)",
    )
    parser.add_argument(
        "--source", choices=("files", "kafka"), default="files", help="what the job reads"
    )
    parser.add_argument(
        "--drain-seconds",
        type=float,
        default=30.0,
        help="after the feed, how long the job may take to read the rest before the rate ends",
    )
    parser.add_argument("--workdir", type=Path, required=True, help="scratch folder")
    parser.add_argument("--json", type=Path, required=True, help="write the figures here")
    args = parser.parse_args(argv)
    rates = sorted({int(float(text)) for text in args.rates.split(",") if text.strip()})
    if not rates or min(rates) < 1:
        parser.error(f"--rates must list positive clicks/s, got {args.rates!r}")

    with feed(args.source, args.workdir) as source:
        figures = probe(args, rates, source)
    args.json.write_text(json.dumps(figures, indent=2), encoding="utf-8")
    return 0


def probe(args: argparse.Namespace, rates: list[int], source: Feed) -> dict[str, Any]:
    """Warm the job up, then feed it each rate until one is not sustained; the figures."""
    from streaming.job import open_spark

    spark = open_spark(StreamOptions(), "ecom_analytics-bench-stream")
    warm = None
    if args.warmup_batches > 0:
        print(f"stream-probe: warming up: {args.warmup_batches} batches", flush=True)
        warm = warm_up(spark, rates[0], args, source)
        print(
            f"stream-probe: warmed up in {warm['wall_seconds']:g} s: batch "
            f"{warm['first_batch_seconds']} s first, {warm['last_batch_seconds']} s last",
            flush=True,
        )
    summaries = []
    for rate in rates:
        print(f"stream-probe: {rate:,} clicks/s for {args.seconds:g} s", flush=True)
        summary = probe_rate(spark, rate, args, source)
        summaries.append(summary)
        latency = summary["latency"] or {}
        print(
            f"stream-probe: {rate:,} clicks/s "
            f"{'sustained' if summary['sustained'] else 'NOT sustained'}: batches median "
            f"{summary['batch_seconds']['median']} s, max {summary['batch_seconds']['max']} s, "
            f"{summary['batches_over_trigger']} of {summary['steady_batches']} at or over the "
            f"trigger of {args.trigger_seconds:g} s; latency p50 {latency.get('p50')} s, p95 "
            f"{latency.get('p95')} s",
            flush=True,
        )
        if not summary["sustained"]:
            break
    spark.stop()
    best = highest_sustained(summaries)
    return {
        "source": args.source,
        "trigger_seconds": args.trigger_seconds,
        "seconds_per_rate": args.seconds,
        "warm_up": warm,
        "rates": summaries,
        "highest_sustained_rate": best["rate"] if best else None,
        "latency_at_highest_sustained": best["latency"] if best else None,
    }


if __name__ == "__main__":
    sys.exit(main())
