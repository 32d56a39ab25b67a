"""Condition templates: a small generative model of how a condition presents.

A specialty file (YAML) holds a library of exam findings and study reports,
the work-up of each presenting complaint, and conditions that reference those
findings with the probability that a patient with the condition shows them.
The case generator samples cases from it; the scripted clinician uses the same
knowledge, from what it has observed only, to weigh a differential.
"""

from __future__ import annotations

import math
import random
from collections.abc import Collection, Iterable, Mapping
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from medgym.patient.matching import topics as history_topics
from medgym.tools import catalog

NOISE = 0.06  # chance that a symptom the condition does not cause is reported anyway


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Finding(_Model):
    system: str
    text: str


class Report(_Model):
    study: str
    findings: str
    impression: str


class Workup(_Model):
    """What a clinician checks for a presenting complaint."""

    keywords: list[str]
    history: list[str]
    exam: list[str]
    labs: list[str] = Field(default_factory=list)
    imaging: list[str] = Field(default_factory=list)
    ecg: bool = False
    tools: list[str] = Field(default_factory=list, description="other tool actions, as action keys, e.g. measure_orthostatic_vitals")


class LabSpec(_Model):
    p: float = 1.0
    range: tuple[float, float] | None = None
    value: str | None = None


class Statement(_Model):
    """What a patient says first (an opening statement or a chief complaint), with what it tells, so that
    the patient's later answers agree with it.

    `onset`: when the problem began (a value of the `onset` history topic), which the answer to "when
    did it start?" then gives. `states`: yes/no history topics it reports as present ("I've been
    vomiting": nausea), which the patient never denies when asked. `answers`: the patient's words for
    a stated topic where the topic's usual ones would contradict the statement (the side, or a
    deficit that has resolved).
    """

    text: str
    onset: str | None = None
    states: list[str] = Field(default_factory=list)
    answers: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _known_topics(self) -> "Statement":
        topics = history_topics()
        _check(self.onset is None or self.onset in topics["onset"]["values"], f"{self.text!r}: unknown onset {self.onset!r}")
        for t in self.states:
            _check(_yes_no(t), f"{self.text!r}: {t!r} is not a yes/no history topic")
        _check(set(self.answers) <= set(self.states), f"{self.text!r}: answers for topics it does not state")
        return self


def _yes_no(topic: str) -> bool:
    """Whether a history topic is answered yes or no (not with one of several values)."""
    return topic in history_topics() and "values" not in history_topics()[topic]


def text_of(statement: str | Statement) -> str:
    """The words of a chief complaint or opening statement."""
    return statement.text if isinstance(statement, Statement) else statement


class Condition(_Model):
    id: str
    name: str
    icd10: str
    accepted_codes: list[str] = Field(default_factory=list)
    synonyms: list[str] = Field(default_factory=list)
    complaint: str
    chief_complaint: list[str | Statement]
    opening: list[str | Statement]
    atypical_chief_complaint: list[str | Statement] = Field(default_factory=list, description="how an atypical case may present instead")
    atypical_opening: list[str | Statement] = Field(default_factory=list)
    setting: str = "emergency department"
    source: str
    age: tuple[int, int]
    male: float = 0.5
    weight: float = 1.0
    vitals: dict[str, tuple[float, float]]
    history: dict[str, float | dict[str, float]] = Field(default_factory=dict)
    answers: dict[str, str] = Field(default_factory=dict, description="the patient's words for a symptom present in "
                                    "this condition, where the topic's usual ones do not fit (a deficit that has resolved)")
    social: dict[str, dict[str, float]] = Field(default_factory=dict)
    comorbidities: dict[str, float] = Field(default_factory=dict)
    exam: dict[str, float] = Field(default_factory=dict)
    labs: dict[str, LabSpec] = Field(default_factory=dict)
    imaging: dict[str, dict[str, float]] = Field(default_factory=dict)
    maneuvers: dict[str, float] = Field(default_factory=dict, description="bedside maneuver -> P(positive)")
    orthostatic: float | None = Field(None, description="P(orthostatic hypotension); None: the population rate")
    prior: dict[str, LabSpec] = Field(default_factory=dict, description="earlier results on file (review_prior_results)")
    confirm: list[str] = Field(default_factory=list, description="tests that confirm it: lab:x, imaging:y, ecg, tool:<action key>")
    required: list[str] = Field(default_factory=list)
    management: list[str] = Field(default_factory=list)
    contraindicated: list[str] = Field(default_factory=list)
    variants: list[dict[str, Any]] = Field(default_factory=list)
    risk_scores: list[str] = Field(default_factory=list, description="calculator tools that risk-stratification tasks use")
    rationale: str
    heldout: bool = False

    @property
    def statements(self) -> list[str | Statement]:
        """Every chief complaint and opening statement it may present with, typical and atypical."""
        return [*self.chief_complaint, *self.atypical_chief_complaint, *self.opening, *self.atypical_opening]


