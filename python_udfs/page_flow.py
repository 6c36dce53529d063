"""Page-flow conversion (SPEC 3, `page_conversion_rates`): the steps of a flow and their rates.

A flow p1..pn has n-1 steps; step k is the single jump p_k -> p_(k+1). Spark counts the jumps
(`int_page_jumps_matched`); these functions say which jumps a flow asks for and turn the counts
into rates. Plain Python, so they are tested without a JVM.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise


@dataclass(frozen=True)
class FlowStep:
    """Step `step` (1-based) of a flow: the jump from `from_page_id` to `to_page_id`."""

    step: int
    from_page_id: int
    to_page_id: int


@dataclass(frozen=True)
class StepCount:
    """What Spark counted for one step: jumps of the step, and actions on its first page."""

    step: int
    from_page_id: int
    to_page_id: int
    from_page_actions: int
    jump_count: int


@dataclass(frozen=True)
class StepConversion:
    """One row of `page_conversion_rates` (without the task id)."""

    step: int
    from_page_id: int
    to_page_id: int
    jump_count: int
    base_count: int
    conversion_rate: float | None


def flow_steps(flow: Sequence[int]) -> list[FlowStep]:
    """The steps of a page flow, in order; a page may appear more than once in a flow."""
    pages = [int(page) for page in flow]
    if len(pages) < 2:
        raise ValueError(f"a page flow needs at least two pages, got {pages}")
    return [
        FlowStep(step=position, from_page_id=source, to_page_id=target)
        for position, (source, target) in enumerate(pairwise(pages), start=1)
    ]


def step_conversions(counts: Sequence[StepCount]) -> list[StepConversion]:
    """Conversion of each step: `base_count` is the actions on p1 for step 1, else the previous
    step's `jump_count`; `conversion_rate` = jump_count / base_count, None when the base is 0.

    `counts` must hold every step of the flow exactly once (any order).
    """
    ordered = sorted(counts, key=lambda count: count.step)
    if [count.step for count in ordered] != list(range(1, len(ordered) + 1)):
        raise ValueError(f"steps must be 1..n exactly once, got {[c.step for c in ordered]}")
    conversions = []
    base = ordered[0].from_page_actions if ordered else 0
    for count in ordered:
        conversions.append(
            StepConversion(
                step=count.step,
                from_page_id=count.from_page_id,
                to_page_id=count.to_page_id,
                jump_count=count.jump_count,
                base_count=base,
                conversion_rate=count.jump_count / base if base else None,
            )
        )
        base = count.jump_count
    return conversions
