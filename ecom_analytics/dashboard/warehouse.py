"""Reading the warehouse's tables without opening a Spark session.

The embedded Derby metastore admits one JVM, and dbt or the streaming job may hold it, so the
dashboards never start Spark. Two sources, one interface (`Warehouse`):

- `FileWarehouse` (default) reads the tables' files where the embedded `local` target writes
  them, `$ECOM_WAREHOUSE_DIR/warehouse/<schema>.db/<table>/`: a Delta table (the ad-click
  stream's, a folder with `_delta_log/`) at its newest committed version, through delta-rs
  (`delta.py`); any other table (dbt's marts) as Parquet files in Hive-style partition folders
  (`task_id=.../`, `action_date=.../`).
- `ThriftWarehouse` asks a Spark Thrift Server (the `thrift` target of profiles.yml, from the same
  variables: ECOM_THRIFT_HOST/PORT/USER/AUTH/KERBEROS_SERVICE_NAME/USE_SSL and
  DBT_ENV_SECRET_ECOM_THRIFT_PASSWORD), e.g. a cluster's.

`ECOM_DASHBOARD_SOURCE` (`files` | `thrift`; `parquet` is the old name of `files`) chooses; unset,
it follows `ECOM_TARGET`. Both sources return frames with the same types: days as
`datetime.date`, times as pandas timestamps without a time zone (UTC, the warehouse's zone).
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Protocol, TypeVar

import deltalake
import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
from deltalake.exceptions import DeltaError, DeltaProtocolError, TableNotFoundError

from ecom_analytics.dashboard import delta
from ecom_analytics.dashboard.contract import DATE_COLUMNS, TIMESTAMP_COLUMNS
from ecom_analytics.spark_session import DEFAULT_WAREHOUSE_DIR

SOURCES = ("files", "thrift")
SOURCE_ALIASES = {"parquet": "files"}
"""Former names of sources, still accepted: `parquet` named `files` before the stream's Delta
tables."""
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_REWRITE_RETRIES = 3
_T = TypeVar("_T")


class WarehouseError(Exception):
    """A table cannot be read; the message says why and what to do."""


class TableNotFound(WarehouseError):
    """The table does not exist (yet)."""


class WarehouseUnavailable(WarehouseError):
    """The source cannot be reached or read right now."""


class Warehouse(Protocol):
    """Reads whole tables or the rows whose columns equal given values."""

    @property
    def label(self) -> str:
        """Where the tables come from, for people."""
        ...

    def read(self, table: str, **equals: object) -> pd.DataFrame:
        """The rows of `table` whose columns equal `equals` (all rows when empty)."""
        ...

    def distinct(self, table: str, column: str) -> list[Any]:
        """The distinct non-null values of `column` in `table`, sorted."""
        ...


def normalise(frame: pd.DataFrame) -> pd.DataFrame:
    """Days as `datetime.date` and times as pandas timestamps in UTC without a time zone (as
    Spark's session shows them), whatever the source gave."""
    for column in frame.columns:
        if column in DATE_COLUMNS:
            frame[column] = pd.to_datetime(frame[column]).dt.date
        elif column in TIMESTAMP_COLUMNS:
            frame[column] = pd.to_datetime(frame[column], utc=True).dt.tz_localize(None)
        elif isinstance(frame[column].dtype, pd.DatetimeTZDtype):
            frame[column] = frame[column].dt.tz_convert(None)
    return frame


def _literal(value: object) -> str:
    """A partition value as it appears in a folder name or a SQL string literal."""
    return value.isoformat() if isinstance(value, date) else str(value)


def _check_identifier(*names: str) -> None:
    for name in names:
        if not _IDENTIFIER.match(name):
            raise ValueError(f"not a plain SQL identifier: {name!r}")


@dataclass(frozen=True)
class FileWarehouse:
    """The tables' files under `root/<schema>.db/<table>/`: Delta tables through their log, the
    others as Parquet folders."""

    root: Path
    schema: str

    @property
    def label(self) -> str:
        return f"table files in {self.root / self.schema_dir}"

    @property
    def schema_dir(self) -> str:
        # the Hive metastore keeps database names in lower case
        return f"{self.schema.lower()}.db"

    def table_dir(self, table: str) -> Path:
        _check_identifier(table)
        path = self.root / self.schema_dir / table.lower()
        if not path.is_dir():
            raise TableNotFound(f"table `{self.schema}.{table}` does not exist (no {path})")
        return path

    def read(self, table: str, **equals: object) -> pd.DataFrame:
        path = self.table_dir(table)
        _check_identifier(*equals)
        if delta.is_delta_table(path):
            rows = self._read_delta(table, path, lambda: delta.read(path, equals).to_pandas())
            return normalise(rows)

        def attempt() -> pd.DataFrame:
            keys = partition_keys(path)
            dataset = ds.dataset(path, format="parquet", partitioning=_string_keys(keys))
            if not dataset.files:
                return pd.DataFrame()
            condition = None
            for column, value in equals.items():
                term = ds.field(column) == (_literal(value) if column in keys else pa.scalar(value))
                condition = term if condition is None else condition & term
            return dataset.to_table(filter=condition).to_pandas()

        return normalise(_retry_rewrites(table, attempt))

    def distinct(self, table: str, column: str) -> list[Any]:
        path = self.table_dir(table)
        if delta.is_delta_table(path):
            values = self._read_delta(table, path, lambda: delta.distinct(path, column).to_pandas())
        elif column in partition_keys(path):
            # one folder per value: no need to open a file
            values = pd.Series(partition_values(path, column), dtype=object)
        else:
            frame = self.read(table)
            values = frame[column] if column in frame else pd.Series(dtype=object)
        values = values.dropna().drop_duplicates()
        return sorted(normalise(values.to_frame(name=column))[column].tolist())

    def _read_delta(self, table: str, path: Path, read: Callable[[], _T]) -> _T:
        """Run `read` on the Delta table `table`, its errors said in the warehouse's terms."""

        def attempt() -> _T:
            try:
                return read()
            except TableNotFoundError:
                raise TableNotFound(
                    f"table `{self.schema}.{table}` has no committed version yet ({path})"
                ) from None
            except DeltaError as error:
                if isinstance(error, DeltaProtocolError) or "not supported" in str(error):
                    raise WarehouseUnavailable(
                        f"`{table}` uses a Delta Lake feature that deltalake "
                        f"{deltalake.__version__} cannot read ({_first_line(error)}): read it "
                        "through a Spark Thrift Server (ECOM_DASHBOARD_SOURCE=thrift)"
                    ) from error
                raise

        return _retry_rewrites(table, attempt)


def _string_keys(keys: list[str]) -> ds.Partitioning:
    # partition values stay strings here (a task id "42" is not a number); `normalise` gives
    # days their type afterwards
    return ds.partitioning(pa.schema([(key, pa.string()) for key in keys]), flavor="hive")


def _visible(entries: Iterable[Path]) -> Iterator[Path]:
    """Entries Spark and pyarrow consider data: not `_SUCCESS`, `.crc` files, `_temporary`."""
    return (entry for entry in entries if not entry.name.startswith(("_", ".")))


def partition_keys(path: Path) -> list[str]:
    """The Hive partition columns of a table folder, outermost first (`[]` if unpartitioned)."""
    keys: list[str] = []
    level = path
    while True:
        folders = [entry for entry in _visible(level.iterdir()) if entry.is_dir()]
        named = [folder for folder in folders if "=" in folder.name]
        if not named:
            return keys
        keys.append(named[0].name.split("=", 1)[0])
        level = named[0]


def partition_values(path: Path, key: str) -> list[str]:
    """The values of the outermost-first partition column `key` that hold at least one file."""
    keys = partition_keys(path)
    depth = keys.index(key)
    folders = [path]
    for _ in range(depth + 1):
        folders = [sub for folder in folders for sub in _visible(folder.iterdir()) if sub.is_dir()]
    values = []
    for folder in folders:
        if any(file.is_file() for file in _visible(folder.rglob("*"))):
            raw = folder.name.split("=", 1)[1]
            values.append(None if raw == "__HIVE_DEFAULT_PARTITION__" else _unescape(raw))
    return values


def _unescape(value: str) -> str:
    """Undo Hive's `%XX` escaping of special characters in partition folder names."""
    return re.sub(r"%([0-9A-Fa-f]{2})", lambda match: chr(int(match.group(1), 16)), value)


def _retry_rewrites(table: str, read: Callable[[], _T]) -> _T:
    """Run `read`, again when a writer replaced files under it (dbt's insert_overwrite, a
    vacuum of a Delta table)."""
    failure: Exception | None = None
    for attempt in range(1, _REWRITE_RETRIES + 1):
        try:
            return read()
        except (OSError, pa.ArrowInvalid, DeltaError) as error:
            failure = error
            if attempt < _REWRITE_RETRIES:
                time.sleep(0.2 * attempt)
    raise WarehouseUnavailable(
        f"`{table}` is being rewritten or is unreadable ({_first_line(failure)}); "
        "it is read again on the next refresh"
    ) from failure


@dataclass(frozen=True)
class ThriftWarehouse:
    """The tables of `schema` through a Spark Thrift Server (HiveServer2 protocol, PyHive).

    It connects the way dbt-spark connects the `thrift` target: `auth` empty means the
    server's default (NONE), LDAP/CUSTOM take `password`, KERBEROS `kerberos_service_name`,
    and `use_ssl` speaks TLS.
    """

    host: str
    port: int
    user: str
    schema: str
    auth: str = ""
    password: str = field(default="", repr=False)
    kerberos_service_name: str = ""
    use_ssl: bool = False

    @property
    def label(self) -> str:
        return f"Thrift server {self.host}:{self.port}, schema {self.schema}"

    def read(self, table: str, **equals: object) -> pd.DataFrame:
        _check_identifier(table, *equals)
        where = " and ".join(f"{column} = %({column})s" for column in equals)
        sql = f"select * from {self.schema}.{table}" + (f" where {where}" if where else "")
        parameters = {column: _literal(value) for column, value in equals.items()}
        return normalise(self._query(table, sql, parameters))

    def distinct(self, table: str, column: str) -> list[Any]:
        _check_identifier(table, column)
        sql = (
            f"select distinct {column} from {self.schema}.{table} "
            f"where {column} is not null order by {column}"
        )
        return normalise(self._query(table, sql, {}))[column].tolist()

    def _query(self, table: str, sql: str, parameters: Mapping[str, str]) -> pd.DataFrame:
        with self._cursor() as cursor:
            try:
                cursor.execute(sql, dict(parameters) or None)
            except Exception as error:
                if "TABLE_OR_VIEW_NOT_FOUND" in str(error):
                    raise TableNotFound(
                        f"table `{self.schema}.{table}` does not exist on {self.label}"
                    ) from None
                raise WarehouseUnavailable(
                    f"query on `{self.schema}.{table}` failed: {_first_line(error)}"
                ) from error
            names = [column[0].rsplit(".", 1)[-1] for column in cursor.description]
            return pd.DataFrame.from_records(cursor.fetchall(), columns=names)

    @contextmanager
    def _cursor(self) -> Iterator[Any]:
        from pyhive import hive

        auth = self.auth or None
        try:
            if self.use_ssl:
                from dbt.adapters.spark.connections import build_ssl_transport

                transport = build_ssl_transport(
                    host=self.host,
                    port=self.port,
                    username=self.user,
                    auth=auth or "NONE",
                    kerberos_service_name=self.kerberos_service_name,
                    password=self.password or None,
                )
                connection = hive.connect(thrift_transport=transport)
            else:
                connection = hive.connect(
                    host=self.host,
                    port=self.port,
                    username=self.user,
                    auth=auth,
                    kerberos_service_name=self.kerberos_service_name or None,
                    password=self.password or None,
                )
        except Exception as error:
            raise WarehouseUnavailable(
                f"cannot reach the Spark Thrift Server at {self.host}:{self.port} "
                f"({_first_line(error)}): start it, or check ECOM_THRIFT_HOST/ECOM_THRIFT_PORT, "
                "or read the local warehouse with ECOM_DASHBOARD_SOURCE=files"
            ) from error
        try:
            cursor = connection.cursor()
            try:
                yield cursor
            finally:
                cursor.close()
        finally:
            connection.close()


def _first_line(error: BaseException | None) -> str:
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0][:300]


