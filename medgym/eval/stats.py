"""Scores with seeded bootstrap confidence intervals.

A score is the mean of a per-episode value over the episodes where it applies;
its interval is the percentile bootstrap (Efron & Tibshirani, An Introduction to
the Bootstrap, 1993, ch. 13): resample the episodes with replacement
`N_BOOTSTRAP` times and take the 2.5th and 97.5th percentiles of the resampled
means. The resampling generator is seeded from the evaluation seed and the
cell's name, so the same results give the same intervals.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from medgym.encounter import stable_seed
from medgym.eval.records import FIELDS, METRICS

N_BOOTSTRAP = 2000
LEVEL = 0.95
_CHUNK = 1 << 22  # resampled values drawn at once (bounds memory for large suites)


def bootstrap_ci(values: list[float], seed: int, n_boot: int = N_BOOTSTRAP, level: float = LEVEL) -> tuple[float, float]:
    """The percentile-bootstrap interval of the mean of `values`."""
    x = np.asarray(values, dtype=float)
    if x.size == 0:
        raise ValueError("no values to bootstrap")
    if x.size == 1 or np.all(x == x[0]):
        return float(x[0]), float(x[0])
    rng = np.random.default_rng(seed)
    per = max(1, _CHUNK // x.size)
    means = []
    for start in range(0, n_boot, per):
        k = min(per, n_boot - start)
        means.append(x[rng.integers(0, x.size, size=(k, x.size))].mean(axis=1))
    alpha = (1 - level) / 2
    lo, hi = np.quantile(np.concatenate(means), [alpha, 1 - alpha])
    return float(lo), float(hi)


def score(values: list[float | None], seed: int) -> dict[str, Any] | None:
    """mean, 95% interval and n of the values that apply (None entries are left out); None if none apply."""
    kept = [float(v) for v in values if v is not None]
    if not kept:
        return None
    lo, hi = bootstrap_ci(kept, seed)
    return {"mean": float(np.mean(kept)), "ci": [lo, hi], "n": len(kept)}


def summarize(records: list[dict[str, Any]], kind: str, seed: int, cell: str) -> dict[str, dict[str, Any]]:
    """Every metric that applies to a suite of this kind, scored over its episode records."""
    scores: dict[str, dict[str, Any]] = {}
    for field, metric in FIELDS.items():
        if kind not in METRICS[metric].kinds:
            continue
        s = score([r.get(field) for r in records], stable_seed(seed, cell, metric) % 2**32)
        if s is not None:
            scores[metric] = s
    return scores
