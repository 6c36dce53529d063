"""Runs dbt in this process against a test schema, and reads what it built."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any


@contextmanager
def environment(**values: str) -> Iterator[None]:
    """Set environment variables for the duration of the block, then restore them."""
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, old in saved.items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old


@dataclass
class DbtInvocation:
    success: bool
    exception: BaseException | None
    results: list[Any]
    messages: list[str]
    # every statement dbt sent, as (connection name, e.g. `model.ecom_analytics.<model>`, SQL)
    queries: list[tuple[str, str]] = field(default_factory=list)

    def statuses(self) -> dict[str, str]:
        """Node name -> status (`success`, `pass`, `warn`, `error`, `fail`, `skipped`)."""
        return {result.node.name: str(result.status) for result in self.results}

    def failures(self) -> list[str]:
        return [
            f"{result.node.name}: {result.status}: {result.message}"
            for result in self.results
            if str(result.status) in ("error", "fail", "skipped", "runtime error")
        ]

    def text(self) -> str:
        return "\n".join(self.messages) + ("\n" + str(self.exception) if self.exception else "")


@dataclass
class DbtProject:
    project_dir: Path
    raw_dir: Path
    schema: str
    target_path: Path
    # the repository's profiles.yml, also for scratch projects that borrow its profile
    profiles_dir: Path = Path(__file__).resolve().parents[1]
    env: dict[str, str] = field(default_factory=dict)

    def invoke(self, *args: str, vars: Mapping[str, Any] | None = None) -> DbtInvocation:
        from dbt.cli.main import dbtRunner

        messages: list[str] = []
        queries: list[tuple[str, str]] = []

        def collect(event: Any) -> None:
            if event.info.level in ("info", "warn", "error"):
                messages.append(event.info.msg)
            elif event.info.name == "SQLQuery":
                queries.append((event.data.conn_name, event.data.sql))

        argv = [
            *args,
            "--project-dir",
            str(self.project_dir),
            "--profiles-dir",
            str(self.profiles_dir),
            "--target-path",
            str(self.target_path),
        ]
        if vars:
            argv += ["--vars", json.dumps(dict(vars))]
        with environment(ECOM_RAW_DIR=str(self.raw_dir), ECOM_SCHEMA=self.schema, **self.env):
            outcome = dbtRunner(callbacks=[collect]).invoke(argv)
        results = list(getattr(outcome.result, "results", None) or [])
        return DbtInvocation(outcome.success, outcome.exception, results, messages, queries)

    def build(self, *args: str, vars: Mapping[str, Any] | None = None) -> DbtInvocation:
        """`dbt build`, failing the test with dbt's own messages when anything fails."""
        invocation = self.invoke("build", *args, vars=vars)
        assert invocation.success, "dbt build failed:\n" + "\n".join(
            invocation.failures() or [invocation.text()[-4000:]]
        )
        return invocation

    def relation(self, name: str) -> str:
        return f"{self.schema}.{name}"

    def beside(self, name: str) -> DbtProject:
        """The same project and raw data in a fresh schema `<schema>_<name>`, with its own
        target path `<target>-<name>` next to this one's."""
        return replace(
            self,
            schema=f"{self.schema}_{name}",
            target_path=self.target_path.with_name(f"{self.target_path.name}-{name}"),
        )
