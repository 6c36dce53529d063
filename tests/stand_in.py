"""A stand-in server for tests of start/stop/status without a JVM: a `sleep`ing Python whose
command line carries the given arguments, as a real server's carries its class and folder."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time
from collections.abc import Iterator

from ecom_analytics.services.processes import command_line


@contextlib.contextmanager
def stand_in(*args: str, seconds: int = 120) -> Iterator[subprocess.Popen[bytes]]:
    """The running stand-in, its command line readable; killed at the end if still running."""
    process = subprocess.Popen(
        [sys.executable, "-c", f"import time; time.sleep({seconds})", *args],
        start_new_session=True,
    )
    # Popen returns when the exec closes its pipe, a moment before the kernel sets the new
    # program's arguments: until then the process shows none
    deadline = time.monotonic() + 10
    while list(args) != command_line(process.pid)[3:] and time.monotonic() < deadline:
        time.sleep(0.01)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()
