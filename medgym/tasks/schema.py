"""Pydantic models for one patient case (a `Task`) and its parts.

A task holds what the agent sees at the start (`presentation`), what tools can
reveal (`chart`), how the episode is graded (`truth`) and a privileged
`rationale` that only graders and teachers see.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION = 1

TaskType = Literal[
    "diagnosis",
    "workup",
    "management",
    "medication_safety",
    "risk_stratification",
    "triage",
    "question_answering",
    "report",
    "assessment",
    "disposition",
    "interaction_check",
    "medication_review",
    "renal_dosing",
    "hepatic_dosing",
    "allergy_check",
    "pregnancy_lactation",
    "older_adult_review",
    "trend_review",
    "early_warning",
    "medication_reconciliation",
    "handoff_summary",
    "discharge_summary",
]
Sex = Literal["female", "male"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=False)


class Vitals(_Model):
    """Vital signs at presentation, in the units clinicians chart them."""

    heart_rate: int = Field(description="beats/min")
    systolic_bp: int = Field(description="mmHg")
    diastolic_bp: int = Field(description="mmHg")
    respiratory_rate: int = Field(description="breaths/min")
    temperature_c: float = Field(description="degrees Celsius")
    spo2: int = Field(description="% on room air unless noted")
    weight_kg: float | None = None
    height_cm: float | None = None


class Presentation(_Model):
    """What the clinician knows when the encounter opens."""

    age: int
    sex: Sex
    chief_complaint: str
    vitals: Vitals
    setting: str = "emergency department"
    opening_statement: str = ""


class HistoryFact(_Model):
    """One answerable history item; `value` False marks a pertinent negative."""

    topic: str
    value: bool | str
    answer: str
    category: Literal["hpi", "ros", "pmh", "medications", "social", "family", "obstetric"] = "hpi"


class ExamFinding(_Model):
    system: str
    finding: str
    abnormal: bool = False


class LabResult(_Model):
    """A laboratory result with its unit, reference range and flag."""

    test: str
    name: str
    value: float | str
    unit: str
    reference_range: str
    flag: Literal["normal", "high", "low", "critical high", "critical low", "abnormal"] = "normal"


class ImagingReport(_Model):
    study: str
    name: str
    findings: str
    impression: str
    abnormal: bool = False


class Medication(_Model):
    name: str
    dose: str = ""
    frequency: str = ""


class Allergy(_Model):
    substance: str
    reaction: str = ""


class Chart(_Model):
    """The hidden chart: everything tools can reveal about the patient."""

    history: list[HistoryFact] = Field(default_factory=list)
    past_medical_history: list[str] = Field(default_factory=list)
    medications: list[Medication] = Field(default_factory=list)
    allergies: list[Allergy] = Field(default_factory=list)
    exam: list[ExamFinding] = Field(default_factory=list)
    labs: dict[str, LabResult] = Field(default_factory=dict)
    imaging: dict[str, ImagingReport] = Field(default_factory=dict)
    extra: dict[str, Any] = Field(default_factory=dict, description="domain-specific data (EHR series, signals, reports)")


class Concept(_Model):
    """An answer concept with the phrasings that count as a match."""

    label: str
    synonyms: list[str] = Field(default_factory=list)


class ToolCall(_Model):
    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)


class GroundTruth(_Model):
    """How the episode is graded. Never shown to the agent."""

    final_tool: str = "submit_diagnosis"
    diagnosis: str | None = None
    icd10: str | None = None
    accepted_codes: list[str] = Field(default_factory=list)
    synonyms: list[str] = Field(default_factory=list)
    answer: str | None = None
    accepted_answers: list[str] = Field(default_factory=list)
    management: list[Concept] = Field(default_factory=list)
    contraindicated: list[Concept] = Field(default_factory=list)
    required_actions: list[str] = Field(default_factory=list, description="action keys, e.g. order_lab:troponin_t_hs")
    contraindicated_actions: list[str] = Field(default_factory=list)
    key_findings: list[str] = Field(default_factory=list)
    fields: dict[str, list[Concept]] = Field(
        default_factory=dict,
        description="structured answer of a domain submit tool: argument -> the concepts it must name, one per required element",
    )
    demonstration: list[ToolCall] = Field(default_factory=list, description="oracle's ideal calls before submitting")


class Task(_Model):
    """One simulated patient case."""

    id: str
    version: int = SCHEMA_VERSION
    domain: str
    task_type: TaskType
    specialty: str | None = None
    condition: str
    split: Literal["train", "val", "test", "heldout"] = "train"
    instructions: str
    presentation: Presentation
    chart: Chart
    truth: GroundTruth
    rationale: str
    source: str
    seed: int
