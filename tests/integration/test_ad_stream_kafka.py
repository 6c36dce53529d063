"""The streaming job (SPEC 4) on Spark's Kafka source against a real broker.

- twelve chunks of generated clicks (heavy clickers crossing the threshold, malformed lines,
  midnight inside the stream) on a topic of four partitions, plus records that are not UTF-8,
  empty or a megabyte long; `ecom stream --source kafka` killed with SIGKILL twice inside
  batches and run again: the tables equal the plain-Python replay of SPEC 4 and each Delta
  table has at most one commit per micro-batch;
- the broker stopped while the stream runs: the stream stops with a message naming the
  brokers, and once the broker is back it goes on from its checkpoint, nothing lost or doubled;
- a checkpoint the file source wrote is refused with a message.

Each chunk has the same number of records on every partition and the stream takes one chunk's
worth per micro-batch (--max-offsets-per-trigger), so its batches are the chunks, as the replay
has them.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from ecom_analytics.kafka_broker import broker
from ecom_analytics.kafka_broker.client import create_topic
from streaming.producer import ProducerConfig, chunk_files
from streaming.tables import TABLES
from tests.ad_stream_reference import Replay, replay
from tests.ad_stream_tables import (
    assert_equals_replay,
    batches_committed,
    delta_commits,
    read_tables,
    run_killed_twice,
)
from tests.kafka_broker import RunningBroker

pytestmark = [pytest.mark.spark, pytest.mark.kafka]

DAY = date(2026, 11, 20)
PARTITIONS = 4
CHUNKS = 12
CHUNK_RECORDS = 400  # 100 per partition
THRESHOLD = 30
BIG_RECORD = 1_000_000
"""A megabyte-long record: the topic and the producer accept up to two."""
ECOM = str(Path(sys.executable).parent / "ecom")


def ms(day: date, clock: str) -> int:
    """Epoch milliseconds of `clock` (HH:MM:SS) on `day`, UTC."""
    moment = datetime.fromisoformat(f"{day}T{clock}").replace(tzinfo=timezone.utc)
    return int(moment.timestamp() * 1000)


def generated_chunks() -> list[list[str | bytes]]:
    """Twelve chunks of CHUNK_RECORDS lines across midnight; chunk 5 also carries a record that
    is not UTF-8, an empty one and a megabyte-long one (in place of three of its lines)."""
    config = ProducerConfig(
        start_ms=ms(DAY, "23:59:00"),
        rate=CHUNKS * CHUNK_RECORDS / 120,
        file_seconds=120,
        chunk_seconds=120,
        seed=11,
        users=40,
        ads=6,
        heavy_share=0.1,
        malformed_share=0.03,
    )
    (log_file,) = chunk_files(config, 0)
    lines: list[str | bytes] = list(log_file.lines.to_pylist())
    assert len(lines) == CHUNKS * CHUNK_RECORDS
    chunks = [lines[i : i + CHUNK_RECORDS] for i in range(0, len(lines), CHUNK_RECORDS)]
    chunks[5][:3] = [b"\xff\xfe Jiangsu Nanjing 1 7", "", "9" * BIG_RECORD]
    return chunks


def produce(bootstrap_servers: str, topic: str, chunks: list[list[str | bytes]]) -> None:
    """Each chunk's records round-robin over the partitions, every one acknowledged."""
    from confluent_kafka import Producer

    failures: list[str] = []
    producer = Producer(
        {
            "bootstrap.servers": bootstrap_servers,
            "enable.idempotence": True,
            "message.max.bytes": 2 * BIG_RECORD + 10_000,
        }
    )

    def report(error: Any, _message: Any) -> None:
        if error is not None:
            failures.append(error.str())

    for chunk in chunks:
        for index, record in enumerate(chunk):
            value = record.encode() if isinstance(record, str) else record
            producer.produce(topic, value, partition=index % PARTITIONS, on_delivery=report)
            producer.poll(0)
    assert producer.flush(60) == 0
    assert not failures, failures[:3]


def new_topic(kafka_broker: RunningBroker, topic: str, chunks: list[list[str | bytes]]) -> None:
    create_topic(
        kafka_broker.bootstrap_servers,
        topic,
        PARTITIONS,
        config={"max.message.bytes": str(2 * BIG_RECORD + 10_000)},
    )
    produce(kafka_broker.bootstrap_servers, topic, chunks)


def stream_command(kafka_broker: RunningBroker, topic: str, work: Path, *extra: str) -> list[str]:
    return [
        ECOM,
        "stream",
        "--source",
        "kafka",
        "--kafka-bootstrap-servers",
        kafka_broker.bootstrap_servers,
        "--kafka-topic",
        topic,
        "--checkpoint",
        str(work / "checkpoint"),
        "--schema",
        "t_ad_stream_kafka",
        "--available-now",
        "--max-offsets-per-trigger",
        str(CHUNK_RECORDS),
        "--threshold",
        str(THRESHOLD),
        "--max-age",
        "off",
        *extra,
    ]


def ecom_lines(stderr: str) -> list[str]:
    """What `ecom stream` wrote to stderr, without the notice every JVM of Spark 4 prints."""
    return [
        line
        for line in stderr.strip().splitlines()
        if not line.startswith("WARNING: Using incubator modules")
    ]


