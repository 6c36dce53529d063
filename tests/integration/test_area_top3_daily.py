"""area_top3_products and the day-grained incremental models it reads, on real Spark.

The raw days arrive one at a time and the project is built day by day with the window vars (one
run with `run_date`, one with no vars = the newest day), then late rows land on an old day and a
lookback run picks them up. Then `--full-refresh` rebuilds everything at once, and a backfill
rebuilds a range. Checked: each run rewrites only its days' partitions and reads only its day;
day by day equals the full refresh, table for table, and so does the backfill; the mart equals an
independent pandas computation of SPEC 3 for every day and area.
"""

from __future__ import annotations

import json
import shutil
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ecom_analytics.generator.config import GenerateConfig
from ecom_analytics.generator.pipeline import generate
from ecom_analytics.generator.tables import ACTION_SCHEMA
from tests.dbt_harness import DbtInvocation, DbtProject
from tests.integration.test_foundation_build import clean_actions, raw_actions

pytestmark = [pytest.mark.spark, pytest.mark.dbt]

ROOT = Path(__file__).resolve().parents[2]
DAYS = ("2026-11-16", "2026-11-17", "2026-11-18")
LATE_DAY = DAYS[1]
UNDATED_FOLDER = "date=2026-02-30"  # an impossible day: quarantined, no action_date
UNDATED_PARTITION = "__HIVE_DEFAULT_PARTITION__"  # where Spark keeps a null action_date
DAY_TABLES = (
    "base_ecom__user_visit_actions_triaged",
    "int_product_clicks_enriched",
    "area_top3_products",
)
"""The day-partitioned tables, each rebuilt by day."""
STAGING_VIEWS = ("stg_ecom__user_visit_actions", "stg_ecom__quarantined_actions")
"""The views that split the first of them into clean and quarantined actions."""
DAY_MODELS = (*DAY_TABLES, *STAGING_VIEWS)
FIRST_BUILD = ("+area_top3_products", "stg_ecom__quarantined_actions")
AREA_LEVELS = {
    "East China": "A",
    "North China": "A",
    "South China": "B",
    "Central China": "B",
    "Northwest": "C",
    "Southwest": "C",
}
PRODUCT_STATUS = {0: "self-operated", 1: "third-party"}
MISSING_PRODUCT = 150  # not in seeds/product_info.csv
UNKNOWN_CITY = 42  # not in seeds/city_info.csv


# --- data -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def generated(module_dir: Path) -> Path:
    """Three small days of generated raw data (with dirt), outside the raw dir."""
    config = GenerateConfig(
        raw_dir=module_dir / "generated",
        ad_click_dir=module_dir / "ad_clicks",
        seed=11,
        start_date=pd.Timestamp(DAYS[0]).date(),
        days=len(DAYS),
        users=120,
        sessions_per_day=120,
        actions_per_session=8,
        dirt_share=0.03,
    )
    generate(config, progress=False)
    return config.raw_dir


def arrive(generated: Path, raw_dir: Path, day: str) -> None:
    """A day's raw folder lands in the raw dir (with the users, on the first day)."""
    if not (raw_dir / "user_info").exists():
        shutil.copytree(generated / "user_info", raw_dir / "user_info")
    shutil.copytree(
        generated / "user_visit_action" / f"date={day}",
        raw_dir / "user_visit_action" / f"date={day}",
    )


def late_rows(day: str) -> pa.Table:
    """Late clicks for `day`: enough on product 7 from Chengdu and on a product missing from
    product_info from Harbin to top their areas, three from an unknown city, one duplicate."""
    rows: list[dict[str, Any]] = []

    def clicks(session: str, count: int, product: int, city: int) -> None:
        for second in range(count):
            rows.append(
                {
                    "user_id": 7,
                    "session_id": session,
                    "page_id": 3,
                    "action_time": f"{day} 23:{second // 60:02d}:{second % 60:02d}",
                    "click_category_id": 1,
                    "click_product_id": product,
                    "city_id": city,
                }
            )

    clicks("late-chengdu", 40, 7, 8)
    clicks("late-harbin", 30, MISSING_PRODUCT, 9)
    clicks("late-unknown-city", 3, 7, UNKNOWN_CITY)
    rows.append(dict(rows[0]))
    return pa.Table.from_pylist(rows, schema=ACTION_SCHEMA)


