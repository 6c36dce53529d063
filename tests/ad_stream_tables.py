"""The streaming job's tables as Python values, compared with the plain-Python replay of SPEC 4
(tests/ad_stream_reference.py), and the Delta commits behind them: shared by the tests of the
file and Kafka sources."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.ad_stream_reference import Replay

BATCH_FIGURES = (
    "input_lines",
    "clicks",
    "quarantined_lines",
    "dropped_clicks",
    "counted_clicks",
    "new_blacklisted",
    "blacklist_size",
)
"""The figures of a batch that `ad_stream_batches` logs and the replay computes."""


def read_tables(
    spark: Any, schema: str, table: Callable[[str], Any] | None = None
) -> dict[str, Any]:
    """The job's tables as Python values, without processing-time columns (those differ
    between two runs of the same input; a replayed batch keeps them). `table`: name -> its
    DataFrame (default: the table of `schema` in the session's metastore)."""
    table = table or (lambda name: spark.table(f"{schema}.{name}"))

    def rows(name: str, *columns: str) -> list[tuple[Any, ...]]:
        return [tuple(row) for row in table(name).selectExpr(*columns).collect()]

    def keyed(found: list[tuple[Any, ...]]) -> dict[tuple[Any, ...], int]:
        counts = {row[:-1]: row[-1] for row in found}
        assert len(counts) == len(found), "one row per key"
        return counts

    return {
        "ad_blacklist": sorted(
            rows(
                "ad_blacklist",
                "user_id",
                "batch_id",
                "ad_id",
                "click_date",
                "clicks",
                "threshold",
                "reason",
            )
        ),
        "ad_user_daily_clicks": keyed(
            rows("ad_user_daily_clicks", "click_date", "user_id", "ad_id", "clicks")
        ),
        "ad_daily_clicks": keyed(
            rows("ad_daily_clicks", "click_date", "province", "city", "ad_id", "clicks")
        ),
        "ad_province_top3": sorted(
            rows("ad_province_top3", "click_date", "province", "rank", "ad_id", "clicks")
        ),
        "ad_click_trend": keyed(rows("ad_click_trend", "unix_millis(minute)", "ad_id", "clicks")),
        "ad_clicks": Counter(
            rows(
                "ad_clicks",
                "timestamp_ms",
                "province",
                "city",
                "user_id",
                "ad_id",
                "batch_id",
                "click_date",
                "unix_millis(click_time)",
            )
        ),
        "ad_click_quarantine": Counter(
            rows("ad_click_quarantine", "raw_line", "reason", "batch_id", "source")
        ),
        "ad_stream_batches": sorted(
            rows(
                "ad_stream_batches",
                "batch_id",
                *BATCH_FIGURES,
                "threshold",
                "unix_millis(trend_start)",
            )
        ),
    }


def assert_equals_replay(tables: dict[str, Any], expected: Replay) -> None:
    """Every SPEC 4 table, the raw clicks, the quarantine and the batch log of a run against the
    plain-Python replay."""
    assert tables["ad_blacklist"] == sorted(
        (
            user,
            batch,
            ad,
            day,
            clicks,
            expected.threshold,
            f"{clicks} clicks on ad {ad} on {day} (threshold {expected.threshold})",
        )
        for user, (batch, ad, day, clicks) in expected.blacklist.items()
    )
    assert tables["ad_user_daily_clicks"] == dict(expected.user_daily)
    assert tables["ad_daily_clicks"] == dict(expected.daily)
    assert tables["ad_province_top3"] == sorted(expected.province_top3())
    assert tables["ad_click_trend"] == expected.trend()
    quarantined: Counter[str] = Counter()
    for (_, reason, _, _), count in tables["ad_click_quarantine"].items():
        quarantined[reason] += count
    assert quarantined == expected.quarantine
    newest = max(minute for minute, _ in expected.minutes)
    figures = [tuple(batch.get(name, 0) for name in BATCH_FIGURES) for batch in expected.batches]
    assert [row[1 : 1 + len(BATCH_FIGURES)] for row in tables["ad_stream_batches"]] == figures
    assert tables["ad_stream_batches"][-1][-1] == newest - 59 * 60_000
    assert sum(tables["ad_clicks"].values()) == sum(b["clicks"] for b in expected.batches)


def delta_commits(location: str) -> list[dict[str, Any]]:
    """The commits of the Delta table at `location` (a path or file: URI), oldest first: its
    `version`, `operation`, `txn` (app id and version, or None) and whether it changed data."""
    log = Path(location.removeprefix("file:")) / "_delta_log"
    commits = []
    for path in sorted(log.glob("*.json")):
        try:
            actions = [json.loads(line) for line in path.read_text().splitlines() if line]
        except (OSError, ValueError):  # being written
            continue
        info = next(action["commitInfo"] for action in actions if "commitInfo" in action)
        txn = next((action["txn"] for action in actions if "txn" in action), None)
        changes = [
            action.get("add") or action.get("remove")
            for action in actions
            if "add" in action or "remove" in action
        ]
        commits.append(
            {
                "version": int(path.stem),
                "operation": info["operation"],
                "txn": (txn["appId"], txn["version"]) if txn else None,
                "user_metadata": info.get("userMetadata"),
                "data_change": any(change.get("dataChange", True) for change in changes),
            }
        )
    return commits


def batches_committed(location: str) -> set[int]:
    """The batch ids (transaction versions) committed to the Delta table at `location`."""
    return {commit["txn"][1] for commit in delta_commits(location) if commit["txn"]}


def run_killed_twice(
    command: list[str], environment: dict[str, str], tables_dir: Path
) -> subprocess.CompletedProcess[str]:
    """Run `ecom stream` (`command`, its tables in `tables_dir`) and kill it with SIGKILL (the
    process and its JVM) first right after a batch committed its blacklist entries and before
    its per-user counts, then after a batch's per-user counts and before its row in the batch
    log; then run it to its end and return that run."""

    def committed(name: str) -> set[int]:
        return batches_committed(str(tables_dir / name))

    def blacklist_ahead_of_counts() -> int | None:
        return min(committed("ad_blacklist") - committed("ad_user_daily_clicks"), default=None)

    def counts_ahead_of_log(after: int) -> int | None:
        ahead = committed("ad_user_daily_clicks") - committed("ad_stream_batches")
        return min((batch for batch in ahead if batch > after), default=None)

    def run_until(condition: Callable[[], int | None]) -> int:
        process = subprocess.Popen(
            command,
            env=environment,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + 900
        try:
            while (batch := condition()) is None:
                assert process.poll() is None, "the stream ended before the moment to kill it"
                assert time.monotonic() < deadline
                time.sleep(0.01)
        finally:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        return batch

    first = run_until(blacklist_ahead_of_counts)
    # killed inside batch `first`: its blacklist entries committed, its counts and row not
    assert first not in committed("ad_stream_batches")
    second = run_until(lambda: counts_ahead_of_log(first))
    assert second not in committed("ad_stream_batches")
    time.sleep(2)  # the killed JVM's files are closed
    finished = subprocess.run(
        command, env=environment, capture_output=True, text=True, timeout=900, check=False
    )
    assert finished.returncode == 0, finished.stderr[-3000:]
    return finished