def environment(work: Path) -> dict[str, str]:
    return {**os.environ, "ECOM_WAREHOUSE_DIR": str(work)}


def tables_dir(work: Path) -> Path:
    return work / "warehouse" / "t_ad_stream_kafka.db"


def stream_tables(spark: Any, work: Path) -> dict[str, Any]:
    folder = tables_dir(work)
    return read_tables(spark, "", lambda name: spark.read.format("delta").load(str(folder / name)))


@pytest.fixture(scope="module")
def chunks() -> list[list[str | bytes]]:
    return generated_chunks()


@pytest.fixture(scope="module")
def expected(chunks: list[list[str | bytes]]) -> Replay:
    reference = replay(chunks, threshold=THRESHOLD)
    # the data exercise what they should: blacklisting in several batches, drops, both days,
    # and the three odd records quarantined for what they are
    assert len({batch for batch, *_ in reference.blacklist.values()}) >= 2
    assert sum(batch.get("dropped_clicks", 0) for batch in reference.batches) > 100
    assert {day for day, *_ in reference.daily} == {DAY, date(2026, 11, 21)}
    for reason in ("invalid_utf8", "empty_line", "line_too_long"):
        assert reference.quarantine[reason] >= 1, reason
    return reference


def test_killed_twice_inside_batches_the_kafka_stream_equals_the_replay(
    spark: Any,
    module_dir: Path,
    kafka_broker: RunningBroker,
    chunks: list[list[str | bytes]],
    expected: Replay,
) -> None:
    topic, work = "ad_clicks_killed", module_dir / "killed"
    new_topic(kafka_broker, topic, chunks)
    finished = run_killed_twice(
        stream_command(kafka_broker, topic, work), environment(work), tables_dir(work)
    )
    assert f"ad-stream batch {CHUNKS - 1}:" in finished.stdout

    tables = stream_tables(spark, work)
    assert_equals_replay(tables, expected)
    sources = {source.split("@")[0] for (_, _, _, source) in tables["ad_click_quarantine"]}
    assert sources <= {f"{topic}/{partition}" for partition in range(PARTITIONS)}
    for name in TABLES:  # at most one commit per table and micro-batch, the replays included
        versions = [c["txn"][1] for c in delta_commits(str(tables_dir(work) / name)) if c["txn"]]
        assert versions == sorted(set(versions)), name
        assert set(versions) <= set(range(CHUNKS)), name
    assert batches_committed(str(tables_dir(work) / "ad_stream_batches")) == set(range(CHUNKS))


def test_a_broker_stopped_mid_run_stops_the_stream_which_then_resumes(
    spark: Any, module_dir: Path, kafka_broker: RunningBroker, chunks: list[list[str | bytes]]
) -> None:
    """The broker stops after the stream's first batch: the stream ends non-zero with a
    message naming the brokers; the broker started again, the same command finishes the
    topic and the tables equal the replay."""
    topic, work = "ad_clicks_outage", module_dir / "outage"
    few = chunks[:4]
    new_topic(kafka_broker, topic, few)
    # Spark's Kafka clients retry for minutes by default: shorter here
    command = stream_command(
        kafka_broker,
        topic,
        work,
        "--kafka-option",
        "kafka.default.api.timeout.ms=15000",
        "--kafka-option",
        "kafka.request.timeout.ms=10000",
    )
    process = subprocess.Popen(
        command,
        env=environment(work),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    log = str(tables_dir(work) / "ad_stream_batches")
    deadline = time.monotonic() + 600
    while 0 not in batches_committed(log):
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert broker.stop(kafka_broker.settings, report=lambda _: None) == 0
    try:
        _, err = process.communicate(timeout=600)
    finally:
        process.kill()
    assert process.returncode == 1, err[-3000:]
    assert len(ecom_lines(err)) == 2 and "Traceback" not in err, err[-3000:]
    assert f"the Kafka brokers at {kafka_broker.bootstrap_servers}" in err
    assert "run the same command again" in err
    assert len(batches_committed(log)) < len(few)

    output: list[str] = []
    assert broker.start(kafka_broker.settings, timeout=240, report=output.append) == 0, output
    resumed = subprocess.run(
        command, env=environment(work), capture_output=True, text=True, timeout=900, check=False
    )
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert_equals_replay(stream_tables(spark, work), replay(few, threshold=THRESHOLD))


def test_a_checkpoint_of_the_file_source_is_refused(
    module_dir: Path, kafka_broker: RunningBroker
) -> None:
    """A checkpoint whose offsets the file source wrote, given to the Kafka source."""
    work = module_dir / "refused"
    checkpoint = work / "checkpoint"
    (checkpoint / "offsets").mkdir(parents=True)
    (checkpoint / "metadata").write_text('{"id":"7d4c2a52-3d0e-4f43-9b0e-0a4d4c1c9e11"}\n')
    (checkpoint / "offsets" / "0").write_text(
        'v1\n{"batchWatermarkMs":0,"batchTimestampMs":1,"conf":{}}\n{"logOffset":0}\n'
    )
    result = subprocess.run(
        stream_command(kafka_broker, "ad_clicks_refused", work),
        env=environment(work),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 2, result.stderr[-3000:]
    (line,) = ecom_lines(result.stderr)
    assert f"checkpoint {checkpoint} belongs to a stream that read --source files" in line
