"""The demo's summary of a dbt invocation (ecom_analytics/run_summary.py), from crafted results."""

from __future__ import annotations

from ecom_analytics.run_summary import summarise

MANIFEST = {
    "nodes": {
        "model.p.stg": {"name": "stg", "language": "sql"},
        "model.p.sliced": {"name": "sliced", "language": "python"},
        "model.p.broken": {"name": "broken", "language": "sql"},
        "seed.p.city_info": {"name": "city_info"},
        "test.p.not_null": {"name": "not_null"},
        "test.p.quarantine": {"name": "quarantine"},
    }
}


def result(unique_id: str, status: str, message: str | None = None) -> dict[str, object]:
    return {"unique_id": unique_id, "status": status, "message": message}


def test_exposures_count_as_built_and_failures_as_problems() -> None:
    summary = summarise(
        {
            "elapsed_time": 12.4,
            "results": [
                result("model.p.stg", "success"),
                result("model.p.sliced", "success"),
                result("model.p.broken", "error", "Division by zero"),
                result("seed.p.city_info", "success"),
                result("test.p.not_null", "pass"),
                result("test.p.quarantine", "warn", "Got 3 results"),
                result("exposure.p.dashboard_page_flow", "no-op", "NO-OP"),
                result("exposure.p.ad_stream_job", "no-op", "NO-OP"),
            ],
        },
        MANIFEST,
    )
    assert summary.exposures == 2
    assert summary.problems == ["model broken: error: Division by zero"]
    assert summary.warnings == ["quarantine: Got 3 results"]
    assert summary.lines()[:5] == [
        "models built: 2 (1 python, 1 sql); Python models: sliced",
        "seeds loaded: 1",
        "exposures:    2 (dashboard pages and jobs reading the tables)",
        "data tests:   2 (1 pass, 1 warn)",
        "dbt time:     12 s",
    ]


def test_a_skipped_exposure_is_a_problem() -> None:
    summary = summarise(
        {"results": [result("exposure.p.dashboard_area_top3", "skipped")]}, MANIFEST
    )
    assert summary.exposures == 0
    assert summary.problems == ["exposure exposure.p.dashboard_area_top3: skipped: "]
