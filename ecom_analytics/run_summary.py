"""What a dbt invocation did, in a few lines a person reads: from target/run_results.json."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class RunSummary:
    models: Counter[str] = field(default_factory=Counter)  # by language: sql / python
    seeds: int = 0
    exposures: int = 0
    tests: Counter[str] = field(default_factory=Counter)  # by status: pass / warn / fail / error
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    python_models: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def lines(self) -> list[str]:
        built = ", ".join(f"{n} {language}" for language, n in sorted(self.models.items()))
        tests = ", ".join(f"{n} {status}" for status, n in sorted(self.tests.items()))
        out = [
            f"models built: {sum(self.models.values())} ({built or 'none'})"
            + (f"; Python models: {', '.join(self.python_models)}" if self.python_models else ""),
            f"seeds loaded: {self.seeds}",
            f"exposures:    {self.exposures} (dashboard pages and jobs reading the tables)",
            f"data tests:   {sum(self.tests.values())} ({tests or 'none'})",
            f"dbt time:     {self.seconds:.0f} s",
        ]
        out += [f"warning: {text}" for text in self.warnings]
        out += [f"problem: {text}" for text in self.problems]
        return out


def summarise(run_results: dict[str, Any], manifest: dict[str, Any]) -> RunSummary:
    """Count what ran by kind, language and status; keep the messages of what did not pass."""
    summary = RunSummary(seconds=float(run_results.get("elapsed_time", 0.0)))
    nodes = manifest.get("nodes", {})
    for result in run_results.get("results", []):
        unique_id: str = result["unique_id"]
        status: str = result["status"]
        node = nodes.get(unique_id, {})
        kind = unique_id.split(".", 1)[0]
        name = node.get("name", unique_id)
        if kind == "model" and status == "success":
            language = node.get("language", "sql")
            summary.models[language] += 1
            if language == "python":
                summary.python_models.append(name)
        elif kind == "seed" and status == "success":
            summary.seeds += 1
        elif kind == "exposure" and status in ("no-op", "success"):
            # dbt build lists exposures, which run nothing: `no-op` is their success
            summary.exposures += 1
            continue
        elif kind in ("test", "unit_test"):
            summary.tests[status] += 1
        if status == "warn":
            summary.warnings.append(f"{name}: {result.get('message') or status}")
        elif status not in ("success", "pass"):
            summary.problems.append(f"{kind} {name}: {status}: {result.get('message') or ''}")
    return summary


def summarise_target(target_path: Path) -> RunSummary:
    """The summary of the last invocation that wrote `target_path`."""
    run_results = json.loads((target_path / "run_results.json").read_text())
    manifest = json.loads((target_path / "manifest.json").read_text())
    return summarise(run_results, manifest)