class Concept(_Model):
    label: str
    synonyms: list[str] = Field(default_factory=list)
    source: str | None = None


class Comorbidity(_Model):
    medications: list[dict[str, str]] = Field(default_factory=list)
    labs: dict[str, tuple[float, float]] = Field(default_factory=dict)


class Specialty(_Model):
    """One specialty's knowledge: findings, reports, work-ups, conditions."""

    name: str
    findings: dict[str, Finding]
    reports: dict[str, Report]
    complaints: dict[str, Workup]
    management: dict[str, Concept]
    comorbidities: dict[str, Comorbidity] = Field(default_factory=dict)
    conditions: list[Condition]

    @model_validator(mode="after")
    def _references_exist(self) -> "Specialty":
        topics = history_topics()
        for c in self.conditions:
            where = f"{self.name}/{c.id}"
            _check(c.complaint in self.complaints, f"{where}: unknown complaint {c.complaint}")
            _check(bool(c.atypical_chief_complaint) == bool(c.atypical_opening),
                   f"{where}: an atypical chief complaint needs an atypical opening statement, and the reverse")
            onsets = c.history.get("onset")
            triggers = {t for v in c.variants for t in v.get("history", {})}
            for t in c.answers:
                _check(_yes_no(t), f"{where}: answers for {t!r}, not a yes/no history topic")
            for o in c.statements:
                if isinstance(o, str):
                    continue
                _check(o.onset is None or (isinstance(onsets, dict) and onsets.get(o.onset, 0) > 0),
                       f"{where}: {o.text!r} states onset {o.onset!r}, which the condition's onset "
                       f"distribution must give (> 0)")
                for t in o.states:
                    _check(t not in triggers, f"{where}: {o.text!r} states {t!r}, which a variant decides")
            check_references(where, self.management, [*c.management, *c.contraindicated], {**c.history, **c.social},
                             [*c.labs, *c.prior])
            for f in c.exam:
                _check(f in self.findings, f"{where}: unknown finding {f}")
            for test in c.confirm:
                kind, _, key = test.partition(":")
                _check(kind in ("lab", "imaging", "ecg", "tool"), f"{where}: confirm {test!r} is not lab:, imaging:, ecg or tool:")
                _check(kind != "lab" or key in catalog.labs() or key in catalog.lab_panels(), f"{where}: confirm names unknown lab {key}")
                _check(kind != "imaging" or key in catalog.studies(), f"{where}: confirm names unknown study {key}")
            for study, reports in c.imaging.items():
                for r in reports:
                    _check(r in self.reports and self.reports[r].study == study, f"{where}: bad report {study}/{r}")
                _check(sum(reports.values()) <= 1.0 + 1e-9, f"{where}: {study} report probabilities exceed 1")
            for m in c.comorbidities:
                _check(m in self.comorbidities, f"{where}: unknown comorbidity {m}")
        for w in self.complaints.values():
            for t in w.history:
                _check(t in topics, f"{self.name}: work-up asks unknown topic {t}")
        return self

    def condition(self, condition_id: str) -> Condition:
        for c in self.conditions:
            if c.id == condition_id:
                return c
        raise KeyError(condition_id)


