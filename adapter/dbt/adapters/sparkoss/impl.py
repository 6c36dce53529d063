"""The `sparkoss` adapter: dbt-spark with Python models on open-source Spark."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dbt.adapters.base import PythonJobHelper, available
from dbt.adapters.contracts.connection import AdapterResponse
from dbt.adapters.spark.impl import SparkAdapter
from dbt.adapters.sparkoss.cli_vars import cli_var_problem, declared_vars
from dbt.adapters.sparkoss.connections import SparkossConnectionManager
from dbt.adapters.sparkoss.paths import local_path_missing, qualify_path
from dbt.adapters.sparkoss.python_submissions import (
    SUBMISSION_ROUTES,
    default_route_for,
)
from dbt.adapters.sparkoss.raw_files import check_raw_dataset


class SparkossAdapter(SparkAdapter):
    ConnectionManager = SparkossConnectionManager

    @property
    def default_python_submission_method(self) -> str:
        # Tied to the profile's method: a `session` target runs Python models in-process, a
        # `thrift` target on the server's application. Never let a thrift target fall back to
        # a private local Spark (it would write to a metastore no one else sees).
        return default_route_for(self.connections.profile.credentials)

    @property
    def python_submission_helpers(self) -> dict[str, type[PythonJobHelper]]:
        return {**super().python_submission_helpers, **SUBMISSION_ROUTES}

    @available
    def qualified_path(self, path: str) -> str:
        """`path` as the metastore should record it (see `paths.qualify_path`)."""
        return qualify_path(path, self.config.project_root)

    @available
    def local_path_missing(self, path: str) -> bool:
        """True when `path` is a local path that does not exist (URIs are left to Spark)."""
        return local_path_missing(path)

    @available
    def raw_dataset_check(
        self, dataset: str, location: str, declared: dict[str, str], max_bad_share: float
    ) -> dict[str, Any]:
        """A local raw folder checked before Spark reads it (see `raw_files`): `read_from`
        (the folder or a mirror of its good files under the target path), `problem` (a line
        that stops the run, or None), `skipped` (bad files, each `file_path` and `reason`) and
        `skipped_line` (a line that says so, or None)."""
        mirror = Path(self.config.project_target_path) / "raw_mirror" / dataset
        check = check_raw_dataset(dataset, location, declared, max_bad_share, mirror)
        return {
            "read_from": check.read_from,
            "problem": check.problem,
            "skipped": [
                {"file_path": str(bad.path), "reason": bad.reason} for bad in check.skipped
            ],
            "skipped_line": check.skipped_line(dataset) if check.skipped else None,
        }

    @available
    def cli_var_problem(self) -> str | None:
        """One line on an unknown or templated `--vars` entry (see `cli_vars`), else None."""
        declared = declared_vars(self.config.vars.vars, self.config.project_name)
        return cli_var_problem(self.config.cli_vars, declared)

    def generate_python_submission_response(self, submission_result: Any) -> AdapterResponse:
        return AdapterResponse(_message=str(submission_result or "OK"))
