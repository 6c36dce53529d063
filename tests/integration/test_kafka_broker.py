"""`ecom kafka` end to end: a real broker, the producer's Kafka sink, and the broker's lifecycle.

One broker for the module (the `kafka_broker` fixture): `status` shows it on loopback only,
clicks produced by `ecom produce-clicks --sink files,kafka` come back from the topic exactly
(the same lines as the files, each once, over every partition), a second broker on the same
folder and a taken port are refused, and a stop followed by a start keeps the topic and its
records.
"""

from __future__ import annotations

import subprocess
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from ecom_analytics.kafka_broker.client import cluster_info, create_topic
from ecom_analytics.services.network import free_ports, listening_sockets
from ecom_analytics.services.processes import is_alive
from tests.kafka_broker import BIN, RunningBroker, clean_environment

pytestmark = pytest.mark.kafka

TOPIC = "clicks_roundtrip"
PARTITIONS = 3


def produce_clicks(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "ecom"), "produce-clicks", "--no-wait", *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env=clean_environment(),
    )


def consume_all(bootstrap_servers: str, topic: str, partitions: int) -> list[list[tuple]]:
    """Every record of the topic, per partition in offset order, as (key, value) pairs."""
    from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap_servers,
            "group.id": "ecom-tests",
            "enable.auto.commit": False,
        }
    )
    try:
        records: list[list[tuple]] = []
        for partition in range(partitions):
            low, high = consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=30)
            consumer.assign([TopicPartition(topic, partition, OFFSET_BEGINNING)])
            found: list[tuple] = []
            while len(found) < high - low:
                # consume() waits until it has num_messages, or for the whole timeout
                remaining = high - low - len(found)
                batch = consumer.consume(num_messages=min(remaining, 10_000), timeout=30)
                assert batch, f"partition {partition}: {len(found)} of {high - low} records read"
                for message in batch:
                    assert message.error() is None, message.error()
                    found.append((message.key(), message.value()))
            records.append(found)
        return records
    finally:
        consumer.close()


def in_order(part: Sequence[str], whole: Sequence[str]) -> bool:
    """True when `part` is a subsequence of `whole` (same relative order)."""
    remaining = iter(whole)
    return all(any(item == candidate for candidate in remaining) for item in part)


@dataclass(frozen=True)
class Produced:
    lines: list[str]
    """The lines of the files the producer wrote, in file order."""
    records: list[list[tuple]]
    """The topic's records, per partition."""


