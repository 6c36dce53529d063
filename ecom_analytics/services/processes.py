"""Processes of a server: PID file, command lines, process trees, stopping.

Stopping never trusts a PID alone: the caller checks the command line first (a PID file can
outlive its process and the PID be reused), and a stop reaches the process's children too
(e.g. Python workers), which a plain kill of a JVM could leave behind.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import psutil


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
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
    except psutil.AccessDenied:
        return True


def command_line(pid: int) -> list[str]:
    """The arguments `pid` was started with; empty when it is gone, a zombie or unreadable."""
    try:
        return psutil.Process(pid).cmdline()
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return []


def descendants(pid: int) -> list[int]:
    """Every process below `pid` in the tree, parents before children."""
    try:
        return [child.pid for child in psutil.Process(pid).children(recursive=True)]
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return []


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
    tree = {child: command_line(child) for child in [pid, *descendants(pid)]}
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
