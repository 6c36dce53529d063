"""The docs site of the session's real build: complete, and its lineage in layers.

`dbt docs generate --static` runs once on the shared build (tests/project_build.py), so the
catalog holds the columns of the tables and views as Spark built them. Every model, seed, source,
exposure and project macro (and each macro argument) must be described; every built column must
be documented, with no documented column missing from the warehouse; the measures of the marts
and of the streaming job's tables must be defined by doc blocks; the exposures must name every
dashboard page and the streaming job; the graph must run sources and seeds -> staging ->
intermediate -> marts -> exposures. Each check lists everything it finds, so one run shows all
the gaps.
"""

from __future__ import annotations

import inspect
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ecom_analytics.dashboard.app import PAGES
from ecom_analytics.dashboard.contract import AD_TABLES, DAILY_TABLES, TASK_TABLES
from tests.project_build import ProjectBuild

pytestmark = [pytest.mark.spark, pytest.mark.dbt]

PACKAGE = "ecom_analytics"
# A node's layer, from its resource type or its folder under models/; parents come from the same
# layer or earlier ones, staging reads sources, and only the streaming job's tables (sources of
# dbt, since the job writes them) feed exposures besides the marts. Seeds are dimensions that
# any model layer may join.
LAYERS = {"source": 0, "seed": 0, "staging": 1, "intermediate": 2, "marts": 3, "exposure": 4}
ALLOWED_PARENTS = {
    "staging": {"source", "seed", "staging"},
    "intermediate": {"seed", "staging", "intermediate"},
    "marts": {"seed", "intermediate", "marts"},
    "exposure": {"marts", "source"},
}
STREAM_SOURCE = "ad_stream"
DASHBOARD_URL = "http://127.0.0.1:8501/"
NUMERIC_TYPES = re.compile(r"^(byte|short|integer|int|long|bigint|float|double|decimal.*)$")
MACRO_HEADER = re.compile(r"\{%-?\s*(?:macro|test)\s+\w+\s*\((.*?)\)\s*-?%\}", re.DOTALL)


@dataclass(frozen=True)
class Docs:
    manifest: dict[str, Any]
    catalog: dict[str, Any]
    target: Path

    def own(self, kind: str) -> dict[str, dict[str, Any]]:
        """The project's own nodes of a manifest section (`nodes`, `sources`, `macros`, ...)."""
        return {
            key: node
            for key, node in self.manifest[kind].items()
            if node["package_name"] == PACKAGE
        }

    def models_and_seeds(self) -> dict[str, dict[str, Any]]:
        return {
            key: node
            for key, node in self.own("nodes").items()
            if node["resource_type"] in ("model", "seed")
        }


@pytest.fixture(scope="module")
def docs(project_build: ProjectBuild) -> Docs:
    project = project_build.project
    run = project.invoke("docs", "generate", "--static")
    assert run.success, run.text()[-3000:]
    target = project.target_path
    return Docs(
        manifest=json.loads((target / "manifest.json").read_text()),
        catalog=json.loads((target / "catalog.json").read_text()),
        target=target,
    )


def layer(node: dict[str, Any]) -> str:
    """`source`, `seed`, `exposure`, or the models/ folder a model lives in."""
    if node["resource_type"] in ("source", "seed", "exposure"):
        return str(node["resource_type"])
    return str(node["original_file_path"].split("/")[1])


def signature(macro_sql: str) -> list[str]:
    """The argument names of a macro's (or generic test's) header, defaults dropped."""
    header = MACRO_HEADER.search(macro_sql)
    assert header, macro_sql[:200]
    names, depth, quote, current = [], 0, "", ""
    for char in header.group(1) + ",":
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        elif char == "," and depth == 0:
            if current.strip():
                names.append(current.split("=", 1)[0].strip())
            current = ""
            continue
        current += char
    return names


def test_the_static_site_opens_on_the_overview(docs: Docs) -> None:
    overview = docs.manifest["docs"][f"doc.{PACKAGE}.__overview__"]["block_contents"]
    for start_here in ("Where to start", "quarantine", "run_date", "task_id", "exposures"):
        assert start_here in overview
    # its links to models, sources and exposures (`#!/<kind>/<unique id>`) all lead somewhere
    links = re.findall(r"\(#!/(\w+)/([\w.]+)\)", overview)
    assert len(links) >= 20
    nodes = {**docs.manifest["nodes"], **docs.manifest["sources"], **docs.manifest["exposures"]}
    assert [target for kind, target in links if target not in nodes or kind not in target] == []
    site = (docs.target / "static_index.html").read_text()
    assert len(site) > 100_000
    # the single file carries the manifest and catalog, the overview with them
    assert "Where to start" in site and "area_top3_products" in site


def test_every_node_and_macro_is_described(docs: Docs) -> None:
    undescribed = [key for key, node in docs.models_and_seeds().items() if not node["description"]]
    for key, source in docs.own("sources").items():
        if not source["description"] or not source["source_description"]:
            undescribed.append(key)
    undescribed += [key for key, node in docs.own("exposures").items() if not node["description"]]
    undescribed += [key for key, node in docs.own("macros").items() if not node["description"]]
    assert not undescribed, "\n".join(undescribed)
    assert len(docs.own("exposures")) == len(PAGES) + 1


