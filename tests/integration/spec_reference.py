"""SPEC 3 computed independently with pandas and plain Python, for the integration tests.

Nothing here imports the project's models or python_udfs: every rule (date range, matching,
buckets, apportionment, rankings, page jumps, funnels) is re-implemented from the text of
SPEC 3, so a mart equal to this is a mart equal to the spec. Inputs are the clean actions and
users of SPEC 1.1 (see test_foundation_build.clean_actions).
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd


def area_of_city(project_dir: Path) -> dict[int, str]:
    """City id -> area, from the project's city seed."""
    cities = pd.read_csv(project_dir / "seeds" / "city_info.csv")
    return dict(zip(cities["city_id"], cities["area"], strict=True))


VISIT_BUCKETS = [
    ("0s_3s", 0, 3),
    ("4s_6s", 4, 6),
    ("7s_9s", 7, 9),
    ("10s_30s", 10, 30),
    ("30s_60s", 31, 60),
    ("1m_3m", 61, 180),
    ("3m_10m", 181, 600),
    ("10m_30m", 601, 1800),
    ("30m+", 1801, None),
]
STEP_BUCKETS = [
    ("1_3", 1, 3),
    ("4_6", 4, 6),
    ("7_9", 7, 9),
    ("10_30", 10, 30),
    ("30_60", 31, 60),
    ("60+", 61, None),
]


@dataclass(frozen=True)
class Task:
    """A task's parameters as SPEC 2 names them; empty lists and None mean no filter."""

    task_id: str
    start_date: str | None = None
    end_date: str | None = None
    start_age: int | None = None
    end_age: int | None = None
    professionals: Sequence[str] = ()
    cities: Sequence[str] = ()
    sex: str | None = None
    keywords: Sequence[str] = ()
    category_ids: Sequence[int] = ()
    target_page_flow: Sequence[int] = (1, 2, 3, 4, 5, 6, 7)
    extract_sessions: int = 100
    random_seed: int = 42
    funnel_steps: Sequence[str] = ()
    funnel_window_seconds: int = 1800
    funnel_order: str = "ordered"
    funnel_unit: str = "session"

    def dbt_vars(self) -> dict[str, Any]:
        """The task as `--vars` (lists as lists, unset parameters left out)."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        return {
            name: list(value) if isinstance(value, tuple) else value
            for name, value in values.items()
            if value not in (None, ())
        }


def in_range(actions: pd.DataFrame, task: Task) -> pd.DataFrame:
    """The actions whose `date` lies in the task's range."""
    keep = pd.Series(True, index=actions.index)
    if task.start_date:
        keep &= actions["date"] >= task.start_date
    if task.end_date:
        keep &= actions["date"] <= task.end_date
    return actions[keep]


def ordered(actions: pd.DataFrame) -> pd.DataFrame:
    """Each session's actions by time, ties by page id."""
    return actions.sort_values(["session_id", "action_time", "page_id"], kind="stable")


def sessions(actions: pd.DataFrame) -> pd.DataFrame:
    """One row per session of the in-range actions, indexed by session_id."""
    rows = {}
    for session_id, group in ordered(actions).groupby("session_id", sort=True):
        start, end = group["action_time"].iloc[0], group["action_time"].iloc[-1]
        keywords = [k for k in group["search_keyword"] if isinstance(k, str)]
        clicks = [int(c) for c in group["click_category_id"] if pd.notna(c) and c >= 0]
        rows[session_id] = {
            "user_id": int(group["user_id"].iloc[0]),
            "start_time": start,
            "date_hour": start.strftime("%Y-%m-%d_%H"),
            "search_keywords": list(dict.fromkeys(keywords)),
            "click_category_ids": list(dict.fromkeys(clicks)),
            "visit_length": int((end - start).total_seconds()),
            "step_length": len(group),
        }
    return pd.DataFrame.from_dict(rows, orient="index")


