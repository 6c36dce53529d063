"""Credentials and connection manager of the `sparkoss` adapter type.

They are dbt-spark's own, under a new type name: every connection method of dbt-spark
(`session`, `thrift`, `http`, `odbc`) works unchanged. The extra fields only concern where
Python models run (see `python_submissions.py`).
"""

from __future__ import annotations

from dataclasses import dataclass

from dbt.adapters.contracts.connection import Connection
from dbt.adapters.spark.connections import (
    SparkConnectionManager,
    SparkConnectionMethod,
    SparkCredentials,
)

ADAPTER_TYPE = "sparkoss"


@dataclass
class SparkossCredentials(SparkCredentials):
    # Spark Connect address of the application behind a `thrift` target, e.g.
    # `sc://spark-master:15002`; derived from `host` when left empty.
    connect_url: str | None = None
    connect_port: int = 15002

    @property
    def type(self) -> str:
        return ADAPTER_TYPE

    @property
    def is_session(self) -> bool:
        return self.method == SparkConnectionMethod.SESSION

    def _connection_keys(self) -> tuple[str, ...]:
        return (*super()._connection_keys(), "method", "connect_url")


class SparkossConnectionManager(SparkConnectionManager):
    TYPE = ADAPTER_TYPE

    @classmethod
    def open(cls, connection: Connection) -> Connection:
        if connection.credentials.method == SparkConnectionMethod.SESSION:
            from dbt.adapters.sparkoss.session import (
                prepare_local_folders,
                silence_query_context_logs,
            )

            prepare_local_folders(connection.credentials.server_side_parameters)
            silence_query_context_logs()
        connection = super().open(connection)
        if connection.credentials.method == SparkConnectionMethod.SESSION:
            from dbt.adapters.sparkoss.session import EscapingSessionConnectionWrapper

            connection.handle = EscapingSessionConnectionWrapper(connection.handle.handle)
        return connection
