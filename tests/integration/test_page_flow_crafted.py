"""Page-flow matching (Python models) on a small hand-made data set, expectations by hand.

The sessions exercise each rule of SPEC 3 for page conversion: actions ordered by time with
ties broken by page id (not by file order), jumps only within a session (two sessions
interleave in time), only actions inside the task's dates (sessions across both ends of the
range), no user filter (the task's sex filter excludes half the sessions elsewhere, not here;
one user is unknown), a quarantined duplicate that must not add a jump, and a flow with a
repeated page pair and a page nobody visited.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ecom_analytics.generator.tables import ACTION_SCHEMA, USER_SCHEMA
from tests.dbt_harness import DbtProject

pytestmark = [pytest.mark.spark, pytest.mark.dbt]

TASK = {
    "task_id": "crafted",
    "start_date": "2026-11-20",
    "end_date": "2026-11-21",
    "sex": "male",
    "target_page_flow": [1, 2, 1, 2, 9, 5],
}

# (session, user, page, action_time), in file order
ACTIONS = [
    # A: 1 -> 2 -> 1 -> 2; its second action also comes as an exact copy (quarantined)
    ("A", 1, 1, "2026-11-20 08:00:00"),
    ("A", 1, 2, "2026-11-20 08:00:10"),
    ("A", 1, 2, "2026-11-20 08:00:10"),
    ("A", 1, 1, "2026-11-20 08:00:20"),
    ("A", 1, 2, "2026-11-20 08:00:30"),
    # F interleaves with A in time: 2 -> 1, no jump across the two sessions
    ("F", 2, 2, "2026-11-20 08:00:05"),
    ("F", 2, 1, "2026-11-20 08:00:15"),
    # B: a tie at 09:00:00 orders page 1 before page 2: 1 -> 2 -> 3
    ("B", 2, 2, "2026-11-20 09:00:00"),
    ("B", 2, 1, "2026-11-20 09:00:00"),
    ("B", 2, 3, "2026-11-20 09:00:05"),
    # C ends after the range: only its page-1 action counts
    ("C", 1, 1, "2026-11-21 23:59:50"),
    ("C", 1, 2, "2026-11-22 00:00:10"),
    # D starts before the range: only its page-2 action counts
    ("D", 2, 1, "2026-11-19 23:59:59"),
    ("D", 2, 2, "2026-11-20 00:00:05"),
    # E written out of time order: 1 -> 2 -> 5 -> 2 -> 1
    ("E", 1, 2, "2026-11-21 12:00:10"),
    ("E", 1, 1, "2026-11-21 12:00:00"),
    ("E", 1, 5, "2026-11-21 12:00:20"),
    ("E", 1, 2, "2026-11-21 12:00:30"),
    ("E", 1, 1, "2026-11-21 12:00:40"),
    # G, a user missing from user_info: 1 -> 1 -> 2
    ("G", 3, 1, "2026-11-20 10:00:00"),
    ("G", 3, 1, "2026-11-20 10:00:01"),
    ("G", 3, 2, "2026-11-20 10:00:02"),
]
USERS = [
    (1, "u1", "User One", 30, "Engineer", "Beijing", "female"),
    (2, "u2", "User Two", 40, "Teacher", "Wuhan", "male"),
]

# By hand. In-range actions on page 1: A 2, F 1, B 1, C 1, E 2, G 2 = 9; on page 2: A 2, F 1,
# B 1, D 1, E 2, G 1 = 8; none on page 9. Jumps 1 -> 2: A 2, B 1, E 1, G 1 = 5; 2 -> 1: A 1,
# F 1, E 1 = 3; 2 -> 9 and 9 -> 5: none.
EXPECTED_STEPS = [
    # step, from, to, from_page_actions, jump_count
    (1, 1, 2, 9, 5),
    (2, 2, 1, 8, 3),
    (3, 1, 2, 9, 5),
    (4, 2, 9, 8, 0),
    (5, 9, 5, 0, 0),
]
EXPECTED_RATES = [
    # step, from, to, jump_count, base_count, conversion_rate
    (1, 1, 2, 5, 9, 5 / 9),
    (2, 2, 1, 3, 5, 3 / 5),
    (3, 1, 2, 5, 3, 5 / 3),
    (4, 2, 9, 0, 5, 0.0),
    (5, 9, 5, 0, 0, None),
]


def write_raw(raw_dir: Path) -> None:
    columns = {name: [None] * len(ACTIONS) for name in ACTION_SCHEMA.names}
    columns["session_id"] = [session for session, _, _, _ in ACTIONS]
    columns["user_id"] = [user for _, user, _, _ in ACTIONS]
    columns["page_id"] = [page for _, _, page, _ in ACTIONS]
    columns["action_time"] = [time for _, _, _, time in ACTIONS]
    columns["click_category_id"] = [-1] * len(ACTIONS)
    columns["click_product_id"] = [-1] * len(ACTIONS)
    columns["city_id"] = [0] * len(ACTIONS)
    actions = pa.Table.from_pydict(columns, schema=ACTION_SCHEMA).append_column(
        "date", pa.array([time[:10] for _, _, _, time in ACTIONS])
    )
    users = pa.Table.from_pylist(
        [dict(zip(USER_SCHEMA.names, row, strict=True)) for row in USERS], schema=USER_SCHEMA
    )
    for name, table in (("user_visit_action", actions), ("user_info", users)):
        (raw_dir / name).mkdir(parents=True, exist_ok=True)
        pq.write_table(table, raw_dir / name / "part-00000.parquet")


@pytest.fixture(scope="module")
def built(dbt_project: DbtProject) -> DbtProject:
    write_raw(dbt_project.raw_dir)
    dbt_project.build(
        "--select", "+page_conversion_rates", "stg_ecom__quarantined_actions", vars=TASK
    )
    return dbt_project


def test_jumps_are_matched_to_the_flow_steps(built: DbtProject, spark) -> None:
    rows = spark.table(built.relation("int_page_jumps_matched")).orderBy("step").collect()
    assert [
        (r.step, r.from_page_id, r.to_page_id, r.from_page_actions, r.jump_count) for r in rows
    ] == EXPECTED_STEPS


def test_conversion_rates_follow_the_flow(built: DbtProject, spark) -> None:
    rows = spark.table(built.relation("page_conversion_rates")).orderBy("step").collect()
    assert {r.task_id for r in rows} == {"crafted"}
    actual = [
        (r.step, r.from_page_id, r.to_page_id, r.jump_count, r.base_count, r.conversion_rate)
        for r in rows
    ]
    assert [row[:5] for row in actual] == [row[:5] for row in EXPECTED_RATES]
    for (*_, rate), (*_, expected) in zip(actual, EXPECTED_RATES, strict=True):
        assert rate == (None if expected is None else pytest.approx(expected, rel=1e-12))


def test_the_duplicate_was_quarantined_not_counted(built: DbtProject, spark) -> None:
    reasons = [
        r.quarantine_reason
        for r in spark.table(built.relation("stg_ecom__quarantined_actions")).collect()
    ]
    assert reasons == ["duplicate"]
