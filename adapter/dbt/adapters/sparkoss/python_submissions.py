"""Submission routes for dbt Python models on open-source Spark.

dbt compiles a Python model into a script that expects a global `spark` (a SparkSession),
defines `model(dbt, session)`, calls it and writes the DataFrame it returns (see the
`py_write_table` macro of this package). A route decides which SparkSession that is:

* `session`: the in-process SparkSession of dbt-spark's `session` method, so SQL and Python
  models share one Spark application and one metastore.
* `connect`: a Spark Connect session on the application behind a `thrift` target (the Thrift
  server with Spark's `SparkConnectPlugin`), so the model runs on the server, next to the SQL
  models, never in the dbt process. See `connect.py`.

A target's connection method picks its default route (`default_route_for`); a model can still
choose one with `config(submission_method=...)`.
"""

from __future__ import annotations

import traceback
from collections.abc import Mapping
from typing import Any

from dbt.adapters.base import PythonJobHelper
from dbt.adapters.sparkoss.connect import connect_mode_active, connect_session
from dbt.adapters.sparkoss.connections import SparkossCredentials
from dbt_common.exceptions import DbtRuntimeError

# Databricks-only configs of dbt-spark's Python models. On open-source Spark they would be
# silently ignored, so a model that sets one fails with an explanation instead.
DATABRICKS_ONLY_CONFIGS: Mapping[str, str] = {
    "packages": "install the packages into the environment that runs dbt",
    "index_url": "install the packages into the environment that runs dbt",
    "additional_libs": "install the packages into the environment that runs dbt",
    "cluster_id": "the target's Spark application runs the model",
    "job_cluster_config": "the target's Spark application runs the model",
    "python_job_config": "the target's Spark application runs the model",
    "create_notebook": "models run as plain Python, not as notebooks",
    "user_folder_for_python": "models run as plain Python, not as notebooks",
    "access_control_list": "use the grants of your Spark catalog",
    "notebook_access_control_list": "use the grants of your Spark catalog",
    "timeout": "limit run time with Spark's own settings (e.g. spark.sql.broadcastTimeout)",
}

MODEL_FILENAME = "<dbt python model {name}>"


def check_supported_config(model_name: str, config: Mapping[str, Any]) -> None:
    """Fail on Databricks-only configs, naming the config and what to do instead."""
    for key, instead in DATABRICKS_ONLY_CONFIGS.items():
        if config.get(key):
            raise DbtRuntimeError(
                f"Python model '{model_name}' sets `{key}`, which only Databricks supports; "
                f"on open-source Spark {instead}."
            )


def strip_leading_indent(compiled_code: str) -> str:
    """Drop the indentation dbt-spark's materialization macros put before the first line.

    Blank lines stay (as empty lines), so line numbers still match `target/run/...`.
    """
    lines = compiled_code.split("\n")
    for index, line in enumerate(lines):
        lines[index] = line.lstrip()
        if line.strip():
            break
    return "\n".join(lines)


def run_compiled_model(compiled_code: str, spark: Any, model_name: str) -> None:
    """Execute a compiled Python model with `spark` bound as the script expects.

    An error inside the model is re-raised as a DbtRuntimeError that names the model and the
    failing line of its code, rather than a traceback through this package.
    """
    filename = MODEL_FILENAME.format(name=model_name)
    compiled_code = strip_leading_indent(compiled_code)
    code = compile(compiled_code, filename, "exec")
    try:
        exec(code, {"spark": spark, "__name__": f"dbt_model_{model_name}"})
    except Exception as exc:
        raise DbtRuntimeError(
            describe_model_error(exc, compiled_code, filename, model_name)
        ) from exc


