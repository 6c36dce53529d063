"""What `ecom thrift start` runs: settings from the environment, Spark conf, the command line.

The server is one Spark application serving two protocols: the HiveServer2 Thrift protocol (SQL
models, BI tools) and Spark Connect (Python models of the `thrift` target). Its Spark settings
are those of the `local` target (`spark_session.local_spark_conf`), with the metastore, table
data and Derby log in a folder of its own; or, when `ECOM_METASTORE_URI` names a metastore
service, that service and the warehouse's tables (`$ECOM_WAREHOUSE_DIR/warehouse`), so the
`thrift` target sees the same tables as every other program. Both ports bind to loopback unless
asked otherwise.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ecom_analytics import jvm_packages
from ecom_analytics.services.network import LOOPBACK, client_host, host_port, is_loopback
from ecom_analytics.services.service import StateFiles
from ecom_analytics.services.settings import (
    SettingsError,
    parse_assignments,
    port_setting,
    resolve_state_dir,
)
from ecom_analytics.spark_session import (
    DEFAULT_WAREHOUSE_DIR,
    METASTORE_KEYS,
    local_spark_conf,
    metastore_conf,
)
from ecom_analytics.warehouse_lock import metastore_uri

THRIFT_SERVER_CLASS = "org.apache.spark.sql.hive.thriftserver.HiveThriftServer2"
CONNECT_PLUGIN = "org.apache.spark.sql.connect.SparkConnectPlugin"
APP_NAME = "ecom_analytics-thrift"
DEFAULT_THRIFT_PORT = 10000
DEFAULT_CONNECT_PORT = 15002

# Environment variables (the profile's `thrift` target reads the two port variables too).
ENV_BIND_ADDRESS = "ECOM_THRIFT_BIND_ADDRESS"
ENV_THRIFT_PORT = "ECOM_THRIFT_PORT"
ENV_CONNECT_PORT = "ECOM_SPARK_CONNECT_PORT"
ENV_STATE_DIR = "ECOM_THRIFT_DIR"

# Hive reads these before its own settings; a stray value would move the server's port or host.
_OVERRIDING_ENV = (
    "HIVE_SERVER2_THRIFT_BIND_HOST",
    "HIVE_SERVER2_THRIFT_PORT",
    "SPARK_REMOTE",
    "SPARK_CONNECT_MODE_ENABLED",
)


@dataclass(frozen=True)
class ServerSettings:
    """Where the server keeps its files and where it listens; with `metastore_uri` (from
    `ECOM_METASTORE_URI`), the metastore service it uses and the warehouse whose tables it
    serves, `shared_warehouse` (without: its own metastore and tables in its folder)."""

    state_dir: Path
    bind_address: str = LOOPBACK
    thrift_port: int = DEFAULT_THRIFT_PORT
    connect_port: int = DEFAULT_CONNECT_PORT
    driver_memory: str | None = None
    extra_conf: Mapping[str, str] = field(default_factory=dict)
    hiveconf: Mapping[str, str] = field(default_factory=dict)
    metastore_uri: str | None = None
    shared_warehouse: Path | None = None

    @property
    def files(self) -> StateFiles:
        return StateFiles(self.state_dir, "thriftserver")

    @property
    def pid_file(self) -> Path:
        return self.files.pid_file

    @property
    def state_file(self) -> Path:
        """JSON with the addresses of the running server (read by `ecom thrift status`)."""
        return self.files.note_file

    @property
    def log_file(self) -> Path:
        return self.files.log_file

    @property
    def warehouse_root(self) -> Path:
        """Where its table data (`warehouse/`) and, without a shared one, its metastore live."""
        return self.shared_warehouse or self.state_dir

    @property
    def warehouse_dir(self) -> Path:
        return self.warehouse_root / "warehouse"

    @property
    def hive_dir(self) -> Path:
        """Hive's working folders: operation logs, scratch, downloaded resources."""
        return self.state_dir / "hive"

    @property
    def client_host(self) -> str:
        """The address a client on this machine uses (loopback when bound to all interfaces)."""
        return client_host(self.bind_address)

    @property
    def thrift_address(self) -> str:
        return host_port(self.client_host, self.thrift_port)

    @property
    def connect_url(self) -> str:
        return f"sc://{host_port(self.client_host, self.connect_port)}"

    @property
    def loopback_only(self) -> bool:
        return is_loopback(self.bind_address)


