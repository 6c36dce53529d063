"""`ecom dashboard`: start the dashboards (a Streamlit app) on this machine.

It reads the tables dbt and the ad-click stream wrote, without starting Spark (so it runs beside
dbt or the stream), from one of two sources:

  files    the embedded warehouse's files, $ECOM_WAREHOUSE_DIR/warehouse/<schema>.db/ (default):
           the stream's Delta tables at their newest commit, the marts' Parquet files
           (`parquet` is accepted as the old name of this source)
  thrift   a Spark Thrift Server, from the settings of dbt's `thrift` target (ECOM_THRIFT_HOST,
           ECOM_THRIFT_PORT, ECOM_THRIFT_USER, ECOM_THRIFT_AUTH, ...); the default when
           ECOM_TARGET=thrift

The schema is $ECOM_SCHEMA (default ecom). The app listens on 127.0.0.1 only, unless --host says
otherwise; stop it with Ctrl-C.

examples:
  ecom dashboard                          # http://127.0.0.1:8501
  ecom dashboard --port 8600 --refresh 2
  ECOM_TARGET=thrift ecom dashboard       # the tables of a Spark Thrift Server
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import sys
from importlib.util import find_spec
from pathlib import Path

from ecom_analytics.cli import CommandError
from ecom_analytics.dashboard.warehouse import SOURCE_ALIASES, SOURCES

NAME = "dashboard"
HELP = "start the dashboards (Streamlit) on http://127.0.0.1:8501"
DESCRIPTION = __doc__ or ""

APP = Path(__file__).resolve().with_name("app.py")
PROJECT_ROOT = Path(__file__).resolve().parents[2]


def _port(text: str) -> int:
    if text.isdigit() and 1 <= int(text) <= 65535:
        return int(text)
    raise argparse.ArgumentTypeError(f"expected a TCP port (1-65535), got {text!r}")


def _seconds(text: str) -> int:
    if text.isdigit() and int(text) >= 1:
        return int(text)
    raise argparse.ArgumentTypeError(f"expected whole seconds (1 or more), got {text!r}")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)"
    )
    parser.add_argument(
        "--port", type=_port, default=8501, help="port to listen on (default: %(default)s)"
    )
    parser.add_argument(
        "--source",
        choices=[*SOURCES, *SOURCE_ALIASES],
        help="where to read the tables (default: $ECOM_DASHBOARD_SOURCE, else thrift when "
        "ECOM_TARGET=thrift, else files)",
    )
    parser.add_argument(
        "--refresh",
        type=_seconds,
        metavar="SECONDS",
        help="refresh interval of the live ad page (default: $ECOM_DASHBOARD_REFRESH or 5)",
    )


def streamlit_argv(host: str, port: int) -> list[str]:
    """The `streamlit run` command line of the app: headless, no telemetry, quiet toolbar."""
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(APP),
        "--server.address",
        host,
        "--server.port",
        str(port),
        "--server.headless",
        "true",
        "--server.fileWatcherType",
        "none",
        "--browser.gatherUsageStats",
        "false",
        "--client.toolbarMode",
        "viewer",
        "--theme.base",
        "light",
        "--theme.primaryColor",
        "#2f6fde",
    ]


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def run(args: argparse.Namespace) -> int:
    if find_spec("streamlit") is None:
        raise CommandError("Streamlit is not installed: run `make setup` (it installs it)")
    # relative ECOM_* paths mean the same as for dbt and `ecom demo`: from the project root
    os.chdir(PROJECT_ROOT)
    env = dict(os.environ)
    if args.source:
        env["ECOM_DASHBOARD_SOURCE"] = args.source
    if args.refresh:
        env["ECOM_DASHBOARD_REFRESH"] = str(args.refresh)
    if not _is_loopback(args.host):
        print(
            f"ecom dashboard: listening on {args.host}, reachable from other machines; "
            "the app has no login",
            file=sys.stderr,
        )
    shown = f"[{args.host}]" if ":" in args.host else args.host
    print(f"dashboard: http://{shown}:{args.port} (Ctrl-C stops it)", flush=True)
    # Streamlit takes over this process: Ctrl-C and signals reach the server itself
    argv = streamlit_argv(args.host, args.port)
    os.execve(argv[0], argv, env)