@pytest.fixture(scope="module")
def produced(kafka_broker: RunningBroker, module_dir: Path) -> Produced:
    create_topic(kafka_broker.bootstrap_servers, TOPIC, PARTITIONS)
    output = module_dir / "clicks"
    result = produce_clicks(
        "--sink", "files,kafka", "--kafka-bootstrap-servers", kafka_broker.bootstrap_servers,
        "--kafka-topic", TOPIC, "--output", str(output), "--rate", "1000", "--seconds", "4",
        "--start", "2026-11-20T10:00:00", "--seed", "5",
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    lines = [
        line
        for path in sorted(output.glob("clicks-*.log"))
        for line in path.read_text(encoding="utf-8").split("\n")[:-1]
    ]
    assert f"{len(lines):,} lines" in result.stderr and f"({len(lines):,} acked)" in result.stderr
    return Produced(lines, consume_all(kafka_broker.bootstrap_servers, TOPIC, PARTITIONS))


def test_start_printed_the_bootstrap_address(kafka_broker: RunningBroker) -> None:
    assert "Kafka broker ready in" in kafka_broker.start_output
    assert f"bootstrap:  {kafka_broker.bootstrap_servers} answers" in kafka_broker.start_output
    assert kafka_broker.bootstrap_servers == f"127.0.0.1:{kafka_broker.settings.port}"


def test_status_shows_the_broker_on_loopback_only(kafka_broker: RunningBroker) -> None:
    status = kafka_broker.cli("status")
    assert status.returncode == 0, status.stdout + status.stderr
    assert f"Kafka broker: running (pid {kafka_broker.pid})." in status.stdout
    assert f"bootstrap:  {kafka_broker.bootstrap_servers} answers (cluster " in status.stdout
    assert "(loopback only)" in status.stdout
    sockets = listening_sockets(kafka_broker.pid)
    assert sockets is not None
    settings = kafka_broker.settings
    assert {s.port for s in sockets} == {settings.port, settings.controller_port}, sockets
    assert all(s.loopback for s in sockets), f"non-loopback listeners: {sockets}"


def test_every_click_arrives_exactly_once(produced: Produced) -> None:
    records = [record for partition in produced.records for record in partition]
    assert len(produced.lines) > 3_000  # 4 s at 1,000 clicks/s
    assert "" in produced.lines  # malformed lines travel too, empty ones included
    assert len(records) == len(produced.lines)
    assert all(key is None for key, _ in records)
    assert Counter(value.decode("utf-8") for _, value in records) == Counter(produced.lines)
    for partition in produced.records:
        assert len(partition) > len(records) / PARTITIONS / 2  # spread over the partitions
        assert in_order([value.decode("utf-8") for _, value in partition], produced.lines)


def test_start_refuses_a_second_broker_on_the_same_folder(kafka_broker: RunningBroker) -> None:
    again = kafka_broker.cli("start", "--port", str(free_ports(1)[0]))
    assert again.returncode == 2
    assert f"already runs (pid {kafka_broker.pid})" in again.stderr
    assert is_alive(kafka_broker.pid)


def test_start_names_the_taken_port_and_the_option(
    kafka_broker: RunningBroker, tmp_path: Path
) -> None:
    settings = kafka_broker.settings
    free = str(free_ports(1)[0])
    for ports, what, port, hint in (
        (["--port", str(settings.port), "--controller-port", free],
         "Kafka", settings.port, "--port or ECOM_KAFKA_PORT"),
        (["--port", free, "--controller-port", str(settings.controller_port)],
         "Kafka controller", settings.controller_port,
         "--controller-port or ECOM_KAFKA_CONTROLLER_PORT"),
    ):  # fmt: skip
        taken = subprocess.run(
            [str(BIN / "ecom"), "kafka", "start", "--dir", str(tmp_path), *ports],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            env=clean_environment(),
        )
        assert taken.returncode == 2, taken.stdout + taken.stderr
        assert taken.stderr.strip() == (
            f"ecom kafka: error: {what} port 127.0.0.1:{port} is already in use; stop the "
            f"program using it or choose another port ({hint})"
        )
        assert not (tmp_path / "kafka.pid").exists()


def test_the_producer_names_an_unreachable_broker(tmp_path: Path) -> None:
    (port,) = free_ports(1)
    result = produce_clicks(
        "--sink", "kafka", "--kafka-bootstrap-servers", f"127.0.0.1:{port}", "--files", "1",
    )  # fmt: skip
    assert result.returncode == 2
    error = result.stderr.strip()
    assert len(error.splitlines()) == 1, error
    assert error.startswith(
        f"ecom produce-clicks: error: no Kafka broker answers at 127.0.0.1:{port}"
    )
    assert "ecom kafka start" in error


def test_an_undeliverable_record_fails_the_producer(kafka_broker: RunningBroker) -> None:
    result = produce_clicks(
        "--sink", "kafka", "--kafka-bootstrap-servers", kafka_broker.bootstrap_servers,
        "--kafka-topic", "no spaces allowed", "--files", "1",
    )  # fmt: skip
    assert result.returncode == 1
    error = result.stderr.strip().splitlines()[-1]
    assert error.startswith("ecom produce-clicks: error: ")
    assert "were not delivered to Kafka topic 'no spaces allowed'" in error
    assert "Traceback" not in result.stderr


def test_stop_then_start_keeps_the_topic_and_its_records(
    kafka_broker: RunningBroker, produced: Produced
) -> None:
    stopped = kafka_broker.cli("stop")
    assert stopped.returncode == 0, stopped.stdout + stopped.stderr
    assert "Kafka broker stopped." in stopped.stdout
    assert not is_alive(kafka_broker.pid)
    assert not kafka_broker.settings.files.pid_file.exists()
    status = kafka_broker.cli("status")
    assert status.returncode == 3
    assert "Kafka broker: not running" in status.stdout

    settings = kafka_broker.settings
    started = kafka_broker.cli(
        "start", "--port", str(settings.port), "--controller-port", str(settings.controller_port)
    )
    assert started.returncode == 0, started.stdout + started.stderr
    assert "Formatting" not in started.stdout  # the storage of the first start is kept
    assert cluster_info(kafka_broker.bootstrap_servers, 30).topics[TOPIC] == PARTITIONS
    again = consume_all(kafka_broker.bootstrap_servers, TOPIC, PARTITIONS)
    assert again == produced.records
    assert kafka_broker.cli("stop").returncode == 0
    assert kafka_broker.cli("status").returncode == 3
