"""`ecom produce-clicks`: a live ad-click log (SPEC 1.3) at a chosen rate, for `ecom stream`.

Event time runs from --start in chunks of --chunk-seconds; each chunk is drawn in one go by the
generator's `click_lines` (ecom_analytics/generator/adclicks.py) from a random stream derived
from (--seed, chunk number), so the same options give the same lines, and split by event time
into files of --file-seconds each. In real time (the default) a file is written when its last
second has passed; with --no-wait as fast as possible. Files appear atomically, named
`clicks-<first event ms>.log`, in event-time order. A share of the clicks comes from a few heavy
clickers, each over the blacklist threshold on one ad within the chunk, and a share of the lines
is malformed, spread over the generator's kinds.

--sink says where the lines go: `files` (default, into --output), `kafka` (one record per line
into --kafka-topic: the line's UTF-8 bytes as value, no key, so records spread evenly over the
partitions, as the stream needs no per-user order), or `files,kafka`. Every record's delivery is
confirmed; an unreachable broker or an undelivered record stops the producer with one line and
a non-zero exit.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from ecom_analytics.cli import CommandError
from ecom_analytics.generator.adclicks import click_lines
from ecom_analytics.generator.output import write_log_file
from ecom_analytics.kafka_broker.client import KafkaUnreachable
from ecom_analytics.kafka_broker.settings import DEFAULT_TOPIC, default_bootstrap_servers
from ecom_analytics.services.settings import SettingsError

NAME = "produce-clicks"
HELP = "write a live ad-click log at a chosen rate, to files or Kafka"
DESCRIPTION = (
    (__doc__ or "")
    + """
examples:
  ecom produce-clicks --rate 20000                     # until Ctrl-C, into $ECOM_AD_CLICK_DIR
  ecom produce-clicks --rate 5000 --seconds 120 --start 2026-11-20T10:00:00 --no-wait
  ecom kafka start && ecom produce-clicks --sink kafka --rate 20000   # to 127.0.0.1:9092
  ecom produce-clicks --sink files,kafka --kafka-bootstrap-servers broker:9092 --kafka-topic t

