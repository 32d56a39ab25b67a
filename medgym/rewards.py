"""Reward terms and presets.

A reward term is a plain function `(episode, task) -> float` registered by name
with `@reward_term`, so a researcher can add one from a notebook. A preset maps
term names to weights; the reward is the weighted sum.

Terms: outcome in [0, 1]; safety in [-1, 0]; process in [0, 1];
efficiency in [-1, 0]; format in [-1, 0].
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Mapping

from medgym.episode import Episode
from medgym.tasks.schema import Concept, Task

RewardTerm = Callable[[Episode, Task], float]
_TERMS: dict[str, RewardTerm] = {}

PRESETS: dict[str, dict[str, float]] = {
    "terminal": {"outcome": 1.0},
    "shaped": {"outcome": 1.0, "safety": 1.0, "process": 0.3, "efficiency": 0.1, "format": 0.2},
}
EXTRA_COST_SCALE = 20.0  # resource units above the ideal work-up that cost the whole efficiency term
NEGATION = re.compile(r"^\W*(avoid|no|not|don'?t|do not|never|withhold|hold|stop|discontinue)\b|\bcontraindicated\b")
_ICD = re.compile(r"\b([A-TV-Z][0-9][0-9AB](?:\.?[0-9A-Z]{1,4})?)\b")


def reward_term(name: str) -> Callable[[RewardTerm], RewardTerm]:
    """Register a reward term under `name` (replacing one of the same name)."""

    def register(fn: RewardTerm) -> RewardTerm:
        _TERMS[name] = fn
        return fn

    return register


def terms() -> dict[str, RewardTerm]:
    return dict(_TERMS)


# --- matching answers ------------------------------------------------------------------------------


def normalize(text: str) -> str:
    text = re.sub(r"\([^)]*\)", " ", text.lower())
    text = text.replace("-", " ").replace("'", "")
    return " ".join(re.findall(r"[a-z0-9%]+", text))


def normalize_code(code: str) -> str:
    code = code.strip().upper().replace(" ", "")
    if len(code) > 3 and "." not in code:
        code = code[:3] + "." + code[3:]
    return code


def diagnosis_matches(diagnosis: str | None, code: str | None, task: Task) -> bool:
    """True when the ICD-10-CM code or the diagnosis text names the task's diagnosis."""
    truth = task.truth
    codes = {normalize_code(c) for c in [truth.icd10 or "", *truth.accepted_codes] if c}
    submitted = [code or ""] + _ICD.findall((diagnosis or "").upper())
    if any(normalize_code(c) in codes for c in submitted if c):
        return True
    names = {normalize(s) for s in [truth.diagnosis or "", *truth.synonyms] if s}
    return normalize(diagnosis or "") in names


def answer_matches(answer: str | None, task: Task) -> bool:
    accepted = {normalize(a) for a in [task.truth.answer or "", *task.truth.accepted_answers] if a}
    return normalize(answer or "") in accepted


def split_negation(text: str) -> tuple[bool, str]:
    """(negative, core): "avoid heparin" -> (True, "heparin"); "aspirin" -> (False, "aspirin")."""
    lowered = str(text).lower()
    if not NEGATION.search(lowered):
        return False, lowered
    return True, NEGATION.sub(" ", lowered)


def concept_matched(item: str, concept: Concept) -> bool:
    """A plan item names the concept: a phrasing of it appears as whole words in the item,
    with the same polarity. "avoid heparin" never counts as recommending heparin, and
    "stop sertraline" matches a concept phrased as "discontinue sertraline"."""
    item_negative, item_core = split_negation(item)
    text = f" {normalize(item_core)} "
    for phrase in [concept.label, *concept.synonyms]:
        phrase_negative, phrase_core = split_negation(phrase)
        core = normalize(phrase_core)
        if core and phrase_negative == item_negative and f" {core} " in text:
            return True
    return False


def names_concept(item: str, concept: Concept) -> bool:
    """A structured field's value names the concept: a phrasing of it appears as whole words in the
    value. No polarity here: a field says what it means (an action field's "avoid" is the answer)."""
    text = f" {normalize(item)} "
    return any(f" {normalize(s)} " in text for s in [concept.label, *concept.synonyms] if normalize(s))


NONE_ITEMS = {"none", "nil", "na", "n a", "no", "not applicable", "nkda", "no known drug allergies", "no known allergies"}


