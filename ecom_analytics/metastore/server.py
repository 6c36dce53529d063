"""Start, stop and inspect the Hive metastore service of one state folder; its Python API.

    settings = settings_from(os.environ, state_dir="/tmp/metastore", port=19083)
    start(settings, timeout=180)    # 0 once it answers a metastore request, 1 (stopped) if not
    settings.uri                    # "thrift://127.0.0.1:19083": ECOM_METASTORE_URI for clients
    status(settings); stop(settings)

The folder holds the generated `conf/hive-site.xml`, the log, Derby's log, the PID file and a
JSON note of what the service was started with (`ecom_analytics.services`). The database is
the warehouse's own Derby database (`$ECOM_WAREHOUSE_DIR/metastore_db`) unless a JDBC URL names
PostgreSQL or MySQL.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from ecom_analytics import jvm_packages
from ecom_analytics.metastore.client import MetastoreError, databases
from ecom_analytics.metastore.settings import (
    ENV_JDBC_PASSWORD,
    ENV_PORT,
    MetastoreSettings,
    hive_site,
    hive_site_text,
    is_server_command,
    server_command,
)
from ecom_analytics.services.network import client_host, listening_sockets
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
from ecom_analytics.warehouse_lock import ENV_METASTORE_URI

TITLE = "Hive metastore service"
PROBE_TIMEOUT = 5.0
DATABASES_SHOWN = 8
# Hive reads hive-site.xml from $HIVE_CONF_DIR before its class path: a stray value would
# replace the service's settings.
_OVERRIDING_ENV = ("HIVE_CONF_DIR", "HIVE_HOME")


def service(settings: MetastoreSettings) -> Service:
    return Service(
        title=TITLE,
        command="ecom metastore",
        files=settings.files,
        is_ours=lambda args: is_server_command(args, settings),
        contents="conf/hive-site.xml, derby.log",
    )


def running_pid(settings: MetastoreSettings) -> int | None:
    """The PID of this folder's service when it runs; None otherwise (a stale PID file too)."""
    return service(settings).running_pid()


def recorded_settings(settings: MetastoreSettings) -> MetastoreSettings:
    """The address the running service was started with (from its JSON note), else `settings`."""
    note = service(settings).note()
    return replace(
        settings,
        bind_address=note.get("bind_address", settings.bind_address),
        port=int(note.get("port", settings.port)),
    )


@dataclass(frozen=True)
class Answer:
    """What the service said: `ours`, `foreign` (another program on the port) or `down`."""

    state: str
    detail: str = ""
    databases: tuple[str, ...] = field(default=())

    @property
    def up(self) -> bool:
        return self.state == "ours"

    def describe(self) -> str:
        if self.state == "ours":
            shown = ", ".join(self.databases[:DATABASES_SHOWN])
            more = ", ..." if len(self.databases) > DATABASES_SHOWN else ""
            count = len(self.databases)
            return f"answers ({count} database{'s' * (count != 1)}: {shown}{more})"
        if self.state == "foreign":
            return f"answers, but not from this service ({self.detail})"
        return f"does not answer ({self.detail})"


def probe(settings: MetastoreSettings, timeout: float, pid: int | None = None) -> Answer:
    """Ask the service for its databases; with `pid`, an answer while that process does not
    listen on the port comes from another program."""
    try:
        names = databases(client_host(settings.bind_address), settings.port, timeout)
    except MetastoreError as error:
        return Answer("down", str(error))
    except Exception as error:  # any other failure means "not answering (yet)"; the text says why
        return Answer("down", f"{error.__class__.__name__}: {str(error).strip()[:200]}")
    if pid is not None:
        sockets = listening_sockets(pid)
        if sockets is not None and settings.port not in {s.port for s in sockets}:
            return Answer("foreign", f"pid {pid} does not listen on port {settings.port}")
    return Answer("ours", databases=tuple(names))


def _jdbc_jars(settings: MetastoreSettings) -> list[Path]:
    """The JDBC driver's jars: none for Derby (pyspark ships it), PostgreSQL's from `make setup`,
    MySQL's from --driver-jar; a ServiceError saying what to give when they are missing."""
    missing = [jar for jar in settings.driver_jars if not jar.is_file()]
    if missing:
        raise ServiceError(f"driver jar {missing[0]} does not exist (--driver-jar)")
    jars = list(settings.driver_jars)
    if settings.backend_key == "postgresql":
        jars = [*jvm_packages.jars("postgresql"), *jars]
    elif settings.backend_key != "derby" and not jars:
        raise ServiceError(
            f"a {settings.backend.name} database needs its JDBC driver ("
            f"{settings.backend.driver_class}), which is not part of the project: "
            f"{settings.backend.driver_hint}"
        )
    return jars


