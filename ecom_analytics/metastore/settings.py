"""What `ecom metastore start` runs: settings from the environment, hive-site.xml, command line.

The service is Hive's metastore (Hive 2.3, pyspark's own jars) serving one warehouse: table
data under `$ECOM_WAREHOUSE_DIR/warehouse` (Hive's warehouse folder, so databases and tables
keep the locations the embedded metastore gives them) and, by default, the warehouse's own
Derby database `$ECOM_WAREHOUSE_DIR/metastore_db`: the embedded metastore's, so starting and
stopping the service loses nothing and every program sees the same tables either way. For
production, a PostgreSQL or MySQL database instead (`--jdbc-url`), its user and password from
the environment; the password goes to the JVM through its environment only.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit
from xml.sax.saxutils import escape

from ecom_analytics.services.network import LOOPBACK, client_host, host_port, is_loopback
from ecom_analytics.services.service import StateFiles
from ecom_analytics.services.settings import (
    PROJECT_ROOT,
    SettingsError,
    parse_assignments,
    port_setting,
)
from ecom_analytics.spark_session import DEFAULT_WAREHOUSE_DIR

SERVER_CLASS = "ecom_analytics.metastore.MetastoreServer"
SERVER_SOURCE = Path(__file__).with_name("MetastoreServer.java")
COMPILER_CLASS = "org.codehaus.janino.SimpleCompiler"
"""Spark's Java compiler, which compiles SERVER_SOURCE and runs it when the JVM starts."""
DEFAULT_PORT = 9083
DEFAULT_HEAP = "1g"
LOG4J_CONFIG = PROJECT_ROOT / "conf" / "metastore-log4j2.properties"

ENV_STATE_DIR = "ECOM_METASTORE_DIR"
ENV_PORT = "ECOM_METASTORE_PORT"
ENV_BIND_ADDRESS = "ECOM_METASTORE_BIND_ADDRESS"
ENV_HEAP = "ECOM_METASTORE_HEAP"
ENV_JDBC_URL = "ECOM_METASTORE_JDBC_URL"
ENV_JDBC_USER = "ECOM_METASTORE_JDBC_USER"
ENV_JDBC_PASSWORD = "ECOM_METASTORE_JDBC_PASSWORD"
"""Read by MetastoreServer.java from its environment: never on a command line or in a file."""
ENV_DRIVER_JAR = "ECOM_METASTORE_DRIVER_JAR"


@dataclass(frozen=True)
class Backend:
    """A database the metastore can keep its tables in."""

    name: str
    driver_class: str
    driver_hint: str
    """Where its JDBC driver comes from."""


BACKENDS = {
    "derby": Backend("Derby", "org.apache.derby.jdbc.EmbeddedDriver", "pyspark ships it"),
    "postgresql": Backend("PostgreSQL", "org.postgresql.Driver", "fetched by `make setup`"),
    "mysql": Backend(
        "MySQL",
        "com.mysql.cj.jdbc.Driver",
        "give MySQL Connector/J's jar with --driver-jar or " + ENV_DRIVER_JAR,
    ),
    "mariadb": Backend(
        "MariaDB",
        "org.mariadb.jdbc.Driver",
        "give MariaDB Connector/J's jar with --driver-jar or " + ENV_DRIVER_JAR,
    ),
}

_HEAP_SUFFIXES = ("k", "m", "g")

HIVE_DEFAULTS = {
    # Hive's schema tool and its SQL scripts are not part of pyspark: DataNucleus creates the
    # metastore's tables in an empty database (Derby, PostgreSQL and MySQL alike)
    "datanucleus.schema.autoCreateAll": "true",
    # ... all of them when the service starts, not each on first use: a table created lazily
    # under DataNucleus's lock while another connection holds a lock on a table it references
    # deadlocks, and PostgreSQL cannot see the JVM half of that cycle
    "datanucleus.autoStartMechanism": "MetaData",
    "datanucleus.autoStartMetaDataFiles": "package.jdo",
    "hive.metastore.schema.verification": "false",
    # BoneCP, Hive 2.3's default connection pool, is not among pyspark's jars; HikariCP is
    "datanucleus.connectionPoolingType": "HikariCP",
    # Hive's asynchronous logging needs the LMAX disruptor jar, which pyspark does not ship
    "hive.async.log.enabled": "false",
}
"""hive-site.xml settings for pyspark's jars; `--conf KEY=VALUE` overrides any."""