environment: ECOM_AD_CLICK_DIR (--output), ECOM_KAFKA_BOOTSTRAP_SERVERS (--kafka-bootstrap-servers;
default 127.0.0.1:$ECOM_KAFKA_PORT, else 127.0.0.1:9092).
"""
)


@dataclass(frozen=True)
class ProducerConfig:
    """Everything that decides the lines (the rest decides only where and when they go)."""

    start_ms: int
    rate: float = 1000.0
    file_seconds: float = 1.0
    chunk_seconds: float = 60.0
    seed: int = 42
    users: int = 1000
    ads: int = 20
    heavy_share: float = 0.05
    malformed_share: float = 0.01

    def __post_init__(self) -> None:
        if not 0 < self.rate < math.inf:
            raise ValueError(f"--rate must be a positive number, got {self.rate}")
        if not 0.001 <= self.file_seconds <= self.chunk_seconds:
            raise ValueError("--file-seconds must be at least 0.001 and at most --chunk-seconds")
        if self.users < 1 or self.ads < 1:
            raise ValueError("--users and --ads must be 1 or more")
        for name in ("heavy_share", "malformed_share"):
            if not 0 <= getattr(self, name) < 1:
                raise ValueError(f"--{name.replace('_', '-')} must be in [0, 1)")
        if self.heavy_share + self.malformed_share >= 1:
            raise ValueError("--heavy-share plus --malformed-share must stay below 1")

    @property
    def file_ms(self) -> int:
        return max(1, round(self.file_seconds * 1000))

    @property
    def files_per_chunk(self) -> int:
        return max(1, round(self.chunk_seconds * 1000 / self.file_ms))


@dataclass(frozen=True)
class LogFile:
    """One file to write: its name, first event time and lines."""

    name: str
    start_ms: int
    lines: pa.Array


def chunk_files(config: ProducerConfig, chunk: int) -> list[LogFile]:
    """The files of chunk number `chunk`, in event-time order (deterministic)."""
    span_ms = config.file_ms * config.files_per_chunk
    start_ms = config.start_ms + chunk * span_ms
    count = math.floor((chunk + 1) * span_ms * config.rate / 1000) - math.floor(
        chunk * span_ms * config.rate / 1000
    )
    batch = click_lines(
        np.random.default_rng([config.seed, chunk]),
        count,
        start_ms,
        span_ms,
        users=config.users,
        ads=config.ads,
        heavy_share=config.heavy_share,
        malformed_share=config.malformed_share,
    )
    starts = start_ms + config.file_ms * np.arange(config.files_per_chunk + 1)
    bounds = np.searchsorted(batch.timestamp_ms, starts)
    return [
        LogFile(
            name=f"clicks-{int(starts[index])}.log",
            start_ms=int(starts[index]),
            lines=batch.lines.slice(int(bounds[index]), int(bounds[index + 1] - bounds[index])),
        )
        for index in range(config.files_per_chunk)
    ]


def log_files(config: ProducerConfig, files: int | None) -> Iterator[LogFile]:
    """The first `files` files (all, endlessly, for None)."""
    produced, chunk = 0, 0
    while files is None or produced < files:
        for log_file in chunk_files(config, chunk):
            if files is not None and produced >= files:
                return
            yield log_file
            produced += 1
        chunk += 1


SINKS = ("files", "kafka")
KAFKA_CONNECT_TIMEOUT = 10.0
KAFKA_DELIVERY_TIMEOUT_MS = 60_000
"""A record not acknowledged within this time counts as failed (librdkafka retries until then)."""


class DeliveryFailed(Exception):
    """Records the broker did not acknowledge; the message says how many and why."""


class KafkaSink:
    """Sends each line as one record, value only, and counts the broker's acknowledgements.

    The idempotent producer keeps retries from writing a record twice. Delivery reports are
    collected as lines go out; `close` waits for the last ones.
    """

    def __init__(
        self, servers: str, topic: str, connect_timeout: float = KAFKA_CONNECT_TIMEOUT
    ) -> None:
        from confluent_kafka import Producer

        from ecom_analytics.kafka_broker.client import ErrorLog, client_config, metadata

        self.servers, self.topic = servers, topic
        self.sent = self.delivered = self.failed = 0
        self.first_failure = ""
        errors = ErrorLog()
        config = client_config(servers, errors)
        config.update(
            {
                "enable.idempotence": True,
                "linger.ms": 20,
                # each keyless record to a random partition, not whole bursts to one
                "sticky.partitioning.linger.ms": 0,
                "message.timeout.ms": KAFKA_DELIVERY_TIMEOUT_MS,
            }
        )
        self.producer: Any = Producer(config)
        metadata(self.producer, servers, connect_timeout, errors)  # KafkaUnreachable if down

    def _report(self, error: Any, _message: Any) -> None:
        if error is None:
            self.delivered += 1
            return
        self.failed += 1
        self.first_failure = self.first_failure or error.str()

    def _check(self) -> None:
        if self.failed:
            raise DeliveryFailed(
                f"{self.failed:,} of {self.sent:,} records were not delivered to Kafka topic "
                f"{self.topic!r} at {self.servers} ({self.first_failure})"
            )

    def send(self, lines: pa.Array) -> None:
        from confluent_kafka import KafkaException

        for line in lines.to_pylist():
            self.sent += 1
            while True:
                try:
                    self.producer.produce(
                        self.topic, line.encode("utf-8"), on_delivery=self._report
                    )
                    break
                except BufferError:  # local queue full: let it drain
                    self.producer.poll(0.1)
                except KafkaException as refusal:  # e.g. an invalid topic name
                    self._report(refusal.args[0], None)
                    self.close()  # the records before it: delivered, or failed too
        self.producer.poll(0)
        self._check()

    def close(self) -> None:
        """Wait until every record sent is acknowledged or has failed."""
        self.producer.flush()
        self._check()


def produce(
    config: ProducerConfig,
    output: Path | None,
    *,
    files: int | None,
    wait: bool,
    kafka: KafkaSink | None = None,
    log: Callable[[str], None] = print,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """Write the files and/or send their lines; returns the number of lines produced (with
    Kafka, once every record is acknowledged: DeliveryFailed when one was not)."""
    if output is not None:
        output.mkdir(parents=True, exist_ok=True)
    try:
        lines = _produce(config, output, files, wait, kafka, log, clock, sleep)
    except KeyboardInterrupt:
        if kafka is not None:
            kafka.close()  # what was sent before Ctrl-C still arrives, or is reported
        raise
    if kafka is not None:
        kafka.close()
    return lines


def _produce(
    config: ProducerConfig,
    output: Path | None,
    files: int | None,
    wait: bool,
    kafka: KafkaSink | None,
    log: Callable[[str], None],
    clock: Callable[[], float],
    sleep: Callable[[float], None],
) -> int:
    began, lines, last_report = clock(), 0, clock()
    for index, log_file in enumerate(log_files(config, files)):
        if wait:
            due = began + (index + 1) * config.file_ms / 1000
            sleep(max(0.0, due - clock()))
        if output is not None:
            path = output / log_file.name
            if path.exists():
                raise CommandError(f"{path} exists already: choose another --start or --output")
            write_log_file(path, log_file.lines)
        if kafka is not None:
            kafka.send(log_file.lines)
        lines += len(log_file.lines)
        if clock() - last_report >= 10 or (files is not None and index + 1 == files):
            last_report = clock()
            end = datetime.fromtimestamp((log_file.start_ms + config.file_ms) / 1000, timezone.utc)
            log(
                f"produce-clicks: {index + 1:,} files, {lines:,} lines, event time up to "
                f"{end:%Y-%m-%d %H:%M:%S} UTC, {lines / max(clock() - began, 1e-9):,.0f} lines/s"
            )
    return lines


def _start_ms(text: str) -> int:
    """`now` or an ISO date-time (UTC unless it names a zone) as epoch milliseconds."""
    if text == "now":
        return int(time.time()) * 1000
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected 'now' or a date-time such as 2026-11-20T10:00:00, got {text!r}"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return int(moment.timestamp() * 1000)


def _sinks(text: str) -> tuple[str, ...]:
    """`files`, `kafka` or `files,kafka`."""
    sinks = tuple(dict.fromkeys(part.strip() for part in text.split(",")))
    if not sinks or any(sink not in SINKS for sink in sinks):
        raise argparse.ArgumentTypeError(f"expected files, kafka or files,kafka, got {text!r}")
    return sinks


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `ecom produce-clicks`."""
    where = parser.add_argument_group("output")
    where.add_argument(
        "--output",
        type=Path,
        metavar="DIR",
        default=Path(os.environ.get("ECOM_AD_CLICK_DIR", "data/ad_clicks")),
        help="folder for the log files (default: $ECOM_AD_CLICK_DIR, else data/ad_clicks)",
    )
    where.add_argument(
        "--sink",
        type=_sinks,
        default=("files",),
        metavar="files|kafka|files,kafka",
        help="where the lines go (default files)",
    )
    where.add_argument(
        "--kafka-bootstrap-servers",
        metavar="HOSTS",
        help="with --sink kafka: the brokers (default $ECOM_KAFKA_BOOTSTRAP_SERVERS, else the "
        "local broker of `ecom kafka start`, 127.0.0.1:9092)",
    )
    where.add_argument(
        "--kafka-topic",
        metavar="TOPIC",
        help=f"with --sink kafka: the topic (default {DEFAULT_TOPIC}; the broker of `ecom kafka` "
        "creates a missing topic with 3 partitions)",
    )

    pace = parser.add_argument_group("pace")
    pace.add_argument("--rate", type=float, default=1000.0, help="clicks per second (default 1000)")
    pace.add_argument(
        "--file-seconds", type=float, default=1.0, help="seconds of clicks per file (default 1)"
    )
    stop = pace.add_mutually_exclusive_group()
    stop.add_argument("--files", type=int, metavar="N", help="stop after N files")
    stop.add_argument("--seconds", type=float, metavar="S", help="stop after S seconds of clicks")
    pace.add_argument(
        "--no-wait", action="store_true", help="write as fast as possible, not in real time"
    )

    shape = parser.add_argument_group("clicks")
    shape.add_argument(
        "--start",
        type=_start_ms,
        default="now",
        help="event time of the first click: 'now' (default) or e.g. 2026-11-20T10:00:00 (UTC); "
        "with a fixed start the output is the same on every run",
    )
    shape.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    shape.add_argument("--users", type=int, default=1000, help="clicking users (default 1000)")
    shape.add_argument("--ads", type=int, default=20, help="ads (default 20)")
    shape.add_argument(
        "--chunk-seconds",
        type=float,
        default=60.0,
        help="seconds of clicks drawn together; heavy clickers burst within one (default 60)",
    )
    shape.add_argument(
        "--heavy-share",
        type=float,
        default=0.05,
        help="share of clicks from a few heavy clickers, each over 100 clicks on one ad in a "
        "chunk (default 0.05)",
    )
    shape.add_argument(
        "--malformed-share", type=float, default=0.01, help="share of malformed lines (0.01)"
    )