def _check_database(settings: MetastoreSettings, report: Say) -> None:
    """Refuse to start on a Derby database another program has open; warn when a JDBC database
    starts beside a warehouse whose tables are in its embedded metastore."""
    from dbt.adapters.sparkoss.metastore import derby_lock_holder

    derby = settings.derby_database
    if settings.jdbc_url is None:
        holder = derby_lock_holder(derby)
        if holder is not None:
            raise ServiceError(
                f"another program ({holder.describe()}) has the warehouse's embedded metastore "
                f"{derby} open; stop it first: the service then serves that database, and "
                f"every program reaches it through {ENV_METASTORE_URI}"
            )
    elif derby.is_dir():
        report(
            f"WARNING: the warehouse {settings.warehouse_root} has an embedded metastore "
            f"(metastore_db/) whose tables this {settings.backend.name} database does not know: "
            f"programs using {ENV_METASTORE_URI} will not see them until they are built again "
            "through the service (`dbt build --full-refresh`, `ecom stream --reset`); or serve "
            "the warehouse's own database instead (no --jdbc-url). See docs/metastore.md."
        )


def _wait_until_ready(
    server: Service,
    process: subprocess.Popen[bytes],
    settings: MetastoreSettings,
    timeout: float,
    report: Say,
) -> Answer:
    """Ask for the databases until our service answers; ServiceError otherwise."""
    answer = Answer("down", "not asked yet")

    def ready() -> bool:
        nonlocal answer
        answer = probe(settings, PROBE_TIMEOUT, process.pid)
        if answer.state == "foreign":
            raise ServiceError(
                f"port {settings.port} {answer.describe()}: another program took the port"
            )
        return answer.up

    server.wait_until_ready(process, ready, timeout, report, lambda: answer.describe())
    return answer


def server_environment(base: Mapping[str, str]) -> dict[str, str]:
    """The service's environment: this one without Hive's own overriding variables (the
    database password, when set, travels here and nowhere else)."""
    return {key: value for key, value in base.items() if key not in _OVERRIDING_ENV}


def start(
    settings: MetastoreSettings,
    timeout: float,
    report: Say = say,
    env: Mapping[str, str] = os.environ,
) -> int:
    """Start the service in the background and wait until it answers a metastore request;
    0 when it does, 1 (with the log's last lines, the service stopped) when not."""
    from pyspark.find_spark_home import _find_spark_home

    began = time.monotonic()
    server = service(settings)
    server.prepare_start()
    java = check_java("the Hive metastore service")
    check_ports([Port("Metastore", settings.bind_address, settings.port, f"--port or {ENV_PORT}")])
    jdbc_jars = _jdbc_jars(settings)
    _check_database(settings, report)
    if not settings.loopback_only:
        report(
            f"WARNING: binding to {settings.bind_address}: anyone who can reach this machine can "
            "read and change every table's definition in this metastore (no authentication)."
        )
    if settings.jdbc_url is not None and not env.get(ENV_JDBC_PASSWORD):
        report(f"Note: {ENV_JDBC_PASSWORD} is not set: connecting without a password.")
    settings.conf_dir.mkdir(parents=True, exist_ok=True)
    settings.warehouse_dir.mkdir(parents=True, exist_ok=True)
    settings.hive_site_file.write_text(hive_site_text(hive_site(settings)))
    report(
        f"Starting the {TITLE} ({settings.uri}, database {settings.describe_database()}); "
        f"log: {settings.files.log_file}"
    )
    pyspark_jars = Path(_find_spark_home()) / "jars"
    process = server.launch(
        server_command(settings, java, pyspark_jars, jdbc_jars),
        env=server_environment(env),
        cwd=settings.state_dir,
        note={
            "bind_address": settings.bind_address,
            "port": settings.port,
            "uri": settings.uri,
            "database": settings.describe_database(),
            "warehouse_dir": str(settings.warehouse_dir),
        },
    )
    remaining = max(1.0, timeout - (time.monotonic() - began))
    answer = server.supervise_start(
        process, lambda: _wait_until_ready(server, process, settings, remaining, report), report
    )
    if answer is None:
        return 1
    report(
        f"{TITLE} ready in {time.monotonic() - began:.0f} s (pid {process.pid}).\n"
        + "\n".join(f"  {line}" for line in _lines(settings, answer))
        + f"\nUse it from every program on this warehouse: export {ENV_METASTORE_URI}="
        f"{settings.uri}\nStop it with `ecom metastore stop`."
    )
    return 0


def _lines(
    settings: MetastoreSettings, answer: Answer, note: Mapping[str, str] | None = None
) -> list[str]:
    note = note or {}
    return [
        labelled("uri", f"{settings.uri} {answer.describe()}"),
        labelled("database", note.get("database", settings.describe_database())),
        labelled("warehouse", note.get("warehouse_dir", str(settings.warehouse_dir))),
    ]


def stop(settings: MetastoreSettings, report: Say = say) -> int:
    """Stop this folder's service (Derby shut down cleanly); anything else is left alone."""
    return service(settings).stop(report)


def status(settings: MetastoreSettings, report: Say = say) -> int:
    """Whether the service runs (exit 3 when not), whether it answers, its URI, its database,
    and where it listens."""
    recorded = recorded_settings(settings)
    note = service(settings).note()

    def details(pid: int) -> Sequence[str]:
        return _lines(recorded, probe(recorded, PROBE_TIMEOUT, pid), note)

    return service(settings).status(report, details)
