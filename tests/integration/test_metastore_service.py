"""One warehouse, many programs at once, through the metastore service (SPEC 5, docs/metastore.md).

For each database of the service, the warehouse's own Derby database and PostgreSQL, one
`ecom metastore` for the module on a fresh warehouse: it starts, reports itself, listens on
loopback only and refuses a second start.

On the PostgreSQL service (production's), a live `ecom stream` (fed by `ecom produce-clicks`)
runs while `dbt build` builds two tasks and the daily run two days in a row, each a `dbt`
process of its own with the default threads, all through ECOM_METASTORE_URI: every command
succeeds, the stream commits batches all along and stops cleanly, the marts equal those of the
same four commands run one after another on the embedded metastore (in this process), and the
stream's tables equal the plain-Python replay of SPEC 4 of the batches its checkpoint committed
(no click lost or doubled). The tables land under `$ECOM_WAREHOUSE_DIR/warehouse/<schema>.db`,
where the dashboards' reader (used for the comparison) finds them; `ecom thrift` serves them.

On the Derby service, whose database lives and dies with the service's JVM, the warehouse is
built through the service, then the service is killed (SIGKILL) while the stream runs and a
build is under way: the build fails with one clear line, the stream goes on or stops with one,
and once the service is started again the metastore still knows every table the build was not
rebuilding, the same command succeeds and the stream, resumed from its checkpoint, still equals
the replay. (Each scenario is the same code on the other database.)

Without a service: two `dbt build` at once on one embedded warehouse (the second stops at once,
naming the first), and a service that does not answer (one line naming its URI).

The live stream writes a schema of its own: dbt's reconciliation of the stream's tables
(`assert_ad_daily_clicks_reconcile`) compares two tables the stream writes at different
moments, so it holds for a stream at rest, not for one writing while the test reads.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from dbt.adapters.sparkoss.metastore import derby_lock_holder

from ecom_analytics.dashboard.warehouse import FileWarehouse, TableNotFound, ThriftWarehouse
from ecom_analytics.generator.config import GenerateConfig
from ecom_analytics.generator.pipeline import generate
from ecom_analytics.live_stream import LiveStream
from ecom_analytics.metastore.client import tables
from ecom_analytics.services.network import free_ports, listening_sockets
from ecom_analytics.services.processes import command_line, is_alive, stop_tree
from tests.ad_stream_reference import checkpoint_batches, replay
from tests.dbt_harness import DbtProject
from tests.integration.test_ad_stream import assert_equals_replay, read_tables
from tests.metastore_service import (
    POSTGRES_DATABASE,
    PostgresCluster,
    RunningMetastore,
    postgres_cluster,
    start_metastore,
)

pytestmark = [pytest.mark.spark, pytest.mark.dbt, pytest.mark.metastore]

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
LIVE_SCHEMA = "t_metastore_live"
MARTS = (
    "session_length_distribution",
    "session_random_extract",
    "top10_categories",
    "top10_category_sessions",
    "page_conversion_rates",
    "area_top3_products",
)
SECOND_TASK = {"task_id": "t_second", "sex": "female", "start_age": 20, "end_age": 50}
DAYS = ("2026-11-16", "2026-11-17", "2026-11-18")
DAILY_CHAIN = ("-s", "+area_top3_products", "stg_ecom__quarantined_actions")
NO_UNIT_TESTS = ("--exclude-resource-type", "unit_test")
COMMANDS: tuple[tuple[str, ...], ...] = (
    ("build",),
    ("build", "--select", "int_task_parameters+", "--vars", json.dumps(SECOND_TASK),
     *NO_UNIT_TESTS),
    ("build", *DAILY_CHAIN, "--vars", json.dumps({"run_date": DAYS[1]}), *NO_UNIT_TESTS),
    ("build", *DAILY_CHAIN, "--vars", json.dumps({"run_date": DAYS[2]}), *NO_UNIT_TESTS),
)  # fmt: skip
"""Two tasks, then the daily run for two days in a row (the README's commands; the unit tests,
which read no table, once)."""
REBUILD = ("run",)
"""The default task's models: the warehouse the outage must not lose, the build the killed
service interrupts, and its rerun."""
BUILD_TIMEOUT_SECONDS = 1200
FIRST_BATCH_TIMEOUT_SECONDS = 900


@pytest.fixture(scope="module")
def raw_dir(dbt_project: DbtProject) -> Path:
    generate(
        GenerateConfig(
            raw_dir=dbt_project.raw_dir,
            ad_click_dir=dbt_project.raw_dir.parent / "unused_ad_clicks",
            seed=13,
            start_date=date.fromisoformat(DAYS[0]),
            days=len(DAYS),
            users=100,
            sessions_per_day=50,
            actions_per_session=6,
            dirt_share=0.02,
        ),
        progress=False,
    )
    return dbt_project.raw_dir


def sorted_rows(frame: pd.DataFrame) -> pd.DataFrame:
    order = frame.astype(str).apply(tuple, axis=1).argsort()
    return frame.iloc[order].reset_index(drop=True)


def read_marts(root: Path, schema: str) -> dict[str, pd.DataFrame]:
    """The marts as the dashboards read them: from the table files under `root`, no Spark."""
    warehouse = FileWarehouse(root, schema)
    return {name: sorted_rows(warehouse.read(name)) for name in MARTS}


@pytest.fixture(scope="module")
def reference(dbt_project: DbtProject, raw_dir: Path, spark: object) -> dict[str, pd.DataFrame]:
    """The four commands' models one after another, in this process, on the embedded
    metastore (their tests pass in the concurrent builds)."""
    seeded = dbt_project.invoke("seed")
    assert seeded.success, seeded.text()[-4000:]
    for command in COMMANDS:
        models = [arg for arg in command[1:] if arg not in NO_UNIT_TESTS]
        run = dbt_project.invoke("run", *models)
        assert run.success, run.text()[-4000:]
    marts = read_marts(Path(os.environ["ECOM_WAREHOUSE_DIR"]) / "warehouse", dbt_project.schema)
    assert all(len(frame) for frame in marts.values()), {k: len(v) for k, v in marts.items()}
    return marts


def clean_environment(**values: str) -> dict[str, str]:
    """This process's environment without metastore settings or the suite's single thread."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("ECOM_METASTORE_") and key != "ECOM_THREADS"
    }
    return {**env, "ECOM_DRIVER_MEMORY": "1500m", **values}


