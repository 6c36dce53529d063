"""The ad-click log (SPEC 1.3): line format, order across files, heavy clickers, malformed lines.

Lines are parsed here with a strict parser of the contract (exactly five fields separated by
single spaces, numeric timestamp, user and ad) and its verdicts compared with the manifest.
"""

from __future__ import annotations

import itertools
import json
from collections import Counter
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pytest

from ecom_analytics.generator import catalog
from ecom_analytics.generator.adclicks import click_lines
from ecom_analytics.generator.config import GenerateConfig
from ecom_analytics.generator.pipeline import generate

CONFIG = GenerateConfig(
    days=2,
    sessions_per_day=20,
    ad_clicks=20_000,
    ad_click_files=5,
    ad_users=300,
    ads=15,
    ad_heavy_share=0.05,
    ad_malformed_share=0.03,
)
START_MS = int(datetime(2026, 11, 16, tzinfo=timezone.utc).timestamp() * 1000)
CITIES = {province: set(cities) for province, cities in catalog.AD_PROVINCES}


def classify(line: str) -> str:
    """`ok` or the malformed kind of a line, by the contract alone."""
    fields = line.split(" ")
    if line == "":
        return "empty_line"
    if "" in fields:
        return "extra_spaces"
    if len(fields) != 5:
        return "wrong_field_count"
    timestamp, province, city, user, ad = fields
    if not timestamp.isdigit():
        return "non_numeric_timestamp"
    if not user.isdigit():
        return "non_numeric_user_id"
    if not ad.isdigit():
        return "non_numeric_ad_id"
    assert city in CITIES[province]
    return "ok"


@pytest.fixture(scope="module")
def clicks(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict, list[list[str]]]:
    """The ad-click dir, its manifest and the lines of each file."""
    root = tmp_path_factory.mktemp("ads")
    generate(replace(CONFIG, raw_dir=root / "raw", ad_click_dir=root / "ads"), progress=False)
    ad_dir = root / "ads"
    manifest = json.loads((ad_dir / "_manifest.json").read_text())
    files = sorted(ad_dir.glob("clicks-*.log"))
    assert [path.name for path in files] == [f"clicks-0000{index}.log" for index in range(5)]
    lines = [path.read_text().split("\n") for path in files]
    for file_lines in lines:
        assert file_lines.pop() == "", "every line ends with a newline"
    return ad_dir, manifest, lines


def test_files_hold_all_lines_in_event_time_order(
    clicks: tuple[Path, dict, list[list[str]]],
) -> None:
    _, manifest, lines = clicks
    section = manifest["ad_clicks"]
    assert section["files"] == {
        f"clicks-0000{index}.log": len(file_lines) for index, file_lines in enumerate(lines)
    }
    assert sum(len(file_lines) for file_lines in lines) == section["lines"] == 20_000
    stamps = [
        [int(line.split(" ")[0]) for line in file_lines if classify(line) == "ok"]
        for file_lines in lines
    ]
    flat = [stamp for file_stamps in stamps for stamp in file_stamps]
    assert flat == sorted(flat)
    assert flat[0] >= START_MS and flat[-1] < START_MS + 2 * 86_400_000
    assert section["start_ms"] == START_MS
    for earlier, later in itertools.pairwise(stamps):
        assert max(earlier) <= min(later)


def test_malformed_lines_match_the_manifest(clicks: tuple[Path, dict, list[list[str]]]) -> None:
    _, manifest, lines = clicks
    verdicts = Counter(classify(line) for file_lines in lines for line in file_lines)
    malformed = manifest["ad_clicks"]["malformed_lines"]
    assert {kind: verdicts[kind] for kind in malformed} == malformed
    assert sum(malformed.values()) == 600
    assert min(malformed.values()) == 100


def test_heavy_clickers_exceed_the_threshold_on_one_ad_in_one_day(
    clicks: tuple[Path, dict, list[list[str]]],
) -> None:
    _, manifest, lines = clicks
    per_key: Counter[tuple[str, int, int]] = Counter()
    for file_lines in lines:
        for line in file_lines:
            if classify(line) == "ok":
                timestamp, _, _, user, ad = line.split(" ")
                day = datetime.fromtimestamp(int(timestamp) / 1000, timezone.utc).date()
                per_key[(day.isoformat(), int(user), int(ad))] += 1
    over = sorted((key, count) for key, count in per_key.items() if count > 100)
    section = manifest["ad_clicks"]
    assert over == sorted(
        ((row["click_date"], row["user_id"], row["ad_id"]), row["clicks"])
        for row in section["over_threshold"]
    )
    assert sorted({user for (_, user, _), _ in over}) == section["heavy_clickers"]
    assert len(section["heavy_clickers"]) == 5
    assert section["blacklist_threshold"] == 100
    heavy_clicks = sum(count for _, count in over)
    assert heavy_clicks >= 0.05 * 20_000


def test_click_lines_serve_any_span_for_a_producer() -> None:
    midnight = START_MS + 86_400_000
    batch = click_lines(
        np.random.default_rng(3),
        500,
        midnight - 5_000,
        10_000,
        users=50,
        ads=5,
        heavy_share=0.0,
        malformed_share=0.1,
    )
    lines = batch.lines.to_pylist()
    assert len(lines) == 500
    ok = [line for line in lines if classify(line) == "ok"]
    assert len(ok) == 450
    stamps = [int(line.split(" ")[0]) for line in ok]
    assert stamps == sorted(stamps)
    assert stamps[0] >= midnight - 5_000 and stamps[-1] < midnight + 5_000
    assert sum(batch.malformed_counts().values()) == 50
    assert batch.over_threshold() == []


def test_a_heavy_burst_stays_inside_one_utc_day() -> None:
    # 20 minutes around midnight: a burst split over both days would stay under the threshold.
    batch = click_lines(
        np.random.default_rng(5),
        1_000,
        START_MS + 86_400_000 - 600_000,
        1_200_000,
        users=20,
        ads=3,
        heavy_share=0.5,
        malformed_share=0.0,
    )
    over = batch.over_threshold()
    assert len(batch.heavy_users) == 3
    assert sorted(row["user_id"] for row in over) == batch.heavy_users.tolist()
    assert all(row["clicks"] >= 500 // 3 for row in over)
