"""Weighted draws shared by the generator modules: Zipf popularity and categorical sampling."""

from __future__ import annotations

import numpy as np


def zipf_weights(count: int, exponent: float) -> np.ndarray:
    """Normalised weights 1 / rank**exponent for ranks 1..count (rank 1 the most popular)."""
    weights = 1.0 / np.arange(1, count + 1, dtype=np.float64) ** exponent
    return weights / weights.sum()


def shuffled_zipf(rng: np.random.Generator, count: int, exponent: float) -> np.ndarray:
    """Zipf weights handed to ids 0..count-1 in random order, so popularity does not follow id."""
    return zipf_weights(count, exponent)[rng.permutation(count)]


def draw(rng: np.random.Generator, weights: np.ndarray, size: int) -> np.ndarray:
    """`size` ids drawn with probability proportional to `weights` (int64)."""
    cdf = np.cumsum(weights, dtype=np.float64)
    ids = np.searchsorted(cdf, rng.random(size) * cdf[-1], side="right")
    return np.minimum(ids, len(weights) - 1).astype(np.int64)
