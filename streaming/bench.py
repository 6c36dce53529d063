"""`ecom stream-bench`: how many clicks per second the streaming job processes on this machine.

Writes --files log files of --clicks lines in all (event time advancing at --rate clicks/s, as a
live feed would) with the producer, then runs `ecom stream --available-now
--max-files-per-trigger 1` on them in a scratch warehouse, printing the job's own line per batch
and a summary: rows/s per batch and overall without the first batch (JVM and code warm-up).
A stream of R clicks/s is sustained when the job processes a trigger interval's worth of
clicks in less than that interval, i.e. when its rows/s stays above R. Everything runs in
--workdir (default: a temporary folder, removed afterwards); your warehouse is not touched.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
from pathlib import Path

NAME = "stream-bench"
HELP = "measure the streaming job's throughput (rows/s, batch durations)"
DESCRIPTION = (
    (__doc__ or "")
    + """
examples:
  ecom stream-bench                                   # 6 files of 200,000 clicks
  ecom stream-bench --clicks 2000000 --files 10 --target 20000
"""
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `ecom stream-bench`."""
    parser.add_argument("--clicks", type=int, default=1_200_000, help="lines in all (1200000)")
    parser.add_argument("--files", type=int, default=6, help="files = micro-batches (default 6)")
    parser.add_argument(
        "--rate", type=float, default=20_000, help="event-time pace of the feed, clicks/s (20000)"
    )
    parser.add_argument(
        "--target", type=float, default=20_000, help="rows/s to report against (default 20000)"
    )
    parser.add_argument("--users", type=int, default=20_000, help="clicking users (default 20000)")
    parser.add_argument("--ads", type=int, default=100, help="ads (default 100)")
    parser.add_argument("--workdir", type=Path, help="scratch folder (default: a temporary one)")
    parser.add_argument("--keep", action="store_true", help="keep --workdir afterwards")


def run(args: argparse.Namespace) -> int:
    """Write the files, run the stream, summarise."""
    from ecom_analytics.cli import CommandError

    if args.clicks < args.files or args.files < 2:
        raise CommandError("--files must be 2 or more, and --clicks at least --files")
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="ecom-stream-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    os.environ["ECOM_WAREHOUSE_DIR"] = str(workdir / "warehouse")
    try:
        return _bench(args, workdir)
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)


def _bench(args: argparse.Namespace, workdir: Path) -> int:
    from streaming.job import open_spark, run_stream
    from streaming.options import StreamOptions
    from streaming.producer import ProducerConfig, produce

    file_seconds = args.clicks / args.files / args.rate
    config = ProducerConfig(
        start_ms=1_795_000_000_000,
        rate=args.rate,
        file_seconds=file_seconds,
        chunk_seconds=file_seconds * args.files,
        users=args.users,
        ads=args.ads,
    )
    produce(config, workdir / "clicks", files=args.files, wait=False)
    options = StreamOptions(
        input_dir=str(workdir / "clicks"),
        checkpoint=str(workdir / "checkpoint"),
        schema="stream_bench",
        max_files_per_trigger=1,
        available_now=True,
        max_age_ms=None,  # a fixed start, the same clicks on every run
    )
    metrics = run_stream(open_spark(options, "ecom_analytics-stream-bench"), options)
    steady = metrics[1:]
    rows = sum(batch.input_lines for batch in steady)
    seconds = sum(batch.duration_seconds for batch in steady)
    rates = [batch.rows_per_second for batch in steady]
    overall = rows / seconds if seconds else 0.0
    print(
        f"stream-bench: {len(metrics)} batches of ~{args.clicks // args.files:,} lines; "
        f"without the first: {rows:,} rows in {seconds:.1f} s = {overall:,.0f} rows/s "
        f"(per batch: median {statistics.median(rates):,.0f}, min {min(rates):,.0f}); "
        f"batch durations {', '.join(f'{b.duration_seconds:.1f}' for b in metrics)} s"
    )
    verdict = "sustains" if min(rates) >= args.target else "does NOT sustain"
    print(f"stream-bench: the job {verdict} {args.target:,.0f} clicks/s on this machine")
    return 0
