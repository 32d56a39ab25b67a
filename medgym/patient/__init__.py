"""The simulated patient: answers a clinician's questions from the case's history."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Protocol

from medgym.patient.matching import MatcherMode, match, topics
from medgym.tasks.schema import Task

DONT_KNOW = ["I'm not sure, I haven't noticed.", "I don't really know.", "I can't say, I haven't paid attention to that."]
NOT_UNDERSTOOD = [
    "Sorry, I don't understand what you're asking.",
    "I'm not sure what you mean, doctor.",
    "Could you ask that another way?",
]


@dataclass
class PatientReply:
    text: str
    topics: list[str] = field(default_factory=list)


class Patient(Protocol):
    def reply(self, question: str) -> PatientReply: ...


class RuleBasedPatient:
    """Answers from the case's history facts in lay language; deterministic for a seed.

    It confirms or denies the facts the case states and says it does not know
    anything else; it never invents a finding. A case whose `chart.extra["unable_to_answer"]`
    is set (an unresponsive or delirious patient) gets that description instead of answers.
    """

    def __init__(self, task: Task, seed: int = 0, matcher: MatcherMode = "hybrid") -> None:
        self.task = task
        self.matcher = matcher
        self._rng = random.Random(seed)
        self._facts = {f.topic: f for f in task.chart.history}

    def reply(self, question: str) -> PatientReply:
        silent = self.task.chart.extra.get("unable_to_answer")
        if silent:  # a patient who cannot speak (unresponsive, delirious) answers nothing
            return PatientReply(str(silent))
        found = match(question, self.matcher)
        if not found:
            return PatientReply(self._rng.choice(NOT_UNDERSTOOD))
        answers = [a for a in (self._answer(t) for t in found) if a]
        return PatientReply(" ".join(answers) or self._rng.choice(DONT_KNOW), found)

    def _answer(self, topic: str) -> str | None:
        chart = self.task.chart
        source = topics()[topic].get("chart")
        if topic == "presenting_complaint":
            return self.task.presentation.opening_statement or f"I came in because of {self.task.presentation.chief_complaint}."
        if source == "medications":
            names = [m.name for m in chart.medications]
            return f"I take {_join(names)}." if names else "I don't take any regular medicines."
        if source == "past_medical_history":
            return f"I've been told I have {_join(chart.past_medical_history).lower()}." if chart.past_medical_history else "I've always been healthy."
        if source == "allergies":
            if not chart.allergies:
                return "No allergies that I know of."
            return " ".join(f"I'm allergic to {a.substance}" + (f" - I get {a.reaction}." if a.reaction else ".") for a in chart.allergies)
        fact = self._facts.get(topic)
        return fact.answer if fact else None


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
