"""The `--vars` of a command checked against the variables the project declares.

dbt accepts any key in `--vars` and renders Jinja inside their values, so a misspelled filter
(`sexx: female`) is silently ignored and `task_id: "{{ 7*7 }}"` becomes `49`. A project whose
variables are data, not templates, refuses both before anything runs.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from typing import Any

_JINJA = re.compile(r"\{\{|\{%|\{#")


def declared_vars(project_vars: Mapping[str, Any], project_name: str) -> set[str]:
    """The variable names of `dbt_project.yml`'s `vars:`, global or scoped to the project."""
    names = {name for name, value in project_vars.items() if name != project_name}
    scoped = project_vars.get(project_name)
    if isinstance(scoped, Mapping):
        names |= set(scoped)
    return names


def _holds_jinja(value: Any) -> bool:
    if isinstance(value, str):
        return bool(_JINJA.search(value))
    if isinstance(value, Mapping):
        return any(_holds_jinja(item) for item in value.values())
    if isinstance(value, (list, tuple)):
        return any(_holds_jinja(item) for item in value)
    return False


def cli_var_problem(cli_vars: Mapping[str, Any], declared: Iterable[str]) -> str | None:
    """One line on the first unknown or templated `--vars` entry, or None when all are fine."""
    known = sorted(declared)
    for name in sorted(cli_vars, key=str):
        if name not in known:
            close = difflib.get_close_matches(str(name), known, n=1, cutoff=0.6)
            hint = f"; did you mean `{close[0]}`?" if close else "."
            return (
                f"Unknown variable `{name}` in --vars{hint} The project's variables are the"
                f" `vars:` of dbt_project.yml ({', '.join(known)})."
            )
    for name in sorted(cli_vars, key=str):
        if _holds_jinja(cli_vars[name]):
            return (
                f"Variable `{name}` in --vars holds Jinja ({cli_vars[name]!r}), which dbt would"
                " render before the project sees it; give the value itself."
            )
    return None
