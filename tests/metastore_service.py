"""Metastore fixtures for the tests (registered in tests/conftest.py):

- `locked_database`: a warehouse folder whose Derby metastore another process holds, the way a
  JVM with the database booted holds it (a POSIX lock on `metastore_db/dbex.lck`);
- `postgres_cluster()`: a throwaway PostgreSQL cluster (Debian's `postgresql` package, `initdb`
  and `pg_ctl`) in a folder of its own on a free loopback port, with a `metastore` database and
  a user with a password; run as the `postgres` user when the tests run as root (`pg_ctl`
  refuses root). Without the server binaries (or that user) the test is skipped with the
  reason, except in CI (`CI` set), where it fails: `.ci/run` installs the package.
- `start_metastore()`: `ecom metastore` started on a free port, for a module (stopped after).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from ecom_analytics.metastore import server
from ecom_analytics.metastore.settings import MetastoreSettings, settings_from
from ecom_analytics.services.network import free_ports
from ecom_analytics.services.processes import is_alive

METASTORE_START_TIMEOUT = 300.0
POSTGRES_USER = "hive"
POSTGRES_DATABASE = "metastore"


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


def unavailable(reason: str) -> None:
    """Skip with the reason; in CI, where PostgreSQL must run, fail instead."""
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


def postgres_bin_dir() -> Path | None:
    """The folder of the server's tools (`initdb`, `pg_ctl`, `psql`): Debian's newest
    /usr/lib/postgresql/<version>/bin, else the folder `pg_ctl` on PATH links to."""
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"),
        key=lambda path: int(path.parent.parent.name) if path.parent.parent.name.isdigit() else 0,
    )
    if versions:
        return versions[-1].parent
    found = shutil.which("pg_ctl")
    return Path(found).resolve().parent if found else None


@dataclass(frozen=True)
class PostgresCluster:
    folder: Path
    port: int
    bin_dir: Path
    runner: tuple[str, ...]
    """The command prefix that runs the server's tools as a non-root user (empty: as we are)."""
    password: str

    @property
    def data_dir(self) -> Path:
        return self.folder / "data"

    @property
    def jdbc_url(self) -> str:
        return f"jdbc:postgresql://127.0.0.1:{self.port}/{POSTGRES_DATABASE}"

    @property
    def env(self) -> dict[str, str]:
        """The service's settings of this database (the password in the environment only)."""
        return {
            "ECOM_METASTORE_JDBC_URL": self.jdbc_url,
            "ECOM_METASTORE_JDBC_USER": POSTGRES_USER,
            "ECOM_METASTORE_JDBC_PASSWORD": self.password,
        }

    def run(self, tool: str, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*self.runner, str(self.bin_dir / tool), *args],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    def sql(self, statement: str, database: str = "postgres") -> str:
        """Run SQL as the cluster's superuser over its local socket; its output."""
        result = self.run(
            "psql", "-h", str(self.folder), "-p", str(self.port), "-U", "postgres",
            "-d", database, "-v", "ON_ERROR_STOP=1", "-At", "-c", statement,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        return result.stdout


@contextmanager
def postgres_cluster() -> Iterator[PostgresCluster]:
    """A PostgreSQL cluster on a free loopback port with the metastore's database and user;
    stopped and removed at the end."""
    bin_dir = postgres_bin_dir()
    if bin_dir is None or not all((bin_dir / tool).exists() for tool in ("initdb", "psql")):
        unavailable("PostgreSQL server binaries not found: apt-get install -y postgresql")
    assert bin_dir is not None
    runner: tuple[str, ...] = ()
    if os.geteuid() == 0:
        if shutil.which("runuser") is None:
            unavailable("running as root without `runuser`: pg_ctl refuses to run as root")
        try:
            subprocess.run(["id", "postgres"], capture_output=True, check=True)
        except subprocess.CalledProcessError:
            unavailable("running as root and no `postgres` user to run PostgreSQL as")
        runner = ("runuser", "-u", "postgres", "--")
    folder = Path(tempfile.mkdtemp(prefix="ecom-postgres-"))
    if runner:
        shutil.chown(folder, user="postgres")
    (port,) = free_ports(1)
    cluster = PostgresCluster(
        folder, port, bin_dir, runner, password="metastore-" + os.urandom(6).hex()
    )
    try:
        init = cluster.run(
            "initdb", "-D", str(cluster.data_dir), "-U", "postgres", "--auth-local=trust",
            "--auth-host=scram-sha-256", "--no-sync", "-E", "UTF8", "--locale=C",
        )  # fmt: skip
        assert init.returncode == 0, init.stdout + init.stderr
        options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        start = cluster.run(
            "pg_ctl", "-D", str(cluster.data_dir), "-l", str(folder / "postgres.log"),
            "-o", options, "-w", "-t", "120", "start",
        )  # fmt: skip
        assert start.returncode == 0, start.stdout + start.stderr
        cluster.sql(f"create user {POSTGRES_USER} password '{cluster.password}'")
        cluster.sql(f"create database {POSTGRES_DATABASE} owner {POSTGRES_USER}")
        yield cluster
    finally:
        cluster.run("pg_ctl", "-D", str(cluster.data_dir), "-m", "fast", "-w", "stop")
        shutil.rmtree(folder, ignore_errors=True)


@dataclass(frozen=True)
class RunningMetastore:
    settings: MetastoreSettings
    pid: int
    start_output: str
    env: Mapping[str, str]
    """The environment it was started with (the database's settings included)."""

    @property
    def uri(self) -> str:
        return self.settings.uri

    def restart(self) -> str:
        """Start it again after it stopped (or was killed); the start's output."""
        output: list[str] = []
        code = server.start(
            self.settings, METASTORE_START_TIMEOUT, report=output.append, env=self.env
        )
        assert code == 0, "\n".join(output)
        return "\n".join(output)


@contextmanager
def start_metastore(
    state_dir: Path, warehouse_root: Path, env: Mapping[str, str] | None = None
) -> Iterator[RunningMetastore]:
    """`ecom metastore start` for `warehouse_root` on a free port, in the environment `env`
    (default: this one), whose database settings it takes (none: the warehouse's Derby
    database); stopped at the end, its process gone."""
    env = {**(os.environ if env is None else env), "ECOM_WAREHOUSE_DIR": str(warehouse_root)}
    (port,) = free_ports(1)
    settings = settings_from(env, state_dir=str(state_dir), port=port)
    output: list[str] = []
    try:
        code = server.start(settings, METASTORE_START_TIMEOUT, report=output.append, env=env)
        assert code == 0, "\n".join(output)
        pid = server.running_pid(settings)
        assert pid is not None
        yield RunningMetastore(settings, pid, "\n".join(output), env)
    finally:
        last = server.running_pid(settings)  # a test may have restarted it
        server.stop(settings, report=lambda _: None)
        assert last is None or not is_alive(last), f"metastore process {last} survived the stop"