@dataclass(frozen=True)
class Shared:
    """A metastore service on a warehouse of its own, and how programs reach it."""

    name: str
    service: RunningMetastore
    warehouse_root: Path
    work_dir: Path
    cluster: PostgresCluster | None
    tables_at_start: frozenset[str]
    """The metastore's tables in its PostgreSQL database once the service answered."""

    def database_tables(self) -> frozenset[str]:
        assert self.cluster is not None
        names = self.cluster.sql(
            "select table_name from information_schema.tables where table_schema = 'public'",
            POSTGRES_DATABASE,
        )
        return frozenset(names.split())

    def env(self, **values: str) -> dict[str, str]:
        return clean_environment(
            ECOM_WAREHOUSE_DIR=str(self.warehouse_root),
            ECOM_METASTORE_URI=self.service.uri,
            **values,
        )


@pytest.fixture(scope="module", params=["derby", "postgresql"])
def shared(request: pytest.FixtureRequest, module_dir: Path) -> Iterator[Shared]:
    """The service of the module, on the warehouse's Derby database or on PostgreSQL."""
    work = module_dir / request.param
    with (
        postgres_cluster() if request.param == "postgresql" else contextlib.nullcontext()
    ) as cluster:
        database_env = cluster.env if cluster is not None else {}
        with start_metastore(
            work / "metastore", work / "warehouse_root", {**clean_environment(), **database_env}
        ) as service:
            shared = Shared(
                request.param, service, work / "warehouse_root", work, cluster, frozenset()
            )
            if cluster is not None:
                shared = dataclasses.replace(shared, tables_at_start=shared.database_tables())
            yield shared


