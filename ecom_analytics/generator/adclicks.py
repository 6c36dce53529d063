"""Ad-click log lines (SPEC 1.3): `<timestamp_ms> <province> <city> <user_id> <ad_id>`.

`click_lines` makes the lines of any time span from a given generator, so the `ecom generate`
files and a streaming producer emitting batches at a rate share one definition. Shapes:

- Ordinary clicks: times uniform over the span (epoch milliseconds, UTC), users uniform over
  `users`, ads Zipf-popular by id (ad 0 the most clicked), provinces weighted by
  `AD_PROVINCE_WEIGHTS` and a uniform city of the province (single pinyin tokens).
- Heavy clickers: `heavy_share` of the clicks come from a few users (one per `MIN_HEAVY_CLICKS`
  heavy clicks, at most `MAX_HEAVY_CLICKERS`), each hammering one ad from one city within a burst
  of at most an hour inside one UTC day, so each exceeds `BLACKLIST_THRESHOLD` clicks on that ad
  that day whenever it has more than that many clicks.
- Malformed lines: `malformed_share` of the lines, made from ordinary clicks (never from heavy
  ones) and spread evenly over `AD_MALFORMED_KINDS`, one defect each: a field missing or extra,
  a non-numeric timestamp, user id or ad id, an empty line, or a doubled, leading or trailing
  space (a parser must split on single spaces).

Lines come sorted by event time; malformed lines keep the place of the click they were made from.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ecom_analytics.generator import catalog
from ecom_analytics.generator.sampling import draw, zipf_weights

AD_MALFORMED_KINDS = (
    "wrong_field_count",
    "non_numeric_timestamp",
    "non_numeric_user_id",
    "non_numeric_ad_id",
    "empty_line",
    "extra_spaces",
)
BLACKLIST_THRESHOLD = 100
MIN_HEAVY_CLICKS = 150
MAX_HEAVY_CLICKERS = 5
BURST_MS = 3_600_000
MS_PER_DAY = 86_400_000
AD_EXPONENT = 1.0
WELL_FORMED = -1

_PROVINCE_OF_CITY = np.array(
    [index for index, (_, cities) in enumerate(catalog.AD_PROVINCES) for _ in cities]
)
_PROVINCES = pa.array([province for province, _ in catalog.AD_PROVINCES])
_CITIES = pa.array([city for _, cities in catalog.AD_PROVINCES for city in cities])
_CITY_WEIGHTS = (
    catalog.AD_PROVINCE_WEIGHTS[_PROVINCE_OF_CITY]
    / np.bincount(_PROVINCE_OF_CITY)[_PROVINCE_OF_CITY]
)


@dataclass(frozen=True)
class ClickBatch:
    """Log lines and, per line, the click it was made from and its malformed kind (if any)."""

    lines: pa.StringArray
    timestamp_ms: np.ndarray  # int64
    user_id: np.ndarray  # int64
    ad_id: np.ndarray  # int64
    malformed: np.ndarray  # int8: WELL_FORMED or an index into AD_MALFORMED_KINDS
    heavy_users: np.ndarray  # int64, the heavy clickers' user ids

    def malformed_counts(self) -> dict[str, int]:
        """Number of malformed lines per kind."""
        counts = np.bincount(self.malformed[self.malformed >= 0], minlength=len(AD_MALFORMED_KINDS))
        return dict(zip(AD_MALFORMED_KINDS, counts.tolist(), strict=True))

    def over_threshold(self, threshold: int = BLACKLIST_THRESHOLD) -> list[dict[str, Any]]:
        """(user, ad, UTC day) triples of well-formed lines with more than `threshold` clicks."""
        valid = self.malformed == WELL_FORMED
        keys = np.stack(
            [self.timestamp_ms[valid] // MS_PER_DAY, self.user_id[valid], self.ad_id[valid]],
            axis=1,
        )
        if not len(keys):
            return []
        triples, clicks = np.unique(keys, axis=0, return_counts=True)
        over = clicks > threshold
        return [
            {
                "click_date": str(np.datetime64(int(day), "D")),
                "user_id": int(user),
                "ad_id": int(ad),
                "clicks": int(count),
            }
            for (day, user, ad), count in zip(triples[over], clicks[over], strict=True)
        ]


def click_lines(
    rng: np.random.Generator,
    count: int,
    start_ms: int,
    span_ms: int,
    *,
    users: int,
    ads: int,
    heavy_share: float,
    malformed_share: float,
) -> ClickBatch:
    """`count` lines with event times in [start_ms, start_ms + span_ms), sorted by time."""
    heavy_total = round(heavy_share * count)
    clickers = min(users, MAX_HEAVY_CLICKERS, max(1, heavy_total // MIN_HEAVY_CLICKS))
    heavy_users = rng.choice(users, clickers if heavy_total else 0, replace=False)
    clicker = np.arange(heavy_total) * len(heavy_users) // max(heavy_total, 1)
    heavy_city = draw(rng, _CITY_WEIGHTS, len(heavy_users))
    heavy_ad = rng.integers(0, ads, len(heavy_users))
    ordinary = count - heavy_total

    timestamp = np.concatenate(
        [
            start_ms + rng.integers(0, span_ms, ordinary),
            _burst_times(rng, start_ms, span_ms, clicker, len(heavy_users)),
        ]
    )
    city = np.concatenate([draw(rng, _CITY_WEIGHTS, ordinary), heavy_city[clicker]])
    user_id = np.concatenate([rng.integers(0, users, ordinary), heavy_users[clicker]])
    ad_id = np.concatenate([draw(rng, zipf_weights(ads, AD_EXPONENT), ordinary), heavy_ad[clicker]])
    is_heavy = np.arange(count) >= ordinary

    order = np.argsort(timestamp, kind="stable")
    timestamp, city, user_id, ad_id, is_heavy = (
        column[order] for column in (timestamp, city, user_id, ad_id, is_heavy)
    )
    fields = [
        pc.cast(pa.array(timestamp), pa.string()),
        _PROVINCES.take(pa.array(_PROVINCE_OF_CITY[city])),
        _CITIES.take(pa.array(city)),
        pc.cast(pa.array(user_id), pa.string()),
        pc.cast(pa.array(ad_id), pa.string()),
    ]
    malformed = _choose_malformed(rng, is_heavy, round(malformed_share * count))
    return ClickBatch(
        lines=_malform(rng, fields, malformed),
        timestamp_ms=timestamp,
        user_id=user_id,
        ad_id=ad_id,
        malformed=malformed,
        heavy_users=np.sort(heavy_users),
    )


def _burst_times(
    rng: np.random.Generator, start_ms: int, span_ms: int, clicker: np.ndarray, clickers: int
) -> np.ndarray:
    """Times of heavy clicks: each clicker's fall in a burst of <= 1 h within one UTC day."""
    first_day, last_day = start_ms // MS_PER_DAY, (start_ms + span_ms - 1) // MS_PER_DAY
    day_start = np.arange(first_day, last_day + 1) * MS_PER_DAY
    low = np.maximum(day_start, start_ms)
    overlap = np.minimum(day_start + MS_PER_DAY, start_ms + span_ms) - low
    day = draw(rng, overlap.astype(np.float64), clickers)
    width = np.minimum(BURST_MS, overlap[day])
    burst_start = low[day] + rng.integers(0, overlap[day] - width + 1)
    return burst_start[clicker] + rng.integers(0, width[clicker])


