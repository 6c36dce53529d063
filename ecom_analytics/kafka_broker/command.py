"""`ecom kafka start|stop|status`: a local Apache Kafka broker for the streaming job.

Runs Apache Kafka (the version pinned in ecom_analytics/jvm_packages.py, fetched by `make setup`)
in KRaft mode, one node that is broker and controller, with `java -cp <jars> kafka.Kafka`: no
download, no Docker. `ecom produce-clicks --sink kafka` writes ad clicks to it and
`ecom stream --source kafka` reads them.

The client port listens on 127.0.0.1 unless --bind-address (or ECOM_KAFKA_BIND_ADDRESS) says
otherwise; the controller port, used only by the broker itself, always on 127.0.0.1. The broker
keeps its data, its generated server.properties, log and PID file in its own folder, by default
$ECOM_WAREHOUSE_DIR/kafka (relative paths are taken from the project root); the first start
formats it, later starts keep its topics and records. New topics get 3 partitions, and
records are kept a day (at most 1 GiB per partition); --conf changes any broker setting.

  start    start in the background, wait until the broker answers a metadata request, print
           the bootstrap address (log's last lines if it does not)
  stop     stop this folder's broker (nothing else)
  status   running or not, bootstrap address, topics, where it listens (exit 3: not running)

environment: ECOM_KAFKA_PORT (9092), ECOM_KAFKA_CONTROLLER_PORT (9093), ECOM_KAFKA_BIND_ADDRESS
(127.0.0.1), ECOM_KAFKA_HEAP (512m), ECOM_KAFKA_DIR ($ECOM_WAREHOUSE_DIR/kafka); options override
them. Clients: ECOM_KAFKA_BOOTSTRAP_SERVERS (default 127.0.0.1:$ECOM_KAFKA_PORT).
"""

from __future__ import annotations

import argparse
import os

from ecom_analytics.cli import CommandError
from ecom_analytics.kafka_broker import broker
from ecom_analytics.kafka_broker.settings import settings_from
from ecom_analytics.services.service import ServiceError
from ecom_analytics.services.settings import PROJECT_ROOT, SettingsError

NAME = "kafka"
HELP = "start, stop or check a local Apache Kafka broker (KRaft, one node) for the stream"
DESCRIPTION = __doc__ or ""

DEFAULT_TIMEOUT = 120.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=("start", "stop", "status"), help="what to do")
    parser.add_argument(
        "--dir",
        dest="state_dir",
        help="the broker's folder (data, server.properties, log, PID file); "
        "default $ECOM_KAFKA_DIR or $ECOM_WAREHOUSE_DIR/kafka",
    )
    parser.add_argument(
        "--bind-address",
        help="address the client port listens on (default $ECOM_KAFKA_BIND_ADDRESS or "
        "127.0.0.1); anything but loopback exposes the broker to the network",
    )
    parser.add_argument(
        "--port", help="client port, the bootstrap address's (default $ECOM_KAFKA_PORT or 9092)"
    )
    parser.add_argument(
        "--controller-port",
        help="KRaft controller port, on 127.0.0.1 (default $ECOM_KAFKA_CONTROLLER_PORT or 9093)",
    )
    parser.add_argument("--heap", help="heap of the broker (default $ECOM_KAFKA_HEAP or 512m)")
    parser.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        help=f"seconds `start` waits for the broker (default {DEFAULT_TIMEOUT:.0f})",
    )
    parser.add_argument(
        "--conf",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="broker setting for server.properties, e.g. log.retention.hours=168 (repeatable)",
    )


def run(args: argparse.Namespace) -> int:
    try:
        settings = settings_from(
            os.environ,
            PROJECT_ROOT,
            state_dir=args.state_dir,
            bind_address=args.bind_address,
            port=args.port,
            controller_port=args.controller_port,
            heap=args.heap,
            extra_conf=args.conf,
        )
        if args.timeout <= 0:
            raise SettingsError(f"--timeout must be positive, got {args.timeout:g}")
        if args.action == "start":
            return broker.start(settings, args.timeout)
        if args.action == "stop":
            return broker.stop(settings)
        return broker.status(settings)
    except (SettingsError, ServiceError) as error:
        raise CommandError(str(error)) from None
