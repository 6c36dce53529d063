"""The checks at start: the tables and the checkpoint belong together, the threshold is the one
the stream started with."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from pyspark.sql import functions as F

from streaming import storage

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from streaming.options import StreamOptions


class StreamSetupError(RuntimeError):
    """The job cannot start as asked; the message says what to do."""


def checkpoint_id(spark: SparkSession, checkpoint: str) -> str | None:
    """The query id a checkpoint belongs to (its `metadata` file), None for a new checkpoint."""
    if not storage.exists(spark, f"{checkpoint}/metadata"):
        return None
    text = "".join(row.value for row in spark.read.text(f"{checkpoint}/metadata").collect())
    return str(json.loads(text)["id"])


def offset_source(offset: str) -> str | None:
    """Which source wrote a source offset of a checkpoint's offset log: `files` for the file
    source's `{"logOffset": N}`, `kafka` for topic -> partition -> offset, None otherwise."""
    try:
        found = json.loads(offset)
    except ValueError:
        return None
    if isinstance(found, dict) and isinstance(found.get("logOffset"), int):
        return "files"
    if (
        found
        and isinstance(found, dict)
        and all(
            isinstance(partitions, dict) and all(isinstance(o, int) for o in partitions.values())
            for partitions in found.values()
        )
    ):
        return "kafka"
    return None


def checkpoint_source(spark: SparkSession, checkpoint: str) -> str | None:
    """The source (`files` or `kafka`) of a checkpoint's newest planned batch, or None."""
    newest = storage.newest_numbered(spark, f"{checkpoint}/offsets")
    if newest is None:
        return None
    lines = [row.value for row in spark.read.text(newest).collect()]
    # "v1", the batch's metadata, then one offset per source
    return offset_source(lines[2]) if len(lines) > 2 else None


def check_source(spark: SparkSession, options: StreamOptions) -> None:
    """Refuse a checkpoint that another kind of source wrote: its offsets mean nothing to this
    one (Spark would fail on them, or start over and count clicks twice)."""
    found = checkpoint_source(spark, options.checkpoint)
    if found is not None and found != options.source:
        raise StreamSetupError(
            f"checkpoint {options.checkpoint} belongs to a stream that read --source {found}; "
            f"a --source {options.source} stream cannot go on from it: give it a --checkpoint "
            "of its own (its tables must be new too: another --schema), or add --reset to drop "
            "the streaming tables and the checkpoint and start over"
        )


def check_resume(spark: SparkSession, options: StreamOptions) -> None:
    """Refuse to mix the tables of one checkpoint with another one, to change the threshold of
    a running stream, or to go on from a checkpoint whose tables are gone: each would break the
    counts silently."""
    written = (
        spark.table(f"{options.schema}.ad_stream_batches")
        .agg(
            F.sort_array(F.collect_set("stream_id")).alias("streams"),
            F.sort_array(F.collect_set("threshold")).alias("thresholds"),
            F.max("batch_id").alias("last_batch"),
        )
        .first()
    )
    streams, thresholds = list(written.streams), list(written.thresholds)
    current = checkpoint_id(spark, options.checkpoint)
    if streams and streams != [current]:
        raise StreamSetupError(
            f"the streaming tables in schema {options.schema} were written by stream "
            f"{', '.join(streams)} (up to batch {written.last_batch}), and checkpoint "
            f"{options.checkpoint} is {'new' if current is None else 'stream ' + current}: run "
            "with the checkpoint those tables came from, or add --reset to drop the streaming "
            "tables and the checkpoint and start over"
        )
    if thresholds and thresholds != [options.threshold]:
        raise StreamSetupError(
            f"this stream runs with --threshold {thresholds[-1]}; a running stream cannot change "
            "it (users blacklisted so far would not be): add --reset to start over with "
            f"--threshold {options.threshold}"
        )
    if (
        current is not None
        and not streams
        and storage.has_children(spark, f"{options.checkpoint}/commits")
    ):
        raise StreamSetupError(
            f"checkpoint {options.checkpoint} has committed batches but the streaming tables in "
            f"schema {options.schema} are empty (dropped?): add --reset to start over"
        )
