"""One generator run: users, then the actions day by day, then the ad-click log, then manifests.

Each purpose and day draws from its own NumPy stream seeded by (`--seed`, stream, day), so a day's
data does not depend on how many days follow it. Actions of a session that runs past midnight
are written under the next day (the `date` partition always matches `action_time`); those past
the last generated day are dropped, so every time lies within the generated days. Rows of a day
are sorted by time, as in a log.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import IntEnum
from typing import Any

import numpy as np
from tqdm import tqdm

from ecom_analytics.generator import GENERATOR_NAME, GENERATOR_VERSION, catalog, output
from ecom_analytics.generator.actions import ActionModel
from ecom_analytics.generator.adclicks import BLACKLIST_THRESHOLD, MS_PER_DAY, click_lines
from ecom_analytics.generator.config import GenerateConfig
from ecom_analytics.generator.dirt import DIRT_KINDS, apply_dirt, choose_dirty_rows
from ecom_analytics.generator.frame import ActionFrame
from ecom_analytics.generator.sessions import (
    SECONDS_PER_DAY,
    draw_sessions,
    step_log_location,
    walk,
)
from ecom_analytics.generator.tables import action_table
from ecom_analytics.generator.users import Users, generate_users


class Stream(IntEnum):
    """Independent random streams, one per purpose."""

    CATALOG = 0
    USERS = 1
    SKEW = 2
    SESSIONS = 3
    DIRT = 4
    AD_CLICKS = 5


@dataclass(frozen=True)
class Summary:
    """What a run wrote, for the one-line report."""

    action_rows: int
    user_rows: int
    click_lines: int
    dirty_rows: int
    seconds: float

    def line(self) -> str:
        """`ecom generate: ... rows ..., N s, M rows/s`."""
        rows = self.action_rows + self.user_rows + self.click_lines
        return (
            f"ecom generate: user_visit_action {self.action_rows:,} rows, "
            f"user_info {self.user_rows:,} rows, ad clicks {self.click_lines:,} lines; "
            f"{self.dirty_rows:,} dirty rows; "
            f"{self.seconds:.1f} s, {rows / max(self.seconds, 1e-9):,.0f} rows/s"
        )


def _rng(config: GenerateConfig, stream: Stream, *keys: int) -> np.random.Generator:
    """The generator of one stream (and day), derived from the run's seed."""
    return np.random.default_rng([config.seed, int(stream), *keys])


def _hot_key(config: GenerateConfig) -> int | None:
    """The hot category, product or user of a skewed run, None without skew."""
    bounds = {"category": catalog.N_CATEGORIES, "product": catalog.N_PRODUCTS, "user": config.users}
    if config.skew_kind not in bounds:
        return None
    return int(_rng(config, Stream.SKEW).integers(0, bounds[config.skew_kind]))


@dataclass
class ActionCounts:
    """Rows and dirty rows per kind written for each day of `user_visit_action`."""

    rows_per_day: dict[str, int] = field(default_factory=dict)
    dirty_per_day: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def rows(self) -> int:
        return sum(self.rows_per_day.values())

    @property
    def dirty_rows(self) -> dict[str, int]:
        return {
            kind: sum(counts[kind] for counts in self.dirty_per_day.values()) for kind in DIRT_KINDS
        }


def generate(config: GenerateConfig, *, progress: bool = True) -> Summary:
    """Write everything `config` describes; raises output.ForeignDataError before writing."""
    started = time.perf_counter()
    raw_dir, ad_dir = config.raw_dir, config.ad_click_dir
    output.read_own_manifest(raw_dir)
    old_ad_manifest = output.read_own_manifest(ad_dir) if config.ad_clicks else None

    header = {
        "generator": GENERATOR_NAME,
        "generator_version": GENERATOR_VERSION,
        "status": "in_progress",
        "parameters": config.parameters(),
    }
    output.write_manifest(raw_dir, header)
    output.clear_raw_dir(raw_dir)
    if config.ad_clicks:
        output.clear_ad_click_dir(ad_dir, old_ad_manifest)
        planned = {output.click_file_name(index): None for index in range(config.ad_click_files)}
        output.write_manifest(ad_dir, {**header, "ad_clicks": {"files": planned}})

    users = generate_users(_rng(config, Stream.USERS), config.users)
    output.write_parquet(users.table, raw_dir / "user_info" / "part-00000.parquet")
    hot_key = _hot_key(config)
    actions = _write_actions(config, users, hot_key, progress)
    clicks = _write_ad_clicks(config) if config.ad_clicks else None

    complete = {**header, "status": "complete"}
    if clicks is not None:
        output.write_manifest(ad_dir, {**complete, "ad_clicks": clicks})
    output.write_manifest(
        raw_dir,
        {
            **complete,
            "datasets": {
                "user_visit_action": {
                    "path": "user_visit_action",
                    "partitioned_by": "date",
                    "rows": actions.rows,
                    "rows_per_day": actions.rows_per_day,
                },
                "user_info": {"path": "user_info", "rows": users.table.num_rows},
            },
            "dirty_rows": actions.dirty_rows,
            "dirty_rows_per_day": actions.dirty_per_day,
            "skew": None
            if hot_key is None
            else {"kind": config.skew_kind, "share": config.skew_share, "hot_key": hot_key},
            "ad_clicks": clicks,
        },
    )
    return Summary(
        action_rows=actions.rows,
        user_rows=users.table.num_rows,
        click_lines=clicks["lines"] if clicks else 0,
        dirty_rows=sum(actions.dirty_rows.values()),
        seconds=time.perf_counter() - started,
    )


