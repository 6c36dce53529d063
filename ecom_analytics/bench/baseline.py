"""The benchmark's baseline: SPEC 3's marts by one hand-written PySpark job, without dbt.

What a data engineer would write instead of the dbt project, for the task `dbt build` computes
by default (see ecom_analytics/bench/task.py): read the raw Parquet, apply SPEC 1.1's contract
(rows that break it are written to a quarantine table with the reason, exact duplicates are
dropped and counted), cache the clean actions once, slice sessions, and write the six marts of
SPEC 3 as Parquet tables of the metastore, as dbt does (schema `baseline`, data laid out like the
dbt tables in `<output>/baseline.db/<mart>/`, partitioned the same way), so that they can be
queried by name (SPEC 5) and the benchmark can check that both give the same rows. The Spark
settings are the `local` target's (ecom_analytics.spark_session), and the metastore is the one
in `$ECOM_WAREHOUSE_DIR` (default `<output>/warehouse`), so only the code differs.

    python -m ecom_analytics.bench.baseline --raw-dir RAW --output DIR [--timings FILE]

Prints one line per phase and writes the phases' seconds (and the tables the metastore holds
afterwards) as JSON to --timings.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ecom_analytics.bench.task import (
    LENGTH_BUCKETS,
    BaselineTask,
    apportion,
    bucket_of,
    project_task,
)

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SCHEMA = "baseline"
SCHEMA_DIR = f"{SCHEMA}.db"
MARTS = (
    "session_length_distribution",
    "session_random_extract",
    "top10_categories",
    "top10_category_sessions",
    "page_conversion_rates",
    "area_top3_products",
)
ID_LIST = r"^[0-9]+(,[0-9]+)*$"
LIST_COLUMNS = ("order_category_ids", "order_product_ids", "pay_category_ids", "pay_product_ids")
RAW_COLUMNS = (
    "date",
    "user_id",
    "session_id",
    "page_id",
    "action_time",
    "search_keyword",
    "click_category_id",
    "click_product_id",
    *LIST_COLUMNS,
    "city_id",
)


class Phases:
    """Seconds per named phase, with a progress line as each one ends."""

    def __init__(self, log: Callable[[str], None] = print) -> None:
        self.seconds: dict[str, float] = {}
        self.log = log

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        yield
        self.seconds[name] = time.perf_counter() - started
        self.log(f"baseline: {name} in {self.seconds[name]:.1f} s")


def read_seeds(spark: SparkSession, seeds_dir: Path) -> tuple[DataFrame, DataFrame]:
    """city_info and product_info from the project's seed CSVs."""
    cities = spark.read.csv(
        str(seeds_dir / "city_info.csv"),
        header=True,
        schema="city_id bigint, city_name string, area string",
    )
    products = spark.read.csv(
        str(seeds_dir / "product_info.csv"),
        header=True,
        escape='"',
        schema="product_id bigint, product_name string, extend_info string",
    )
    return cities, products


