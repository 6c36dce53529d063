"""dbt-spark's in-process `session` connection, made safe for seeds and first starts.

* dbt-spark's session wrapper quotes string bindings without escaping them and renders None as
  the string 'None', so a seed row like `7,Xi'an,Northwest` or an empty CSV cell breaks or
  corrupts `dbt seed`. This wrapper renders each binding as a proper literal.
* A local warehouse folder named in the profile is created before Spark starts, so the embedded
  Derby metastore can open its log there instead of printing to the console.
* Another program holding the embedded Derby metastore stops the connection at once with one
  line, instead of Derby's and Hive's stack traces after half a minute.
* PySpark 4 logs every SQL error once more as a JSON record on the console; dbt reports the
  error itself, so those records are silenced.
"""

from __future__ import annotations

import datetime as dt
import glob
import logging
import os
import re
from collections.abc import Mapping
from typing import Any

from dbt.adapters.spark.session import SessionConnectionWrapper
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
    @classmethod
    def _fix_binding(cls, value: Any) -> str | float:
        return sql_literal(value)


_DERBY_LOG = re.compile(r"-Dderby\.stream\.error\.file=(\S+)")


def check_metastore_free(parameters: Mapping[str, str]) -> None:
    """One line, before the JVM starts, when another program has the embedded Derby metastore
    of the session's parameters open (Derby admits one program at a time)."""
    from dbt.adapters.sparkoss import derby_lock

    database = derby_lock.database_of(
        parameters.get("spark.hadoop.javax.jdo.option.ConnectionURL", "")
    )
    if database is None:
        return
    pid = derby_lock.holder(database)
    if pid is not None:
        raise DbtRuntimeError(derby_lock.held_message(str(database.parent), pid))


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