def matching_sessions(all_sessions: pd.DataFrame, users: pd.DataFrame, task: Task) -> pd.DataFrame:
    """The sessions that pass the task's user, keyword and category filters."""
    known = users.set_index("user_id")
    with_users = all_sessions.join(known[["age", "professional", "city", "sex"]], on="user_id")

    def passes(row: pd.Series) -> bool:
        age = row["age"]
        if task.start_age is not None and not (pd.notna(age) and age >= task.start_age):
            return False
        if task.end_age is not None and not (pd.notna(age) and age <= task.end_age):
            return False
        if task.professionals and row["professional"] not in task.professionals:
            return False
        if task.cities and row["city"] not in task.cities:
            return False
        if task.sex and row["sex"] != task.sex:
            return False
        if task.keywords and not set(row["search_keywords"]) & set(task.keywords):
            return False
        return not (
            task.category_ids and not set(row["click_category_ids"]) & set(task.category_ids)
        )

    return all_sessions[with_users.apply(passes, axis=1)]


def length_distribution(matching: pd.DataFrame, task_id: str) -> pd.DataFrame:
    total = len(matching)
    rows = []
    for dimension, column, buckets in (
        ("visit_length", "visit_length", VISIT_BUCKETS),
        ("step_length", "step_length", STEP_BUCKETS),
    ):
        for order, (bucket, low, high) in enumerate(buckets, start=1):
            values = matching[column] if total else pd.Series(dtype=int)
            in_bucket = values >= low if high is None else values.between(low, high)
            count = int(in_bucket.sum())
            rows.append(
                {
                    "task_id": task_id,
                    "dimension": dimension,
                    "bucket": bucket,
                    "bucket_order": order,
                    "sessions": count,
                    "ratio": count / total if total else None,
                }
            )
    return pd.DataFrame(rows)


def largest_remainder(slot_sizes: Mapping[str, int], seats: int) -> dict[str, int]:
    """Seats per slot by the largest-remainder method, ties to the earlier slot."""
    total = sum(slot_sizes.values())
    if total == 0:
        return {}
    shares = {slot: Fraction(seats * size, total) for slot, size in slot_sizes.items()}
    result = {slot: int(share) for slot, share in shares.items()}
    left = seats - sum(result.values())
    by_remainder = sorted(shares, key=lambda slot: (-(shares[slot] - int(shares[slot])), slot))
    for slot in by_remainder[:left]:
        result[slot] += 1
    return result


def category_events(actions: pd.DataFrame, matching: pd.DataFrame) -> pd.DataFrame:
    """(session_id, category_id, kind) per click, and per id of an order or pay list."""
    of_matching = actions[actions["session_id"].isin(matching.index)]
    events = []
    for row in of_matching.itertuples():
        if pd.notna(row.click_category_id) and row.click_category_id >= 0:
            events.append((row.session_id, int(row.click_category_id), "click"))
        for kind, ids in (("order", row.order_category_ids), ("pay", row.pay_category_ids)):
            if isinstance(ids, str):
                events.extend((row.session_id, int(i), kind) for i in ids.split(","))
    return pd.DataFrame(events, columns=["session_id", "category_id", "kind"])


def top10_categories(events: pd.DataFrame, task_id: str) -> pd.DataFrame:
    counts: dict[int, Counter] = {}
    for row in events.itertuples():
        counts.setdefault(row.category_id, Counter())[row.kind] += 1
    ranked = sorted(
        counts.items(),
        key=lambda item: (-item[1]["click"], -item[1]["order"], -item[1]["pay"], item[0]),
    )[:10]
    return pd.DataFrame(
        [
            {
                "task_id": task_id,
                "rank": rank,
                "category_id": category,
                "click_count": count["click"],
                "order_count": count["order"],
                "pay_count": count["pay"],
            }
            for rank, (category, count) in enumerate(ranked, start=1)
        ],
        columns=["task_id", "rank", "category_id", "click_count", "order_count", "pay_count"],
    )


