"""Figures of a live streaming run: batch durations, the sustained verdict, file latencies.

A feed of R clicks/s is sustained when every micro-batch (after the warm-up) finishes within the
trigger interval: the job then starts each batch on time and never falls behind. A file's
latency is from its landing in the input folder (its modification time: the producer writes a
file under a temporary name and renames it, so that is when it appears) to the moment the batch
that counted it has published its counts (ad_daily_clicks points at the batch's version; the
batch then still finishes its other tables and writes its own row to ad_stream_batches). Files are
read in landing order, whole, so the n-th file belongs to the first batch whose cumulative
input lines reach the n-th file's cumulative lines. Plain functions, tested without Spark.
"""

from __future__ import annotations

import math
import statistics
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import accumulate
from typing import Any


@dataclass(frozen=True)
class LandedFile:
    """A log file of the feed: when it appeared (epoch seconds) and how many lines it holds."""

    landed_at: float
    lines: int


@dataclass(frozen=True)
class FinishedBatch:
    """A micro-batch of the job: when it ended and when its counts were published (epoch
    seconds; None: not told, take the end), its input lines and duration."""

    batch_id: int
    ended_at: float
    input_lines: int
    duration_seconds: float
    published_at: float | None = None

    @property
    def counted_at(self) -> float:
        """When a reader of the count tables sees this batch's clicks."""
        return self.ended_at if self.published_at is None else self.published_at


def file_latencies(
    files: Sequence[LandedFile], batches: Sequence[FinishedBatch]
) -> list[float | None]:
    """Seconds from each file's landing to the publication of the batch that counted it (in
    landing order); None for a file no finished batch reached."""
    files = sorted(files, key=lambda item: item.landed_at)
    batches = sorted(batches, key=lambda item: item.batch_id)
    reached = list(accumulate(batch.input_lines for batch in batches))
    counted_at: list[float | None] = []
    for file_end in accumulate(item.lines for item in files):
        index = bisect_left(reached, file_end)
        counted_at.append(batches[index].counted_at if index < len(batches) else None)
    return [
        None if counted is None else max(0.0, counted - item.landed_at)
        for item, counted in zip(files, counted_at, strict=True)
    ]


def percentile(values: Sequence[float], share: float) -> float:
    """The `share` quantile of non-empty `values` by the nearest-rank method."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(share * len(ordered))))
    return ordered[rank - 1]


def rate_summary(
    rate: float,
    trigger_seconds: float,
    files: Sequence[LandedFile],
    batches: Sequence[FinishedBatch],
    warmup_until: float,
) -> dict[str, Any]:
    """The figures of one rate: batches and files after `warmup_until` (epoch) count. The
    steady batches' durations are kept in batch order, so that a batch over the trigger can be
    told from the others (one pause among many, or all of them near the limit)."""
    steady = [batch for batch in batches if batch.ended_at - batch.duration_seconds >= warmup_until]
    latencies = [
        latency
        for item, latency in zip(
            sorted(files, key=lambda f: f.landed_at), file_latencies(files, batches), strict=True
        )
        if item.landed_at >= warmup_until
    ]
    durations = [batch.duration_seconds for batch in steady]
    over_trigger = sum(1 for duration in durations if duration >= trigger_seconds)
    missed = sum(1 for latency in latencies if latency is None)
    counted = [latency for latency in latencies if latency is not None]
    return {
        "rate": int(rate),
        "batches": len(batches),
        "steady_batches": len(steady),
        "lines": sum(batch.input_lines for batch in batches),
        "produced_lines": sum(item.lines for item in files),
        "batch_seconds": {
            "median": round(statistics.median(durations), 2) if durations else None,
            "max": round(max(durations), 2) if durations else None,
            "steady": [round(duration, 2) for duration in durations],
        },
        "batches_over_trigger": over_trigger,
        "files_not_counted": missed,
        "sustained": bool(durations) and over_trigger == 0 and missed == 0,
        "latency": (
            {
                "p50": round(percentile(counted, 0.5), 2),
                "p95": round(percentile(counted, 0.95), 2),
                "max": round(max(counted), 2),
                "files": len(counted),
            }
            if counted
            else None
        ),
    }


def highest_sustained(summaries: Sequence[dict[str, Any]]) -> dict[str, Any] | None:
    """The summary of the highest rate sustained (None when none was)."""
    sustained = [summary for summary in summaries if summary["sustained"]]
    return max(sustained, key=lambda summary: summary["rate"]) if sustained else None