def checked_actions(raw: DataFrame, cities: DataFrame) -> DataFrame:
    """Every raw action with typed columns and `reason`: the first contract rule it breaks."""
    from pyspark.sql import functions as F

    text = {name: F.col(name).cast("string") for name in RAW_COLUMNS}
    typed = raw.select(
        *(text[name].alias(f"raw_{name}") for name in RAW_COLUMNS),
        F.nullif(F.trim(text["session_id"]), F.lit("")).alias("session_id"),
        text["user_id"].cast("bigint").alias("user_id"),
        text["page_id"].cast("bigint").alias("page_id"),
        text["city_id"].cast("bigint").alias("city_id"),
        F.nullif(F.trim(text["search_keyword"]), F.lit("")).alias("search_keyword"),
        text["click_category_id"].cast("bigint").alias("click_category_id"),
        text["click_product_id"].cast("bigint").alias("click_product_id"),
        *(F.nullif(F.trim(text[name]), F.lit("")).alias(name) for name in LIST_COLUMNS),
        F.to_date(text["date"], "yyyy-MM-dd").alias("action_date"),
        F.to_timestamp_ntz(text["action_time"], F.lit("yyyy-MM-dd HH:mm:ss")).alias("action_time"),
    )
    known = cities.select("city_id", F.lit(True).alias("known_city"))
    lists_ok = F.lit(True)
    for name in LIST_COLUMNS:
        lists_ok = lists_ok & F.coalesce(F.col(name).rlike(ID_LIST), F.lit(True))
    bad_click = (
        (F.col("raw_click_category_id").isNotNull() & F.col("click_category_id").isNull())
        | (F.col("raw_click_product_id").isNotNull() & F.col("click_product_id").isNull())
        | (F.col("click_category_id") < -1)
        | (F.col("click_product_id") < -1)
    )
    reason = (
        F.when(F.col("session_id").isNull(), "null_session_id")
        .when(F.col("user_id").isNull(), "null_user_id")
        .when(F.col("action_time").isNull(), "unparsable_action_time")
        .when(
            F.col("action_date").isNull()
            | (F.col("action_date") != F.to_date(F.col("action_time"))),
            "date_mismatch",
        )
        .when(F.col("page_id").isNull(), "null_page_id")
        .when(F.col("known_city").isNull(), "unknown_city")
        .when(~lists_ok, "malformed_id_list")
        .when(bad_click, "invalid_click_id")
    )
    return typed.join(F.broadcast(known), "city_id", "left").withColumn("reason", reason)


def staged_actions(checked: DataFrame) -> DataFrame:
    """The clean actions, one per distinct raw row, typed as the marts need them."""
    from pyspark.sql import functions as F

    def id_array(name: str) -> Any:
        return F.transform(F.split(F.col(name), ","), lambda item: item.cast("bigint"))

    clean = checked.where(F.col("reason").isNull()).dropDuplicates(
        [f"raw_{name}" for name in RAW_COLUMNS]
    )
    return clean.select(
        "session_id",
        "user_id",
        "page_id",
        "city_id",
        "search_keyword",
        F.when(F.col("click_category_id") >= 0, F.col("click_category_id")).alias(
            "click_category_id"
        ),
        F.when(F.col("click_product_id") >= 0, F.col("click_product_id")).alias("click_product_id"),
        id_array("order_category_ids").alias("order_category_ids"),
        id_array("pay_category_ids").alias("pay_category_ids"),
        "action_time",
        "action_date",
    )


def first_appearances(column: str) -> Any:
    """Aggregate: a session's distinct non-null values of `column` by first appearance."""
    from pyspark.sql import functions as F

    entries = F.collect_list(
        F.when(
            F.col(column).isNotNull(),
            F.struct("action_time", "page_id", F.col(column).alias("value")),
        )
    )
    return F.array_distinct(F.transform(F.array_sort(entries), lambda entry: entry["value"]))


def sliced_sessions(actions: DataFrame) -> DataFrame:
    """One row per session: start, visit and step length, keywords and clicked categories."""
    from pyspark.sql import functions as F

    sessions = actions.groupBy("session_id").agg(
        F.min("action_time").alias("start_time"),
        F.max("action_time").alias("end_time"),
        F.count(F.lit(1)).alias("step_length"),
        first_appearances("search_keyword").alias("search_keywords"),
        first_appearances("click_category_id").alias("click_category_ids"),
    )
    return sessions.select(
        "session_id",
        "start_time",
        F.date_format("start_time", "yyyy-MM-dd_HH").alias("date_hour"),
        F.expr("timestampdiff(second, start_time, end_time)").alias("visit_length_seconds"),
        "step_length",
        "search_keywords",
        "click_category_ids",
    )


