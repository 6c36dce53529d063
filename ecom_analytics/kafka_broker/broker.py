"""Start, stop and inspect the local Kafka broker of one state folder; its Python API.

    settings = settings_from(os.environ, state_dir="/tmp/kafka", port=19092)
    start(settings, timeout=120)            # 0 once the broker answers, 1 (and stopped) if not
    bootstrap_servers(settings)             # "127.0.0.1:19092"
    create_topic(bootstrap_servers(settings), "ad_clicks", partitions=3)
    status(settings); stop(settings)

The folder holds the broker's data (`data/`), its generated `server.properties`, its log, its
PID file and a JSON note of the addresses it was started with (`ecom_analytics.services`).
The first start formats the storage for a new cluster id; later starts reuse it, topics and
records included.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from ecom_analytics import jvm_packages
from ecom_analytics.kafka_broker.client import ClusterInfo, KafkaUnreachable, cluster_info
from ecom_analytics.kafka_broker.client import create_topic as create_topic
from ecom_analytics.kafka_broker.settings import (
    DEFAULT_PORT,
    DEFAULT_TOPIC,
    ENV_CONTROLLER_PORT,
    ENV_PORT,
    NODE_ID,
    BrokerSettings,
    broker_command,
    format_command,
    formatted_cluster_id,
    is_broker_command,
    new_cluster_id,
    properties_text,
    server_properties,
)
from ecom_analytics.services.network import LOOPBACK, host_port
from ecom_analytics.services.service import (
    Port,
    Say,
    Service,
    ServiceError,
    check_java,
    check_ports,
    labelled,
    say,
)

TITLE = "Kafka broker"
PROBE_TIMEOUT = 5.0
TOPICS_SHOWN = 10


def service(settings: BrokerSettings) -> Service:
    return Service(
        title=TITLE,
        command="ecom kafka",
        files=settings.files,
        is_ours=lambda args: is_broker_command(args, settings),
        contents="data/, server.properties",
    )


def running_pid(settings: BrokerSettings) -> int | None:
    """The PID of this folder's broker when it runs; None otherwise (a stale PID file too)."""
    return service(settings).running_pid()


def recorded_settings(settings: BrokerSettings) -> BrokerSettings:
    """The addresses the running broker was started with (from its JSON note), else `settings`."""
    note = service(settings).note()
    return replace(
        settings,
        bind_address=note.get("bind_address", settings.bind_address),
        port=int(note.get("port", settings.port)),
        controller_port=int(note.get("controller_port", settings.controller_port)),
    )


def bootstrap_servers(settings: BrokerSettings) -> str:
    """The address clients on this machine give as bootstrap servers (the running broker's)."""
    return recorded_settings(settings).bootstrap_servers


@dataclass(frozen=True)
class Answer:
    """What the client listener said: `ours`, `foreign` (another cluster) or `down`."""

    state: str
    detail: str = ""
    info: ClusterInfo | None = None

    @property
    def up(self) -> bool:
        return self.state == "ours"

    def describe(self) -> str:
        if self.state == "ours":
            return f"answers (cluster {self.detail})"
        if self.state == "foreign":
            return f"answers as another Kafka cluster ({self.detail})"
        return f"does not answer ({self.detail})"


def probe(settings: BrokerSettings, timeout: float) -> Answer:
    """Ask the broker for the cluster's metadata; ours when the cluster id is the one this
    folder's storage was formatted for and this node is among the brokers."""
    try:
        info = cluster_info(settings.bootstrap_servers, timeout)
    except KafkaUnreachable as error:
        return Answer("down", str(error))
    expected = formatted_cluster_id(settings)
    if info.cluster_id != expected:
        return Answer("foreign", f"cluster id {info.cluster_id}, expected {expected}", info)
    if NODE_ID not in info.brokers:
        return Answer("down", "the broker has not registered yet", info)
    return Answer("ours", info.cluster_id, info)


