"""The analysis task the benchmark's baseline computes, and its small pure rules.

The baseline (ecom_analytics/bench/baseline.py) computes the default task of dbt_project.yml,
the one `dbt build` builds without `--vars`: no filters, so every session with actions matches.
These helpers read that task and hold the few rules the baseline applies on the driver (session
length buckets, the largest-remainder apportionment of the random extract), in plain Python.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

FILTER_VARS = (
    "start_date",
    "end_date",
    "start_age",
    "end_age",
    "professionals",
    "cities",
    "sex",
    "keywords",
    "category_ids",
)

# SPEC 3's buckets: (dimension, bucket, bucket_order, lower bound, upper bound or None), inclusive
LENGTH_BUCKETS: tuple[tuple[str, str, int, int, int | None], ...] = (
    ("visit_length", "0s_3s", 1, 0, 3),
    ("visit_length", "4s_6s", 2, 4, 6),
    ("visit_length", "7s_9s", 3, 7, 9),
    ("visit_length", "10s_30s", 4, 10, 30),
    ("visit_length", "30s_60s", 5, 31, 60),
    ("visit_length", "1m_3m", 6, 61, 180),
    ("visit_length", "3m_10m", 7, 181, 600),
    ("visit_length", "10m_30m", 8, 601, 1800),
    ("visit_length", "30m+", 9, 1801, None),
    ("step_length", "1_3", 1, 1, 3),
    ("step_length", "4_6", 2, 4, 6),
    ("step_length", "7_9", 3, 7, 9),
    ("step_length", "10_30", 4, 10, 30),
    ("step_length", "30_60", 5, 31, 60),
    ("step_length", "60+", 6, 61, None),
)


class UnsupportedTaskError(ValueError):
    """The project's default task uses a filter the baseline does not implement."""


@dataclass(frozen=True)
class BaselineTask:
    """The parameters of SPEC 2 the unfiltered task still has."""

    task_id: str
    target_page_flow: tuple[int, ...]
    extract_sessions: int
    random_seed: int


def task_from_vars(variables: Mapping[str, Any]) -> BaselineTask:
    """The task of dbt vars; UnsupportedTaskError when one of them filters."""
    filtering = [name for name in FILTER_VARS if variables.get(name) not in (None, [], "")]
    if filtering:
        raise UnsupportedTaskError(
            "the benchmark baseline computes the unfiltered task only, but dbt_project.yml sets "
            f"{', '.join(filtering)}; benchmark with the project's unfiltered default task"
        )
    flow = tuple(int(page) for page in variables.get("target_page_flow") or ())
    if len(flow) < 2:
        raise UnsupportedTaskError(f"target_page_flow needs two pages or more, got {flow}")
    return BaselineTask(
        task_id=str(variables.get("task_id", "default")),
        target_page_flow=flow,
        extract_sessions=int(variables.get("extract_sessions", 100)),
        random_seed=int(variables.get("random_seed", 42)),
    )


def project_task(project_dir: Path) -> BaselineTask:
    """The default task of the dbt project in `project_dir` (its dbt_project.yml vars)."""
    project = yaml.safe_load((project_dir / "dbt_project.yml").read_text(encoding="utf-8"))
    return task_from_vars(project.get("vars") or {})


def bucket_of(dimension: str, value: int) -> str:
    """The SPEC 3 bucket of a visit length (seconds) or step length (actions)."""
    for bucket_dimension, bucket, _order, lower, upper in LENGTH_BUCKETS:
        if bucket_dimension == dimension and lower <= value and (upper is None or value <= upper):
            return bucket
    raise ValueError(f"no {dimension} bucket holds {value}")


def apportion(slot_sessions: Sequence[tuple[str, int]], seats: int) -> dict[str, int]:
    """Largest-remainder apportionment of `seats` to slots in proportion to their sessions.

    `slot_sessions` is (slot, sessions) per slot; the whole part of each exact share goes first,
    then one seat each to the largest remainders, earlier slot first on equal remainders. Integer
    arithmetic only, so the seats always add up to `seats` (at most the sessions in all).
    """
    total = sum(sessions for _slot, sessions in slot_sessions)
    seats = min(seats, total)
    if total == 0:
        return {slot: 0 for slot, _sessions in slot_sessions}
    whole = {slot: seats * sessions // total for slot, sessions in slot_sessions}
    by_remainder = sorted((-((seats * sessions) % total), slot) for slot, sessions in slot_sessions)
    left = seats - sum(whole.values())
    for _remainder, slot in by_remainder[:left]:
        whole[slot] += 1
    return whole
