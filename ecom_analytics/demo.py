"""`ecom demo`: the main job end to end on the embedded `local` target.

1. data: generate the demo data set into $ECOM_RAW_DIR, unless that folder holds data of your
   own (data without the generator's manifest is used as it is, never overwritten);
2. the warehouse's metastore service (`ecom metastore start`), so that several programs use
   the warehouse at once; a service that $ECOM_METASTORE_URI names, or one already running for
   the warehouse, is used instead;
3. the real-time ad traffic job (`ecom stream --available-now`) over the ad-click logs in
   $ECOM_AD_CLICK_DIR, started over on every demo run (the logs are regenerated too);
4. `dbt build`: seeds, staging, the Python and SQL models, their tests, for the default task;
5. the daily run beside the live stream, as a shop runs its stream all day and its daily build
   beside it: `ecom produce-clicks` feeding `ecom stream` (processes of their own) while the
   daily chain runs (`dbt build -s +area_top3_products stg_ecom__quarantined_actions`), then
   both stopped;
6. `dbt docs generate --static`: the docs site;
7. a summary of what was built and tested, and where to look next. A metastore service the
   demo started is stopped: it served the warehouse's own metastore_db, so every table stays.

The bounded stream and dbt run in this process (one JVM for both).
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from ecom_analytics.cli import CommandError
from ecom_analytics.generator.config import ConfigError, GenerateConfig
from ecom_analytics.generator.output import read_own_manifest
from ecom_analytics.generator.pipeline import generate
from ecom_analytics.run_summary import RunSummary, summarise_target
from ecom_analytics.warehouse_lock import ENV_METASTORE_URI, metastore_uri

if TYPE_CHECKING:
    from ecom_analytics.live_stream import Ending
    from ecom_analytics.metastore.settings import MetastoreSettings

NAME = "demo"
HELP = "run the main job end to end: demo data, dbt build, docs site"
DESCRIPTION = __doc__ or ""

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DAILY_RUN = ("build", "-s", "+area_top3_products", "stg_ecom__quarantined_actions")
"""The README's daily chain ("Daily runs and backfills"), for the newest day in the data."""
LIVE_CLICKS_PER_SECOND = 200
FIRST_BATCH_WAIT_SECONDS = 90.0
METASTORE_START_TIMEOUT = 300.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--days", type=int, default=7, help="days of demo data to generate (default 7)"
    )
    parser.add_argument(
        "--sessions-per-day",
        type=int,
        default=2000,
        help="sessions per day of demo data (default 2000)",
    )
    parser.add_argument(
        "--dirt-share",
        type=float,
        default=0.005,
        help="share of contract-breaking raw rows, to see the quarantine at work (default 0.005)",
    )
    parser.add_argument(
        "--ad-clicks",
        type=int,
        default=200_000,
        help="ad-click log lines for the streaming module (default 200000)",
    )
    parser.add_argument("--no-docs", action="store_true", help="skip `dbt docs generate`")