def _format_storage(
    settings: BrokerSettings, java: str, jars: Sequence[Path], timeout: float, report: Say
) -> None:
    """Format the data folder once, for a new cluster id (the storage tool's output goes to
    the log); a formatted folder is left as it is."""
    if formatted_cluster_id(settings) is not None:
        return
    cluster_id = new_cluster_id()
    report(f"Formatting the broker's storage in {settings.data_dir} (cluster id {cluster_id})")
    with settings.files.log_file.open("ab") as log:
        try:
            result = subprocess.run(
                format_command(settings, java, jars, cluster_id),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=settings.state_dir,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise ServiceError(
                f"formatting the storage took more than {timeout:.0f} s; "
                "a busy machine may need a longer --timeout"
            ) from None
    if result.returncode != 0:
        raise ServiceError(f"formatting the storage failed (exit {result.returncode})")


def _wait_until_ready(
    server: Service,
    process: subprocess.Popen[bytes],
    settings: BrokerSettings,
    timeout: float,
    report: Say,
) -> Answer:
    """Ask for the cluster's metadata until our broker answers; ServiceError otherwise."""
    answer = Answer("down", "not asked yet")

    def ready() -> bool:
        nonlocal answer
        answer = probe(settings, PROBE_TIMEOUT)
        if answer.state == "foreign":
            raise ServiceError(
                f"port {settings.port} {answer.describe()}: another broker took the port"
            )
        return answer.up

    server.wait_until_ready(process, ready, timeout, report, lambda: answer.describe())
    return answer


def start(settings: BrokerSettings, timeout: float, report: Say = say) -> int:
    """Start the broker in the background and wait until it answers a metadata request;
    0 when it does, 1 (with the log's last lines, the broker stopped) when not."""
    began = time.monotonic()
    server = service(settings)
    server.prepare_start()
    java = check_java("Kafka")
    jars = jvm_packages.jars("kafka")
    check_ports(
        [
            Port("Kafka", settings.bind_address, settings.port, f"--port or {ENV_PORT}"),
            Port("Kafka controller", LOOPBACK, settings.controller_port,
                 f"--controller-port or {ENV_CONTROLLER_PORT}"),
        ]
    )  # fmt: skip
    if not settings.loopback_only:
        report(
            f"WARNING: binding to {settings.bind_address}: anyone who can reach this machine "
            "can read and write every topic of this broker (no authentication, no TLS)."
        )
    settings.properties_file.write_text(properties_text(server_properties(settings)))
    try:
        _format_storage(settings, java, jars, timeout, report)
    except ServiceError as failure:
        server.report_failure(str(failure), report)
        return 1
    controller = host_port(LOOPBACK, settings.controller_port)
    report(
        f"Starting the {TITLE} (bootstrap {settings.bootstrap_servers}, controller "
        f"{controller}); log: {settings.files.log_file}"
    )
    process = server.launch(
        broker_command(settings, java, jars),
        env=os.environ,
        cwd=settings.state_dir,
        note={
            "bind_address": settings.bind_address,
            "port": settings.port,
            "controller_port": settings.controller_port,
            "bootstrap_servers": settings.bootstrap_servers,
        },
    )
    remaining = max(1.0, timeout - (time.monotonic() - began))
    answer = server.supervise_start(
        process, lambda: _wait_until_ready(server, process, settings, remaining, report), report
    )
    if answer is None:
        return 1
    report(
        f"{TITLE} ready in {time.monotonic() - began:.0f} s (pid {process.pid}).\n"
        f"  {labelled('bootstrap', settings.bootstrap_servers)} {answer.describe()}\n"
        f"  {labelled('folder', str(settings.state_dir))} (data/, server.properties)\n"
        f"Produce with `ecom produce-clicks --sink kafka{_bootstrap_option(settings)}`, read with "
        f"`ecom stream --source kafka --kafka-bootstrap-servers {settings.bootstrap_servers} "
        f"--kafka-topic {DEFAULT_TOPIC}`; stop it with `ecom kafka stop`."
    )
    return 0


def _bootstrap_option(settings: BrokerSettings) -> str:
    """The option `ecom produce-clicks` needs when the broker is not at its default address."""
    if settings.bootstrap_servers == host_port(LOOPBACK, DEFAULT_PORT):
        return ""
    return f" --kafka-bootstrap-servers {settings.bootstrap_servers}"


def stop(settings: BrokerSettings, report: Say = say) -> int:
    """Stop this folder's broker (a controlled shutdown); anything else is left alone."""
    return service(settings).stop(report)


def _topics_line(info: ClusterInfo) -> str:
    names = sorted(info.topics)
    shown = [f"{name} ({info.topics[name]} partitions)" for name in names[:TOPICS_SHOWN]]
    more = f", and {len(names) - TOPICS_SHOWN} more" if len(names) > TOPICS_SHOWN else ""
    return labelled("topics", ", ".join(shown) + more if names else "none yet")


def status(settings: BrokerSettings, report: Say = say) -> int:
    """Whether the broker runs (exit 3 when not), whether it answers, its bootstrap address,
    its topics, and where it listens."""
    recorded = recorded_settings(settings)

    def details(pid: int) -> list[str]:
        answer = probe(recorded, PROBE_TIMEOUT)
        lines = [
            labelled("bootstrap", f"{recorded.bootstrap_servers} {answer.describe()}"),
            labelled("controller", host_port(LOOPBACK, recorded.controller_port)),
        ]
        if answer.info is not None:
            lines.append(_topics_line(answer.info))
        return lines

    return service(settings).status(report, details)
