"""The task-keyed marts of SPEC 3 on generated data: two tasks against an independent computation.

The module runs dbt four times on one small generated data set: the default task (a full
`dbt build`: models and data tests), then a filtered task with a custom page flow and
extract size (its models and data tests), then the default task again, then the filtered task
again with a keyword nobody searched (`dbt run` both). Every mart of both tasks must equal
spec_reference (pandas and plain Python, written from SPEC 3); each run must leave the other
task's rows as they were, the second run of a task must reproduce its rows exactly, and a
rerun whose result is empty must replace the task's rows by that empty result, each rerun in
one statement per mart. Bad task parameters, unknown `--vars` keys and `--vars` values holding
Jinja must stop dbt before anything is written.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

from tests.dbt_harness import DbtProject
from tests.integration import spec_reference as spec
from tests.integration.test_foundation_build import clean_actions, raw_actions
from tests.project_build import generate_data

pytestmark = [pytest.mark.spark, pytest.mark.dbt]

ROOT = Path(__file__).resolve().parents[2]

# mart -> columns that order its rows within a task
MARTS = {
    "session_length_distribution": ["dimension", "bucket_order"],
    "session_random_extract": ["session_id"],
    "top10_categories": ["rank"],
    "top10_category_sessions": ["category_id", "rank"],
    "page_conversion_rates": ["step"],
    "funnel_conversion": ["breakdown_kind", "breakdown_value", "step"],
    "task_parameters": ["task_id"],
}


def default_task() -> spec.Task:
    """The default task, read from the vars block of dbt_project.yml."""
    project_vars = yaml.safe_load((ROOT / "dbt_project.yml").read_text())["vars"]
    values: dict[str, Any] = {}
    for name in (f.name for f in fields(spec.Task)):
        value = project_vars[name]
        values[name] = tuple(value) if isinstance(value, list) else value
    return spec.Task(**values)


DEFAULT = default_task()
FILTERED = spec.Task(
    task_id="t_filtered",
    start_date="2026-11-17",
    end_date="2026-11-18",
    start_age=20,
    end_age=50,
    professionals=("Engineer", "Teacher", "Salesperson", "Designer", "Accountant", "Nurse"),
    cities=("Shanghai", "Beijing", "Guangzhou", "Chengdu", "Xi'an", "Nanjing"),
    sex="female",
    keywords=("wireless earbuds", "running shoes", "yoga mat", "coffee maker"),
    category_ids=(12, 10, 15, 13, 19, 30),
    target_page_flow=(3, 4, 5, 3, 8),
    extract_sessions=12,
    random_seed=2026,
    # the funnel of the flow's pages (page 3 twice): per user, strict, a 10-minute window
    funnel_window_seconds=600,
    funnel_order="strict",
    funnel_unit="user",
)
TASKS = [DEFAULT, FILTERED]
# the filtered task's id again, now with a filter that matches no session
EMPTIED = replace(FILTERED, keywords=("no such keyword",))


@dataclass(frozen=True)
class Runs:
    """Every mart's full contents (all tasks) after each of the three runs."""

    first_default: dict[str, pd.DataFrame]
    after_filtered: dict[str, pd.DataFrame]
    second_default: dict[str, pd.DataFrame]
    after_emptied: dict[str, pd.DataFrame]
    # the statements of the third and fourth runs, as (connection name, SQL)
    second_default_queries: list[tuple[str, str]]
    after_emptied_queries: list[tuple[str, str]]


@dataclass(frozen=True)
class Expected:
    matching: pd.DataFrame
    marts: dict[str, pd.DataFrame]


def snapshot(spark, project: DbtProject) -> dict[str, pd.DataFrame]:
    return {name: spark.table(project.relation(name)).toPandas() for name in MARTS}


def of_task(frame: pd.DataFrame, mart: str, task_id: str) -> pd.DataFrame:
    rows = frame[frame["task_id"] == task_id]
    return rows.sort_values(MARTS[mart]).reset_index(drop=True)


