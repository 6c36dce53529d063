"""SPEC 3 computed independently with pandas and plain Python, for the integration tests.

Nothing here imports the project's models or python_udfs: every rule (date range, matching,
buckets, apportionment, rankings, page jumps) is re-implemented from the text of SPEC 3, so a
mart equal to this is a mart equal to the spec. Inputs are the clean actions and users of
SPEC 1.1 (see test_foundation_build.clean_actions).
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from fractions import Fraction
from typing import Any

import pandas as pd

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