def length_distribution(spark: SparkSession, sessions: DataFrame, task: BaselineTask) -> DataFrame:
    """session_length_distribution: counts per length on the executors, buckets on the driver."""
    counts: dict[tuple[str, str], int] = {}
    for dimension, column in (
        ("visit_length", "visit_length_seconds"),
        ("step_length", "step_length"),
    ):
        for length, sessions_of_length in sessions.groupBy(column).count().collect():
            key = (dimension, bucket_of(dimension, length))
            counts[key] = counts.get(key, 0) + sessions_of_length
    matching = sum(n for (dimension, _bucket), n in counts.items() if dimension == "step_length")
    rows = [
        (
            task.task_id,
            dimension,
            bucket,
            order,
            counts.get((dimension, bucket), 0),
            counts.get((dimension, bucket), 0) / matching if matching else None,
        )
        for dimension, bucket, order, _lower, _upper in LENGTH_BUCKETS
    ]
    schema = (
        "task_id string, dimension string, bucket string, bucket_order int, sessions bigint, "
        "ratio double"
    )
    return spark.createDataFrame(rows, schema)


def random_extract(spark: SparkSession, sessions: DataFrame, task: BaselineTask) -> DataFrame:
    """session_random_extract: seats per (date, hour) slot by largest remainder, then the
    sessions with the smallest seeded hashes of each slot."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    slots = [
        (row.date_hour, row["count"]) for row in sessions.groupBy("date_hour").count().collect()
    ]
    seats = apportion(sorted(slots), task.extract_sessions)
    seat_rows = spark.createDataFrame(
        [(slot, count) for slot, count in seats.items() if count], "date_hour string, seats int"
    )
    draw = Window.partitionBy("date_hour").orderBy(
        F.xxhash64(F.lit(task.random_seed).cast("bigint"), F.col("session_id")), "session_id"
    )

    def joined(column: str) -> Any:
        return F.array_join(F.transform(F.col(column), lambda value: value.cast("string")), ",")

    return (
        sessions.join(F.broadcast(seat_rows), "date_hour")
        .withColumn("draw_order", F.row_number().over(draw))
        .where(F.col("draw_order") <= F.col("seats"))
        .select(
            F.lit(task.task_id).alias("task_id"),
            "session_id",
            "start_time",
            "date_hour",
            joined("search_keywords").alias("search_keywords"),
            joined("click_category_ids").alias("click_category_ids"),
        )
    )


def category_events(actions: DataFrame) -> DataFrame:
    """(session_id, category_id, action_type) per click, and per id of an order or pay list."""
    from pyspark.sql import functions as F

    clicks = actions.where(F.col("click_category_id").isNotNull()).select(
        "session_id",
        F.col("click_category_id").alias("category_id"),
        F.lit("click").alias("action_type"),
    )
    orders = actions.where(F.col("order_category_ids").isNotNull()).select(
        "session_id",
        F.explode("order_category_ids").alias("category_id"),
        F.lit("order").alias("action_type"),
    )
    pays = actions.where(F.col("pay_category_ids").isNotNull()).select(
        "session_id",
        F.explode("pay_category_ids").alias("category_id"),
        F.lit("pay").alias("action_type"),
    )
    return clicks.unionByName(orders).unionByName(pays)


def top_categories(spark: SparkSession, actions: DataFrame, task: BaselineTask) -> DataFrame:
    """top10_categories: counts per category, ranked on the driver (there are few)."""
    from pyspark.sql import functions as F

    def counted(kind: str) -> Any:
        return F.count_if(F.col("action_type") == kind).alias(f"{kind}_count")

    counts = (
        category_events(actions)
        .groupBy("category_id")
        .agg(counted("click"), counted("order"), counted("pay"))
        .orderBy(F.desc("click_count"), F.desc("order_count"), F.desc("pay_count"), "category_id")
        .limit(10)
        .collect()
    )
    rows = [
        (task.task_id, rank, row.category_id, row.click_count, row.order_count, row.pay_count)
        for rank, row in enumerate(counts, start=1)
    ]
    schema = (
        "task_id string, rank int, category_id bigint, click_count bigint, order_count bigint, "
        "pay_count bigint"
    )
    return spark.createDataFrame(rows, schema)


def top_category_sessions(actions: DataFrame, top10: DataFrame, task: BaselineTask) -> DataFrame:
    """top10_category_sessions: per top category, the 10 sessions that clicked it most."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    ranking = Window.partitionBy("category_id").orderBy(F.desc("click_count"), "session_id")
    return (
        actions.where(F.col("click_category_id").isNotNull())
        .select("session_id", F.col("click_category_id").alias("category_id"))
        .join(F.broadcast(top10.select("category_id")), "category_id")
        .groupBy("category_id", "session_id")
        .agg(F.count(F.lit(1)).alias("click_count"))
        .withColumn("rank", F.row_number().over(ranking))
        .where(F.col("rank") <= 10)
        .select(
            F.lit(task.task_id).alias("task_id"),
            "category_id",
            F.col("rank").cast("int").alias("rank"),
            "session_id",
            "click_count",
        )
    )


