"""Whether another program holds the embedded warehouse (SPEC 5), asked before Spark starts.

The embedded metastore is a Derby database in `$ECOM_WAREHOUSE_DIR/metastore_db`; Derby admits
one program (JVM) at a time and shows it by holding an exclusive lock on the database's
`dbex.lck` file for as long as that program runs. A second program that opens the database
anyway gets pages of Derby and Hive stack traces and a Spark without its tables. `check_free`
tests that lock first (the lock itself is left alone), so a program can stop with one line.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

LOCK_FILE = Path("metastore_db", "dbex.lck")


class WarehouseLockedError(RuntimeError):
    """Another program holds the warehouse; the message says what to do."""


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


def holder(warehouse: str | os.PathLike[str]) -> int | None:
    """0 or the pid of the other process holding the warehouse's metastore; None when free.

    A process running Spark on it itself (this one's JVM holds the lock) counts as free."""
    from pyspark import SparkContext

    if SparkContext._active_spark_context is not None:
        return None
    path = Path(warehouse) / LOCK_FILE
    try:
        handle = open(path, "r+b")  # noqa: SIM115 (closed below; a lock test, not a read)
    except OSError:
        return None  # no metastore yet, or not ours to test
    try:
        fcntl.lockf(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return _holder_pid(path) or 0
    else:
        fcntl.lockf(handle, fcntl.LOCK_UN)
        return None
    finally:
        handle.close()


def check_free(warehouse: str | os.PathLike[str]) -> None:
    """WarehouseLockedError when another program holds the warehouse's embedded metastore."""
    pid = holder(warehouse)
    if pid is None:
        return
    who = f"process {pid}" if pid else "another process"
    raise WarehouseLockedError(
        f"another program holds the warehouse {warehouse} ({who} has its Derby metastore open, "
        "and Derby admits one program at a time): stop that program (another `ecom stream`, a "
        "dbt run, a notebook) and run this again, or point ECOM_WAREHOUSE_DIR elsewhere"
    )