def source_name(env: Mapping[str, str] = os.environ) -> str:
    """`ECOM_DASHBOARD_SOURCE` (a former name as today's), or `thrift` when dbt's target is
    `thrift`, else `files`."""
    default = "thrift" if env.get("ECOM_TARGET") == "thrift" else "files"
    name = (env.get("ECOM_DASHBOARD_SOURCE") or default).strip().lower()
    name = SOURCE_ALIASES.get(name, name)
    if name not in SOURCES:
        raise WarehouseError(
            f"ECOM_DASHBOARD_SOURCE={name!r} is not a source; use one of {', '.join(SOURCES)}"
        )
    return name


def from_environment(env: Mapping[str, str] = os.environ) -> Warehouse:
    """The source the environment configures, with profiles.yml's variables and defaults."""
    schema = env.get("ECOM_SCHEMA", "ecom")
    if source_name(env) == "thrift":
        port = env.get("ECOM_THRIFT_PORT", "10000")
        if not port.isdigit():
            raise WarehouseError(f"ECOM_THRIFT_PORT must be a port number, got {port!r}")
        return ThriftWarehouse(
            host=env.get("ECOM_THRIFT_HOST", "127.0.0.1"),
            port=int(port),
            user=env.get("ECOM_THRIFT_USER", env.get("USER", "dbt")),
            schema=schema,
            auth=env.get("ECOM_THRIFT_AUTH", ""),
            password=env.get("DBT_ENV_SECRET_ECOM_THRIFT_PASSWORD", ""),
            kerberos_service_name=env.get("ECOM_THRIFT_KERBEROS_SERVICE_NAME", ""),
            use_ssl=env.get("ECOM_THRIFT_USE_SSL", "false").lower() in ("true", "1", "yes"),
        )
    root = Path(env.get("ECOM_WAREHOUSE_DIR", DEFAULT_WAREHOUSE_DIR)) / "warehouse"
    return FileWarehouse(root=root.resolve(), schema=schema)
