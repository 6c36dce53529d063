"""Where a dbt invocation's time went, from its target/run_results.json.

Each node (seed, model, hook, test) has an `execution_time` and the wall-clock interval of its
compile and execute steps. Against the process's own start and end this splits a run into
startup (Python and dbt imports, parsing, starting the JVM, opening the session: everything
before the first node), the span in which nodes ran (with up to `threads` at once), and the
exit after the last node.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any


@dataclass(frozen=True)
class NodeTiming:
    """One node of run_results.json: what it is, how it ended, when it ran (epoch seconds)."""

    unique_id: str
    name: str
    resource_type: str
    status: str
    seconds: float
    started_at: float
    ended_at: float


def _epoch(text: str) -> float:
    """An ISO timestamp of run_results.json (UTC, with or without `Z`) as epoch seconds."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:  # dbt writes UTC
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()


def node_timings(run_results: Mapping[str, Any]) -> list[NodeTiming]:
    """The nodes that ran, in order of start; a node without timing (skipped) is left out."""
    nodes = []
    for result in run_results.get("results", []):
        steps = [step for step in result.get("timing", []) if step.get("started_at")]
        unique_id = str(result["unique_id"])
        resource_type, _, rest = unique_id.partition(".")
        # exposures only document (status no-op, nothing runs)
        if not steps or resource_type == "exposure":
            continue
        nodes.append(
            NodeTiming(
                unique_id=unique_id,
                name=rest.split(".")[-1],
                resource_type=resource_type,
                status=str(result.get("status")),
                seconds=float(result.get("execution_time") or 0.0),
                started_at=min(_epoch(step["started_at"]) for step in steps),
                ended_at=max(_epoch(step["completed_at"]) for step in steps),
            )
        )
    return sorted(nodes, key=lambda node: node.started_at)


@dataclass(frozen=True)
class Breakdown:
    """A dbt process's wall time in parts (seconds)."""

    wall: float
    startup: float  # process start -> first node
    node_span: float  # first node start -> last node end
    node_seconds: float  # sum of the nodes' execution times (> span when threads overlap)
    exit: float  # last node end -> process end


def breakdown(nodes: list[NodeTiming], process_start: float, wall: float) -> Breakdown:
    """Split `wall` (the process's, started at epoch `process_start`) around the nodes."""
    if not nodes:
        return Breakdown(wall, wall, 0.0, 0.0, 0.0)
    first = min(node.started_at for node in nodes)
    last = max(node.ended_at for node in nodes)
    startup = max(0.0, first - process_start)
    span = max(0.0, last - first)
    return Breakdown(
        wall=wall,
        startup=startup,
        node_span=span,
        node_seconds=sum(node.seconds for node in nodes),
        exit=max(0.0, wall - startup - span),
    )
