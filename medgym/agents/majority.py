"""The majority-class baseline: submit the most common training answer at once.

For each final tool it submits what the training tasks most often expect:
the most frequent diagnosis (with its ICD-10-CM code), the most frequent
management plan, or the most frequent answer. It asks nothing and examines
nothing; a model that learned anything from the encounter should beat it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from medgym.agents.base import Action, tool_message
from medgym.tasks.schema import Task


def majority_answers(tasks: Sequence[Task]) -> dict[str, dict[str, Any]]:
    """The most common submission per final tool among `tasks` (ties broken by sort order)."""
    by_tool: dict[str, Counter[str]] = {}
    examples: dict[str, dict[str, Any]] = {}
    for t in tasks:
        truth = t.truth
        if truth.final_tool == "submit_diagnosis":
            args: dict[str, Any] = {"diagnosis": truth.diagnosis or "", "icd10_code": truth.icd10}
        elif truth.final_tool == "submit_treatment_plan":
            args = {"plan": [c.label for c in truth.management], "diagnosis": truth.diagnosis}
        else:
            args = {"answer": truth.answer or ""}
        key = repr(sorted(args.items()))
        by_tool.setdefault(truth.final_tool, Counter())[key] += 1
        examples[key] = args
    return {tool: examples[min(c, key=lambda k: (-c[k], k))] for tool, c in by_tool.items()}


class MajorityPolicy:
    """Submits the majority training answer for the task's final tool on the first turn."""

    name = "majority"

    def __init__(self, train_tasks: Sequence[Task]) -> None:
        if not train_tasks:
            raise ValueError("the majority baseline needs training tasks to count answers in")
        self.answers = majority_answers(train_tasks)

    def reset(self, observation: str, info: dict[str, Any]) -> None:
        self._final = info["final_tool"]

    def act(self, observation: str, info: dict[str, Any]) -> Action:
        args = self.answers.get(self._final)
        if args is None:
            raise KeyError(f"no training task ends with {self._final}; cannot form a majority answer")
        return tool_message((self._final, args))
