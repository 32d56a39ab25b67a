"""Pieces the protocol-driven workflows share: reading tool results into observations.

A workflow sends a batch of calls each turn; the environment answers each call with one
tool message, in order. `Observations.read` pairs them and files each result by tool, so
a strategy reasons only from what the tools returned.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from medgym.agents.base import Action
from medgym.patient.matching import topics as history_topics
from medgym.tools.calls import assistant_message as tool_message

Call = tuple[str, dict[str, Any]]
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
_PATIENT = re.compile(r"Patient: (\d+)-year-old (man|woman)")
_CHIEF = re.compile(r"Chief complaint: (.*)")


def numbers(text: Any) -> list[float]:
    return [float(x) for x in _NUMBER.findall(str(text))]


def interpret(topic: str, text: str) -> bool | str | None:
    """Which value of `topic` the patient's words express (None if they do not say)."""
    spec = history_topics()[topic]
    for value, phrases in spec.get("values", {}).items():
        if any(p in text for p in phrases):
            return value
    if any(p in text for p in spec.get("present", [])):
        return True
    if any(p in text for p in spec.get("absent", [])):
        return False
    return None


def question(topic: str) -> Call:
    """The call that asks the patient about `topic` in the topic's own words."""
    return ("ask_patient", {"question": history_topics()[topic]["questions"][0]})


@dataclass
class Opening:
    """What the presentation tells before any tool is called."""

    age: int
    sex: str
    complaint: str
    speaks: bool
    task_type: str
    final_tool: str
    text: str
    instructions: str

    @classmethod
    def parse(cls, info: dict[str, Any]) -> "Opening":
        text = info["messages"][1]["content"]
        patient = _PATIENT.search(text)
        chief = _CHIEF.search(text)
        return cls(
            age=int(patient.group(1)) if patient else 50,
            sex="male" if patient and patient.group(2) == "man" else "female",
            complaint=chief.group(1).lower() if chief else "",
            speaks="The patient says:" in text,
            task_type=info["task_type"],
            final_tool=info["final_tool"],
            text=text,
            instructions=text.split("Task: ", 1)[1] if "Task: " in text else "",
        )


