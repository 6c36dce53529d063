"""`ecom demo`: the main job end to end on the embedded `local` target.

1. data: generate the demo data set into $ECOM_RAW_DIR, unless that folder holds data of your
   own (data without the generator's manifest is used as it is, never overwritten);
2. the real-time ad traffic job (`ecom stream --available-now`) over the ad-click logs in
   $ECOM_AD_CLICK_DIR, started over on every demo run (the logs are regenerated too);
3. `dbt build`: seeds, staging, the Python and SQL models, their tests, for the default task;
4. `dbt docs generate --static`: the docs site;
5. a summary of what was built and tested, and where to look next.

The stream and dbt run in this process (one JVM for all of it).
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from pathlib import Path

from ecom_analytics.cli import CommandError
from ecom_analytics.generator.config import ConfigError, GenerateConfig
from ecom_analytics.generator.output import read_own_manifest
from ecom_analytics.generator.pipeline import generate
from ecom_analytics.run_summary import summarise_target

NAME = "demo"
HELP = "run the main job end to end: demo data, dbt build, docs site"
DESCRIPTION = __doc__ or ""

PROJECT_ROOT = Path(__file__).resolve().parents[1]


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


def invoke_dbt(*args: str) -> None:
    from dbt.cli.main import dbtRunner

    outcome = dbtRunner().invoke(list(args))
    if outcome.exception is not None:
        raise CommandError(f"dbt {' '.join(args)} stopped: {outcome.exception}")


def run(args: argparse.Namespace) -> int:
    os.chdir(PROJECT_ROOT)
    steps = Steps(total=3 if args.no_docs else 4)
    steps.run("demo data", lambda: prepare_data(args))
    steps.run("real-time ad traffic: ecom stream --available-now", run_ad_stream)
    steps.run("dbt build (seeds, models, tests) on the embedded Spark", lambda: invoke_dbt("build"))
    summary = summarise_target(PROJECT_ROOT / "target")
    if not args.no_docs:
        steps.run(
            "dbt docs generate",
            lambda: invoke_dbt("docs", "generate", "--static") or "target/static_index.html",
        )

    print("\n==> summary")
    for line in summary.lines():
        print(f"    {line}")
    warehouse = os.environ.get("ECOM_WAREHOUSE_DIR", ".warehouse")
    print(f"    warehouse:    {warehouse} (metastore_db/ and warehouse/)")
    if not args.no_docs:
        print(
            "    docs site:    target/static_index.html (one file), "
            "or `.venv/bin/dbt docs serve` for the served site"
        )
    print(
        "    dashboards:   `make dashboard` (or `.venv/bin/ecom dashboard`), http://127.0.0.1:8501"
    )
    return 1 if summary.problems else 0
