"""Scores with seeded bootstrap confidence intervals.

A score is the mean of a per-episode value over the episodes where it applies,
or a ratio of two sums over episodes (tokens per turn, tool-call validity, as in
`medgym.metrics.step_metrics`). Its interval is the percentile bootstrap (Efron &
Tibshirani, An Introduction to the Bootstrap, 1993, ch. 13): resample the
episodes with replacement `N_BOOTSTRAP` times, recompute the score, and take the
2.5th and 97.5th percentiles. The resampling generator is seeded from the
evaluation seed and the cell's name, so the same results give the same intervals.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from medgym.encounter import stable_seed
from medgym.eval.records import METRICS

N_BOOTSTRAP = 2000
LEVEL = 0.95
_CHUNK = 1 << 22  # resampled values drawn at once (bounds memory for large suites)


def bootstrap_ci(values: list[float], seed: int, n_boot: int = N_BOOTSTRAP, level: float = LEVEL,
                 denominators: list[float] | None = None) -> tuple[float, float]:
    """The percentile-bootstrap interval of the mean of `values` (or of sum(values) / sum(denominators))."""
    x = np.asarray(values, dtype=float)
    d = None if denominators is None else np.asarray(denominators, dtype=float)
    if x.size == 0:
        raise ValueError("no values to bootstrap")
    point = x.mean() if d is None else x.sum() / d.sum()
    if x.size == 1 or (np.all(x == x[0]) and (d is None or np.all(d == d[0]))):
        return float(point), float(point)
    rng = np.random.default_rng(seed)
    per = max(1, _CHUNK // x.size)
    stats = []
    for start in range(0, n_boot, per):
        idx = rng.integers(0, x.size, size=(min(per, n_boot - start), x.size))
        if d is None:
            stats.append(x[idx].mean(axis=1))
        else:
            den = d[idx].sum(axis=1)
            stats.append(np.divide(x[idx].sum(axis=1), den, out=np.full(len(den), np.nan), where=den > 0))
    alpha = (1 - level) / 2
    lo, hi = np.nanquantile(np.concatenate(stats), [alpha, 1 - alpha])
    return float(lo), float(hi)


def score(values: list[float | None], seed: int, denominators: list[float | None] | None = None) -> dict[str, Any] | None:
    """mean (or ratio of sums), 95% interval and n over the episodes where the value applies; None if none do."""
    if denominators is None:
        kept = [float(v) for v in values if v is not None]
        if not kept:
            return None
        lo, hi = bootstrap_ci(kept, seed)
        return {"mean": float(np.mean(kept)), "ci": [lo, hi], "n": len(kept)}
    pairs = [(float(v), float(w)) for v, w in zip(values, denominators) if v is not None and w is not None]
    if not pairs or sum(w for _, w in pairs) == 0:
        return None
    num, den = zip(*pairs)
    lo, hi = bootstrap_ci(list(num), seed, denominators=list(den))
    return {"mean": sum(num) / sum(den), "ci": [lo, hi], "n": len(pairs)}


def paired_comparison(a: list[bool], b: list[bool]) -> dict[str, Any]:
    """Two policies' successes on the same tasks, in the same order: how many tasks only `a` solved,
    only `b`, both and neither, and the one-sided exact McNemar test of "a succeeds more often than b"
    (McNemar 1947, Psychometrika 12:153; the exact conditional form: under the null each discordant task
    is a's with probability 1/2, so p = P(X >= a_only) for X ~ Binomial(a_only + b_only, 1/2)).
    p is 1.0 when no task is discordant."""
    from scipy.stats import binomtest

    if len(a) != len(b):
        raise ValueError(f"paired comparison needs one outcome per task for both policies, got {len(a)} and {len(b)}")
    a_only = sum(1 for x, y in zip(a, b) if x and not y)
    b_only = sum(1 for x, y in zip(a, b) if y and not x)
    both = sum(1 for x, y in zip(a, b) if x and y)
    discordant = a_only + b_only
    p = binomtest(a_only, discordant, 0.5, alternative="greater").pvalue if discordant else 1.0
    return {"a_only": a_only, "b_only": b_only, "both": both, "neither": len(a) - discordant - both,
            "p_value": float(p)}


def summarize(records: list[dict[str, Any]], kind: str, seed: int, cell: str) -> dict[str, dict[str, Any]]:
    """Every metric that applies to a suite of this kind, scored over its episode records."""
    scores: dict[str, dict[str, Any]] = {}
    for name, metric in METRICS.items():
        if kind not in metric.kinds:
            continue
        cell_seed = stable_seed(seed, cell, name) % 2**32
        if isinstance(metric.of, tuple):
            num, den = metric.of
            s = score([r.get(num) for r in records], cell_seed, [r.get(den) for r in records])
        else:
            s = score([r.get(metric.of) for r in records], cell_seed)
        if s is not None:
            scores[name] = s
    return scores
