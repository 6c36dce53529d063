"""Small DataFrames the driver holds: a Python model's few computed rows, the stream's batch stamp.

`spark.createDataFrame` of a Python list makes an RDD of pickled rows: every job that reads it
starts Python worker processes beside the JVM (about 0.9 s the first time in a build, about
90 ms a task after that on this machine; docs/performance.md), and on a cluster the executors
would need the driver's Python environment. Made through Arrow, the same rows become a local
relation that Spark reads in the driver, with Spark Connect sessions alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession
    from pyspark.sql.types import StructType


def local_frame(
    spark: SparkSession, rows: Sequence[Sequence[object]], schema: StructType | str
) -> DataFrame:
    """`rows` (tuples in `schema`'s column order) as a DataFrame of `schema` (a StructType or a
    DDL string). Timestamps must be aware datetimes (or None); a row of another width than
    the schema raises ValueError."""
    import pyarrow as pa
    from pyspark.sql.pandas.types import to_arrow_schema
    from pyspark.sql.types import StructType

    struct = schema if isinstance(schema, StructType) else StructType.fromDDL(schema)
    arrow_schema = to_arrow_schema(struct, timezone="UTC")
    columns = list(zip(*rows, strict=True)) if rows else [()] * len(struct.fields)
    table = pa.Table.from_arrays(
        [
            pa.array(column, type=field.type)
            for column, field in zip(columns, arrow_schema, strict=True)
        ],
        schema=arrow_schema,
    )
    return spark.createDataFrame(table, schema=struct)
