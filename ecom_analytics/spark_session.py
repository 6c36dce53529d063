"""The embedded Spark of the `local` target, for code outside dbt.

The streaming job, the dashboards, the benchmark baseline and the tests open the warehouse with
the very settings `profiles.yml` gives dbt's `local` target (a test keeps the two identical), so
any of them sees every table dbt wrote. SPEC 5: the Derby metastore lives at
`$ECOM_WAREHOUSE_DIR/metastore_db` and the table data under `$ECOM_WAREHOUSE_DIR/warehouse`.
Derby allows one JVM at a time on a metastore: do not run two of these programs at once on the
same warehouse (the Thrift server of `ecom thrift` is the way to share one).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from ecom_analytics import jvm_packages

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

DEFAULT_WAREHOUSE_DIR = ".warehouse"

# JIT settings for batch work, where every query brings new generated code: Spark's generated
# methods over HotSpot's 8,000-byte limit compiled instead of left to the interpreter, and those
# too large for half of the C2 compiler's default node limit left to C1 after a fraction of a
# second instead of seconds of C2 work. Offline builds ran 4-12% faster with both (each alone
# did not help); the long-running stream, whose code is compiled once, about 3% slower, so it
# goes without (docs/performance.md, "Notes on the settings").
BATCH_JIT_OPTIONS = "-XX:-DontCompileHugeMethods -XX:MaxNodeLimit=40000"


def warehouse_dir() -> str:
    """`$ECOM_WAREHOUSE_DIR`, default `.warehouse` (relative to the working directory)."""
    return os.environ.get("ECOM_WAREHOUSE_DIR", DEFAULT_WAREHOUSE_DIR)


def local_spark_conf(
    app_name: str = "ecom_analytics",
    warehouse: str | None = None,
    batch_jit: bool = True,
    log_file: str | None = None,
) -> dict[str, str]:
    """Spark settings of the `local` target, as profiles.yml renders them from the environment.

    `warehouse` replaces `$ECOM_WAREHOUSE_DIR` as the root of the metastore, the table data and
    the Derby log (the Thrift server of `ecom thrift` keeps its own there). `batch_jit=False`
    leaves out BATCH_JIT_OPTIONS, for a long-running job that compiles its code once.
    `log_file`: Spark's log goes there instead of the terminal (conf/log4j2-file.properties).
    """
    warehouse = warehouse or warehouse_dir()
    env = os.environ.get
    return {
        "spark.master": "local[*]",
        "spark.app.name": app_name,
        "spark.driver.memory": env("ECOM_DRIVER_MEMORY", "4g"),
        "spark.sql.warehouse.dir": f"{warehouse}/warehouse",
        "spark.hadoop.javax.jdo.option.ConnectionURL": (
            f"jdbc:derby:;databaseName={warehouse}/metastore_db;create=true"
        ),
        "spark.driver.extraJavaOptions": (
            "-XX:+UseParallelGC"
            + (f" {BATCH_JIT_OPTIONS}" if batch_jit else "")
            + f" -Dderby.stream.error.file={warehouse}/derby.log"
            + (
                " -Dlog4j2.configurationFile=conf/log4j2.properties,conf/log4j2-file.properties"
                f" -Decom.log.file={log_file}"
                if log_file
                else " -Dlog4j2.configurationFile=conf/log4j2.properties"
            )
        ),
        "spark.driver.bindAddress": "127.0.0.1",
        "spark.driver.host": "127.0.0.1",
        "spark.sql.sources.default": "parquet",
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.shuffle.partitions": env("ECOM_SHUFFLE_PARTITIONS", "8"),
        "spark.sql.adaptive.enabled": "true",
        "spark.sql.execution.useObjectHashAggregateExec": "false",
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.hive.metastorePartitionPruningFallbackOnException": "true",
        # Delta Lake (the stream's tables) and the Kafka source, from the jars of `make setup`
        "spark.jars": f"{jvm_packages.jars_dir()}/spark/*.jar",
        **jvm_packages.DELTA_CONF,
        # dbt-spark runs every connection with ANSI mode off; so does everything else here.
        "spark.sql.ansi.enabled": "false",
    }


def local_spark(
    app_name: str = "ecom_analytics",
    extra_conf: dict[str, str] | None = None,
    batch_jit: bool = True,
    log_file: str | None = None,
) -> SparkSession:
    """The embedded SparkSession on `$ECOM_WAREHOUSE_DIR`, with Hive metastore support (and the
    archive of Spark's classes of `ecom jvm-archive`, when this machine has one); `batch_jit`
    and `log_file` as for `local_spark_conf`."""
    from dbt.adapters.sparkoss.class_archive import with_class_archive
    from dbt.adapters.sparkoss.session import expand_local_jars, silence_query_context_logs
    from pyspark.sql import SparkSession

    silence_query_context_logs()
    jvm_packages.jars("spark")  # PackagesError (what to run) when setup has not fetched them
    os.makedirs(warehouse_dir(), exist_ok=True)
    builder = SparkSession.builder.enableHiveSupport()
    conf = with_class_archive(
        expand_local_jars(
            {
                **local_spark_conf(app_name, batch_jit=batch_jit, log_file=log_file),
                **(extra_conf or {}),
            }
        )
    )
    for key, value in conf.items():
        builder = builder.config(key, value)
    return builder.getOrCreate()
