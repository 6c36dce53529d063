"""`ecom generate` on the command line: help, one-line usage errors, overwrite safety."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ecom_analytics.cli import main

TINY = ["--days", "2", "--sessions-per-day", "30", "--users", "20", "--no-progress"]


def generate(tmp_path: Path, *extra: str) -> int:
    directories = ["--raw-dir", str(tmp_path / "raw"), "--ad-click-dir", str(tmp_path / "ads")]
    return main(["generate", *directories, *TINY, *extra])


def test_help_lists_the_commands_and_options(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    assert "generate" in capsys.readouterr().out
    assert main(["generate", "--help"]) == 0
    text = capsys.readouterr().out
    for option in ("--seed", "--skew-kind", "--dirt-share", "--ad-clicks", "$ECOM_RAW_DIR"):
        assert option in text
    assert "unparsable_action_time" in text


@pytest.mark.parametrize(
    ("arguments", "named"),
    [
        (["--days", "0"], "--days"),
        (["--sessions-per-day", "-5"], "--sessions-per-day"),
        (["--actions-per-session", "0.5"], "--actions-per-session"),
        (["--start-date", "2026/11/16"], "--start-date"),
        (["--start-date", "2026-02-30"], "--start-date"),
        (["--skew-kind", "city"], "--skew-kind"),
        (["--skew-share", "1"], "--skew-share"),
        (["--dirt-share", "0.9"], "--dirt-share"),
        (["--seed", "-1"], "--seed"),
        (["--seed", "abc"], "--seed"),
        (["--ad-clicks", "3", "--ad-click-files", "4"], "--ad-click-files"),
        (["--ad-heavy-share", "0.6", "--ad-malformed-share", "0.5"], "--ad-malformed-share"),
        (["--no-such-option"], "--no-such-option"),
    ],
)
def test_bad_arguments_give_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], arguments: list[str], named: str
) -> None:
    assert generate(tmp_path, *arguments) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1, error
    assert error.startswith("ecom generate: error:") and named in error
    assert not (tmp_path / "raw").exists()


def test_a_run_prints_one_summary_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert generate(tmp_path, "--ad-clicks", "50", "--ad-click-files", "2") == 0
    output = capsys.readouterr().out
    assert output.count("\n") == 1
    assert "user_info 20 rows" in output and "ad clicks 50 lines" in output
    assert "rows/s" in output
    assert sorted(path.name for path in (tmp_path / "ads").iterdir()) == [
        "_manifest.json",
        "clicks-00000.log",
        "clicks-00001.log",
    ]


def test_foreign_data_is_never_touched(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    real = tmp_path / "raw" / "user_visit_action" / "part-0.parquet"
    real.parent.mkdir(parents=True)
    real.write_bytes(b"real data")
    assert generate(tmp_path) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "did not write" in error and str(tmp_path / "raw") in error
    assert real.read_bytes() == b"real data"
    assert sorted(path.name for path in (tmp_path / "raw").iterdir()) == ["user_visit_action"]


def test_a_foreign_ad_click_dir_is_never_touched(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    theirs = tmp_path / "ads" / "clicks-00000.log"
    theirs.parent.mkdir()
    theirs.write_text("1 a b 2 3\n")
    assert generate(tmp_path, "--ad-clicks", "10") == 2
    assert "did not write" in capsys.readouterr().err
    assert theirs.read_text() == "1 a b 2 3\n"
    assert not (tmp_path / "raw").exists()


def test_a_previous_output_is_replaced(tmp_path: Path) -> None:
    assert generate(tmp_path, "--days", "3", "--ad-clicks", "40", "--ad-click-files", "4") == 0
    notes = tmp_path / "ads" / "README.txt"
    notes.write_text("kept")
    assert generate(tmp_path, "--ad-clicks", "20", "--ad-click-files", "2") == 0
    partitions = sorted(path.name for path in (tmp_path / "raw" / "user_visit_action").iterdir())
    assert partitions == ["date=2026-11-16", "date=2026-11-17"]
    assert sorted(path.name for path in (tmp_path / "ads").iterdir()) == [
        "README.txt",
        "_manifest.json",
        "clicks-00000.log",
        "clicks-00001.log",
    ]
    manifest = json.loads((tmp_path / "raw" / "_manifest.json").read_text())
    assert manifest["parameters"]["days"] == 2 and manifest["status"] == "complete"


def test_the_environment_names_the_default_directories(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ECOM_RAW_DIR", str(tmp_path / "env_raw"))
    monkeypatch.delenv("ECOM_AD_CLICK_DIR", raising=False)
    assert main(["generate", *TINY, "--ad-clicks", "5", "--ad-click-files", "1"]) == 0
    assert (tmp_path / "env_raw" / "_manifest.json").exists()
    assert (tmp_path / "data" / "ad_clicks" / "clicks-00000.log").exists()


def test_the_console_script_fails_without_a_traceback(tmp_path: Path) -> None:
    script = Path(sys.executable).with_name("ecom")
    if not script.exists():
        pytest.skip("the ecom console script is not installed in this environment")
    result = subprocess.run(
        [str(script), "generate", "--days", "0"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
