"""Processes of the server: PID file, command lines, process trees, stopping (Linux and macOS).

Stopping never trusts a PID alone: the caller checks the command line first (a PID file can
outlive its process and the PID be reused), and a stop reaches the process's children too
(e.g. Python workers), which a plain kill of the JVM could leave behind.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path


def read_pid(path: Path) -> int | None:
    """The PID in a PID file; None when the file is missing or holds no PID."""
    try:
        text = path.read_text().strip()
    except FileNotFoundError:
        return None
    return int(text) if text.isdigit() and int(text) > 0 else None


def write_pid(path: Path, pid: int) -> None:
    path.write_text(f"{pid}\n")


def is_alive(pid: int) -> bool:
    """True while `pid` runs (a zombie, exited but not yet reaped, counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return process_state(pid) != "Z"


def process_state(pid: int) -> str | None:
    """One-letter state of a process (`R`, `S`, `Z`...), None when unknown."""
    stat = Path(f"/proc/{pid}/stat")
    if stat.exists():
        try:
            # "pid (comm) state ...": comm may hold spaces and parentheses, the state follows it
            return stat.read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            return None
    result = subprocess.run(
        ["ps", "-o", "stat=", "-p", str(pid)], capture_output=True, text=True, check=False
    )
    return result.stdout.strip()[:1] or None


def command_line(pid: int) -> list[str]:
    """The arguments `pid` was started with; empty when it is gone or unreadable."""
    cmdline = Path(f"/proc/{pid}/cmdline")
    if Path("/proc/self/cmdline").exists():
        try:
            return [arg for arg in cmdline.read_bytes().decode(errors="replace").split("\0") if arg]
        except OSError:
            return []
    result = subprocess.run(
        ["ps", "-ww", "-o", "args=", "-p", str(pid)], capture_output=True, text=True, check=False
    )
    # `ps` joins the arguments with spaces; good enough for finding markers without spaces
    return result.stdout.split()


def parse_parents(ps_output: str) -> dict[int, int]:
    """`ps -A -o pid= -o ppid=` output as {pid: parent pid}; unreadable lines are skipped."""
    parents: dict[int, int] = {}
    for line in ps_output.splitlines():
        fields = line.split()
        if len(fields) == 2 and fields[0].isdigit() and fields[1].isdigit():
            parents[int(fields[0])] = int(fields[1])
    return parents


def descendants(pid: int, parents: Mapping[int, int]) -> list[int]:
    """Every process below `pid` in the tree, parents before children."""
    children: dict[int, list[int]] = {}
    for child, parent in parents.items():
        children.setdefault(parent, []).append(child)
    found: list[int] = []
    queue = [pid]
    while queue:
        for child in sorted(children.get(queue.pop(0), [])):
            if child not in found and child != pid:
                found.append(child)
                queue.append(child)
    return found


def process_parents() -> dict[int, int]:
    result = subprocess.run(
        ["ps", "-A", "-o", "pid=", "-o", "ppid="], capture_output=True, text=True, check=False
    )
    return parse_parents(result.stdout)


@dataclass(frozen=True)
class StopOutcome:
    """How a stop went: whether the main process needed SIGKILL, and what is still alive."""

    killed: bool
    survivors: tuple[int, ...]


def _signal(pids: Iterable[int], signum: int) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signum)


def wait_until_gone(pids: Iterable[int], timeout: float) -> list[int]:
    """Wait up to `timeout` seconds for the processes to end; returns those still alive."""
    deadline = time.monotonic() + timeout
    remaining = [pid for pid in pids if is_alive(pid)]
    while remaining and time.monotonic() < deadline:
        time.sleep(0.2)
        remaining = [pid for pid in remaining if is_alive(pid)]
    return remaining


def stop_tree(pid: int, grace_seconds: float) -> StopOutcome:
    """SIGTERM `pid` (a JVM runs its shutdown hooks), SIGKILL it after `grace_seconds`, then
    SIGKILL whatever of its process tree, as it stood before the stop, is left.

    A leftover is only killed while it still runs the command line it had in the tree, so a
    PID the system reused in between is left alone.
    """
    tree = {child: command_line(child) for child in [pid, *descendants(pid, process_parents())]}
    _signal([pid], signal.SIGTERM)
    killed = bool(wait_until_gone([pid], grace_seconds))
    if killed:
        _signal([pid], signal.SIGKILL)
    leftovers = [
        child
        for child, args in tree.items()
        if child != pid and is_alive(child) and command_line(child) == args
    ]
    _signal(leftovers, signal.SIGKILL)
    return StopOutcome(killed=killed, survivors=tuple(wait_until_gone(tree, 10)))
