"""What `ecom kafka start` runs: settings from the environment, server.properties, command lines.

One node is broker and controller at once (KRaft). The client listener binds to the bind
address (loopback by default); the controller listener, which only the node itself uses, always
binds to loopback. The quorum is static (`controller.quorum.voters`): the storage is formatted
once, and later starts may use other ports on the same folder.
"""

from __future__ import annotations

import base64
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ecom_analytics.services.network import LOOPBACK, client_host, host_port, is_loopback
from ecom_analytics.services.service import StateFiles
from ecom_analytics.services.settings import (
    PROJECT_ROOT,
    SettingsError,
    parse_assignments,
    port_setting,
    resolve_state_dir,
)

KAFKA_CLASS = "kafka.Kafka"
STORAGE_TOOL_CLASS = "kafka.tools.StorageTool"
NODE_ID = 1
DEFAULT_PORT = 9092
DEFAULT_CONTROLLER_PORT = 9093
DEFAULT_HEAP = "512m"
DEFAULT_TOPIC = "ad_clicks"
LOG4J_CONFIG = PROJECT_ROOT / "conf" / "kafka-log4j2.properties"

ENV_STATE_DIR = "ECOM_KAFKA_DIR"
ENV_PORT = "ECOM_KAFKA_PORT"
ENV_CONTROLLER_PORT = "ECOM_KAFKA_CONTROLLER_PORT"
ENV_BIND_ADDRESS = "ECOM_KAFKA_BIND_ADDRESS"
ENV_HEAP = "ECOM_KAFKA_HEAP"
ENV_BOOTSTRAP_SERVERS = "ECOM_KAFKA_BOOTSTRAP_SERVERS"
"""Where clients (`ecom produce-clicks`) find the broker."""

_HEAP = re.compile(r"[1-9][0-9]*[kKmMgG]?")

BROKER_DEFAULTS = {
    "num.partitions": "3",
    "auto.create.topics.enable": "true",
    "default.replication.factor": "1",
    # one node: internal topics with one replica, and few partitions (50 by default)
    "offsets.topic.replication.factor": "1",
    "offsets.topic.num.partitions": "1",
    "transaction.state.log.replication.factor": "1",
    "transaction.state.log.min.isr": "1",
    "transaction.state.log.num.partitions": "1",
    "share.coordinator.state.topic.replication.factor": "1",
    "share.coordinator.state.topic.min.isr": "1",
    "share.coordinator.state.topic.num.partitions": "1",
    # a consumer group's first member starts at once, not after 3 s
    "group.initial.rebalance.delay.ms": "0",
    # a day of records, at most 1 GiB per partition, in segments small enough to drop in steps
    "log.retention.hours": "24",
    "log.retention.bytes": str(1 << 30),
    "log.segment.bytes": str(128 << 20),
}
"""Broker settings for a laptop or CI machine; `--conf KEY=VALUE` overrides any."""


@dataclass(frozen=True)
class BrokerSettings:
    """Where the broker keeps its files and where it listens."""

    state_dir: Path
    bind_address: str = LOOPBACK
    port: int = DEFAULT_PORT
    controller_port: int = DEFAULT_CONTROLLER_PORT
    heap: str = DEFAULT_HEAP
    extra_conf: Mapping[str, str] = field(default_factory=dict)

    @property
    def files(self) -> StateFiles:
        """`kafka.pid`, `kafka.json` (the addresses it started with), `kafka.log`."""
        return StateFiles(self.state_dir, "kafka")

    @property
    def properties_file(self) -> Path:
        return self.state_dir / "server.properties"

    @property
    def data_dir(self) -> Path:
        """The broker's log directory: topic partitions and the cluster metadata."""
        return self.state_dir / "data"

    @property
    def bootstrap_servers(self) -> str:
        """What a client on this machine gives as `bootstrap.servers`."""
        return host_port(client_host(self.bind_address), self.port)

    @property
    def loopback_only(self) -> bool:
        return is_loopback(self.bind_address)


def parse_heap(value: str, name: str) -> str:
    """A JVM heap size such as `512m` or `1g`, or a SettingsError naming `name`."""
    if not _HEAP.fullmatch(value):
        raise SettingsError(f"{name} takes a heap size such as 512m or 1g, got {value!r}")
    return value


def settings_from(
    env: Mapping[str, str],
    project_root: Path = PROJECT_ROOT,
    *,
    state_dir: str | None = None,
    bind_address: str | None = None,
    port: str | int | None = None,
    controller_port: str | int | None = None,
    heap: str | None = None,
    extra_conf: Sequence[str] = (),
) -> BrokerSettings:
    """Settings from command-line values, falling back to the environment, then the defaults."""
    settings = BrokerSettings(
        state_dir=resolve_state_dir(state_dir, env, ENV_STATE_DIR, "kafka", project_root),
        bind_address=bind_address or env.get(ENV_BIND_ADDRESS) or LOOPBACK,
        port=port_setting(port, env, ENV_PORT, DEFAULT_PORT, "--port"),
        controller_port=port_setting(
            controller_port, env, ENV_CONTROLLER_PORT, DEFAULT_CONTROLLER_PORT, "--controller-port"
        ),
        heap=parse_heap(heap, "--heap")
        if heap
        else parse_heap(env.get(ENV_HEAP) or DEFAULT_HEAP, ENV_HEAP),
        extra_conf=parse_assignments(extra_conf, "--conf"),
    )
    if settings.port == settings.controller_port:
        raise SettingsError(
            f"the client and controller ports are both {settings.port}; give them different "
            f"ports (--port / --controller-port, or {ENV_PORT} / {ENV_CONTROLLER_PORT})"
        )
    return settings


