"""Whether another program has an embedded Derby metastore open, asked before Spark starts.

Derby admits one program (JVM) at a time and shows it by holding an exclusive lock on the
database's `dbex.lck` file for as long as that program runs. A second program that opens the
database anyway gets pages of Derby and Hive stack traces and a Spark without its tables.
`holder` tests that lock first (the lock itself is left alone), so a program can stop with one
line instead.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path


def database_of(connection_url: str) -> Path | None:
    """The folder of an embedded Derby database from its JDBC URL (`jdbc:derby:<path>;...` or
    `jdbc:derby:;databaseName=<path>;...`); None for any other database or kind of URL."""
    if not connection_url.startswith("jdbc:derby:") or connection_url.startswith("jdbc:derby://"):
        return None
    name, *attributes = connection_url.removeprefix("jdbc:derby:").split(";")
    for attribute in attributes:
        key, _, value = attribute.partition("=")
        if key.strip() == "databaseName":
            name = value.strip()
    if not name or name.startswith(("memory:", "classpath:", "jar:")):
        return None
    return Path(name.removeprefix("directory:"))


def _holder_pid(path: Path) -> int | None:
    """The process holding a POSIX lock on `path`, from /proc/locks (Linux); None if unknown."""
    try:
        inode = os.stat(path).st_ino
        with open("/proc/locks", encoding="ascii") as locks:
            for line in locks:
                fields = line.split()
                if len(fields) >= 6 and fields[5].rsplit(":", 1)[-1] == str(inode):
                    return int(fields[4])
    except (OSError, ValueError):
        return None
    return None


def holder(database: str | os.PathLike[str]) -> int | None:
    """0 or the pid of the other process that has the Derby `database` open; None when free.

    A process running Spark itself (its own JVM holds the lock) counts as free."""
    from pyspark import SparkContext

    if SparkContext._active_spark_context is not None:
        return None
    return lock_holder(Path(database))


def lock_holder(database: Path) -> int | None:
    """0 or the pid of the process holding `database`'s `dbex.lck`; None when nobody does."""
    path = database / "dbex.lck"
    try:
        handle = open(path, "r+b")  # noqa: SIM115 (closed below; a lock test, not a read)
    except OSError:
        return None  # no database yet, or not ours to test
    try:
        fcntl.lockf(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return _holder_pid(path) or 0
    else:
        fcntl.lockf(handle, fcntl.LOCK_UN)
        return None
    finally:
        handle.close()


def held_message(place: str, pid: int) -> str:
    """One line saying who holds `place` (a warehouse or a metastore) and what to do."""
    who = f"process {pid}" if pid else "another process"
    return (
        f"another program holds the warehouse {place} ({who} has its Derby metastore open, "
        "and Derby admits one program at a time): stop that program (another `ecom stream`, a "
        "dbt run, a notebook) and run this again, or point ECOM_WAREHOUSE_DIR elsewhere"
    )
