"""The `medgym` command.

    medgym tasks                    counts by domain, task type and split; tools per domain
    medgym tasks generate           regenerate the task files (seeded, byte-reproducible)
    medgym tools [--domain D]       list tools with their domain and JSON schema
    medgym play [--task ID]         play an encounter yourself in the terminal
    medgym play --agent scripted    watch an agent play (prints the transcript)
    medgym run                      the main job (see README)
    medgym model build [--force]    build the default policy model (cached; see medgym/models/default.yaml)
    medgym model eval               held-out tool-call validity, tool use and success vs the majority baseline
    medgym model info               the default model's build report
    medgym kb build [--small]       build the knowledge index (see `medgym kb --help`)
    medgym eval --policy P --suite S  evaluate policies on suites and benchmarks (`medgym eval --list`)
    medgym train CONFIG [--resume]  a GRPO or TT-OPD run (see experiments/train/)
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
    from medgym.agents import HFPolicy, HumanPolicy, OraclePolicy, ScriptedPolicy

    policies = {"human": HumanPolicy, "scripted": ScriptedPolicy, "oracle": OraclePolicy, "model": HFPolicy}
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


# --- the default model -----------------------------------------------------------------------------


def cmd_model(args: argparse.Namespace) -> int:
    from medgym.models import BuildConfig, build_default_model, build_info, default_model_dir, is_current

    out = args.out or default_model_dir()
    if args.action == "info":
        info = build_info(out)
        if info is None:
            print(f"no built model at {out}; run `medgym model build`", file=sys.stderr)
            return 1
        info["data"].pop("task_ids", None)
        print(json.dumps(info, indent=2))
        return 0
    if args.action == "eval":
        return _model_eval(args, out)
    overrides = {k: v for k, v in {
        "data.trajectories": args.trajectories, "sft.epochs": args.epochs,
        "data.domains": args.domains.split(",") if args.domains else None,
    }.items() if v is not None}
    config = BuildConfig.load(args.config, **overrides)
    start = time.perf_counter()
    current = not args.force and is_current(out, config)
    path = build_default_model(config, out_dir=out, force=args.force, progress=not args.quiet)
    info = build_info(path) or {}
    print(f"{'up to date' if current else 'built'}: {path} ({info.get('parameters', 0) / 1e6:.1f}M parameters, "
          f"{info.get('data', {}).get('trained', 0)} trajectories, {time.perf_counter() - start:.0f} s)")
    return 0


def _model_eval(args: argparse.Namespace, out) -> int:
    from medgym.models.evaluate import evaluate_model, held_out_tasks
    from medgym.rollout import RolloutConfig

    tasks = held_out_tasks(args.domains.split(",") if args.domains else None, args.limit, seed=args.seed)
    config = RolloutConfig(temperature=args.temperature, batch_size=args.batch_size, max_turns=args.max_turns,
                           patient_matcher=args.patient_matcher, constrain_tool_names=args.constrain_tool_names,
                           submit_on_last_turn=args.submit_on_last_turn)
    result = evaluate_model(out, tasks, config, seed=args.seed, progress=not args.quiet)
    keys = ["episodes", "success_rate", "valid_call_rate", "tool_calls_per_episode", "turns_per_episode",
            "truncated_rate", "repeat_rate", "mean_reward"]
    rows = [[result[p]["policy"], *[result[p][k] for k in keys]] for p in ("model", "majority")]
    constrained = ", tool names constrained to the offered tools" if args.constrain_tool_names else ""
    constrained += ", the last turn may call only the final tool" if args.submit_on_last_turn else ""
    print(f"Held-out tasks ({', '.join(sorted({t.domain for t in tasks}))}), temperature {args.temperature}{constrained}:")
    print(table(rows, ["policy", *keys]))
    vs = result["vs_majority"]
    print(f"Success task by task: {vs['a_only']} solved by the model only, {vs['b_only']} by the majority baseline "
          f"only, {vs['both']} by both; one-sided exact McNemar test (model above the baseline): p = {vs['p_value']:.3g}")
    print(f"(rollouts {result['rollout_seconds']} s, {result['tokens_per_second']} generated tokens/s)")
    return 0


# --- knowledge base ---------------------------------------------------------------------------------


def cmd_kb(args: argparse.Namespace) -> int:
    from medgym.knowledge.cli import run

    return run(args)


# --- evaluation -------------------------------------------------------------------------------------


def cmd_eval(args: argparse.Namespace) -> int:
    """Evaluate policies on suites; print a table (or JSON) and write the reports."""
    from medgym.eval import describe_suites, evaluate
    from medgym.eval.policies import VALID
    from medgym.eval.report import table as grid

    if args.list:
        print(describe_suites())
        print(f"policies: {VALID}")
        return 0
    if not args.policy:
        raise ValueError(f"name a policy with --policy; valid policies: {VALID}")
    out = args.out
    if out is None:
        from medgym.paths import runs_dir

        out = runs_dir() / "eval" / time.strftime("%Y%m%d-%H%M%S")
    count = collections.Counter()

    def progress(record: dict) -> None:
        count[(record["policy"], record["suite"])] += 1
        if not args.quiet:
            flag = "failed" if record.get("error") else "solved" if record["success"] else "not solved"
            print(f"  {record['policy']} / {record['suite']} / {record['item']}: {flag}", file=sys.stderr)

    start = time.perf_counter()
    try:
        results = evaluate(args.policy, args.suite or ["smoke"], limit=args.limit, seed=args.seed,
                           workers=args.workers, ray=args.ray, out=out, overwrite=args.overwrite, qa_mode=args.qa_mode,
                           max_turns=args.max_turns, reward=args.reward, patient_matcher=args.patient_matcher,
                           retries=args.retries, endpoint_timeout=args.timeout,
                           constrain_tool_names=args.constrain_tool_names, progress=progress)
    except (RuntimeError, KeyboardInterrupt) as exc:
        print(f"medgym eval: {exc or 'interrupted'}\nfinished episodes are kept in {out}; run the same command with "
              f"--out {out} to resume", file=sys.stderr)
        return 1
    if args.json:
        print(results.to_json())
    else:
        for metric in ("success", "tool_calls_per_episode", "tokens_per_turn"):
            t = grid(results, metric)
            rows = [[p, *(("* " if c.get("best") else "") + c["text"] for c in (row[col] for col in t["columns"]))]
                    for p, row in t["rows"].items()]
            print(f"{metric} (mean [95% CI] n; * best in column)")
            print(table(rows, ["policy", *t["columns"]]))
            print()
    played = sum(count.values())
    print(f"{played} episodes played in {time.perf_counter() - start:.1f} s; reports in {out} "
          "(results.json, report.md, report.html, charts.html)", file=sys.stderr)
    return 0


# --- training ---------------------------------------------------------------------------------------


def cmd_train(args: argparse.Namespace) -> int:
    from medgym.train.run import run_command

    return run_command(args)


# --- experiments ------------------------------------------------------------------------------------


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


def _encounter_options() -> argparse.ArgumentParser:
    """Options that `model eval` and `eval` share (argparse `parents=`): how the encounters are played."""
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--max-turns", type=int, default=24, help="turn limit of an encounter")
    p.add_argument("--patient-matcher", choices=["hybrid", "lexical"], default="hybrid",
                   help="how the simulated patient matches the questions it is asked")
    p.add_argument("--constrain-tool-names", action="store_true",
                   help="local models decode tool names only among the offered tools (medgym.tools.constrain; "
                        "`medgym eval` results: NAME+constrained)")
    return p


def build_parser() -> argparse.ArgumentParser:
    encounter = _encounter_options()
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
    p.add_argument("--agent", default="human", help="human (default), scripted, oracle or model (the default model)")
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

    p = sub.add_parser("model", help="build, evaluate or describe the default policy model", parents=[encounter])
    p.add_argument("action", nargs="?", choices=["build", "eval", "info"], default="build")
    p.add_argument("--force", action="store_true", help="rebuild even when the cached model is current")
    p.add_argument("--config", default=None, help="a build config YAML (default: medgym/models/default.yaml)")
    p.add_argument("--out", default=None, help="model directory (default: $MEDGYM_HOME/models/default)")
    p.add_argument("--trajectories", type=int, default=None, help="oracle trajectories for the warm start")
    p.add_argument("--epochs", type=float, default=None, help="SFT epochs")
    p.add_argument("--domains", default=None, help="comma-separated domains (default: all with tasks)")
    p.add_argument("--limit", type=int, default=None, help="eval: at most this many held-out tasks")
    p.add_argument("--temperature", type=float, default=0.0, help="eval: sampling temperature (0 = greedy)")
    p.add_argument("--batch-size", type=int, default=16, help="eval: episodes generated at once")
    p.add_argument("--submit-on-last-turn", action="store_true",
                   help="eval: a call in the last allowed turn may only name the task's final tool")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=cmd_model)

    from medgym.knowledge.cli import add_arguments

    p = sub.add_parser("kb", help="the knowledge base: build, add, search, serve, stats")
    add_arguments(p)
    p.set_defaults(func=cmd_kb)

    p = sub.add_parser("eval", help="evaluate policies on environment suites and QA benchmarks", parents=[encounter])
    p.add_argument("--policy", action="append", default=[],
                   help="scripted, oracle, default, a model/run folder, or openai:URL:MODEL (repeatable)")
    p.add_argument("--suite", action="append", default=[],
                   help="a suite name (see --list) or a benchmark FORMAT:PATH (repeatable; default smoke)")
    p.add_argument("--limit", type=int, default=None, help="the first N items of each suite")
    p.add_argument("--json", action="store_true", help="print the results as JSON")
    p.add_argument("--workers", type=int, default=1, help="local worker processes")
    p.add_argument("--ray", action="store_true", help="run episodes on Ray (RAY_ADDRESS, else a local cluster)")
    p.add_argument("--out", default=None, help="results folder; run again with the same folder to resume")
    p.add_argument("--overwrite", action="store_true", help="discard finished episodes in --out")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--qa-mode", choices=["closed", "agentic", "both"], default="closed",
                   help="benchmarks closed book (one turn) or agentic (search_knowledge allowed)")
    p.add_argument("--reward", default="shaped")
    p.add_argument("--retries", type=int, default=2, help="retries of an endpoint that times out")
    p.add_argument("--timeout", type=float, default=120.0, help="seconds an openai: endpoint may take per turn")
    p.add_argument("--quiet", action="store_true", help="no line per episode on stderr")
    p.add_argument("--list", action="store_true", help="list the suites and policy specs")
    p.set_defaults(func=cmd_eval)

    from medgym.train.run import add_arguments as train_arguments

    p = sub.add_parser("train", help="train a policy with GRPO or TT-OPD from a YAML config")
    train_arguments(p)
    p.set_defaults(func=cmd_train)

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