def undated_rows() -> pa.Table:
    """Two clean-looking clicks in a folder whose day does not exist."""
    rows = [
        {
            "user_id": 8,
            "session_id": "undated",
            "page_id": 2,
            "action_time": f"2026-03-02 10:00:0{second}",
            "click_category_id": 1,
            "click_product_id": 5,
            "city_id": 1,
        }
        for second in range(2)
    ]
    return pa.Table.from_pylist(rows, schema=ACTION_SCHEMA)


# --- reading what was built -------------------------------------------------------------------


def table_location(spark, relation: str) -> Path:
    rows = spark.sql(f"describe formatted {relation}").collect()
    location = next(row.data_type for row in rows if row.col_name == "Location")
    return Path(location.removeprefix("file:"))


def partition_state(spark, relation: str) -> dict[str, tuple]:
    """Partition folder -> (its data files with mtime and size, its row count)."""
    location = table_location(spark, relation)
    counts = {
        f"action_date={row.action_date or UNDATED_PARTITION}": row.n
        for row in spark.sql(
            f"select action_date, count(*) as n from {relation} group by action_date"
        ).collect()
    }
    state = {}
    for folder in sorted(location.glob("action_date=*")):
        files = tuple(
            sorted(
                (file.name, file.stat().st_mtime_ns, file.stat().st_size)
                for file in folder.iterdir()
                if not file.name.startswith((".", "_"))
            )
        )
        state[folder.name] = (files, counts.get(folder.name))
    return state


def snapshot(spark, project: DbtProject) -> dict[str, dict[str, tuple]]:
    return {model: partition_state(spark, project.relation(model)) for model in DAY_TABLES}


def assert_rewrote_only(
    before: dict[str, dict[str, tuple]], after: dict[str, dict[str, tuple]], days: set[str]
) -> None:
    """Partitions of `days` were (re)written; every other partition kept its files and rows."""
    for model in DAY_TABLES:
        for partition, state in after[model].items():
            day = partition.removeprefix("action_date=")
            if day in days:
                assert before[model].get(partition, ((), None))[0] != state[0], (model, day)
            else:
                assert before[model][partition] == state, (model, day)
        assert set(before[model]) <= set(after[model]), model


def scanned_partitions(spark, sql: str) -> dict[str, tuple[int, int]]:
    """Each partitioned input the query scans -> (partitions read, files read)."""
    adaptive = spark.conf.get("spark.sql.adaptive.enabled")
    spark.conf.set("spark.sql.adaptive.enabled", "false")  # a plain plan to walk
    try:
        frame = spark.sql(sql)
        frame.collect()
        leaves = frame._jdf.queryExecution().executedPlan().collectLeaves().iterator()
        scans = {}
        while leaves.hasNext():
            leaf = leaves.next()
            if leaf.nodeName().startswith("Scan") and leaf.metrics().contains("numPartitions"):
                # the dataset's folder (a pruned table lists its partition folders instead)
                root = leaf.relation().location().rootPaths().head().toString()
                name = next(part for part in reversed(root.split("/")) if "=" not in part)
                metrics = leaf.metrics()
                scans[name] = (
                    metrics.apply("numPartitions").value(),
                    metrics.apply("numFiles").value(),
                )
        return scans
    finally:
        spark.conf.set("spark.sql.adaptive.enabled", adaptive)


def frozen_tables(spark, project: DbtProject) -> dict[str, Any]:
    """The day-grained tables and the staging views as they are now (checkpointed: later runs
    cannot change them)."""
    return {model: spark.table(project.relation(model)).localCheckpoint() for model in DAY_MODELS}


def assert_same_tables(left: dict[str, Any], right: dict[str, Any]) -> None:
    for model in DAY_MODELS:
        a, b = left[model], right[model]
        assert a.schema == b.schema, model
        assert a.count() == b.count() > 0, model
        assert a.exceptAll(b).count() == 0, model
        assert b.exceptAll(a).count() == 0, model


# --- the independent computation of SPEC 3 ----------------------------------------------------


