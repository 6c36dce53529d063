"""dbt-spark's in-process `session` connection, made safe for seeds and first starts.

* dbt-spark's session wrapper quotes string bindings without escaping them and renders None as
  the string 'None', so a seed row like `7,Xi'an,Northwest` or an empty CSV cell breaks or
  corrupts `dbt seed`. This wrapper renders each binding as a proper literal.
* A local warehouse folder named in the profile is created before Spark starts, so the embedded
  Derby metastore can open its log there instead of printing to the console.
* PySpark 4 logs every SQL error once more as a JSON record on the console; dbt reports the
  error itself, so those records are silenced.
* A statement that fails because the metastore service (`hive.metastore.uris`) stopped
  answering is reported as that, in one line, instead of Hive's Java exception.
"""

from __future__ import annotations

import datetime as dt
import glob
import logging
import os
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from dbt.adapters.spark.session import Connection, SessionConnectionWrapper
from dbt_common.exceptions import DbtRuntimeError
from dbt_common.utils.encoding import DECIMALS

_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
"""A location with a scheme (`hdfs:`, `s3a:`, `file:`): not a local path."""

NUMBERS = (*DECIMALS, int, float)


def sql_literal(value: Any) -> str | float:
    """A Python value as a Spark SQL literal (numbers stay numbers for `%` formatting)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, NUMBERS):
        return float(value)
    if isinstance(value, dt.datetime):
        return f"'{value.strftime('%Y-%m-%d %H:%M:%S.%f')[:-3]}'"
    escaped = str(value).replace("\\", "\\\\").replace("'", "\\'")
    return f"'{escaped}'"


class EscapingSessionConnectionWrapper(SessionConnectionWrapper):
    def __init__(self, handle: Connection, metastore_advice: str = "") -> None:
        super().__init__(handle)
        self.metastore_advice = metastore_advice

    @classmethod
    def _fix_binding(cls, value: Any) -> str | float:
        return sql_literal(value)

    def execute(self, sql: str, bindings: list[Any] | None = None) -> None:
        with self._lost_metastore():
            super().execute(sql, bindings)

    def fetchall(self) -> Any:
        with self._lost_metastore():
            return super().fetchall()

    @contextmanager
    def _lost_metastore(self) -> Iterator[None]:
        """A failure while the metastore service no longer answers: say that, in one line."""
        from dbt.adapters.sparkoss.metastore import (
            MetastoreUnavailable,
            check_metastore,
            metastore_uris,
        )

        try:
            yield
        except Exception:
            parameters = self.handle.server_side_parameters
            if not metastore_uris(parameters):
                raise
            try:
                check_metastore(parameters, self.metastore_advice)
            except MetastoreUnavailable as lost:
                raise DbtRuntimeError(f"Lost the metastore during this statement. {lost}") from None
            raise


_DERBY_LOG = re.compile(r"-Dderby\.stream\.error\.file=(\S+)")


def prepare_local_folders(parameters: Mapping[str, str]) -> None:
    """Create the local folders the session's parameters point at (warehouse, Derby log)."""
    folders = []
    warehouse = parameters.get("spark.sql.warehouse.dir", "")
    if warehouse and not _URI.match(warehouse):
        folders.append(warehouse)
    derby_log = _DERBY_LOG.search(parameters.get("spark.driver.extraJavaOptions", ""))
    if derby_log:
        folders.append(os.path.dirname(derby_log.group(1)))
    for folder in folders:
        if folder:
            os.makedirs(folder, exist_ok=True)


def expand_local_jars(parameters: Mapping[str, str]) -> dict[str, str]:
    """`parameters` with the local entries of `spark.jars` expanded and also put on the driver's
    class path. SparkContext fails to add a literal glob (an ERROR in every run); and classes of
    jars added at run time are lost to threads that py4j, dbt or the Thrift server start once a
    session's artifacts are cleaned up, while the driver's class path serves every thread. An
    entry that matches no file stops here, before the JVM starts."""
    from dbt_common.exceptions import DbtRuntimeError

    jars = []
    for entry in filter(
        None, (item.strip() for item in parameters.get("spark.jars", "").split(","))
    ):
        if _URI.match(entry) or not any(char in entry for char in "*?["):
            jars.append(entry)
            continue
        found = sorted(glob.glob(entry))
        if not found:
            raise DbtRuntimeError(
                f"spark.jars names {entry}, which matches no file: fetch the jars first "
                "(in ecom_analytics: `make setup`, or `.venv/bin/ecom jars`)"
            )
        jars.extend(found)
    if not jars:
        return dict(parameters)
    class_path = [
        entry
        for entry in parameters.get("spark.driver.extraClassPath", "").split(os.pathsep)
        if entry
    ]
    class_path += [jar for jar in jars if not _URI.match(jar) and jar not in class_path]
    expanded = {**parameters, "spark.jars": ",".join(jars)}
    if class_path:
        expanded["spark.driver.extraClassPath"] = os.pathsep.join(class_path)
    return expanded


QUERY_CONTEXT_LOGGERS = ("SQLQueryContextLogger", "DataFrameQueryContextLogger")


def silence_query_context_logs() -> None:
    """Stop PySpark from printing each SQL error as a JSON record (the error is raised anyway)."""
    from pyspark.logger import PySparkLogger

    for name in QUERY_CONTEXT_LOGGERS:
        PySparkLogger.getLogger(name).setLevel(logging.CRITICAL)
