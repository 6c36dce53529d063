"""Sessions: who visits, when they arrive, how many actions they take, and their page walk.

Shapes, chosen so every bucket of SPEC 3 and every page-flow step gets traffic:

- Arrivals follow a diurnal curve over the hours of the day (`HOUR_WEIGHTS`: quiet nights,
  a lunch bump, the peak around 20:00-22:00), uniform to the second within the hour.
- Step length (actions per session) is 1 + floor(X), X log-normal with sigma 1 and its location
  solved so the mean equals `--actions-per-session`: about a quarter of sessions take 1..3 actions
  and about 1% more than 60 at the default mean of 10; capped at `MAX_STEPS`.
- Gaps between consecutive actions are whole seconds, at least 1 (so a session's actions never
  share a second), drawn log-normal (median `GAP_MEDIAN_SECONDS`) times a per-session pace factor
  (slow and quick visitors) and capped at 30 minutes, the usual inactivity timeout. Visit lengths
  thus run from 0 s (one-action sessions) to hours; actions more than `MAX_SESSION_SECONDS` after
  the first are dropped.
- Pages 1..10: a session starts on page 1 (the home page) half of the time, else on a random
  page; each next action moves on to page+1 (10 wraps to 1) with probability `P_NEXT_PAGE`,
  else jumps to a random page. Page-flow conversion rates 1->2->3... are therefore substantial.
- A session keeps one city: the user's home city 85% of the time, else a random one.
- Users are picked by their activity weight; with `--skew-kind user`, whole sessions go to the
  hot user until it holds `--skew-share` of the day's actions (to within one session).

Sessions may run past midnight; the pipeline files those actions under the next day.
"""

from __future__ import annotations

import binascii
import math
from dataclasses import dataclass

import numpy as np

from ecom_analytics.generator import catalog
from ecom_analytics.generator.sampling import draw
from ecom_analytics.generator.users import Users

SECONDS_PER_DAY = 86_400
HOUR_WEIGHTS = np.array(
    [2.0, 1.2, 0.7, 0.5, 0.4, 0.5, 1.0, 2.0, 3.0, 4.0, 4.5, 4.8,
     5.0, 4.6, 4.4, 4.4, 4.6, 5.0, 5.6, 6.6, 7.6, 8.0, 6.4, 4.0]
)  # fmt: skip
STEP_SIGMA = 1.0
MAX_STEPS = 1000
GAP_MEDIAN_SECONDS = 12.0
GAP_SIGMA = 1.1
PACE_SIGMA = 0.8
MAX_GAP_SECONDS = 1800
MAX_SESSION_SECONDS = 6 * 3600
N_PAGES = 10
P_START_HOME = 0.5
P_NEXT_PAGE = 0.6
HOME_CITY_SHARE = 0.85


@dataclass(frozen=True)
class Sessions:
    """One row per session of a day."""

    key: np.ndarray  # int64, unique over the run
    session_id: np.ndarray  # bytes, 32 hex characters
    user_id: np.ndarray  # int64
    city_id: np.ndarray  # int8
    start: np.ndarray  # int64, seconds from the run's first midnight
    steps: np.ndarray  # int64, planned number of actions
    pace: np.ndarray  # float64, multiplies the gaps between actions


@dataclass(frozen=True)
class Walk:
    """One row per action: its session (index into `Sessions`), time and page."""

    session: np.ndarray  # int64
    time: np.ndarray  # int64, seconds from the run's first midnight
    page_id: np.ndarray  # int8


def _mean_steps(log_location: float) -> float:
    """Mean of min(1 + floor(X), MAX_STEPS) for X log-normal(log_location, STEP_SIGMA)."""
    k = np.arange(1, MAX_STEPS)
    z = (np.log(k) - log_location) / (STEP_SIGMA * math.sqrt(2.0))
    tail = 0.5 * np.frompyfunc(math.erfc, 1, 1)(z).astype(np.float64)
    return 1.0 + float(tail.sum())


