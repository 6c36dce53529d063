"""What `ecom stream` is asked to do: its options, their defaults, and the durations they take."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

SOURCES = ("files", "kafka")
DEFAULT_THRESHOLD = 100
DEFAULT_TRIGGER_INTERVAL = "10 seconds"
DEFAULT_MAX_FUTURE = "10 minutes"
"""How far past its micro-batch's time a click may be stamped (producers' clocks drift a little;
a click from the year 3000 would drag the last-hour trend along with it)."""
DEFAULT_MAX_AGE = "14 days"
"""How far before its micro-batch's time a click may be stamped: room to replay a week of logs."""
OFF = "off"
_UNITS_MS = {
    "ms": 1,
    "s": 1_000,
    "sec": 1_000,
    "second": 1_000,
    "m": 60_000,
    "min": 60_000,
    "minute": 60_000,
    "h": 3_600_000,
    "hour": 3_600_000,
    "d": 86_400_000,
    "day": 86_400_000,
}
_DURATION = re.compile(r"^\s*(\d+)\s*([a-z]+?)s?\s*$")


def duration_ms(text: str) -> int | None:
    """`'10 minutes'`, `'90s'`, `'14 days'`, `'2h'` as milliseconds; `'off'` as None (no bound).
    ValueError for anything else."""
    if text.strip().lower() == OFF:
        return None
    match = _DURATION.match(text.lower())
    unit = _UNITS_MS.get(match.group(2)) if match else None
    if match is None or unit is None:
        raise ValueError(
            f"expected a duration such as '10 minutes', '2h', '14 days' or 'off', got {text!r}"
        )
    return int(match.group(1)) * unit


def default_input_dir() -> str:
    return os.environ.get("ECOM_AD_CLICK_DIR", "data/ad_clicks")


def default_checkpoint() -> str:
    warehouse = os.environ.get("ECOM_WAREHOUSE_DIR", ".warehouse")
    return f"{warehouse}/checkpoints/ad_stream"


def log_file(checkpoint: str) -> str:
    """Where the stream's Spark log and the trace of a failure go: beside its checkpoint."""
    return os.path.join(os.path.dirname(os.path.abspath(checkpoint)), "ecom-stream.log")


@dataclass(frozen=True)
class StreamOptions:
    """What `ecom stream` was asked to do. `max_future_ms` / `max_age_ms`: how far after / before
    its micro-batch's time a click may be stamped (None: no bound)."""

    source: str = "files"
    input_dir: str = field(default_factory=default_input_dir)
    kafka_bootstrap_servers: str | None = None
    kafka_topic: str | None = None
    kafka_starting_offsets: str = "earliest"
    kafka_options: tuple[tuple[str, str], ...] = ()
    """Further `kafka.*` settings of the Kafka consumer (security, SASL, TLS), as given."""
    fail_on_data_loss: bool = True
    max_offsets_per_trigger: int | None = None
    checkpoint: str = field(default_factory=default_checkpoint)
    schema: str = "ecom"
    threshold: int = DEFAULT_THRESHOLD
    max_files_per_trigger: int | None = None
    max_file_age: str = "7d"
    available_now: bool = False
    trigger_interval: str = DEFAULT_TRIGGER_INTERVAL
    max_future_ms: int | None = duration_ms(DEFAULT_MAX_FUTURE)
    max_age_ms: int | None = duration_ms(DEFAULT_MAX_AGE)
