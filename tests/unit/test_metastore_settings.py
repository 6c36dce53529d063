"""`ecom metastore`: settings, hive-site.xml and command line of the service, its start / stop /
status on a stand-in, and the refusals that come before any JVM starts (no JVM here)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from collections.abc import Iterator
from pathlib import Path

import pytest

from ecom_analytics.cli import main
from ecom_analytics.metastore import server
from ecom_analytics.metastore.settings import (
    COMPILER_CLASS,
    SERVER_CLASS,
    SERVER_SOURCE,
    MetastoreSettings,
    SettingsError,
    hive_site,
    hive_site_text,
    is_server_command,
    server_command,
    settings_from,
)
from ecom_analytics.services.processes import write_pid
from ecom_analytics.services.service import NOT_RUNNING, ServiceError
from tests.stand_in import stand_in

ROOT = Path("/project")


def test_defaults_serve_the_warehouses_own_derby_database_on_loopback() -> None:
    settings = settings_from({}, ROOT)
    assert settings.bind_address == "127.0.0.1" and settings.loopback_only
    assert settings.port == 9083
    assert settings.uri == "thrift://127.0.0.1:9083"
    assert settings.state_dir == ROOT / ".warehouse" / "metastore"
    assert settings.warehouse_root == ROOT / ".warehouse"
    site = hive_site(settings)
    # the embedded metastore's own database and table folder: nothing moves, nothing is lost
    assert site["javax.jdo.option.ConnectionURL"] == (
        "jdbc:derby:;databaseName=/project/.warehouse/metastore_db;create=true"
    )
    assert site["hive.metastore.warehouse.dir"] == "/project/.warehouse/warehouse"
    assert site["datanucleus.schema.autoCreateAll"] == "true"
    assert site["hive.async.log.enabled"] == "false"
    assert "javax.jdo.option.ConnectionPassword" not in site
    assert (
        settings.describe_database()
        == "Derby /project/.warehouse/metastore_db (the warehouse's own)"
    )


def test_environment_then_options() -> None:
    env = {
        "ECOM_WAREHOUSE_DIR": "/data/wh",
        "ECOM_METASTORE_PORT": "19083",
        "ECOM_METASTORE_BIND_ADDRESS": "0.0.0.0",
        "ECOM_METASTORE_HEAP": "2g",
    }
    from_env = settings_from(env, ROOT)
    assert from_env.state_dir == Path("/data/wh/metastore")
    assert (from_env.port, from_env.heap) == (19083, "2g")
    assert not from_env.loopback_only
    assert from_env.uri == "thrift://127.0.0.1:19083"  # clients here come through loopback
    explicit = settings_from(
        {**env, "ECOM_METASTORE_DIR": "state/ms"}, ROOT, port="29083", bind_address="127.0.0.2"
    )
    assert explicit.state_dir == ROOT / "state" / "ms"
    assert explicit.uri == "thrift://127.0.0.2:29083"
    assert settings_from(env, ROOT, state_dir="/elsewhere").state_dir == Path("/elsewhere")


def test_a_postgresql_database_from_the_environment_never_shows_the_password() -> None:
    env = {
        "ECOM_METASTORE_JDBC_URL": "jdbc:postgresql://db.example.com:5432/metastore",
        "ECOM_METASTORE_JDBC_USER": "hive",
        "ECOM_METASTORE_JDBC_PASSWORD": "s3cret",
    }
    settings = settings_from(env, ROOT)
    assert settings.backend_key == "postgresql"
    site = hive_site(settings)
    assert site["javax.jdo.option.ConnectionURL"] == env["ECOM_METASTORE_JDBC_URL"]
    assert site["javax.jdo.option.ConnectionDriverName"] == "org.postgresql.Driver"
    assert site["javax.jdo.option.ConnectionUserName"] == "hive"
    command = server_command(settings, "java", Path("/pyspark/jars"), [Path("/jars/pg.jar")])
    for text in (hive_site_text(site), " ".join(command), settings.describe_database()):
        assert "s3cret" not in text
    assert settings.describe_database() == (
        "PostgreSQL jdbc:postgresql://db.example.com:5432/metastore (user hive)"
    )


@pytest.mark.parametrize(
    ("env", "options", "message"),
    [
        ({"ECOM_METASTORE_PORT": "x"}, {}, "ECOM_METASTORE_PORT must be a port number"),
        ({}, {"heap": "lots"}, "--heap takes a heap size such as 512m or 1g, got 'lots'"),
        ({}, {"extra_conf": ["x"]}, "--conf takes KEY=VALUE, got 'x'"),
        ({}, {"jdbc_url": "jdbc:oracle:thin:@db:1521/x"}, "--jdbc-url takes a JDBC URL of"),
        ({"ECOM_METASTORE_JDBC_URL": "jdbc:derby:/x"}, {}, "ECOM_METASTORE_JDBC_URL takes a"),
        (
            {},
            {"jdbc_url": "jdbc:postgresql://db/metastore?user=hive&password=s3cret"},
            "--jdbc-url must not hold the password .* set ECOM_METASTORE_JDBC_PASSWORD instead",
        ),
        ({"ECOM_METASTORE_JDBC_USER": "hive"}, {}, "ECOM_METASTORE_JDBC_USER is set but no"),
        (
            {},
            {"extra_conf": ["javax.jdo.option.ConnectionPassword=x"]},
            "is not accepted: give the database with --jdbc-url and its password in",
        ),
    ],
)
def test_bad_settings_name_what_to_fix(env: dict, options: dict, message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        settings_from(env, ROOT, **options)


def test_hive_site_is_xml_hadoop_reads() -> None:
    settings = settings_from({}, ROOT, extra_conf=["hive.metastore.server.max.threads=50"])
    text = hive_site_text(hive_site(settings))
    root = ElementTree.fromstring(text.split("\n", 1)[1])  # after the XML declaration
    parsed = {prop.findtext("name"): prop.findtext("value") for prop in root}
    assert parsed == hive_site(settings)
    assert parsed["hive.metastore.server.max.threads"] == "50"
    # Hadoop's parser rejects "--" inside a comment
    comments = [part.split("-->")[0] for part in text.split("<!--")[1:]]
    assert comments and all("--" not in comment for comment in comments)


def test_server_command_compiles_the_bound_server_with_hive_site_first() -> None:
    settings = MetastoreSettings(
        state_dir=Path("/srv/ms"), warehouse_root=Path("/wh"), bind_address="127.0.0.1", port=9999
    )
    command = server_command(settings, "/jdk/bin/java", Path("/py/jars"), [Path("/d/pg.jar")])
    assert command[0] == "/jdk/bin/java"
    assert "-Xmx1g" in command
    assert "-Dderby.stream.error.file=/srv/ms/derby.log" in command
    class_path = command[command.index("-cp") + 1]
    assert class_path == "/srv/ms/conf:/py/jars/*:/d/pg.jar"
    assert command[-5:] == [COMPILER_CLASS, str(SERVER_SOURCE), SERVER_CLASS, "127.0.0.1", "9999"]
    assert is_server_command(command, settings)
    other = MetastoreSettings(state_dir=Path("/srv/other"), warehouse_root=Path("/wh"))
    assert not is_server_command(command, other)
    assert not is_server_command([arg for arg in command if arg != SERVER_CLASS], settings)


def test_the_server_source_declares_the_class_it_is_run_as() -> None:
    source = SERVER_SOURCE.read_text()
    package, _, name = SERVER_CLASS.rpartition(".")
    assert f"package {package};" in source
    assert f"public final class {name} " in source
    assert "ECOM_METASTORE_JDBC_PASSWORD" in source


@pytest.fixture
def fake_service(tmp_path: Path) -> Iterator[tuple[MetastoreSettings, subprocess.Popen[bytes]]]:
    """A process whose command line looks like the folder's service, PID file written."""
    settings = settings_from({"ECOM_WAREHOUSE_DIR": str(tmp_path / "wh")}, tmp_path)
    settings.state_dir.mkdir(parents=True)
    command = server_command(settings, "java", Path("/jars"), [])
    with stand_in(*command[command.index("-cp") :]) as process:
        write_pid(settings.files.pid_file, process.pid)
        yield settings, process


