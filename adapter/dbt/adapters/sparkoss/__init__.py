"""dbt-spark-oss: dbt-spark whose Python models run on open-source Apache Spark.

dbt-spark only submits Python models to Databricks. This plugin keeps every `spark__` macro
and connection method of dbt-spark (it declares `spark` as its parent) and adds submission
routes that run the compiled model on the Spark of the target itself.
"""

from dbt.adapters.base import AdapterPlugin
from dbt.adapters.sparkoss.connections import SparkossConnectionManager, SparkossCredentials
from dbt.adapters.sparkoss.impl import SparkossAdapter
from dbt.include import sparkoss

__all__ = ["Plugin", "SparkossAdapter", "SparkossConnectionManager", "SparkossCredentials"]

Plugin = AdapterPlugin(
    adapter=SparkossAdapter,  # type: ignore[arg-type]
    credentials=SparkossCredentials,
    include_path=sparkoss.PACKAGE_PATH,
    dependencies=["spark"],
)
