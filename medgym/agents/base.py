"""The interface every policy shares, so widgets, evaluation and training treat them alike."""

from __future__ import annotations

from typing import Any, Protocol, TypeVar, runtime_checkable

from medgym.tools.calls import assistant_message as tool_message  # noqa: F401  (re-exported)

Action = str | dict[str, Any]
T = TypeVar("T")


@runtime_checkable
class Policy(Protocol):
    """An agent that plays encounters: `reset` at the start of an episode, then `act` each turn."""

    name: str

    def reset(self, observation: str, info: dict[str, Any]) -> None: ...

    def act(self, observation: str, info: dict[str, Any]) -> Action: ...


def next_call(calls: list[T]) -> T:
    """The next of a scripted policy's remaining calls, one per turn: taken off the list while others
    follow, and the last one repeated if the episode goes on after it."""
    return calls.pop(0) if len(calls) > 1 else calls[-1]
