"""`ecom bench --quick`: the benchmark end to end on tiny data, the report checked against dbt's
own run_results.json, and the baseline's marts checked equal to dbt's (so the benchmark's ratio
compares like with like). No timing is asserted: only that the figures are real."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from ecom_analytics.bench.baseline import MARTS
from ecom_analytics.bench.compare import mart_differences
from ecom_analytics.cli import main

pytestmark = [pytest.mark.spark, pytest.mark.dbt]


@pytest.fixture(scope="module")
def quick(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, Path, Path]:
    root = tmp_path_factory.mktemp("bench")
    out, work = root / "out", root / "work"
    code = main(["bench", "--quick", "--output", str(out), "--workdir", str(work), "--keep"])
    assert code == 0, (out / "latest.md").read_text() if (out / "latest.md").exists() else code
    return json.loads((out / "latest.json").read_text()), out, work


def test_the_report_covers_every_offline_model_as_dbt_timed_it(quick: tuple[dict, Path, Path]):
    report, _out, work = quick
    (case,) = report["cases"]
    run_dir = work / "runs" / case["name"]
    raw_manifest = json.loads((work / "data" / case["name"] / "_manifest.json").read_text())
    assert case["actions"] == raw_manifest["datasets"]["user_visit_action"]["rows"] > 10_000

    dbt = case["dbt"]
    assert dbt["status"] == "ok"
    results = json.loads((run_dir / "target-build" / "run_results.json").read_text())
    timed = {
        result["unique_id"].split(".")[-1]: result
        for result in results["results"]
        if not result["unique_id"].startswith("exposure.")  # documentation, nothing runs
    }
    nodes = {node["name"]: node for node in dbt["nodes"]}
    assert set(nodes) == set(timed)
    for name, node in nodes.items():
        assert node["status"] == "success", name
        assert node["seconds"] == round(timed[name]["execution_time"], 2) > 0, name

    manifest = json.loads((run_dir / "target-build" / "manifest.json").read_text())
    models = {
        node["name"]: node["tags"]
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model"
    }
    offline = {name for name, tags in models.items() if "ad_stream" not in tags}
    built = {name for name, node in nodes.items() if node["resource_type"] == "model"}
    assert built == offline
    assert {"int_sessions_sliced", "page_conversion_rates", "area_top3_products"} <= built
    assert {node["name"] for node in dbt["nodes"] if node["resource_type"] == "seed"} == {
        "city_info",
        "product_info",
    }


def test_the_figures_are_real_and_add_up(quick: tuple[dict, Path, Path]) -> None:
    report, _out, _work = quick
    (case,) = report["cases"]
    dbt, baseline = case["dbt"], case["baseline"]
    split = dbt["time_split_seconds"]
    assert all(split[part] > 0 for part in ("startup", "node_span", "node_seconds_sum"))
    assert split["startup"] + split["node_span"] + split["exit"] == pytest.approx(
        dbt["wall_seconds"], abs=0.1
    )
    assert 0 < split["jvm_start_estimate"] < split["startup"]
    for part in (dbt, baseline):
        assert part["status"] == "ok"
        assert part["wall_seconds"] > 0
        assert part["actions_per_second"] == round(case["actions"] / part["wall_seconds"])
        assert part["peak_rss_mib"]["jvm"] > 200
        assert part["peak_rss_mib"]["python"] > 30
        assert part["mean_load"] > 0
        # the JVM works for seconds, within what the machine's cores can give in the wall time
        cores = os.cpu_count() or 1
        assert 1 < part["cpu_seconds"]["jvm"] <= cores * part["wall_seconds"]
        assert 0 < part["cpu_seconds"]["python"] <= cores * part["wall_seconds"]
    phases = baseline["phases_seconds"]
    assert set(MARTS) <= set(phases) and "start Spark" in phases
    # like dbt's, the baseline's marts are tables of its metastore, not only files
    assert baseline["tables"] == sorted({*MARTS, "quarantined_actions"})
    assert 0 < sum(phases.values()) <= baseline["wall_seconds"]
    assert case["dbt_to_baseline"] == round(dbt["wall_seconds"] / baseline["wall_seconds"], 3)


def test_the_baseline_computes_the_same_marts_as_dbt(quick: tuple[dict, Path, Path]) -> None:
    report, _out, work = quick
    (case,) = report["cases"]
    assert case["check"] == {"equal": True, "differences": []}

    # the check compares real rows: one changed count in the baseline is caught
    run_dir = work / "runs" / case["name"]
    mart = run_dir / "baseline" / "baseline.db" / "top10_categories"
    part = next(path for path in sorted(mart.rglob("*.parquet")) if pq.read_metadata(path).num_rows)
    table = pq.read_table(part)
    counts = table.column("click_count")
    table = table.set_column(
        table.schema.get_field_index("click_count"), "click_count", pc.add(counts, 1)
    )
    pq.write_table(table, part)
    differences = mart_differences(
        run_dir / "warehouse" / "warehouse", "ecom", run_dir / "baseline"
    )
    assert len(differences) == 1 and differences[0].startswith("top10_categories: row ")


def test_the_markdown_table_shows_the_run(quick: tuple[dict, Path, Path]) -> None:
    report, out, _work = quick
    text = (out / "latest.md").read_text()
    name = report["cases"][0]["name"]
    assert f"| {name} | dbt build | ok |" in text
    assert f"| {name} | baseline | ok |" in text
    assert "### Where dbt's time goes (seconds)" in text
    assert "| int_sessions_sliced |" in text
    assert (out / "latest.json").read_text() == next(out.glob("bench-*.json")).read_text()


def test_each_dbt_command_starts_from_the_one_untimed_parse(quick: tuple[dict, Path, Path]):
    report, _out, work = quick
    assert report["settings"]["dbt_parse"] == "partial"
    (case,) = report["cases"]
    parse_log = (work / "parse" / "dbt-parse.log").read_text()
    assert "Starting full parse" in parse_log
    build_log = (work / "runs" / case["name"] / "dbt-build.log").read_text()
    assert "Unable to do partial parsing" not in build_log


def test_the_report_names_the_class_archive_its_jvms_started_from(
    quick: tuple[dict, Path, Path],
) -> None:
    from dbt.adapters.sparkoss.class_archive import existing_archive

    report, _out, _work = quick
    assert report["settings"]["jvm_class_archive"] == str(existing_archive() or "none")