def step_log_location(mean_steps: float) -> float:
    """The log-normal location giving `mean_steps` actions per session on average (bisection)."""
    low, high = -30.0, math.log(MAX_STEPS)
    for _ in range(60):
        middle = (low + high) / 2
        if _mean_steps(middle) < mean_steps:
            low = middle
        else:
            high = middle
    return (low + high) / 2


def draw_sessions(
    rng: np.random.Generator,
    *,
    day: int,
    count: int,
    first_key: int,
    step_location: float,
    users: Users,
    hot_user: int | None,
    hot_share: float,
) -> Sessions:
    """The `count` sessions starting on day `day` (0 = the first generated day)."""
    hour = draw(rng, HOUR_WEIGHTS, count)
    start = day * SECONDS_PER_DAY + hour * 3600 + rng.integers(0, 3600, count)
    raw_steps = 1 + np.floor(rng.lognormal(step_location, STEP_SIGMA, count))
    steps = np.minimum(raw_steps, MAX_STEPS).astype(np.int64)
    session_id = np.frombuffer(binascii.hexlify(rng.bytes(16 * count)), dtype="S32")
    user_id = _assign_users(rng, steps, users.activity, hot_user, hot_share)
    away = draw(rng, catalog.CITY_WEIGHTS, count)
    at_home = rng.random(count) < HOME_CITY_SHARE
    city_id = np.where(at_home, users.home_city[user_id], away).astype(np.int8)
    return Sessions(
        key=first_key + np.arange(count, dtype=np.int64),
        session_id=session_id,
        user_id=user_id,
        city_id=city_id,
        start=start.astype(np.int64),
        steps=steps,
        pace=rng.lognormal(0.0, PACE_SIGMA, count),
    )


def _assign_users(
    rng: np.random.Generator,
    steps: np.ndarray,
    activity: np.ndarray,
    hot_user: int | None,
    hot_share: float,
) -> np.ndarray:
    """A user per session; with a hot user, it gets sessions until it holds `hot_share` of steps."""
    if hot_user is None:
        return draw(rng, activity, len(steps))
    weights = activity.copy()
    weights[hot_user] = 0.0
    user_id = draw(rng, weights, len(steps))
    order = rng.permutation(len(steps))
    reached = np.concatenate(([0], np.cumsum(steps[order])))
    hot_sessions = int(np.argmin(np.abs(reached - hot_share * reached[-1])))
    user_id[order[:hot_sessions]] = hot_user
    return user_id


def walk(rng: np.random.Generator, sessions: Sessions) -> Walk:
    """Expand sessions into time-ordered actions with their pages (see the module docstring)."""
    total = int(sessions.steps.sum())
    session = np.repeat(np.arange(len(sessions.steps)), sessions.steps)
    first = np.cumsum(sessions.steps) - sessions.steps
    position = np.arange(total)
    starts_session = np.zeros(total, dtype=bool)
    starts_session[first] = True

    noise = rng.lognormal(math.log(GAP_MEDIAN_SECONDS), GAP_SIGMA, total)
    gap = np.clip(np.ceil(sessions.pace[session] * noise), 1, MAX_GAP_SECONDS).astype(np.int64)
    gap[starts_session] = 0
    elapsed = np.cumsum(gap)
    offset = elapsed - elapsed[first][session]

    jumps = (rng.random(total) >= P_NEXT_PAGE) | starts_session
    target = rng.integers(1, N_PAGES + 1, total)
    target[first] = np.where(rng.random(len(first)) < P_START_HOME, 1, target[first])
    last_jump = np.maximum.accumulate(np.where(jumps, position, 0))
    page_id = (target[last_jump] - 1 + position - last_jump) % N_PAGES + 1

    keep = offset <= MAX_SESSION_SECONDS
    return Walk(
        session=session[keep],
        time=(sessions.start[session] + offset)[keep],
        page_id=page_id[keep].astype(np.int8),
    )
