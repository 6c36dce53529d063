"""Bad raw folders: a few bad files are skipped and recorded, more stop the run in one line.

Each case copies one small generated data set and breaks it as a user might (a README among the
Parquet files, an empty folder, a truncated file, a column written with another type, a
column missing from every file). With
more bad files than `max_bad_file_share` (or none at all), `dbt build` must fail in its
`on-run-start` hook, before Spark reads a file or anything is written, with one line that says
what and where, and no Java trace. Below the share, the build must go on without the bad file,
list it in stg_ecom__quarantined_files and warn, and stage every row of the other files.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.dbt_harness import DbtProject
from tests.project_build import generate_data

pytestmark = [pytest.mark.spark, pytest.mark.dbt]


@pytest.fixture(scope="module")
def generated(dbt_project: DbtProject) -> Path:
    generate_data(dbt_project.raw_dir, dbt_project.raw_dir.parent / "ad_clicks")
    return dbt_project.raw_dir


def copy_of(generated: Path, case: str) -> Path:
    raw_dir = generated.parent / f"raw-{case}"
    shutil.rmtree(raw_dir, ignore_errors=True)
    shutil.copytree(generated, raw_dir)
    return raw_dir


def first_parquet(folder: Path) -> Path:
    return sorted(folder.rglob("*.parquet"))[0]


def add_readme(actions: Path) -> Path:
    readme = actions / "README.txt"
    readme.write_text("Actions exported nightly from the shop.\n")
    return readme


def empty_folder(actions: Path) -> Path:
    shutil.rmtree(actions)
    actions.mkdir()
    (actions / "_SUCCESS").write_text("")
    return actions


def truncate(actions: Path) -> Path:
    victim = first_parquet(actions)
    data = victim.read_bytes()
    victim.write_bytes(data[: len(data) // 3])
    return victim


def page_id_as_string(actions: Path) -> Path:
    victim = first_parquet(actions)
    table = pq.read_table(victim)
    index = table.schema.get_field_index("page_id")
    column = table.column(index).cast(pa.string())
    pq.write_table(table.set_column(index, "page_id", column), victim)
    return victim


def without_city_id(actions: Path) -> Path:
    for path in actions.rglob("*.parquet"):
        pq.write_table(pq.read_table(path).drop_columns(["city_id"]), path)
    return actions


CASES: dict[str, tuple[Callable[[Path], Path], str]] = {
    "readme": (add_readme, "(not a Parquet file)"),
    "empty": (empty_folder, "holds no data files"),
    "truncated": (truncate, "(truncated Parquet file (no footer))"),
    "typed": (page_id_as_string, "(column page_id is string, expected bigint)"),
    "no_column": (without_city_id, "lacks column(s) city_id of source ecom_raw.user_visit_action"),
}


@pytest.mark.parametrize("case", CASES)
def test_a_bad_raw_folder_stops_the_build_with_one_line(
    dbt_project: DbtProject, generated: Path, spark, case: str
) -> None:
    break_it, reason = CASES[case]
    raw_dir = copy_of(generated, case)
    named = break_it(raw_dir / "user_visit_action")
    project = replace(dbt_project.beside(case), raw_dir=raw_dir)

    run = project.invoke("build")

    assert not run.success
    lines = [line for line in str(run.exception).splitlines() if "Raw dataset" in line]
    assert len(lines) == 1, str(run.exception)
    assert "user_visit_action" in lines[0] and str(named) in lines[0] and reason in lines[0]
    assert "\tat " not in run.text() and "Traceback" not in run.text()
    # nothing built: the schema holds no table or view (the session's temporary views aside)
    assert not [
        table for table in spark.catalog.listTables(project.schema) if not table.isTemporary
    ]


def test_a_bad_file_below_the_share_is_skipped_recorded_and_the_rest_staged(
    dbt_project: DbtProject, generated: Path, spark
) -> None:
    raw_dir = copy_of(generated, "skipped")
    actions = raw_dir / "user_visit_action"
    victim = truncate(actions)
    kept = [path for path in sorted(actions.rglob("*.parquet")) if path != victim]
    project = replace(dbt_project.beside("skipped"), raw_dir=raw_dir)

    run = project.invoke(
        "build",
        "--select",
        "stg_ecom__quarantined_files",
        "+stg_ecom__user_visit_actions",
        "+stg_ecom__quarantined_actions",
        "--exclude-resource-type",
        "unit_test",
        vars={"max_bad_file_share": 0.5},
    )

    assert run.success, run.text()[-3000:]
    warning = [line for line in run.messages if "skipping 1 of" in line]
    assert len(warning) == 1 and str(victim) in warning[0], run.messages
    statuses = run.statuses()
    assert [
        statuses[name]
        for name in statuses
        if name.startswith("has_no_rows_stg_ecom__quarantined_files")
    ] == ["warn"]
    skipped = spark.table(project.relation("stg_ecom__quarantined_files")).collect()
    assert [tuple(row) for row in skipped] == [
        ("user_visit_action", str(victim), "truncated Parquet file (no footer)")
    ]
    # the raw view names the files of the folder itself, and reads every row of the others
    per_file = spark.sql(
        f"""select source_file_path, count(*) as actions
        from {project.schema}_raw.user_visit_action
        group by source_file_path"""
    ).collect()
    rows = {str(path): pq.read_metadata(path).num_rows for path in kept}
    assert {row.source_file_path.removeprefix("file:"): row.actions for row in per_file} == rows
    staged = sum(
        spark.table(project.relation(name)).count()
        for name in ("stg_ecom__user_visit_actions", "stg_ecom__quarantined_actions")
    )
    assert staged == sum(rows.values())


def test_a_bad_share_stops_the_run_with_one_line(dbt_project: DbtProject, generated: Path) -> None:
    project = dbt_project.beside("share")
    run = project.invoke("build", vars={"max_bad_file_share": 1.5})
    assert not run.success
    said = str(run.exception).splitlines()
    lines = [line.strip() for line in said if "Invalid variable" in line]
    assert lines == [
        "Invalid variable `max_bad_file_share`: got 1.5; expected a share from 0 to 1, e.g. 0.1."
    ], str(run.exception)
