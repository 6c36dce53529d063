"""Stopping the live stream's processes (Ctrl-C, then what is left killed), and the lines the
demo prints about the daily run beside it (stand-in processes, no JVM)."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from ecom_analytics.demo import BesideTheStream
from ecom_analytics.live_stream import INTERRUPTED, Ending, _interrupt
from ecom_analytics.run_summary import RunSummary
from ecom_analytics.services.processes import is_alive

ON_CTRL_C = "import signal, sys, time; signal.signal(signal.SIGINT, lambda *_: sys.exit(130)); "


def start(code: str, log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as output:
        return subprocess.Popen(
            [sys.executable, "-c", code], stdout=output, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip


def wait_for(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 30
    while not condition():
        assert time.monotonic() < deadline, "the stand-in did not start"
        time.sleep(0.02)


def test_a_process_that_stops_on_ctrl_c_ends_cleanly(tmp_path: Path) -> None:
    log = tmp_path / "stream.log"
    process = start(ON_CTRL_C + "print('batch 1', flush=True); time.sleep(60)", log)
    wait_for(lambda: "batch 1" in log.read_text())
    ending = _interrupt(process, "stream", log, timeout=10)
    assert ending == Ending("stream", INTERRUPTED, ["batch 1"])
    assert ending.clean
    assert ending.describe() == "stream: stopped cleanly"


def test_a_process_that_ignores_ctrl_c_is_killed(tmp_path: Path) -> None:
    log = tmp_path / "stream.log"
    process = start(
        "import signal, time; signal.signal(signal.SIGINT, signal.SIG_IGN); "
        "print('up', flush=True); time.sleep(60)",
        log,
    )
    wait_for(lambda: "up" in log.read_text())
    ending = _interrupt(process, "stream", log, timeout=1)
    assert ending.returncode is None and not ending.clean
    assert "killed" in ending.describe()
    assert not is_alive(process.pid)


def test_a_child_left_behind_is_killed_and_reported(tmp_path: Path) -> None:
    """The stream's JVM must end with it: a child still alive after the timeout is killed."""
    log = tmp_path / "stream.log"
    process = start(
        ON_CTRL_C + "import subprocess; child = subprocess.Popen([sys.executable, '-c', "
        "'import signal, time; signal.signal(signal.SIGINT, signal.SIG_IGN); time.sleep(60)']); "
        "print(child.pid, flush=True); time.sleep(60)",
        log,
    )
    wait_for(lambda: bool(log.read_text().strip()))
    child = int(log.read_text().split()[0])
    ending = _interrupt(process, "stream", log, timeout=2)
    assert ending.returncode is None and not ending.clean
    assert not is_alive(child)


def test_the_demo_summary_of_the_daily_run_beside_the_stream() -> None:
    summary = RunSummary()
    summary.models.update(sql=5, python=1)
    summary.tests["pass"] = 9
    beside = BesideTheStream(
        summary=summary,
        batches_during_build=3,
        batches=4,
        endings=[Ending("producer", INTERRUPTED, []), Ending("stream", INTERRUPTED, [])],
    )
    assert beside.clean
    assert beside.lines() == [
        "daily run:    6 models and 9 data tests, beside the live stream",
        "live stream:  4 micro-batches (3 during the daily run); producer: stopped cleanly; "
        "stream: stopped cleanly",
    ]
    assert not BesideTheStream().clean  # never started, never stopped
