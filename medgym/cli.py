"""The `medgym` command.

    medgym tasks                    counts by domain, task type and split; tools per domain
    medgym tasks generate           regenerate the task files (seeded, byte-reproducible)
    medgym tools [--domain D]       list tools with their domain and JSON schema
    medgym play [--task ID]         play an encounter yourself in the terminal
    medgym play --agent scripted    watch an agent play (prints the transcript)
    medgym run                      the main job (see README)
    medgym experiment run FILE      execute a notebook over a parameter grid (papermill); --resume
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
import time
from typing import Callable

Handler = Callable[[argparse.Namespace], int]


def table(rows: list[list[object]], header: list[str]) -> str:
    """A plain-text table with aligned columns."""
    cells = [[str(c) for c in header]] + [[f"{c:.2f}" if isinstance(c, float) else str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


# --- tasks / tools ----------------------------------------------------------------------------------


def cmd_tasks(args: argparse.Namespace) -> int:
    from medgym.tasks import load_tasks
    from medgym.tools import list_tools

    if args.action == "generate":
        from medgym.tasks.generator import generate, write

        start = time.perf_counter()
        paths = write(generate(args.seed), seed=args.seed)
        print(f"wrote {len(paths)} task files in {time.perf_counter() - start:.1f} s")
        return 0
    tasks = load_tasks()
    splits = ["train", "val", "test", "heldout"]
    counts = collections.Counter((t.domain, t.task_type, t.split) for t in tasks)
    rows = []
    for domain, task_type in sorted({(t.domain, t.task_type) for t in tasks}):
        per_split = [counts[(domain, task_type, s)] for s in splits]
        rows.append([domain, task_type, *per_split, sum(per_split)])
    rows.append(["all", "", *[sum(r[2 + i] for r in rows) for i in range(len(splits))], len(tasks)])
    print(table(rows, ["domain", "task type", *splits, "total"]))
    print()
    from medgym.domains import load_domains

    every = list_tools()
    rows = [[d, sum(d in t.domains for t in every), len(list_tools(d))] for d in sorted(load_domains())]
    rows.append(["shared", sum(not t.domains for t in every), ""])
    rows.append(["all", len(every), ""])
    print(table(rows, ["domain", "own tools", "offered in an episode"]))
    return 0


def cmd_tools(args: argparse.Namespace) -> int:
    from medgym.tools import list_tools

    tools = list_tools(args.domain)
    if args.json:
        print(json.dumps([{"domains": list(t.domains), "kind": t.kind, "doc": t.doc, **t.schema} for t in tools], indent=2))
        return 0
    rows = [[t.name, ", ".join(t.domains) or "shared", t.kind, t.description[:70]] for t in tools]
    print(table(rows, ["tool", "domain", "kind", "description"]))
    return 0


# --- playing ----------------------------------------------------------------------------------------


def make_policy(name: str):
    from medgym.agents import HumanPolicy, OraclePolicy, ScriptedPolicy

    policies = {"human": HumanPolicy, "scripted": ScriptedPolicy, "oracle": OraclePolicy}
    if name not in policies:
        raise SystemExit(f"unknown agent {name!r}; choose one of {', '.join(policies)}")
    return policies[name]()


def cmd_play(args: argparse.Namespace) -> int:
    from medgym.agents import play
    from medgym.env import EncounterEnv

    env = EncounterEnv(domain=args.domain, split=None, render_mode="ansi", max_turns=args.max_turns)
    policy = make_policy(args.agent)
    options = {"task_id": args.task} if args.task else None
    try:
        info, total, steps = play(env, policy, seed=args.seed, options=options)
    except (KeyboardInterrupt, EOFError):
        print("\nencounter abandoned")
        return 1
    if args.agent != "human":
        print(env.render())
    task = env.task
    print()
    print(f"Result: {'success' if info['success'] else 'not solved'}  reward {total:.2f}  turns {steps}  "
          f"tool calls {info['episode']['tool_calls']}")
    print("Reward terms: " + ", ".join(f"{k} {v:+.2f}" for k, v in info["reward_terms"].items()))
    print(f"Correct answer: {task.truth.diagnosis or task.truth.answer} ({task.truth.icd10 or ''})")
    print(f"Rationale: {task.rationale}")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    """Play a sample of tasks with the scripted clinician and print a per-domain table."""
    from medgym.agents import ScriptedPolicy, play
    from medgym.env import EncounterEnv
    from medgym.tasks import load_tasks

    tasks = load_tasks(split=args.split)
    by_domain: dict[str, list] = collections.defaultdict(list)
    for t in tasks:
        by_domain[t.domain].append(t)
    sample = [t for d in sorted(by_domain) for t in by_domain[d][:: max(1, len(by_domain[d]) // args.per_domain)][: args.per_domain]]
    env = EncounterEnv(tasks=sample, reward=args.reward)
    policy = ScriptedPolicy()
    stats: dict[str, list[tuple[bool, int, int, float]]] = collections.defaultdict(list)
    start = time.perf_counter()
    for task in sample:
        info, total, steps = play(env, policy, seed=args.seed, options={"task_id": task.id})
        stats[task.domain].append((info["success"], steps, info["episode"]["tool_calls"], total))
    rows = []
    for domain, s in sorted(stats.items()):
        n = len(s)
        rows.append([domain, n, sum(x[0] for x in s) / n, sum(x[1] for x in s) / n, sum(x[2] for x in s) / n,
                     sum(x[3] for x in s) / n])
    print(f"Scripted clinician on {len(sample)} {args.split} tasks (reward preset '{args.reward}'):")
    print(table(rows, ["domain", "episodes", "success", "turns", "tool calls", "reward"]))
    print(f"({time.perf_counter() - start:.1f} s)")
    return 0


def cmd_experiment(args: argparse.Namespace) -> int:
    from medgym.experiment import ExperimentError, parse_overrides, run_experiment

    try:
        exp_dir = run_experiment(args.file, resume=args.resume, runs_root=args.runs_dir,
                                 overrides=parse_overrides(args.set or []))
    except ExperimentError as exc:
        print(f"medgym experiment: {exc}", file=sys.stderr)
        return 2
    rows = json.loads((exp_dir / "results.json").read_text())["rows"]
    return 1 if any(r["status"] == "failed" for r in rows) else 0


# --- wiring -----------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="medgym", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("tasks", help="task counts, or regenerate the task files")
    p.add_argument("action", nargs="?", choices=["list", "generate"], default="list")
    p.add_argument("--seed", type=int, default=20261123)
    p.set_defaults(func=cmd_tasks)

    p = sub.add_parser("tools", help="list tools with their domain and schema")
    p.add_argument("--domain", default=None)
    p.add_argument("--json", action="store_true", help="print the JSON schemas")
    p.set_defaults(func=cmd_tools)

    p = sub.add_parser("play", help="play an encounter (yourself, or watch an agent)")
    p.add_argument("--agent", default="human", help="human (default), scripted or oracle")
    p.add_argument("--task", default=None, help="task id (default: a random training task)")
    p.add_argument("--domain", default=None)
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--max-turns", type=int, default=24)
    p.set_defaults(func=cmd_play)

    p = sub.add_parser("run", help="the main job: a scripted-clinician sweep over every domain")
    p.add_argument("--split", default="test")
    p.add_argument("--per-domain", type=int, default=40)
    p.add_argument("--reward", default="shaped")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("experiment", help="run a notebook over a parameter grid with papermill")
    p.add_argument("action", choices=["run"])
    p.add_argument("file", help="experiment YAML, e.g. experiments/agents_by_domain.yaml")
    p.add_argument("--resume", action="store_true", help="skip runs that finished with the same config")
    p.add_argument("--runs-dir", default=None, help="where runs go (default: runs/ beside the YAML file)")
    p.add_argument("--set", action="append", metavar="KEY=VALUE", help="override a parameter or grid axis (repeatable)")
    p.set_defaults(func=cmd_experiment)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (KeyError, ValueError, FileNotFoundError) as exc:
        message = exc.args[0] if exc.args else str(exc)
        print(f"medgym {args.command}: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
