"""Success of the oracle and the scripted clinician per domain and task type.

    python benchmarks/scripted_success.py [--domain D ...] [--split S] [--agent scripted|oracle]

Plays every selected task once (seed 0, lexical patient matcher, as tests/test_agents.py does)
and prints success by domain and task type.
"""

from __future__ import annotations

import argparse
import collections
import time

from medgym import load_tasks
from medgym.agents import OraclePolicy, ScriptedPolicy, play
from medgym.env import EncounterEnv


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--domain", action="append")
    parser.add_argument("--split", default=None)
    parser.add_argument("--agent", default="scripted", choices=["scripted", "oracle"])
    parser.add_argument("--show-failures", type=int, default=0)
    args = parser.parse_args()
    tasks = [t for t in load_tasks(split=args.split) if not args.domain or t.domain in args.domain]
    policy = ScriptedPolicy() if args.agent == "scripted" else OraclePolicy()
    env = EncounterEnv(tasks=tasks, patient_matcher="lexical")
    results: dict[tuple[str, str], list[bool]] = collections.defaultdict(list)
    failures = []
    start = time.perf_counter()
    for t in tasks:
        info, _, _ = play(env, policy, seed=0, options={"task_id": t.id})
        results[(t.domain, t.task_type)].append(info["success"])
        if not info["success"]:
            sub = env.episode.submissions.get(t.truth.final_tool, {})
            failures.append((t.id, t.truth.answer or t.truth.diagnosis or [c.label for c in t.truth.management], sub))
    by_domain: dict[str, list[bool]] = collections.defaultdict(list)
    for (domain, task_type), v in sorted(results.items()):
        by_domain[domain] += v
        print(f"{args.agent} {domain:18s} {task_type:14s} {sum(v) / len(v):.3f}  ({sum(v)}/{len(v)})")
    for domain, v in sorted(by_domain.items()):
        print(f"{args.agent} {domain:18s} {'all':14s} {sum(v) / len(v):.3f}  ({sum(v)}/{len(v)})")
    for f in failures[: args.show_failures]:
        print("FAIL", *f)
    print(f"({time.perf_counter() - start:.1f} s for {len(tasks)} episodes)")


if __name__ == "__main__":
    main()
