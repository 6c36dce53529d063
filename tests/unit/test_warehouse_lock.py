"""Before a JVM starts: another program holding the warehouse's embedded metastore, or a metastore
service that does not answer, stops a program at once with one line (no JVM here: the checks
come first, in `local_spark`, in the adapter's `session` open and in `ecom` commands)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from dbt.adapters.contracts.connection import Connection, ConnectionState
from dbt.adapters.sparkoss import metastore
from dbt.adapters.sparkoss.connections import SparkossConnectionManager, SparkossCredentials
from dbt.adapters.sparkoss.metastore import (
    MetastoreUnavailable,
    check_metastore,
    derby_database,
    derby_lock_holder,
    metastore_uris,
    parse_uri,
    program_of,
)

from ecom_analytics.services.network import free_ports
from ecom_analytics.spark_session import local_spark_conf
from ecom_analytics.warehouse_lock import WarehouseUnavailable, advice, check

ECOM = Path(sys.executable).with_name("ecom")


def derby(folder: str) -> dict[str, str]:
    return {metastore.CONNECTION_URL: f"jdbc:derby:;databaseName={folder};create=true"}


def test_the_derby_database_of_the_spark_parameters(tmp_path: Path) -> None:
    assert derby_database(derby("/wh/metastore_db")) == Path("/wh/metastore_db")
    assert derby_database(derby("wh/metastore_db")) == Path.cwd() / "wh" / "metastore_db"
    assert derby_database({metastore.CONNECTION_URL: "jdbc:derby:/x/db;create=true"}) == Path(
        "/x/db"
    )
    assert derby_database({metastore.CONNECTION_URL: "jdbc:derby:directory:/x/db"}) == Path("/x/db")
    # Derby's network server admits many programs; other databases are not Derby's business
    for url in ("jdbc:derby://host:1527/db", "jdbc:derby:memory:db;create=true", "jdbc:derby:"):
        assert derby_database({metastore.CONNECTION_URL: url}) is None
    assert derby_database({metastore.CONNECTION_URL: "jdbc:postgresql://h/db"}) is None
    assert derby_database({}) is None


def test_metastore_uris_and_their_form() -> None:
    assert metastore_uris({}) == []
    assert metastore_uris({metastore.METASTORE_URIS: " thrift://a:1, thrift://b:2 "}) == [
        "thrift://a:1",
        "thrift://b:2",
    ]
    assert parse_uri("thrift://127.0.0.1:9083") == ("127.0.0.1", 9083)
    for bad in ("127.0.0.1:9083", "thrift://host", "http://h:1", "thrift://h:port"):
        with pytest.raises(MetastoreUnavailable, match="is not of the form thrift://host:port"):
            parse_uri(bad)


def test_a_free_database_passes(tmp_path: Path) -> None:
    check_metastore(derby(str(tmp_path / "never_booted")))
    (tmp_path / "shut_down").mkdir()
    (tmp_path / "shut_down" / "dbex.lck").write_text("")  # left by a JVM that ended
    check_metastore(derby(str(tmp_path / "shut_down")))


def test_a_database_another_program_holds_stops_with_one_line(
    locked_database: tuple[Path, int],
) -> None:
    database, holder = locked_database
    found = derby_lock_holder(database)
    assert found is not None and found.pid == holder
    with pytest.raises(MetastoreUnavailable) as stopped:
        check_metastore(derby(str(database)), "Run a metastore service.")
    message = str(stopped.value)
    assert "\n" not in message
    assert message == (
        f"Another program (pid {holder}: {program_of(holder)}) holds the embedded metastore "
        f"{database}, and an embedded Derby metastore admits one program at a time. Run a "
        "metastore service."
    )
    assert program_of(holder).startswith("-c import fcntl")  # the script, not `python`
    # testing the lock neither takes nor releases it: the holder still has it
    assert derby_lock_holder(database) == found


def test_the_lock_of_this_processs_own_jvm_is_no_obstacle(
    locked_database: tuple[Path, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Many dbt commands run on one JVM in one process (the test suite, the demo)."""
    database, holder = locked_database
    monkeypatch.setattr(metastore, "own_jvm_pid", lambda: holder)
    check_metastore(derby(str(database)))
    monkeypatch.setattr(metastore, "own_jvm_pid", lambda: holder + 1)
    with pytest.raises(MetastoreUnavailable):
        check_metastore(derby(str(database)))