def fields_score(submission: dict, fields: Mapping[str, list[Concept]]) -> float:
    """Share of a structured answer's required elements that it names. Each argument in `fields`
    must name each of its concepts; a submitted item that names none of them counts against the
    share (so listing everything does not pay). Items that only say "none" are not items."""
    matched = required = extra = 0
    for name, concepts in fields.items():
        value = submission.get(name)
        items = [str(v) for v in (value if isinstance(value, list) else [value])
                 if v not in (None, "") and normalize(str(v)) not in NONE_ITEMS]
        required += len(concepts)
        matched += sum(any(names_concept(i, c) for i in items) for c in concepts)
        extra += sum(not any(names_concept(i, c) for c in concepts) for i in items)
    return matched / (required + extra) if required + extra else 1.0


def plan_items(episode: Episode) -> list[str]:
    """The items of the submitted treatment plan."""
    return [str(i) for i in episode.submissions.get("submit_treatment_plan", {}).get("plan", [])]


# --- the terms --------------------------------------------------------------------------------------


@reward_term("outcome")
def outcome(episode: Episode, task: Task) -> float:
    """Did the final submission answer the task: 1 correct, 0 wrong or missing (partial for plans)."""
    final = episode.submissions.get(task.truth.final_tool)
    if final is None:
        return 0.0
    if task.truth.fields:
        return fields_score(final, task.truth.fields)
    if task.truth.final_tool == "submit_treatment_plan":
        items = plan_items(episode)
        wanted = task.truth.management
        return sum(any(concept_matched(i, c) for i in items) for c in wanted) / len(wanted) if wanted else 1.0
    if task.truth.final_tool == "submit_answer":
        return float(answer_matches(final.get("answer"), task))
    correct = diagnosis_matches(final.get("diagnosis"), final.get("icd10_code"), task)
    if task.task_type == "workup" and correct:
        return 1.0 if process(episode, task) == 1.0 else 0.5
    return float(correct)


@reward_term("safety")
def safety(episode: Episode, task: Task) -> float:
    """-1 when the agent did or recommended something contraindicated for this patient."""
    items = plan_items(episode)
    harmful = any(concept_matched(i, c) for c in task.truth.contraindicated for i in items)
    harmful |= bool(episode.action_keys & set(task.truth.contraindicated_actions))
    return -1.0 if harmful else 0.0


@reward_term("process")
def process(episode: Episode, task: Task) -> float:
    """Share of the guideline-required actions that were done."""
    required = task.truth.required_actions
    if not required:
        return 1.0
    return sum(a in episode.action_keys for a in required) / len(required)


@reward_term("efficiency")
def efficiency(episode: Episode, task: Task) -> float:
    """Penalty for resources used beyond the ideal work-up."""
    from medgym.tools import call_cost

    ideal = sum(call_cost(c.name, c.arguments) for c in task.truth.demonstration)
    return -min(1.0, max(0.0, episode.cost - ideal) / EXTRA_COST_SCALE)


@reward_term("format")
def format_(episode: Episode, task: Task) -> float:
    """Penalty for malformed or invalid tool calls: 0.25 each, at most 1."""
    return -min(1.0, 0.25 * episode.invalid_calls)


# --- scoring ----------------------------------------------------------------------------------------


@dataclass
class RewardResult:
    total: float
    terms: dict[str, float]
    success: bool


def resolve_preset(preset: str | Mapping[str, float]) -> dict[str, float]:
    if isinstance(preset, str):
        if preset not in PRESETS:
            raise ValueError(f"unknown reward preset {preset!r}; presets: {', '.join(PRESETS)}")
        return dict(PRESETS[preset])
    unknown = set(preset) - set(_TERMS)
    if unknown:
        raise ValueError(f"unknown reward term(s) {', '.join(sorted(unknown))}; terms: {', '.join(_TERMS)}")
    return dict(preset)


def score(episode: Episode, task: Task, preset: str | Mapping[str, float] = "terminal") -> RewardResult:
    """The weighted reward, every term's value, and whether the episode succeeded."""
    weights = resolve_preset(preset)
    values = {name: fn(episode, task) for name, fn in _TERMS.items()}
    total = sum(w * values[name] for name, w in weights.items())
    return RewardResult(total=total, terms=values, success=values["outcome"] >= 1.0 and values["safety"] == 0.0)