class Steps:
    """Numbered, timed progress lines."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.done = 0

    def run(self, title: str, action: Callable[[], str | None]) -> None:
        self.done += 1
        print(f"\n==> [{self.done}/{self.total}] {title}", flush=True)
        started = time.monotonic()
        note = action()
        print(f"==> done in {time.monotonic() - started:.0f} s{f': {note}' if note else ''}")


def prepare_data(args: argparse.Namespace) -> str:
    raw_dir = Path(os.environ.get("ECOM_RAW_DIR", "data/raw"))
    has_files = raw_dir.is_dir() and any(raw_dir.iterdir())
    if has_files and read_own_manifest(raw_dir) is None:
        return f"using your data in {raw_dir} (ECOM_RAW_DIR); nothing generated"
    try:
        config = GenerateConfig(
            raw_dir=raw_dir,
            ad_click_dir=Path(os.environ.get("ECOM_AD_CLICK_DIR", "data/ad_clicks")),
            days=args.days,
            sessions_per_day=args.sessions_per_day,
            dirt_share=args.dirt_share,
            ad_clicks=args.ad_clicks,
            ad_click_files=20 if args.ad_clicks >= 20 else 1,
        )
    except ConfigError as error:
        raise CommandError(f"--{error.field.replace('_', '-')} {error}") from None
    summary = generate(config, progress=True)
    return summary.line()


def run_ad_stream() -> str:
    """A bounded run of the streaming job over the demo's ad-click logs (SPEC 4)."""
    from streaming.job import open_spark, reset, run_stream
    from streaming.options import StreamOptions
    from streaming.tables import stream_schema

    ad_dir = Path(os.environ.get("ECOM_AD_CLICK_DIR", "data/ad_clicks"))
    if not ad_dir.is_dir():
        return f"skipped: no ad-click logs in {ad_dir} (ECOM_AD_CLICK_DIR)"
    # the demo logs are an archive of the generator's fixed days: no bound on their age
    options = StreamOptions(
        input_dir=str(ad_dir),
        schema=stream_schema(),
        max_files_per_trigger=5,
        available_now=True,
        max_age_ms=None,
    )
    spark = open_spark(options)
    reset(spark, options)
    metrics = run_stream(spark, options)
    lines = sum(batch.input_lines for batch in metrics)
    blacklist = metrics[-1].blacklist_size if metrics else 0
    return (
        f"{len(metrics)} micro-batches, {lines:,} lines, {blacklist} users blacklisted; "
        f"tables {options.schema}.ad_*"
    )


@dataclass
class SharedMetastore:
    """The metastore service every program of the demo uses, and whether the demo started it."""

    uri: str = ""
    started: MetastoreSettings | None = None
    how: str = ""


def open_metastore(shared: SharedMetastore) -> str:
    """Point ECOM_METASTORE_URI at the warehouse's metastore service, starting one if needed
    (on a free port when the default one is taken)."""
    from ecom_analytics.metastore import server
    from ecom_analytics.metastore.settings import settings_from
    from ecom_analytics.services.network import free_ports, port_is_free
    from ecom_analytics.services.service import ServiceError
    from ecom_analytics.services.settings import SettingsError

    uri = metastore_uri()
    try:
        settings = settings_from(os.environ, PROJECT_ROOT)
        pid = server.running_pid(settings)
        if uri:
            shared.how = f"the service {ENV_METASTORE_URI} names"
        elif pid is not None:
            uri = server.recorded_settings(settings).uri
            shared.how = f"the service already running for the warehouse (pid {pid})"
        else:
            if not port_is_free(settings.bind_address, settings.port):
                settings = replace(settings, port=free_ports(1, settings.bind_address)[0])
            if server.start(settings, METASTORE_START_TIMEOUT) != 0:
                raise CommandError("the metastore service did not start (its log's end above)")
            uri, shared.started, shared.how = settings.uri, settings, "started for this demo"
    except (ServiceError, SettingsError) as problem:
        raise CommandError(f"the metastore service: {problem}") from None
    shared.uri = uri
    os.environ[ENV_METASTORE_URI] = uri
    return f"{uri}: {shared.how}; the stream and dbt use it at once"


def close_metastore(shared: SharedMetastore) -> str:
    """Stop the service the demo started (none else); the warehouse keeps every table."""
    if shared.started is None:
        return f"the metastore service at {shared.uri} keeps running ({shared.how})"
    from ecom_analytics.metastore import server

    server.stop(shared.started, report=lambda _: None)
    os.environ.pop(ENV_METASTORE_URI, None)
    return (
        f"the metastore service ({shared.uri}) is stopped; `ecom metastore start` serves the "
        "warehouse to several programs again"
    )


@dataclass
class BesideTheStream:
    """What the daily run beside the live stream did."""

    summary: RunSummary | None = None
    batches_during_build: int = 0
    batches: int = 0
    endings: list[Ending] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return bool(self.endings) and all(ending.clean for ending in self.endings)

    def lines(self) -> list[str]:
        daily = "did not run"
        if self.summary is not None:
            models = sum(self.summary.models.values())
            tests = sum(self.summary.tests.values())
            problems = f", {len(self.summary.problems)} problems" if self.summary.problems else ""
            daily = f"{models} models and {tests} data tests{problems}, beside the live stream"
        return [
            f"daily run:    {daily}",
            f"live stream:  {self.batches} micro-batches ({self.batches_during_build} during the "
            "daily run); " + "; ".join(ending.describe() for ending in self.endings),
        ]


