"""Checks that every domain's tests share: the domain's own tools, the oracle and scripted agents, and a scripted
clinician blind to the answer."""

from __future__ import annotations

import collections

from medgym.agents import OraclePolicy, ScriptedPolicy, play
from medgym.env import EncounterEnv
from medgym.tools import list_tools


def own_tools(domain: str) -> list[str]:
    """Tools the domain's own package registers (not shared tools, not calculators written elsewhere)."""
    return [t.name for t in list_tools(domain) if domain in t.domains and t.fn.__module__.startswith(f"medgym.domains.{domain}")]


def _blank(task):
    truth = task.truth.model_copy(update={
        "diagnosis": "x", "icd10": None, "accepted_codes": [], "synonyms": [], "answer": "x", "accepted_answers": [],
        "management": [], "contraindicated": [], "key_findings": [], "demonstration": task.truth.demonstration[-1:],
        "required_actions": [], "contraindicated_actions": [], "fields": {}, "phases": []})
    return task.model_copy(update={"truth": truth, "rationale": "x"})


def _actions(tasks):
    policy, out = ScriptedPolicy(), []
    for t in tasks:
        env = EncounterEnv(tasks=[t], patient_matcher="lexical")
        obs, info = env.reset(seed=0)
        policy.reset(obs, info)
        done = False
        while not done:
            action = policy.act(obs, info)
            out.append(action)
            obs, _, terminated, truncated, info = env.step(action)
            done = terminated or truncated
    return out


def assert_scripted_blind_to_truth(tasks, per_type: int = 3) -> None:
    """Blank out the ground truth of a sample (per task type and condition): the scripted actions must not change."""
    by_key: dict[tuple[str, str], list] = collections.defaultdict(list)
    for t in tasks:
        by_key[(t.task_type, t.condition)].append(t)
    sample = []
    for task_type in sorted({k[0] for k in by_key}):
        keys = sorted(k for k in by_key if k[0] == task_type)
        sample += [by_key[k][0] for k in keys[:per_type]]
    assert _actions(sample) == _actions([_blank(t) for t in sample])


def assert_knowledge_is_sourced(domain: str) -> None:
    """Every knowledge passage has an id, a title, text, a named source and the domain; ids are unique."""
    from medgym.domains import get_domain

    passages = get_domain(domain).knowledge()
    assert len(passages) >= 10
    assert len({p["id"] for p in passages}) == len(passages)
    for p in passages:
        assert set(p) == {"id", "title", "text", "source", "domain"} and p["domain"] == domain, p["id"]
        assert len(p["text"]) > 60 and p["source"].strip(), p["id"]


def assert_oracle_solves_and_scripted_is_a_baseline(sample, group_by: str) -> None:
    """The oracle solves every task in `sample`; the scripted clinician solves 70% or more, but not all.
    Prints the success rate per value of the task attribute `group_by`."""
    env = EncounterEnv(tasks=sample, patient_matcher="lexical")
    for policy in (OraclePolicy(), ScriptedPolicy()):
        results = collections.defaultdict(list)
        for t in sample:
            info, *_ = play(env, policy, seed=0, options={"task_id": t.id})
            results[getattr(t, group_by)].append(info["success"])
        rate = sum(sum(v) for v in results.values()) / len(sample)
        print(policy.name, {k: round(sum(v) / len(v), 2) for k, v in results.items()}, round(rate, 3))
        if policy.name == "oracle":
            assert rate == 1.0
        else:
            assert 0.7 <= rate < 1.0
