"""Evaluation throughput, measured in one process.

  * scripted clinician: episodes per second through `medgym.eval.evaluate`, serial vs 2 worker
    processes (end to end, worker start-up included), on the first N tasks of every domain suite;
  * the default model (`medgym model build`) on every environment test split, on CPU: wall time
    (skipped, with the reason, while the model or its policy class is missing).

    python benchmarks/eval_throughput.py [--episodes 40] [--patient-matcher hybrid] [--skip-model]
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from medgym.eval import evaluate, resolve_policy  # noqa: E402
from medgym.eval.suites import environment_suites  # noqa: E402


def domain_suites() -> list[str]:
    return [n for n, s in environment_suites().items() if s.group == "domain" and ":" not in n]


def timed(**kwargs) -> tuple[float, int]:
    start = time.perf_counter()
    results = evaluate(**kwargs)
    return time.perf_counter() - start, len(results.episodes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--episodes", type=int, default=40, help="tasks per domain suite for the scripted runs")
    parser.add_argument("--patient-matcher", default="hybrid", choices=["hybrid", "lexical"])
    parser.add_argument("--skip-model", action="store_true")
    args = parser.parse_args()
    suites = domain_suites()
    common = dict(policies=["scripted"], suites=suites, limit=args.episodes, patient_matcher=args.patient_matcher)
    print(f"domain suites: {', '.join(suites)}; patient matcher {args.patient_matcher}; cpus {os.cpu_count()}")
    evaluate(policies=["scripted"], suites=suites[:1], limit=1, patient_matcher=args.patient_matcher)  # warm caches
    serial, n = timed(**common)
    first_pool, _ = timed(**{**common, "limit": 1}, workers=2)  # starts the fork server (imports) once per process
    parallel, n2 = timed(**common, workers=2)
    assert n == n2
    print(f"scripted, serial:            {n} episodes in {serial:6.1f} s = {n / serial:7.2f} episodes/s")
    print(f"scripted, 2 workers:         {n} episodes in {parallel:6.1f} s = {n / parallel:7.2f} episodes/s "
          f"({serial / parallel:.2f}x serial; fresh workers, fork server already up)")
    print(f"  first pool of this process (fork server start-up, 1 episode): {first_pool:.1f} s")
    if args.skip_model:
        return
    try:
        spec = resolve_policy("default")
        spec.build()
    except (ValueError, ImportError) as exc:
        print(f"default model on every test split: skipped ({exc})")
        return
    seconds, n = timed(policies=["default"], suites=suites, patient_matcher=args.patient_matcher)
    print(f"default model, every test split on CPU: {n} episodes in {seconds:.1f} s "
          f"({n / seconds:.2f} episodes/s)")


if __name__ == "__main__":
    main()