def describe_model_error(
    exc: BaseException, compiled_code: str, filename: str, model_name: str
) -> str:
    """One readable message: the error, and the deepest line of the model's code it came from."""
    lines = compiled_code.splitlines()
    model_frames = [
        frame for frame in traceback.extract_tb(exc.__traceback__) if frame.filename == filename
    ]
    where = ""
    if model_frames and model_frames[-1].lineno:
        lineno = model_frames[-1].lineno
        source = lines[lineno - 1].strip() if 0 < lineno <= len(lines) else ""
        where = f" (compiled line {lineno}: `{source}`)"
    message = str(exc).strip() or exc.__class__.__name__
    return f"Python model '{model_name}' failed{where}: {exc.__class__.__name__}: {message}"


def local_session(credentials: SparkossCredentials) -> Any:
    """The SparkSession of dbt-spark's `session` method, built from the same parameters."""
    from pyspark.sql import SparkSession

    if connect_mode_active():
        raise DbtRuntimeError(
            "Cannot run a Python model on the in-process Spark: pyspark in this process is in "
            "Spark Connect mode (a `thrift` target ran here, or SPARK_REMOTE is set). Run the "
            "`session` target in a dbt process of its own, without SPARK_REMOTE."
        )

    builder = SparkSession.builder.enableHiveSupport()
    for key, value in credentials.server_side_parameters.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    # dbt runs the model on a thread of its own, where the JVM knows no active session; some
    # analyzer rules then read default settings (with a custom session catalog such as Delta's,
    # a parquet `saveAsTable` turned into an unsupported REPLACE TABLE AS SELECT)
    session._jvm.org.apache.spark.sql.SparkSession.setActiveSession(session._jsparkSession)
    return session


class _RouteHelper(PythonJobHelper):
    """Shared part of the routes: model identity and config checks."""

    route = ""

    def __init__(self, parsed_model: dict, credentials: SparkossCredentials) -> None:
        self.model_name: str = parsed_model["alias"]
        self.credentials = credentials
        check_supported_config(self.model_name, parsed_model["config"])

    def spark(self) -> Any:
        raise NotImplementedError

    def submit(self, compiled_code: str) -> str:
        run_compiled_model(compiled_code, self.spark(), self.model_name)
        return f"OK ({self.route})"


class SessionPythonJobHelper(_RouteHelper):
    """Runs the model in the dbt process, on the target's in-process SparkSession."""

    route = "session"

    def __init__(self, parsed_model: dict, credentials: SparkossCredentials) -> None:
        super().__init__(parsed_model, credentials)
        if not credentials.is_session:
            raise DbtRuntimeError(
                f"Python model '{self.model_name}' asks for submission_method 'session', but the "
                f"target uses method '{credentials.method}': an in-process Spark would write to "
                "its own metastore, not the target's. Remove `submission_method` from the model."
            )

    def spark(self) -> Any:
        return local_session(self.credentials)


class ConnectPythonJobHelper(_RouteHelper):
    """Runs the model on the `thrift` target's Spark application, through Spark Connect."""

    route = "connect"

    def __init__(self, parsed_model: dict, credentials: SparkossCredentials) -> None:
        super().__init__(parsed_model, credentials)
        if credentials.method != "thrift":
            raise DbtRuntimeError(
                f"Python model '{self.model_name}' asks for submission_method 'connect', but the "
                f"target uses method '{credentials.method}': Spark Connect runs the model on the "
                "application behind a `thrift` target. Remove `submission_method` from the model."
            )

    def spark(self) -> Any:
        return connect_session(
            self.credentials.spark_connect_url, self.credentials.server_side_parameters
        )


SUBMISSION_ROUTES: dict[str, type[PythonJobHelper]] = {
    "session": SessionPythonJobHelper,
    "connect": ConnectPythonJobHelper,
}

# The route each connection method uses unless a model chooses one.
DEFAULT_ROUTES: Mapping[str, str] = {
    "session": "session",
    "thrift": "connect",
}


def default_route_for(credentials: SparkossCredentials) -> str:
    method = str(credentials.method)
    route = DEFAULT_ROUTES.get(method)
    if route is None:
        raise DbtRuntimeError(
            f"Python models are not supported on method '{method}' yet; supported methods: "
            f"{', '.join(sorted(DEFAULT_ROUTES))}."
        )
    return route
