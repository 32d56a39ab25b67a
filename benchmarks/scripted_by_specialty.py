"""Scripted-clinician and oracle success on clinical_diagnosis, per specialty and task type.

    python benchmarks/scripted_by_specialty.py [--split test] [--policy scripted|oracle] [--specialty NAME]

Prints one row per specialty x task type with the success rate and the number of tasks,
and the condition-level failures (which condition was submitted instead).
"""

from __future__ import annotations

import argparse
import collections
import time

from medgym import load_tasks
from medgym.agents import OraclePolicy, ScriptedPolicy, play
from medgym.env import EncounterEnv


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--split", default=None, help="train, val, test or heldout (default: all)")
    parser.add_argument("--policy", default="scripted", choices=["scripted", "oracle"])
    parser.add_argument("--specialty", default=None)
    parser.add_argument("--confusions", action="store_true", help="list which diagnosis was submitted on failures")
    args = parser.parse_args()
    tasks = load_tasks(split=args.split, domain="clinical_diagnosis", specialty=args.specialty)
    policy = ScriptedPolicy() if args.policy == "scripted" else OraclePolicy()
    env = EncounterEnv(tasks=tasks, patient_matcher="lexical")
    results: dict[tuple[str, str], list[bool]] = collections.defaultdict(list)
    confusions: collections.Counter[tuple[str, str]] = collections.Counter()
    start = time.perf_counter()
    steps = 0
    for t in tasks:
        info, _, n = play(env, policy, seed=0, options={"task_id": t.id})
        steps += n
        results[(t.specialty, t.task_type)].append(info["success"])
        if not info["success"]:
            sub = env.episode.submissions.get(t.truth.final_tool, {})
            confusions[(t.condition, str(sub.get("diagnosis")))] += 1
    elapsed = time.perf_counter() - start
    by_specialty: dict[str, list[bool]] = collections.defaultdict(list)
    print(f"{'specialty':28s} {'task type':12s} {'success':>8s} {'n':>5s}")
    for (specialty, task_type), v in sorted(results.items()):
        by_specialty[specialty] += v
        print(f"{specialty:28s} {task_type:12s} {sum(v) / len(v):8.3f} {len(v):5d}")
    print()
    for specialty, v in sorted(by_specialty.items()):
        print(f"{specialty:28s} {'all':12s} {sum(v) / len(v):8.3f} {len(v):5d}")
    every = [x for v in by_specialty.values() for x in v]
    print(f"{'clinical_diagnosis':28s} {'all':12s} {sum(every) / len(every):8.3f} {len(every):5d}")
    print(f"\n{len(tasks)} episodes, {steps} steps in {elapsed:.1f} s")
    if args.confusions:
        for (condition, submitted), n in confusions.most_common():
            print(f"  {n:3d}  {condition} -> {submitted}")


if __name__ == "__main__":
    main()