def _write_actions(
    config: GenerateConfig, users: Users, hot_key: int | None, progress: bool
) -> ActionCounts:
    """Write the `user_visit_action` partitions day by day; returns what was written."""
    model = ActionModel.create(
        _rng(config, Stream.CATALOG), config.skew_kind, hot_key, config.skew_share
    )
    hot_user = hot_key if config.skew_kind == "user" else None
    step_location = step_log_location(config.actions_per_session)
    counts = ActionCounts()
    carry: ActionFrame | None = None
    days = tqdm(
        range(config.days), desc="ecom generate", unit="day", file=sys.stderr, disable=not progress
    )
    for day in days:
        rng = _rng(config, Stream.SESSIONS, day)
        sessions = draw_sessions(
            rng,
            day=day,
            count=config.sessions_per_day,
            first_key=day * config.sessions_per_day,
            step_location=step_location,
            users=users,
            hot_user=hot_user,
            hot_share=config.skew_share,
        )
        steps = walk(rng, sessions)
        content = model.draw(rng, len(steps.time))
        frame = ActionFrame(
            session_key=sessions.key[steps.session],
            session_id=sessions.session_id[steps.session],
            user_id=sessions.user_id[steps.session],
            city_id=sessions.city_id[steps.session],
            time=steps.time,
            page_id=steps.page_id,
            kind=content.kind,
            keyword=content.keyword,
            n_items=content.n_items,
            items=content.items,
        )
        day_start, next_day = day * SECONDS_PER_DAY, (day + 1) * SECONDS_PER_DAY
        today = frame.take(frame.time < next_day)
        if carry is not None:
            today = ActionFrame.concat([carry, today])
        carry = frame.take(frame.time >= next_day)
        today = today.take(np.argsort(today.time, kind="stable"))

        day_date = config.start_date + timedelta(days=day)
        dirt_rng = _rng(config, Stream.DIRT, day)
        chosen = choose_dirty_rows(dirt_rng, today, config.dirt_share)
        clean = action_table(today, day_date, day_start)
        table = apply_dirt(dirt_rng, clean, today, chosen, day_date)
        path = config.raw_dir / "user_visit_action" / f"date={day_date}" / "part-00000.parquet"
        output.write_parquet(table, path)
        counts.rows_per_day[str(day_date)] = table.num_rows
        counts.dirty_per_day[str(day_date)] = {kind: len(rows) for kind, rows in chosen.items()}
        days.set_postfix(rows=f"{counts.rows:,}")
    return counts


def _write_ad_clicks(config: GenerateConfig) -> dict[str, Any]:
    """Write the ad-click log files; returns their manifest section."""
    start_ms = (config.start_date - date(1970, 1, 1)).days * MS_PER_DAY
    span_ms = config.days * MS_PER_DAY
    batch = click_lines(
        _rng(config, Stream.AD_CLICKS),
        config.ad_clicks,
        start_ms,
        span_ms,
        users=config.ad_users,
        ads=config.ads,
        heavy_share=config.ad_heavy_share,
        malformed_share=config.ad_malformed_share,
    )
    files = output.write_click_files(config.ad_click_dir, batch.lines, config.ad_click_files)
    return {
        "path": str(config.ad_click_dir),
        "lines": len(batch.lines),
        "files": files,
        "start_ms": start_ms,
        "end_ms": start_ms + span_ms,
        "malformed_lines": batch.malformed_counts(),
        "heavy_clickers": batch.heavy_users.tolist(),
        "blacklist_threshold": BLACKLIST_THRESHOLD,
        "over_threshold": batch.over_threshold(),
    }