def stream_batches() -> int:
    """Micro-batches the stream has committed (rows of ad_stream_batches), through the
    metastore service like any other program."""
    from pyspark.sql import SparkSession

    from streaming.tables import stream_schema

    spark = SparkSession.builder.getOrCreate()
    return spark.table(f"{stream_schema()}.ad_stream_batches").count()


def daily_run_beside_live_stream(result: BesideTheStream) -> str:
    """`ecom produce-clicks` and `ecom stream` in the background while the daily chain builds;
    then both stopped. The stream continues from the bounded run's checkpoint."""
    from ecom_analytics.live_stream import LiveStream

    ad_dir = Path(os.environ.get("ECOM_AD_CLICK_DIR", "data/ad_clicks"))
    before = stream_batches()
    live = LiveStream.start(
        ad_dir, PROJECT_ROOT / "logs" / "live-stream", rate=LIVE_CLICKS_PER_SECOND
    )
    try:
        invoke_dbt(*DAILY_RUN)
        result.summary = summarise_target(PROJECT_ROOT / "target")
        result.batches_during_build = stream_batches() - before
        deadline = time.monotonic() + FIRST_BATCH_WAIT_SECONDS
        while stream_batches() == before and live.running() and time.monotonic() < deadline:
            time.sleep(2)  # a slow JVM start: let the stream show one live batch at least
    finally:
        result.endings = live.stop()
    result.batches = stream_batches() - before
    if not result.clean:
        raise CommandError(
            "the live stream did not stop cleanly: "
            + "; ".join(ending.describe() for ending in result.endings)
            + f" (logs in {live.log_dir})"
        )
    return (
        f"{result.batches} live micro-batches ({result.batches_during_build} during the daily "
        "run); producer and stream stopped"
    )


def invoke_dbt(*args: str) -> None:
    from dbt.cli.main import dbtRunner

    outcome = dbtRunner().invoke(list(args))
    if outcome.exception is not None:
        raise CommandError(f"dbt {' '.join(args)} stopped: {outcome.exception}")


def run(args: argparse.Namespace) -> int:
    os.chdir(PROJECT_ROOT)
    steps = Steps(total=5 if args.no_docs else 6)
    steps.run("demo data", lambda: prepare_data(args))
    metastore = SharedMetastore()
    beside = BesideTheStream()
    try:
        steps.run("metastore service: ecom metastore start", lambda: open_metastore(metastore))
        steps.run("real-time ad traffic: ecom stream --available-now", run_ad_stream)
        steps.run(
            "dbt build (seeds, models, tests) on the embedded Spark", lambda: invoke_dbt("build")
        )
        summary = summarise_target(PROJECT_ROOT / "target")
        steps.run(
            "the daily run beside the live stream: ecom produce-clicks | ecom stream, and dbt",
            lambda: daily_run_beside_live_stream(beside),
        )
        if not args.no_docs:
            steps.run(
                "dbt docs generate",
                lambda: invoke_dbt("docs", "generate", "--static") or "target/static_index.html",
            )
    finally:
        closed = close_metastore(metastore) if metastore.uri else ""

    print("\n==> summary")
    for line in summary.lines() + beside.lines():
        print(f"    {line}")
    warehouse = os.environ.get("ECOM_WAREHOUSE_DIR", ".warehouse")
    print(f"    warehouse:    {warehouse} (metastore_db/ and warehouse/)")
    print(f"    metastore:    {closed}")
    if not args.no_docs:
        print(
            "    docs site:    target/static_index.html (one file), "
            "or `.venv/bin/dbt docs serve` for the served site"
        )
    print(
        "    dashboards:   `make dashboard` (or `.venv/bin/ecom dashboard`), http://127.0.0.1:8501"
    )
    daily_problems = beside.summary.problems if beside.summary else ["no daily run"]
    return 1 if summary.problems or daily_problems else 0
