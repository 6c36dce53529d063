"""Lint in the test command: sqlfluff over the SQL, ruff over the Python (the house style).

Each linter runs as `make lint` runs it (a subprocess: the sqlfluff stand-ins of
lint/sqlfluff_libs stay out of this process), and a failure shows the findings.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
SQL_PATHS = ["models", "macros", "tests"]


def run(*command: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / command[0]), *command[1:]],
        cwd=ROOT,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_sqlfluff_finds_nothing_in_models_macros_and_tests() -> None:
    result = run("sqlfluff", "lint", *SQL_PATHS, "--processes", "2", "--nocolor")
    assert result.returncode == 0, result.stdout[-8000:] + result.stderr[-2000:]


def test_sqlfluff_holds_sql_to_the_house_style() -> None:
    """The configuration bites: upper case, leading commas and implicit aliases are findings."""
    sql = "SELECT\n    A.X\n    , COUNT(*) cnt\nFROM {{ ref('t') }} A\nGROUP BY A.X\n"
    result = run("sqlfluff", "lint", "-", "--nocolor", stdin=sql)
    assert result.returncode == 1
    for rule in ("CP01", "CP02", "CP03", "LT04", "AL02", "AL01"):
        assert rule in result.stdout, (rule, result.stdout)


def test_ruff_check_finds_nothing() -> None:
    result = run("ruff", "check", "--no-cache", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format_changes_nothing() -> None:
    result = run("ruff", "format", "--check", "--no-cache", ".")
    assert result.returncode == 0, result.stdout + result.stderr
