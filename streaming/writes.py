"""The Delta writes of one micro-batch: at most one commit per table, each exactly once.

Every write of batch N carries Delta's transaction id: app id = the streaming query's id (the
checkpoint's), version = N. Delta records it in the commit and skips any later write with the
same app id and a version not above the one recorded, so a batch Spark replays after a crash
changes nothing a previous attempt committed, and completes what it did not. DataFrame writes
pass it as writer options (`txnAppId`, `txnVersion`), MERGEs take it from the session
(`spark.databricks.delta.write.txnAppId` / `txnVersion`, set for the batch and not reset
between its writes). Each commit's `userMetadata` names the batch, so `describe history`
shows which batch wrote what. (Delta's own compactions, `delta.autoOptimize.autoCompact`, add
commits that change no data and carry no transaction id.)
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

from streaming.tables import TABLES

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession
    from pyspark.sql.readwriter import DataFrameWriter

TXN_APP_ID = "spark.databricks.delta.write.txnAppId"
TXN_VERSION = "spark.databricks.delta.write.txnVersion"
TXN_AUTO_RESET = "spark.databricks.delta.write.txnVersion.autoReset.enabled"
USER_METADATA = "spark.databricks.delta.commitInfo.userMetadata"


def batch_metadata(stream_id: str, batch_id: int) -> str:
    """The `userMetadata` of a batch's commits."""
    return json.dumps({"stream_id": stream_id, "batch_id": batch_id})


def committed_version(spark: SparkSession, location: str, app_id: str) -> int | None:
    """The newest transaction version `app_id` committed to the Delta table at `location`."""
    jvm = spark._jvm
    delta_log = jvm.org.apache.spark.sql.delta.DeltaLog.forTable(spark._jsparkSession, location)
    none = jvm.scala.Option.empty()
    version = delta_log.update(False, none, none).transactions().get(app_id)
    return int(version.get()) if version.isDefined() else None


def _date_list(days: Sequence[str]) -> str:
    """`date'2026-11-20', ...`: the literal days a MERGE's condition prunes files by."""
    return ", ".join(f"date'{day}'" for day in days)


class BatchWrites:
    """The writes of micro-batch `batch_id` to the tables at `locations` (name -> location),
    in `spark` (the batch's session). Use as a context manager: it sets the session's
    transaction id for the batch's MERGEs and removes it afterwards."""

    def __init__(
        self, spark: SparkSession, locations: dict[str, str], stream_id: str, batch_id: int
    ) -> None:
        self.spark = spark
        self.locations = locations
        self.stream_id = stream_id
        self.batch_id = batch_id
        self.metadata = batch_metadata(stream_id, batch_id)

    @contextmanager
    def transaction(self) -> Iterator[BatchWrites]:
        conf = {
            TXN_APP_ID: self.stream_id,
            TXN_VERSION: str(self.batch_id),
            TXN_AUTO_RESET: "false",
            USER_METADATA: self.metadata,
        }
        for key, value in conf.items():
            self.spark.conf.set(key, value)
        try:
            yield self
        finally:
            for key in conf:
                self.spark.conf.unset(key)

    def committed(self, name: str) -> bool:
        """Whether table `name` holds this batch's write already (a replay after a crash)."""
        version = committed_version(self.spark, self.locations[name], self.stream_id)
        return version is not None and version >= self.batch_id

    def _writer(self, name: str, frame: DataFrame, mode: str) -> DataFrameWriter:
        return (
            frame.select(*TABLES[name].column_names)
            .write.format("delta")
            .mode(mode)
            .option("txnAppId", self.stream_id)
            .option("txnVersion", self.batch_id)
            .option("userMetadata", self.metadata)
        )

    def append(self, name: str, frame: DataFrame) -> None:
        """Add `frame`'s rows to table `name`."""
        self._writer(name, frame, "append").save(self.locations[name])

    def replace_days(self, name: str, frame: DataFrame, days: Sequence[str]) -> None:
        """Replace the rows of `days` (its `click_date`s) of table `name` by `frame`'s."""
        condition = f"click_date in ({_date_list(days)})"
        self._writer(name, frame, "overwrite").option("replaceWhere", condition).save(
            self.locations[name]
        )

    def _merge(self, name: str, source: DataFrame, on: str, extra: str = "") -> None:
        """MERGE `source` into table `name`: matched rows get its clicks added and its
        `updated_at`, the others are inserted; `extra`: further clauses."""
        view = f"ad_stream_{name}_changes"
        source.createOrReplaceTempView(view)
        columns = TABLES[name].column_names
        self.spark.sql(
            f"merge into delta.`{self.locations[name]}` as t using {view} as s on {on} "
            "when matched then update set t.clicks = t.clicks + s.clicks, "
            "t.updated_at = s.updated_at "
            f"when not matched then insert ({', '.join(columns)}) "
            f"values ({', '.join(f's.{column}' for column in columns)}) {extra}"
        )

    def merge_counts(
        self, name: str, changes: DataFrame, keys: Sequence[str], days: Sequence[str]
    ) -> None:
        """Add `changes` (keys, `clicks`, `updated_at`) to the cumulative counts of table
        `name`; only the files of `days` are read."""
        on = " and ".join(
            [f"t.click_date in ({_date_list(days)})", *(f"t.{key} = s.{key}" for key in keys)]
        )
        self._merge(name, changes, on)

    def merge_trend(self, changes: DataFrame, trend_start_micros: int) -> None:
        """Add `changes` (`minute`, `ad_id`, `clicks`, `updated_at`) to `ad_click_trend` and
        delete its minutes before the trend window's start, in one commit."""
        self._merge(
            "ad_click_trend",
            changes,
            "t.minute = s.minute and t.ad_id = s.ad_id",
            "when not matched by source and "
            f"t.minute < timestamp_micros({trend_start_micros}) then delete",
        )
