"""Can an in-process Spark open its Hive metastore? Asked before the JVM starts.

* An embedded Derby metastore (`spark.hadoop.javax.jdo.option.ConnectionURL` of the form
  `jdbc:derby:;databaseName=<folder>`) admits one JVM. A second one waits about 30 s and fails
  with pages of Derby traces (XSDB6). While a JVM has the database booted, Derby holds an OS lock
  on `<folder>/dbex.lck` (Java's FileLock: a POSIX lock on Linux and macOS), so the lock tells at
  once, and its holder's PID says which program it is.
* A metastore service (`spark.hadoop.hive.metastore.uris`, where Hive ignores the JDBC URL) that
  does not answer makes Spark retry and fail with a stack trace; a TCP connection tells at once.

The lock held by this process's own pyspark JVM is no obstacle (it already has the database):
a process that runs Spark once and then several dbt commands on it passes the check.
"""

from __future__ import annotations

import fcntl
import os
import re
import socket
import struct
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

CONNECTION_URL = "spark.hadoop.javax.jdo.option.ConnectionURL"
METASTORE_URIS = "spark.hadoop.hive.metastore.uris"
DERBY_LOCK_FILE = "dbex.lck"
CONNECT_TIMEOUT_SECONDS = 3.0
_DATABASE_NAME = re.compile(r"(?:^|;)databaseName=([^;]+)")
_SHOWN_ARGUMENTS = 4
_CLASS_NAME = re.compile(r"(?:[a-z_][\w]*\.)+[A-Z][\w$]*")


class MetastoreUnavailable(Exception):
    """The metastore cannot be opened by this program; the message (one line) says why."""


def derby_database(parameters: Mapping[str, str]) -> Path | None:
    """The folder of an embedded Derby metastore the parameters name (`jdbc:derby:<path>;...` or
    `jdbc:derby:;databaseName=<path>;...`; relative paths from the working directory, as the
    JVM resolves them); None for any other metastore."""
    url = parameters.get(CONNECTION_URL, "")
    if not url.startswith("jdbc:derby:") or url.startswith("jdbc:derby://"):
        return None  # not Derby, or Derby's network server (which admits many clients)
    body = url.removeprefix("jdbc:derby:")
    found = _DATABASE_NAME.search(body)
    name = found.group(1) if found else body.split(";", 1)[0]
    if not name.strip() or name.startswith(("memory:", "classpath:", "jar:")):
        return None  # no folder on disk to hold
    return Path(name.strip().removeprefix("directory:")).expanduser().absolute()


def metastore_uris(parameters: Mapping[str, str]) -> list[str]:
    """The metastore services the parameters name (empty: the embedded metastore)."""
    return [uri.strip() for uri in parameters.get(METASTORE_URIS, "").split(",") if uri.strip()]


def parse_uri(uri: str) -> tuple[str, int]:
    """(host, port) of `thrift://host:port`; MetastoreUnavailable for anything else."""
    parts = urlsplit(uri)
    try:
        port = parts.port
    except ValueError:
        port = None
    if parts.scheme != "thrift" or not parts.hostname or port is None:
        raise MetastoreUnavailable(
            f"the metastore URI {uri!r} is not of the form thrift://host:port"
        )
    return parts.hostname, port


def unanswered(uri: str, timeout: float = CONNECT_TIMEOUT_SECONDS) -> str | None:
    """Why nothing accepts a TCP connection at `uri`; None when something does."""
    host, port = parse_uri(uri)
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return None
    except OSError as error:
        return error.strerror or str(error) or error.__class__.__name__


def _lock_holder_pid(descriptor: int) -> int | None:
    """The PID of the process holding a POSIX lock that conflicts with a write lock of the
    whole file (F_GETLK); None when the system does not tell."""
    if sys.platform.startswith("linux"):
        layout = "hhqqixxxx"  # l_type, l_whence, l_start, l_len, l_pid
    elif sys.platform == "darwin":
        layout = "qqihh"  # l_start, l_len, l_pid, l_type, l_whence
    else:
        return None
    request = (
        struct.pack(layout, fcntl.F_WRLCK, os.SEEK_SET, 0, 0, 0)
        if layout.startswith("hh")
        else struct.pack(layout, 0, 0, 0, fcntl.F_WRLCK, os.SEEK_SET)
    )
    try:
        answer = struct.unpack(layout, fcntl.fcntl(descriptor, fcntl.F_GETLK, request))
    except OSError:
        return None
    kind, pid = (answer[0], answer[4]) if layout.startswith("hh") else (answer[3], answer[2])
    return pid if kind != fcntl.F_UNLCK and pid > 0 else None


