"""The evaluation harness: environment suites and medical QA benchmarks, scored with intervals.

    from medgym.eval import evaluate
    results = evaluate(["scripted", "oracle"], ["cardiology", "medqa:~/data/medqa/test.jsonl"], limit=50)
    results.cell("scripted", "cardiology")["scores"]["success"]   # {"mean", "ci": [lo, hi], "n"}
    results.save("runs/eval-1")                                   # results.json, report.md/.html, charts.html

Modules: suites (what is evaluated), policies (policy specs), qa (benchmark readers,
answer extraction), qaenv (a question as an episode), runner (serial / processes / Ray,
resume), records (per-episode metrics), stats (bootstrap intervals), results, report.
"""

from medgym.eval.harness import evaluate
from medgym.eval.policies import resolve_policy
from medgym.eval.results import Results
from medgym.eval.suites import describe as describe_suites
from medgym.eval.suites import environment_suites, resolve_suites, suite_names

__all__ = ["evaluate", "Results", "resolve_policy", "resolve_suites", "environment_suites", "suite_names",
           "describe_suites"]
