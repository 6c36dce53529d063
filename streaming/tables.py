"""The streaming tables: their one definition (the dbt sources file) and how the job creates them.

`models/staging/ad_stream/_ad_stream__sources.yml` lists every table with its columns, types and
`meta.ad_stream` (`kind`: `append` or `snapshot`, optional `partition_by`). dbt's `on-run-start`
macro `create_ad_stream_tables` and this module build the same `create table if not exists`
statement from it, so the job and the dbt project cannot disagree on a schema.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

if TYPE_CHECKING:
    from pyspark.sql import SparkSession
    from pyspark.sql.types import StructType

SOURCES_FILE = (
    Path(__file__).resolve().parents[1]
    / "models"
    / "staging"
    / "ad_stream"
    / "_ad_stream__sources.yml"
)
SOURCE_NAME = "ad_stream"
DEFAULT_SCHEMA = "ecom"


class TableMismatchError(RuntimeError):
    """A streaming table exists with other columns than its definition."""


@dataclass(frozen=True)
class StreamTable:
    """One streaming table: name, ordered (column, type) pairs, kind and partition column."""

    name: str
    columns: tuple[tuple[str, str], ...]
    kind: str
    partition_by: str | None

    @property
    def column_names(self) -> list[str]:
        return [name for name, _ in self.columns]

    def ddl(self, schema: str) -> str:
        """`create table if not exists` in the form the dbt macro renders it."""
        columns = ", ".join(f"{name} {data_type}" for name, data_type in self.columns)
        partitioned = f" partitioned by ({self.partition_by})" if self.partition_by else ""
        return (
            f"create table if not exists {schema}.{self.name} ({columns}) using parquet"
            f"{partitioned}"
        )

    def spark_schema(self) -> StructType:
        """The columns as a Spark schema (to read the table's files by path)."""
        from pyspark.sql.types import StructType

        return StructType.fromDDL(", ".join(f"{n} {t}" for n, t in self.columns))


def stream_schema() -> str:
    """Schema of the streaming tables: $ECOM_AD_STREAM_SCHEMA, else $ECOM_SCHEMA, else `ecom`."""
    return (
        os.environ.get("ECOM_AD_STREAM_SCHEMA") or os.environ.get("ECOM_SCHEMA") or DEFAULT_SCHEMA
    )


def load_tables(path: Path = SOURCES_FILE) -> dict[str, StreamTable]:
    """The tables of the `ad_stream` source, by name, in file order."""
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    (source,) = [item for item in document["sources"] if item["name"] == SOURCE_NAME]
    tables = {}
    for table in source["tables"]:
        meta = table["meta"]["ad_stream"]
        tables[table["name"]] = StreamTable(
            name=table["name"],
            columns=tuple((column["name"], column["data_type"]) for column in table["columns"]),
            kind=meta["kind"],
            partition_by=meta.get("partition_by"),
        )
    return tables


TABLES = load_tables()


def ensure_tables(spark: SparkSession, schema: str) -> None:
    """Create the schema and any missing table; fail when one exists with other columns."""
    spark.sql(f"create schema if not exists {schema}")
    for table in TABLES.values():
        spark.sql(table.ddl(schema))
        found = [
            (f.name, f.dataType.simpleString())
            for f in spark.table(f"{schema}.{table.name}").schema
        ]
        expected = [(name, _spark_type(data_type)) for name, data_type in table.columns]
        if found != expected:
            raise TableMismatchError(
                f"{schema}.{table.name} has columns {_describe(found)}, but the job writes "
                f"{_describe(expected)}: it was made by another version of the job. Drop it "
                "(or run with --reset to drop every streaming table and the checkpoint)."
            )


def table_location(spark: SparkSession, schema: str, name: str) -> str:
    """The table's storage location (a URI)."""
    rows = spark.sql(f"describe table extended {schema}.{name}").collect()
    return next(row.data_type for row in rows if row.col_name == "Location")


def drop_tables(spark: SparkSession, schema: str) -> list[str]:
    """Drop every streaming table of `schema` with all its files; returns their locations."""
    from streaming.storage import delete_path

    dropped = []
    for name in TABLES:
        if not spark.catalog.tableExists(f"{schema}.{name}"):
            continue
        root = version_root(table_location(spark, schema, name))
        spark.sql(f"drop table {schema}.{name}")
        delete_path(spark, root)
        dropped.append(root)
    return dropped


def version_root(location: str) -> str:
    """The table's own folder, also when its location points at one of its versions."""
    return location.split("/_versions/", 1)[0]


def _spark_type(data_type: str) -> str:
    return {"int": "int", "integer": "int"}.get(data_type, data_type)


def _describe(columns: list[tuple[str, str]]) -> str:
    return "(" + ", ".join(f"{name} {data_type}" for name, data_type in columns) + ")"