def settings_from(
    env: Mapping[str, str],
    project_root: Path,
    *,
    state_dir: str | None = None,
    bind_address: str | None = None,
    thrift_port: str | int | None = None,
    connect_port: str | int | None = None,
    driver_memory: str | None = None,
    extra_conf: Sequence[str] = (),
    hiveconf: Sequence[str] = (),
) -> ServerSettings:
    """Settings from command-line values, falling back to the environment, then the defaults."""
    settings = ServerSettings(
        state_dir=resolve_state_dir(state_dir, env, ENV_STATE_DIR, "thrift", project_root),
        bind_address=bind_address or env.get(ENV_BIND_ADDRESS) or LOOPBACK,
        thrift_port=port_setting(
            thrift_port, env, ENV_THRIFT_PORT, DEFAULT_THRIFT_PORT, "--thrift-port"
        ),
        connect_port=port_setting(
            connect_port, env, ENV_CONNECT_PORT, DEFAULT_CONNECT_PORT, "--connect-port"
        ),
        driver_memory=driver_memory,
        extra_conf=parse_assignments(extra_conf, "--conf"),
        hiveconf=parse_assignments(hiveconf, "--hiveconf"),
        metastore_uri=metastore_uri(env),
        shared_warehouse=(
            project_root / (env.get("ECOM_WAREHOUSE_DIR") or DEFAULT_WAREHOUSE_DIR)
        ).resolve()
        if metastore_uri(env)
        else None,
    )
    if settings.thrift_port == settings.connect_port:
        raise SettingsError(
            f"the Thrift and Spark Connect ports are both {settings.thrift_port}; give them "
            f"different ports ({ENV_THRIFT_PORT} / {ENV_CONNECT_PORT})"
        )
    return settings


def spark_conf(settings: ServerSettings) -> dict[str, str]:
    """The application's Spark settings: the `local` target's, plus the Spark Connect server
    (and the archive of Spark's classes of `ecom jvm-archive`, when this machine has one)."""
    from dbt.adapters.sparkoss.class_archive import with_class_archive
    from dbt.adapters.sparkoss.session import expand_local_jars

    jvm_packages.jars("spark")  # PackagesError (what to run) when setup has not fetched them
    conf = local_spark_conf(APP_NAME, warehouse=str(settings.warehouse_root))
    for key in METASTORE_KEYS:
        conf.pop(key, None)
    conf.update(metastore_conf(settings.metastore_uri, str(settings.warehouse_root)))
    # the jars on the driver's own class path too, as for every embedded Spark
    conf = expand_local_jars(conf)
    if settings.driver_memory:
        conf["spark.driver.memory"] = settings.driver_memory
    conf.update(
        {
            "spark.plugins": CONNECT_PLUGIN,
            "spark.connect.grpc.binding.address": settings.bind_address,
            "spark.connect.grpc.binding.port": str(settings.connect_port),
        }
    )
    conf.update(settings.extra_conf)
    return with_class_archive(conf)


def hive_conf(settings: ServerSettings) -> dict[str, str]:
    """The HiveServer2 settings: binary Thrift protocol on the bind address and port, and Hive's
    working folders inside the server's folder (by default they are shared under /tmp by every
    server of the same user, and one server's shutdown deletes the others' operation logs)."""
    hive_dir = settings.hive_dir
    return {
        "hive.server2.transport.mode": "binary",
        "hive.server2.thrift.bind.host": settings.bind_address,
        "hive.server2.thrift.port": str(settings.thrift_port),
        "hive.server2.logging.operation.log.location": f"{hive_dir}/operation_logs",
        "hive.exec.local.scratchdir": f"{hive_dir}/scratch",
        "hive.downloaded.resources.dir": f"{hive_dir}/resources/${{hive.session.id}}_resources",
        **settings.hiveconf,
    }


def submit_command(settings: ServerSettings, spark_home: Path) -> list[str]:
    """`spark-submit` of the Thrift server class, with Spark Connect on the same application."""
    command = [str(spark_home / "bin" / "spark-submit"), "--class", THRIFT_SERVER_CLASS]
    for key, value in spark_conf(settings).items():
        command += ["--conf", f"{key}={value}"]
    command.append("spark-internal")
    for key, value in hive_conf(settings).items():
        command += ["--hiveconf", f"{key}={value}"]
    return command


def server_environment(base: Mapping[str, str], spark_home: Path, python: str) -> dict[str, str]:
    """The server's environment: this pyspark as SPARK_HOME, this Python for Python UDFs."""
    env = {key: value for key, value in base.items() if key not in _OVERRIDING_ENV}
    env["SPARK_HOME"] = str(spark_home)
    env["PYSPARK_PYTHON"] = python
    return env


def server_marker(settings: ServerSettings) -> str:
    """The argument that tells this folder's server from others: where Hive keeps its
    operation logs, always in the folder (the table data may be a shared warehouse's)."""
    return f"hive.server2.logging.operation.log.location={settings.hive_dir}/operation_logs"


def is_server_command(command_line: Sequence[str], settings: ServerSettings) -> bool:
    """True when a process's command line is this folder's Thrift server (not a reused PID)."""
    return THRIFT_SERVER_CLASS in command_line and server_marker(settings) in command_line
