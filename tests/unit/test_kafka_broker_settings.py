"""`ecom kafka`: settings, server.properties, command lines and recognising the broker's
process, without a JVM; start/stop/status on a stand-in broker."""

from __future__ import annotations

import base64
import os
import re
import signal
import socket
from pathlib import Path

import pytest

from ecom_analytics.cli import main
from ecom_analytics.kafka_broker import broker
from ecom_analytics.kafka_broker.client import refused
from ecom_analytics.kafka_broker.settings import (
    KAFKA_CLASS,
    LOG4J_CONFIG,
    BrokerSettings,
    broker_command,
    cluster_id_of,
    default_bootstrap_servers,
    format_command,
    is_broker_command,
    new_cluster_id,
    properties_text,
    server_properties,
    settings_from,
)
from ecom_analytics.services.network import free_ports
from ecom_analytics.services.processes import write_pid
from ecom_analytics.services.service import NOT_RUNNING, ServiceError
from ecom_analytics.services.settings import SettingsError
from tests.stand_in import stand_in

ROOT = Path("/project")
JARS = [Path("/jars/kafka_2.13-4.2.0.jar"), Path("/jars/kafka-clients-4.2.0.jar")]


def test_defaults_listen_on_loopback_and_keep_files_under_the_warehouse() -> None:
    settings = settings_from({}, ROOT)
    assert settings.bind_address == "127.0.0.1"
    assert settings.loopback_only
    assert (settings.port, settings.controller_port, settings.heap) == (9092, 9093, "512m")
    assert settings.state_dir == ROOT / ".warehouse" / "kafka"
    assert settings.bootstrap_servers == "127.0.0.1:9092"
    assert settings.files.pid_file == ROOT / ".warehouse" / "kafka" / "kafka.pid"


def test_environment_then_options_override_defaults() -> None:
    env = {
        "ECOM_WAREHOUSE_DIR": "/data/wh",
        "ECOM_KAFKA_PORT": "19092",
        "ECOM_KAFKA_CONTROLLER_PORT": "19093",
        "ECOM_KAFKA_BIND_ADDRESS": "0.0.0.0",
        "ECOM_KAFKA_HEAP": "1g",
    }
    from_env = settings_from(env, ROOT)
    assert from_env.state_dir == Path("/data/wh/kafka")
    assert (from_env.port, from_env.controller_port, from_env.heap) == (19092, 19093, "1g")
    assert not from_env.loopback_only
    assert from_env.bootstrap_servers == "127.0.0.1:19092"  # wildcard: reached via loopback

    explicit = settings_from(
        {**env, "ECOM_KAFKA_DIR": "state/kafka"},
        ROOT,
        port="29092",
        bind_address="127.0.0.2",
        heap="256m",
        extra_conf=["log.retention.hours=168"],
    )
    assert explicit.state_dir == ROOT / "state" / "kafka"
    assert (explicit.port, explicit.controller_port, explicit.heap) == (29092, 19093, "256m")
    assert explicit.loopback_only
    assert explicit.extra_conf == {"log.retention.hours": "168"}
    assert settings_from(env, ROOT, state_dir="/elsewhere").state_dir == Path("/elsewhere")


@pytest.mark.parametrize(
    ("env", "options", "message"),
    [
        ({"ECOM_KAFKA_PORT": "nine"}, {}, "ECOM_KAFKA_PORT must be a port number"),
        ({}, {"controller_port": "0"}, "--controller-port must be a port number"),
        ({}, {"port": "9093"}, "both 9093; give them different ports"),
        ({}, {"heap": "lots"}, "--heap takes a heap size such as 512m or 1g, got 'lots'"),
        ({"ECOM_KAFKA_HEAP": "2 g"}, {}, "ECOM_KAFKA_HEAP takes a heap size"),
        ({}, {"extra_conf": ["num.partitions"]}, "--conf takes KEY=VALUE"),
    ],
)
def test_bad_settings_name_what_to_fix(env: dict, options: dict, message: str) -> None:
    with pytest.raises(SettingsError, match=re.escape(message)):
        settings_from(env, ROOT, **options)


