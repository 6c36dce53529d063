"""python_udfs.page_flow: the steps of a page flow and their conversion rates (no JVM)."""

from __future__ import annotations

import pytest

from python_udfs.page_flow import (
    FlowStep,
    StepConversion,
    StepCount,
    flow_steps,
    step_conversions,
)


def test_a_flow_of_n_pages_has_n_minus_one_steps_in_order() -> None:
    assert flow_steps([1, 2, 3]) == [FlowStep(1, 1, 2), FlowStep(2, 2, 3)]


def test_a_page_may_repeat_and_ids_are_normalised_to_int() -> None:
    assert flow_steps(["4", 4, 1]) == [FlowStep(1, 4, 4), FlowStep(2, 4, 1)]


@pytest.mark.parametrize("flow", [[], [7]])
def test_a_flow_shorter_than_two_pages_is_refused(flow: list[int]) -> None:
    with pytest.raises(ValueError, match="at least two pages"):
        flow_steps(flow)


def test_base_is_first_page_actions_then_the_previous_steps_jumps() -> None:
    counts = [
        StepCount(step=2, from_page_id=2, to_page_id=3, from_page_actions=50, jump_count=10),
        StepCount(step=1, from_page_id=1, to_page_id=2, from_page_actions=80, jump_count=20),
        StepCount(step=3, from_page_id=3, to_page_id=1, from_page_actions=40, jump_count=15),
    ]
    assert step_conversions(counts) == [
        StepConversion(1, 1, 2, jump_count=20, base_count=80, conversion_rate=0.25),
        StepConversion(2, 2, 3, jump_count=10, base_count=20, conversion_rate=0.5),
        # more jumps than the base is possible (other routes into page 3): kept as is
        StepConversion(3, 3, 1, jump_count=15, base_count=10, conversion_rate=1.5),
    ]


def test_rate_is_none_when_the_base_is_zero_and_zero_when_nothing_converts() -> None:
    counts = [
        StepCount(step=1, from_page_id=1, to_page_id=9, from_page_actions=7, jump_count=0),
        StepCount(step=2, from_page_id=9, to_page_id=5, from_page_actions=0, jump_count=0),
    ]
    assert step_conversions(counts) == [
        StepConversion(1, 1, 9, jump_count=0, base_count=7, conversion_rate=0.0),
        StepConversion(2, 9, 5, jump_count=0, base_count=0, conversion_rate=None),
    ]


def test_no_action_on_the_first_page_gives_no_rate_at_all() -> None:
    counts = [StepCount(step=1, from_page_id=1, to_page_id=2, from_page_actions=0, jump_count=0)]
    assert step_conversions(counts)[0].conversion_rate is None


@pytest.mark.parametrize("steps", [[1, 3], [2], [1, 1, 2]])
def test_steps_must_be_one_to_n_exactly_once(steps: list[int]) -> None:
    counts = [StepCount(step, 1, 2, 1, 1) for step in steps]
    with pytest.raises(ValueError, match=r"1\.\.n exactly once"):
        step_conversions(counts)
