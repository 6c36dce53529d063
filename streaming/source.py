"""The stream's input: log lines from a folder of files or from a Kafka topic."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pyspark.sql import functions as F

from streaming.parsing import file_lines, kafka_lines

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

    from streaming.options import StreamOptions


class SourceError(RuntimeError):
    """The source cannot be read as asked; the message says what to do."""


def kafka_package() -> str:
    """Maven coordinate of the Kafka connector matching the installed PySpark."""
    import pyspark

    return f"org.apache.spark:spark-sql-kafka-0-10_2.13:{pyspark.__version__}"


def check_broker(options: StreamOptions) -> None:
    """SourceError naming the bootstrap servers when none of them accepts a connection: a
    quick answer before Spark starts (the Kafka source itself would retry for minutes)."""
    from ecom_analytics.kafka_broker.client import refused

    reason = refused(options.kafka_bootstrap_servers or "", timeout=5.0)
    if reason is not None:
        raise SourceError(
            f"no Kafka broker answers at {options.kafka_bootstrap_servers} ({reason}): start it "
            "(`ecom kafka start` runs one on this machine) or fix --kafka-bootstrap-servers"
        )


def read_lines(spark: SparkSession, options: StreamOptions) -> DataFrame:
    """The streaming DataFrame of log lines (`line`, `source`, `batch_time`)."""
    if options.source == "files":
        reader = spark.readStream.format("text").option("maxFileAge", options.max_file_age)
        if options.max_files_per_trigger:
            reader = reader.option("maxFilesPerTrigger", options.max_files_per_trigger)
        lines = file_lines(reader.load(options.input_dir))
    else:
        reader = (
            spark.readStream.format("kafka")
            .option("kafka.bootstrap.servers", options.kafka_bootstrap_servers)
            .options(**dict(options.kafka_options))
            .option("subscribe", options.kafka_topic)
            .option("startingOffsets", options.kafka_starting_offsets)
            .option("failOnDataLoss", str(options.fail_on_data_loss).lower())
        )
        if options.max_offsets_per_trigger:
            reader = reader.option("maxOffsetsPerTrigger", options.max_offsets_per_trigger)
        try:
            records = reader.load()
        except Exception as error:
            if "kafka" in str(error).lower() and "data source" in str(error).lower():
                raise SourceError(
                    "the Kafka connector is not on Spark's classpath: run `make setup` (it "
                    "fetches it for the embedded Spark), or under spark-submit pass "
                    f"`--packages {kafka_package()}` (or its jar with --jars)"
                ) from None
            raise
        lines = kafka_lines(records)
    # In a streaming plan current_timestamp() is the micro-batch's timestamp from the offset log:
    # the same value when Spark replays the batch.
    return lines.withColumn("batch_time", F.current_timestamp())
