"""dbt-spark's in-process `session` connection, with bindings rendered as valid Spark SQL.

dbt-spark's session wrapper quotes string bindings without escaping them and renders None as
the string 'None', so a seed row like `7,Xi'an,Northwest` or an empty CSV cell breaks or corrupts
`dbt seed`. This wrapper renders each binding as a proper literal.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from dbt.adapters.spark.session import SessionConnectionWrapper
from dbt_common.utils.encoding import DECIMALS

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