def test_a_service_that_does_not_answer_stops_with_one_line() -> None:
    (port,) = free_ports(1)
    uri = f"thrift://127.0.0.1:{port}"
    with pytest.raises(MetastoreUnavailable) as stopped:
        check_metastore({metastore.METASTORE_URIS: uri}, "Start it.")
    assert str(stopped.value) == (
        f"No Hive metastore service answers at {uri} (Connection refused). Start it."
    )
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", port))
        listener.listen()
        check_metastore({metastore.METASTORE_URIS: uri})
        # the service answers: a Derby database named beside it is Hive's to ignore
        check_metastore({metastore.METASTORE_URIS: uri, **derby("/nowhere")})


def test_the_project_wraps_the_check_with_its_advice(
    locked_database: tuple[Path, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    database, _ = locked_database
    monkeypatch.delenv("ECOM_METASTORE_URI", raising=False)
    monkeypatch.setenv("ECOM_WAREHOUSE_DIR", str(database.parent))
    with pytest.raises(WarehouseUnavailable) as stopped:
        check(local_spark_conf())
    assert str(stopped.value).endswith(advice())
    assert "`ecom metastore start`" in str(stopped.value)
    assert "ECOM_METASTORE_URI" in str(stopped.value)


def ecom(*args: str, env: dict[str, str]) -> tuple[subprocess.CompletedProcess[str], float]:
    started = time.monotonic()
    result = subprocess.run(
        [str(ECOM), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, **env},
    )
    return result, time.monotonic() - started


def test_ecom_stream_on_a_held_warehouse_stops_at_once(
    locked_database: tuple[Path, int], tmp_path: Path
) -> None:
    database, holder = locked_database
    (tmp_path / "clicks").mkdir()
    env = {"ECOM_WAREHOUSE_DIR": str(database.parent), "ECOM_METASTORE_URI": ""}
    result, seconds = ecom(
        "stream", "--available-now", "--input", str(tmp_path / "clicks"), env=env
    )
    assert result.returncode == 2, result.stdout + result.stderr
    error = result.stderr.strip()
    assert len(error.splitlines()) == 1, error
    assert error.startswith(f"ecom stream: error: Another program (pid {holder}: ")
    assert "start its metastore service (`ecom metastore start`" in error
    assert seconds < 30  # no JVM started, no 30 s wait for Derby


def test_ecom_stream_with_an_unanswered_service_names_it(tmp_path: Path) -> None:
    (port,) = free_ports(1)
    (tmp_path / "clicks").mkdir()
    env = {
        "ECOM_WAREHOUSE_DIR": str(tmp_path / "wh"),
        "ECOM_METASTORE_URI": f"thrift://127.0.0.1:{port}",
    }
    result, _ = ecom("stream", "--available-now", "--input", str(tmp_path / "clicks"), env=env)
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"ecom stream: error: No Hive metastore service answers at thrift://127.0.0.1:{port} "
        "(Connection refused). Start it with `ecom metastore start` (on the same "
        "ECOM_WAREHOUSE_DIR), or unset ECOM_METASTORE_URI to use the embedded metastore of the "
        "warehouse (docs/metastore.md)."
    )


def session_connection(parameters: dict[str, str]) -> Connection:
    credentials = SparkossCredentials(
        method="session",
        host="localhost",
        schema="t",
        server_side_parameters=parameters,
        metastore_advice="Do this.",
    )
    return Connection(type="sparkoss", name="t", credentials=credentials)


def test_the_adapters_session_open_checks_before_spark_starts(
    locked_database: tuple[Path, int],
) -> None:
    database, holder = locked_database
    parameters = {**derby(str(database)), "spark.hadoop.hive.metastore.uris": ""}
    connection = session_connection(parameters)
    with pytest.raises(MetastoreUnavailable, match=f"pid {holder}: .* Do this\\.$"):
        SparkossConnectionManager.open(connection)
    assert connection.state != ConnectionState.OPEN
    # a parameter rendered empty (an unset variable) is left out, not given to Spark as ""
    assert "spark.hadoop.hive.metastore.uris" not in connection.credentials.server_side_parameters