def own_jvm_pid() -> int | None:
    """The PID of this process's pyspark JVM when its gateway runs; None when there is none.

    Under spark-submit the JVM started this process, so it is the parent.
    """
    pyspark_context = sys.modules.get("pyspark.core.context") or sys.modules.get("pyspark.context")
    gateway = getattr(getattr(pyspark_context, "SparkContext", None), "_gateway", None)
    if gateway is None:
        return None
    process = getattr(gateway, "proc", None)
    return process.pid if process is not None else os.getppid()


@dataclass(frozen=True)
class LockHolder:
    """The program that has an embedded Derby metastore open."""

    pid: int | None

    def describe(self) -> str:
        """`pid 4242: dbt build --select x`: the program, not the JVM it started for Spark."""
        if self.pid is None:
            return "a program this user cannot see"
        return f"pid {self.pid}: {program_of(self.pid)}"


def program_of(pid: int) -> str:
    """What a PID runs, shortly; for pyspark's JVM, the Python program that started it."""
    try:
        import psutil
    except ImportError:
        return "unknown program"
    try:
        process = psutil.Process(pid)
        arguments = process.cmdline()
        if "org.apache.spark.deploy.SparkSubmit" in arguments and "pyspark-shell" in arguments:
            parent = process.parent()
            if parent is not None:
                arguments = parent.cmdline()
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return "unknown program"
    if len(arguments) > 1 and Path(arguments[0]).name.startswith("python"):
        arguments = arguments[1:]  # the script, not the interpreter
    if not arguments:
        return "unknown program"
    if Path(arguments[0]).name == "java":
        classes = [arg for arg in arguments if _CLASS_NAME.fullmatch(arg)]
        return f"java {classes[-1]}" if classes else "java"
    shown = [Path(arguments[0]).name, *arguments[1 : 1 + _SHOWN_ARGUMENTS]]
    more = " ..." if len(arguments) > 1 + _SHOWN_ARGUMENTS else ""
    return " ".join(shown) + more


def derby_lock_holder(database: Path) -> LockHolder | None:
    """Who has the Derby database at `database` booted, other than this process's own JVM;
    None when nobody does (or only our JVM).

    The lock is only tested, never kept: a lock this process took on the file would be
    released by any close of it, so nothing here holds it beyond the test.
    """
    lock_file = database / DERBY_LOCK_FILE
    try:
        descriptor = os.open(lock_file, os.O_RDWR)
    except FileNotFoundError:
        return None  # never booted, or shut down cleanly
    except PermissionError:
        return None  # another user's warehouse: Derby itself will say so
    try:
        holder = _lock_holder_pid(descriptor)
        if holder is None:
            try:
                fcntl.lockf(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                holder = -1  # locked, by a process the system does not name
            else:
                fcntl.lockf(descriptor, fcntl.LOCK_UN)
                return None
    finally:
        os.close(descriptor)
    own = own_jvm_pid()
    if own is not None and holder in (own, -1):
        return None  # our JVM (or, unnamed, most likely ours: it is up)
    return LockHolder(None if holder == -1 else holder)


def check_metastore(parameters: Mapping[str, str], advice: str = "") -> None:
    """MetastoreUnavailable (one line, ending with `advice`) when the metastore the Spark
    parameters name cannot be opened by this program: a service that does not answer, or an
    embedded Derby metastore another program has open."""
    uris = metastore_uris(parameters)
    suffix = f" {advice}" if advice else ""
    if uris:
        reasons = {uri: unanswered(uri) for uri in uris}
        if all(reasons.values()):
            uri = uris[0]
            raise MetastoreUnavailable(
                f"No Hive metastore service answers at {uri} ({reasons[uri]})." + suffix
            )
        return
    database = derby_database(parameters)
    if database is None:
        return
    holder = derby_lock_holder(database)
    if holder is not None:
        raise MetastoreUnavailable(
            f"Another program ({holder.describe()}) holds the embedded metastore {database}, "
            "and an embedded Derby metastore admits one program at a time." + suffix
        )