def page_conversion(spark: SparkSession, actions: DataFrame, task: BaselineTask) -> DataFrame:
    """page_conversion_rates: consecutive actions of a session as jumps, counted per flow step."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    flow = task.target_page_flow
    steps = list(pairwise(flow))
    wanted = spark.createDataFrame(sorted(set(steps)), "from_page_id bigint, to_page_id bigint")
    in_order = Window.partitionBy("session_id").orderBy("action_time", "page_id")
    jumps = {
        (row.from_page_id, row.to_page_id): row["count"]
        for row in actions.select(
            F.col("page_id").alias("from_page_id"),
            F.lead("page_id").over(in_order).alias("to_page_id"),
        )
        .join(F.broadcast(wanted), ["from_page_id", "to_page_id"], "left_semi")
        .groupBy("from_page_id", "to_page_id")
        .count()
        .collect()
    }
    base = actions.where(F.col("page_id") == flow[0]).count()
    rows = []
    for step, pair in enumerate(steps, start=1):
        jump_count = jumps.get(pair, 0)
        rows.append(
            (
                task.task_id,
                step,
                pair[0],
                pair[1],
                jump_count,
                base,
                jump_count / base if base else None,
            )
        )
        base = jump_count
    schema = (
        "task_id string, step int, from_page_id bigint, to_page_id bigint, jump_count bigint, "
        "base_count bigint, conversion_rate double"
    )
    return spark.createDataFrame(rows, schema)


def area_top3(actions: DataFrame, cities: DataFrame, products: DataFrame) -> DataFrame:
    """area_top3_products: per day and area, the three most clicked products."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    ranking = Window.partitionBy("action_date", "area").orderBy(F.desc("click_count"), "product_id")
    city_pairs = F.array_sort(
        F.collect_set(
            F.struct(
                "city_id",
                F.concat_ws(":", F.col("city_id").cast("string"), "city_name").alias("text"),
            )
        )
    )
    status = F.trim(F.get_json_object("extend_info", "$.product_status"))
    return (
        actions.where(F.col("click_product_id").isNotNull())
        .select("action_date", "city_id", F.col("click_product_id").alias("product_id"))
        .join(F.broadcast(cities), "city_id")
        .groupBy("action_date", "area", "product_id")
        .agg(
            F.count(F.lit(1)).alias("click_count"),
            F.array_join(F.transform(city_pairs, lambda pair: pair["text"]), ",").alias(
                "city_infos"
            ),
        )
        .withColumn("rank", F.row_number().over(ranking))
        .where(F.col("rank") <= 3)
        .join(F.broadcast(products), "product_id", "left")
        .select(
            "area",
            F.when(F.col("area").isin("East China", "North China"), "A")
            .when(F.col("area").isin("South China", "Central China"), "B")
            .when(F.col("area").isin("Northwest", "Southwest"), "C")
            .otherwise("D")
            .alias("area_level"),
            F.col("rank").cast("int").alias("rank"),
            "product_id",
            "product_name",
            F.when(status == "0", "self-operated")
            .when(status == "1", "third-party")
            .alias("product_status"),
            "click_count",
            "city_infos",
            "action_date",
        )
    )


