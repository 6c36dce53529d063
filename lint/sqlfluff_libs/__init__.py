"""Lint-only stand-ins for the dbt context that sqlfluff's jinja templater lacks.

sqlfluff (`library_path` in .sqlfluff) puts every public name of this package into the jinja
context of each file it lints. They let the project's models, macros and tests render without
dbt or Spark: `var` gives dbt_project.yml's defaults, `adapter.dispatch` the project's `spark__`
(else `default__`) macro, and the rest harmless values (no query runs, no error is raised).
Nothing here is used by dbt itself.
"""

from __future__ import annotations

import datetime as _datetime
import itertools as _itertools
import json as _json
import os as _os
import re as _re
from pathlib import Path as _Path
from types import SimpleNamespace as _Namespace
from typing import Any as _Any

import yaml as _yaml
from jinja2 import pass_context as _pass_context
from jinja2.runtime import Context as _Context
from jinja2.runtime import Macro as _Macro
from sqlfluff.core.templaters.builtins.dbt import MacroReturn as _MacroReturn

_PROJECT = _yaml.safe_load(
    (_Path(__file__).resolve().parents[2] / "dbt_project.yml").read_text(encoding="utf-8")
)
_DISPATCH_PREFIXES = ("spark__", "default__")
_invoke_macro = _Macro._invoke


def _invoke_returning(self: _Macro, arguments: list[_Any], autoescape: bool) -> _Any:
    """A macro call ends at its own `return(...)`, as in dbt.

    sqlfluff's `return` raises an exception that it catches only around macros called from a
    model, so a `return` inside a macro called by another macro of the same file would end the
    outer macro too. Every macro call catches its own, like dbt's.
    """
    try:
        return _invoke_macro(self, arguments, autoescape)
    except _MacroReturn as returned:
        return returned.value


_Macro._invoke = _invoke_returning  # type: ignore[method-assign]


def var(name: str, default: _Any = None) -> _Any:
    """dbt's `var`: the project's default when it has one, else the call's default."""
    value = (_PROJECT.get("vars") or {}).get(name)
    return default if value is None else value


def env_var(name: str, default: str = "") -> str:
    """dbt's `env_var`: the environment's value, else the default."""
    return _os.environ.get(name, default)


class _Adapter:
    """`adapter`: dispatch to the project's Spark macros; nothing touches a database."""

    @staticmethod
    @_pass_context
    def dispatch(context: _Context, macro_name: str, macro_namespace: str | None = None) -> _Any:
        for prefix in _DISPATCH_PREFIXES:
            macro = context.get(prefix + macro_name)
            if macro is not None:
                return macro
        raise LookupError(f"lint: no spark__ or default__ implementation of {macro_name}")

    @staticmethod
    def type() -> str:
        return "spark"

    @staticmethod
    def qualified_path(path: str) -> str:
        return path

    @staticmethod
    def local_path_missing(path: str) -> bool:
        return False

    @staticmethod
    def get_columns_in_relation(relation: _Any) -> list[_Any]:
        return []

    @staticmethod
    def cli_var_problem() -> None:
        return None

    @staticmethod
    def raw_dataset_check(
        dataset: str, location: str, declared: dict[str, str], max_bad_share: float
    ) -> dict[str, _Any]:
        return {"read_from": location, "problem": None, "skipped": [], "skipped_line": None}


def _raise_compiler_error(message: str) -> str:
    """Linting checks the layout of every branch; it does not stop at a compile error."""
    return ""


def _nothing(*args: _Any, **kwargs: _Any) -> str:
    return ""


def _relation(**parts: _Any) -> str:
    return ".".join(str(parts[key]) for key in ("schema", "identifier") if parts.get(key))


adapter = _Adapter()
modules = _Namespace(re=_re, datetime=_datetime, itertools=_itertools)
exceptions = _Namespace(raise_compiler_error=_raise_compiler_error, warn=_nothing)
log = _nothing


def run_query(sql: str) -> _Any:
    """dbt's `run_query`: an empty one-column result (`.columns[0].values()` is `[None]`)."""
    return _Namespace(columns=[_Namespace(values=lambda: [None])], rows=[])


execute = True
graph = {"nodes": {}, "sources": {}, "macros": {}}
target = _Namespace(name="local", schema="ecom", type="sparkoss", threads=4)
model = _Namespace(name="linted_model", resource_type="model", config={})
api = _Namespace(Relation=_Namespace(create=_relation))
fromjson = _json.loads
tojson = _json.dumps
