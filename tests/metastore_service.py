"""Metastore fixtures for the tests (registered in tests/conftest.py):

- `locked_database`: a warehouse folder whose Derby metastore another process holds, the way a
  JVM with the database booted holds it (a POSIX lock on `metastore_db/dbex.lck`).
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture
def locked_database(tmp_path: Path) -> Iterator[tuple[Path, int]]:
    """`<tmp>/wh/metastore_db`, locked by a child process: (the database folder, its PID)."""
    database = tmp_path / "wh" / "metastore_db"
    database.mkdir(parents=True)
    lock_file = database / "dbex.lck"
    lock_file.write_text("")
    holder = subprocess.Popen(
        [sys.executable, "-c", "import fcntl, sys, time; f = open(sys.argv[1], 'r+'); "
         "fcntl.lockf(f, fcntl.LOCK_EX); print('locked', flush=True); time.sleep(120)",
         str(lock_file)],
        stdout=subprocess.PIPE,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline() == b"locked\n"
        yield database, holder.pid
    finally:
        holder.kill()
        holder.wait()
