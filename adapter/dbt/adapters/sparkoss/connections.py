"""Credentials and connection manager of the `sparkoss` adapter type.

They are dbt-spark's own, under a new type name: every connection method of dbt-spark
(`session`, `thrift`, `http`, `odbc`) works unchanged. The extra fields only concern where
Python models run (see `python_submissions.py`). Two additions for profiles that read
everything from environment variables: an empty optional field (`auth`, `password`,
`kerberos_service_name`, `connect_url`) counts as unset, and a thrift target's authentication
settings are checked up front with a message saying what each mode needs.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from dbt.adapters.contracts.connection import Connection
from dbt.adapters.spark.connections import (
    SparkConnectionManager,
    SparkConnectionMethod,
    SparkCredentials,
)
from dbt_common.exceptions import DbtRuntimeError

ADAPTER_TYPE = "sparkoss"


# Fields a profile may fill from an unset environment variable: empty means "not set".
_OPTIONAL_FIELDS = ("auth", "password", "kerberos_service_name", "connect_url")
THRIFT_AUTH_MODES = ("NONE", "NOSASL", "LDAP", "CUSTOM", "KERBEROS")


def check_thrift_auth(auth: str | None, password: str | None, kerberos_service: str | None) -> None:
    """The `auth` of a thrift target, with what each mode needs; one clear error otherwise.

    PyHive sends a password only in LDAP and CUSTOM modes and a Kerberos service name only in
    KERBEROS mode, and rejects any other combination with a terse ValueError.
    """
    mode = auth or "NONE"
    if mode not in THRIFT_AUTH_MODES:
        raise DbtRuntimeError(
            f"auth '{auth}' is not one of {', '.join(THRIFT_AUTH_MODES)} (leave it empty for the "
            "server's default, NONE)"
        )
    if mode in ("LDAP", "CUSTOM") and password is None:
        raise DbtRuntimeError(f"auth {mode} needs a password; set the profile's `password`")
    if mode not in ("LDAP", "CUSTOM") and password is not None:
        raise DbtRuntimeError(
            f"a password is set but auth is {mode}; passwords go with auth LDAP or CUSTOM only"
        )
    if mode == "KERBEROS" and kerberos_service is None:
        raise DbtRuntimeError(
            "auth KERBEROS needs kerberos_service_name (the server principal's first part, "
            "usually `hive`)"
        )
    if mode != "KERBEROS" and kerberos_service is not None:
        raise DbtRuntimeError(
            f"kerberos_service_name is set but auth is {mode}; it goes with auth KERBEROS only"
        )


def check_kerberos_client() -> None:
    """PyHive's Kerberos (GSSAPI) needs the `kerberos` package, not installed by default."""
    if not any(importlib.util.find_spec(name) for name in ("kerberos", "winkerberos")):
        raise DbtRuntimeError(
            "auth KERBEROS needs the `kerberos` Python package: pip install kerberos (it builds "
            "against the system's Kerberos headers, e.g. the libkrb5-dev package), then get a "
            "ticket with kinit before running dbt"
        )


@dataclass
class SparkossCredentials(SparkCredentials):
    # Spark Connect address of the application behind a `thrift` target, e.g.
    # `sc://spark-master:15002`; derived from `host` and `connect_port` when left empty.
    connect_url: str | None = None
    connect_port: int = 15002

    def __post_init__(self) -> None:
        for name in _OPTIONAL_FIELDS:
            if not getattr(self, name):
                setattr(self, name, None)
        if self.auth:
            self.auth = self.auth.upper()
        super().__post_init__()
        if self.method == SparkConnectionMethod.THRIFT:
            check_thrift_auth(self.auth, self.password, self.kerberos_service_name)
            if self.auth == "KERBEROS":
                check_kerberos_client()

    @property
    def type(self) -> str:
        return ADAPTER_TYPE

    @property
    def is_session(self) -> bool:
        return self.method == SparkConnectionMethod.SESSION

    @property
    def spark_connect_url(self) -> str:
        """Where the `connect` route runs Python models (see `connect.connect_url_for`)."""
        from dbt.adapters.sparkoss.connect import connect_url_for

        return connect_url_for(
            self.host or "", self.connect_port, self.connect_url, self.use_ssl, self.user
        )

    def _connection_keys(self) -> tuple[str, ...]:
        return (*super()._connection_keys(), "method", "connect_url")

    def connection_info(self, *, with_aliases: bool = False) -> Iterator[tuple[str, Any]]:
        """What `dbt debug` prints, with a Spark Connect token masked."""
        from dbt.adapters.sparkoss.connect import redact

        for key, value in super().connection_info(with_aliases=with_aliases):
            yield key, redact(value) if key == "connect_url" and value else value


class SparkossConnectionManager(SparkConnectionManager):
    TYPE = ADAPTER_TYPE

    @classmethod
    def open(cls, connection: Connection) -> Connection:
        if connection.credentials.method == SparkConnectionMethod.SESSION:
            from dbt.adapters.sparkoss.class_archive import with_class_archive
            from dbt.adapters.sparkoss.session import (
                check_metastore_free,
                expand_local_jars,
                prepare_local_folders,
                silence_query_context_logs,
            )

            parameters = connection.credentials.server_side_parameters
            check_metastore_free(parameters)
            parameters.update(expand_local_jars(parameters))
            prepare_local_folders(parameters)
            silence_query_context_logs()
            # the JVM starts from the archive of Spark's classes when this machine has one
            parameters.update(with_class_archive(parameters))
        connection = super().open(connection)
        if connection.credentials.method == SparkConnectionMethod.SESSION:
            from dbt.adapters.sparkoss.session import EscapingSessionConnectionWrapper

            connection.handle = EscapingSessionConnectionWrapper(connection.handle.handle)
        return connection
