"""One local server of one state folder: the steps of start, stop and status that do not depend
on what the server is.

The folder holds everything of one server: its data, its log, its PID file and a JSON note of
the addresses it was started with, so `stop` and `status` need no options even when the ports
were not the defaults. A server module builds a `Service` for its folder, with a test that tells
its command line from any other (a PID file can outlive its process, the PID be reused), and
adds its own command line and protocol probe.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from ecom_analytics.services.network import describe_listening, port_is_free
from ecom_analytics.services.processes import (
    command_line,
    is_alive,
    read_pid,
    stop_tree,
    write_pid,
)
from ecom_analytics.services.settings import java_executable

NOT_RUNNING = 3  # the LSB exit status of `status` for "not running"
STOP_GRACE_SECONDS = 30.0
LOG_TAIL_LINES = 40
PROGRESS_EVERY_SECONDS = 15.0

Say = Callable[[str], None]
T = TypeVar("T")


class ServiceError(Exception):
    """A server cannot be started or stopped as asked; the message says why and what to do."""


def say(line: str) -> None:
    print(line, flush=True)


def labelled(label: str, value: str) -> str:
    """One line of a server's description, values aligned: `folder:     /srv/kafka`."""
    return f"{label + ':':11} {value}"


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


def check_java(needed_by: str) -> str:
    """The `java` to run; a ServiceError saying what to install when there is none."""
    java = java_executable()
    if java is None:
        raise ServiceError(
            f"Java not found (JAVA_HOME or `java` on PATH); {needed_by} needs Java 17+. "
            "Install a JDK 17 or newer (see `make setup`)."
        )
    return java


@dataclass(frozen=True)
class Port:
    """A port a server is about to listen on, and the settings that change it."""

    what: str
    address: str
    port: int
    hint: str


def check_ports(ports: Iterable[Port]) -> None:
    """A ServiceError naming the first port that is taken and how to choose another."""
    for port in ports:
        if not port_is_free(port.address, port.port):
            raise ServiceError(
                f"{port.what} port {port.address}:{port.port} is already in use; stop the "
                f"program using it or choose another port ({port.hint})"
            )


@dataclass(frozen=True)
class StateFiles:
    """The files of a server in its folder: `<stem>.pid`, `<stem>.json`, `<stem>.log`."""

    state_dir: Path
    stem: str

    @property
    def pid_file(self) -> Path:
        return self.state_dir / f"{self.stem}.pid"

    @property
    def note_file(self) -> Path:
        """JSON with the addresses of the running server (read by `status` and `stop`)."""
        return self.state_dir / f"{self.stem}.json"

    @property
    def log_file(self) -> Path:
        return self.state_dir / f"{self.stem}.log"


