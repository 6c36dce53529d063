"""Files and folders on any Hadoop file system (the checkpoint may live on HDFS or S3 too)."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pyspark import SparkContext
    from pyspark.sql import SparkSession


@functools.lru_cache(maxsize=4)
def _hadoop(context: SparkContext) -> tuple[Any, Any]:
    """(Path class, Hadoop configuration) of a Spark context, looked up once: py4j resolves a
    dotted name one package at a time, each a failed class lookup in the JVM."""
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
    """True when the folder exists and holds an entry not starting with `_` or `.`."""
    fs, path = _path(spark, location)
    if not fs.exists(path):
        return False
    return any(
        not status.getPath().getName().startswith(("_", ".")) for status in fs.listStatus(path)
    )


def newest_numbered(spark: SparkSession, location: str) -> str | None:
    """The entry of a folder with the highest number as its name (a checkpoint's log), or None."""
    fs, path = _path(spark, location)
    if not fs.exists(path):
        return None
    numbered = [
        (int(status.getPath().getName()), status.getPath().toString())
        for status in fs.listStatus(path)
        if status.getPath().getName().isdigit()
    ]
    return max(numbered)[1] if numbered else None