def default_bootstrap_servers(env: Mapping[str, str]) -> str:
    """`$ECOM_KAFKA_BOOTSTRAP_SERVERS`, else the local broker's default address (its port from
    `$ECOM_KAFKA_PORT`, as `ecom kafka start` uses it)."""
    return env.get(ENV_BOOTSTRAP_SERVERS) or host_port(
        LOOPBACK, port_setting(None, env, ENV_PORT, DEFAULT_PORT, "--port")
    )


def server_properties(settings: BrokerSettings) -> dict[str, str]:
    """The broker's server.properties: one KRaft node, listeners where the settings say."""
    client = f"PLAINTEXT://{host_port(settings.bind_address, settings.port)}"
    controller = f"CONTROLLER://{host_port(LOOPBACK, settings.controller_port)}"
    # bound to every interface, the broker advertises this machine's name (Kafka's default)
    advertised_host = "" if settings.bind_address in ("0.0.0.0", "::") else settings.bind_address
    return {
        "process.roles": "broker,controller",
        "node.id": str(NODE_ID),
        "controller.quorum.voters": f"{NODE_ID}@{host_port(LOOPBACK, settings.controller_port)}",
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "PLAINTEXT",
        "listeners": f"{client},{controller}",
        "advertised.listeners": f"PLAINTEXT://{host_port(advertised_host, settings.port)}",
        "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
        "log.dirs": str(settings.data_dir),
        **BROKER_DEFAULTS,
        **settings.extra_conf,
    }


def _escape(value: str) -> str:
    """A value as a Java properties file holds it: Latin-1 text, so backslashes doubled and
    anything beyond ASCII (e.g. in a folder's name) as UTF-16 `\\uXXXX` escapes."""
    out = []
    for char in value.replace("\\", "\\\\"):
        if ord(char) < 128:
            out.append(char)
        else:
            encoded = char.encode("utf-16-be")
            out += [f"\\u{encoded[i : i + 2].hex()}" for i in range(0, len(encoded), 2)]
    return "".join(out)


def properties_text(properties: Mapping[str, str]) -> str:
    """The text of a Java properties file with these settings."""
    lines = ["# written by `ecom kafka start` at every start; give changes as --conf KEY=VALUE"]
    lines += [f"{key}={_escape(value)}" for key, value in properties.items()]
    return "\n".join(lines) + "\n"


def _jvm_options(settings: BrokerSettings) -> list[str]:
    return [
        f"-Xmx{settings.heap}",
        "-XX:+ExitOnOutOfMemoryError",
        "-Djava.awt.headless=true",
        f"-Dlog4j2.configurationFile={LOG4J_CONFIG}",
    ]


def _classpath(jars: Sequence[Path]) -> str:
    return ":".join(str(jar) for jar in jars)


def broker_command(settings: BrokerSettings, java: str, jars: Sequence[Path]) -> list[str]:
    """`java ... kafka.Kafka <state dir>/server.properties`."""
    return [
        java,
        *_jvm_options(settings),
        "-cp",
        _classpath(jars),
        KAFKA_CLASS,
        str(settings.properties_file),
    ]


def format_command(
    settings: BrokerSettings, java: str, jars: Sequence[Path], cluster_id: str
) -> list[str]:
    """Kafka's storage tool formatting the data folder for `cluster_id` (static quorum)."""
    return [
        java,
        *_jvm_options(settings),
        "-cp",
        _classpath(jars),
        STORAGE_TOOL_CLASS,
        "format",
        "--cluster-id",
        cluster_id,
        "--config",
        str(settings.properties_file),
    ]


def is_broker_command(command_line: Sequence[str], settings: BrokerSettings) -> bool:
    """True when a process's command line is this folder's broker (not a reused PID)."""
    return KAFKA_CLASS in command_line and str(settings.properties_file) in command_line


def new_cluster_id() -> str:
    """A random cluster id as Kafka writes them: 16 bytes, URL-safe base64, no padding, and
    (as Kafka's own `Uuid.randomUuid`) never starting with a dash."""
    while True:
        text = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not text.startswith("-"):
            return text


def cluster_id_of(meta_properties: str) -> str | None:
    """The `cluster.id` of a formatted data folder's meta.properties text."""
    for line in meta_properties.splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip() == "cluster.id":
            return value.strip()
    return None


def formatted_cluster_id(settings: BrokerSettings) -> str | None:
    """The cluster id the data folder was formatted for; None when it is not formatted."""
    try:
        return cluster_id_of((settings.data_dir / "meta.properties").read_text())
    except FileNotFoundError:
        return None
