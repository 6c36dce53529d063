"""`ecom dashboard` on the command line: help, one-line usage errors, a loopback default."""

from __future__ import annotations

import pytest

from ecom_analytics.cli import main
from ecom_analytics.dashboard.command import APP, streamlit_argv


def test_help_names_the_sources_and_the_default_address(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["--help"]) == 0
    assert "dashboard" in capsys.readouterr().out
    assert main(["dashboard", "--help"]) == 0
    text = capsys.readouterr().out
    for word in ("ECOM_DASHBOARD_SOURCE", "ECOM_THRIFT_HOST", "127.0.0.1", "--refresh"):
        assert word in text


@pytest.mark.parametrize(
    ("arguments", "named"),
    [
        (["--port", "0"], "--port"),
        (["--port", "http"], "--port"),
        (["--refresh", "0"], "--refresh"),
        (["--source", "hdfs"], "--source"),
    ],
)
def test_bad_options_are_one_line_errors(
    arguments: list[str], named: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["dashboard", *arguments]) == 2
    error = capsys.readouterr().err
    assert named in error
    assert len(error.strip().splitlines()) == 1


def test_streamlit_runs_the_app_headless_on_the_given_address() -> None:
    argv = streamlit_argv("127.0.0.1", 8600)
    assert argv[1:5] == ["-m", "streamlit", "run", str(APP)]
    options = dict(zip(argv[5::2], argv[6::2], strict=True))
    assert options["--server.address"] == "127.0.0.1"
    assert options["--server.port"] == "8600"
    assert options["--server.headless"] == "true"
    assert options["--browser.gatherUsageStats"] == "false"