def check_references(owner: str, concepts: Collection[str], management: Iterable[str] = (),
                     history: Mapping[str, Any] | None = None, labs: Iterable[str] = (),
                     studies: Iterable[str] = ()) -> None:
    """Raise a ValueError naming `owner` (a template) at its first reference to something that does
    not exist: a management concept not in `concepts`, a history topic not in the topic file (or, for
    a topic given as {value: weight}, values the topic file lacks), a lab test or an imaging study not
    in the catalog."""
    for concept in management:
        if concept not in concepts:
            raise ValueError(f"{owner}: unknown management concept {concept!r}")
    topics = history_topics()
    for topic, spec in (history or {}).items():
        if topic not in topics:
            raise ValueError(f"{owner}: unknown history topic {topic!r}")
        values = set(topics[topic].get("values") or {})
        if isinstance(spec, dict) and not set(spec) <= values:
            raise ValueError(f"{owner}: {topic} values {sorted(set(spec) - values)} are not in the topic file")
    for test in labs:
        if test not in catalog.labs():
            raise ValueError(f"{owner}: unknown lab {test!r}")
    for study in studies:
        if study not in catalog.studies():
            raise ValueError(f"{owner}: unknown imaging study {study!r}")


def _check(ok: bool, message: str) -> None:
    if not ok:
        raise ValueError(message)


@cache
def load_specialty(path: str) -> Specialty:
    """Parse and check a specialty file."""
    return Specialty.model_validate(yaml.safe_load(Path(path).read_text()))


# --- evidence, shared by the generator and the scripted clinician ---------------------------------


def vital_band(name: str, value: float) -> str:
    """A coarse band of a vital sign, as a clinician would read it."""
    bands = {
        "heart_rate": [(50, "brady"), (101, "normal"), (1e9, "tachy")],
        "systolic_bp": [(90, "low"), (160, "normal"), (180, "high"), (1e9, "crisis")],
        "respiratory_rate": [(21, "normal"), (1e9, "high")],
        "temperature_c": [(38.0, "normal"), (1e9, "fever")],
        "spo2": [(94, "low"), (101, "normal")],
    }
    for limit, band in bands.get(name, []):
        if value < limit:
            return band
    return "normal"


VITAL_BANDS = {
    "heart_rate": ["brady", "normal", "tachy"],
    "systolic_bp": ["low", "normal", "high", "crisis"],
    "respiratory_rate": ["normal", "high"],
    "temperature_c": ["normal", "fever"],
    "spo2": ["low", "normal"],
}


def vital_likelihood(condition: Condition, name: str, band: str) -> float:
    """P(band | condition) for a vital drawn uniformly from the condition's range."""
    if name not in condition.vitals:
        return 1.0 / len(VITAL_BANDS[name])
    return _band_share(name, *condition.vitals[name], band)


@lru_cache(maxsize=None)
def _band_share(name: str, low: float, high: float, band: str) -> float:
    samples = [low + (high - low) * (i + 0.5) / 40 for i in range(40)]
    return max(sum(vital_band(name, v) == band for v in samples) / 40, 0.01)


def history_likelihood(condition: Condition, topic: str, value: bool | str) -> float:
    spec = condition.history.get(topic, condition.social.get(topic))
    if spec is None:
        if isinstance(value, bool):
            return NOISE if value else 1 - NOISE
        values = history_topics()[topic].get("values", {})
        if "none" in values:  # the generator answers "none" for a topic the condition does not specify
            return 1 - NOISE if value == "none" else NOISE / max(len(values) - 1, 1)
        return 1.0 / max(len(values), 1)
    if isinstance(spec, dict):
        return max(spec.get(str(value), 0.0), 0.02)
    p = float(spec)
    return max(p if value else 1 - p, 0.02)


