"""`ecom jvm-archive`: an archive of Spark's classes that makes every embedded JVM start faster.

Every dbt command on the `local` target, and `ecom stream`, the dashboards, the benchmark and the
tests, starts a JVM that loads Spark's, Hive's and Derby's classes one by one. This command runs
Spark once with the `local` target's settings and keeps the classes it loaded in a
class-data-sharing archive for this machine's JVM and pyspark; JVMs started afterwards map that
file instead (5-7 s less per start on the reference machine: docs/performance.md).
`make setup` runs it, so this is only needed after an update of the JDK, or with --force.

Without an archive, or with one that the JVM cannot use, Spark starts as before. The archive
lives in the virtual environment (`.venv/share/dbt-spark-oss/`, about 200 MiB);
`SPARKOSS_CLASS_ARCHIVE` names another file, or `off` turns it off.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from ecom_analytics.cli import CommandError

NAME = "jvm-archive"
HELP = "make the archive of Spark's classes that speeds up each embedded JVM's start"
DESCRIPTION = __doc__ or ""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--force", action="store_true", help="make it again even if it exists")
    mode.add_argument(
        "--check",
        action="store_true",
        help="only check that Spark's JVM maps the archive (exit status 1 if not)",
    )


def _size(path: Path) -> str:
    return f"{path.stat().st_size / 2**20:,.0f} MiB"


def run(args: argparse.Namespace) -> int:
    from dbt.adapters.sparkoss.class_archive import (
        ENV,
        ArchiveError,
        check_archive,
        configured_archive,
        make_archive,
        turned_off,
    )

    from ecom_analytics.spark_session import local_spark_conf

    def say(message: str) -> None:
        print(f"[jvm-archive] {message}", flush=True)

    target = configured_archive()
    if target is None:
        if turned_off():
            say(f"turned off by {ENV}=off: Spark starts without an archive")
            return 1 if args.check else 0
        raise CommandError(
            "cannot tell which JVM or Spark this machine runs: put `java` (17+) on PATH or set "
            "JAVA_HOME, and run this from the project's environment (.venv/bin/ecom)"
        )
    with tempfile.TemporaryDirectory(prefix="ecom-jvm-archive-") as scratch:
        parameters = local_spark_conf("ecom_analytics-jvm-archive", warehouse=scratch)
        started = time.perf_counter()
        try:
            if args.check:
                check_archive(target, parameters, log=say)
                say(f"ok: Spark's JVM maps {target} ({_size(target)})")
                return 0
            if target.is_file() and not args.force:
                say(f"up to date: {target} ({_size(target)})")
                return 0
            say("running Spark once to record the classes it loads (about a minute) ...")
            make_archive(target, parameters, log=say)
            say(f"made {target} ({_size(target)}); checking that Spark's JVM maps it ...")
            check_archive(target, parameters, log=say)
        except ArchiveError as error:
            if not args.check:
                target.unlink(missing_ok=True)
            say(
                f"failed: {error}. Spark starts without an archive, only slower; "
                f"try again with `ecom jvm-archive --force`, or set {ENV}=off"
            )
            return 1
    say(f"ok in {time.perf_counter() - started:.0f} s: every embedded JVM now starts with it")
    return 0