def expected_top3(clean: pd.DataFrame) -> pd.DataFrame:
    """SPEC 3's area_top3_products from the clean raw actions and the seed CSVs, in pandas."""
    cities = pd.read_csv(ROOT / "seeds" / "city_info.csv")
    city_of = {row.city_id: (row.city_name, row.area) for row in cities.itertuples()}
    products = pd.read_csv(ROOT / "seeds" / "product_info.csv")
    product_of = {
        row.product_id: (
            row.product_name,
            PRODUCT_STATUS.get(json.loads(row.extend_info).get("product_status")),
        )
        for row in products.itertuples()
    }
    clicks = clean[clean["click_product_id"].notna() & (clean["click_product_id"] >= 0)]
    counts: Counter[tuple[str, str, int]] = Counter()
    city_pairs: dict[tuple[str, str, int], set[tuple[int, str]]] = defaultdict(set)
    for row in clicks.itertuples():
        city_name, area = city_of[row.city_id]
        key = (row.date, area, int(row.click_product_id))
        counts[key] += 1
        city_pairs[key].add((int(row.city_id), city_name))
    ranking: dict[tuple[str, str], list[tuple[int, int]]] = defaultdict(list)
    for (day, area, product), count in counts.items():
        ranking[(day, area)].append((-count, product))
    rows = []
    for (day, area), items in ranking.items():
        for rank, (negative_count, product) in enumerate(sorted(items)[:3], start=1):
            name, status = product_of.get(product, (None, None))
            rows.append(
                {
                    "action_date": day,
                    "area": area,
                    "area_level": AREA_LEVELS.get(area, "D"),
                    "rank": rank,
                    "product_id": product,
                    "product_name": name,
                    "product_status": status,
                    "click_count": -negative_count,
                    "city_infos": ",".join(
                        f"{city_id}:{city_name}"
                        for city_id, city_name in sorted(city_pairs[(day, area, product)])
                    ),
                }
            )
    return sorted_frame(pd.DataFrame(rows))


def sorted_frame(frame: pd.DataFrame) -> pd.DataFrame:
    columns = [
        "action_date",
        "area",
        "area_level",
        "rank",
        "product_id",
        "product_name",
        "product_status",
        "click_count",
        "city_infos",
    ]
    frame = frame[columns].astype({"action_date": str, "rank": int, "product_id": int})
    frame = frame.astype({"click_count": int}).replace({float("nan"): None})
    return frame.sort_values(["action_date", "area", "rank"]).reset_index(drop=True)


def actual_top3(spark, project: DbtProject) -> pd.DataFrame:
    return sorted_frame(spark.table(project.relation("area_top3_products")).toPandas())


# --- the runs, in the order a scheduler would do them -----------------------------------------


def run_days(project: DbtProject, *flags: str, **window: Any) -> tuple[DbtInvocation, str]:
    """`dbt run` of the day-grained models; returns the run and its log."""
    run = project.invoke("run", "-s", *DAY_MODELS, *flags, vars=window or None)
    assert run.success, "\n".join(run.failures() or [run.text()[-4000:]])
    return run, run.text()