def dbt(
    args: Sequence[str], env: Mapping[str, str], work: Path, name: str
) -> subprocess.Popen[str]:
    """`dbt <args>` in a process of its own, its output in `<work>/<name>.log`."""
    with (work / f"{name}.log").open("w") as log:
        return subprocess.Popen(
            [str(BIN / "dbt"), *args, "--project-dir", str(ROOT), "--profiles-dir", str(ROOT),
             "--target-path", str(work / f"target-{name}"),
             "--log-path", str(work / f"logs-{name}")],
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
            env=dict(env),
            cwd=ROOT,
        )  # fmt: skip


def finish(process: subprocess.Popen[str], work: Path, name: str) -> str:
    process.wait(timeout=BUILD_TIMEOUT_SECONDS)
    return (work / f"{name}.log").read_text()


def succeeded(output: str) -> bool:
    """dbt's summary of a run where nothing failed (warnings allowed: the generated data has
    rows for the quarantine)."""
    return re.search(r"Done\. PASS=\d+ WARN=\d+ ERROR=0 ", output) is not None


def stream_batches(root: Path) -> int:
    try:
        return len(FileWarehouse(root, LIVE_SCHEMA).read("ad_stream_batches"))
    except TableNotFound:
        return 0


def start_live_stream(shared: Shared) -> LiveStream:
    """A producer's live feed and the stream on it, with the module's checkpoint (a restart
    resumes it); once the stream has committed a batch more than before."""
    work = shared.work_dir
    files = shared.warehouse_root / "warehouse"
    before = stream_batches(files)
    live = LiveStream.start(
        work / "clicks",
        work / "live",
        env=shared.env(ECOM_DRIVER_MEMORY="1g"),
        rate=100,
        stream_args=("--trigger-interval", "10 seconds", "--schema", LIVE_SCHEMA,
                     "--checkpoint", str(work / "checkpoint")),
        cwd=ROOT,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + FIRST_BATCH_TIMEOUT_SECONDS
        while stream_batches(files) == before and live.running() and time.monotonic() < deadline:
            time.sleep(2)
        assert live.running(), (work / "live" / "stream.log").read_text()[-3000:]
        assert stream_batches(files) > before, "the stream committed no batch"
    except BaseException:
        live.stop()  # the producer and the stream do not outlive a failed start
        raise
    return live


def assert_stream_equals_replay(shared: Shared, spark: Any) -> None:
    """The stream's tables, read from their Delta files, against SPEC 4 replayed over the
    batches its checkpoint committed. A stream stopped inside a batch may have written some
    tables of it already: `--available-now` on the same checkpoint first completes that batch
    (its Delta transaction ids keep the written tables from counting it twice) and the rest."""
    work = shared.work_dir
    drained = subprocess.run(
        [str(BIN / "ecom"), "stream", "--available-now", "--input", str(work / "clicks"),
         "--schema", LIVE_SCHEMA, "--checkpoint", str(work / "checkpoint")],
        capture_output=True, text=True, timeout=BUILD_TIMEOUT_SECONDS, check=False,
        env=shared.env(ECOM_DRIVER_MEMORY="1g"), cwd=ROOT,
    )  # fmt: skip
    assert drained.returncode == 0, drained.stdout + drained.stderr[-3000:]
    tables = shared.warehouse_root / "warehouse" / f"{LIVE_SCHEMA}.db"
    found = read_tables(
        spark, LIVE_SCHEMA, lambda name: spark.read.format("delta").load(str(tables / name))
    )
    batches = checkpoint_batches(work / "checkpoint")
    assert sum(len(lines) for lines in batches) > 0
    assert_equals_replay(found, replay(batches, threshold=100))


def only_on(shared: Shared, database: str) -> None:
    if shared.name != database:
        pytest.skip(f"the same code on every database: run on the {database} service")


def test_start_status_and_loopback(shared: Shared) -> None:
    service = shared.service
    assert "Hive metastore service ready in" in service.start_output
    assert f"uri:        {service.uri} answers (" in service.start_output
    assert f"export ECOM_METASTORE_URI={service.uri}" in service.start_output
    status = subprocess.run(
        [str(BIN / "ecom"), "metastore", "status", "--dir", str(service.settings.state_dir)],
        capture_output=True, text=True, timeout=120, check=False, env=shared.env(),
    )  # fmt: skip
    assert status.returncode == 0, status.stdout + status.stderr
    assert f"uri:        {service.uri} answers (" in status.stdout
    assert "(loopback only)" in status.stdout
    sockets = listening_sockets(service.pid)
    assert sockets is not None
    assert {s.port for s in sockets} == {service.settings.port}, sockets
    assert all(s.loopback for s in sockets), f"non-loopback listeners: {sockets}"
    database = "PostgreSQL jdbc:postgresql://" if shared.name == "postgresql" else "Derby "
    assert f"database:   {database}" in status.stdout
    password = shared.service.env.get("ECOM_METASTORE_JDBC_PASSWORD")
    if password:  # in the environment of the service only: not in its files, log or arguments
        state = service.settings.state_dir
        for path in state.rglob("*"):
            if path.is_file():
                assert password not in path.read_text(errors="replace"), path
        assert password not in " ".join(command_line(service.pid))


def test_a_second_start_and_a_taken_port_are_refused(shared: Shared, tmp_path: Path) -> None:
    service = shared.service
    again = subprocess.run(
        [str(BIN / "ecom"), "metastore", "start", "--dir", str(service.settings.state_dir),
         "--port", str(free_ports(1)[0])],
        capture_output=True, text=True, timeout=120, check=False, env=shared.env(),
    )  # fmt: skip
    assert again.returncode == 2
    assert f"already runs (pid {service.pid})" in again.stderr
    taken = subprocess.run(
        [str(BIN / "ecom"), "metastore", "start", "--dir", str(tmp_path),
         "--port", str(service.settings.port)],
        capture_output=True, text=True, timeout=120, check=False, env=shared.env(),
    )  # fmt: skip
    assert taken.returncode == 2
    assert taken.stderr.strip() == (
        f"ecom metastore: error: Metastore port 127.0.0.1:{service.settings.port} is already in "
        "use; stop the program using it or choose another port (--port or ECOM_METASTORE_PORT)"
    )
    assert is_alive(service.pid)


def test_the_stream_and_dbt_share_the_warehouse(
    shared: Shared,
    reference: dict[str, pd.DataFrame],
    raw_dir: Path,
    dbt_project: DbtProject,
    spark: Any,
) -> None:
    only_on(shared, "postgresql")
    work = shared.work_dir
    files = shared.warehouse_root / "warehouse"
    live = start_live_stream(shared)
    try:
        batches = [stream_batches(files)]
        env = shared.env(ECOM_RAW_DIR=str(raw_dir), ECOM_SCHEMA=dbt_project.schema)
        for number, command in enumerate(COMMANDS):
            name = f"build-{number}"
            output = finish(dbt(command, env, work, name), work, name)
            assert succeeded(output), f"dbt {' '.join(command)}:\n{output[-5000:]}"
            assert live.running(), (work / "live" / "stream.log").read_text()[-3000:]
            batches.append(stream_batches(files))
    finally:
        endings = live.stop()
    assert all(ending.clean for ending in endings), [ending.describe() for ending in endings]
    # the stream kept committing while dbt built
    assert batches[-1] > batches[0], batches
    built = read_marts(files, dbt_project.schema)
    for name in MARTS:
        pd.testing.assert_frame_equal(built[name], reference[name], check_dtype=False, obj=name)
    # and the metastore knows them, in the schema folder under the warehouse
    host, port = "127.0.0.1", shared.service.settings.port
    assert set(MARTS) <= set(tables(host, port, dbt_project.schema, 10))
    assert (files / f"{dbt_project.schema}.db" / "area_top3_products").is_dir()
    assert "ad_stream_batches" in tables(host, port, LIVE_SCHEMA, 10)
    assert_stream_equals_replay(shared, spark)
    # the service created every metastore table before its first client: none was created
    # lazily while the stream and dbt held locks (a deadlock on PostgreSQL)
    assert {"TBLS", "PARTITIONS", "TBL_PRIVS", "TAB_COL_STATS"} <= shared.tables_at_start
    assert shared.database_tables() == shared.tables_at_start


def test_the_thrift_server_serves_the_shared_tables(
    shared: Shared, reference: dict[str, pd.DataFrame], dbt_project: DbtProject
) -> None:
    """`ecom thrift` with the URI: the `thrift` target (and the dashboards' Thrift source) sees
    the tables the other programs built (by the previous test)."""
    only_on(shared, "postgresql")
    thrift_port, connect_port = free_ports(2)
    state = shared.work_dir / "thrift"
    ecom = str(BIN / "ecom")
    start = subprocess.run(
        [ecom, "thrift", "start", "--dir", str(state), "--thrift-port", str(thrift_port),
         "--connect-port", str(connect_port), "--driver-memory", "1g", "--timeout", "600"],
        capture_output=True, text=True, timeout=900, check=False, env=shared.env(),
    )  # fmt: skip
    try:
        assert start.returncode == 0, start.stdout + start.stderr
        warehouse = shared.warehouse_root / "warehouse"
        assert f"tables in {warehouse} through {shared.service.uri}" in start.stdout
        served = ThriftWarehouse("127.0.0.1", thrift_port, "tests", dbt_project.schema)
        for name in ("area_top3_products", "top10_categories"):
            pd.testing.assert_frame_equal(
                sorted_rows(served.read(name)), reference[name], check_dtype=False, obj=name
            )
    finally:
        stopped = subprocess.run(
            [ecom, "thrift", "stop", "--dir", str(state)],
            capture_output=True, text=True, timeout=300, check=False, env=shared.env(),
        )  # fmt: skip
        assert stopped.returncode == 0, stopped.stdout + stopped.stderr


def test_a_killed_service_fails_the_build_clearly_and_loses_nothing_else(
    shared: Shared, raw_dir: Path, dbt_project: DbtProject, spark: Any
) -> None:
    """The warehouse built through the service, then SIGKILL while the stream runs and a build
    is under way, then a restart of the service, the build and (if it stopped) the stream: the
    marts as they were before the outage."""
    only_on(shared, "derby")
    work = shared.work_dir
    service = shared.service
    host, port = "127.0.0.1", service.settings.port
    env = shared.env(ECOM_RAW_DIR=str(raw_dir), ECOM_SCHEMA=dbt_project.schema)
    for name, command in (("base-seed", ("seed",)), ("base-run", REBUILD)):
        output = finish(dbt(command, env, work, name), work, name)
        assert succeeded(output), f"dbt {' '.join(command)}:\n{output[-5000:]}"
    before = set(tables(host, port, dbt_project.schema, 10))
    assert set(MARTS) <= before
    built_before = read_marts(shared.warehouse_root / "warehouse", dbt_project.schema)
    assert all(len(frame) for frame in built_before.values())
    live = start_live_stream(shared)
    try:
        build = dbt(REBUILD, env, work, "killed")
        dbt_log = work / "logs-killed" / "dbt.log"
        deadline = time.monotonic() + BUILD_TIMEOUT_SECONDS
        while "Began running node model." not in _text(dbt_log) and time.monotonic() < deadline:
            assert build.poll() is None, (work / "killed.log").read_text()[-3000:]
            time.sleep(1)
        time.sleep(3)
        os.kill(service.pid, signal.SIGKILL)
        output = finish(build, work, "killed")
        assert build.returncode != 0
        clear = (
            f"Lost the metastore during this statement. No Hive metastore service answers at "
            f"{service.uri}",
            f"No Hive metastore service answers at {service.uri}",
        )
        assert any(line in output for line in clear), output[-5000:]
        assert "Start it with `ecom metastore start`" in output
        service.restart()
    finally:
        endings = live.stop()
    # the stream either rode out the outage or stopped on it with its one-line message
    stream_log = (work / "live" / "stream.log").read_text()
    assert all(ending.clean for ending in endings) or (
        f"ecom stream: the stream stopped: the metastore service at {service.uri} does not "
        "answer (Connection refused)" in stream_log
    ), stream_log[-3000:]

    results = json.loads((work / "target-killed" / "run_results.json").read_text())
    # a table dbt was rebuilding when the service died may be gone (dbt-spark drops a Parquet
    # table before it creates it again); every other one is still there
    rebuilding = {
        result["unique_id"].rsplit(".", 1)[-1]
        for result in results["results"]
        if result["status"] == "error"
    }
    after = set(tables(host, port, dbt_project.schema, 10))
    assert before - rebuilding <= after, sorted(before - after)
    again = finish(dbt(REBUILD, env, work, "after-restart"), work, "after-restart")
    assert succeeded(again), again[-5000:]
    built = read_marts(shared.warehouse_root / "warehouse", dbt_project.schema)
    for name in MARTS:
        pd.testing.assert_frame_equal(built[name], built_before[name], check_dtype=False, obj=name)
    # resumed from its checkpoint after the outage: nothing lost or doubled
    resumed = start_live_stream(shared)
    endings = resumed.stop()
    assert all(ending.clean for ending in endings), [ending.describe() for ending in endings]
    assert_stream_equals_replay(shared, spark)


def _text(path: Path) -> str:
    try:
        return path.read_text()
    except FileNotFoundError:
        return ""


def test_two_dbt_builds_on_an_embedded_warehouse(
    module_dir: Path, raw_dir: Path, dbt_project: DbtProject
) -> None:
    """The second stops at once with one line naming the first, which goes on."""
    work = module_dir / "two-builds"
    work.mkdir(exist_ok=True)
    env = clean_environment(
        ECOM_WAREHOUSE_DIR=str(work / "warehouse_root"),
        ECOM_RAW_DIR=str(raw_dir),
        ECOM_SCHEMA=dbt_project.schema,
    )
    first = dbt(("build",), env, work, "first")
    try:
        database = work / "warehouse_root" / "metastore_db"
        deadline = time.monotonic() + BUILD_TIMEOUT_SECONDS
        while derby_lock_holder(database) is None and time.monotonic() < deadline:
            assert first.poll() is None, (work / "first.log").read_text()[-3000:]
            time.sleep(1)
        started = time.monotonic()
        second = finish(dbt(("build",), env, work, "second"), work, "second")
        seconds = time.monotonic() - started
        holder = derby_lock_holder(database)
        assert holder is not None and first.poll() is None  # the first goes on
        line = f"Another program (pid {holder.pid}: dbt build --project-dir {ROOT} --profiles-dir "
        assert line in second, second[-3000:]
        assert "start its metastore service (`ecom metastore start`" in second
        assert "XSDB6" not in second and "\tat " not in second
        assert len(second.splitlines()) < 30, second
        assert seconds < 120  # dbt's parse, no 30 s wait for Derby, no JVM
    finally:
        stop_tree(first.pid, grace_seconds=10)
        first.wait()


def test_dbt_names_a_service_that_does_not_answer(
    module_dir: Path, raw_dir: Path, dbt_project: DbtProject
) -> None:
    work = module_dir / "no-service"
    work.mkdir(exist_ok=True)
    (port,) = free_ports(1)
    env = clean_environment(
        ECOM_WAREHOUSE_DIR=str(work / "warehouse_root"),
        ECOM_METASTORE_URI=f"thrift://127.0.0.1:{port}",
        ECOM_RAW_DIR=str(raw_dir),
        ECOM_SCHEMA=dbt_project.schema,
    )
    output = finish(dbt(("build",), env, work, "build"), work, "build")
    assert (
        f"No Hive metastore service answers at thrift://127.0.0.1:{port} (Connection refused). "
        "Start it with `ecom metastore start`"
    ) in output, output[-3000:]
    assert "\tat " not in output
    assert not (work / "warehouse_root" / "metastore_db").exists()  # no JVM, no Derby
