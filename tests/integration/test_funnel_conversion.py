"""funnel_conversion on generated data against an independent computation (spec_reference).

One small generated data set; the project up to the funnel is built once, then the funnel's own
nodes (its parameters, events, units and mart) run once per task: every combination of
`funnel_order` (ordered, strict) x `funnel_unit` (session, user) x three windows, each its own
`task_id`, with steps that mix every kind (page, search, click, order, pay; ids and `any`). The
first task is a `dbt build` of those nodes (their unit and data tests too), the others `dbt
run`: a dbt invocation costs seconds, so nothing else is selected. After each run, the units' best
attempts (`int_funnel_units_converted`) must equal spec_reference's unit for unit; at the end,
every task's rows of the mart must equal spec_reference's row for row, and every task must
still be there (each run replaced only its own partition).
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import product

import pandas as pd
import pytest

from tests.dbt_harness import DbtProject
from tests.integration import spec_reference as spec
from tests.integration.test_foundation_build import clean_actions, raw_actions
from tests.project_build import generate_data

pytestmark = [pytest.mark.spark, pytest.mark.dbt]

# page, search, click, order and pay steps; an id, a keyword and `any`
STEPS = ("page:1", "search:any", "click:any", "order:12", "pay:any")
WINDOWS = (60, 600, 3600)
TASKS = [
    spec.Task(
        task_id=f"f_{order}_{unit}_{window}",
        funnel_steps=STEPS,
        funnel_window_seconds=window,
        funnel_order=order,
        funnel_unit=unit,
    )
    for order, unit, window in product(("ordered", "strict"), ("session", "user"), WINDOWS)
]
FUNNEL_NODES = (
    "int_task_parameters",
    "int_funnel_events_matched",
    "int_funnel_units_converted",
    "funnel_conversion",
)
MART_ORDER = ["breakdown_kind", "breakdown_value", "step"]
# the dbt unit tests of the funnel's models (models/*/funnels/_funnels__models.yml): the edges
UNIT_TESTS = (
    "int_funnel_events_matched_flags_every_kind_of_step",
    "int_funnel_events_matched_keeps_every_action_in_strict_mode",
    "int_funnel_units_converted_ordered_takes_the_earliest_events_in_the_window",
    "int_funnel_units_converted_strict_takes_the_very_next_events",
    "int_funnel_units_converted_user_unit_spans_sessions",
    "funnel_conversion_counts_each_breakdown_and_step",
)


@dataclass(frozen=True)
class Built:
    mart: pd.DataFrame
    """Every task's rows of funnel_conversion after the last run."""
    units: dict[str, pd.DataFrame]
    """int_funnel_units_converted as each task's run left it, by task_id."""
    first_build: dict[str, str]
    """Node name -> status of the first task's `dbt build` (unit and data tests included)."""


@pytest.fixture(scope="module")
def built(dbt_project: DbtProject, spark) -> Built:
    generate_data(dbt_project.raw_dir, dbt_project.raw_dir.parent / "ad_clicks")
    seeds = dbt_project.invoke("seed", "--select", "city_info")
    assert seeds.success, seeds.text()[-3000:]
    upstream = dbt_project.invoke("run", "--select", "+int_funnel_events_matched")
    assert upstream.success, upstream.text()[-3000:]
    units, first_build = {}, {}
    for index, task in enumerate(TASKS):
        command = "build" if index == 0 else "run"
        run = dbt_project.invoke(command, "--select", *FUNNEL_NODES, vars=task.dbt_vars())
        assert run.success, run.failures() or run.text()[-3000:]
        first_build = first_build or run.statuses()
        units[task.task_id] = spark.table(
            dbt_project.relation("int_funnel_units_converted")
        ).toPandas()
    mart = spark.table(dbt_project.relation("funnel_conversion")).toPandas()
    return Built(mart=mart, units=units, first_build=first_build)


@pytest.fixture(scope="module")
def reference(built: Built, dbt_project: DbtProject) -> dict[str, tuple]:
    """Per task: the reference's units and mart rows."""
    clean = clean_actions(raw_actions(dbt_project.raw_dir))
    users = pd.read_parquet(dbt_project.raw_dir / "user_info")
    area_of = spec.area_of_city(dbt_project.project_dir)
    result = {}
    for task in TASKS:
        actions = spec.in_range(clean, task)
        matching = spec.matching_sessions(spec.sessions(actions), users, task)
        units = spec.funnel_units(actions, matching, task)
        result[task.task_id] = (units, spec.funnel_conversion(units, actions, area_of, task))
    return result


def test_the_unit_tests_at_the_edges_ran_and_passed(built: Built) -> None:
    assert {name: built.first_build.get(name) for name in UNIT_TESTS} == dict.fromkeys(
        UNIT_TESTS, "pass"
    )


def test_the_combinations_funnel_differently(reference: dict[str, tuple]) -> None:
    """The data exercise what the tests compare: units convert to the last step, strict mode
    and the user unit and the windows change the counts, and units enter in several areas."""
    reached = {
        task_id: [unit.steps_reached for unit in units] for task_id, (units, _) in reference.items()
    }
    assert max(reached["f_ordered_session_3600"]) == len(STEPS)
    assert sum(reached["f_strict_session_3600"]) < sum(reached["f_ordered_session_3600"])
    assert sum(reached["f_ordered_session_60"]) < sum(reached["f_ordered_session_3600"])
    assert len(reached["f_ordered_user_600"]) < len(reached["f_ordered_session_600"])
    mart = reference["f_ordered_session_600"][1]
    assert (mart["breakdown_kind"] == "area").sum() >= 5 * len(STEPS)
    assert (mart["breakdown_kind"] == "entry_date").sum() == 3 * len(STEPS)


@pytest.mark.parametrize("task", TASKS, ids=lambda task: task.task_id)
def test_units_equal_the_reference(
    built: Built, reference: dict[str, tuple], task: spec.Task
) -> None:
    actual = built.units[task.task_id].set_index("unit_id").sort_index()
    wanted = pd.DataFrame([unit.__dict__ for unit in reference[task.task_id][0]])
    wanted = wanted.set_index("unit_id").sort_index()
    assert len(wanted) > 0
    assert list(actual.index) == list(wanted.index)
    assert list(actual["steps_reached"]) == list(wanted["steps_reached"])
    assert [list(seconds) for seconds in actual["seconds_to_step"]] == list(
        wanted["seconds_to_step"]
    )
    assert list(actual["entry_city_id"]) == list(wanted["entry_city_id"])
    assert [day.isoformat() for day in actual["entry_date"]] == list(wanted["entry_date"])
    assert list(actual["entry_time"]) == list(wanted["entry_time"])


@pytest.mark.parametrize("task", TASKS, ids=lambda task: task.task_id)
def test_mart_equals_the_reference(
    built: Built, reference: dict[str, tuple], task: spec.Task
) -> None:
    wanted = reference[task.task_id][1].sort_values(MART_ORDER).reset_index(drop=True)
    actual = built.mart[built.mart["task_id"] == task.task_id]
    actual = actual.sort_values(MART_ORDER).reset_index(drop=True)[list(wanted.columns)]
    assert len(wanted) > 0
    pd.testing.assert_frame_equal(actual, wanted, check_dtype=False, rtol=1e-12)


def test_each_run_replaced_only_its_own_task(built: Built) -> None:
    assert sorted(set(built.mart["task_id"])) == sorted(task.task_id for task in TASKS)
