"""Held-out checks of a policy model: tool-call validity, tool use, success vs the majority baseline.

    medgym model eval                      # the default model on the test and heldout splits
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from medgym.rollout import EpisodeRollout, RolloutConfig
from medgym.tasks.schema import Task

HELD_OUT = ("test", "heldout")


@dataclass
class PolicyReport:
    """Per-episode averages over a set of episodes."""

    policy: str
    episodes: int
    success_rate: float
    mean_reward: float
    tool_calls_per_episode: float  # calls attempted, well-formed or not
    valid_call_rate: float  # share of attempted calls that parsed, validated and ran
    turns_per_episode: float
    truncated_rate: float
    repeat_rate: float  # share of assistant turns that repeat the turn before them word for word (loops)
    by_domain: dict[str, dict[str, float]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def summarize(policy: str, episodes: Sequence[dict[str, Any]]) -> PolicyReport:
    """Average episode records with keys domain, success, reward, tool_calls, valid_calls, turns, truncated,
    repeats (assistant turns identical to the one before) and compared (assistant turns with one before)."""
    def block(rows: Sequence[dict[str, Any]]) -> dict[str, float]:
        n = max(1, len(rows))
        calls = sum(r["tool_calls"] for r in rows)
        return {
            "episodes": len(rows),
            "success_rate": sum(r["success"] for r in rows) / n,
            "mean_reward": sum(r["reward"] for r in rows) / n,
            "tool_calls_per_episode": calls / n,
            "valid_call_rate": sum(r["valid_calls"] for r in rows) / calls if calls else 0.0,
            "turns_per_episode": sum(r["turns"] for r in rows) / n,
            "truncated_rate": sum(r["truncated"] for r in rows) / n,
            "repeat_rate": sum(r["repeats"] for r in rows) / max(1, sum(r["compared"] for r in rows)),
        }

    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in episodes:
        groups[r["domain"]].append(r)
    overall = block(episodes)
    return PolicyReport(policy=policy, **{k: v for k, v in overall.items()},
                        by_domain={d: block(rows) for d, rows in sorted(groups.items())})


def repeated_turns(messages: Sequence[dict[str, Any]]) -> int:
    """How many assistant turns say and call exactly what the assistant turn before them did."""
    turns = [(m.get("content") or "", json.dumps(m.get("tool_calls") or [], sort_keys=True))
             for m in messages if m["role"] == "assistant"]
    return sum(a == b for a, b in zip(turns, turns[1:]))


def compared_turns(messages: Sequence[dict[str, Any]]) -> int:
    """How many assistant turns have an assistant turn before them (the denominator of the repeat rate;
    a turn cut at the context limit never reached the environment and is in neither count)."""
    return max(0, sum(m["role"] == "assistant" for m in messages) - 1)


def rollout_records(episodes: Sequence[EpisodeRollout]) -> list[dict[str, Any]]:
    return [{"domain": e.domain, "success": e.success, "reward": e.reward, "tool_calls": e.tool_calls,
             "valid_calls": e.valid_calls, "turns": len(e.turns), "truncated": e.truncated,
             "repeats": repeated_turns(e.messages), "compared": compared_turns(e.messages)} for e in episodes]


def majority_records(tasks: Sequence[Task], train_tasks: Sequence[Task], reward: Any = "terminal") -> list[dict[str, Any]]:
    """Play the majority-class baseline on `tasks` in the real environment."""
    from medgym.agents import play
    from medgym.agents.majority import MajorityPolicy
    from medgym.env import EncounterEnv

    policy = MajorityPolicy(train_tasks)
    rows = []
    for task in tasks:
        env = EncounterEnv(tasks=[task], split=None, reward=reward, patient_matcher="lexical")
        info, total, steps = play(env, policy, seed=0)
        ep = info["episode"]
        rows.append({"domain": task.domain, "success": info["success"], "reward": total,
                     "tool_calls": ep["tool_calls"] + ep["invalid_calls"], "valid_calls": ep["tool_calls"],
                     "turns": steps, "truncated": bool(env.episode.truncated),
                     "repeats": repeated_turns(info["messages"]), "compared": compared_turns(info["messages"])})
    return rows


def held_out_tasks(domains: Sequence[str] | None = None, limit: int | None = None, seed: int = 0) -> list[Task]:
    """Test and heldout tasks (never used for the warm start), balanced like the training selection."""
    from medgym.models.trajectories import select_tasks
    from medgym.tasks import load_tasks

    pool = [t for split in HELD_OUT for t in load_tasks(split=split)]
    if domains:
        pool = [t for t in pool if t.domain in domains]
    return select_tasks(pool, limit or len(pool), seed=seed)


def evaluate_model(
    model_dir: str | Path | None = None,
    tasks: Sequence[Task] | None = None,
    config: RolloutConfig = RolloutConfig(temperature=0.0),
    seed: int = 0,
    progress: bool = False,
) -> dict[str, Any]:
    """Roll out the model on held-out tasks and play the majority baseline on the same tasks."""
    from medgym.agents.hf import load_model
    from medgym.eval.stats import paired_comparison
    from medgym.rollout import RolloutEngine
    from medgym.tasks import load_tasks

    tasks = list(tasks) if tasks is not None else held_out_tasks()
    model, tokenizer = load_model(model_dir)
    engine = RolloutEngine(model, tokenizer, config)
    episodes = engine.run(tasks, seed=seed, progress=progress)
    domains = {t.domain for t in tasks}
    train = [t for t in load_tasks(split="train") if t.domain in domains]
    model_rows, majority_rows = rollout_records(episodes), majority_records(tasks, train, config.reward)
    return {
        "model": summarize("model", model_rows).to_dict(),
        "majority": summarize("majority", majority_rows).to_dict(),
        # success task by task against the baseline: a_only = solved by the model only; p: exact McNemar, one-sided
        "vs_majority": paired_comparison([r["success"] for r in model_rows], [r["success"] for r in majority_rows]),
        "rollout_seconds": round(engine.stats.seconds, 1),
        "tokens_per_second": round(engine.stats.tokens_per_second, 1),
        "config": asdict(config),
        "episodes": episodes,
    }