@dataclass
class Observations:
    """Everything the tools have returned so far, filed by kind."""

    vitals: dict[str, float] = field(default_factory=dict)
    answers: dict[str, bool | str] = field(default_factory=dict)
    replies: list[str] = field(default_factory=list)
    exam: dict[str, str] = field(default_factory=dict)
    labs: dict[str, dict[str, Any]] = field(default_factory=dict)
    studies: dict[str, dict[str, Any]] = field(default_factory=dict)
    pmh: list[str] = field(default_factory=list)
    medications: list[str] = field(default_factory=list)
    allergies: list[str] = field(default_factory=list)
    tools: dict[str, Any] = field(default_factory=dict)
    results: list[tuple[str, dict[str, Any], Any]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def read(self, sent: list[Call], info: dict[str, Any]) -> None:
        """File the tool messages of the last step, paired with the calls that produced them."""
        messages = [m for m in info.get("new_messages", []) if m["role"] == "tool"]
        for (name, args), message in zip(sent, messages):
            try:
                content = json.loads(message["content"])
            except (json.JSONDecodeError, TypeError):
                content = message["content"]
            if isinstance(content, dict) and "error" in content:
                self.errors.append(f"{name}: {content['error']}")
                continue
            self.results.append((name, args, content))
            self._file(name, args, content)

    def result(self, name: str, **args: Any) -> Any:
        """The latest result of `name` called with these arguments (None if never called)."""
        for n, a, content in reversed(self.results):
            if n == name and all(a.get(k) == v for k, v in args.items()):
                return content
        return None

    def _file(self, name: str, args: dict[str, Any], content: Any) -> None:
        if name == "ask_patient":
            text = content.get("patient", "")
            self.replies.append(text)
            topic = args.get("topic")
            if topic:
                value = interpret(topic, text)
                if value is not None:
                    self.answers[topic] = value
        elif name == "read_vitals":
            v = {k: numbers(x) for k, x in content.items()}
            self.vitals = {
                "heart_rate": v["heart_rate"][0], "systolic_bp": v["blood_pressure"][0],
                "diastolic_bp": v["blood_pressure"][1], "respiratory_rate": v["respiratory_rate"][0],
                "temperature_c": v["temperature"][0], "spo2": v["spo2"][0],
                **({"weight_kg": v["weight"][0]} if "weight" in v else {}),
            }
        elif name == "examine":
            self.exam[content["system"]] = content["findings"]
        elif name == "order_lab":
            for result in content.get("results", [content]):
                self.labs[result["test"]] = result
        elif name in ("order_imaging", "order_ecg"):
            self.studies[content["study"]] = content
        elif name == "review_medical_history":
            self.pmh = [p.lower() for p in content.get("past_medical_history", [])]
        elif name == "review_medications":
            self.medications = [m.lower() for m in content.get("medications", [])]
        elif name == "review_allergies":
            self.allergies = [a.lower() for a in content.get("allergies", [])]
        else:
            self.tools[name] = content

    def lab(self, test: str) -> float | None:
        """A numeric lab value, or None if not resulted."""
        r = self.labs.get(test)
        if r is None or isinstance(r["value"], str):
            return None
        return float(r["value"])

    def lab_text(self, test: str) -> str:
        r = self.labs.get(test)
        return str(r["value"]).lower() if r else ""

    def has_pmh(self, *words: str) -> bool:
        return any(w in p for p in self.pmh for w in words)

    def takes(self, *words: str) -> bool:
        return any(w in m for m in self.medications for w in words)


def ask(topic: str) -> Call:
    """An ask_patient call that remembers which topic it asks about (the topic is not sent)."""
    name, args = question(topic)
    return name, {**args, "topic": topic}


def wire(call: Call) -> Call:
    """The call as sent to the environment (without workflow bookkeeping)."""
    name, args = call
    return name, {k: v for k, v in args.items() if k != "topic"}


class StagedProtocol:
    """A workflow run as a list of stages: each stage returns the calls of one turn (none: skipped), and
    the results of a turn are read into `obs` before the next stage; after the last, `submission()`.
    Subclasses define STAGES and submission() and call `start()` in reset()."""

    STAGES: list[Callable[[Any], list[Call]]] = []

    def start(self) -> None:
        self.obs = Observations()
        self.sent: list[Call] = []
        self.stage = 0

    def submission(self) -> Call:
        raise NotImplementedError

    def act(self, observation: str, info: dict[str, Any]) -> Action:
        self.obs.read(self.sent, info)
        while self.stage < len(self.STAGES):
            calls = self.STAGES[self.stage](self)
            self.stage += 1
            if calls:
                self.sent = calls
                return tool_message(*[wire(c) for c in calls])
        self.sent = []
        return tool_message(self.submission())


class PlannedProtocol:
    """A workflow written as a generator `_run()` that yields one turn's calls at a time; every
    well-formed tool result is filed under its tool's name in `results` before the next turn is planned.
    Subclasses call `start()` in reset()."""

    def _run(self) -> Iterator[list[Call]]:
        raise NotImplementedError

    def start(self) -> None:
        self.results: dict[str, list[dict[str, Any]]] = {}
        self._plan = self._run()

    def act(self, observation: str, info: dict[str, Any]) -> Action:
        for message in info.get("new_messages", []):
            if message.get("role") == "tool":
                try:
                    content = json.loads(message["content"])
                except (json.JSONDecodeError, TypeError):
                    continue
                if isinstance(content, dict) and "error" not in content:
                    self.results.setdefault(message.get("name", ""), []).append(content)
        return tool_message(*next(self._plan))

    def latest(self, name: str) -> dict[str, Any]:
        """The last well-formed result of tool `name` ({} when there is none)."""
        return (self.results.get(name) or [{}])[-1]
