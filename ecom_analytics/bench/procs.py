"""Run one benchmark part as a child process: wall time, peak memory, CPU time, a time budget.

The child gets a process group of its own, so the JVM that PySpark starts under it belongs to
the group too. While it runs, the RSS and the CPU time of every process in its tree are sampled
from /proc: the JVM (`java`), the Python process that runs dbt or the baseline, and anything
else. A process's CPU time is its last sample's, so up to one sampling interval of it is missed
at its end. When the budget runs out the whole group gets SIGTERM, then SIGKILL after a grace
period, and the outcome says `timeout`. Parsing /proc is in plain functions, tested without a
child.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

PAGE_SIZE_FIELDS = ("VmRSS", "VmHWM")
ROLES = ("jvm", "python", "other")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
KILL_GRACE_SECONDS = 15.0
CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def parse_status(text: str) -> dict[str, int]:
    """VmRSS and VmHWM (peak RSS) of a /proc/<pid>/status text, in bytes (missing: absent)."""
    values = {}
    for line in text.splitlines():
        name, _, rest = line.partition(":")
        if name in PAGE_SIZE_FIELDS:
            amount, _, unit = rest.strip().partition(" ")
            values[name] = int(amount) * (1024 if unit.strip().lower() == "kb" else 1)
    return values


def _split_stat(text: str) -> tuple[str, str, list[str]]:
    """pid, command name and the fields after it of a /proc/<pid>/stat line (the name may hold
    spaces and parentheses)."""
    pid_text, _, rest = text.partition(" (")
    name, _, after = rest.rpartition(") ")
    return pid_text, name, after.split()


def parse_stat(text: str) -> tuple[int, str, int]:
    """(pid, command name, parent pid) of a /proc/<pid>/stat line."""
    pid_text, name, fields = _split_stat(text)
    return int(pid_text), name, int(fields[1])


def parse_cpu_ticks(text: str) -> int:
    """User plus system CPU time of a /proc/<pid>/stat line, in clock ticks."""
    fields = _split_stat(text)[2]
    return int(fields[11]) + int(fields[12])


def descendants(root: int, parents: Mapping[int, int]) -> set[int]:
    """`root` and every process below it, given each process's parent."""
    children: dict[int, list[int]] = {}
    for pid, parent in parents.items():
        children.setdefault(parent, []).append(pid)
    found, todo = {root}, [root]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def role_of(pid: int, name: str, root: int) -> str:
    """`jvm` for Java, `python` for the child itself (or another Python), else `other`."""
    if name == "java":
        return "jvm"
    if pid == root or name.startswith("python"):
        return "python"
    return "other"


@dataclass
class Sample:
    """RSS per role at one moment (epoch seconds), in bytes, and the 1-minute load average."""

    at: float
    rss: dict[str, int]
    load: float = 0.0


@dataclass
class Outcome:
    """How a child run ended and what it used."""

    status: str  # ok | failed | timeout
    exit_code: int | None
    started_at: float  # epoch seconds
    wall_seconds: float
    peak_rss: dict[str, int] = field(default_factory=dict)  # per role, and `total`
    samples: list[Sample] = field(default_factory=list)
    cpu_seconds: dict[str, float] = field(default_factory=dict)  # per role

    @property
    def mean_load(self) -> float | None:
        """The machine's 1-minute load average over the run (this run's own work included)."""
        loads = [sample.load for sample in self.samples]
        return sum(loads) / len(loads) if loads else None

    def peak_between(self, role: str, start: float, end: float) -> int | None:
        """Highest sampled RSS of `role` between two epoch times (None without a sample)."""
        values = [s.rss.get(role, 0) for s in self.samples if start <= s.at <= end]
        return max(values) if values else None


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read()
    except OSError:  # the process ended meanwhile
        return None


def process_table(proc: Path = Path("/proc")) -> dict[int, tuple[str, int, int]]:
    """Every process's (name, parent pid, CPU clock ticks), from /proc."""
    table = {}
    for entry in proc.iterdir():
        if entry.name.isdigit():
            text = _read(str(entry / "stat"))
            if text:
                pid, name, parent = parse_stat(text)
                table[pid] = (name, parent, parse_cpu_ticks(text))
    return table


