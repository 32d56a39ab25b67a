"""`evaluate`: policies x suites -> Results (the function behind `medgym eval`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from medgym.eval.policies import PolicySpec, resolve_policy
from medgym.eval.results import Results, aggregate
from medgym.eval.runner import EpisodeLog, EvalConfig, Job, play
from medgym.eval.suites import Suite, resolve_all


def evaluate(
    policies: Any | Sequence[Any],
    suites: str | Sequence[str] = "smoke",
    *,
    limit: int | None = None,
    seed: int = 0,
    workers: int = 1,
    ray: bool = False,
    out: str | Path | None = None,
    overwrite: bool = False,
    qa_mode: str = "closed",
    max_turns: int = 24,
    reward: str = "shaped",
    patient_matcher: str = "hybrid",
    qa_max_turns: int = 6,
    retries: int = 2,
    retry_wait_s: float = 1.0,
    endpoint_timeout: float = 120.0,
    constrain_tool_names: bool = False,
    progress: Callable[[dict[str, Any]], None] | None = None,
) -> Results:
    """Evaluate each policy on each suite and return the scores with 95% bootstrap intervals.

    Args:
        policies: policy specs ("scripted", "oracle", "default", a model folder, "openai:URL:MODEL")
            or policy objects (reset/act), one or a list.
        suites: suite names (`medgym eval --list`) or benchmark specs FORMAT:PATH, one or a list.
        limit: evaluate only the first `limit` items of each suite.
        seed: the evaluation seed (episode seeds and bootstrap resampling derive from it).
        workers: local worker processes (1 = in this process).
        ray: run episodes as Ray tasks (RAY_ADDRESS picks a cluster; otherwise a local one).
        out: a folder for episodes.jsonl (resumable) and the reports; None keeps everything in memory.
        overwrite: discard finished episodes in `out` instead of resuming.
        qa_mode: benchmark mode, "closed" (closed book, one turn), "agentic" (search_knowledge allowed) or "both".
        max_turns: turn limit of environment episodes.
        reward: reward preset of environment episodes.
        patient_matcher: "hybrid" (lexical, then embeddings) or "lexical" (faster).
        qa_max_turns: turn limit of agentic benchmark episodes.
        retries: retries of an episode whose endpoint timed out before it is recorded as failed.
        retry_wait_s: wait before the first retry (doubling after each).
        endpoint_timeout: seconds an `openai:` endpoint may take to answer one turn before it counts as timed out.
        constrain_tool_names: local models decode tool names only among the offered tools
            (medgym.tools.constrain); their results are named "<name>+constrained".
        progress: called with each finished episode's record.
    """
    if isinstance(policies, (str, PolicySpec)) or not isinstance(policies, Sequence):
        policies = [policies]
    if isinstance(suites, str):
        suites = [suites]
    if not policies:
        raise ValueError("name at least one policy")
    if not suites:
        raise ValueError("name at least one suite")
    if limit is not None and limit < 1:
        raise ValueError(f"limit must be at least 1, got {limit}")
    if workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    if max_turns < 1 or qa_max_turns < 1:
        raise ValueError(f"max_turns and qa_max_turns must be at least 1, got {max_turns} and {qa_max_turns}")
    if retries < 0:
        raise ValueError(f"retries must be 0 or more, got {retries}")
    if endpoint_timeout <= 0:
        raise ValueError(f"endpoint_timeout must be positive, got {endpoint_timeout}")
    specs = _unique_names([resolve_policy(p) for p in policies])
    specs = [replace(s, timeout=endpoint_timeout) if s.kind == "openai" else s for s in specs]
    if constrain_tool_names:
        specs = [replace(s, constrain_tool_names=True, name=f"{s.name}+constrained") if s.kind == "hf" else s
                 for s in specs]
    resolved = resolve_all(list(suites), qa_mode)
    config = EvalConfig(seed=seed, max_turns=max_turns, reward=reward, patient_matcher=patient_matcher,
                        qa_max_turns=qa_max_turns, retries=retries, retry_wait_s=retry_wait_s)
    from medgym.rewards import resolve_preset

    resolve_preset(reward)  # an unknown preset fails here, before any episode
    jobs, skipped = plan(specs, resolved, limit)
    log = EpisodeLog(Path(out), config, overwrite) if out is not None else None
    records = play(jobs, config, log, workers=workers, use_ray=ray, progress=progress)
    results = aggregate(specs, resolved, records, skipped,
                        config.fingerprint() | {"limit": limit, "qa_mode": qa_mode, "workers": workers, "ray": ray},
                        limit)
    if out is not None:
        results.save(out)
    return results


def plan(policies: list[PolicySpec], suites: list[Suite], limit: int | None) -> tuple[list[Job], dict[tuple[str, str], str]]:
    """Every episode to play, and the (policy, suite) pairs left out with the reason."""
    jobs, skipped = [], {}
    for p in policies:
        for s in suites:
            reason = p.unsupported(s)
            if reason:
                skipped[(p.name, s.name)] = reason
                continue
            jobs += [Job(p, s, item) for item in s.item_ids(limit)]
    return jobs, skipped


def _unique_names(specs: list[PolicySpec]) -> list[PolicySpec]:
    """Two policies with one name (two folders called `final`) are told apart by their specs."""
    out: list[PolicySpec] = []
    for s in specs:
        if any(o.spec == s.spec for o in out):
            continue
        if any(o.name == s.name for o in out) or sum(t.name == s.name for t in specs) > 1:
            s = PolicySpec(**{**s.__dict__, "name": s.spec})
        out.append(s)
    return out
