"""`ecom thrift`: settings, Spark conf and command line of the server (no JVM)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ecom_analytics import jvm_packages
from ecom_analytics.spark_session import local_spark_conf
from ecom_analytics.thrift_server.settings import (
    APP_NAME,
    CONNECT_PLUGIN,
    THRIFT_SERVER_CLASS,
    ServerSettings,
    SettingsError,
    hive_conf,
    is_server_command,
    server_environment,
    server_marker,
    settings_from,
    spark_conf,
    submit_command,
)

ROOT = Path("/project")


def test_defaults_bind_loopback_and_keep_files_under_the_warehouse() -> None:
    settings = settings_from({}, ROOT)
    assert settings.bind_address == "127.0.0.1"
    assert settings.loopback_only
    assert (settings.thrift_port, settings.connect_port) == (10000, 15002)
    assert settings.state_dir == ROOT / ".warehouse" / "thrift"
    assert settings.connect_url == "sc://127.0.0.1:15002"


def test_environment_then_options_override_defaults() -> None:
    env = {
        "ECOM_WAREHOUSE_DIR": "/data/wh",
        "ECOM_THRIFT_PORT": "11000",
        "ECOM_SPARK_CONNECT_PORT": "16002",
        "ECOM_THRIFT_BIND_ADDRESS": "10.1.2.3",
    }
    from_env = settings_from(env, ROOT)
    assert from_env.state_dir == Path("/data/wh/thrift")
    assert (from_env.thrift_port, from_env.connect_port) == (11000, 16002)
    assert from_env.bind_address == "10.1.2.3"
    assert not from_env.loopback_only

    explicit = settings_from(
        {**env, "ECOM_THRIFT_DIR": "state"},
        ROOT,
        thrift_port="12000",
        bind_address="127.0.0.2",
    )
    assert explicit.state_dir == ROOT / "state"
    assert explicit.thrift_port == 12000
    assert explicit.connect_port == 16002
    assert explicit.loopback_only
    assert settings_from(env, ROOT, state_dir="/elsewhere").state_dir == Path("/elsewhere")


@pytest.mark.parametrize(
    ("env", "options", "message"),
    [
        ({"ECOM_THRIFT_PORT": "ten"}, {}, "ECOM_THRIFT_PORT must be a port number"),
        ({}, {"connect_port": "70000"}, "--connect-port must be a port number"),
        ({}, {"thrift_port": "15002"}, "both 15002; give them different ports"),
        ({}, {"extra_conf": ["spark.x"]}, "--conf takes KEY=VALUE, got 'spark.x'"),
        ({}, {"hiveconf": ["=1"]}, "--hiveconf takes KEY=VALUE"),
    ],
)
def test_bad_settings_name_what_to_fix(env: dict, options: dict, message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        settings_from(env, ROOT, **options)


def test_wildcard_binding_is_reached_through_loopback() -> None:
    settings = ServerSettings(state_dir=ROOT, bind_address="0.0.0.0")
    assert settings.client_host == "127.0.0.1"
    assert not settings.loopback_only
    assert ServerSettings(state_dir=ROOT, bind_address="::1").connect_url == "sc://[::1]:15002"


def test_spark_conf_is_the_local_targets_with_own_folders_and_spark_connect(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ECOM_SHUFFLE_PARTITIONS", "3")
    settings = ServerSettings(
        state_dir=Path("/srv/thrift"),
        connect_port=16000,
        driver_memory="2g",
        extra_conf={"spark.sql.shuffle.partitions": "5"},
    )
    conf = spark_conf(settings)
    local = local_spark_conf()
    shared = set(local) - {
        "spark.app.name",
        "spark.driver.memory",
        "spark.sql.shuffle.partitions",
        "spark.sql.warehouse.dir",
        "spark.hadoop.javax.jdo.option.ConnectionURL",
        "spark.driver.extraJavaOptions",
        "spark.jars",
    }
    assert {key: conf[key] for key in shared} == {key: local[key] for key in shared}
    jars = [str(path) for path in jvm_packages.jars("spark")]
    assert conf["spark.jars"] == ",".join(jars)
    assert conf["spark.driver.extraClassPath"] == ":".join(jars)
    assert conf["spark.app.name"] == APP_NAME
    assert conf["spark.sql.warehouse.dir"] == "/srv/thrift/warehouse"
    assert (
        "databaseName=/srv/thrift/metastore_db;"
        in conf["spark.hadoop.javax.jdo.option.ConnectionURL"]
    )
    assert (
        "-Dderby.stream.error.file=/srv/thrift/derby.log" in conf["spark.driver.extraJavaOptions"]
    )
    assert (
        "-Dlog4j2.configurationFile=conf/log4j2.properties" in conf["spark.driver.extraJavaOptions"]
    )
    assert conf["spark.driver.memory"] == "2g"
    assert conf["spark.sql.shuffle.partitions"] == "5"  # --conf wins
    assert conf["spark.plugins"] == CONNECT_PLUGIN
    assert conf["spark.connect.grpc.binding.address"] == "127.0.0.1"
    assert conf["spark.connect.grpc.binding.port"] == "16000"
    assert conf["spark.ui.enabled"] == "false"  # no web UI port either


def test_with_a_metastore_service_the_server_serves_the_shared_warehouse(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("ECOM_METASTORE_URI", raising=False)
    own = settings_from({"ECOM_WAREHOUSE_DIR": "/data/wh"}, ROOT)
    assert own.metastore_uri is None
    assert own.warehouse_dir == Path("/data/wh/thrift/warehouse")
    assert "databaseName=/data/wh/thrift/metastore_db;" in str(
        spark_conf(own)["spark.hadoop.javax.jdo.option.ConnectionURL"]
    )
    env = {"ECOM_WAREHOUSE_DIR": "wh", "ECOM_METASTORE_URI": " thrift://127.0.0.1:19083 "}
    shared = settings_from(env, ROOT)
    assert shared.state_dir == ROOT / "wh" / "thrift"
    assert shared.metastore_uri == "thrift://127.0.0.1:19083"
    assert shared.warehouse_dir == ROOT / "wh" / "warehouse"
    conf = spark_conf(shared)
    assert conf["spark.hadoop.hive.metastore.uris"] == "thrift://127.0.0.1:19083"
    assert "spark.hadoop.javax.jdo.option.ConnectionURL" not in conf
    assert conf["spark.sql.warehouse.dir"] == "/project/wh/warehouse"
    # the server is still told from others by its own folder
    assert server_marker(shared) in submit_command(shared, Path("/spark"))
    assert server_marker(shared).endswith("=/project/wh/thrift/hive/operation_logs")


def test_hive_conf_binds_the_thrift_port_and_keeps_hive_files_in_the_folder() -> None:
    settings = ServerSettings(
        state_dir=ROOT, thrift_port=11111, hiveconf={"hive.server2.use.SSL": "true"}
    )
    assert hive_conf(settings) == {
        "hive.server2.transport.mode": "binary",
        "hive.server2.thrift.bind.host": "127.0.0.1",
        "hive.server2.thrift.port": "11111",
        "hive.server2.logging.operation.log.location": "/project/hive/operation_logs",
        "hive.exec.local.scratchdir": "/project/hive/scratch",
        "hive.downloaded.resources.dir": "/project/hive/resources/${hive.session.id}_resources",
        "hive.server2.use.SSL": "true",
    }


def test_submit_command() -> None:
    settings = ServerSettings(state_dir=Path("/srv/thrift"))
    command = submit_command(settings, Path("/spark"))
    assert command[:3] == ["/spark/bin/spark-submit", "--class", THRIFT_SERVER_CLASS]
    resource = command.index("spark-internal")
    confs = dict(
        command[index + 1].split("=", 1) for index in range(resource) if command[index] == "--conf"
    )
    assert confs == spark_conf(settings)
    hiveconfs = command[resource + 1 :]
    assert hiveconfs[::2] == ["--hiveconf"] * len(hive_conf(settings))
    assert "hive.server2.thrift.bind.host=127.0.0.1" in hiveconfs


def test_server_environment_drops_overrides_and_names_this_python() -> None:
    base = {
        "PATH": "/usr/bin",
        "HIVE_SERVER2_THRIFT_PORT": "1",
        "HIVE_SERVER2_THRIFT_BIND_HOST": "0.0.0.0",
        "SPARK_REMOTE": "sc://elsewhere",
    }
    env = server_environment(base, Path("/spark"), "/venv/bin/python")
    assert env == {
        "PATH": "/usr/bin",
        "SPARK_HOME": "/spark",
        "PYSPARK_PYTHON": "/venv/bin/python",
    }


def test_is_server_command_checks_class_and_folder() -> None:
    settings = ServerSettings(state_dir=Path("/srv/thrift"))
    ours = [
        "java",
        "org.apache.spark.deploy.SparkSubmit",
        "--class",
        THRIFT_SERVER_CLASS,
        "spark-internal",
        "--hiveconf",
        "hive.server2.logging.operation.log.location=/srv/thrift/hive/operation_logs",
    ]
    assert server_marker(settings) in submit_command(settings, Path("/spark"))
    assert is_server_command(ours, settings)
    other_folder = ServerSettings(state_dir=Path("/srv/other"))
    assert not is_server_command(ours, other_folder)
    assert not is_server_command([arg for arg in ours if arg != THRIFT_SERVER_CLASS], settings)
    assert not is_server_command([], settings)
