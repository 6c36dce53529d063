"""Start, stop and inspect the local Spark Thrift Server of one state folder.

The folder (`ServerSettings.state_dir`) holds everything of one server: its Derby metastore,
its table data, its log, its PID file and a JSON note of the addresses it was started with, so
`stop` and `status` need no options even when the ports were not the defaults.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from ecom_analytics.thrift_server.probes import Answer, probe, thrift_uses_ssl
from ecom_analytics.thrift_server.processes import (
    command_line,
    is_alive,
    read_pid,
    stop_tree,
    write_pid,
)
from ecom_analytics.thrift_server.settings import (
    ENV_CONNECT_PORT,
    ENV_THRIFT_PORT,
    ServerSettings,
    is_server_command,
    server_environment,
    submit_command,
)
from ecom_analytics.thrift_server.sockets import listening_sockets, port_is_free

PROJECT_ROOT = Path(__file__).resolve().parents[2]
PROBE_TIMEOUT = 5.0
STOP_GRACE_SECONDS = 30.0
LOG_TAIL_LINES = 40
PROGRESS_EVERY_SECONDS = 15.0

Say = Callable[[str], None]


class ServerError(Exception):
    """The server cannot be started or stopped as asked; the message says why and what to do."""


def say(line: str) -> None:
    print(line, flush=True)


def log_tail(path: Path, lines: int = LOG_TAIL_LINES) -> list[str]:
    """The last `lines` lines of a log file (empty when there is none)."""
    try:
        with path.open("rb") as log:
            log.seek(0, os.SEEK_END)
            log.seek(max(0, log.tell() - 256 * lines))
            text = log.read().decode(errors="replace")
    except FileNotFoundError:
        return []
    return text.splitlines()[-lines:]


def running_pid(settings: ServerSettings) -> int | None:
    """The PID of this folder's server when it runs; None otherwise (a stale PID file too)."""
    pid = read_pid(settings.pid_file)
    if pid is not None and is_alive(pid) and is_server_command(command_line(pid), settings):
        return pid
    return None


def recorded_settings(settings: ServerSettings) -> ServerSettings:
    """The addresses the running server was started with (from its JSON note), else `settings`."""
    try:
        note = json.loads(settings.state_file.read_text())
    except (FileNotFoundError, ValueError):
        return settings
    return ServerSettings(
        state_dir=settings.state_dir,
        bind_address=note.get("bind_address", settings.bind_address),
        thrift_port=int(note.get("thrift_port", settings.thrift_port)),
        connect_port=int(note.get("connect_port", settings.connect_port)),
        hiveconf={"hive.server2.use.SSL": "true"} if note.get("thrift_ssl") else {},
    )


def _remove_state_files(settings: ServerSettings) -> None:
    for path in (settings.pid_file, settings.state_file):
        path.unlink(missing_ok=True)


def _check_java() -> None:
    java_home = os.environ.get("JAVA_HOME")
    java = os.path.join(java_home, "bin", "java") if java_home else shutil.which("java")
    if not java or not os.access(java, os.X_OK):
        raise ServerError(
            "Java not found (JAVA_HOME or `java` on PATH); Spark needs Java 17+. "
            "Install a JDK 17 or newer (see `make setup`)."
        )


def _check_ports(settings: ServerSettings) -> None:
    for what, port, hint in (
        ("Thrift", settings.thrift_port, f"--thrift-port or {ENV_THRIFT_PORT}"),
        ("Spark Connect", settings.connect_port, f"--connect-port or {ENV_CONNECT_PORT}"),
    ):
        if not port_is_free(settings.bind_address, port):
            raise ServerError(
                f"{what} port {settings.bind_address}:{port} is already in use; stop the program "
                f"using it or choose another port ({hint})"
            )


def _rotate_log(log_file: Path) -> None:
    if log_file.exists():
        log_file.replace(log_file.with_name(log_file.name + ".1"))


PROTOCOLS = ("thrift", "connect")


def _wait_until_ready(
    process: subprocess.Popen[bytes], settings: ServerSettings, timeout: float, report: Say
) -> dict[str, Answer]:
    """Poll both protocols until they answer as our application; ServerError otherwise."""
    started = time.monotonic()
    next_report = started + PROGRESS_EVERY_SECONDS
    answers = {protocol: Answer("down", "not asked yet") for protocol in PROTOCOLS}

    def progress() -> str:
        return ", ".join(
            f"{protocol} {'answers' if answers[protocol].up else 'not yet'}"
            for protocol in PROTOCOLS
        )

    while True:
        if process.poll() is not None:
            raise ServerError(f"the server exited with status {process.returncode} while starting")
        for protocol in PROTOCOLS:
            if not answers[protocol].up:
                answers[protocol] = probe(protocol, settings, PROBE_TIMEOUT)
                if answers[protocol].state == "foreign":
                    raise ServerError(
                        f"the {protocol} port {answers[protocol].describe()}: another server "
                        "took the port"
                    )
        if all(answer.up for answer in answers.values()):
            return answers
        now = time.monotonic()
        if now - started > timeout:
            raise ServerError(
                f"the server did not answer within {timeout:.0f} s ({progress()}); "
                "a busy machine may need a longer --timeout"
            )
        if now >= next_report:
            report(f"  ... {now - started:.0f} s: {progress()}")
            next_report = now + PROGRESS_EVERY_SECONDS
        time.sleep(1.0)


