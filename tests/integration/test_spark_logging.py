"""The JVM's log settings (conf/log4j2.properties) reach the embedded Spark: warnings stay on,
the known harmless ones are off."""

from __future__ import annotations

from typing import Any


def _level(spark: Any, logger: str) -> str:
    log_manager = spark._jvm.org.apache.logging.log4j.LogManager
    return str(log_manager.getLogger(logger).getLevel().toString())


def test_spark_warns_but_not_about_a_global_rank(spark: Any) -> None:
    # Any other part of Spark still warns...
    assert _level(spark, "org.apache.spark.sql.execution.SparkPlan") == "WARN"
    # ...but not about int_categories_ranked's window over all rows, 35 times a build.
    assert _level(spark, "org.apache.spark.sql.execution.window.WindowExec") == "ERROR"
