"""Start, stop and inspect the local Spark Thrift Server of one state folder.

The folder (`ServerSettings.state_dir`) holds everything of one server: its Derby metastore,
its table data, its log, its PID file and a JSON note of the addresses it was started with
(`ecom_analytics.services`). With `ECOM_METASTORE_URI`, the metastore is that service and the
tables are the shared warehouse's; the folder keeps the rest.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from ecom_analytics.services.service import (
    Port,
    Say,
    Service,
    ServiceError,
    check_java,
    check_ports,
    labelled,
    say,
)
from ecom_analytics.services.settings import PROJECT_ROOT
from ecom_analytics.thrift_server.probes import Answer, probe, thrift_uses_ssl
from ecom_analytics.thrift_server.settings import (
    DEFAULT_CONNECT_PORT,
    DEFAULT_THRIFT_PORT,
    ENV_CONNECT_PORT,
    ENV_THRIFT_PORT,
    ServerSettings,
    is_server_command,
    server_environment,
    spark_conf,
    submit_command,
)
from ecom_analytics.warehouse_lock import WarehouseUnavailable
from ecom_analytics.warehouse_lock import check as check_metastore

TITLE = "Spark Thrift Server"
PROBE_TIMEOUT = 5.0
PROTOCOLS = ("thrift", "connect")


def service(settings: ServerSettings) -> Service:
    return Service(
        title=TITLE,
        command="ecom thrift",
        files=settings.files,
        is_ours=lambda args: is_server_command(args, settings),
        contents=_contents(settings),
    )


def _contents(settings: ServerSettings) -> str:
    """What the server's folder holds."""
    if settings.metastore_uri is None:
        return "metastore_db/, warehouse/"
    return f"hive/; tables in {settings.warehouse_dir} through {settings.metastore_uri}"


def running_pid(settings: ServerSettings) -> int | None:
    """The PID of this folder's server when it runs; None otherwise (a stale PID file too)."""
    return service(settings).running_pid()


def recorded_settings(settings: ServerSettings) -> ServerSettings:
    """The addresses the running server was started with (from its JSON note), else `settings`."""
    note = service(settings).note()
    return ServerSettings(
        state_dir=settings.state_dir,
        bind_address=note.get("bind_address", settings.bind_address),
        thrift_port=int(note.get("thrift_port", settings.thrift_port)),
        connect_port=int(note.get("connect_port", settings.connect_port)),
        hiveconf={"hive.server2.use.SSL": "true"} if note.get("thrift_ssl") else {},
        metastore_uri=settings.metastore_uri,
        shared_warehouse=settings.shared_warehouse,
    )


def _wait_until_ready(
    server: Service,
    process: subprocess.Popen[bytes],
    settings: ServerSettings,
    timeout: float,
    report: Say,
) -> dict[str, Answer]:
    """Poll both protocols until they answer as our application; ServiceError otherwise."""
    answers = {protocol: Answer("down", "not asked yet") for protocol in PROTOCOLS}

    def ready() -> bool:
        for protocol in PROTOCOLS:
            if not answers[protocol].up:
                answers[protocol] = probe(protocol, settings, PROBE_TIMEOUT)
                if answers[protocol].state == "foreign":
                    raise ServiceError(
                        f"the {protocol} port {answers[protocol].describe()}: another server "
                        "took the port"
                    )
        return all(answer.up for answer in answers.values())

    def progress() -> str:
        return ", ".join(
            f"{protocol} {'answers' if answers[protocol].up else 'not yet'}"
            for protocol in PROTOCOLS
        )

    server.wait_until_ready(process, ready, timeout, report, progress)
    return answers


def start(settings: ServerSettings, timeout: float, report: Say = say) -> int:
    """Start the server in the background and wait until both protocols answer."""
    server = service(settings)
    server.prepare_start()
    check_java("Spark")
    check_ports(
        [
            Port("Thrift", settings.bind_address, settings.thrift_port,
                 f"--thrift-port or {ENV_THRIFT_PORT}"),
            Port("Spark Connect", settings.bind_address, settings.connect_port,
                 f"--connect-port or {ENV_CONNECT_PORT}"),
        ]
    )  # fmt: skip
    try:
        check_metastore(spark_conf(settings))
    except WarehouseUnavailable as problem:
        raise ServiceError(str(problem).rstrip(".")) from None
    # Hive lists its scratch folder when a session closes, and complains when it is missing
    (settings.hive_dir / "scratch").mkdir(parents=True, exist_ok=True)

    from pyspark.find_spark_home import _find_spark_home

    spark_home = Path(_find_spark_home())
    if not settings.loopback_only:
        report(
            f"WARNING: binding to {settings.bind_address}: anyone who can reach this machine "
            "can run SQL and Python on this server, unauthenticated, unless you configured "
            "authentication (see the README, Run on your Spark cluster)."
        )
    report(
        f"Starting the {TITLE} (thrift {settings.thrift_address}, "
        f"Spark Connect {settings.connect_url}); log: {settings.log_file}"
    )
    process = server.launch(
        submit_command(settings, spark_home),
        env=server_environment(os.environ, spark_home, sys.executable),
        cwd=PROJECT_ROOT,
        note={
            "bind_address": settings.bind_address,
            "thrift_port": settings.thrift_port,
            "connect_port": settings.connect_port,
            "connect_url": settings.connect_url,
            "thrift_ssl": thrift_uses_ssl(settings),
        },
    )
    started = time.monotonic()
    answers = server.supervise_start(
        process, lambda: _wait_until_ready(server, process, settings, timeout, report), report
    )
    if answers is None:
        return 1
    report(
        f"{TITLE} ready in {time.monotonic() - started:.0f} s (pid {process.pid}).\n"
        f"  {labelled('thrift', settings.thrift_address)} {answers['thrift'].describe()}\n"
        f"  {labelled('connect', settings.connect_url)} {answers['connect'].describe()}\n"
        f"  {labelled('folder', str(settings.state_dir))} ({_contents(settings)})\n"
        "Build on it with `.venv/bin/dbt build --target thrift`"
        + _env_hint(settings)
        + "; stop it with `ecom thrift stop`."
    )
    return 0


def _env_hint(settings: ServerSettings) -> str:
    """The variables the `thrift` target needs when the ports are not its defaults."""
    assignments = [
        f"{name}={port}"
        for name, port, default in (
            (ENV_THRIFT_PORT, settings.thrift_port, DEFAULT_THRIFT_PORT),
            (ENV_CONNECT_PORT, settings.connect_port, DEFAULT_CONNECT_PORT),
        )
        if port != default
    ]
    return f" (with {' '.join(assignments)} set)" if assignments else ""


def stop(settings: ServerSettings, report: Say = say) -> int:
    """Stop this folder's server and its child processes; anything else is left alone."""
    return service(settings).stop(report)


def status(settings: ServerSettings, report: Say = say) -> int:
    """Whether the server runs, whether each protocol answers, and where it listens."""
    recorded = recorded_settings(settings)

    def details(pid: int) -> list[str]:
        return [
            labelled(protocol, f"{address} {probe(protocol, recorded, PROBE_TIMEOUT).describe()}")
            for protocol, address in (
                ("thrift", recorded.thrift_address),
                ("connect", recorded.connect_url),
            )
        ]

    return service(settings).status(report, details)