@dataclass(frozen=True)
class Service:
    """A server of one folder: `title` names it in messages ("Kafka broker"), `command` is the
    command that manages it ("ecom kafka"), `is_ours` recognises its command line, `contents`
    says what its folder holds."""

    title: str
    command: str
    files: StateFiles
    is_ours: Callable[[Sequence[str]], bool]
    contents: str = ""

    @property
    def state_dir(self) -> Path:
        return self.files.state_dir

    def running_pid(self) -> int | None:
        """The PID of this folder's server when it runs; None otherwise (a stale PID file too)."""
        pid = read_pid(self.files.pid_file)
        if pid is not None and is_alive(pid) and self.is_ours(command_line(pid)):
            return pid
        return None

    def note(self) -> dict[str, Any]:
        """What `launch` recorded about the running server (empty when nothing was)."""
        try:
            note = json.loads(self.files.note_file.read_text())
        except (FileNotFoundError, ValueError):
            return {}
        return note if isinstance(note, dict) else {}

    def remove_state_files(self) -> None:
        for path in (self.files.pid_file, self.files.note_file):
            path.unlink(missing_ok=True)

    def prepare_start(self) -> None:
        """Refuse a second server on this folder, clear a stale PID file and note, and keep the
        previous log as `<log>.1`."""
        pid = self.running_pid()
        if pid is not None:
            raise ServiceError(
                f"the {self.title} of {self.state_dir} already runs (pid {pid}); "
                f"`{self.command} status` shows its addresses, `{self.command} stop` stops it"
            )
        self.remove_state_files()
        self.state_dir.mkdir(parents=True, exist_ok=True)
        log_file = self.files.log_file
        if log_file.exists():
            log_file.replace(log_file.with_name(log_file.name + ".1"))

    def launch(
        self,
        command: Sequence[str],
        *,
        env: Mapping[str, str],
        cwd: Path,
        note: Mapping[str, Any],
    ) -> subprocess.Popen[bytes]:
        """Start `command` in the background, in a session of its own, its output appended to
        the log; write the PID file and the note (`note` plus pid, log file and start time)."""
        with self.files.log_file.open("ab") as log:
            process = subprocess.Popen(
                list(command),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=cwd,
                env=dict(env),
                start_new_session=True,
            )
        write_pid(self.files.pid_file, process.pid)
        self.files.note_file.write_text(
            json.dumps(
                {
                    "pid": process.pid,
                    **note,
                    "log_file": str(self.files.log_file),
                    "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                },
                indent=2,
            )
        )
        return process

    def wait_until_ready(
        self,
        process: subprocess.Popen[bytes],
        ready: Callable[[], bool],
        timeout: float,
        report: Say,
        progress: Callable[[], str],
    ) -> None:
        """Ask `ready()` every second until it says yes; a ServiceError when the process exits
        or `timeout` seconds pass first (`ready` may raise one too). `progress()` says how far
        it got, every PROGRESS_EVERY_SECONDS and in the timeout's message."""
        started = time.monotonic()
        next_report = started + PROGRESS_EVERY_SECONDS
        while True:
            if process.poll() is not None:
                raise ServiceError(
                    f"the {self.title} exited with status {process.returncode} while starting"
                )
            if ready():
                return
            now = time.monotonic()
            if now - started > timeout:
                raise ServiceError(
                    f"the {self.title} did not answer within {timeout:.0f} s ({progress()}); "
                    "a busy machine may need a longer --timeout"
                )
            if now >= next_report:
                report(f"  ... {now - started:.0f} s: {progress()}")
                next_report = now + PROGRESS_EVERY_SECONDS
            time.sleep(1.0)

    def supervise_start(
        self, process: subprocess.Popen[bytes], wait: Callable[[], T], report: Say
    ) -> T | None:
        """`wait()` for the launched server; if it fails (or is interrupted), stop what was
        started and, for a ServiceError, print it with the log's last lines and return None."""
        try:
            return wait()
        except BaseException as failure:
            stop_tree(process.pid, grace_seconds=5)
            process.wait()
            self.remove_state_files()
            if not isinstance(failure, ServiceError):
                raise
            self.report_failure(str(failure), report)
            return None

    def report_failure(self, message: str, report: Say) -> None:
        report(f"ERROR: {message}. Last lines of {self.files.log_file}:")
        for line in log_tail(self.files.log_file):
            report(f"  | {line}")

    def stop(self, report: Say = say, grace_seconds: float = STOP_GRACE_SECONDS) -> int:
        """Stop this folder's server and its child processes; anything else is left alone."""
        pid = read_pid(self.files.pid_file)
        if pid is None:
            report(f"No {self.title} runs from {self.state_dir} (no PID file).")
            self.remove_state_files()
            return 0
        if not is_alive(pid) or not self.is_ours(command_line(pid)):
            self.remove_state_files()
            report(
                f"No {self.title} runs from {self.state_dir}: pid {pid} of the PID file is gone "
                "or now another program (left alone); removed the stale PID file."
            )
            return 0
        report(f"Stopping the {self.title} (pid {pid})...")
        outcome = stop_tree(pid, grace_seconds)
        if outcome.survivors:
            raise ServiceError(
                f"processes {', '.join(map(str, outcome.survivors))} of the {self.title} "
                "survived SIGKILL; check them with `ps`"
            )
        self.remove_state_files()
        how = f"killed after {grace_seconds:.0f} s" if outcome.killed else "stopped"
        report(f"{self.title} {how}.")
        return 0

    def status(self, report: Say, details: Callable[[int], Iterable[str]]) -> int:
        """Running or not (exit NOT_RUNNING), then `details(pid)` (lines made by `labelled`),
        where the process listens, its folder and its log."""
        pid = self.running_pid()
        if pid is None:
            report(f"{self.title}: not running ({self.state_dir}).")
            return NOT_RUNNING
        report(f"{self.title}: running (pid {pid}).")
        for line in details(pid):
            report(f"  {line}")
        listening = describe_listening(pid)
        if listening is not None:
            report(f"  {labelled('listens', listening)}")
        contents = f" ({self.contents})" if self.contents else ""
        report(f"  {labelled('folder', f'{self.state_dir}{contents}')}")
        report(f"  {labelled('log', str(self.files.log_file))}")
        return 0
