"""Oracle trajectories for the supervised warm start.

The oracle (`medgym.agents.OraclePolicy`) replays each task's ground-truth
demonstration in the real environment; the conversation the environment
records (`info["messages"]`) and the offered tool schemas are the SFT example.
"""

from __future__ import annotations

import json
import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from tqdm.auto import tqdm

from medgym.tasks.schema import Task


@dataclass
class Trajectory:
    """One oracle episode: the chat (up to the final assistant turn) and the tools it offered."""

    task_id: str
    domain: str
    messages: list[dict[str, Any]]
    tools: list[dict[str, Any]]
    success: bool

    def as_sft_row(self) -> dict[str, Any]:
        """A row for TRL's conversational SFT format. Tool-call arguments and the tool list are
        JSON strings, so that Arrow does not merge differently shaped argument objects into one
        schema (the chat template renders a string argument verbatim)."""
        messages = []
        for m in self.messages:
            m = dict(m)
            if m.get("tool_calls"):
                m["tool_calls"] = [
                    {"type": "function", "function": {"name": c["function"]["name"],
                                                      "arguments": json.dumps(c["function"]["arguments"], ensure_ascii=False)}}
                    for c in m["tool_calls"]
                ]
            messages.append(m)
        return {"messages": messages, "tools": json.dumps(self.tools, ensure_ascii=False)}


def select_tasks(tasks: Sequence[Task], n: int, seed: int = 0, domains: Sequence[str] | None = None) -> list[Task]:
    """Up to `n` tasks, balanced: domains take turns, and inside a domain its conditions take turns
    (each condition's tasks in a seeded random order)."""
    pool = [t for t in tasks if domains is None or t.domain in domains]
    by_domain: dict[str, dict[str, list[Task]]] = defaultdict(lambda: defaultdict(list))
    for t in sorted(pool, key=lambda t: t.id):
        by_domain[t.domain][t.condition].append(t)
    rng = random.Random(seed)
    queues: dict[str, list[Task]] = {}
    for domain in sorted(by_domain):
        groups = [by_domain[domain][c] for c in sorted(by_domain[domain])]
        for g in groups:
            rng.shuffle(g)
        queues[domain] = [g[i] for i in range(max(map(len, groups))) for g in groups if i < len(g)]
    chosen: list[Task] = []
    depth = 0
    while len(chosen) < n and any(depth < len(q) for q in queues.values()):
        chosen.extend(q[depth] for q in queues.values() if depth < len(q))
        depth += 1
    return chosen[:n]


def oracle_trajectory(env: Any, task: Task, seed: int = 0) -> Trajectory:
    """Play `task` with the oracle in `env` and return the conversation up to its final assistant turn."""
    from medgym.agents import OraclePolicy

    policy = OraclePolicy()
    observation, info = env.reset(seed=seed, options={"task_id": task.id})
    tools = info["tools"]
    policy.reset(observation, info)
    done = False
    while not done:
        observation, _, terminated, truncated, info = env.step(policy.act(observation, info))
        done = terminated or truncated
    messages = info["messages"]
    last = max(i for i, m in enumerate(messages) if m["role"] == "assistant")
    return Trajectory(task.id, task.domain, messages[: last + 1], tools, bool(info.get("success")))


def oracle_trajectories(
    tasks: Sequence[Task], seed: int = 0, patient_matcher: str = "lexical", progress: bool = True
) -> list[Trajectory]:
    """Oracle episodes for `tasks`, in order (the episode seed is `seed` for every task)."""
    from medgym.env import EncounterEnv

    if not tasks:
        return []
    env = EncounterEnv(tasks=list(tasks), patient_matcher=patient_matcher, max_turns=64)
    return [oracle_trajectory(env, t, seed) for t in tqdm(tasks, desc="oracle trajectories", disable=not progress)]