@pytest.fixture(scope="module")
def runs(dbt_project: DbtProject, spark) -> Runs:
    generate_data(dbt_project.raw_dir, dbt_project.raw_dir.parent / "ad_clicks")
    # dbt unit tests do not read the data: test_foundation_build's full build runs them all
    no_unit_tests = ("--exclude-resource-type", "unit_test")
    dbt_project.build(*no_unit_tests)
    first = snapshot(spark, dbt_project)
    task_nodes = ("--select", "int_task_parameters+")
    # the unit tests under this task's vars: test_unit_tests_hold_under_the_readmes_vars
    dbt_project.build(*task_nodes, *no_unit_tests, vars=FILTERED.dbt_vars())
    after = snapshot(spark, dbt_project)
    again = dbt_project.invoke("run", *task_nodes)
    assert again.success, again.text()[-3000:]
    second = snapshot(spark, dbt_project)
    emptied = dbt_project.invoke("run", *task_nodes, vars=EMPTIED.dbt_vars())
    assert emptied.success, emptied.text()[-3000:]
    return Runs(first, after, second, snapshot(spark, dbt_project), again.queries, emptied.queries)


# the vars of the README's commands for another task, a daily run and a backfill
DOCUMENTED_VARS = {
    "task": FILTERED.dbt_vars(),
    "daily": {"run_date": "2026-11-18", "lookback_days": 1},
    "backfill": {"backfill_start_date": "2026-11-16", "backfill_end_date": "2026-11-17"},
}


@pytest.mark.parametrize("name", DOCUMENTED_VARS)
def test_unit_tests_hold_under_the_readmes_vars(
    runs: Runs, dbt_project: DbtProject, name: str
) -> None:
    """`--vars` reach dbt's unit tests too, so a documented command must not fail on them:
    every unit test of the project runs under each command's vars and passes."""
    run = dbt_project.invoke("test", "--select", "test_type:unit", vars=DOCUMENTED_VARS[name])
    assert run.success, run.failures() or run.text()[-3000:]
    manifest = json.loads((dbt_project.target_path / "manifest.json").read_text())
    ran = [r for r in run.results if r.node.resource_type == "unit_test"]
    assert len(ran) == len(manifest["unit_tests"]) > 20


@pytest.fixture(scope="module")
def expected(runs: Runs, dbt_project: DbtProject) -> dict[str, Expected]:
    clean = clean_actions(raw_actions(dbt_project.raw_dir))
    users = pd.read_parquet(dbt_project.raw_dir / "user_info")
    assert users["user_id"].is_unique
    areas = spec.area_of_city(dbt_project.project_dir)
    result = {}
    for task in TASKS:
        actions = spec.in_range(clean, task)
        matching = spec.matching_sessions(spec.sessions(actions), users, task)
        events = spec.category_events(actions, matching)
        top = spec.top10_categories(events, task.task_id)
        units = spec.funnel_units(actions, matching, task)
        result[task.task_id] = Expected(
            matching=matching,
            marts={
                "session_length_distribution": spec.length_distribution(matching, task.task_id),
                "top10_categories": top,
                "top10_category_sessions": spec.top10_category_sessions(events, top, task.task_id),
                "page_conversion_rates": spec.page_conversion_rates(actions, task),
                "funnel_conversion": spec.funnel_conversion(units, actions, areas, task),
            },
        )
    return result


def assert_same_rows(actual: pd.DataFrame, wanted: pd.DataFrame, mart: str) -> None:
    wanted = wanted.sort_values(MARTS[mart]).reset_index(drop=True)
    pd.testing.assert_frame_equal(
        actual[list(wanted.columns)],
        wanted,
        check_dtype=False,
        check_exact=False,
        rtol=1e-12,
    )