def _choose_malformed(rng: np.random.Generator, is_heavy: np.ndarray, wanted: int) -> np.ndarray:
    """Per line, WELL_FORMED or a malformed kind: `wanted` ordinary lines, kinds evenly spread."""
    malformed = np.full(len(is_heavy), WELL_FORMED, dtype=np.int8)
    candidates = np.flatnonzero(~is_heavy)
    rows = rng.choice(candidates, min(wanted, len(candidates)), replace=False)
    malformed[rows] = rng.permutation(np.arange(len(rows)) % len(AD_MALFORMED_KINDS))
    return malformed


def _join(*parts: pa.Array | pa.Scalar, separator: str = " ") -> pa.Array:
    """Element-wise concatenation of `parts` with `separator` between them."""
    return pc.binary_join_element_wise(*parts, separator)


def _malform(rng: np.random.Generator, fields: list[pa.Array], malformed: np.ndarray) -> pa.Array:
    """The lines joined from `fields`, each line marked malformed replaced by a broken variant."""
    lines = _join(*fields)
    broken = np.flatnonzero(malformed != WELL_FORMED)
    if not len(broken):
        return lines
    size = len(broken)
    timestamp, province, city, user, ad = (field.take(pa.array(broken)) for field in fields)
    either = pa.array(rng.integers(0, 2, size))
    spot = rng.integers(0, 6, size)  # extra space before field 0..4, or trailing (5)
    spaced = [
        pc.if_else(pa.array(spot == slot), _join(pa.scalar(""), field), field)
        for slot, field in enumerate((timestamp, province, city, user, ad))
    ]
    variants = {
        "wrong_field_count": pc.choose(
            either,
            _join(timestamp, province, user, ad),
            _join(timestamp, province, city, user, ad, pa.scalar("app")),
        ),
        "non_numeric_timestamp": _join(
            pc.choose(
                either,
                pa.array(["null"] * size, pa.string()),
                _join(timestamp, pa.scalar("ms"), separator=""),
            ),
            province,
            city,
            user,
            ad,
        ),
        "non_numeric_user_id": _join(
            timestamp, province, city, _join(pa.scalar("user"), user, separator=""), ad
        ),
        "non_numeric_ad_id": _join(
            timestamp, province, city, user, _join(pa.scalar("ad"), ad, separator="")
        ),
        "empty_line": pa.array([""] * size, pa.string()),
        "extra_spaces": pc.if_else(
            pa.array(spot == 5), _join(_join(*spaced), pa.scalar("")), _join(*spaced)
        ),
    }
    kind = pa.array(malformed[broken].astype(np.int64))
    replacement = pc.choose(kind, *(variants[name] for name in AD_MALFORMED_KINDS))
    mask = np.zeros(len(malformed), dtype=bool)
    mask[broken] = True
    return pc.replace_with_mask(lines, pa.array(mask), replacement)