@dataclass(frozen=True)
class MetastoreSettings:
    """Where the service keeps its files, which warehouse and database it serves, where it
    listens."""

    state_dir: Path
    warehouse_root: Path
    """`$ECOM_WAREHOUSE_DIR`, absolute: the warehouse whose tables the service keeps."""
    bind_address: str = LOOPBACK
    port: int = DEFAULT_PORT
    heap: str = DEFAULT_HEAP
    jdbc_url: str | None = None
    """A PostgreSQL or MySQL database; None: the warehouse's own Derby database."""
    jdbc_user: str | None = None
    driver_jars: tuple[Path, ...] = ()
    extra_conf: Mapping[str, str] = field(default_factory=dict)

    @property
    def files(self) -> StateFiles:
        """`metastore.pid`, `metastore.json` (what it was started with), `metastore.log`."""
        return StateFiles(self.state_dir, "metastore")

    @property
    def conf_dir(self) -> Path:
        """The folder of the generated hive-site.xml, first on the service's class path."""
        return self.state_dir / "conf"

    @property
    def hive_site_file(self) -> Path:
        return self.conf_dir / "hive-site.xml"

    @property
    def derby_log(self) -> Path:
        return self.state_dir / "derby.log"

    @property
    def derby_database(self) -> Path:
        """The warehouse's embedded metastore, which the service serves by default."""
        return self.warehouse_root / "metastore_db"

    @property
    def warehouse_dir(self) -> Path:
        """The table data: Hive's warehouse folder, the `local` target's spark.sql.warehouse.dir."""
        return self.warehouse_root / "warehouse"

    @property
    def backend_key(self) -> str:
        """`derby`, `postgresql`, `mysql` or `mariadb`."""
        if self.jdbc_url is None:
            return "derby"
        return self.jdbc_url.removeprefix("jdbc:").split(":", 1)[0]

    @property
    def backend(self) -> Backend:
        return BACKENDS[self.backend_key]

    @property
    def connection_url(self) -> str:
        return self.jdbc_url or f"jdbc:derby:;databaseName={self.derby_database};create=true"

    @property
    def uri(self) -> str:
        """What clients set as ECOM_METASTORE_URI (loopback when bound to all interfaces)."""
        return f"thrift://{host_port(client_host(self.bind_address), self.port)}"

    @property
    def loopback_only(self) -> bool:
        return is_loopback(self.bind_address)

    def describe_database(self) -> str:
        """`Derby <folder>` or `PostgreSQL <url> (user hive)`: never a password."""
        if self.jdbc_url is None:
            return f"Derby {self.derby_database} (the warehouse's own)"
        user = f" (user {self.jdbc_user})" if self.jdbc_user else ""
        return f"{self.backend.name} {self.jdbc_url}{user}"


def parse_heap(value: str, name: str) -> str:
    """A JVM heap size such as `512m` or `1g`, or a SettingsError naming `name`."""
    digits = value[:-1] if value[-1:].lower() in _HEAP_SUFFIXES else value
    if not digits.isdigit() or int(digits) == 0:
        raise SettingsError(f"{name} takes a heap size such as 512m or 1g, got {value!r}")
    return value


def check_jdbc_url(url: str, name: str) -> str:
    """A JDBC URL of a supported database, without credentials; a SettingsError otherwise."""
    scheme = url.removeprefix("jdbc:").split(":", 1)[0] if url.startswith("jdbc:") else ""
    if scheme not in BACKENDS or scheme == "derby":
        raise SettingsError(
            f"{name} takes a JDBC URL of PostgreSQL or MySQL, e.g. "
            f"jdbc:postgresql://db.example.com:5432/metastore, got {url!r} (leave it unset for "
            "the warehouse's own Derby database)"
        )
    parameters = {key.lower() for key, _ in parse_qsl(urlsplit(url.removeprefix("jdbc:")).query)}
    if "password" in parameters or ";password=" in url.lower():
        raise SettingsError(
            f"{name} must not hold the password (command lines and logs show it): remove it "
            f"from the URL and set {ENV_JDBC_PASSWORD} instead"
        )
    return url


def resolve(path: str, project_root: Path) -> Path:
    return (project_root / Path(path).expanduser()).resolve()


