"""Idempotent writes of one micro-batch to Parquet tables, on any Hadoop file system.

Two ways to write, both keyed by the batch id so a replayed batch rewrites what it wrote before:

- `append_batch`: the batch's rows become files named `batch-<id>-...` in the table's (partition)
  folders, after the files of an earlier attempt at the same batch are deleted.
- `write_versions` + `publish_version`: a snapshot table keeps each partition (or the whole table)
  as versions in `_versions/[<column>=<value>/]batch_id=<id>/`; the metastore points the
  partition (or table) at the newest one, so a reader sees one whole version, and the previous
  version stays in place for a replay of the batch to start from.

Folders starting with `_` are invisible to Spark readers of the table's folder.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pyspark import SparkContext
    from pyspark.sql import DataFrame, SparkSession

VERSION_DIR = re.compile(r"batch_id=(\d+)")


@functools.lru_cache(maxsize=4)
def _hadoop(context: SparkContext) -> tuple[Any, Any]:
    """(Path class, Hadoop configuration) of a Spark context, looked up once: py4j resolves a
    dotted name one package at a time, each a failed class lookup in the JVM (about 1 ms a name
    against 0.1 ms for a call on the class; docs/performance.md)."""
    return context._jvm.org.apache.hadoop.fs.Path, context._jsc.hadoopConfiguration()


def _path(spark: SparkSession, location: str) -> tuple[Any, Any]:
    """(Hadoop FileSystem, Path) of a location."""
    path_class, configuration = _hadoop(spark.sparkContext)
    path = path_class(location)
    return path.getFileSystem(configuration), path


def delete_path(spark: SparkSession, location: str) -> None:
    """Delete a file or folder (recursively) if it exists."""
    fs, path = _path(spark, location)
    fs.delete(path, True)


def exists(spark: SparkSession, location: str) -> bool:
    fs, path = _path(spark, location)
    return bool(fs.exists(path))


def has_children(spark: SparkSession, location: str) -> bool:
    """True when the folder exists and holds a visible entry."""
    return next(_children(spark, location), None) is not None


def _children(spark: SparkSession, location: str) -> Iterator[tuple[str, bool]]:
    """(name, is_directory) of a folder's visible entries; nothing when it does not exist."""
    fs, path = _path(spark, location)
    if not fs.exists(path):
        return
    for status in fs.listStatus(path):
        name = status.getPath().getName()
        if not name.startswith(("_", ".")):
            yield name, status.isDirectory()


def _move(spark: SparkSession, source: str, target: str) -> None:
    fs, source_path = _path(spark, source)
    _, target_path = _path(spark, target)
    fs.mkdirs(target_path.getParent())
    if not fs.rename(source_path, target_path):
        raise OSError(f"could not move {source} to {target}")


def _staged(spark: SparkSession, df: DataFrame, staging: str, partition_by: str | None) -> None:
    """Write `df` to `staging` (an unpartitioned table's batch as one file)."""
    if partition_by:
        df.write.mode("overwrite").partitionBy(partition_by).parquet(staging)
    else:
        df.coalesce(1).write.mode("overwrite").parquet(staging)


def _staged_folders(staging: str, spark: SparkSession, partition_by: str | None) -> list[str]:
    """The staged partition folders (`<column>=<value>`), or `['']` for an unpartitioned table."""
    if not partition_by:
        return [""]
    return sorted(name for name, is_dir in _children(spark, staging) if is_dir)


def append_batch(
    spark: SparkSession, df: DataFrame, location: str, batch_id: int, partition_by: str | None
) -> list[str]:
    """Add `df` to the table at `location` as batch `batch_id`'s files; returns the partition
    values written. Files of an earlier attempt at the same batch are replaced."""
    staging = f"{location}/_staging/batch_id={batch_id}"
    _staged(spark, df, staging, partition_by)
    prefix = f"batch-{batch_id:012d}-"
    values = []
    for folder in _staged_folders(staging, spark, partition_by):
        target = f"{location}/{folder}".rstrip("/")
        fs, target_path = _path(spark, target)
        earlier = fs.globStatus(_hadoop(spark.sparkContext)[0](target_path, f"{prefix}*"))
        for status in earlier or []:
            fs.delete(status.getPath(), False)
        source = f"{staging}/{folder}".rstrip("/")
        for name, is_dir in _children(spark, source):
            if not is_dir:
                _move(spark, f"{source}/{name}", f"{target}/{prefix}{name}")
        if folder:
            values.append(folder.split("=", 1)[1])
    delete_path(spark, staging)
    return values


def versions(spark: SparkSession, folder: str) -> list[int]:
    """Batch ids of the versions kept in `folder`, ascending."""
    found = (VERSION_DIR.fullmatch(name) for name, is_dir in _children(spark, folder) if is_dir)
    return sorted(int(match.group(1)) for match in found if match)


def version_folder(location: str, partition: str | None, batch_id: int) -> str:
    """Where version `batch_id` of a partition (`<column>=<value>`) or of the table lives."""
    return f"{location}/_versions/{partition + '/' if partition else ''}batch_id={batch_id}"


def latest_before(
    spark: SparkSession, location: str, partition: str | None, batch_id: int
) -> str | None:
    """Folder of the newest version written by a batch before `batch_id`, if any."""
    parent = version_folder(location, partition, 0).rsplit("/", 1)[0]
    earlier = [version for version in versions(spark, parent) if version < batch_id]
    return version_folder(location, partition, earlier[-1]) if earlier else None


def write_versions(
    spark: SparkSession, df: DataFrame, location: str, batch_id: int, partition_by: str | None
) -> dict[str | None, str]:
    """Write `df` as version `batch_id` of each of its partitions (or of the whole table);
    returns partition value (None when unpartitioned) -> version folder."""
    staging = f"{location}/_staging/batch_id={batch_id}"
    _staged(spark, df, staging, partition_by)
    written: dict[str | None, str] = {}
    for folder in _staged_folders(staging, spark, partition_by):
        target = version_folder(location, folder or None, batch_id)
        delete_path(spark, target)
        _move(spark, f"{staging}/{folder}".rstrip("/"), target)
        written[folder.split("=", 1)[1] if folder else None] = target
    delete_path(spark, staging)
    return written


def prune_versions(
    spark: SparkSession, location: str, partition: str | None, keep_from: int
) -> None:
    """Delete the versions of a partition (or table) older than `keep_from`."""
    parent = version_folder(location, partition, 0).rsplit("/", 1)[0]
    for version in versions(spark, parent):
        if version < keep_from:
            delete_path(spark, version_folder(location, partition, version))
