"""The project built once per test session the way `make demo` builds it, on small data.

Generated raw data (with dirt) and ad-click logs (with heavy clickers and malformed lines), a
bounded run of the streaming job (`--available-now`), then `dbt build`: every model, seed and
test of the project into one schema. Test modules that only read such a build (the foundation
checks, the docs site, the dashboards on real data) share it through the `project_build`
fixture of tests/conftest.py instead of building again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ecom_analytics.generator.config import GenerateConfig
from ecom_analytics.generator.pipeline import generate
from ecom_analytics.run_summary import RunSummary, summarise_target
from tests.dbt_harness import DbtInvocation, DbtProject

SCHEMA = "t_project_build"
AD_CLICK_FILES = 3


@dataclass(frozen=True)
class ProjectBuild:
    """What the build left: the project (its schema and raw data) and what each step reported."""

    project: DbtProject
    manifest: dict[str, Any]
    """The generator's `_manifest.json` of the raw data (what it broke on purpose)."""
    stream_batches: int
    invocation: DbtInvocation
    summary: RunSummary
    """What `ecom demo` would print about the build (and whether it would fail)."""


def generate_data(raw_dir: Path, ad_click_dir: Path) -> dict[str, Any]:
    """Three small days of actions and ad clicks; returns the raw data's manifest."""
    config = GenerateConfig(
        raw_dir=raw_dir,
        ad_click_dir=ad_click_dir,
        seed=7,
        days=3,
        users=200,
        sessions_per_day=150,
        actions_per_session=8,
        dirt_share=0.02,
        # two heavy clickers (150 clicks each on one ad in one day) cross the threshold of 100
        ad_clicks=6000,
        ad_click_files=AD_CLICK_FILES,
        ad_users=300,
        ads=8,
    )
    generate(config, progress=False)
    return json.loads((raw_dir / "_manifest.json").read_text())


def build_project(spark: Any, work_dir: Path) -> ProjectBuild:
    """Generate, stream (one micro-batch per log file), `dbt build`: as `ecom demo` does."""
    from streaming.job import run_stream
    from streaming.options import StreamOptions

    project = DbtProject(
        project_dir=Path(__file__).resolve().parents[1],
        raw_dir=work_dir / "raw",
        schema=SCHEMA,
        target_path=work_dir / "target",
    )
    ad_click_dir = work_dir / "ad_clicks"
    manifest = generate_data(project.raw_dir, ad_click_dir)
    options = StreamOptions(
        input_dir=str(ad_click_dir),
        checkpoint=str(work_dir / "checkpoint"),
        schema=SCHEMA,
        max_files_per_trigger=1,
        available_now=True,
        max_age_ms=None,  # the generator's fixed days, as `make demo` streams them
    )
    batches = run_stream(spark, options, log=lambda _: None)
    invocation = project.build()
    summary = summarise_target(project.target_path)
    return ProjectBuild(project, manifest, len(batches), invocation, summary)