def test_clients_find_the_local_broker_by_default() -> None:
    assert default_bootstrap_servers({}) == "127.0.0.1:9092"
    assert default_bootstrap_servers({"ECOM_KAFKA_PORT": "19092"}) == "127.0.0.1:19092"
    env = {"ECOM_KAFKA_PORT": "19092", "ECOM_KAFKA_BOOTSTRAP_SERVERS": "b1:9092,b2:9092"}
    assert default_bootstrap_servers(env) == "b1:9092,b2:9092"


def test_server_properties_one_kraft_node_on_loopback() -> None:
    settings = BrokerSettings(state_dir=Path("/srv/kafka"), port=19092, controller_port=19093)
    properties = server_properties(settings)
    assert properties["process.roles"] == "broker,controller"
    assert properties["controller.quorum.voters"] == "1@127.0.0.1:19093"
    assert properties["listeners"] == "PLAINTEXT://127.0.0.1:19092,CONTROLLER://127.0.0.1:19093"
    assert properties["advertised.listeners"] == "PLAINTEXT://127.0.0.1:19092"
    assert properties["log.dirs"] == "/srv/kafka/data"
    assert properties["num.partitions"] == "3"
    assert properties["auto.create.topics.enable"] == "true"
    for key in (
        "offsets.topic.replication.factor",
        "transaction.state.log.replication.factor",
        "transaction.state.log.min.isr",
        "share.coordinator.state.topic.replication.factor",
        "default.replication.factor",
    ):
        assert properties[key] == "1", key
    assert properties["log.retention.hours"] == "24"


def test_only_the_client_listener_follows_the_bind_address() -> None:
    exposed = server_properties(BrokerSettings(state_dir=Path("/k"), bind_address="0.0.0.0"))
    assert exposed["listeners"] == "PLAINTEXT://0.0.0.0:9092,CONTROLLER://127.0.0.1:9093"
    assert exposed["advertised.listeners"] == "PLAINTEXT://:9092"  # Kafka: this host's name
    one = server_properties(BrokerSettings(state_dir=Path("/k"), bind_address="10.1.2.3"))
    assert one["advertised.listeners"] == "PLAINTEXT://10.1.2.3:9092"
    assert one["controller.quorum.voters"] == "1@127.0.0.1:9093"


def test_conf_overrides_any_broker_setting() -> None:
    settings = BrokerSettings(
        state_dir=Path("/k"), extra_conf={"num.partitions": "6", "compression.type": "lz4"}
    )
    properties = server_properties(settings)
    assert properties["num.partitions"] == "6"
    assert properties["compression.type"] == "lz4"


def test_properties_text_escapes_what_java_reads_differently() -> None:
    text = properties_text({"log.dirs": "/tmp/dätä\\x", "num.partitions": "3"})
    lines = text.splitlines()
    assert lines[0].startswith("# written by `ecom kafka start`")
    assert lines[1:] == ["log.dirs=/tmp/d\\u00e4t\\u00e4\\\\x", "num.partitions=3"]
    assert text.isascii()


def test_command_lines() -> None:
    settings = BrokerSettings(state_dir=Path("/srv/kafka"), heap="256m")
    command = broker_command(settings, "/jdk/bin/java", JARS)
    assert command[0] == "/jdk/bin/java"
    assert "-Xmx256m" in command
    assert f"-Dlog4j2.configurationFile={LOG4J_CONFIG}" in command
    assert command[command.index("-cp") + 1] == ":".join(map(str, JARS))
    assert command[-2:] == [KAFKA_CLASS, "/srv/kafka/server.properties"]
    assert LOG4J_CONFIG.is_file()

    formatting = format_command(settings, "/jdk/bin/java", JARS, "abc")
    tool = formatting.index("kafka.tools.StorageTool")
    assert formatting[tool + 1 :] == [
        "format", "--cluster-id", "abc", "--config", "/srv/kafka/server.properties",
    ]  # fmt: skip


