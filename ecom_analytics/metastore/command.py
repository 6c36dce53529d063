"""`ecom metastore start|stop|status`: a Hive metastore service, so that several programs use one
warehouse at the same time (the stream, dbt, the Thrift server, a notebook).

Without it each program opens the warehouse's embedded Derby metastore, which admits one
program at a time. The service is Hive's metastore from the installed pyspark (no download):
it serves the warehouse's own Derby database ($ECOM_WAREHOUSE_DIR/metastore_db) and table
folder ($ECOM_WAREHOUSE_DIR/warehouse), so every table stays where it is, and starting or
stopping the service loses nothing. Every program then reaches it through one setting:

  ecom metastore start
  export ECOM_METASTORE_URI=thrift://127.0.0.1:9083   # in every shell that uses the warehouse

It listens on 127.0.0.1 unless --bind-address (or ECOM_METASTORE_BIND_ADDRESS) says otherwise.
Its log, PID file, generated hive-site.xml and Derby's log are in its own folder, by default
$ECOM_WAREHOUSE_DIR/metastore (relative paths are taken from the project root).

For production, a PostgreSQL or MySQL database instead of Derby: --jdbc-url (or
ECOM_METASTORE_JDBC_URL), the user in ECOM_METASTORE_JDBC_USER and the password in
ECOM_METASTORE_JDBC_PASSWORD (only there: never on a command line, in a file or a log). The
PostgreSQL driver comes with `make setup`; MySQL's (Connector/J) is yours to give with
--driver-jar. An empty database gets Hive's tables at the first start.

  start    start in the background, wait until it answers a metastore request, print its URI
           (log's last lines if it does not)
  stop     stop this folder's service (nothing else)
  status   running or not, URI, databases, where it listens (exit 3: not running)

environment: ECOM_METASTORE_PORT (9083), ECOM_METASTORE_BIND_ADDRESS (127.0.0.1),
ECOM_METASTORE_HEAP (1g), ECOM_METASTORE_DIR ($ECOM_WAREHOUSE_DIR/metastore),
ECOM_METASTORE_JDBC_URL, ECOM_METASTORE_JDBC_USER, ECOM_METASTORE_JDBC_PASSWORD,
ECOM_METASTORE_DRIVER_JAR; options override them. Clients: ECOM_METASTORE_URI. See
docs/metastore.md.
"""

from __future__ import annotations

import argparse
import os

from ecom_analytics.cli import CommandError
from ecom_analytics.metastore import server
from ecom_analytics.metastore.settings import settings_from
from ecom_analytics.services.service import ServiceError
from ecom_analytics.services.settings import PROJECT_ROOT, SettingsError

NAME = "metastore"
HELP = "start, stop or check a Hive metastore service: many programs on one warehouse at once"
DESCRIPTION = __doc__ or ""

DEFAULT_TIMEOUT = 180.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=("start", "stop", "status"), help="what to do")
    parser.add_argument(
        "--dir",
        dest="state_dir",
        help="the service's folder (log, PID file, hive-site.xml); "
        "default $ECOM_METASTORE_DIR or $ECOM_WAREHOUSE_DIR/metastore",
    )
    parser.add_argument(
        "--bind-address",
        help="address the service listens on (default $ECOM_METASTORE_BIND_ADDRESS or "
        "127.0.0.1); anything but loopback exposes the metastore to the network",
    )
    parser.add_argument("--port", help="service port (default $ECOM_METASTORE_PORT or 9083)")
    parser.add_argument("--heap", help="heap of the service (default $ECOM_METASTORE_HEAP or 1g)")
    parser.add_argument(
        "--jdbc-url",
        help="a PostgreSQL or MySQL database for the metastore, e.g. "
        "jdbc:postgresql://db:5432/metastore (default $ECOM_METASTORE_JDBC_URL, else the "
        "warehouse's Derby database); user and password from ECOM_METASTORE_JDBC_USER and "
        "ECOM_METASTORE_JDBC_PASSWORD",
    )
    parser.add_argument(
        "--driver-jar",
        action="append",
        default=[],
        metavar="JAR",
        help="a JDBC driver jar, e.g. MySQL Connector/J's (repeatable; default "
        "$ECOM_METASTORE_DRIVER_JAR, several separated by ':')",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        help=f"seconds `start` waits for the service (default {DEFAULT_TIMEOUT:.0f})",
    )
    parser.add_argument(
        "--conf",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="extra hive-site.xml setting of the service (repeatable)",
    )


def run(args: argparse.Namespace) -> int:
    try:
        settings = settings_from(
            os.environ,
            PROJECT_ROOT,
            state_dir=args.state_dir,
            bind_address=args.bind_address,
            port=args.port,
            heap=args.heap,
            jdbc_url=args.jdbc_url,
            driver_jars=args.driver_jar,
            extra_conf=args.conf,
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
