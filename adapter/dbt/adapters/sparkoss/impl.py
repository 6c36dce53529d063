"""The `sparkoss` adapter: dbt-spark with Python models on open-source Spark."""

from __future__ import annotations

from typing import Any

from dbt.adapters.base import PythonJobHelper
from dbt.adapters.contracts.connection import AdapterResponse
from dbt.adapters.spark.impl import SparkAdapter

from dbt.adapters.sparkoss.connections import SparkossConnectionManager
from dbt.adapters.sparkoss.python_submissions import (
    SUBMISSION_ROUTES,
    default_route_for,
)


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

    def generate_python_submission_response(self, submission_result: Any) -> AdapterResponse:
        return AdapterResponse(_message=str(submission_result or "OK"))
