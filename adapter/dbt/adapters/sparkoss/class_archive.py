"""A class-data-sharing archive of Spark's classes, so that the embedded JVM starts faster.

Each `session`-method dbt command, and each program on the embedded Spark, starts a JVM that
loads, parses and verifies some ten thousand classes of Spark, Hive, Derby and DataNucleus
before its first query. Java 13 and later can write the classes one run loaded into an archive
when it exits (`-XX:ArchiveClassesAtExit`); a later JVM maps that file instead of loading the
classes one by one (`-XX:SharedArchiveFile`). On the reference machine (2 cores) that took
Spark's start, the first metastore call and three small queries from 14-18 s to 9-11 s.

An archive is only good for the JVM build and the Spark class path that made it, so it is
made once per machine (`ecom jvm-archive`, which the project's setup runs) and named after both:
`<python prefix>/share/dbt-spark-oss/spark-classes-<fingerprint>.jsa`. A JVM that still cannot
map it (another heap layout, a changed class path) starts without it, as before, and silently.
The file is written under another name and renamed when the dumping JVM has exited, since a JVM
that maps a truncated archive crashes.

`SPARKOSS_CLASS_ARCHIVE` overrides the place (a file path), or turns the archive off (`off`).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

ENV = "SPARKOSS_CLASS_ARCHIVE"
OFF = "off"
JAVA_OPTIONS = "spark.driver.extraJavaOptions"
USE_OPTION = "-XX:SharedArchiveFile="
DUMP_OPTION = "-XX:ArchiveClassesAtExit="
# A JVM that cannot map the archive says so on its console at every start; it runs as well
# without it, so the archive's logging is off.
QUIET = "-Xlog:cds=off,cds+dynamic=off"
# `-Xshare:on` makes a JVM fail to start, instead of starting without it, when it cannot map an
# archive: the check of `check_archive`.
STRICT = "-Xshare:on"
PREFIX = "spark-classes-"
SUFFIX = ".jsa"

# What the dumping JVM runs: the statements that load the classes a dbt build needs (the Hive
# metastore, Parquet tables, partitioned writes, the usual operators and code generation).
WORKLOAD = (
    "create database if not exists archive_warmup",
    "use archive_warmup",
    "create table events using parquet partitioned by (day) as"
    " select id, cast(id % 97 as bigint) as user_id, concat('s', cast(id % 1009 as string)) as"
    " session_id, array(id % 5, id % 7) as ids, cast(id * 1000 as timestamp) as at,"
    " date_add(date'2026-01-01', cast(id % 3 as int)) as day from range(20000)",
    "insert overwrite table events partition (day) select id, user_id, session_id, ids, at,"
    " date'2026-01-02' as day from range(100) cross join (select 1 as user_id, 's1' as"
    " session_id, array(1L) as ids, timestamp'2026-01-02 10:00:00' as at)",
    "create table sessions using parquet as select session_id, count(*) as steps,"
    " min(at) as first_at, sort_array(collect_list(struct(at, user_id))) as actions,"
    " collect_set(user_id) as users from events group by session_id",
    "create or replace view ranked as select *, row_number() over (partition by user_id"
    " order by at desc) as rank, lead(id) over (partition by session_id order by at) as next_id"
    " from events",
    "select ranked.user_id, count(*), sum(ranked.next_id) from ranked join sessions"
    " on ranked.session_id = sessions.session_id where rank <= 10 group by ranked.user_id",
    "select explode(ids) as id, count(*) over () as n from events where user_id < 5",
    "create table dims (id bigint, name string) using parquet",
    "insert into dims values (1, 'a'), (2, 'b')",
    "select /*+ broadcast(dims) */ events.*, dims.name from events join dims"
    " on events.user_id = dims.id",
    "show tables in archive_warmup",
    "describe table extended events",
    "show partitions events",
    "drop view ranked",
    "drop table dims",
)


def spark_home() -> Path:
    """The Spark whose `bin/spark-submit` pyspark runs: `$SPARK_HOME`, or pyspark's own."""
    from pyspark.find_spark_home import _find_spark_home

    return Path(_find_spark_home())


def java_binary(env: Mapping[str, str] = os.environ) -> Path | None:
    """The `java` Spark starts: `$JAVA_HOME/bin/java`, else the first on PATH (as spark-class)."""
    java_home = env.get("JAVA_HOME")
    found = str(Path(java_home) / "bin" / "java") if java_home else shutil.which("java")
    return Path(found).resolve() if found and Path(found).exists() else None


def _stamp(path: Path) -> str:
    stat = path.stat()
    return f"{path}:{stat.st_size}:{stat.st_mtime_ns}"


def fingerprint(java: Path, spark: Path) -> str:
    """Sixteen hex digits that change with the JVM build and with Spark's jars.

    The JVM build is its `libjvm` (replaced by every update of the JDK), else the `java` binary;
    Spark's jars are their folder (its entries and its time change when pyspark is reinstalled).
    """
    java_home = java.parent.parent
    libjvm = next(
        (
            java_home / "lib" / "server" / name
            for name in ("libjvm.so", "libjvm.dylib")
            if (java_home / "lib" / "server" / name).is_file()
        ),
        java,
    )
    jars = spark / "jars"
    parts = [_stamp(java), _stamp(libjvm), _stamp(jars), str(len(os.listdir(jars)))]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def default_archive() -> Path | None:
    """Where this machine's archive belongs, or None when Java or Spark cannot be found."""
    java = java_binary()
    try:
        spark = spark_home()
        key = fingerprint(java, spark) if java else None
    except (OSError, ImportError, ValueError, SystemExit):  # _find_spark_home exits if lost
        return None
    if key is None:
        return None
    return Path(sys.prefix) / "share" / "dbt-spark-oss" / f"{PREFIX}{key}{SUFFIX}"


