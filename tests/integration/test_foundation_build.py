"""The whole project on a small generated data set: dbt build, quarantine, session slicing.

The build is the session's shared one (tests/project_build.py: generated data, a bounded run of
the stream, `dbt build`).

Expectations come from the generator's manifest (what it broke on purpose) and from an
independent pandas reading of the raw files that applies SPEC 1.1 and SPEC 3 directly.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.dataset as ds
import pytest

from tests.dbt_harness import DbtInvocation, DbtProject
from tests.project_build import ProjectBuild

pytestmark = [pytest.mark.spark, pytest.mark.dbt]

ID_LIST = re.compile(r"^[0-9]+(,[0-9]+)*$")
LIST_COLUMNS = ["order_category_ids", "order_product_ids", "pay_category_ids", "pay_product_ids"]


@pytest.fixture(scope="module")
def dbt_project(project_build: ProjectBuild) -> DbtProject:
    return project_build.project


@pytest.fixture(scope="module")
def manifest(project_build: ProjectBuild) -> dict[str, Any]:
    return project_build.manifest


@pytest.fixture(scope="module")
def build(project_build: ProjectBuild) -> DbtInvocation:
    return project_build.invocation


def raw_actions(raw_dir: Path) -> pd.DataFrame:
    dataset = ds.dataset(raw_dir / "user_visit_action", format="parquet", partitioning="hive")
    frame = dataset.to_table().to_pandas()
    frame["date"] = frame["date"].astype(str)
    return frame


def clean_actions(raw: pd.DataFrame) -> pd.DataFrame:
    """SPEC 1.1's contract applied row by row, independently of the SQL."""
    times = pd.to_datetime(raw["action_time"], format="%Y-%m-%d %H:%M:%S", errors="coerce")
    lists_ok = pd.Series(True, index=raw.index)
    for column in LIST_COLUMNS:
        values = raw[column]
        lists_ok &= values.isna() | values.map(lambda v: bool(ID_LIST.match(v)) if v else True)
    valid = (
        raw["session_id"].notna()
        & raw["user_id"].notna()
        & times.notna()
        & (times.dt.strftime("%Y-%m-%d") == raw["date"])
        & raw["page_id"].notna()
        & raw["city_id"].isin(range(10))
        & lists_ok
    )
    clean = raw[valid].drop_duplicates().copy()
    clean["action_time"] = times[clean.index]
    return clean


def expected_sessions(clean: pd.DataFrame) -> pd.DataFrame:
    rows = []
    ordered = clean.sort_values(["session_id", "action_time", "page_id"])
    for session_id, actions in ordered.groupby("session_id", sort=False):

        def first_appearance(column: str, frame: pd.DataFrame = actions) -> list:
            values = frame.dropna(subset=[column])
            if column == "click_category_id":
                values = values[values[column] >= 0]
            values = values.sort_values(["action_time", "page_id", column])
            return list(dict.fromkeys(values[column].tolist()))

        start, end = actions["action_time"].min(), actions["action_time"].max()
        rows.append(
            {
                "session_id": session_id,
                "user_id": int(actions["user_id"].iloc[0]),
                "date_hour": start.strftime("%Y-%m-%d_%H"),
                "search_keywords": first_appearance("search_keyword"),
                "click_category_ids": [int(v) for v in first_appearance("click_category_id")],
                # every action's page, in action order (ties by page id)
                "page_ids": [int(v) for v in actions["page_id"]],
                "visit_length_seconds": int((end - start).total_seconds()),
                "step_length": len(actions),
            }
        )
    return pd.DataFrame(rows).set_index("session_id").sort_index()


def test_build_runs_every_node_including_a_python_model(build: DbtInvocation) -> None:
    statuses = build.statuses()
    assert statuses["int_sessions_sliced"] == "success"
    assert statuses["stg_ecom__user_visit_actions"] == "success"
    # the dirt makes the quarantine tests warn, and nothing fails
    assert statuses["has_no_rows_stg_ecom__quarantined_actions_"] == "warn"
    # the stream ran first: its counts reconcile with dbt's batch recomputation
    assert statuses["assert_ad_daily_clicks_reconcile"] == "pass"
    assert not build.failures()


