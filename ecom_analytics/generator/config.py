"""The parameters of one generator run, validated in one place.

Field names mirror the `ecom generate` options (`sessions_per_day` is `--sessions-per-day`), so a
`ConfigError` can name the option the user has to fix.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

SKEW_KINDS = ("none", "category", "product", "user")
MAX_DIRT_SHARE = 0.5


class ConfigError(ValueError):
    """A parameter out of range; `field` names it, the message says what is allowed."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class GenerateConfig:
    """Everything that determines the generated files (paths only decide where they go)."""

    raw_dir: Path = Path("data/raw")
    ad_click_dir: Path = Path("data/ad_clicks")
    seed: int = 42
    start_date: date = date(2026, 11, 16)
    days: int = 7
    users: int = 1000
    sessions_per_day: int = 2000
    actions_per_session: float = 10.0
    skew_kind: str = "none"
    skew_share: float = 0.3
    dirt_share: float = 0.0
    ad_clicks: int = 0
    ad_click_files: int = 10
    ad_users: int = 1000
    ads: int = 20
    ad_heavy_share: float = 0.05
    ad_malformed_share: float = 0.01

    def __post_init__(self) -> None:
        """Reject out-of-range values with a message that says what is allowed."""
        if self.seed < 0:
            raise ConfigError("seed", f"must be 0 or greater, got {self.seed}")
        for name in ("days", "users", "sessions_per_day", "ad_click_files", "ad_users", "ads"):
            value = getattr(self, name)
            if value < 1:
                raise ConfigError(name, f"must be a positive integer, got {value}")
        try:
            self.start_date + timedelta(days=self.days)
        except OverflowError:
            raise ConfigError("days", f"runs past the year 9999, got {self.days}") from None
        if self.ad_clicks < 0:
            raise ConfigError("ad_clicks", f"must be 0 or greater, got {self.ad_clicks}")
        if not 1 <= self.actions_per_session < math.inf:
            raise ConfigError(
                "actions_per_session", f"must be at least 1, got {self.actions_per_session}"
            )
        for name in ("skew_share", "ad_heavy_share", "ad_malformed_share"):
            value = getattr(self, name)
            if not 0 <= value < 1:
                raise ConfigError(name, f"must be in [0, 1), got {value}")
        if not 0 <= self.dirt_share <= MAX_DIRT_SHARE:
            raise ConfigError(
                "dirt_share", f"must be in [0, {MAX_DIRT_SHARE}], got {self.dirt_share}"
            )
        if self.skew_kind not in SKEW_KINDS:
            raise ConfigError("skew_kind", f"must be one of {', '.join(SKEW_KINDS)}")
        if self.skew_kind == "user" and self.users < 2:
            raise ConfigError("users", "must be at least 2 with --skew-kind user")
        if self.ad_heavy_share + self.ad_malformed_share >= 1:
            raise ConfigError("ad_malformed_share", "plus --ad-heavy-share must stay below 1")
        if 0 < self.ad_clicks < self.ad_click_files:
            raise ConfigError("ad_click_files", f"must not exceed --ad-clicks ({self.ad_clicks})")
        if self.ad_clicks and self.raw_dir.resolve() == self.ad_click_dir.resolve():
            raise ConfigError("ad_click_dir", "must differ from --raw-dir")

    def parameters(self) -> dict[str, Any]:
        """All parameters as JSON-ready values, for the manifest."""
        values = dataclasses.asdict(self)
        return {
            key: str(value) if isinstance(value, Path | date) else value
            for key, value in values.items()
        }
