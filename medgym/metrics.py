"""Metrics that expose multi-turn collapse: response-length explosion and tool-use erosion.

Per episode: tokens the model produced in each assistant turn, tool calls,
invalid calls, reward, success. Per step (a batch of episodes): the aggregates
below, with the key names every consumer (trainer logs, `metrics.jsonl`, the
live dashboard, evaluation reports) uses. Over a run: how tokens per episode
and tool calls per episode move against step 0.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

SUBMIT_PREFIX = "submit_"


@dataclass
class EpisodeStats:
    """What one episode contributes to the collapse metrics."""

    turn_tokens: list[int]
    tool_calls: int
    info_calls: int
    invalid_calls: int
    reward: float
    success: bool
    kl_per_turn: list[float] = field(default_factory=list)

    @property
    def turns(self) -> int:
        return len(self.turn_tokens)

    @property
    def tokens(self) -> int:
        return sum(self.turn_tokens)

    @property
    def monologue(self) -> bool:
        """Answered in a single turn without gathering any information."""
        return self.turns <= 1 and self.info_calls == 0


def episode_stats(
    turn_tokens: Sequence[int],
    calls: Iterable[dict[str, Any]],
    reward: float,
    success: bool,
    kl_per_turn: Sequence[float] = (),
) -> EpisodeStats:
    """Stats from per-turn token counts and the env's call records (`CallRecord.model_dump()` dicts).

    Questions said to the patient as plain text count as information gathering;
    only valid calls to tools count as tool calls.
    """
    calls = list(calls)
    valid = [c for c in calls if c.get("valid", True)]
    tool = [c for c in valid if c["name"] != "patient"]
    info = [c for c in valid if not c["name"].startswith(SUBMIT_PREFIX)]
    return EpisodeStats(
        turn_tokens=list(turn_tokens),
        tool_calls=len(tool),
        info_calls=len(info),
        invalid_calls=len(calls) - len(valid),
        reward=float(reward),
        success=bool(success),
        kl_per_turn=list(kl_per_turn),
    )


def _mean(xs: Sequence[float]) -> float:
    return float(sum(xs) / len(xs)) if xs else 0.0


def _std(xs: Sequence[float]) -> float:
    """Population standard deviation; nan when a value is not finite (no exception mid-training)."""
    if len(xs) < 2:
        return 0.0
    m = _mean(xs)
    return math.sqrt(sum((x - m) ** 2 for x in xs) / len(xs)) if math.isfinite(m) else math.nan


def step_metrics(episodes: Sequence[EpisodeStats]) -> dict[str, float]:
    """The per-step aggregates logged to metrics.jsonl and sent to callbacks."""
    if not episodes:
        raise ValueError("step_metrics needs at least one episode")
    turns = [t for e in episodes for t in e.turn_tokens]
    per_episode = [e.tokens for e in episodes]
    calls = sum(e.tool_calls for e in episodes)
    attempts = calls + sum(e.invalid_calls for e in episodes)
    rewards = [e.reward for e in episodes]
    kls = [k for e in episodes for k in e.kl_per_turn]
    out = {
        "episodes": float(len(episodes)),
        "tokens_per_turn_mean": _mean(turns),
        "tokens_per_turn_max": float(max(turns, default=0)),
        "tokens_per_episode_mean": _mean(per_episode),
        "tokens_per_episode_std": _std(per_episode),
        "tokens_per_episode_max": float(max(per_episode)),
        "turns_per_episode": _mean([e.turns for e in episodes]),
        "tool_calls_per_episode": calls / len(episodes),
        "tool_call_validity": calls / attempts if attempts else 1.0,
        "monologue_rate": _mean([float(e.monologue) for e in episodes]),
        "reward_mean": _mean(rewards),
        "reward_std": _std(rewards),
        "success_rate": _mean([float(e.success) for e in episodes]),
    }
    if kls:
        out["kl_teacher_per_turn"] = _mean(kls)
    return out


def _slope(xs: Sequence[float], ys: Sequence[float]) -> float:
    """Least-squares slope of ys on xs."""
    if len(xs) < 2:
        return 0.0
    mx, my = _mean(xs), _mean(ys)
    var = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / var if var else 0.0


def _ratio(last: float, first: float) -> float:
    if first == 0:
        return math.inf if last > 0 else 1.0
    return last / first


def collapse_summary(records: Sequence[dict[str, Any]], window: int = 1) -> dict[str, float]:
    """Length explosion and tool-use erosion over a run's per-step records.

    Compares the mean of the last `window` steps with the first `window` steps
    (step 0 when window is 1) and fits a slope per step:
      length_explosion_ratio  tokens per episode, end / start (> 1 means longer answers)
      length_slope            tokens per episode per step
      tool_use_ratio          tool calls per episode, end / start (< 1 means erosion)
      tool_use_erosion        1 - tool_use_ratio (positive means tools were dropped)
      tool_use_slope          tool calls per episode per step
    """
    rows = sorted((r for r in records if "tokens_per_episode_mean" in r), key=lambda r: r["step"])
    if not rows:
        raise ValueError("no per-step records with tokens_per_episode_mean")
    window = max(1, min(window, len(rows)))
    steps = [float(r["step"]) for r in rows]
    tokens = [float(r["tokens_per_episode_mean"]) for r in rows]
    tools = [float(r["tool_calls_per_episode"]) for r in rows]
    tool_ratio = _ratio(_mean(tools[-window:]), _mean(tools[:window]))
    return {
        "steps": float(len(rows)),
        "length_explosion_ratio": _ratio(_mean(tokens[-window:]), _mean(tokens[:window])),
        "length_slope": _slope(steps, tokens),
        "tool_use_ratio": tool_ratio,
        "tool_use_erosion": 1.0 - tool_ratio if math.isfinite(tool_ratio) else -math.inf,
        "tool_use_slope": _slope(steps, tools),
    }
