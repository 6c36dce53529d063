"""`ecom thrift start|stop|status`: a local Spark Thrift Server for the `thrift` target.

Runs the Spark Thrift Server (HiveServer2 protocol) of the installed pyspark, with the Spark
Connect plugin on the same application, so `dbt build --target thrift` builds SQL models over
Thrift and Python models over Spark Connect on one server, one metastore. No Spark download.

Both ports listen on 127.0.0.1 unless --bind-address (or ECOM_THRIFT_BIND_ADDRESS) says
otherwise. The server keeps its Derby metastore, table data, log and PID file in its own folder,
by default $ECOM_WAREHOUSE_DIR/thrift (relative paths are taken from the project root). With
ECOM_METASTORE_URI (`ecom metastore start`), it uses that metastore service and the warehouse's
tables ($ECOM_WAREHOUSE_DIR/warehouse) instead, so the `thrift` target sees the same tables as
every other program on the warehouse. Its Spark settings are the `local` target's
(ECOM_DRIVER_MEMORY, ECOM_SHUFFLE_PARTITIONS, UTC, parquet).

  start    start in the background, wait until both protocols answer (log's last lines if not)
  stop     stop this folder's server and its child processes (nothing else)
  status   running or not, whether each protocol answers, where it listens (exit 3: not running)

environment: ECOM_THRIFT_PORT (10000), ECOM_SPARK_CONNECT_PORT (15002), ECOM_THRIFT_BIND_ADDRESS
(127.0.0.1), ECOM_THRIFT_DIR ($ECOM_WAREHOUSE_DIR/thrift), ECOM_METASTORE_URI (unset: the
server's own metastore); options override them.
"""

from __future__ import annotations

import argparse
import os

from ecom_analytics.cli import CommandError
from ecom_analytics.services.service import ServiceError
from ecom_analytics.services.settings import PROJECT_ROOT, SettingsError
from ecom_analytics.thrift_server import server
from ecom_analytics.thrift_server.settings import settings_from

NAME = "thrift"
HELP = "start, stop or check a local Spark Thrift Server (+ Spark Connect) for the thrift target"
DESCRIPTION = __doc__ or ""

DEFAULT_TIMEOUT = 180.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=("start", "stop", "status"), help="what to do")
    parser.add_argument(
        "--dir",
        dest="state_dir",
        help="the server's folder (metastore, warehouse, log, PID file); "
        "default $ECOM_THRIFT_DIR or $ECOM_WAREHOUSE_DIR/thrift",
    )
    parser.add_argument(
        "--bind-address",
        help="address both ports listen on (default $ECOM_THRIFT_BIND_ADDRESS or 127.0.0.1); "
        "anything but loopback exposes the server to the network",
    )
    parser.add_argument(
        "--thrift-port", help="HiveServer2 port (default $ECOM_THRIFT_PORT or 10000)"
    )
    parser.add_argument(
        "--connect-port", help="Spark Connect port (default $ECOM_SPARK_CONNECT_PORT or 15002)"
    )
    parser.add_argument(
        "--driver-memory", help="heap of the server (default $ECOM_DRIVER_MEMORY or 4g)"
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        help=f"seconds `start` waits for both protocols (default {DEFAULT_TIMEOUT:.0f})",
    )
    parser.add_argument(
        "--conf",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="extra Spark setting of the server (repeatable)",
    )
    parser.add_argument(
        "--hiveconf",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="extra HiveServer2 setting, e.g. authentication or TLS (repeatable)",
    )


def run(args: argparse.Namespace) -> int:
    try:
        settings = settings_from(
            os.environ,
            PROJECT_ROOT,
            state_dir=args.state_dir,
            bind_address=args.bind_address,
            thrift_port=args.thrift_port,
            connect_port=args.connect_port,
            driver_memory=args.driver_memory,
            extra_conf=args.conf,
            hiveconf=args.hiveconf,
        )
        if args.timeout <= 0:
            raise SettingsError(f"--timeout must be positive, got {args.timeout:g}")
        if args.action == "start":
            return server.start(settings, args.timeout)
        if args.action == "stop":
            return server.stop(settings)
        return server.status(settings)
    except (SettingsError, ServiceError) as error:
        raise CommandError(str(error)) from None