def test_the_filtered_task_is_a_real_subset(expected: dict[str, Expected]) -> None:
    matching = expected[FILTERED.task_id].matching
    assert FILTERED.extract_sessions < len(matching) < len(expected[DEFAULT.task_id].matching)
    assert matching["date_hour"].nunique() > FILTERED.extract_sessions / 2


@pytest.mark.parametrize(
    "mart",
    [
        "session_length_distribution",
        "top10_categories",
        "top10_category_sessions",
        "page_conversion_rates",
        "funnel_conversion",
    ],
)
@pytest.mark.parametrize("task", TASKS, ids=lambda task: task.task_id)
def test_mart_equals_the_spec(
    runs: Runs, expected: dict[str, Expected], mart: str, task: spec.Task
) -> None:
    actual = of_task(runs.after_filtered[mart], mart, task.task_id)
    wanted = expected[task.task_id].marts[mart]
    assert len(wanted) > 0
    assert_same_rows(actual, wanted, mart)


@pytest.mark.parametrize("task", TASKS, ids=lambda task: task.task_id)
def test_random_extract_follows_the_spec(
    runs: Runs, expected: dict[str, Expected], task: spec.Task
) -> None:
    matching = expected[task.task_id].matching
    extract = of_task(
        runs.after_filtered["session_random_extract"], "session_random_extract", task.task_id
    )
    size = min(task.extract_sessions, len(matching))
    assert len(extract) == size > 0
    assert extract["session_id"].is_unique
    assert set(extract["session_id"]) <= set(matching.index)
    # per slot exactly the largest-remainder seats
    seats = spec.largest_remainder(matching["date_hour"].value_counts().to_dict(), size)
    drawn = extract["date_hour"].value_counts().to_dict()
    assert drawn == {slot: n for slot, n in seats.items() if n > 0}
    # each drawn session carries its own start, slot, keywords and categories
    sessions = matching.loc[extract["session_id"]]
    assert list(extract["start_time"]) == list(sessions["start_time"])
    assert list(extract["date_hour"]) == list(sessions["date_hour"])
    assert list(extract["search_keywords"]) == [",".join(v) for v in sessions["search_keywords"]]
    assert list(extract["click_category_ids"]) == [
        ",".join(str(c) for c in v) for v in sessions["click_category_ids"]
    ]


def test_random_extract_is_reproducible_and_not_just_the_first_ids(
    runs: Runs, expected: dict[str, Expected]
) -> None:
    mart = "session_random_extract"
    first = of_task(runs.first_default[mart], mart, DEFAULT.task_id)
    second = of_task(runs.second_default[mart], mart, DEFAULT.task_id)
    pd.testing.assert_frame_equal(first, second)
    # a shuffle, not an ordering by id: some slot drew other sessions than its lowest ids
    matching = expected[DEFAULT.task_id].matching
    lowest_ids = {
        slot: set(sorted(group.index)[: (first["date_hour"] == slot).sum()])
        for slot, group in matching.groupby("date_hour")
    }
    drawn = first.groupby("date_hour")["session_id"].agg(set).to_dict()
    assert any(drawn[slot] != lowest_ids[slot] for slot in drawn)


def test_a_first_run_holds_only_its_own_task(runs: Runs) -> None:
    for mart, frame in runs.first_default.items():
        assert set(frame["task_id"]) == {DEFAULT.task_id}, mart


def test_running_a_task_leaves_the_other_tasks_rows_untouched(runs: Runs) -> None:
    for mart in MARTS:
        assert set(runs.after_filtered[mart]["task_id"]) == {DEFAULT.task_id, FILTERED.task_id}
        pd.testing.assert_frame_equal(
            of_task(runs.after_filtered[mart], mart, DEFAULT.task_id),
            of_task(runs.first_default[mart], mart, DEFAULT.task_id),
            obj=f"{mart}: default task after running t_filtered",
        )
        pd.testing.assert_frame_equal(
            of_task(runs.second_default[mart], mart, FILTERED.task_id),
            of_task(runs.after_filtered[mart], mart, FILTERED.task_id),
            obj=f"{mart}: t_filtered after running the default task again",
        )