def top10_category_sessions(
    events: pd.DataFrame, top_categories: pd.DataFrame, task_id: str
) -> pd.DataFrame:
    clicks = Counter(
        (row.category_id, row.session_id) for row in events.itertuples() if row.kind == "click"
    )
    rows = []
    for category in top_categories["category_id"]:
        of_category = sorted(
            ((session, n) for (cat, session), n in clicks.items() if cat == category),
            key=lambda item: (-item[1], item[0]),
        )[:10]
        rows.extend(
            {
                "task_id": task_id,
                "category_id": category,
                "rank": rank,
                "session_id": session,
                "click_count": n,
            }
            for rank, (session, n) in enumerate(of_category, start=1)
        )
    return pd.DataFrame(
        rows, columns=["task_id", "category_id", "rank", "session_id", "click_count"]
    )


def page_conversion_rates(actions: pd.DataFrame, task: Task) -> pd.DataFrame:
    """SPEC 3 page conversion over all in-range actions (no user filters)."""
    walk = ordered(actions)
    jumps = Counter()
    for _, pages in walk.groupby("session_id", sort=False)["page_id"]:
        pages = [int(p) for p in pages]
        jumps.update(itertools.pairwise(pages))
    flow = [int(p) for p in task.target_page_flow]
    base = int((walk["page_id"] == flow[0]).sum())
    rows = []
    for step, (source, target) in enumerate(itertools.pairwise(flow), start=1):
        count = jumps[(source, target)]
        rows.append(
            {
                "task_id": task.task_id,
                "step": step,
                "from_page_id": source,
                "to_page_id": target,
                "jump_count": count,
                "base_count": base,
                "conversion_rate": count / base if base else None,
            }
        )
        base = count
    return pd.DataFrame(rows)


# --- funnel_conversion ----------------------------------------------------------------------

# SPEC 1.1's columns after action_time and page_id, in their order: ties of time and page
EVENT_TIE_COLUMNS = [
    "date",
    "user_id",
    "session_id",
    "search_keyword",
    "click_category_id",
    "click_product_id",
    "order_category_ids",
    "order_product_ids",
    "pay_category_ids",
    "pay_product_ids",
    "city_id",
]


@dataclass(frozen=True)
class FunnelUnit:
    """A unit's best attempt."""

    unit_id: str
    steps_reached: int
    seconds_to_step: list[int]
    entry_date: str
    entry_city_id: int
    entry_time: pd.Timestamp


def _present(value: Any) -> bool:
    """Set: not null/NaN, and for a click id not -1 (SPEC 1.1: absent)."""
    return value is not None and not (isinstance(value, float) and np.isnan(value))


def _click(value: Any) -> Any:
    return int(value) if _present(value) and int(value) != -1 else None


def funnel_step_names(task: Task) -> list[str]:
    return list(task.funnel_steps) or [f"page:{page}" for page in task.target_page_flow]


def event_matches(step: str, event: dict[str, Any]) -> bool:
    """SPEC 3: does the event match the step `kind:value`?"""
    kind, _, value = step.partition(":")
    kind, value = kind.strip().lower(), value.strip()
    wants_any = value.lower() == "any"
    if kind == "page":
        return int(event["page_id"]) == int(value)
    if kind == "search":
        keyword = event["search_keyword"]
        return _present(keyword) and (wants_any or keyword == value)
    if kind == "click":
        category = _click(event["click_category_id"])
        return category is not None and (wants_any or category == int(value))
    ids = event[f"{kind}_category_ids"]
    if not _present(ids):
        return False
    return wants_any or int(value) in [int(part) for part in ids.split(",")]


def _order_key(event: dict[str, Any]) -> tuple[Any, ...]:
    """action_time, page_id, then the other columns of SPEC 1.1, nulls first."""
    key: list[Any] = [event["action_time"], int(event["page_id"])]
    for column in EVENT_TIE_COLUMNS:
        value = event[column]
        if column == "click_category_id" or column == "click_product_id":
            value = _click(value)
        elif not _present(value):
            value = None
        elif column in ("user_id", "city_id"):
            value = int(value)
        key.append((0,) if value is None else (1, value))
    return tuple(key)


