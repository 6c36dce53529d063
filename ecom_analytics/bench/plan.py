"""What a benchmark run measures: its cases (scale x skew) and parts, from the options.

A scale is a number of raw actions (`1M`, `500k`, `10000000`); the generator is asked for ten
days of sessions of ten actions on average, so the actions come out within a fraction of a
percent of it. A skew is `none` or `<kind>:<share>` (the generator's --skew-kind/--skew-share:
one hot category, product or user carrying that share).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ecom_analytics.generator.config import SKEW_KINDS, GenerateConfig

PARTS = ("dbt", "tests", "baseline", "check", "stream")
DEFAULT_PARTS = ("dbt", "baseline", "check", "stream")
DAYS = 10
ACTIONS_PER_SESSION = 10
DIRT_SHARE = 0.01
QUICK_ACTIONS = 20_000
_SCALE = re.compile(r"^(\d+(?:\.\d+)?)([kKmM]?)$")


class PlanError(ValueError):
    """An option value the benchmark cannot use; the message says what is allowed."""


def parse_scale(text: str) -> int:
    """`1M` -> 1_000_000, `500k` -> 500_000, `20000` -> 20_000 (at least 1,000 actions)."""
    match = _SCALE.match(text.strip())
    if not match:
        raise PlanError(f"a scale is a number of actions such as 1M, 500k or 20000, got {text!r}")
    factor = {"": 1, "k": 1_000, "m": 1_000_000}[match.group(2).lower()]
    actions = round(float(match.group(1)) * factor)
    if actions < 1_000:
        raise PlanError(f"a scale needs at least 1,000 actions, got {text!r}")
    return actions


@dataclass(frozen=True)
class Skew:
    """The generator's skew: `none`, or one hot key of `kind` carrying `share`."""

    kind: str = "none"
    share: float = 0.0

    @property
    def label(self) -> str:
        return "uniform" if self.kind == "none" else f"{self.kind} {self.share:.0%}"

    @property
    def slug(self) -> str:
        return "uniform" if self.kind == "none" else f"{self.kind}{round(self.share * 100)}"


def parse_skew(text: str) -> Skew:
    """`none` or `<kind>:<share>` with kind category, product or user and share in (0, 1)."""
    text = text.strip()
    if text in ("none", "uniform"):
        return Skew()
    kind, _, share_text = text.partition(":")
    kinds = [kind for kind in SKEW_KINDS if kind != "none"]
    try:
        share = float(share_text)
    except ValueError:
        share = -1.0
    if kind not in kinds or not 0 < share < 1:
        raise PlanError(
            f"a skew is 'none' or KIND:SHARE with KIND one of {', '.join(kinds)} and SHARE in "
            f"(0, 1), e.g. category:0.3; got {text!r}"
        )
    return Skew(kind, share)


def parse_parts(text: str) -> tuple[str, ...]:
    """A comma-separated subset of PARTS, in PARTS order."""
    wanted = {part.strip() for part in text.split(",") if part.strip()}
    unknown = sorted(wanted - set(PARTS))
    if unknown or not wanted:
        raise PlanError(f"parts are a comma-separated list of {', '.join(PARTS)}; got {text!r}")
    if "check" in wanted and not {"dbt", "baseline"} <= wanted:
        raise PlanError("the part 'check' compares dbt's marts with the baseline's: add both")
    return tuple(part for part in PARTS if part in wanted)


def format_actions(actions: int) -> str:
    """20000 -> `20k`, 1000000 -> `1M`, 1500000 -> `1.5M`."""
    if actions >= 1_000_000:
        return f"{actions / 1_000_000:g}M"
    if actions >= 1_000:
        return f"{actions / 1_000:g}k"
    return str(actions)


@dataclass(frozen=True)
class Case:
    """One data set to build: a scale and a skew."""

    actions: int
    skew: Skew

    @property
    def name(self) -> str:
        return f"{format_actions(self.actions)}-{self.skew.slug}"

    def generator_config(self, raw_dir: Path, seed: int = 42) -> GenerateConfig:
        """Ten days of sessions adding up to about `actions` actions, 1% dirty rows."""
        sessions_per_day = max(1, round(self.actions / DAYS / ACTIONS_PER_SESSION))
        return GenerateConfig(
            raw_dir=raw_dir,
            ad_click_dir=raw_dir.parent / f"{raw_dir.name}-ad-clicks",
            seed=seed,
            days=DAYS,
            users=max(1_000, self.actions // 100),
            sessions_per_day=sessions_per_day,
            actions_per_session=float(ACTIONS_PER_SESSION),
            skew_kind=self.skew.kind,
            skew_share=self.skew.share if self.skew.kind != "none" else 0.3,
            dirt_share=DIRT_SHARE,
        )


def cases(scales: list[int], skews: list[Skew]) -> list[Case]:
    """Every scale with every skew, smallest scale first."""
    return [Case(actions, skew) for actions in sorted(set(scales)) for skew in skews]
