"""The streaming tables: their one definition (the dbt sources file) and how the job creates them.

`models/staging/ad_stream/_ad_stream__sources.yml` lists every table with its columns, types and
`meta.ad_stream` (`kind`: `append` or `snapshot`, optional `partition_by`), and the Delta table
properties they all share (the source's `meta.ad_stream_table_properties`). dbt's `on-run-start`
macro `create_ad_stream_tables` and this module build the same `create table if not exists ...
using delta` statement from it, so the job and the dbt project cannot disagree on a schema.
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
    """One streaming table: name, ordered (column, type) pairs, kind, partition column and
    Delta table properties."""

    name: str
    columns: tuple[tuple[str, str], ...]
    kind: str
    partition_by: str | None
    properties: tuple[tuple[str, str], ...] = ()

    @property
    def column_names(self) -> list[str]:
        return [name for name, _ in self.columns]

    def ddl(self, schema: str) -> str:
        """`create table if not exists` in the form the dbt macro renders it."""
        columns = ", ".join(f"{name} {data_type}" for name, data_type in self.columns)
        partitioned = f" partitioned by ({self.partition_by})" if self.partition_by else ""
        properties = ", ".join(f"'{key}' = '{value}'" for key, value in self.properties)
        return (
            f"create table if not exists {schema}.{self.name} ({columns}) using delta"
            f"{partitioned}{f' tblproperties ({properties})' if properties else ''}"
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
    properties = tuple(
        (key, str(value))
        for key, value in source.get("meta", {}).get("ad_stream_table_properties", {}).items()
    )
    tables = {}
    for table in source["tables"]:
        meta = table["meta"]["ad_stream"]
        tables[table["name"]] = StreamTable(
            name=table["name"],
            columns=tuple((column["name"], column["data_type"]) for column in table["columns"]),
            kind=meta["kind"],
            partition_by=meta.get("partition_by"),
            properties=properties,
        )
    return tables


TABLES = load_tables()


def ensure_tables(spark: SparkSession, schema: str) -> dict[str, str]:
    """Create the schema and any missing table; fail when one exists with other columns or not
    as a Delta table. Returns each table's location."""
    spark.sql(f"create schema if not exists {schema}")
    locations = {}
    for table in TABLES.values():
        spark.sql(table.ddl(schema))
        details = _details(spark, schema, table.name)
        found = [
            (f.name, f.dataType.simpleString())
            for f in spark.table(f"{schema}.{table.name}").schema
        ]
        expected = [(name, _spark_type(data_type)) for name, data_type in table.columns]
        if found != expected or details.get("Provider", "").lower() != "delta":
            what = (
                f"columns {_describe(found)}, but the job writes {_describe(expected)}"
                if found != expected
                else f"format {details.get('Provider')}, but the job writes Delta tables"
            )
            raise TableMismatchError(
                f"{schema}.{table.name} has {what}: it was made by another version of the job. "
                "Drop it (or run with --reset to drop every streaming table and the checkpoint)."
            )
        locations[table.name] = details["Location"]
    return locations


def _details(spark: SparkSession, schema: str, name: str) -> dict[str, str]:
    """`describe table extended`'s table details (Provider, Location, ...)."""
    rows = spark.sql(f"describe table extended {schema}.{name}").collect()
    return {row.col_name: row.data_type for row in rows}


def table_location(spark: SparkSession, schema: str, name: str) -> str:
    """The table's storage location (a URI)."""
    return _details(spark, schema, name)["Location"]


def drop_tables(spark: SparkSession, schema: str) -> list[str]:
    """Drop every streaming table of `schema` with all its files; returns their locations."""
    from streaming.storage import delete_path

    dropped = []
    for name in TABLES:
        if not spark.catalog.tableExists(f"{schema}.{name}"):
            continue
        root = table_location(spark, schema, name)
        spark.sql(f"drop table {schema}.{name}")
        delete_path(spark, root)
        dropped.append(root)
    return dropped


def _spark_type(data_type: str) -> str:
    return {"int": "int", "integer": "int"}.get(data_type, data_type)


def _describe(columns: list[tuple[str, str]]) -> str:
    return "(" + ", ".join(f"{name} {data_type}" for name, data_type in columns) + ")"