def best_attempt(events: list[dict[str, Any]], steps: list[str], task: Task) -> FunnelUnit | None:
    """Every attempt of one unit (events in order) followed step by step; the one reaching the
    most steps, the earliest entry on a tie. None without a step-1 event."""
    window = pd.Timedelta(seconds=task.funnel_window_seconds)
    best: tuple[int, list[int], dict[str, Any]] | None = None
    for start, entry in enumerate(events):
        if not event_matches(steps[0], entry):
            continue
        deadline = entry["action_time"] + window
        position, seconds = start, [0]
        for step in steps[1:]:
            if task.funnel_order == "strict":
                following = [position + 1] if position + 1 < len(events) else []
            else:
                following = range(position + 1, len(events))
            taken = next((i for i in following if event_matches(step, events[i])), None)
            if taken is None or events[taken]["action_time"] > deadline:
                break
            position = taken
            elapsed = events[taken]["action_time"] - entry["action_time"]
            seconds.append(int(elapsed.total_seconds()))
        if best is None or len(seconds) > best[0]:
            best = (len(seconds), seconds, entry)
    if best is None:
        return None
    reached, seconds, entry = best
    unit = entry["session_id"] if task.funnel_unit == "session" else str(int(entry["user_id"]))
    return FunnelUnit(
        unit_id=unit,
        steps_reached=reached,
        seconds_to_step=seconds,
        entry_date=str(entry["date"]),
        entry_city_id=int(entry["city_id"]),
        entry_time=entry["action_time"],
    )


def funnel_units(actions: pd.DataFrame, matching: pd.DataFrame, task: Task) -> list[FunnelUnit]:
    """The best attempt of every unit with a step-1 event: the in-range `actions` of the
    `matching` sessions, per session or per user."""
    steps = funnel_step_names(task)
    events = actions[actions["session_id"].isin(matching.index)].to_dict("records")
    by_unit: dict[Any, list[dict[str, Any]]] = {}
    column = "session_id" if task.funnel_unit == "session" else "user_id"
    for event in events:
        by_unit.setdefault(event[column], []).append(event)
    units = []
    for unit_events in by_unit.values():
        unit = best_attempt(sorted(unit_events, key=_order_key), steps, task)
        if unit is not None:
            units.append(unit)
    return units


def funnel_conversion(
    units: list[FunnelUnit], actions: pd.DataFrame, areas: Mapping[int, str], task: Task
) -> pd.DataFrame:
    """SPEC 3 funnel_conversion from the units' best attempts; `actions` are all in-range
    actions (their last time ends the data), `areas` the city_info area of each city id."""
    steps = funnel_step_names(task)
    last_action = actions["action_time"].max()
    window = pd.Timedelta(seconds=task.funnel_window_seconds)
    groups: dict[tuple[str, str], list[FunnelUnit]] = {}
    for unit in units:
        for kind, value in (
            ("all", "all"),
            ("area", areas[unit.entry_city_id]),
            ("entry_date", unit.entry_date),
        ):
            groups.setdefault((kind, value), []).append(unit)
    rows = []
    for (kind, value), members in sorted(groups.items()):
        reached = [
            sum(unit.steps_reached >= k for unit in members) for k in range(1, len(steps) + 1)
        ]
        for k, name in enumerate(steps, start=1):
            seconds = [unit.seconds_to_step[k - 1] for unit in members if unit.steps_reached >= k]
            previous = reached[k - 2] if k > 1 else None
            rows.append(
                {
                    "task_id": task.task_id,
                    "breakdown_kind": kind,
                    "breakdown_value": value,
                    "step": k,
                    "step_name": name,
                    "units_reached": reached[k - 1],
                    "dropped": 0 if k == 1 else previous - reached[k - 1],
                    "conversion_from_previous": (
                        1.0 if k == 1 else (reached[k - 1] / previous if previous else None)
                    ),
                    "conversion_from_start": reached[k - 1] / reached[0] if reached[0] else None,
                    "median_seconds_to_step": (
                        float(np.percentile(seconds, 50)) if seconds else None
                    ),
                    "p90_seconds_to_step": float(np.percentile(seconds, 90)) if seconds else None,
                    "incomplete_units": (
                        sum(
                            unit.steps_reached < len(steps)
                            and unit.entry_time + window > last_action
                            for unit in members
                        )
                        if k == 1
                        else 0
                    ),
                }
            )
    return pd.DataFrame(rows)
