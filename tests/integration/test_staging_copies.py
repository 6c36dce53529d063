"""Exact copies and broken rows through the real staging models, on hand-made raw files.

The raw files here hold every action column as text (as an export from another system might),
so staging takes its text path for the ids (base_ecom__user_visit_actions, `typed_column`),
while the `date` comes from Hive-style day folders, which Spark reads as dates. Copies sit in
one file and across two files of a day; the same values on another day are another action; two
rows that differ only in where a blank and a null stand are two actions; a broken row and its
copy are both quarantined for what breaks them. No row may be lost: what staging keeps plus
what it quarantines is every raw row.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ecom_analytics.generator.tables import ACTION_SCHEMA, USER_SCHEMA
from tests.dbt_harness import DbtProject

pytestmark = [pytest.mark.spark, pytest.mark.dbt]

TEXT_SCHEMA = pa.schema([(name, pa.string()) for name in ACTION_SCHEMA.names])
HAT = {
    "user_id": "1",
    "session_id": "s1",
    "page_id": "3",
    "action_time": "2026-11-20 10:00:00",
    "search_keyword": "hat",
    "city_id": "1",
}
# (day folder, file, row); rows not named here are null
FILES = {
    ("2026-11-20", "part-00000.parquet"): [
        HAT,
        HAT,  # a copy in the same file
        {**HAT, "search_keyword": "hats"},  # shares the keys, another action
        {**HAT, "session_id": "s2", "city_id": "42"},  # unknown city
        {**HAT, "session_id": "s2", "city_id": "42"},  # ... and its copy
        {**HAT, "session_id": "s3", "search_keyword": None, "order_category_ids": " "},
        {**HAT, "session_id": "s3", "search_keyword": None, "order_product_ids": " "},
        {**HAT, "session_id": "s4", "user_id": " 7 ", "page_id": "x"},  # not a page id
    ],
    ("2026-11-20", "part-00001.parquet"): [
        HAT,  # a copy in another file of the same day
    ],
    ("2026-11-21", "part-00000.parquet"): [
        {**HAT, "action_time": "2026-11-21 10:00:00"},  # the same values on another day
    ],
}
USERS = [(1, "u1", "User One", 30, "Engineer", "Beijing", "female")]


def write_raw(raw_dir: Path) -> int:
    """The files above (every action column as text) and one user; returns the action rows."""
    rows = 0
    for (day, name), actions in FILES.items():
        folder = raw_dir / "user_visit_action" / f"date={day}"
        folder.mkdir(parents=True, exist_ok=True)
        table = pa.Table.from_pylist(
            [{column: action.get(column) for column in TEXT_SCHEMA.names} for action in actions],
            schema=TEXT_SCHEMA,
        )
        pq.write_table(table, folder / name)
        rows += len(actions)
    users = pa.Table.from_pylist(
        [dict(zip(USER_SCHEMA.names, row, strict=True)) for row in USERS], schema=USER_SCHEMA
    )
    (raw_dir / "user_info").mkdir(parents=True, exist_ok=True)
    pq.write_table(users, raw_dir / "user_info" / "part-00000.parquet")
    return rows


@pytest.fixture(scope="module")
def built(dbt_project: DbtProject) -> tuple[DbtProject, int]:
    rows = write_raw(dbt_project.raw_dir)
    # half the rows are broken on purpose: the quarantine's share test would fail (by design)
    dbt_project.build(
        "--select",
        "+stg_ecom__user_visit_actions",
        "stg_ecom__quarantined_actions",
        "--exclude-resource-type",
        "test",
    )
    return dbt_project, rows


def test_the_raw_view_says_where_each_row_came_from(built, spark) -> None:
    project, rows = built
    places = spark.sql(
        f"select source_file_path, source_row_index from {project.schema}_raw.user_visit_action"
    ).collect()
    assert len(places) == rows
    assert len({(place.source_file_path, place.source_row_index) for place in places}) == rows
    assert {place.source_row_index for place in places} == set(range(8))


def test_one_of_each_set_of_copies_stays_clean(built, spark) -> None:
    project, _ = built
    clean = spark.sql(
        "select session_id, user_id, page_id, search_keyword, order_category_ids, "
        "order_product_ids, raw_copies, cast(action_date as string) as day "
        f"from {project.relation('stg_ecom__user_visit_actions')}"
    ).collect()
    assert sorted(
        (r.day, r.session_id, r.user_id, r.page_id, r.search_keyword, r.raw_copies) for r in clean
    ) == [
        ("2026-11-20", "s1", 1, 3, "hat", 3),
        ("2026-11-20", "s1", 1, 3, "hats", 1),
        ("2026-11-20", "s3", 1, 3, None, 1),
        ("2026-11-20", "s3", 1, 3, None, 1),
        ("2026-11-21", "s1", 1, 3, "hat", 1),
    ]
    # the two s3 rows differ only where a blank and a null stand: both are blank lists now
    assert [(r.order_category_ids, r.order_product_ids) for r in clean if r.session_id == "s3"] == [
        (None, None),
        (None, None),
    ]


def test_extra_copies_and_broken_rows_are_quarantined(built, spark) -> None:
    project, rows = built
    quarantined = spark.sql(
        "select quarantine_reason, raw_session_id, raw_user_id, raw_page_id, raw_city_id "
        f"from {project.relation('stg_ecom__quarantined_actions')}"
    ).collect()
    assert sorted(
        (r.quarantine_reason, r.raw_session_id, r.raw_user_id, r.raw_page_id, r.raw_city_id)
        for r in quarantined
    ) == [
        ("duplicate", "s1", "1", "3", "1"),
        ("duplicate", "s1", "1", "3", "1"),
        ("null_page_id", "s4", " 7 ", "x", "1"),
        ("unknown_city", "s2", "1", "3", "42"),
        ("unknown_city", "s2", "1", "3", "42"),
    ]
    clean = spark.table(project.relation("stg_ecom__user_visit_actions")).count()
    assert clean + len(quarantined) == rows