def test_running_a_task_again_gives_the_same_rows(runs: Runs) -> None:
    for mart in MARTS:
        pd.testing.assert_frame_equal(
            of_task(runs.second_default[mart], mart, DEFAULT.task_id),
            of_task(runs.first_default[mart], mart, DEFAULT.task_id),
            obj=f"{mart}: default task run twice",
        )


def test_a_rerun_matching_nothing_replaces_the_tasks_rows_by_empty_results(runs: Runs) -> None:
    marts = runs.after_emptied
    task_id = FILTERED.task_id
    for mart in (
        "session_random_extract",
        "top10_categories",
        "top10_category_sessions",
        "funnel_conversion",
    ):
        assert of_task(runs.after_filtered[mart], mart, task_id).shape[0] > 0
        assert of_task(marts[mart], mart, task_id).empty, mart
    mart = "session_length_distribution"
    distribution = of_task(marts[mart], mart, task_id)
    assert len(distribution) == len(spec.VISIT_BUCKETS) + len(spec.STEP_BUCKETS)
    assert (distribution["sessions"] == 0).all()
    assert distribution["ratio"].isna().all()
    # page conversion has no user, keyword or category filter: the same rows as before
    mart = "page_conversion_rates"
    pd.testing.assert_frame_equal(
        of_task(marts[mart], mart, task_id), of_task(runs.after_filtered[mart], mart, task_id)
    )
    for mart in MARTS:
        pd.testing.assert_frame_equal(
            of_task(marts[mart], mart, DEFAULT.task_id),
            of_task(runs.first_default[mart], mart, DEFAULT.task_id),
            obj=f"{mart}: default task after rerunning t_filtered",
        )


def writes_to(queries: list[tuple[str, str]], mart: str) -> list[str]:
    """The statements of a run that change the rows of `mart` (dbt's query comment removed)."""
    changing = re.compile(
        rf"^\s*(insert\b.*\b{mart}\b\s|alter\s+table\s+\S*\b{mart}\b.*\bdrop\b|"
        rf"delete\s+from\s+\S*\b{mart}\b|truncate\b.*\b{mart}\b)",
        re.IGNORECASE | re.DOTALL,
    )
    statements = [re.sub(r"^\s*/\*.*?\*/", "", sql, flags=re.DOTALL) for _, sql in queries]
    return [sql.strip() for sql in statements if changing.match(sql)]


def test_a_rerun_replaces_each_tasks_partition_in_one_statement(runs: Runs) -> None:
    """A reader sees a task's old rows or its new ones, never none: no statement empties the
    partition before the new rows are written (a build killed in between would leave none)."""
    for queries, marts, task_id in (
        (runs.second_default_queries, runs.second_default, DEFAULT.task_id),
        (runs.after_emptied_queries, runs.after_emptied, EMPTIED.task_id),
    ):
        for mart in MARTS:
            statements = writes_to(queries, mart)
            assert len(statements) == 1, (mart, statements)
            if of_task(marts[mart], mart, task_id).empty:
                assert re.match(r"^\s*alter table .* drop if exists partition", statements[0])
            else:
                replace_rows = r"^\s*insert overwrite table \S+ partition \(task_id\)"
                assert re.match(replace_rows, statements[0]), statements[0]


