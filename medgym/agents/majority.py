"""The majority-class baseline: submit the most common training answer at once.

For each final tool it submits what the training tasks' demonstrations most
often submit: their submission calls (the phase answers of a multi-phase task,
then the final call) with their arguments, taken whole. So a diagnosis task
gets the most frequent diagnosis with its ICD-10-CM code, a drug review the
most frequent review, an ECG the most frequent interpretation, a patient
journey the most frequent journey's answers in order. It asks nothing and
examines nothing, one submission per turn; a model that learned anything from
the encounter should beat it.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from typing import Any

from medgym.agents.base import Action, next_call, tool_message
from medgym.tasks.schema import Task

Submission = list[tuple[str, dict[str, Any]]]  # (tool, arguments) in the order they are submitted


def submissions(task: Task) -> Submission:
    """The submission calls of `task`'s demonstration: answers to its phases, then the final call."""
    tools = {task.truth.final_tool, *(p.tool for p in task.truth.phases)}
    return [(c.name, dict(c.arguments)) for c in task.truth.demonstration if c.name in tools]


def majority_answers(tasks: Sequence[Task]) -> dict[str, Submission]:
    """The most common submission per final tool among `tasks` (ties broken by sort order); tasks
    without a demonstrated submission are not counted."""
    by_tool: dict[str, Counter[str]] = {}
    examples: dict[str, Submission] = {}
    for t in tasks:
        calls = submissions(t)
        if not calls:
            continue
        key = json.dumps(calls, sort_keys=True)
        by_tool.setdefault(t.truth.final_tool, Counter())[key] += 1
        examples[key] = calls
    return {tool: examples[min(c, key=lambda k: (-c[k], k))] for tool, c in by_tool.items()}


class MajorityPolicy:
    """Submits the majority training submission for the task's final tool, one call per turn from the
    first turn on (the final call again if the episode goes on)."""

    name = "majority"

    def __init__(self, train_tasks: Sequence[Task]) -> None:
        if not train_tasks:
            raise ValueError("the majority baseline needs training tasks to count answers in")
        self.answers = majority_answers(train_tasks)
        self._calls: Submission = []

    def reset(self, observation: str, info: dict[str, Any]) -> None:
        final = info["final_tool"]
        if final not in self.answers:
            raise KeyError(f"no training task ends with {final}; cannot form a majority answer")
        self._calls = list(self.answers[final])

    def act(self, observation: str, info: dict[str, Any]) -> Action:
        return tool_message(next_call(self._calls))
