"""Oracle trajectories for the supervised warm start.

The oracle (`medgym.agents.OraclePolicy`) replays each task's ground-truth
demonstration in the real environment; the conversation the environment
records (`info["messages"]`) and the offered tool schemas are the SFT example.

With `detours`, the demonstrations also show recovery (DART-style noise
injection: Laskey et al. 2017, "DART: Noise Injection for Robust Imitation
Learning"): now and then the demonstrator first makes one of the mistakes a
small model makes on its own (calling a tool another domain offers, repeating
its previous call), sees the environment's reply, and then goes on with the
demonstration. Detour turns are marked `"detour": True` and the chat template
renders them outside the `{% generation %}` span, so they carry no loss: the
model learns what to do after a mistake, not to make it.
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

    @property
    def detours(self) -> int:
        return sum(1 for m in self.messages if m.get("detour"))

    def without_detours(self) -> list[dict[str, Any]]:
        """The conversation with each detour (its assistant turn and the replies to it) left out."""
        kept, skipping = [], False
        for m in self.messages:
            if m["role"] == "assistant":
                skipping = bool(m.get("detour"))
            if not skipping:
                kept.append(m)
        return kept

    def as_sft_row(self, detours: bool = True, system: bool = True) -> dict[str, Any]:
        """A row for TRL's conversational SFT format (`detours=False`: without the detours; `system=False`:
        without the system prompt and the tool list). Tool-call arguments and the tool list are JSON
        strings, so that Arrow does not merge differently shaped argument objects into one schema (the
        chat template renders a string argument verbatim)."""
        messages = []
        for m in self.messages if detours else self.without_detours():
            if m["role"] == "system" and not system:
                continue
            m = dict(m)
            if m.get("tool_calls"):
                m["tool_calls"] = [
                    {"type": "function", "function": {"name": c["function"]["name"],
                                                      "arguments": json.dumps(c["function"]["arguments"], ensure_ascii=False)}}
                    for c in m["tool_calls"]
                ]
            messages.append(m)
        return {"messages": messages, "tools": json.dumps(self.tools if system else [], ensure_ascii=False)}


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


class DetourPolicy:
    """Wraps a demonstrator: before each demonstrated action, with probability `rate` (never twice
    in a row), it first takes a detour: half the time a repeat of its previous action (when it has
    one), otherwise a call, without arguments, to a tool that this encounter does not offer (one
    that another domain does). Then it goes on with the demonstration. `detoured[i]` says whether
    its i-th action was a detour."""

    def __init__(self, policy: Any, rate: float, rng: random.Random) -> None:
        from medgym.tools import list_tools

        self.policy, self.rate, self.rng = policy, rate, rng
        self.name = f"{policy.name}+detours"
        self.all_tools = [t.name for t in list_tools()]
        self.detoured: list[bool] = []

    def reset(self, observation: str, info: dict[str, Any]) -> None:
        self.policy.reset(observation, info)
        offered = {t["function"]["name"] for t in info["tools"]}
        self.foreign = [name for name in self.all_tools if name not in offered]
        self.last: Any = None
        self.detoured = []

    def act(self, observation: str, info: dict[str, Any]) -> Any:
        from medgym.agents.base import tool_message

        if (self.detoured[-1:] != [True]) and self.rng.random() < self.rate:
            self.detoured.append(True)
            if self.last is not None and self.rng.random() < 0.5:
                return self.last
            return tool_message((self.rng.choice(self.foreign), {}))
        self.last = self.policy.act(observation, info)
        self.detoured.append(False)
        return self.last


def oracle_trajectory(env: Any, task: Task, seed: int = 0, policy: Any = None, detours: float = 0.0) -> Trajectory:
    """Play `task` with the oracle (or another `policy`) in `env` and return the conversation up to its
    final assistant turn; with `detours` > 0, the policy takes detours at that rate (`DetourPolicy`,
    seeded by `seed` and the task) and the detour turns are marked."""
    from medgym.agents import OraclePolicy

    policy = policy or OraclePolicy()
    if detours:
        policy = DetourPolicy(policy, detours, random.Random(f"{seed}:{task.id}"))
    observation, info = env.reset(seed=seed, options={"task_id": task.id})
    tools = info["tools"]
    policy.reset(observation, info)
    done = False
    while not done:
        observation, _, terminated, truncated, info = env.step(policy.act(observation, info))
        done = terminated or truncated
    messages = [dict(m) for m in info["messages"]]
    if detours:
        turns = [m for m in messages if m["role"] == "assistant"]
        for m, detoured in zip(turns, policy.detoured, strict=True):
            if detoured:
                m["detour"] = True
    last = max(i for i, m in enumerate(messages) if m["role"] == "assistant")
    return Trajectory(task.id, task.domain, messages[: last + 1], tools, bool(info.get("success")))


def oracle_trajectories(
    tasks: Sequence[Task], seed: int = 0, patient_matcher: str = "lexical", progress: bool = True,
    source: str = "oracle", detours: float = 0.0,
) -> list[Trajectory]:
    """Demonstration episodes for `tasks`, in order (the episode seed is `seed` for every task).

    `source` "oracle" replays each task's ground-truth demonstration; "scripted" plays the scripted
    clinician, whose choices depend only on what it has observed; "answers" makes only the
    demonstration's submissions (case records). `detours`: see `DetourPolicy`."""
    from medgym.agents import OraclePolicy, ScriptedPolicy
    from medgym.agents.oracle import OracleAnswerPolicy
    from medgym.env import EncounterEnv

    if not tasks:
        return []
    policies = {"oracle": OraclePolicy, "scripted": ScriptedPolicy, "answers": OracleAnswerPolicy}
    if source not in policies:
        raise ValueError(f"unknown trajectory source {source!r}; choose one of {', '.join(policies)}")
    policy = policies[source]()
    env = EncounterEnv(tasks=list(tasks), patient_matcher=patient_matcher, max_turns=64)
    return [oracle_trajectory(env, t, seed, policy, detours)
            for t in tqdm(tasks, desc=f"{source} trajectories", disable=not progress)]