def run(args: argparse.Namespace) -> int:
    """Validate, then produce until done or Ctrl-C."""
    try:
        config = ProducerConfig(
            start_ms=args.start,
            rate=args.rate,
            file_seconds=args.file_seconds,
            chunk_seconds=args.chunk_seconds,
            seed=args.seed,
            users=args.users,
            ads=args.ads,
            heavy_share=args.heavy_share,
            malformed_share=args.malformed_share,
        )
    except ValueError as error:
        raise CommandError(str(error)) from None
    if "kafka" not in args.sink and (args.kafka_bootstrap_servers or args.kafka_topic):
        raise CommandError("--kafka-bootstrap-servers and --kafka-topic need --sink kafka")
    files = args.files
    if args.seconds is not None:
        files = max(1, round(args.seconds * 1000 / config.file_ms))
    kafka = None
    if "kafka" in args.sink:
        try:
            servers = args.kafka_bootstrap_servers or default_bootstrap_servers(os.environ)
            kafka = KafkaSink(servers, args.kafka_topic or DEFAULT_TOPIC)
        except SettingsError as error:
            raise CommandError(str(error)) from None
        except KafkaUnreachable as error:
            raise CommandError(
                f"{error}; start one with `ecom kafka start`, or give --kafka-bootstrap-servers"
            ) from None
    output = args.output if "files" in args.sink else None
    try:
        lines = produce(config, output, files=files, wait=not args.no_wait, kafka=kafka)
    except DeliveryFailed as failure:
        print(f"ecom produce-clicks: error: {failure}", file=sys.stderr)
        return 1
    where = [str(output)] if output is not None else []
    if kafka is not None:
        where.append(f"Kafka topic {kafka.topic!r} at {kafka.servers} ({kafka.delivered:,} acked)")
    print(f"produce-clicks: done, {lines:,} lines to {' and '.join(where)}", file=sys.stderr)
    return 0