def start(settings: ServerSettings, timeout: float, report: Say = say) -> int:
    """Start the server in the background and wait until both protocols answer."""
    pid = running_pid(settings)
    if pid is not None:
        raise ServerError(
            f"the Thrift server of {settings.state_dir} already runs (pid {pid}); "
            "`ecom thrift status` shows its addresses, `ecom thrift stop` stops it"
        )
    _remove_state_files(settings)
    _check_java()
    _check_ports(settings)
    # Hive lists its scratch folder when a session closes, and complains when it is missing
    (settings.hive_dir / "scratch").mkdir(parents=True, exist_ok=True)
    _rotate_log(settings.log_file)

    from pyspark.find_spark_home import _find_spark_home

    spark_home = Path(_find_spark_home())
    if not settings.loopback_only:
        report(
            f"WARNING: binding to {settings.bind_address}: anyone who can reach this machine "
            "can run SQL and Python on this server, unauthenticated, unless you configured "
            "authentication (see the README, Run on your Spark cluster)."
        )
    report(
        f"Starting the Spark Thrift Server (thrift {settings.client_host}:{settings.thrift_port}, "
        f"Spark Connect {settings.connect_url}); log: {settings.log_file}"
    )
    with settings.log_file.open("ab") as log:
        process = subprocess.Popen(
            submit_command(settings, spark_home),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=PROJECT_ROOT,
            env=server_environment(os.environ, spark_home, sys.executable),
            start_new_session=True,
        )
    write_pid(settings.pid_file, process.pid)
    settings.state_file.write_text(
        json.dumps(
            {
                "pid": process.pid,
                "bind_address": settings.bind_address,
                "thrift_port": settings.thrift_port,
                "connect_port": settings.connect_port,
                "connect_url": settings.connect_url,
                "thrift_ssl": thrift_uses_ssl(settings),
                "log_file": str(settings.log_file),
                "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            },
            indent=2,
        )
    )
    started = time.monotonic()
    try:
        answers = _wait_until_ready(process, settings, timeout, report)
    except BaseException as failure:
        stop_tree(process.pid, grace_seconds=5)
        process.wait()
        _remove_state_files(settings)
        if not isinstance(failure, ServerError):
            raise
        report(f"ERROR: {failure}. Last lines of {settings.log_file}:")
        for line in log_tail(settings.log_file):
            report(f"  | {line}")
        return 1
    thrift_address = f"{settings.client_host}:{settings.thrift_port}"
    report(
        f"Spark Thrift Server ready in {time.monotonic() - started:.0f} s (pid {process.pid}).\n"
        f"  thrift:   {thrift_address} {answers['thrift'].describe()}\n"
        f"  connect:  {settings.connect_url} {answers['connect'].describe()}\n"
        f"  folder:   {settings.state_dir} (metastore_db/, warehouse/)\n"
        "Build on it with `.venv/bin/dbt build --target thrift`"
        + _env_hint(settings)
        + "; stop it with `ecom thrift stop`."
    )
    return 0


def _env_hint(settings: ServerSettings) -> str:
    """The variables the `thrift` target needs when the ports are not its defaults."""
    assignments = [
        f"{name}={port}"
        for name, port, default in (
            (ENV_THRIFT_PORT, settings.thrift_port, 10000),
            (ENV_CONNECT_PORT, settings.connect_port, 15002),
        )
        if port != default
    ]
    return f" (with {' '.join(assignments)} set)" if assignments else ""


def stop(settings: ServerSettings, report: Say = say) -> int:
    """Stop this folder's server and its child processes; anything else is left alone."""
    pid = read_pid(settings.pid_file)
    if pid is None:
        report(f"No Thrift server runs from {settings.state_dir} (no PID file).")
        _remove_state_files(settings)
        return 0
    if not is_alive(pid) or not is_server_command(command_line(pid), settings):
        _remove_state_files(settings)
        report(
            f"No Thrift server runs from {settings.state_dir}: pid {pid} of the PID file is gone "
            "or now another program (left alone); removed the stale PID file."
        )
        return 0
    report(f"Stopping the Spark Thrift Server (pid {pid})...")
    outcome = stop_tree(pid, STOP_GRACE_SECONDS)
    if outcome.survivors:
        raise ServerError(
            f"processes {', '.join(map(str, outcome.survivors))} of the server survived SIGKILL; "
            "check them with `ps`"
        )
    _remove_state_files(settings)
    how = f"killed after {STOP_GRACE_SECONDS:.0f} s" if outcome.killed else "stopped"
    report(f"Spark Thrift Server {how}.")
    return 0


NOT_RUNNING = 3  # the LSB exit status of `status` for "not running"


def status(settings: ServerSettings, report: Say = say) -> int:
    """Whether the server runs, whether each protocol answers, and where it listens."""
    pid = running_pid(settings)
    if pid is None:
        report(f"Spark Thrift Server: not running ({settings.state_dir}).")
        return NOT_RUNNING
    settings = recorded_settings(settings)
    report(f"Spark Thrift Server: running (pid {pid}).")
    for protocol, address in (
        ("thrift", f"{settings.client_host}:{settings.thrift_port}"),
        ("connect", settings.connect_url),
    ):
        answer = probe(protocol, settings, PROBE_TIMEOUT)
        report(f"  {protocol + ':':9} {address} {answer.describe()}")
    sockets = listening_sockets(pid)
    if sockets is not None:
        scope = (
            "loopback only"
            if all(s.loopback for s in sockets)
            else "NOT loopback only: reachable from other machines"
        )
        report(f"  listens:  {', '.join(map(str, sockets)) or 'nothing'} ({scope})")
    report(f"  folder:   {settings.state_dir} (metastore_db/, warehouse/)")
    report(f"  log:      {settings.log_file}")
    return 0
