"""The stream part of `ecom bench` on real Spark: a short live feed through the real job.

No timing is asserted, only that the figures follow what happened: every line fed is read and
counted once, and each file's latency ends when the batch that read it published its counts,
which is before that batch ended. Both sources: the producer's files, and a topic of a real
broker that the producer sends the same lines to.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import pytest

from ecom_analytics.bench import stream_probe
from ecom_analytics.bench.stream_stats import FinishedBatch, file_latencies

pytestmark = [pytest.mark.spark]


@pytest.mark.parametrize("source", ["files", pytest.param("kafka", marks=pytest.mark.kafka)])
def test_a_live_feed_is_counted_whole_and_latencies_end_at_publication(
    spark: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
    source: str,
) -> None:
    seen: dict[str, Any] = {}
    summarise = stream_probe.rate_summary

    def spy(rate: float, trigger: float, files: list, batches: list[FinishedBatch], *rest: Any):
        seen.update(files=files, batches=batches)
        return summarise(rate, trigger, files, batches, *rest)

    monkeypatch.setattr(stream_probe, "rate_summary", spy)
    args = argparse.Namespace(
        workdir=tmp_path,
        seconds=4.0,
        trigger_seconds=1.0,
        warmup_seconds=0.0,
        drain_seconds=600.0,  # no warm-up here: the first batches compile Spark's code
    )
    feed = stream_probe.Feed()
    if source == "kafka":
        feed = stream_probe.Feed(request.getfixturevalue("kafka_broker").bootstrap_servers)
    summary = stream_probe.probe_rate(spark, 150, args, feed)

    files, batches = seen["files"], seen["batches"]
    assert len(files) >= 4 and summary["produced_lines"] == sum(item.lines for item in files)
    assert summary["lines"] == summary["produced_lines"] > 0
    assert summary["files_not_counted"] == 0 and summary["latency"]["files"] == len(files)
    # what the job counted is what ad_daily_clicks holds (blacklisted and malformed lines aside)
    assert summary["ad_daily_clicks_total"] == summary["counted_clicks"] > 0
    assert batches and all(batch.published_at is not None for batch in batches)
    assert all(batch.published_at <= batch.ended_at for batch in batches)
    by_end = file_latencies(
        files, [FinishedBatch(b.batch_id, b.ended_at, b.input_lines, 0.0) for b in batches]
    )
    by_publication = file_latencies(files, batches)
    assert all(
        0.0 <= published <= ended
        for published, ended in zip(by_publication, by_end, strict=True)
        if published is not None and ended is not None
    )
    assert summary["latency"]["max"] == round(max(by_publication), 2)