@pytest.fixture(scope="module")
def runs(dbt_project: DbtProject, generated: Path, spark) -> dict[str, Any]:
    """Every run, with the partitions before and after it, its log, and what it read."""
    raw_dir = dbt_project.raw_dir
    record: dict[str, Any] = {}

    def step(name: str, *flags: str, **window: Any) -> DbtInvocation:
        before = snapshot(spark, dbt_project)
        run, log = run_days(dbt_project, *flags, **window)
        record[name] = (before, snapshot(spark, dbt_project), log)
        return run

    arrive(generated, raw_dir, DAYS[0])
    dbt_project.build("-s", *FIRST_BUILD, "--exclude-resource-type", "test", "unit_test")

    arrive(generated, raw_dir, DAYS[1])
    step("run_date", run_date=DAYS[1])

    arrive(generated, raw_dir, DAYS[2])
    newest = step("newest")  # no vars: the newest day of each model's input
    record["scans"] = {
        result.node.name: scanned_partitions(spark, result.node.compiled_code)
        for result in newest.results
        if result.node.resource_type == "model"
    }
    # the statements that looked for the newest day, per model
    record["newest_day_queries"] = {
        model: [
            sql
            for connection, sql in newest.queries
            if connection.endswith(f".{model}") and "max(" in sql.lower()
        ]
        for model in DAY_MODELS
    }
    record["before_late"] = actual_top3(spark, dbt_project)
    record["raw_before_late"] = clean_actions(raw_actions(raw_dir))

    actions_dir = raw_dir / "user_visit_action"
    pq.write_table(late_rows(LATE_DAY), actions_dir / f"date={LATE_DAY}" / "late.parquet")
    (actions_dir / UNDATED_FOLDER).mkdir()
    pq.write_table(undated_rows(), actions_dir / UNDATED_FOLDER / "part.parquet")
    step("lookback", run_date=DAYS[2], lookback_days=1)
    record["day_by_day"] = frozen_tables(spark, dbt_project)

    # the window vars do not narrow a full refresh: it would drop the other days
    step("full_refresh", "--full-refresh", run_date=DAYS[0])
    record["refreshed"] = frozen_tables(spark, dbt_project)

    step("backfill", backfill_start_date=DAYS[0], backfill_end_date=DAYS[1])
    record["backfilled"] = frozen_tables(spark, dbt_project)
    return record


# --- the checks -------------------------------------------------------------------------------


def test_a_run_rewrites_only_its_days(runs: dict[str, Any]) -> None:
    before, after, log = runs["run_date"]
    assert_rewrote_only(before, after, {DAYS[1]})
    assert f"area_top3_products: rebuilding the days {DAYS[1]} to {DAYS[1]} (day)" in log

    before, after, log = runs["newest"]
    assert_rewrote_only(before, after, {DAYS[2]})
    assert f"rebuilding the days {DAYS[2]} to {DAYS[2]} (newest)" in log
    # every table now has a partition per day
    for model in DAY_TABLES:
        assert {f"action_date={day}" for day in DAYS} <= set(after[model]), model


def test_a_daily_run_reads_one_day_of_each_input(runs: dict[str, Any], generated: Path) -> None:
    files_of_day = len(list((generated / "user_visit_action" / f"date={DAYS[2]}").iterdir()))
    scans = runs["scans"]
    # the raw rows are read once, for the clean and the quarantined actions alike
    assert scans["base_ecom__user_visit_actions_triaged"] == {
        "user_visit_action": (1, files_of_day)
    }
    # through the staging view, one partition of the table under it
    clicks_scans = scans["int_product_clicks_enriched"]
    assert clicks_scans.keys() == {"base_ecom__user_visit_actions_triaged"}
    assert clicks_scans["base_ecom__user_visit_actions_triaged"][0] == 1
    assert scans["area_top3_products"]["int_product_clicks_enriched"][0] == 1
    # each table asks for its newest day once; the views run no query of their own
    assert {model: len(sql) for model, sql in runs["newest_day_queries"].items()} == {
        **dict.fromkeys(DAY_TABLES, 1),
        **dict.fromkeys(STAGING_VIEWS, 0),
    }


def test_lookback_picks_up_late_data_and_undated_rows(
    runs: dict[str, Any], dbt_project: DbtProject, spark
) -> None:
    before, after, log = runs["lookback"]
    assert_rewrote_only(before, after, {DAYS[1], DAYS[2], UNDATED_PARTITION})
    assert f"rebuilding the days {DAYS[1]} to {DAYS[2]} (day, lookback 1 days)" in log

    top = sorted_frame(runs["day_by_day"]["area_top3_products"].toPandas())
    late_day = top[top["action_date"] == LATE_DAY].set_index(["area", "rank"])
    assert late_day.loc[("Southwest", 1), "product_id"] == 7
    assert late_day.loc[("Southwest", 1), "click_count"] >= 40
    missing = late_day.loc[("Northeast", 1)]
    assert (missing["product_id"], missing["click_count"]) == (MISSING_PRODUCT, 30)
    assert missing["product_name"] is None and missing["product_status"] is None
    # before the lookback run, the late clicks were not there
    assert MISSING_PRODUCT not in set(runs["before_late"]["product_id"])

    undated = runs["day_by_day"]["stg_ecom__quarantined_actions"].where("action_date is null")
    assert [(row.quarantine_reason, row.raw_date) for row in undated.collect()] == [
        ("date_mismatch", "2026-02-30")
    ] * 2


