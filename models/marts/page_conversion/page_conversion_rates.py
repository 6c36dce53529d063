"""Page conversion of the task's target page flow (SPEC 3), one row per step of the flow.

The jumps are counted in Spark (int_page_jumps_matched, one row per step); the rates follow
from those few rows with python_udfs.page_flow.step_conversions. Incremental by task: the
folder's config writes this task's partition and leaves every other task's rows as they are.
"""

from pyspark.sql.types import (
    DoubleType,
    IntegerType,
    LongType,
    StringType,
    StructField,
    StructType,
)

from python_udfs.frames import local_frame
from python_udfs.page_flow import StepCount, step_conversions

SCHEMA = StructType(
    [
        StructField("task_id", StringType(), nullable=False),
        StructField("step", IntegerType(), nullable=False),
        StructField("from_page_id", LongType(), nullable=False),
        StructField("to_page_id", LongType(), nullable=False),
        StructField("jump_count", LongType(), nullable=False),
        StructField("base_count", LongType(), nullable=False),
        StructField("conversion_rate", DoubleType(), nullable=True),
    ]
)


def model(dbt, session):
    # dbt makes a Python model a table unless the model itself names its materialization; the
    # rest (insert_overwrite by task_id, the pre-hook) comes from the folder's config.
    dbt.config(materialized="incremental")

    task = dbt.ref("int_task_parameters").first()
    counts = [StepCount(**row.asDict()) for row in dbt.ref("int_page_jumps_matched").collect()]
    rows = [
        (
            task.task_id,
            conversion.step,
            conversion.from_page_id,
            conversion.to_page_id,
            conversion.jump_count,
            conversion.base_count,
            conversion.conversion_rate,
        )
        for conversion in step_conversions(counts)
    ]
    # through Arrow: a Python list would start Python workers to write these few rows
    return local_frame(session, rows, SCHEMA)