def turned_off(env: Mapping[str, str] = os.environ) -> bool:
    """True when `$SPARKOSS_CLASS_ARCHIVE` is `off` (any case, spaces around it ignored)."""
    return env.get(ENV, "").strip().lower() == OFF


def configured_archive(env: Mapping[str, str] = os.environ) -> Path | None:
    """The archive JVMs should use: `$SPARKOSS_CLASS_ARCHIVE`, `off` for none, else the default."""
    if turned_off(env):
        return None
    value = env.get(ENV, "").strip()
    return Path(value).expanduser() if value else default_archive()


def existing_archive() -> Path | None:
    """The configured archive when its file exists, else None (JVMs then start without one)."""
    archive = configured_archive()
    return archive if archive is not None and archive.is_file() else None


def _quoted(option: str) -> str:
    # Spark splits extraJavaOptions at spaces unless they are inside double quotes
    return f'"{option}"' if any(char.isspace() for char in option) else option


def _joined(*options: str) -> str:
    return " ".join(option for option in options if option)


def java_options(options: str, archive: Path | None) -> str:
    """`options` plus the options that map `archive`, when it exists and none is given yet."""
    if archive is None or not archive.is_file():
        return options
    if USE_OPTION in options or DUMP_OPTION in options:
        return options
    return _joined(options, _quoted(f"{USE_OPTION}{archive}"), QUIET)


def with_class_archive(
    parameters: Mapping[str, Any], archive: Path | None = None
) -> dict[str, Any]:
    """Spark settings that start the driver's JVM with the archive (default: the configured one).

    Only the driver's own JVM reads `spark.driver.extraJavaOptions` this way: the embedded
    (`local`) Spark of the `session` method, or a `spark-submit` in client mode.
    """
    updated = dict(parameters)
    given = str(updated.get(JAVA_OPTIONS, ""))
    if USE_OPTION in given or DUMP_OPTION in given:
        # already set (the adapter applies this at every connection's open): no file lookups
        return updated
    options = java_options(given, configured_archive() if archive is None else archive)
    if options:
        updated[JAVA_OPTIONS] = options
    return updated


class ArchiveError(RuntimeError):
    """The archive could not be made or used; the message says what happened and what to do."""


def _spark_child(
    parameters: Mapping[str, str], mode: str, timeout: float, log: Callable[[str], None]
) -> None:
    """Run this module in a Python process of its own, whose JVM starts with `parameters`."""
    with tempfile.TemporaryDirectory(prefix="sparkoss-archive-") as scratch:
        settings = Path(scratch) / "parameters.json"
        settings.write_text(json.dumps(dict(parameters)))
        command = [sys.executable, "-m", __name__, mode, str(settings)]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired as error:
            raise ArchiveError(f"Spark did not finish within {timeout:.0f} s") from error
    if done.returncode != 0:
        lines = [line for line in (done.stderr + done.stdout).splitlines() if line.strip()]
        for line in lines[-15:]:
            log(f"  {line}")
        raise ArchiveError(f"Spark ended with exit status {done.returncode} (its last lines above)")


def make_archive(
    target: Path,
    parameters: Mapping[str, str],
    *,
    timeout: float = 600,
    log: Callable[[str], None] = print,
) -> Path:
    """Dump the classes of a JVM that runs `WORKLOAD` with `parameters` into `target`.

    The JVM writes the archive as it exits; the file is renamed to `target` only once the JVM
    has exited well, and other archives of the folder (older JVMs or Sparks) are removed.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
    partial.unlink(missing_ok=True)
    options = _joined(
        str(parameters.get(JAVA_OPTIONS, "")), _quoted(f"{DUMP_OPTION}{partial}"), QUIET
    )
    try:
        _spark_child({**parameters, JAVA_OPTIONS: options}, "--dump", timeout, log)
        if not partial.is_file() or partial.stat().st_size == 0:
            raise ArchiveError(f"the JVM exited without writing {partial}")
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    for other in target.parent.glob(f"{PREFIX}*{SUFFIX}"):
        if other != target:
            other.unlink(missing_ok=True)
    return target


def check_archive(
    archive: Path,
    parameters: Mapping[str, str],
    *,
    timeout: float = 300,
    log: Callable[[str], None] = print,
) -> None:
    """Start Spark with `parameters` on `archive` and `-Xshare:on`, which fails unless the JVM
    maps it, and run one query; raises ArchiveError when that fails."""
    if not archive.is_file():
        raise ArchiveError(f"no archive at {archive}")
    options = _joined(java_options(str(parameters.get(JAVA_OPTIONS, "")), archive), STRICT)
    _spark_child({**parameters, JAVA_OPTIONS: options}, "--check", timeout, log)


def _run_child(mode: str, settings: Path) -> int:
    """The child's side: start Spark with the settings, run the work, wait for the JVM's exit."""
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.enableHiveSupport()
    for key, value in json.loads(settings.read_text()).items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    statements = WORKLOAD if mode == "--dump" else ("select count(*) from range(10)",)
    for statement in statements:
        spark.sql(statement).collect()
    if mode == "--dump":
        spark.createDataFrame([(1, "a")], "id bigint, name string").collect()
    gateway_process = spark.sparkContext._gateway.proc  # type: ignore[union-attr]
    spark.stop()
    # The JVM exits when its stdin closes; it writes the archive on the way out.
    gateway_process.stdin.close()
    return int(gateway_process.wait(timeout=600))


if __name__ == "__main__":
    sys.exit(_run_child(sys.argv[1], Path(sys.argv[2])))