def test_every_macro_argument_is_documented(docs: Docs) -> None:
    problems = []
    for key, macro in docs.own("macros").items():
        documented = [argument["name"] for argument in macro["arguments"]]
        if documented != signature(macro["macro_sql"]):
            problems.append(f"{key}: documents {documented}, takes {signature(macro['macro_sql'])}")
        problems += [
            f"{key}({argument['name']}): no description"
            for argument in macro["arguments"]
            if not argument["description"]
        ]
    assert not problems, "\n".join(problems)


def test_every_built_column_is_documented_and_no_documented_column_is_missing(docs: Docs) -> None:
    documented = {**docs.models_and_seeds(), **docs.own("sources")}
    built = {**docs.catalog["nodes"], **docs.catalog["sources"]}
    assert set(documented) == set(built)
    problems = []
    for key, node in documented.items():
        columns = {name.lower(): column for name, column in node["columns"].items()}
        in_warehouse = {name.lower() for name in built[key]["columns"]}
        problems += [f"{key}.{name}: undocumented" for name in sorted(in_warehouse - set(columns))]
        problems += [f"{key}.{name}: not built" for name in sorted(set(columns) - in_warehouse)]
        problems += [
            f"{key}.{name}: no description"
            for name, column in columns.items()
            if not column["description"].strip()
        ]
    assert not problems, "\n".join(problems)


def test_measures_of_marts_and_stream_tables_are_defined_by_doc_blocks(docs: Docs) -> None:
    """Every numeric column that is not a key (`*_id`), in the marts and the tables of SPEC 4."""
    marts = {key for key, node in docs.models_and_seeds().items() if layer(node) == "marts"}
    stream = {f"source.{PACKAGE}.{STREAM_SOURCE}.{name}" for name in AD_TABLES}
    documented = {**docs.own("nodes"), **docs.own("sources")}
    built = {**docs.catalog["nodes"], **docs.catalog["sources"]}
    measures, undefined = 0, []
    for key in sorted(marts | stream):
        for name, column in built[key]["columns"].items():
            if name.endswith("_id") or not NUMERIC_TYPES.match(column["type"].lower()):
                continue
            measures += 1
            if not documented[key]["columns"][name]["doc_blocks"]:
                undefined.append(f"{key}.{name}")
    assert measures >= 20
    assert not undefined, "\n".join(undefined)


def test_exposures_name_every_dashboard_page_and_the_streaming_job(docs: Docs) -> None:
    exposures = list(docs.own("exposures").values())
    for exposure in exposures:
        assert exposure["owner"]["name"] and exposure["depends_on"]["nodes"], exposure["name"]
    # the start page is served at the root of the app, every other page at its own path
    pages = {"" if index == 0 else page.url_path: page for index, page in enumerate(PAGES)}
    by_page = {
        exposure["url"].removeprefix(DASHBOARD_URL): exposure
        for exposure in exposures
        if exposure["type"] == "dashboard"
    }
    assert set(by_page) == set(pages)
    read = set()
    for path, exposure in by_page.items():
        tables = {parent.rsplit(".", 1)[-1] for parent in exposure["depends_on"]["nodes"]}
        view = inspect.getsource(sys.modules[pages[path].render.__module__])
        assert all(f'"{table}"' in view for table in tables), (exposure["name"], tables)
        read |= tables
    assert read == {*TASK_TABLES, *DAILY_TABLES, *AD_TABLES}
    (job,) = [exposure for exposure in exposures if exposure["type"] == "application"]
    assert set(job["depends_on"]["nodes"]) == {
        key for key in docs.own("sources") if key.split(".")[2] == STREAM_SOURCE
    }


def test_lineage_runs_from_sources_to_exposures(docs: Docs) -> None:
    nodes = {**docs.own("nodes"), **docs.own("sources"), **docs.own("exposures")}
    graph = {
        key: node
        for key, node in nodes.items()
        if node["resource_type"] in ("model", "seed", "source", "exposure")
    }
    problems = []
    for key, node in graph.items():
        kind = layer(node)
        assert kind in LAYERS, f"{key}: a model outside staging/, intermediate/, marts/"
        parents = [graph[parent] for parent in node.get("depends_on", {}).get("nodes", [])]
        for parent in parents:
            if layer(parent) not in ALLOWED_PARENTS.get(kind, set()):
                problems.append(f"{key} ({kind}) reads {parent['unique_id']} ({layer(parent)})")
        if kind == "exposure":
            problems += [
                f"{key} reads {parent['unique_id']}, not a table of the streaming job"
                for parent in parents
                if layer(parent) == "source" and parent["source_name"] != STREAM_SOURCE
            ]
    # every mart feeds an exposure, and every source and seed feeds something
    used = {
        parent for node in graph.values() for parent in node.get("depends_on", {}).get("nodes", [])
    }
    problems += [
        f"{key} ({layer(node)}) feeds nothing"
        for key, node in graph.items()
        if layer(node) in ("source", "seed", "marts") and key not in used
    ]
    assert not problems, "\n".join(problems)
