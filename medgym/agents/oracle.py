"""The oracle: replays the task's ideal demonstration from the ground truth.

It reads the privileged answer, so it is not a baseline; it produces ideal
demonstrations (for supervised warm-starts) and checks that tasks are solvable.
"""

from __future__ import annotations

from typing import Any

from medgym.agents.base import Action, next_call, tool_message
from medgym.tasks.store import get_task


class OraclePolicy:
    """Uses the ground truth (labelled as such): one demonstrated call per turn."""

    name = "oracle"
    uses_ground_truth = True

    def __init__(self) -> None:
        self._calls: list[Any] = []

    def reset(self, observation: str, info: dict[str, Any]) -> None:
        self._calls = list(get_task(info["task_id"]).truth.demonstration)

    def act(self, observation: str, info: dict[str, Any]) -> Action:
        call = next_call(self._calls)
        return tool_message((call.name, dict(call.arguments)))


class OracleAnswerPolicy:
    """Uses the ground truth: only the demonstration's submissions (phase answers, then the final
    call), one per turn, with no work-up. For case records (`medgym.models` pretraining data)."""

    name = "oracle-answers"
    uses_ground_truth = True

    def __init__(self) -> None:
        self._calls: list[Any] = []

    def reset(self, observation: str, info: dict[str, Any]) -> None:
        from medgym.agents.majority import submissions

        self._calls = submissions(get_task(info["task_id"]))

    def act(self, observation: str, info: dict[str, Any]) -> Action:
        return tool_message(next_call(self._calls))