def test_status_start_and_stop_of_a_stand_in(fake_service, capsys) -> None:
    settings, process = fake_service
    assert server.running_pid(settings) == process.pid
    assert server.status(settings) == 0
    out = capsys.readouterr().out
    assert f"Hive metastore service: running (pid {process.pid})." in out
    assert f"uri:        {settings.uri} does not answer" in out
    with pytest.raises(ServiceError, match=f"already runs \\(pid {process.pid}\\)"):
        server.start(settings, timeout=5)
    assert server.stop(settings) == 0
    assert process.wait(timeout=10) == -signal.SIGTERM
    assert not settings.files.pid_file.exists()
    assert server.status(settings) == NOT_RUNNING


def ecom(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(Path(sys.executable).with_name("ecom")), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, **(env or {})},
    )


def test_start_names_a_taken_port(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = ecom("metastore", "start", "--dir", str(tmp_path / "ms"), "--port", str(port),
                      env={"ECOM_WAREHOUSE_DIR": str(tmp_path / "wh")})  # fmt: skip
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.strip() == (
        f"ecom metastore: error: Metastore port 127.0.0.1:{port} is already in use; stop the "
        "program using it or choose another port (--port or ECOM_METASTORE_PORT)"
    )
    assert not (tmp_path / "ms" / "metastore.pid").exists()


def test_start_refuses_a_derby_database_another_program_has_open(
    tmp_path: Path, locked_database: tuple[Path, int]
) -> None:
    database, holder = locked_database
    result = ecom("metastore", "start", "--dir", str(tmp_path / "ms"), "--port", str(_free_port()),
                  env={"ECOM_WAREHOUSE_DIR": str(database.parent)})  # fmt: skip
    assert result.returncode == 2, result.stdout + result.stderr
    error = result.stderr.strip()
    assert len(error.splitlines()) == 1
    assert error.startswith(f"ecom metastore: error: another program (pid {holder}: ")
    assert f"has the warehouse's embedded metastore {database} open; stop it first" in error
    assert not (tmp_path / "ms" / "metastore.pid").exists()


def test_mysql_needs_a_driver_jar(tmp_path: Path, capsys) -> None:
    with_free_port = main(["metastore", "start", "--dir", str(tmp_path),
                           "--port", str(_free_port()),
                           "--jdbc-url", "jdbc:mysql://db:3306/metastore"])  # fmt: skip
    assert with_free_port == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith("ecom metastore: error: a MySQL database needs its JDBC driver")
    assert "--driver-jar" in error
    missing = main(["metastore", "start", "--dir", str(tmp_path), "--port", str(_free_port()),
                    "--jdbc-url", "jdbc:mysql://db:3306/metastore",
                    "--driver-jar", str(tmp_path / "nope.jar")])  # fmt: skip
    assert missing == 2
    assert "nope.jar does not exist" in capsys.readouterr().err


def test_cli_status_and_stop_without_a_service(tmp_path: Path, capsys) -> None:
    assert main(["metastore", "status", "--dir", str(tmp_path)]) == NOT_RUNNING
    assert f"Hive metastore service: not running ({tmp_path})." in capsys.readouterr().out
    assert main(["metastore", "stop", "--dir", str(tmp_path)]) == 0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
