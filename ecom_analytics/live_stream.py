"""The real-time job on a live feed, in the background: `ecom produce-clicks` writing ad-click
log files in real time and `ecom stream` reading them, each a process of its own.

`ecom demo` runs dbt beside it to show a warehouse shared through the metastore service, and
the tests do the same. Only the two commands' command lines are used, so the job's internals
may change freely. Stopping is Ctrl-C for both (SIGINT: the stream's query ends, its JVM with
it), then whatever is left of their process trees is killed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from ecom_analytics.services.processes import descendants, stop_tree, wait_until_gone
from ecom_analytics.services.service import log_tail

ECOM = Path(sys.executable).with_name("ecom")
INTERRUPTED = 130  # the exit status of an `ecom` command stopped with Ctrl-C


@dataclass(frozen=True)
class Ending:
    """How one process of the live stream ended."""

    name: str
    returncode: int | None
    """None: it, or a process it started (the stream's JVM), had to be killed."""
    log_tail: list[str]

    @property
    def clean(self) -> bool:
        """Stopped by the interrupt (or finished on its own), not killed, not failed."""
        return self.returncode in (0, INTERRUPTED)

    def describe(self) -> str:
        if self.returncode is None:
            return f"{self.name}: killed (it, or its JVM, did not stop on Ctrl-C)"
        if self.clean:
            return f"{self.name}: stopped cleanly"
        return f"{self.name}: exited with status {self.returncode}"


@dataclass
class LiveStream:
    """A producer and the stream reading its files, started by `start`, ended by `stop`."""

    producer: subprocess.Popen[bytes]
    stream: subprocess.Popen[bytes]
    log_dir: Path

    @classmethod
    def start(
        cls,
        ad_click_dir: Path,
        log_dir: Path,
        env: Mapping[str, str] = os.environ,
        rate: int = 200,
        stream_args: Sequence[str] = ("--trigger-interval", "5 seconds"),
        cwd: Path | None = None,
    ) -> LiveStream:
        """Start `ecom produce-clicks --rate RATE` into `ad_click_dir` and `ecom stream` on it
        (with `stream_args`); their output goes to `producer.log` and `stream.log` in
        `log_dir`."""
        log_dir.mkdir(parents=True, exist_ok=True)
        ad_click_dir.mkdir(parents=True, exist_ok=True)
        producer = _launch(
            [str(ECOM), "produce-clicks", "--output", str(ad_click_dir), "--rate", str(rate)],
            log_dir / "producer.log",
            env,
            cwd,
        )
        stream = _launch(
            [str(ECOM), "stream", "--input", str(ad_click_dir), *stream_args],
            log_dir / "stream.log",
            env,
            cwd,
        )
        return cls(producer, stream, log_dir)

    def running(self) -> bool:
        return self.producer.poll() is None and self.stream.poll() is None

    def stop(self, timeout: float = 60.0) -> list[Ending]:
        """Ctrl-C to the producer, then to the stream; each has `timeout` seconds to end."""
        return [
            _interrupt(self.producer, "producer", self.log_dir / "producer.log", timeout),
            _interrupt(self.stream, "stream", self.log_dir / "stream.log", timeout),
        ]


def _launch(
    command: list[str], log: Path, env: Mapping[str, str], cwd: Path | None
) -> subprocess.Popen[bytes]:
    with log.open("ab") as output:
        return subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            env=dict(env),
            cwd=cwd,
            start_new_session=True,  # a Ctrl-C in the terminal reaches it through us only
        )


def _interrupt(process: subprocess.Popen[bytes], name: str, log: Path, timeout: float) -> Ending:
    """Ctrl-C, then wait for the process and everything it started (a JVM ends a few seconds
    after its Python program); what is left after `timeout` seconds is killed."""
    tree = descendants(process.pid)
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            stop_tree(process.pid, grace_seconds=5)
            process.wait()
            return Ending(name, None, log_tail(log, 10))
    leftovers = wait_until_gone(tree, timeout)
    for pid in leftovers:
        stop_tree(pid, grace_seconds=5)
    return Ending(name, None if leftovers else process.returncode, log_tail(log, 10))
