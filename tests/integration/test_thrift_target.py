"""The `thrift` target end to end: `ecom thrift start`, `dbt build --target thrift`, `stop`.

On one small generated data set, the whole project is built twice: on a local Spark Thrift
Server (SQL over HiveServer2, Python models over Spark Connect) by a `dbt` subprocess (this
pytest process holds a local SparkContext, and one process never mixes the two), and on the
`local` target in this process. Every relation the project builds (seeds, views, tables,
incremental tables), found in dbt's manifest so that models added later are covered too, must
hold the same columns and rows on both. The server must listen on
loopback only and leave no process behind, even when a test fails.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ecom_analytics.generator.config import GenerateConfig
from ecom_analytics.generator.pipeline import generate
from ecom_analytics.services.network import free_ports, listening_sockets
from ecom_analytics.services.processes import is_alive, read_pid
from tests.dbt_harness import DbtProject

pytestmark = [pytest.mark.spark, pytest.mark.dbt]

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
THRIFT_SCHEMA = "t_thrift_server"
RELATION_MATERIALIZATIONS = ("seed", "view", "table", "incremental")
BUILD_TIMEOUT_SECONDS = 1500


@dataclass(frozen=True)
class Server:
    state_dir: Path
    thrift_port: int
    connect_port: int
    pid: int

    def cli(self, action: str, *extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(BIN / "ecom"), "thrift", action, "--dir", str(self.state_dir), *extra],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )


def clean_environment(**values: str) -> dict[str, str]:
    """This process's environment without any thrift-target settings of the developer's."""
    prefixes = ("ECOM_THRIFT_", "ECOM_SPARK_CONNECT_", "DBT_ENV_SECRET_ECOM_", "SPARK_REMOTE")
    env = {key: value for key, value in os.environ.items() if not key.startswith(prefixes)}
    return {**env, **values}


@pytest.fixture(scope="module")
def raw_dir(dbt_project: DbtProject) -> Path:
    config = GenerateConfig(
        raw_dir=dbt_project.raw_dir,
        ad_click_dir=dbt_project.raw_dir.parent / "ad_clicks",
        seed=11,
        days=2,
        users=120,
        sessions_per_day=80,
        actions_per_session=8,
        dirt_share=0.02,
    )
    generate(config, progress=False)
    return dbt_project.raw_dir


@pytest.fixture(scope="module")
def server_start(module_dir: Path) -> Iterator[tuple[Server, subprocess.Popen[str]]]:
    """`ecom thrift start` on free loopback ports, under way; stopped at the end whatever
    happened, and its process must be gone then."""
    thrift_port, connect_port = free_ports(2)
    pending = Server(module_dir / "thrift-server", thrift_port, connect_port, pid=0)
    starting = subprocess.Popen(
        [str(BIN / "ecom"), "thrift", "start", "--dir", str(pending.state_dir),
         "--thrift-port", str(thrift_port), "--connect-port", str(connect_port),
         "--driver-memory", "2g", "--timeout", "600"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=clean_environment(),
    )  # fmt: skip
    try:
        yield pending, starting
    finally:
        starting.communicate(timeout=900)  # a failed start stops what it started itself
        pid = read_pid(pending.state_dir / "thriftserver.pid")
        stopped = pending.cli("stop")
        assert stopped.returncode == 0, stopped.stdout + stopped.stderr
        assert pid is None or not is_alive(pid), f"server process {pid} survived the stop"


@pytest.fixture(scope="module")
def server(server_start: tuple[Server, subprocess.Popen[str]], local_build: DbtProject) -> Server:
    """The running server. (`local_build` is built while the server starts: both take a while.)"""
    pending, starting = server_start
    output, _ = starting.communicate(timeout=900)
    assert starting.returncode == 0, output
    pid = read_pid(pending.state_dir / "thriftserver.pid")
    assert pid is not None and is_alive(pid)
    return Server(pending.state_dir, pending.thrift_port, pending.connect_port, pid)


@dataclass(frozen=True)
class ThriftBuild:
    output: str
    manifest: dict[str, Any]
    run_results: dict[str, Any]


@pytest.fixture(scope="module")
def thrift_build(server: Server, raw_dir: Path, module_dir: Path) -> ThriftBuild:
    """`dbt build --target thrift` over the whole project, in a process of its own."""
    target_path = module_dir / "thrift-target"
    env = clean_environment(
        ECOM_TARGET="thrift",
        ECOM_THRIFT_HOST="127.0.0.1",
        ECOM_THRIFT_PORT=str(server.thrift_port),
        ECOM_SPARK_CONNECT_PORT=str(server.connect_port),
        ECOM_RAW_DIR=str(raw_dir),
        ECOM_SCHEMA=THRIFT_SCHEMA,
        ECOM_THREADS="4",
    )
    result = subprocess.run(
        [str(BIN / "dbt"), "build", "--project-dir", str(ROOT), "--profiles-dir", str(ROOT),
         "--target-path", str(target_path)],
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT_SECONDS,
        check=False,
        env=env,
        cwd=ROOT,
    )  # fmt: skip
    output = result.stdout + result.stderr
    assert result.returncode == 0, "dbt build --target thrift failed:\n" + output[-6000:]
    return ThriftBuild(
        output=output,
        manifest=json.loads((target_path / "manifest.json").read_text()),
        run_results=json.loads((target_path / "run_results.json").read_text()),
    )


@pytest.fixture(scope="module")
def local_build(
    dbt_project: DbtProject, raw_dir: Path, server_start: tuple[Server, subprocess.Popen[str]]
) -> DbtProject:
    """The same project and data on the `local` target, in this process (asks for
    `server_start` so that the server boots meanwhile)."""
    dbt_project.build()
    return dbt_project


def built_relations(manifest: dict[str, Any]) -> list[str]:
    """Every relation the project builds: seeds, views, tables, incremental tables."""
    return sorted(
        node["alias"]
        for node in manifest["nodes"].values()
        if node["resource_type"] in ("model", "seed")
        and node["config"]["materialized"] in RELATION_MATERIALIZATIONS
    )


class ThriftSql:
    """SQL on the server over HiveServer2, from this process (no JVM involved)."""

    def __init__(self, port: int) -> None:
        from pyhive import hive

        self.connection = hive.connect(host="127.0.0.1", port=port, username="ecom-tests")

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        cursor = self.connection.cursor()
        try:
            cursor.execute(sql)
            return [tuple(row) for row in cursor.fetchall()]
        finally:
            cursor.close()


@pytest.fixture(scope="module")
def thrift_sql(server: Server) -> Iterator[ThriftSql]:
    from thrift.transport.TTransport import TTransportException

    sql = ThriftSql(server.thrift_port)
    yield sql
    with contextlib.suppress(TTransportException, OSError):  # the last test stops the server
        sql.connection.close()


def row_images_sql(spark, relation: str, target_relation: str) -> str:
    """One JSON text per row of `target_relation`, doubles rounded (summation order may differ)."""
    columns = []
    for field in spark.table(relation).schema.fields:
        name = f"`{field.name}`"
        kind = field.dataType.typeName()
        columns.append(f"round({name}, 9) as {name}" if kind in ("double", "float") else name)
    return f"select to_json(struct({', '.join(columns)})) from {target_relation}"


def describe(rows: list[tuple[Any, ...]]) -> list[tuple[str, str]]:
    return [(str(row[0]), str(row[1])) for row in rows]


def test_server_listens_on_loopback_only(server: Server) -> None:
    sockets = listening_sockets(server.pid)
    if sockets is None:
        pytest.skip("needs Linux /proc")
    ports = {s.port for s in sockets}
    assert {server.thrift_port, server.connect_port} <= ports, sockets
    assert all(s.loopback for s in sockets), f"non-loopback listeners: {sockets}"
    # the same, as `ss -ltn` sees it
    ss = subprocess.run(["ss", "-Hltn"], capture_output=True, text=True, check=False)
    if ss.returncode == 0:
        for port in (server.thrift_port, server.connect_port):
            addresses = [
                line.split()[3].rsplit(":", 1)[0]
                for line in ss.stdout.splitlines()
                if line.split()[3].endswith(f":{port}")
            ]
            assert addresses, f"ss shows nothing on port {port}"
            assert all("127.0.0.1" in address or address == "[::1]" for address in addresses), (
                addresses
            )


def test_status_reports_both_protocols(server: Server) -> None:
    status = server.cli("status")
    assert status.returncode == 0, status.stdout + status.stderr
    assert f"127.0.0.1:{server.thrift_port} answers" in status.stdout
    assert f"sc://127.0.0.1:{server.connect_port} answers" in status.stdout
    assert "(loopback only)" in status.stdout


def test_start_refuses_a_second_server(server: Server) -> None:
    again = server.cli(
        "start", "--thrift-port", str(server.thrift_port), "--connect-port",
        str(server.connect_port),
    )  # fmt: skip
    assert again.returncode == 2
    assert f"already runs (pid {server.pid})" in again.stderr


def test_python_models_ran_on_the_server(thrift_build: ThriftBuild, thrift_sql: ThriftSql) -> None:
    python_models = {
        node["unique_id"]: node["name"]
        for node in thrift_build.manifest["nodes"].values()
        if node["resource_type"] == "model" and node["language"] == "python"
    }
    assert python_models, "the project has Python models; the manifest shows none"
    messages = {
        result["unique_id"]: result["message"]
        for result in thrift_build.run_results["results"]
        if result["unique_id"] in python_models
    }
    assert messages == {unique_id: "OK (connect)" for unique_id in python_models}
    tables = {row[1] for row in thrift_sql.rows(f"show tables in {THRIFT_SCHEMA}")}
    assert set(python_models.values()) <= tables


def test_every_table_equals_the_local_targets(
    thrift_build: ThriftBuild, local_build: DbtProject, thrift_sql: ThriftSql, spark
) -> None:
    relations = built_relations(thrift_build.manifest)
    assert {"city_info", "stg_ecom__user_visit_actions", "int_sessions_sliced"} <= set(relations)
    differences = []
    compared: dict[str, int] = {}
    for name in relations:
        local_relation = local_build.relation(name)
        server_relation = f"{THRIFT_SCHEMA}.{name}"
        local_columns = describe(
            [tuple(row) for row in spark.sql(f"describe {local_relation}").collect()]
        )
        server_columns = describe(thrift_sql.rows(f"describe {server_relation}"))
        if local_columns != server_columns:
            differences.append(f"{name}: columns {server_columns} != local {local_columns}")
            continue
        local_rows = Counter(
            row[0]
            for row in spark.sql(row_images_sql(spark, local_relation, local_relation)).collect()
        )
        server_rows = Counter(
            row[0]
            for row in thrift_sql.rows(row_images_sql(spark, local_relation, server_relation))
        )
        compared[name] = sum(local_rows.values())
        if local_rows != server_rows:
            only_server = list((server_rows - local_rows).elements())[:3]
            only_local = list((local_rows - server_rows).elements())[:3]
            differences.append(f"{name}: only on server {only_server}, only local {only_local}")
    assert not differences, "\n".join(differences)
    # a comparison of empty tables proves nothing: the data must reach the Python model
    assert all(compared[name] > 0 for name in ("stg_ecom__users", "int_sessions_sliced")), compared


def test_stop_leaves_no_process(server: Server) -> None:
    stopped = server.cli("stop")
    assert stopped.returncode == 0, stopped.stdout + stopped.stderr
    assert "stopped" in stopped.stdout or "killed" in stopped.stdout
    assert not is_alive(server.pid)
    assert not (server.state_dir / "thriftserver.pid").exists()
    processes = subprocess.run(
        ["ps", "-A", "-ww", "-o", "pid=", "-o", "args="], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    leftovers = [line for line in processes if str(server.state_dir) in line]
    assert not leftovers, f"processes of the server left behind: {leftovers}"
    assert server.cli("status").returncode == 3
