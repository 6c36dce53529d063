"""The adapter's checks of bad input that need no JVM: `--vars` keys and values, raw folders."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from dbt.adapters.sparkoss.cli_vars import cli_var_problem, declared_vars
from dbt.adapters.sparkoss.raw_files import bad_files, check_raw_dataset, data_files

DECLARED = {"task_id", "sex", "start_date", "backfill_start_date", "backfill_end_date", "keywords"}
TYPES = {"user_id": "bigint", "page_id": "bigint", "action_time": "string"}


def test_declared_vars_are_global_or_scoped_to_the_project() -> None:
    project_vars = {"task_id": "default", "ecom_analytics": {"sex": None}, "other": 1}
    assert declared_vars(project_vars, "ecom_analytics") == {"task_id", "sex", "other"}


def test_declared_vars_of_dbt_project_yml_cover_the_task_and_the_daily_run() -> None:
    import yaml

    root = Path(__file__).resolve().parents[2]
    project_vars = yaml.safe_load((root / "dbt_project.yml").read_text())["vars"]
    names = declared_vars(project_vars, "ecom_analytics")
    assert {"task_id", "sex", "run_date", "backfill_start_date", "lookback_days"} <= names


@pytest.mark.parametrize(
    ("cli_vars", "expected"),
    [
        ({"sexx": "female"}, "Unknown variable `sexx` in --vars; did you mean `sex`?"),
        ({"backfill_start": "2026-11-01"}, "did you mean `backfill_start_date`?"),
        ({"zzz": 1}, "Unknown variable `zzz` in --vars. The project's variables are the"),
        ({"task_id": "{{ 7*7 }}"}, "Variable `task_id` in --vars holds Jinja ('{{ 7*7 }}')"),
        ({"keywords": ["tea", "{% if x %}y{% endif %}"]}, "`keywords` in --vars holds Jinja"),
        ({"task_id": "a{#b#}"}, "`task_id` in --vars holds Jinja"),
    ],
)
def test_a_bad_vars_entry_gets_one_line(cli_vars: dict, expected: str) -> None:
    problem = cli_var_problem(cli_vars, DECLARED)
    assert problem is not None and expected in problem
    assert "\n" not in problem


def test_an_unknown_key_is_reported_before_a_templated_value() -> None:
    problem = cli_var_problem({"task_id": "{{ 1 }}", "sexx": "male"}, DECLARED)
    assert problem is not None and problem.startswith("Unknown variable `sexx`")


def test_good_vars_pass() -> None:
    assert cli_var_problem({}, DECLARED) is None
    assert cli_var_problem({"task_id": "t-1.x", "keywords": ["a { b }", "c"]}, DECLARED) is None


def _parquet(path: Path, page_id: pa.Array) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    table = pa.table({"user_id": pa.array([1] * len(page_id), pa.int64()), "page_id": page_id})
    pq.write_table(table, path)
    return path


@pytest.fixture()
def dataset(tmp_path: Path) -> Path:
    folder = tmp_path / "user_visit_action"
    _parquet(folder / "date=2026-11-01" / "part-0.parquet", pa.array([3, 4], pa.int64()))
    _parquet(folder / "date=2026-11-02" / "part-0.parquet", pa.array([5], pa.int32()))
    (folder / "_SUCCESS").write_text("")
    (folder / "date=2026-11-01" / ".part-0.parquet.crc").write_text("x")
    return folder


def check(folder: Path | str, max_share: float = 0.1):
    mirror = Path(str(folder).removeprefix("file://")).parent / "mirror"
    return check_raw_dataset("user_visit_action", str(folder), TYPES, max_share, mirror)


def test_a_good_folder_passes_and_hidden_files_are_skipped_as_spark_skips_them(
    dataset: Path,
) -> None:
    assert [path.name for path in data_files(dataset)] == ["part-0.parquet"] * 2
    for location in (str(dataset), f"file://{dataset}"):
        result = check(location)
        assert (result.read_from, result.files, result.skipped, result.problem) == (
            location,
            2,
            (),
            None,
        )


def break_three_files(dataset: Path) -> None:
    (dataset / "README.txt").write_text("what this folder is")
    good = (dataset / "date=2026-11-01" / "part-0.parquet").read_bytes()
    (dataset / "date=2026-11-02" / "cut.parquet").write_bytes(good[: len(good) // 2])
    _parquet(dataset / "date=2026-11-02" / "typed.parquet", pa.array(["x"], pa.string()))


def test_a_linked_day_folder_is_checked_and_mirrored_as_spark_reads_it(
    dataset: Path, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "archive" / "date=2026-10-31"
    _parquet(elsewhere / "part-0.parquet", pa.array([1], pa.int64()))
    (dataset / "date=2026-10-31").symlink_to(elsewhere, target_is_directory=True)
    (dataset / "README.txt").write_text("x")
    result = check(dataset, max_share=0.5)
    assert result.files == 4 and [bad.path.name for bad in result.skipped] == ["README.txt"]
    assert (dataset.parent / "mirror" / "date=2026-10-31" / "part-0.parquet").is_symlink()


def test_each_bad_file_is_named_with_its_reason(dataset: Path) -> None:
    break_three_files(dataset)
    count, found = bad_files(dataset, TYPES)
    assert count == 5
    assert {bad.path.name: bad.reason for bad in found} == {
        "README.txt": "not a Parquet file",
        "cut.parquet": "truncated Parquet file (no footer)",
        "typed.parquet": "column page_id is string, expected bigint",
    }


def test_more_bad_files_than_the_share_stop_the_run_with_one_line(dataset: Path) -> None:
    break_three_files(dataset)
    result = check(dataset, max_share=0.5)
    assert result.problem is not None and "\n" not in result.problem
    assert result.problem.startswith(
        "Raw dataset 'user_visit_action': 3 of 5 files cannot be read as its Parquet columns,"
        " more than max_bad_file_share (0.5) of them: "
    )
    assert f"{dataset}/README.txt (not a Parquet file)" in result.problem
    assert not (dataset.parent / "mirror").exists()


def test_a_few_bad_files_are_skipped_and_the_view_reads_links_to_the_good_ones(
    dataset: Path,
) -> None:
    break_three_files(dataset)
    result = check(dataset, max_share=0.6)
    mirror = dataset.parent / "mirror"
    assert result.problem is None and result.read_from == str(mirror)
    assert sorted(bad.path.name for bad in result.skipped) == [
        "README.txt",
        "cut.parquet",
        "typed.parquet",
    ]
    links = sorted(path.relative_to(mirror) for path in mirror.rglob("*") if path.is_symlink())
    assert [str(link) for link in links] == [
        "date=2026-11-01/part-0.parquet",
        "date=2026-11-02/part-0.parquet",
    ]
    assert (mirror / links[0]).resolve() == dataset / links[0]
    assert result.skipped_line("user_visit_action").startswith(
        "Raw dataset 'user_visit_action': skipping 3 of 5 files that cannot be read"
    )
    # fixed: the next run reads the folder itself again, and the mirror is gone
    for bad in result.skipped:
        bad.path.unlink()
    assert check(dataset).read_from == str(dataset) and not mirror.exists()


def test_a_folder_of_bad_files_only_stops_the_run_whatever_the_share(tmp_path: Path) -> None:
    folder = tmp_path / "user_visit_action"
    folder.mkdir()
    (folder / "notes.txt").write_text("x")
    result = check(folder, max_share=1.0)
    assert result.problem is not None and "1 of 1 files cannot be read" in result.problem


def test_a_long_list_is_reported_briefly(dataset: Path) -> None:
    for index in range(7):
        (dataset / f"empty-{index}.parquet").write_bytes(b"")
    result = check(dataset)
    assert result.problem is not None
    assert "7 of 9 files" in result.problem and "; and 2 more." in result.problem


def test_an_empty_folder_names_the_dataset(tmp_path: Path) -> None:
    folder = tmp_path / "user_visit_action"
    (folder / "_temporary").mkdir(parents=True)
    (folder / "_temporary" / "part-0.parquet").write_bytes(b"PAR1")
    result = check(folder)
    assert result.problem is not None
    assert result.problem.startswith(
        f"Raw dataset 'user_visit_action' at {folder} holds no data files"
    )


def test_remote_and_missing_folders_are_left_to_spark(tmp_path: Path) -> None:
    assert check("s3a://bucket/raw/x").read_from == "s3a://bucket/raw/x"
    assert check(tmp_path / "missing").problem is None


def test_a_dataset_exported_as_text_is_fine_but_one_text_file_among_numbers_is_not(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "user_visit_action"
    for day in ("2026-11-01", "2026-11-02"):
        _parquet(folder / f"date={day}" / "part-0.parquet", pa.array(["3"], pa.string()))
    all_text = check(folder)
    assert all_text.skipped == () and all_text.problem is None
    _parquet(folder / "date=2026-11-03" / "part-0.parquet", pa.array([3], pa.int64()))
    result = check(folder, max_share=0.5)
    assert [(bad.path.parent.name, bad.reason) for bad in result.skipped] == [
        ("date=2026-11-03", "column page_id is bigint, expected string")
    ]
