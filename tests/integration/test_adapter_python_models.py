"""dbt-spark-oss on real Spark: Python models through plain dbt commands, in a scratch project.

The scratch project exercises each config the adapter promises to honour (table and incremental
materializations, file_format, partition_by, clustered_by + buckets, pandas results, Python and
SQL models feeding each other) and each failure it promises to explain.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from tests.dbt_harness import DbtProject

pytestmark = [pytest.mark.spark, pytest.mark.dbt]

FILES = {
    "dbt_project.yml": """
        name: adapter_check
        version: "1.0"
        config-version: 2
        profile: ecom_analytics
        models:
          adapter_check:
            +file_format: parquet
    """,
    "seeds/places.csv": """
        place_id,city,note
        1,Xi'an,
        2,back\\slash,plain
        3,Harbin,it's cold
        4,Wuhan,100% hot
    """,
    "models/py_partitioned.py": """
        def model(dbt, session):
            dbt.config(materialized="table", partition_by=["city"])
            return dbt.ref("places")
    """,
    "models/sql_after_python.sql": """
        select city, count(*) as places from {{ ref('py_partitioned') }} group by city
    """,
    "models/py_after_sql.py": """
        def model(dbt, session):
            dbt.config(materialized="table")
            return dbt.ref("sql_after_python").where("places = 1")
    """,
    "models/py_pandas.py": """
        import pandas as pd

        def model(dbt, session):
            dbt.config(materialized="table")
            return pd.DataFrame({"n": [1, 2, 3], "label": ["a", "b", "c"]})
    """,
    "models/py_bucketed.py": """
        def model(dbt, session):
            dbt.config(materialized="table", clustered_by=["place_id"], buckets=2)
            return dbt.ref("places")
    """,
    "models/py_incremental.py": """
        from pyspark.sql import functions as F

        def model(dbt, session):
            dbt.config(
                materialized="incremental",
                incremental_strategy="insert_overwrite",
                partition_by=["batch"],
            )
            batch = dbt.config.get("batch")
            rows = dbt.ref("places").select("place_id")
            return rows.withColumn("run", F.lit(dbt.config.get("run"))).withColumn(
                "batch", F.lit(batch)
            )
    """,
    "models/schema.yml": """
        version: 2
        models:
          - name: py_incremental
            config:
              batch: "{{ var('batch', 'a') }}"
              run: "{{ var('run', 'first') }}"
    """,
    "failing/py_raises.py": """
        def model(dbt, session):
            dbt.config(materialized="table")
            places = dbt.ref("places")
            if places.count() == 4:
                raise ValueError("no good: " + str(places.count()))
            return places
    """,
    "failing/py_databricks_packages.py": """
        def model(dbt, session):
            dbt.config(materialized="table", packages=["requests"])
            return dbt.ref("places")
    """,
    "failing/py_not_a_frame.py": """
        def model(dbt, session):
            dbt.config(materialized="table")
            return [1, 2, 3]
    """,
}


@pytest.fixture(scope="module")
def scratch(module_dir: Path) -> DbtProject:
    project = module_dir / "project"
    for name, text in FILES.items():
        target = project / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(text).lstrip())
    return DbtProject(
        project_dir=project,
        raw_dir=module_dir / "unused-raw",
        schema="t_adapter",
        target_path=module_dir / "target",
    )


@pytest.fixture(scope="module")
def built(scratch: DbtProject) -> DbtProject:
    scratch.build()
    return scratch


def table_details(spark, relation: str) -> dict[str, str]:
    rows = spark.sql(f"describe table extended {relation}").collect()
    return {row.col_name: row.data_type for row in rows}


def test_seed_values_with_quotes_backslashes_percent_signs_and_blanks(
    built: DbtProject, spark
) -> None:
    rows = spark.table(built.relation("places")).orderBy("place_id").collect()
    assert [(r.place_id, r.city, r.note) for r in rows] == [
        (1, "Xi'an", None),
        (2, "back\\slash", "plain"),
        (3, "Harbin", "it's cold"),
        (4, "Wuhan", "100% hot"),
    ]


def test_python_table_honours_partition_by_and_parquet(built: DbtProject, spark) -> None:
    details = table_details(spark, built.relation("py_partitioned"))
    assert details["Provider"] == "parquet"
    relation = built.relation("py_partitioned")
    columns = spark.catalog.listColumns(relation)
    assert [c.name for c in columns if c.isPartition] == ["city"]
    assert spark.sql(f"show partitions {relation}").count() == 4
    cities = {r.city for r in spark.table(relation).collect()}
    assert cities == {"Xi'an", "back\\slash", "Harbin", "Wuhan"}


def test_python_and_sql_models_feed_each_other(built: DbtProject, spark) -> None:
    cities = {r.city for r in spark.table(built.relation("py_after_sql")).collect()}
    assert cities == {"Xi'an", "back\\slash", "Harbin", "Wuhan"}


def test_pandas_result_is_written(built: DbtProject, spark) -> None:
    rows = spark.table(built.relation("py_pandas")).orderBy("n").collect()
    assert [(r.n, r.label) for r in rows] == [(1, "a"), (2, "b"), (3, "c")]


def test_clustered_by_and_buckets(built: DbtProject, spark) -> None:
    details = table_details(spark, built.relation("py_bucketed"))
    assert details["Num Buckets"] == "2"
    assert details["Bucket Columns"] == "[`place_id`]"


def test_incremental_insert_overwrite_replaces_only_its_partition(built: DbtProject, spark) -> None:
    relation = built.relation("py_incremental")
    built.invoke("run", "-s", "py_incremental", vars={"batch": "b", "run": "first"})
    built.invoke("run", "-s", "py_incremental", vars={"batch": "a", "run": "second"})
    counts = {
        (r.batch, r.run): r.n
        for r in spark.sql(
            f"select batch, run, count(*) as n from {relation} group by 1, 2"
        ).collect()
    }
    assert counts == {("a", "second"): 4, ("b", "first"): 4}


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        ("py_raises", "Python model 'py_raises' failed (compiled line"),
        ("py_raises", "ValueError: no good: 4"),
        ("py_databricks_packages", "sets `packages`, which only Databricks supports"),
        ("py_not_a_frame", "model() returned list; return a Spark DataFrame"),
    ],
)
def test_failures_explain_themselves(built: DbtProject, model: str, expected: str) -> None:
    (built.project_dir / "models" / f"{model}.py").write_text(
        (built.project_dir / "failing" / f"{model}.py").read_text()
    )
    try:
        run = built.invoke("run", "-s", model)
    finally:
        (built.project_dir / "models" / f"{model}.py").unlink()
    assert not run.success
    assert any(expected in failure for failure in run.failures()), run.failures()