def test_clicks_from_unknown_cities_are_quarantined_and_counted(
    runs: dict[str, Any], dbt_project: DbtProject
) -> None:
    raw = raw_actions(dbt_project.raw_dir)
    unknown_city_clicks = raw[
        ~raw["city_id"].isin(range(10))
        & (raw["click_product_id"] >= 0)
        & raw["session_id"].notna()
        & raw["user_id"].notna()
    ]
    quarantined = (
        runs["day_by_day"]["stg_ecom__quarantined_actions"]
        .where("quarantine_reason = 'unknown_city' and cast(raw_click_product_id as int) >= 0")
        .count()
    )
    assert quarantined == len(unknown_city_clicks) >= 3
    facts = runs["day_by_day"]["int_product_clicks_enriched"]
    assert facts.where(f"city_id = {UNKNOWN_CITY} or city_id is null").count() == 0
    assert facts.count() == int((clean_actions(raw)["click_product_id"] >= 0).sum())


def test_mart_equals_an_independent_computation_every_day_and_area(
    runs: dict[str, Any], dbt_project: DbtProject
) -> None:
    expected = expected_top3(clean_actions(raw_actions(dbt_project.raw_dir)))
    assert set(expected["action_date"]) == set(DAYS)
    assert len(expected) >= 3 * 5 * len(DAYS)
    # the data has ties on click_count within a day and area, so product_id decides
    assert expected.duplicated(["action_date", "area", "click_count"]).any()
    actual = sorted_frame(runs["day_by_day"]["area_top3_products"].toPandas())
    pd.testing.assert_frame_equal(actual, expected)
    # before the late data, too
    pd.testing.assert_frame_equal(runs["before_late"], expected_top3(runs["raw_before_late"]))


def test_day_by_day_equals_a_full_refresh(runs: dict[str, Any]) -> None:
    before, after, log = runs["full_refresh"]
    assert "area_top3_products: building every day (first build or --full-refresh)" in log
    assert_rewrote_only(before, after, {*DAYS, UNDATED_PARTITION})
    assert_same_tables(runs["day_by_day"], runs["refreshed"])


def test_a_backfill_equals_the_full_refresh(runs: dict[str, Any]) -> None:
    before, after, log = runs["backfill"]
    assert_rewrote_only(before, after, {DAYS[0], DAYS[1], UNDATED_PARTITION})
    assert f"rebuilding the days {DAYS[0]} to {DAYS[1]} (range)" in log
    assert_same_tables(runs["backfilled"], runs["refreshed"])


def test_docs_lineage_runs_from_the_source_and_seeds(runs: dict[str, Any], dbt_project) -> None:
    manifest = json.loads((dbt_project.target_path / "manifest.json").read_text())
    depends_on = {
        node["name"]: set(node["depends_on"]["nodes"])
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model"
    }
    project = "ecom_analytics"
    assert depends_on["area_top3_products"] == {
        f"model.{project}.int_product_clicks_enriched",
        f"seed.{project}.product_info",
    }
    assert depends_on["int_product_clicks_enriched"] == {
        f"model.{project}.stg_ecom__user_visit_actions",
        f"seed.{project}.city_info",
    }
    assert (
        f"source.{project}.ecom_raw.user_visit_action"
        in depends_on["base_ecom__user_visit_actions"]
    )
    assert "doc(" not in manifest["nodes"][f"model.{project}.area_top3_products"]["description"]


def test_a_bad_window_stops_at_parse_time(dbt_project: DbtProject) -> None:
    parsed = dbt_project.invoke(
        "parse", vars={"run_date": "2026-11-17", "backfill_start_date": "2026-11-01"}
    )
    assert not parsed.success
    assert (
        'Invalid daily-window var `run_date`: got "2026-11-17"; expected no value with a backfill'
        " range (give one day or a range, not both)."
    ) in str(parsed.exception)
