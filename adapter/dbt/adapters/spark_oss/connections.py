"""Credentials and connection manager of the `spark_oss` adapter type.

They are dbt-spark's own, under a new type name: every connection method of dbt-spark
(`session`, `thrift`, `http`, `odbc`) works unchanged. The extra fields only concern where
Python models run (see `python_submissions.py`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from dbt.adapters.spark.connections import (
    SparkConnectionManager,
    SparkConnectionMethod,
    SparkCredentials,
)

ADAPTER_TYPE = "spark_oss"


@dataclass
class SparkOssCredentials(SparkCredentials):
    # Spark Connect address of the application behind a `thrift` target, e.g.
    # `sc://spark-master:15002`; derived from `host` when left empty.
    connect_url: Optional[str] = None
    connect_port: int = 15002

    @property
    def type(self) -> str:
        return ADAPTER_TYPE

    @property
    def is_session(self) -> bool:
        return self.method == SparkConnectionMethod.SESSION

    def _connection_keys(self) -> tuple[str, ...]:
        return (*super()._connection_keys(), "method", "connect_url")


class SparkOssConnectionManager(SparkConnectionManager):
    TYPE = ADAPTER_TYPE