def settings_from(
    env: Mapping[str, str],
    project_root: Path = PROJECT_ROOT,
    *,
    state_dir: str | None = None,
    bind_address: str | None = None,
    port: str | int | None = None,
    heap: str | None = None,
    jdbc_url: str | None = None,
    driver_jars: Sequence[str] = (),
    extra_conf: Sequence[str] = (),
) -> MetastoreSettings:
    """Settings from command-line values, falling back to the environment, then the defaults;
    relative paths are taken from the project root."""
    warehouse_root = resolve(env.get("ECOM_WAREHOUSE_DIR") or DEFAULT_WAREHOUSE_DIR, project_root)
    url = jdbc_url or env.get(ENV_JDBC_URL) or None
    jars = list(driver_jars) or [
        item for item in (env.get(ENV_DRIVER_JAR) or "").split(os.pathsep) if item
    ]
    settings = MetastoreSettings(
        state_dir=resolve(
            state_dir or env.get(ENV_STATE_DIR) or str(warehouse_root / "metastore"),
            project_root,
        ),
        warehouse_root=warehouse_root,
        bind_address=bind_address or env.get(ENV_BIND_ADDRESS) or LOOPBACK,
        port=port_setting(port, env, ENV_PORT, DEFAULT_PORT, "--port"),
        heap=parse_heap(heap, "--heap")
        if heap
        else parse_heap(env.get(ENV_HEAP) or DEFAULT_HEAP, ENV_HEAP),
        jdbc_url=check_jdbc_url(url, "--jdbc-url" if jdbc_url else ENV_JDBC_URL) if url else None,
        jdbc_user=env.get(ENV_JDBC_USER) or None,
        driver_jars=tuple(resolve(jar, project_root) for jar in jars),
        extra_conf=parse_assignments(extra_conf, "--conf"),
    )
    if settings.jdbc_url is None and settings.jdbc_user:
        raise SettingsError(
            f"{ENV_JDBC_USER} is set but no database is: give its URL with --jdbc-url or "
            f"{ENV_JDBC_URL} (or unset {ENV_JDBC_USER} for the warehouse's Derby database)"
        )
    for key in ("javax.jdo.option.ConnectionPassword", "javax.jdo.option.ConnectionURL"):
        if key in settings.extra_conf:
            raise SettingsError(
                f"--conf {key} is not accepted: give the database with --jdbc-url and its "
                f"password in {ENV_JDBC_PASSWORD}"
            )
    return settings


def hive_site(settings: MetastoreSettings) -> dict[str, str]:
    """The service's hive-site.xml settings (never the password)."""
    site = {
        "javax.jdo.option.ConnectionURL": settings.connection_url,
        "javax.jdo.option.ConnectionDriverName": settings.backend.driver_class,
        "hive.metastore.warehouse.dir": str(settings.warehouse_dir),
        **HIVE_DEFAULTS,
    }
    if settings.jdbc_user:
        site["javax.jdo.option.ConnectionUserName"] = settings.jdbc_user
    site.update(settings.extra_conf)
    return site


def hive_site_text(site: Mapping[str, str]) -> str:
    """hive-site.xml with these settings."""
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        # (no double hyphen may appear in an XML comment)
        "<!-- written by `ecom metastore start` at every start: change it with its conf option"
        " (KEY=VALUE) -->",
        "<configuration>",
    ]
    lines += [
        f"  <property><name>{escape(key)}</name><value>{escape(value)}</value></property>"
        for key, value in site.items()
    ]
    lines.append("</configuration>")
    return "\n".join(lines) + "\n"


def class_path(settings: MetastoreSettings, pyspark_jars: Path, jdbc_jars: Sequence[Path]) -> str:
    """hive-site.xml's folder first, then pyspark's jars and the JDBC driver's."""
    entries = [str(settings.conf_dir), f"{pyspark_jars}/*", *(str(jar) for jar in jdbc_jars)]
    return os.pathsep.join(entries)


def server_command(
    settings: MetastoreSettings, java: str, pyspark_jars: Path, jdbc_jars: Sequence[Path]
) -> list[str]:
    """`java ... SimpleCompiler MetastoreServer.java MetastoreServer <address> <port>`."""
    return [
        java,
        f"-Xmx{settings.heap}",
        "-XX:+ExitOnOutOfMemoryError",
        "-Djava.awt.headless=true",
        f"-Dlog4j2.configurationFile={LOG4J_CONFIG}",
        f"-Dderby.stream.error.file={settings.derby_log}",
        "-cp",
        class_path(settings, pyspark_jars, jdbc_jars),
        COMPILER_CLASS,
        str(SERVER_SOURCE),
        SERVER_CLASS,
        settings.bind_address,
        str(settings.port),
    ]


def is_server_command(command_line: Sequence[str], settings: MetastoreSettings) -> bool:
    """True when a process's command line is this folder's service (not a reused PID)."""
    return SERVER_CLASS in command_line and any(
        arg.startswith(f"{settings.conf_dir}{os.pathsep}") for arg in command_line
    )
