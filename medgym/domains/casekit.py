"""Small helpers that domain case builders share: seeded sampling of vitals, history facts and tasks.

Domains whose workflow differs from the condition-template engine (`casebuilder.py`)
write their own builder and use these pieces, so a vital sign, a history answer or a
lab result is made the same way in every domain.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from importlib import resources
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel

from medgym.domains.conditions import Statement, answer_for, check_references, choose, text_of  # noqa: F401  (re-exported)
from medgym.patient.matching import topics as history_topics
from medgym.tasks.schema import HistoryFact, LabResult, ToolCall, Vitals
from medgym.tools import catalog

M = TypeVar("M", bound=BaseModel)

Range = tuple[float, float] | list[float]

DEFAULT_VITALS: dict[str, tuple[float, float]] = {
    "heart_rate": (62, 92),
    "systolic_bp": (108, 134),
    "diastolic_bp": (64, 84),
    "respiratory_rate": (12, 18),
    "temperature_c": (36.4, 37.2),
    "spo2": (96, 100),
}


def load_yaml(package: str, name: str) -> Any:
    """A YAML data file that ships inside a domain package."""
    return yaml.safe_load(resources.files(package).joinpath(name).read_text())


def load_library(package: str, model: type[M]) -> M:
    """A domain package's `templates.yaml`, each template given its key as `id`, parsed and checked by
    `model` (the domain's pydantic `Library`)."""
    raw = load_yaml(package, "templates.yaml")
    raw["templates"] = {k: {"id": k, **v} for k, v in raw["templates"].items()}
    return model.model_validate(raw)


def uniform(rng: random.Random, bounds: Range, decimals: int = 0) -> float:
    low, high = float(bounds[0]), float(bounds[1])
    value = rng.uniform(low, high)
    return round(value, decimals) if decimals else float(round(value))


def vitals(rng: random.Random, ranges: dict[str, Range] | None, sex: str, weight: Range | None = None) -> Vitals:
    """Vital signs drawn from `ranges` (missing signs from a normal adult range)."""
    spec = {**DEFAULT_VITALS, **(ranges or {})}
    v = {k: rng.uniform(float(lo), float(hi)) for k, (lo, hi) in spec.items()}
    if weight is None:
        weight = (58, 100) if sex == "male" else (48, 92)
    systolic = round(v["systolic_bp"])
    diastolic = min(round(v["diastolic_bp"]), systolic - 15)
    return Vitals(
        heart_rate=round(v["heart_rate"]),
        systolic_bp=systolic,
        diastolic_bp=diastolic,
        respiratory_rate=round(v["respiratory_rate"]),
        temperature_c=round(v["temperature_c"], 1),
        spo2=min(100, round(v["spo2"])),
        weight_kg=round(rng.uniform(float(weight[0]), float(weight[1])), 1),
    )


def fact(rng: random.Random, topic: str, value: bool | str) -> HistoryFact:
    """A history fact with a lay answer drawn from the topic vocabulary."""
    spec = history_topics()[topic]
    return HistoryFact(topic=topic, value=value, answer=answer_for(rng, topic, value), category=spec["category"])


def say(rng: random.Random, statements: Sequence[str | Statement], history: Sequence[HistoryFact], fallback: str) -> str:
    """A chief complaint or opening statement that the history agrees with: one whose stated symptoms
    are all present in it (the patient never denies what they came in with), else `fallback`."""
    present = {f.topic for f in history if f.value is True}
    fits = [o for o in statements if isinstance(o, str) or set(o.states) <= present]
    chosen = rng.choice(fits or [fallback])
    return text_of(chosen)


def states_only(statements: Sequence[str | Statement] | None) -> None:
    """Raise unless every statement gives only the symptoms it states: `say` picks among them by their
    `states`, and an `onset` or `answers` would be silently ignored (only the clinical builder applies them)."""
    for s in statements or []:
        if isinstance(s, Statement) and (s.onset or s.answers):
            raise ValueError(f"{s.text!r}: this domain honours a statement's states only, not its onset or answers")


def facts(rng: random.Random, spec: dict[str, Any]) -> list[HistoryFact]:
    """History facts from {topic: probability | {value: weight} | fixed value}."""
    out = []
    for topic, s in spec.items():
        if isinstance(s, dict):
            value: bool | str = choose(rng, s)
        elif isinstance(s, bool) or isinstance(s, str):
            value = s
        else:
            value = rng.random() < float(s)
        out.append(fact(rng, topic, value))
    return out


def lab(test: str, value: float | str, sex: str) -> LabResult:
    """A lab result with the catalog's unit, range and flag."""
    return catalog.lab_result(test, value, sex)


def call(name: str, **arguments: Any) -> ToolCall:
    return ToolCall(name=name, arguments=arguments)


def weighted(rng: random.Random, items: list[Any]) -> Any:
    """One of `items`, drawn by their `weight` (an attribute or a dict key; default 1)."""
    weights = [float(i.get("weight", 1.0) if isinstance(i, dict) else getattr(i, "weight", 1.0)) for i in items]
    return rng.choices(items, weights=weights)[0]