def run_baseline(
    spark: SparkSession,
    raw_dir: Path,
    output: Path,
    task: BaselineTask,
    phases: Phases,
    seeds_dir: Path = PROJECT_ROOT / "seeds",
) -> dict[str, int]:
    """Compute and write the marts (and the quarantine); returns row counts of the cleaning."""
    from pyspark import StorageLevel
    from pyspark.sql import functions as F

    root = output / SCHEMA_DIR
    # like dbt's marts, every table is in the metastore, so a Spark session or the Thrift
    # server pointed at the warehouse finds it by name (SPEC 5)
    spark.sql(f"create database if not exists {SCHEMA}")

    def write(frame: DataFrame, name: str, partition: str | None = "task_id") -> None:
        writer = frame.write.mode("overwrite").format("parquet").option("path", str(root / name))
        if partition:
            writer = writer.partitionBy(partition)
        writer.saveAsTable(f"{SCHEMA}.{name}")

    cities, products = read_seeds(spark, seeds_dir)
    raw = spark.read.option("basePath", str(raw_dir / "user_visit_action")).parquet(
        str(raw_dir / "user_visit_action")
    )
    with phases.phase("clean actions (quarantine written, clean rows cached)"):
        checked = checked_actions(raw, cities)
        write(
            checked.where(F.col("reason").isNotNull()).select(
                "reason", *(f"raw_{name}" for name in RAW_COLUMNS)
            ),
            "quarantined_actions",
            partition=None,
        )
        actions = staged_actions(checked).persist(StorageLevel.MEMORY_AND_DISK)
        clean_rows = actions.count()
    with phases.phase("sessions sliced (cached)"):
        sessions = sliced_sessions(actions).persist(StorageLevel.MEMORY_AND_DISK)
        session_count = sessions.count()
    with phases.phase("session_length_distribution"):
        write(length_distribution(spark, sessions, task), "session_length_distribution")
    with phases.phase("session_random_extract"):
        write(random_extract(spark, sessions, task), "session_random_extract")
    sessions.unpersist()
    with phases.phase("top10_categories"):
        top10 = top_categories(spark, actions, task)
        write(top10, "top10_categories")
    with phases.phase("top10_category_sessions"):
        write(top_category_sessions(actions, top10, task), "top10_category_sessions")
    with phases.phase("page_conversion_rates"):
        write(page_conversion(spark, actions, task), "page_conversion_rates")
    with phases.phase("area_top3_products"):
        write(area_top3(actions, cities, products), "area_top3_products", partition="action_date")
    actions.unpersist()
    return {"clean_actions": clean_rows, "sessions": session_count}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ecom_analytics.bench.baseline",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--raw-dir", type=Path, required=True, help="raw data (SPEC 1.1)")
    parser.add_argument("--output", type=Path, required=True, help="folder for the marts")
    parser.add_argument("--timings", type=Path, help="write the phases' seconds here (JSON)")
    args = parser.parse_args(argv)
    if not (args.raw_dir / "user_visit_action").is_dir():
        parser.error(f"no user_visit_action/ folder in --raw-dir {args.raw_dir}")
    task = project_task(PROJECT_ROOT)
    phases = Phases()
    started = time.perf_counter()
    with phases.phase("start Spark"):
        from ecom_analytics.spark_session import local_spark

        os.environ.setdefault("ECOM_WAREHOUSE_DIR", str(args.output / "warehouse"))
        spark = local_spark("ecom_analytics-bench-baseline")
        spark.sql("select 1").collect()
    counts = run_baseline(spark, args.raw_dir, args.output, task, phases)
    total = time.perf_counter() - started
    # after the clock: what the metastore now holds, for the benchmark's check
    tables = sorted(table.name for table in spark.catalog.listTables(SCHEMA))
    spark.stop()
    print(f"baseline: done in {total:.1f} s ({counts['clean_actions']:,} clean actions)")
    if args.timings:
        args.timings.write_text(
            json.dumps(
                {"phases": phases.seconds, "seconds": total, "tables": tables, **counts},
                indent=2,
            ),
            encoding="utf-8",
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
