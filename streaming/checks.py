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
