"""`ecom stream`: run the real-time ad traffic job (SPEC 4) on log files or Kafka."""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from pathlib import Path

from ecom_analytics.cli import CommandError
from ecom_analytics.kafka_broker.settings import DEFAULT_TOPIC, default_bootstrap_servers
from ecom_analytics.warehouse_lock import WarehouseUnavailable, metastore_uri
from streaming.checks import StreamSetupError
from streaming.options import (
    DEFAULT_MAX_AGE,
    DEFAULT_MAX_FUTURE,
    DEFAULT_THRESHOLD,
    DEFAULT_TRIGGER_INTERVAL,
    SOURCES,
    StreamOptions,
    default_checkpoint,
    default_input_dir,
    duration_ms,
    log_file,
)
from streaming.parsing import MAX_LINE_BYTES
from streaming.source import SourceError, check_broker, kafka_package
from streaming.tables import TableMismatchError, stream_schema

NAME = "stream"
HELP = "run the real-time ad traffic job (Structured Streaming, SPEC 4)"
DESCRIPTION = f"""\
Read ad-click log lines (SPEC 1.3: `<timestamp_ms> <province> <city> <user_id> <ad_id>`) from a
folder of log files or a Kafka topic, and keep the SPEC 4 tables up to date in the warehouse
($ECOM_WAREHOUSE_DIR) that dbt reads: ad_blacklist, ad_user_daily_clicks, ad_daily_clicks,
ad_province_top3, ad_click_trend, plus ad_clicks (every validated click, by day),
ad_click_quarantine (malformed lines with the reason) and ad_stream_batches (one row per batch).

Each micro-batch drops the clicks of users blacklisted before it began, then updates every count;
users whose clicks on one ad in one day exceed --threshold are blacklisted from the next batch
on, for good. Stop it any time (Ctrl-C, kill): started again with the same --checkpoint it goes
on where it stopped, without losing or double-counting a click. One line per batch reports
input rows, rows/s, duration, blacklist size and quarantined lines.

Malformed lines go to ad_click_quarantine with the reason, never stop the stream: lines that
break SPEC 1.3, lines over {MAX_LINE_BYTES:,} bytes, text that is not UTF-8, and clicks stamped
more than --max-future after or --max-age before their micro-batch's time.

Tables are Delta tables, each written once per micro-batch with Delta's transaction ids.
Kafka: the connector is on the embedded Spark's classpath (`make setup` fetches it); under
spark-submit, pass `--packages {kafka_package()}` (and Delta Lake's).

examples:
  ecom generate --ad-clicks 200000 --ad-click-files 20 && ecom stream --available-now
  ecom produce-clicks --rate 20000 &  ecom stream --trigger-interval '5 seconds'
  ecom kafka start && ecom produce-clicks --sink kafka &  ecom stream --source kafka
  ecom stream --source kafka --kafka-bootstrap-servers broker:9093 \\
      --kafka-topic clicks --kafka-option kafka.security.protocol=SSL
"""


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of 1 or more, got {text!r}")
    return value


