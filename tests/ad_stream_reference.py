"""SPEC 4 replayed in plain Python: the independent reference the streaming job is tested against.

Input: the lines of each micro-batch, in order (text, or bytes as they came). The parser applies
SPEC 1.3 strictly (at most 1,000 bytes of UTF-8, five fields, single spaces, non-negative
integers for timestamp, user and ad) and, given the batch's time, the time bounds; the replay
applies the batch semantics literally: drop the clicks of users blacklisted before the batch,
count the rest, then blacklist users whose count on one ad in one day exceeds the threshold.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

MAX_LINE_BYTES = 1_000
MAX_TIMESTAMP_MS = 253_402_300_799_999
MAX_BIGINT = 2**63 - 1
MS_PER_DAY = 86_400_000
MS_PER_MINUTE = 60_000


def classify(
    line: str | bytes | None,
    batch_ms: int = 0,
    max_future_ms: int | None = None,
    max_age_ms: int | None = None,
) -> str | None:
    """The quarantine reason of a line, or None for a click; `batch_ms`: the micro-batch's time
    the bounds are measured from."""
    if not line:
        return "empty_line"
    raw = line if isinstance(line, bytes) else line.encode()
    if len(raw) > MAX_LINE_BYTES:
        return "line_too_long"
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return "invalid_utf8"
    fields = text.split(" ")
    if "" in fields:
        return "extra_spaces"
    if len(fields) != 5:
        return "wrong_field_count"
    for name, value, maximum in (
        ("timestamp", fields[0], MAX_TIMESTAMP_MS),
        ("user_id", fields[3], MAX_BIGINT),
        ("ad_id", fields[4], MAX_BIGINT),
    ):
        if re.fullmatch(r"-[0-9]+", value):
            return f"negative_{name}"
        if not re.fullmatch(r"[0-9]+", value):
            return f"non_numeric_{name}"
        if int(value) > maximum:
            return f"{name}_out_of_range"
    stamp = int(fields[0])
    if max_future_ms is not None and stamp > batch_ms + max_future_ms:
        return "timestamp_in_future"
    if max_age_ms is not None and stamp < batch_ms - max_age_ms:
        return "timestamp_too_old"
    return None


def utc_day(timestamp_ms: int) -> date:
    return date(1970, 1, 1) + timedelta(days=timestamp_ms // MS_PER_DAY)


@dataclass
class Replay:
    """The expected tables (keys -> clicks) and per-batch figures."""

    threshold: int
    blacklist: dict[int, tuple[int, int, date, int]] = field(default_factory=dict)
    user_daily: Counter[tuple[date, int, int]] = field(default_factory=Counter)
    daily: Counter[tuple[date, str, str, int]] = field(default_factory=Counter)
    minutes: Counter[tuple[int, int]] = field(default_factory=Counter)
    quarantine: Counter[str] = field(default_factory=Counter)
    batches: list[dict[str, int]] = field(default_factory=list)

    def add_batch(self, lines: list[str]) -> None:
        """One micro-batch of well-formed or malformed text lines (no time bounds)."""
        batch_id = len(self.batches)
        before = set(self.blacklist)
        changed: set[tuple[date, int, int]] = set()
        figures = Counter(input_lines=len(lines))
        for line in lines:
            reason = classify(line)
            if reason is not None:
                self.quarantine[reason] += 1
                figures["quarantined_lines"] += 1
                continue
            stamp, province, city, user, ad = line.split(" ")
            timestamp_ms, user_id, ad_id = int(stamp), int(user), int(ad)
            figures["clicks"] += 1
            if user_id in before:
                figures["dropped_clicks"] += 1
                continue
            day = utc_day(timestamp_ms)
            self.user_daily[(day, user_id, ad_id)] += 1
            self.daily[(day, province, city, ad_id)] += 1
            self.minutes[(timestamp_ms - timestamp_ms % MS_PER_MINUTE, ad_id)] += 1
            changed.add((day, user_id, ad_id))
            figures["counted_clicks"] += 1
        crossed: dict[int, list[tuple[int, date, int]]] = defaultdict(list)
        for day, user_id, ad_id in changed:
            clicks = self.user_daily[(day, user_id, ad_id)]
            if clicks > self.threshold:
                crossed[user_id].append((-clicks, day, ad_id))
        for user_id, candidates in crossed.items():
            negative_clicks, day, ad_id = min(candidates)
            self.blacklist[user_id] = (batch_id, ad_id, day, -negative_clicks)
        figures["new_blacklisted"] = len(crossed)
        figures["blacklist_size"] = len(self.blacklist)
        self.batches.append(dict(figures))

    def province_top3(self) -> set[tuple[date, str, int, int, int]]:
        """(day, province, rank, ad, clicks): 3 most clicked ads, ties to the smaller ad."""
        per_province: Counter[tuple[date, str, int]] = Counter()
        for (day, province, _, ad_id), clicks in self.daily.items():
            per_province[(day, province, ad_id)] += clicks
        ranked: dict[tuple[date, str], list[tuple[int, int]]] = defaultdict(list)
        for (day, province, ad_id), clicks in per_province.items():
            ranked[(day, province)].append((-clicks, ad_id))
        return {
            (day, province, rank, ad_id, -negative)
            for (day, province), ads in ranked.items()
            for rank, (negative, ad_id) in enumerate(sorted(ads)[:3], start=1)
        }

    def trend(self) -> dict[tuple[int, int], int]:
        """(minute ms, ad) -> clicks over the 60 minutes ending with the newest counted one."""
        if not self.minutes:
            return {}
        start = max(minute for minute, _ in self.minutes) - 59 * MS_PER_MINUTE
        return {key: clicks for key, clicks in self.minutes.items() if key[0] >= start}


def replay(batches: list[list[str]], threshold: int = 100) -> Replay:
    result = Replay(threshold)
    for lines in batches:
        result.add_batch(lines)
    return result
