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

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

DEFAULT_WAREHOUSE_DIR = ".warehouse"


def warehouse_dir() -> str:
    """`$ECOM_WAREHOUSE_DIR`, default `.warehouse` (relative to the working directory)."""
    return os.environ.get("ECOM_WAREHOUSE_DIR", DEFAULT_WAREHOUSE_DIR)


def local_spark_conf(
    app_name: str = "ecom_analytics", warehouse: str | None = None
) -> dict[str, str]:
    """Spark settings of the `local` target, as profiles.yml renders them from the environment.

    `warehouse` replaces `$ECOM_WAREHOUSE_DIR` as the root of the metastore, the table data and
    the Derby log (the Thrift server of `ecom thrift` keeps its own there).
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
            f" -Dderby.stream.error.file={warehouse}/derby.log"
            " -Dlog4j2.configurationFile=conf/log4j2.properties"
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
        # dbt-spark runs every connection with ANSI mode off; so does everything else here.
        "spark.sql.ansi.enabled": "false",
    }


def local_spark(
    app_name: str = "ecom_analytics", extra_conf: dict[str, str] | None = None
) -> SparkSession:
    """The embedded SparkSession on `$ECOM_WAREHOUSE_DIR`, with Hive metastore support (and the
    archive of Spark's classes of `ecom jvm-archive`, when this machine has one)."""
    from dbt.adapters.sparkoss.class_archive import with_class_archive
    from dbt.adapters.sparkoss.session import silence_query_context_logs
    from pyspark.sql import SparkSession

    silence_query_context_logs()
    os.makedirs(warehouse_dir(), exist_ok=True)
    builder = SparkSession.builder.enableHiveSupport()
    conf = with_class_archive({**local_spark_conf(app_name), **(extra_conf or {})})
    for key, value in conf.items():
        builder = builder.config(key, value)
    return builder.getOrCreate()