def _duration(text: str) -> str:
    try:
        duration_ms(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return text


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `ecom stream`."""
    source = parser.add_argument_group("input")
    source.add_argument(
        "--source", choices=SOURCES, default="files", help="where lines come from (default: files)"
    )
    source.add_argument(
        "--input",
        metavar="DIR",
        default=default_input_dir(),
        help="folder of log files, for --source files (default: $ECOM_AD_CLICK_DIR, else "
        "data/ad_clicks); files are read in modification-time order, each once",
    )
    source.add_argument(
        "--max-files-per-trigger",
        type=_positive_int,
        metavar="N",
        help="at most N new files per micro-batch (default: all new files)",
    )
    source.add_argument(
        "--max-file-age",
        default="7d",
        metavar="AGE",
        help="Spark's file source ignores files older than the newest one it saw by more than "
        "this (default: %(default)s)",
    )
    source.add_argument(
        "--kafka-bootstrap-servers",
        metavar="HOSTS",
        help="for --source kafka: the brokers (default $ECOM_KAFKA_BOOTSTRAP_SERVERS, else the "
        "local broker of `ecom kafka start`, 127.0.0.1:9092)",
    )
    source.add_argument(
        "--kafka-topic",
        metavar="TOPIC",
        default=DEFAULT_TOPIC,
        help="for --source kafka: the topic (default: %(default)s)",
    )
    source.add_argument(
        "--kafka-starting-offsets",
        default="earliest",
        metavar="OFFSETS",
        help="where a new checkpoint starts reading: earliest (all the topic keeps), latest "
        "(only records produced from now on) or JSON offsets per partition (default: earliest); "
        "a checkpoint goes on from its own offsets",
    )
    source.add_argument(
        "--kafka-option",
        action="append",
        default=[],
        metavar="kafka.NAME=VALUE",
        help="a setting of Spark's Kafka consumer, passed as it is (repeat it): e.g. "
        "kafka.security.protocol=SASL_SSL, kafka.sasl.mechanism=PLAIN, kafka.sasl.jaas.config=...",
    )
    source.add_argument(
        "--fail-on-data-loss",
        choices=("true", "false"),
        default="true",
        help="stop when records the checkpoint still needs are gone (deleted by retention, topic "
        "recreated): true keeps counts exact; false skips them with a warning (default: true)",
    )
    source.add_argument(
        "--max-offsets-per-trigger",
        type=_positive_int,
        metavar="N",
        help="at most N Kafka records per micro-batch (default: all available)",
    )

    run = parser.add_argument_group("processing")
    run.add_argument(
        "--checkpoint",
        metavar="DIR",
        default=default_checkpoint(),
        help="the stream's checkpoint (default: $ECOM_WAREHOUSE_DIR/checkpoints/ad_stream); "
        "restart with the same one to resume",
    )
    run.add_argument(
        "--schema",
        default=stream_schema(),
        help="schema of the tables (default: $ECOM_AD_STREAM_SCHEMA, else $ECOM_SCHEMA, else ecom)",
    )
    run.add_argument(
        "--threshold",
        type=_positive_int,
        default=DEFAULT_THRESHOLD,
        metavar="N",
        help="a user with more than N clicks on one ad in one day is blacklisted "
        "(default: %(default)s)",
    )
    when = run.add_mutually_exclusive_group()
    when.add_argument(
        "--available-now",
        action="store_true",
        help="process what is there now (in batches of --max-files-per-trigger), then stop",
    )
    when.add_argument(
        "--trigger-interval",
        default=DEFAULT_TRIGGER_INTERVAL,
        metavar="INTERVAL",
        help="start a micro-batch this often while running (default: '%(default)s')",
    )
    run.add_argument(
        "--timeout",
        type=float,
        metavar="SECONDS",
        help="stop after this many seconds (default: run until Ctrl-C or, with "
        "--available-now, until the input is processed)",
    )
    run.add_argument(
        "--max-future",
        type=_duration,
        default=DEFAULT_MAX_FUTURE,
        metavar="DURATION",
        help="quarantine clicks stamped more than this after their micro-batch's time "
        "(timestamp_in_future; default: '%(default)s'; 'off': no bound)",
    )
    run.add_argument(
        "--max-age",
        type=_duration,
        default=DEFAULT_MAX_AGE,
        metavar="DURATION",
        help="quarantine clicks stamped more than this before their micro-batch's time "
        "(timestamp_too_old; default: '%(default)s', room to replay a week of logs; 'off' for "
        "archives of any age)",
    )
    run.add_argument(
        "--reset",
        action="store_true",
        help="first drop the streaming tables (all their data) and delete the checkpoint",
    )


def kafka_options(pairs: list[str]) -> tuple[tuple[str, str], ...]:
    """`kafka.NAME=VALUE` settings as (name, value); CommandError for anything else."""
    found = []
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.startswith("kafka.") or name == "kafka.":
            raise CommandError(
                f"--kafka-option {pair!r}: expected kafka.NAME=VALUE, a setting of the Kafka "
                "consumer such as kafka.security.protocol=SSL"
            )
        if name == "kafka.bootstrap.servers":
            raise CommandError("give the brokers with --kafka-bootstrap-servers")
        found.append((name, value))
    return tuple(found)


def options_from(args: argparse.Namespace) -> StreamOptions:
    """Validated options; CommandError for what a user has to fix."""
    if args.source != "kafka" and args.kafka_option:
        raise CommandError("--kafka-option is for --source kafka")
    if args.source == "files" and not Path(args.input).is_dir() and "://" not in args.input:
        raise CommandError(
            f"--input {args.input} is not a folder: write click logs there with "
            "`ecom generate --ad-clicks N` or `ecom produce-clicks`, or point --input at yours"
        )
    return StreamOptions(
        source=args.source,
        input_dir=args.input,
        kafka_bootstrap_servers=args.kafka_bootstrap_servers
        or default_bootstrap_servers(os.environ),
        kafka_topic=args.kafka_topic,
        kafka_starting_offsets=args.kafka_starting_offsets,
        kafka_options=kafka_options(args.kafka_option),
        fail_on_data_loss=args.fail_on_data_loss == "true",
        max_offsets_per_trigger=args.max_offsets_per_trigger,
        checkpoint=args.checkpoint,
        schema=args.schema,
        threshold=args.threshold,
        max_files_per_trigger=args.max_files_per_trigger,
        max_file_age=args.max_file_age,
        available_now=args.available_now,
        trigger_interval=args.trigger_interval,
        max_future_ms=duration_ms(args.max_future),
        max_age_ms=duration_ms(args.max_age),
    )


def _failure(error: Exception, options: StreamOptions) -> str:
    """What stopped a running stream, in a line: the metastore service or the Kafka brokers
    gone, or Spark's first line."""
    uri = metastore_uri()
    if uri:
        from dbt.adapters.sparkoss.metastore import MetastoreUnavailable, unanswered

        try:
            reason = unanswered(uri)
        except MetastoreUnavailable:
            reason = None
        if reason is not None:
            return (
                f"the metastore service at {uri} does not answer ({reason}); start it again "
                "(`ecom metastore start`)"
            )
    if options.source == "kafka":
        from ecom_analytics.kafka_broker.client import refused

        reason = refused(options.kafka_bootstrap_servers or "")
        if reason is not None:
            return (
                f"the Kafka brokers at {options.kafka_bootstrap_servers} do not answer ({reason})"
            )
    return (str(error).strip().splitlines() or [type(error).__name__])[0][:500]


def _keep_trace(options: StreamOptions, trace: str) -> str:
    """Append a failure's full trace to the stream's log; returns the log's path."""
    path = log_file(options.checkpoint)
    with open(path, "a", encoding="utf-8") as log:
        log.write(f"\n{trace}\n")
    return path


def run(args: argparse.Namespace) -> int:
    """Start Spark, run the stream, report how it ended."""
    from pyspark.errors import StreamingQueryException

    from ecom_analytics.spark_session import warehouse_dir
    from streaming.job import open_spark, reset, run_stream

    options = options_from(args)
    if options.source == "kafka":
        try:
            check_broker(options)
        except SourceError as error:
            raise CommandError(str(error)) from None
    os.makedirs(os.path.dirname(os.path.abspath(options.checkpoint)), exist_ok=True)
    try:
        spark = open_spark(options)
        if args.reset:
            reset(spark, options)
            print(f"ad-stream: dropped the streaming tables of {options.schema} and the checkpoint")
        metrics = run_stream(spark, options, timeout_seconds=args.timeout)
    except (WarehouseUnavailable, StreamSetupError, TableMismatchError, SourceError) as error:
        raise CommandError(str(error)) from None
    except StreamingQueryException as error:
        trace = _keep_trace(options, f"{error}\n{traceback.format_exc()}")
        print(
            f"ecom stream: the stream stopped: {_failure(error, options)} (full trace in "
            f"{trace}).\nFix the cause and run the same command again: it resumes from "
            f"{options.checkpoint} without losing or double-counting a click.",
            file=sys.stderr,
        )
        return 1
    except Exception as error:  # Spark, the warehouse or the checkpoint could not be opened
        trace = _keep_trace(options, traceback.format_exc())
        first = (str(error).strip().splitlines() or [type(error).__name__])[0][:300]
        warehouse = warehouse_dir()
        print(
            f"ecom stream: could not start: {first} (full trace in {trace}). Check that no "
            f"other program uses the warehouse ({warehouse}) "
            f"or the checkpoint ({options.checkpoint}) and that both are writable, then run the "
            "same command again.",
            file=sys.stderr,
        )
        return 1
    lines = sum(batch.input_lines for batch in metrics)
    print(
        f"ad-stream: {len(metrics)} batches, {lines:,} lines; tables in schema {options.schema}, "
        f"checkpoint {options.checkpoint}"
    )
    return 0