def cpu_seconds_per_role(ticks: Mapping[int, tuple[str, int]]) -> dict[str, float]:
    """CPU seconds per role, from each process's (role, last CPU clock ticks seen)."""
    seconds = dict.fromkeys(ROLES, 0.0)
    for role, count in ticks.values():
        seconds[role] += count / CLOCK_TICKS
    return seconds


def sample_tree(
    root: int, peaks: dict[str, int], ticks: dict[int, tuple[str, int]] | None = None
) -> Sample:
    """Current RSS per role of `root`'s process tree; raises `peaks` with the VmHWM values.

    With `ticks`, also records each process's role and CPU clock ticks so far.
    """
    table = process_table()
    rss = dict.fromkeys(ROLES, 0)
    for pid in descendants(root, {pid: parent for pid, (_name, parent, _t) in table.items()}):
        if pid not in table:
            continue
        status = _read(f"/proc/{pid}/status")
        if not status:
            continue
        values = parse_status(status)
        name, _parent, cpu = table[pid]
        role = role_of(pid, name, root)
        rss[role] += values.get("VmRSS", 0)
        peaks[role] = max(peaks.get(role, 0), values.get("VmHWM", 0))
        if ticks is not None:
            ticks[pid] = (role, cpu)  # a process's CPU time only grows
    peaks["total"] = max(peaks.get("total", 0), sum(rss.values()))
    return Sample(time.time(), rss, os.getloadavg()[0])


def last_line(path: Path, skip: Iterable[str] = ("WARN", "INFO")) -> str:
    """The last line of a log worth showing a person (no ANSI colours, no JVM chatter)."""
    try:
        with path.open("rb") as handle:
            handle.seek(max(0, path.stat().st_size - 4096))
            lines = handle.read().decode("utf-8", errors="replace").splitlines()
    except OSError:
        return ""
    for line in reversed(lines):
        line = _ANSI.sub("", line).strip()
        if line and not any(f" {word} " in f" {line} " for word in skip):
            return line[:140]
    return ""


def stop_group(process: subprocess.Popen[bytes], grace: float = KILL_GRACE_SECONDS) -> None:
    """SIGTERM to the child's process group, SIGKILL to what is left after `grace` seconds."""
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def run_measured(
    argv: Sequence[str],
    *,
    label: str,
    log_path: Path,
    budget_seconds: float,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    interval: float = 0.5,
    progress_seconds: float = 30.0,
    log: Callable[[str], None] = print,
) -> Outcome:
    """Run `argv` (output to `log_path`), sampling memory and CPU time, within `budget_seconds`."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    peaks: dict[str, int] = {}
    ticks: dict[int, tuple[str, int]] = {}
    samples: list[Sample] = []
    started_at, started = time.time(), time.monotonic()
    with log_path.open("wb") as output:
        process = subprocess.Popen(
            list(argv),
            stdout=output,
            stderr=subprocess.STDOUT,
            env=dict(env) if env is not None else None,
            cwd=cwd,
            start_new_session=True,
        )
        status, next_progress = None, started + progress_seconds
        try:
            while process.poll() is None:
                samples.append(sample_tree(process.pid, peaks, ticks))
                now = time.monotonic()
                if now - started > budget_seconds:
                    log(f"bench:   {label}: over the budget of {budget_seconds:.0f} s, stopping it")
                    stop_group(process)
                    status = "timeout"
                    break
                if now >= next_progress:
                    next_progress += progress_seconds
                    log(
                        f"bench:   {label}: {now - started:.0f} s, JVM "
                        f"{samples[-1].rss['jvm'] / 2**20:,.0f} MiB; {last_line(log_path)}"
                    )
                time.sleep(interval)
        except BaseException:  # Ctrl-C or an error here: never leave the child running
            stop_group(process, grace=5.0)
            raise
    wall = time.monotonic() - started
    code = process.returncode
    if status is None:
        status = "ok" if code == 0 else "failed"
    return Outcome(status, code, started_at, wall, peaks, samples, cpu_seconds_per_role(ticks))
