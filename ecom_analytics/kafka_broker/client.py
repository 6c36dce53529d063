"""Requests to a Kafka broker through confluent-kafka: its metadata, and topics.

librdkafka would log every refused connection on stderr while a broker starts or when none
runs; its log goes to a silent logger, and the first error it reports is kept to say why a
request failed.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ecom_analytics.services.network import host_port

_QUIET = logging.getLogger("ecom_analytics.kafka_broker.librdkafka")
_QUIET.addHandler(logging.NullHandler())
_QUIET.propagate = False


class KafkaUnreachable(Exception):
    """No broker answered at the bootstrap servers; the message names them and why."""


class TopicError(Exception):
    """A topic could not be created as asked."""


@dataclass
class ErrorLog:
    """The errors librdkafka reports through `error_cb` (each KafkaError's text)."""

    seen: list[str] = field(default_factory=list)

    def __call__(self, error: Any) -> None:
        self.seen.append(error.str())

    def reason(self, fallback: str) -> str:
        return self.seen[0] if self.seen else fallback


def client_config(bootstrap_servers: str, errors: ErrorLog | None = None) -> dict[str, Any]:
    """Settings every client of the project starts from: quiet, errors kept."""
    config: dict[str, Any] = {"bootstrap.servers": bootstrap_servers, "logger": _QUIET}
    if errors is not None:
        config["error_cb"] = errors
    return config


def _addresses(bootstrap_servers: str) -> list[tuple[str, int]] | None:
    """(host, port) of each `host:port` of a bootstrap list; None for anything else."""
    found = []
    for entry in bootstrap_servers.split(","):
        host, sep, port = entry.strip().rpartition("://")[2].rpartition(":")
        if not sep or not port.isdigit() or not host:
            return None
        found.append((host.strip("[]"), int(port)))
    return found


def refused(bootstrap_servers: str, timeout: float = 2.0) -> str | None:
    """Why no bootstrap server accepts a TCP connection (the first one's error), or None when
    one does or the list cannot be read: a quick answer when no broker runs at all."""
    addresses = _addresses(bootstrap_servers)
    if not addresses:
        return None
    reasons = []
    for host, port in addresses:
        try:
            with socket.create_connection((host, port), timeout=timeout):
                return None
        except OSError as error:
            reasons.append(f"{host_port(host, port)}: {error.strerror or error}")
    return reasons[0]


def metadata(client: Any, bootstrap_servers: str, timeout: float, errors: ErrorLog) -> Any:
    """`client.list_topics()` (a Producer's, Consumer's or AdminClient's made with `errors`);
    KafkaUnreachable naming the servers and the reason when no broker answers in time."""
    from confluent_kafka import KafkaException

    reason = refused(bootstrap_servers)
    if reason is not None:
        raise KafkaUnreachable(f"no Kafka broker answers at {bootstrap_servers} ({reason})")
    try:
        return client.list_topics(timeout=timeout)
    except KafkaException as error:
        client.poll(0)  # serves error_cb: the reason, e.g. "Connection refused"
        raise KafkaUnreachable(
            f"no Kafka broker answers at {bootstrap_servers} within {timeout:g} s "
            f"({errors.reason(error.args[0].str())})"
        ) from None


@dataclass(frozen=True)
class ClusterInfo:
    """What a broker said about its cluster."""

    cluster_id: str
    brokers: Mapping[int, str]
    """Node id -> the `host:port` it advertises."""
    topics: Mapping[str, int]
    """Topic -> number of partitions (internal topics left out)."""


def cluster_info(bootstrap_servers: str, timeout: float) -> ClusterInfo:
    """The cluster's metadata, from a real request; KafkaUnreachable when no broker answers
    within `timeout` seconds."""
    from confluent_kafka.admin import AdminClient

    errors = ErrorLog()
    found = metadata(
        AdminClient(client_config(bootstrap_servers, errors)), bootstrap_servers, timeout, errors
    )
    return ClusterInfo(
        cluster_id=found.cluster_id or "",
        brokers={node: f"{broker.host}:{broker.port}" for node, broker in found.brokers.items()},
        topics={
            name: len(topic.partitions)
            for name, topic in found.topics.items()
            if not name.startswith("__")
        },
    )


def create_topic(
    bootstrap_servers: str,
    topic: str,
    partitions: int,
    timeout: float = 30.0,
    config: Mapping[str, str] | None = None,
) -> None:
    """Create `topic` with `partitions` partitions (one replica) and the topic `config` given
    (e.g. `max.message.bytes`); nothing to do when it exists with that many partitions, a
    TopicError when it exists with another number."""
    from confluent_kafka import KafkaError, KafkaException
    from confluent_kafka.admin import AdminClient, NewTopic

    admin = AdminClient(client_config(bootstrap_servers))
    future = admin.create_topics(
        [
            NewTopic(
                topic, num_partitions=partitions, replication_factor=1, config=dict(config or {})
            )
        ],
        operation_timeout=timeout,
        request_timeout=timeout,
    )[topic]
    try:
        future.result(timeout=timeout)
    except KafkaException as failure:
        error = failure.args[0]
        if error.code() != KafkaError.TOPIC_ALREADY_EXISTS:
            raise TopicError(f"cannot create topic {topic!r}: {error.str()}") from None
        existing = cluster_info(bootstrap_servers, timeout).topics.get(topic)
        if existing != partitions:
            raise TopicError(
                f"topic {topic!r} exists with {existing} partitions, not {partitions}"
            ) from None