def test_the_demo_summary_of_the_build_reports_no_problem(project_build: ProjectBuild) -> None:
    summary = project_build.summary
    assert summary.problems == []
    assert summary.exposures == 8  # the dashboard pages and the streaming job
    assert summary.models["python"] == 3
    assert summary.tests["warn"] >= 1 and not summary.tests["fail"]


def test_quarantine_counts_equal_what_the_generator_broke(
    build: DbtInvocation, dbt_project: DbtProject, manifest: dict[str, Any], spark
) -> None:
    counted = {
        row.quarantine_reason: row.n
        for row in spark.sql(
            "select quarantine_reason, count(*) as n from "
            f"{dbt_project.relation('stg_ecom__quarantined_actions')} group by 1"
        ).collect()
    }
    broken = {kind: n for kind, n in manifest["dirty_rows"].items() if n}
    assert counted == broken
    assert sum(broken.values()) > 0


def test_no_row_is_lost(
    build: DbtInvocation, dbt_project: DbtProject, manifest: dict[str, Any], spark
) -> None:
    clean = spark.table(dbt_project.relation("stg_ecom__user_visit_actions")).count()
    quarantined = spark.table(dbt_project.relation("stg_ecom__quarantined_actions")).count()
    assert clean + quarantined == manifest["datasets"]["user_visit_action"]["rows"]
    assert clean == len(clean_actions(raw_actions(dbt_project.raw_dir)))


def test_sessions_sliced_equal_an_independent_computation(
    build: DbtInvocation, dbt_project: DbtProject, spark
) -> None:
    expected = expected_sessions(clean_actions(raw_actions(dbt_project.raw_dir)))
    actual = (
        spark.table(dbt_project.relation("int_sessions_sliced"))
        .select(
            "session_id",
            "user_id",
            "date_hour",
            "search_keywords",
            "click_category_ids",
            "page_ids",
            "visit_length_seconds",
            "step_length",
        )
        .toPandas()
        .set_index("session_id")
        .sort_index()
    )
    actual["search_keywords"] = actual["search_keywords"].map(list)
    actual["click_category_ids"] = actual["click_category_ids"].map(lambda v: [int(x) for x in v])
    actual["page_ids"] = actual["page_ids"].map(lambda v: [int(x) for x in v])
    assert len(actual) == len(expected) > 100
    pd.testing.assert_frame_equal(actual, expected, check_dtype=False)
    # the data reaches both ends of the visit-length scale
    assert actual["visit_length_seconds"].min() == 0
    assert actual["visit_length_seconds"].max() > 1800


def test_missing_raw_dir_says_what_to_do(dbt_project: DbtProject, module_dir: Path) -> None:
    missing = DbtProject(
        project_dir=dbt_project.project_dir,
        raw_dir=module_dir / "no-such-raw-dir",
        schema=dbt_project.schema,
        target_path=module_dir / "target-missing",
    )
    run = missing.invoke("build", "-s", "stg_ecom__users")
    assert not run.success
    assert "Raw dataset 'user_info' not found at" in run.text()
    assert "ecom generate" in run.text()


def test_the_stream_tables_are_created_only_for_a_selection_that_reads_them(
    spark: Any, dbt_project: DbtProject
) -> None:
    """An offline selection spends no metastore calls on the streaming job's tables."""
    fresh = dbt_project.beside("selection")
    # the live dashboard's exposure documents the stream's tables; a build passes it as a no-op
    offline = fresh.invoke(
        "build", "-s", "int_task_parameters", "exposure:dashboard_live_ad_clicks"
    )
    assert offline.success, offline.text()
    assert "dashboard_live_ad_clicks" in offline.statuses()
    assert not spark.catalog.tableExists(fresh.relation("ad_clicks"))

    stream = fresh.invoke("run", "-s", "stg_ad_stream__clicks")
    assert stream.success, stream.text()
    for table in ("ad_clicks", "ad_blacklist", "ad_stream_batches", "ad_province_top3"):
        assert spark.catalog.tableExists(fresh.relation(table)), table