def test_is_broker_command_checks_class_and_folder() -> None:
    settings = BrokerSettings(state_dir=Path("/srv/kafka"))
    ours = broker_command(settings, "java", JARS)
    assert is_broker_command(ours, settings)
    assert not is_broker_command(ours, BrokerSettings(state_dir=Path("/srv/other")))
    assert not is_broker_command([arg for arg in ours if arg != KAFKA_CLASS], settings)
    assert not is_broker_command(format_command(settings, "java", JARS, "abc"), settings)
    assert not is_broker_command([], settings)


def test_cluster_ids_are_kafkas_shape() -> None:
    ids = {new_cluster_id() for _ in range(200)}
    assert len(ids) == 200
    for cluster_id in ids:
        assert len(cluster_id) == 22 and not cluster_id.startswith("-")
        assert len(base64.urlsafe_b64decode(cluster_id + "==")) == 16
    meta = "#\n#Thu Dec 07 07:01:45 UTC 2026\ncluster.id=aRFHYthlR6qR1clTxGZkUA\nnode.id=1\n"
    assert cluster_id_of(meta) == "aRFHYthlR6qR1clTxGZkUA"
    assert cluster_id_of("node.id=1\n") is None


def test_refused_says_why_no_broker_answers() -> None:
    (port,) = free_ports(1)
    assert "Connection refused" in (refused(f"127.0.0.1:{port}") or "")
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        open_port = listener.getsockname()[1]
        assert refused(f"127.0.0.1:{port},PLAINTEXT://127.0.0.1:{open_port}") is None
    assert refused("not a list of servers") is None  # left to the client to try


def test_stand_in_broker_start_refuses_status_and_stop(tmp_path: Path, capsys) -> None:
    port, controller_port = free_ports(2)
    settings = BrokerSettings(tmp_path / "kafka", port=port, controller_port=controller_port)
    settings.state_dir.mkdir()
    with stand_in(KAFKA_CLASS, str(settings.properties_file)) as process:
        write_pid(settings.files.pid_file, process.pid)
        assert broker.running_pid(settings) == process.pid
        with pytest.raises(ServiceError, match=rf"already runs \(pid {process.pid}\)"):
            broker.start(settings, timeout=5)
        assert broker.status(settings) == 0
        out = capsys.readouterr().out
        assert f"Kafka broker: running (pid {process.pid})" in out
        assert f"bootstrap:  127.0.0.1:{port} does not answer" in out  # a stand-in
        assert broker.stop(settings) == 0
        assert process.wait(timeout=10) == -signal.SIGTERM
    assert "Kafka broker stopped." in capsys.readouterr().out
    assert broker.status(settings) == NOT_RUNNING
    assert not settings.files.pid_file.exists()


def test_stop_leaves_a_reused_pid_alone(tmp_path: Path, capsys) -> None:
    settings = BrokerSettings(state_dir=tmp_path)
    write_pid(settings.files.pid_file, os.getpid())
    assert broker.stop(settings) == 0
    assert "left alone" in capsys.readouterr().out


def test_cli_reports_bad_settings_and_a_stopped_broker(tmp_path: Path, capsys) -> None:
    assert main(["kafka", "start", "--dir", str(tmp_path), "--port", "x"]) == 2
    assert capsys.readouterr().err.strip() == (
        "ecom kafka: error: --port must be a port number from 1 to 65535, got 'x'"
    )
    assert main(["kafka", "status", "--dir", str(tmp_path)]) == NOT_RUNNING
    assert capsys.readouterr().out.strip() == f"Kafka broker: not running ({tmp_path})."
    assert main(["kafka", "stop", "--dir", str(tmp_path)]) == 0
