"""dbt-spark-oss: dbt-spark whose Python models run on open-source Apache Spark.

dbt-spark only submits Python models to Databricks. This plugin keeps every `spark__` macro
and connection method of dbt-spark (it declares `spark` as its parent) and adds submission
routes that run the compiled model on the Spark of the target itself.
"""

from dbt.adapters.base import AdapterPlugin

from dbt.adapters.spark_oss.connections import SparkOssConnectionManager, SparkOssCredentials
from dbt.adapters.spark_oss.impl import SparkOssAdapter
from dbt.include import spark_oss

__all__ = ["Plugin", "SparkOssAdapter", "SparkOssConnectionManager", "SparkOssCredentials"]

Plugin = AdapterPlugin(
    adapter=SparkOssAdapter,  # type: ignore[arg-type]
    credentials=SparkOssCredentials,
    include_path=spark_oss.PACKAGE_PATH,
    dependencies=["spark"],
)