def finding_likelihood(condition: Condition, finding: str, present: bool) -> float:
    p = condition.exam.get(finding, 0.02)
    return max(p if present else 1 - p, 0.02)


LAB_NOISE = 0.03  # chance that a test the condition does not affect comes back abnormal


def lab_likelihood(condition: Condition, test: str, observed: bool | str) -> float:
    """P(the test comes back `observed` | condition): a flag ("normal", "high", "low", "abnormal")
    or, as a bool, abnormal or not."""
    return _result_likelihood(condition.labs.get(test), test, observed)


def prior_likelihood(condition: Condition, test: str, observed: bool | str) -> float:
    """P(an earlier result on file for `test` is `observed` | condition)."""
    return _result_likelihood(condition.prior.get(test), test, observed)


def _result_likelihood(spec: LabSpec | None, test: str, observed: bool | str) -> float:
    if isinstance(observed, bool):
        p = spec.p if spec else LAB_NOISE
        return max(p if observed else 1 - p, 0.02)
    if spec is None:
        return 1 - LAB_NOISE if observed == "normal" else LAB_NOISE
    share = flag_shares(test, spec.range, spec.value).get(observed, 0.0)
    return max(spec.p * share + (1 - spec.p) * (observed == "normal"), 0.02)


@lru_cache(maxsize=None)
def flag_shares(test: str, value_range: tuple[float, float] | None, value: str | None) -> dict[str, float]:
    """How often a result drawn as the generator draws it (from `value_range`, or the fixed `value`)
    gets each flag, averaged over the sexes."""
    if value is not None:
        values: list[float | str] = [value]
    else:
        low, high = value_range
        log_scale = low > 0 and high / low > 10  # as casebuilder._value draws
        qs = [(i + 0.5) / 20 for i in range(20)]
        values = [math.exp(math.log(low) + q * (math.log(high) - math.log(low))) if log_scale else low + q * (high - low) for q in qs]
    shares: dict[str, float] = {}
    for sex in ("female", "male"):
        for v in values:
            flag = catalog.lab_result(test, v, sex).flag
            shares[flag] = shares.get(flag, 0.0) + 1 / (2 * len(values))
    return shares


def report_likelihood(condition: Condition, study: str, report: str | None) -> float:
    """P(the study shows `report` (None = normal) | condition)."""
    reports = condition.imaging.get(study, {})
    if report is None:
        return max(1.0 - sum(reports.values()), 0.02)
    return max(reports.get(report, 0.0), 0.01)


MANEUVER_NOISE = 0.02
ORTHOSTATIC_BASE = 0.05  # orthostatic hypotension in a condition that does not cause it


def maneuver_likelihood(condition: Condition, maneuver: str, positive: bool) -> float:
    p = condition.maneuvers.get(maneuver, MANEUVER_NOISE)
    return max(p if positive else 1 - p, 0.02)


def orthostatic_likelihood(condition: Condition, positive: bool) -> float:
    p = ORTHOSTATIC_BASE if condition.orthostatic is None else condition.orthostatic
    return max(p if positive else 1 - p, 0.02)


def comorbidity_likelihood(condition: Condition, name: str, present: bool) -> float:
    """P(the chart lists `name` in the past medical history | condition)."""
    p = condition.comorbidities.get(name, 0.0)
    return max(p if present else 1 - p, 0.02)


def log(p: float) -> float:
    return math.log(max(p, 1e-6))


# --- sampling ---------------------------------------------------------------------------------------


def choose(rng: random.Random, weights: dict[str, float]) -> str:
    keys = sorted(weights)
    return rng.choices(keys, weights=[weights[k] for k in keys])[0]


def answer_for(rng: random.Random, topic: str, value: bool | str) -> str:
    spec = history_topics()[topic]
    if isinstance(value, bool):
        return rng.choice(spec["present"] if value else spec["absent"])
    return rng.choice(spec["values"][value])