BAD_PARAMETERS = [
    ({"task_id": "t 42"}, "task_id", "an identifier of letters, digits, _ . -"),
    ({"start_date": "2026-02-30"}, "start_date", "a date as yyyy-MM-dd"),
    ({"start_date": "2026-11-20", "end_date": "2026-11-19"}, "start_date", "on or before end_date"),
    ({"start_age": 40, "end_age": 20}, "start_age", "not above end_age (20)"),
    ({"end_age": "forty"}, "end_age", "a whole number"),
    ({"category_ids": [3, "x"]}, "category_ids", "non-negative whole numbers"),
    ({"target_page_flow": "1,two,3"}, "target_page_flow", "non-negative whole numbers"),
    ({"target_page_flow": [4]}, "target_page_flow", "at least two page ids"),
    ({"extract_sessions": -5}, "extract_sessions", "a whole number from 0 to"),
    ({"sex": "other"}, "sex", "got \"other\"; expected 'male', 'female'"),
    ({"funnel_steps": ["page:1", "view:2"]}, "funnel_steps", 'got "view:2"; expected each step'),
    ({"funnel_steps": "page:1,click:"}, "funnel_steps", 'got "click:"; expected each step'),
    ({"funnel_steps": ["page:any", "pay:3"]}, "funnel_steps", "page:<page id>, search:<keyword>"),
    ({"funnel_steps": ["search:any"]}, "funnel_steps", "a list of two to ten steps"),
    ({"funnel_steps": [f"page:{page}" for page in range(11)]}, "funnel_steps", "two to ten"),
    ({"target_page_flow": list(range(11))}, "funnel_steps", "the pages of target_page_flow"),
    ({"funnel_window_seconds": 0}, "funnel_window_seconds", "a whole number from 1 to 2592000"),
    ({"funnel_window_seconds": 2592001}, "funnel_window_seconds", "from 1 to 2592000"),
    ({"funnel_order": "loose"}, "funnel_order", "got \"loose\"; expected 'ordered' or 'strict'"),
    ({"funnel_unit": "device"}, "funnel_unit", "expected 'session' or 'user' (empty: session)"),
]


@pytest.mark.parametrize(
    ("bad_vars", "parameter", "accepted"),
    BAD_PARAMETERS,
    ids=[f"{case[1]}-{index}" for index, case in enumerate(BAD_PARAMETERS)],
)
def test_a_bad_parameter_stops_dbt_before_anything_is_written(
    dbt_project: DbtProject,
    spark,
    bad_vars: dict[str, Any],
    parameter: str,
    accepted: str,
) -> None:
    fresh = dbt_project.beside("bad")
    run = fresh.invoke("build", vars=bad_vars)
    assert not run.success
    lines = [line for line in str(run.exception).splitlines() if "Invalid task parameter" in line]
    assert len(lines) == 1, str(run.exception)
    assert lines[0].strip().startswith(f"Invalid task parameter `{parameter}`: got ")
    assert accepted in lines[0]
    assert not spark.catalog.databaseExists(fresh.schema)
    assert not spark.catalog.databaseExists(fresh.schema + "_raw")


BAD_VARS = [
    ({"sexx": "female"}, "Unknown variable `sexx` in --vars; did you mean `sex`?"),
    ({"run_dat": "2026-11-18"}, "Unknown variable `run_dat` in --vars; did you mean `run_date`?"),
    ({"task_id": "{{ 7*7 }}"}, "Variable `task_id` in --vars holds Jinja ('{{ 7*7 }}')"),
]


@pytest.mark.parametrize(("bad_vars", "message"), BAD_VARS, ids=["typo", "daily-typo", "jinja"])
def test_an_unknown_or_templated_var_stops_dbt_before_anything_is_written(
    dbt_project: DbtProject, spark, bad_vars: dict[str, Any], message: str
) -> None:
    fresh = dbt_project.beside("badvars")
    run = fresh.invoke("build", vars=bad_vars)
    assert not run.success
    lines = [line for line in str(run.exception).splitlines() if "--vars" in line]
    assert len(lines) == 1 and message in lines[0], str(run.exception)
    assert "Traceback" not in run.text()
    assert not spark.catalog.databaseExists(fresh.schema)
    assert not spark.catalog.databaseExists(fresh.schema + "_raw")
