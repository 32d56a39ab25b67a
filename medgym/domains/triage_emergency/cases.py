"""Build emergency department cases from `templates.yaml`, seeded.

A template has optional subtypes (the agent, cause or source) and mutually
exclusive variants (the severity). One case is the template's defaults overlaid
with one subtype and one variant; its answer comes from the published rules in
`scores.py` applied to the facts that were drawn.
"""

from __future__ import annotations

import random
from functools import cache
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, model_validator

from medgym.domains import casekit
from medgym.domains.conditions import Statement, choose
from medgym.domains.triage_emergency import scores
from medgym.patient.matching import topics as history_topics
from medgym.tasks.schema import (
    Chart,
    Concept,
    ExamFinding,
    GroundTruth,
    ImagingReport,
    Medication,
    Presentation,
    Task,
    ToolCall,
)
from medgym.tools import catalog

NAME = "triage_emergency"
PACKAGE = "medgym.domains.triage_emergency"
TaskType = Literal["triage", "diagnosis", "management", "disposition"]
RESOURCE_TYPES = {
    "labs", "ecg", "xray", "advanced_imaging", "iv_fluids", "iv_medication", "consultation",
    "simple_procedure", "complex_procedure",
}
Protocol = Literal["stemi", "stroke", "trauma", "sepsis", "massive_transfusion"]
PROTOCOLS = get_args(Protocol)
DISTRACTORS = [
    {"pmh": "Hyperlipidemia", "medication": {"name": "Atorvastatin", "dose": "20 mg", "frequency": "daily"}},
    {"pmh": "Hypothyroidism", "medication": {"name": "Levothyroxine", "dose": "75 mcg", "frequency": "daily"}},
    {"pmh": "Gastroesophageal reflux disease", "medication": {"name": "Omeprazole", "dose": "20 mg", "frequency": "daily"}},
    {"pmh": "Osteoarthritis of the knees", "medication": {"name": "Diclofenac gel 1%", "dose": "2 g", "frequency": "four times daily as needed"}},
    {"pmh": "Hypertension", "medication": {"name": "Lisinopril", "dose": "10 mg", "frequency": "daily"}},
    {"pmh": "Benign prostatic hyperplasia", "medication": {"name": "Tamsulosin", "dose": "0.4 mg", "frequency": "nightly"}, "male": True},
    {"pmh": "Type 2 diabetes mellitus", "medication": {"name": "Metformin", "dose": "500 mg", "frequency": "twice daily"}},
]
NORMAL_SURVEY = {
    "airway": "Patent; speaking in full sentences.",
    "breathing": "Unlabored; equal chest rise; no accessory muscle use.",
    "circulation": "Radial pulse strong; skin warm and dry; capillary refill under 2 seconds; no external bleeding.",
    "exposure": "No rash, wounds or deformity.",
}
AVPU_TEXT = {
    "A": "Alert and oriented (AVPU: A); pupils equal and reactive; moves all four limbs.",
    "V": "Drowsy; opens eyes and responds only to voice (AVPU: V).",
    "P": "Responds only to painful stimulus (AVPU: P).",
    "U": "Unresponsive to voice and pain (AVPU: U).",
}
NORMAL_TOX = {
    "mental_status": "Alert and oriented",
    "pupils": "3-4 mm, equal and reactive",
    "skin": "Warm, dry, normal color",
    "mucous_membranes": "Moist",
    "bowel_sounds": "Normal",
    "neuromuscular": "Normal tone and reflexes; no clonus, tremor or fasciculations",
}
SOCIAL = {"smoking": {"never": 0.55, "former": 0.25, "current": 0.2}, "alcohol": {"none": 0.35, "moderate": 0.55, "heavy": 0.1}}
TIME_HOURS = {"h1": 1, "h2": 2, "h4": 4, "h6": 6, "h8": 8, "h10": 10, "h12": 12, "h16": 16, "h20": 20}

INSTRUCTIONS = {
    "triage": (
        "Triage this patient with the Emergency Severity Index (ESI version 4). Decide in order: does the patient "
        "need an immediate life-saving intervention or are they unresponsive (ESI 1); is this a high-risk situation, "
        "new confusion, lethargy or disorientation, or severe pain of 7/10 or more (ESI 2); otherwise how many distinct "
        "resource types will the ED use (none: ESI 5, one: ESI 4, two or more: ESI 3, or ESI 2 with danger-zone vital "
        "signs: heart rate over 100, respiratory rate over 20 or SpO2 below 92%). Submit the level with submit_answer, "
        "e.g. \"ESI 3\"."
    ),
    "diagnosis": (
        "Identify the poisoning: examine for a toxidrome, take the exposure history, order the tests that confirm it, "
        "and submit the diagnosis with its ICD-10-CM code using submit_diagnosis."
    ),
    "management": (
        "Stabilize this patient: do the primary survey and the time-critical STAT orders, then submit the immediate "
        "treatment plan (antidotes and time-critical therapies, one per item) with submit_treatment_plan. Leave out "
        "anything contraindicated for this patient."
    ),
}
DISPOSITION_INSTRUCTIONS = {
    "tia": (
        "Decide whether this patient with a transient ischemic attack should be admitted, using the ABCD2 score as "
        "the AHA/ASA 2009 statement recommends (hospitalize within 72 hours if ABCD2 is 3 or more). Submit "
        "\"admit\" or \"discharge\" with submit_answer."
    ),
    "pneumonia": (
        "Decide where this patient with community-acquired pneumonia should be treated, using CURB-65 (0-1: home; 2 or "
        "more: admit; BTS 2009) and the IDSA/ATS 2019 minor criteria for severe pneumonia (3 or more: ICU). Submit "
        "\"discharge home\", \"admit to ward\" or \"admit to ICU\" with submit_answer."
    ),
    "asthma": (
        "This patient has received one hour of emergency treatment for an asthma exacerbation. Decide the disposition "
        "with the GINA 2023 peak-flow criteria (pre- and post-treatment PEF). Submit \"admit\" or \"discharge\" with "
        "submit_answer."
    ),
    "gi_bleed": (
        "Decide whether this patient with upper gastrointestinal bleeding needs admission, using the Glasgow-Blatchford "
        "score (ACG 2021: a score of 0-1 can be discharged with outpatient follow-up). Submit \"admit\" or \"discharge\" "
        "with submit_answer."
    ),
}
DISPOSITION_LABEL = {"discharge": "discharge", "admit": "admit", "admit_ward": "admit to ward", "admit_icu": "admit to ICU"}


# --- the template format -----------------------------------------------------------------------------


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Layer(_Model):
    """Fields that a template, a subtype and a variant may each set (later layers win; lists add up)."""

    complaints: list[str | Statement] | None = None
    opening: list[str | Statement] | None = None
    unable: str | None = None
    age: tuple[int, int] | None = None
    male: float | None = None
    vitals: dict[str, tuple[float, float]] = Field(default_factory=dict)
    avpu: list[Literal["A", "V", "P", "U"]] | None = None
    survey: dict[str, str] = Field(default_factory=dict)
    glucose: tuple[float, float] | None = None
    pain: tuple[int, int] | None = None
    tox: dict[str, str] = Field(default_factory=dict)
    monitor: dict[str, Any] = Field(default_factory=dict)
    ecg: list[dict[str, str]] | None = None
    exam: dict[str, str | list[str]] = Field(default_factory=dict)
    labs: dict[str, tuple[float, float] | str] = Field(default_factory=dict)
    imaging: dict[str, dict[str, str]] = Field(default_factory=dict)
    history: dict[str, Any] = Field(default_factory=dict)
    pmh: list[str] = Field(default_factory=list)
    medications: list[dict[str, str]] = Field(default_factory=list)
    comorbidities: dict[str, float] = Field(default_factory=dict)
    prehospital: list[str] | str | None = None
    confused: bool | None = None
    lifesaving: str | None = None
    high_risk: str | None = None
    resources: list[str] | None = None
    management: list[str] = Field(default_factory=list)
    contraindicated: list[str] = Field(default_factory=list)
    required: list[str] = Field(default_factory=list)
    note: str | None = None
    params: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _statements_state_only(self) -> "Layer":
        casekit.states_only([*(self.complaints or []), *(self.opening or [])])
        return self


class Modifier(_Model):
    id: str
    p: float
    male_only: bool = False
    history: dict[str, Any] = Field(default_factory=dict)
    contraindicated: list[str] = Field(default_factory=list)
    note: str


class Subtype(Layer):
    id: str
    weight: float = 1.0
    name: str | None = None
    icd10: str | None = None
    codes: list[str] = Field(default_factory=list)
    synonyms: list[str] = Field(default_factory=list)


class Variant(Layer):
    id: str
    weight: float = 1.0
    task_types: list[TaskType] | None = None
    modifiers: list[Modifier] = Field(default_factory=list)


class Diagnosis(_Model):
    name: str | None = None
    icd10: str | None = None
    codes: list[str] = Field(default_factory=list)
    synonyms: list[str] = Field(default_factory=list)


class Template(Layer):
    id: str
    name: str
    source: str
    heldout: bool = False
    task_types: dict[TaskType, float]
    subtypes: list[Subtype] = Field(default_factory=list)
    variants: list[Variant]
    diagnosis: Diagnosis | None = None
    hook: Literal["tia", "pneumonia", "asthma", "gi_bleed", "acetaminophen"] | None = None

    @model_validator(mode="after")
    def _consistent(self) -> "Template":
        for task_type in self.task_types:
            if not any(v.task_types is None or task_type in v.task_types for v in self.variants):
                raise ValueError(f"{self.id}: no variant allows task type {task_type}")
        if "diagnosis" in self.task_types and self.diagnosis is None:
            raise ValueError(f"{self.id}: diagnosis tasks need a diagnosis")
        if "disposition" in self.task_types and self.hook not in DISPOSITION_INSTRUCTIONS:
            raise ValueError(f"{self.id}: disposition tasks need a disposition hook")
        for v in self.variants:
            layers = [self, v]
            if "triage" in (v.task_types or self.task_types):
                decided = any(getattr(x, f) for x in layers for f in ("lifesaving", "high_risk", "confused")) or any(
                    x.resources is not None or (x.avpu and set(x.avpu) - {"A"}) for x in layers
                )
                if not decided:
                    raise ValueError(f"{self.id}/{v.id}: a triage variant must state lifesaving, high_risk, confused, avpu or resources")
            for r in v.resources or []:
                if r not in RESOURCE_TYPES:
                    raise ValueError(f"{self.id}/{v.id}: unknown resource type {r!r}; use one of {sorted(RESOURCE_TYPES)}")
        return self


class Library(_Model):
    concepts: dict[str, Concept]
    dispositions: dict[str, list[str]]
    templates: dict[str, Template]

    @model_validator(mode="after")
    def _references(self) -> "Library":
        for t in self.templates.values():
            for layer in [t, *t.subtypes, *t.variants]:
                casekit.check_references(t.id, self.concepts, [*layer.management, *layer.contraindicated],
                                         layer.history, layer.labs, layer.imaging)
                for action in layer.required:
                    name, _, arg = action.partition(":")
                    if name == "activate_protocol" and arg not in PROTOCOLS:
                        raise ValueError(f"{t.id}: unknown protocol {arg!r}")
        return self


@cache
def library() -> Library:
    """The parsed and checked template file."""
    return casekit.load_library(PACKAGE, Library)


@cache
def toxicology() -> dict[str, Any]:
    return casekit.load_yaml(PACKAGE, "toxicology.yaml")


# --- building one case ---------------------------------------------------------------------------------


_LISTS = ("pmh", "medications", "management", "contraindicated", "required")
_DICTS = ("vitals", "survey", "tox", "monitor", "exam", "labs", "imaging", "history", "comorbidities", "params")


def merge(*layers: Layer) -> Layer:
    """Overlay layers: dicts merge, the listed lists add up, other fields take the last value set."""
    out: dict[str, Any] = {}
    for field in Layer.model_fields:
        values = [getattr(layer, field) for layer in layers]
        if field in _DICTS:
            out[field] = {k: v for d in values for k, v in d.items()}
        elif field in _LISTS:
            out[field] = [x for v in values for x in v]
        elif field == "prehospital":
            texts = [v for v in values if v]
            out[field] = texts or None
        else:
            out[field] = next((v for v in reversed(values) if v is not None), None)
    return Layer.model_construct(**out)


def build_case(template: Template, task_type: str, index: int, seed: int) -> Task:
    """One case of `template` for `task_type`, fully determined by `seed`."""
    rng = random.Random(seed)
    variants = [v for v in template.variants if v.task_types is None or task_type in v.task_types]
    variant = casekit.weighted(rng, variants)
    subtype = casekit.weighted(rng, template.subtypes) if template.subtypes else None
    layers = [template, *([subtype] if subtype else []), variant]
    spec = merge(*layers)

    sex = "male" if rng.random() < (spec.male if spec.male is not None else 0.5) else "female"
    age = rng.randint(*(spec.age or (18, 80)))
    notes: list[str] = [spec.note] if spec.note else []
    history_spec = dict(spec.history)
    contraindicated = list(spec.contraindicated)
    for m in variant.modifiers:
        if (not m.male_only or sex == "male") and rng.random() < m.p:
            history_spec.update(m.history)
            contraindicated += m.contraindicated
            notes.append(m.note)

    vitals = casekit.vitals(rng, spec.vitals, sex)
    history = casekit.facts(rng, history_spec)
    history += casekit.facts(rng, {t: s for t, s in SOCIAL.items() if t not in history_spec})
    if sex == "male" and "pde5_inhibitor_use" not in history_spec:
        history.append(casekit.fact(rng, "pde5_inhibitor_use", False))

    pmh = list(dict.fromkeys(spec.pmh))
    medications = [Medication(**m) for m in spec.medications]
    for condition, p in sorted(spec.comorbidities.items()):
        if condition not in pmh and rng.random() < p:
            pmh.append(condition)
    for d in rng.sample(DISTRACTORS, rng.choice([0, 1, 1, 2])):
        if d["pmh"] not in pmh and (sex == "male" or not d.get("male")):
            pmh.append(d["pmh"])
            medications.append(Medication(**d["medication"]))

    avpu = rng.choice(spec.avpu or ["A"])
    survey = {**NORMAL_SURVEY, "disability": AVPU_TEXT[avpu], **spec.survey}
    glucose = round(rng.uniform(*spec.glucose)) if spec.glucose else round(rng.uniform(82, 138))
    pain = rng.randint(*spec.pain) if spec.pain else None
    tox = {**NORMAL_TOX, **spec.tox}
    monitor = _monitor(rng, spec.monitor, vitals.heart_rate)

    exam = [ExamFinding(system=s, finding=rng.choice(v) if isinstance(v, list) else v, abnormal=True) for s, v in spec.exam.items()]
    labs = {}
    for test, v in spec.labs.items():
        value = v if isinstance(v, str) else casekit.uniform(rng, v, catalog.labs()[test].get("decimals", 0))
        labs[test] = catalog.lab_result(test, value, sex)
    imaging = {s: ImagingReport(study=s, name=catalog.studies()[s]["name"], abnormal=True, **r) for s, r in spec.imaging.items()}
    if spec.ecg:
        r = {k: v.format(qrs=monitor["qrs_ms"], hr=vitals.heart_rate) for k, v in rng.choice(spec.ecg).items()}
        imaging["ecg"] = ImagingReport(study="ecg", name=catalog.ecg_study()["name"], abnormal=True, **r)

    prehospital = " ".join(
        [rng.choice(spec.prehospital[0]) if isinstance(spec.prehospital[0], list) else spec.prehospital[0], *spec.prehospital[1:]]
    ) if spec.prehospital else "Walked in to triage; no prehospital care."
    complaint = casekit.say(rng, spec.complaints or [], history, "feeling unwell")
    extra: dict[str, Any] = {
        "primary_survey": survey,
        "avpu": avpu,
        "poc_glucose": glucose,
        "pain_score": pain,
        "prehospital": prehospital,
        "toxidrome_exam": tox,
        "monitor": monitor,
        "arrival": "ambulance" if spec.prehospital else "walk-in",
    }
    if spec.unable:
        extra["unable_to_answer"] = spec.unable

    chart = Chart(history=history, past_medical_history=pmh, medications=medications, exam=exam, labs=labs, imaging=imaging, extra=extra)
    draft = Draft(template, variant, subtype, spec, task_type, age, sex, vitals, chart, rng, notes, contraindicated)
    if template.hook:
        HOOKS[template.hook](draft)

    esi_inputs = scores.EsiInputs(
        lifesaving=bool(spec.lifesaving), unresponsive=avpu in ("P", "U"), high_risk=bool(spec.high_risk),
        confused=bool(spec.confused) or avpu == "V", pain=pain, resources=len(set(spec.resources or [])),
        heart_rate=vitals.heart_rate, respiratory_rate=vitals.respiratory_rate, spo2=vitals.spo2,
    )
    level, why = scores.esi_level(esi_inputs)
    reasons = [why] + [r for r in (spec.lifesaving, spec.high_risk) if r]
    truth = _truth(draft, level, reasons)
    presentation = Presentation(
        age=age, sex=sex, chief_complaint=complaint, vitals=vitals, setting="emergency department",
        opening_statement="" if spec.unable else casekit.say(rng, spec.opening or [], chart.history,
                                                                 f"I'm here because of {complaint}."),
    )
    subject = f"ESI {level} ({why})" if task_type == "triage" else draft.answer_text
    rationale = " ".join([f"{template.name}: {variant.id}.", f"Answer: {subject}.", *reasons[1:], *notes, *draft.notes_extra]).strip()
    return Task(
        id=f"ed-{template.id}-{index:03d}",
        domain=NAME,
        task_type=task_type,
        specialty="emergency_medicine",
        condition=template.id,
        split="heldout" if template.heldout else "train",
        instructions=draft.instructions or INSTRUCTIONS[task_type],
        presentation=presentation,
        chart=chart,
        truth=truth,
        rationale=rationale,
        source=template.source,
        seed=seed,
    )


class Draft:
    """A case under construction, handed to a template's hook."""

    def __init__(self, template, variant, subtype, spec, task_type, age, sex, vitals, chart, rng, notes, contraindicated):
        self.template, self.variant, self.subtype, self.spec = template, variant, subtype, spec
        self.task_type, self.age, self.sex, self.vitals, self.chart, self.rng = task_type, age, sex, vitals, chart, rng
        self.notes, self.contraindicated = notes, contraindicated
        self.notes_extra: list[str] = []
        self.disposition: str | None = None
        self.instructions: str | None = None
        self.answer_text = ""
        self.extra_demo: list[ToolCall] = []

    def history_value(self, topic: str) -> Any:
        return next((f.value for f in self.chart.history if f.topic == topic), None)

    def set_lab(self, test: str, value: float | str) -> None:
        self.chart.labs[test] = catalog.lab_result(test, value, self.sex)


def _monitor(rng: random.Random, spec: dict[str, Any], heart_rate: int) -> dict[str, Any]:
    rhythm = spec.get("rhythm") or ("sinus tachycardia" if heart_rate > 100 else "sinus bradycardia" if heart_rate < 60 else "sinus rhythm")
    qrs = round(rng.uniform(*spec.get("qrs", (80, 100))))
    return {"rhythm": rhythm, "qrs_ms": qrs}


# --- hooks: the answer of a disposition or level-dependent task ------------------------------------------


def _hook_tia(d: Draft) -> None:
    symptom, duration = d.history_value("tia_symptom"), d.history_value("tia_duration")
    diabetes = any("diabetes" in p.lower() for p in d.chart.past_medical_history)
    score = scores.abcd2(d.age, d.vitals.systolic_bp, d.vitals.diastolic_bp, symptom, duration, diabetes)
    d.disposition = scores.tia_disposition(score)
    d.instructions = DISPOSITION_INSTRUCTIONS["tia"]
    features = {"weakness": "unilateral_weakness", "speech": "speech_disturbance_without_weakness"}.get(symptom, "other")
    minutes = {"lt10": 5, "m10_59": 30, "ge60": 90}[duration]
    d.extra_demo.append(casekit.call("calculate_abcd2", age_years=d.age, systolic_bp_mmhg=d.vitals.systolic_bp,
                                     diastolic_bp_mmhg=d.vitals.diastolic_bp, clinical_features=features,
                                     duration_minutes=minutes, diabetes=diabetes))
    d.notes_extra.append(f"ABCD2 {score}.")


def _hook_pneumonia(d: Draft) -> None:
    labs, v = d.chart.labs, d.vitals
    confused = bool(d.spec.confused)
    bun = float(labs["bun"].value)
    curb = scores.curb65(confused, bun, v.respiratory_rate, v.systolic_bp, v.diastolic_bp, d.age)
    multilobar = "Multilobar" in d.chart.imaging["chest_xray"].impression
    minor = scores.severe_cap_minor_criteria(
        v.respiratory_rate, float(labs["pao2"].value) / 0.21, multilobar, confused, bun,
        float(labs["wbc"].value), float(labs["platelets"].value), v.temperature_c, v.systolic_bp,
    )
    d.disposition = scores.pneumonia_disposition(curb, minor)
    d.instructions = DISPOSITION_INSTRUCTIONS["pneumonia"]
    d.notes_extra.append(f"CURB-65 {curb}; IDSA/ATS minor criteria {minor}.")


def _hook_asthma(d: Draft) -> None:
    pre = round(d.rng.uniform(*d.spec.params["pre"]))
    post = round(d.rng.uniform(*d.spec.params["post"]))
    best = d.rng.randrange(380, 620, 10)
    d.chart.extra["peak_flow"] = {"personal_best_l_min": best, "pre_percent": pre, "post_percent": post}
    d.disposition = scores.asthma_disposition(pre, post)
    d.instructions = DISPOSITION_INSTRUCTIONS["asthma"]
    d.notes_extra.append(f"PEF {pre}% before and {post}% after treatment.")


def _hook_gi_bleed(d: Draft) -> None:
    low = d.variant.id == "low_risk"
    if d.sex == "male":
        hb = d.rng.uniform(13.3, 15.8) if low else d.rng.uniform(7.6, 11.8)
    else:
        hb = d.rng.uniform(12.3, 14.6) if low else d.rng.uniform(7.2, 11.6)
    d.set_lab("hemoglobin", round(hb, 1))
    pmh = " ".join(d.chart.past_medical_history).lower()
    score = scores.glasgow_blatchford(
        float(d.chart.labs["bun"].value), float(d.chart.labs["hemoglobin"].value), d.sex, d.vitals.systolic_bp,
        d.vitals.heart_rate, bool(d.history_value("melena")), bool(d.history_value("syncope")),
        "cirrhosis" in pmh, "heart failure" in pmh,
    )
    d.disposition = scores.gi_bleed_disposition(score)
    d.instructions = DISPOSITION_INSTRUCTIONS["gi_bleed"] if d.task_type == "disposition" else None
    d.notes_extra.append(f"Glasgow-Blatchford score {score}.")


def _hook_acetaminophen(d: Draft) -> None:
    hours = TIME_HOURS[d.history_value("ingestion_time")]
    line = scores.rumack_matthew_line(hours)
    level = round(line * d.rng.uniform(*d.spec.params["apap_ratio"]))
    d.set_lab("acetaminophen_level", level)
    d.notes_extra.append(f"Acetaminophen {level} mcg/mL at {hours} h; treatment line {line:.0f} mcg/mL.")


HOOKS = {"tia": _hook_tia, "pneumonia": _hook_pneumonia, "asthma": _hook_asthma, "gi_bleed": _hook_gi_bleed,
         "acetaminophen": _hook_acetaminophen}


# --- ground truth and the oracle's demonstration ---------------------------------------------------------


def _truth(d: Draft, level: int, reasons: list[str]) -> GroundTruth:
    lib, spec, t = library(), d.spec, d.template
    concepts = lambda ids: [lib.concepts[i] for i in dict.fromkeys(ids)]  # noqa: E731
    key_findings = [f.finding for f in d.chart.exam] + [
        f"{r.name}: {r.value} {r.unit}".strip() for r in d.chart.labs.values() if r.flag != "normal"
    ] + [f"{r.name}: {r.impression}" for r in d.chart.imaging.values()]
    truth = GroundTruth(required_actions=list(dict.fromkeys(["read_vitals", "primary_survey", *spec.required])),
                        key_findings=key_findings)
    if d.task_type == "triage":
        truth.final_tool = "submit_answer"
        truth.answer = f"ESI {level}"
        truth.accepted_answers = [f"ESI {level}", str(level), f"level {level}", f"ESI level {level}", f"triage level {level}"]
        d.answer_text = truth.answer
    elif d.task_type == "disposition":
        truth.final_tool = "submit_answer"
        label = DISPOSITION_LABEL[d.disposition]
        truth.answer = label
        truth.accepted_answers = [label, *lib.dispositions[d.disposition]]
        d.answer_text = label
    elif d.task_type == "diagnosis":
        dx = t.diagnosis
        sub = d.subtype
        name = (sub.name if sub and sub.name else None) or dx.name or t.name
        icd = (sub.icd10 if sub and sub.icd10 else None) or dx.icd10
        codes = list(dict.fromkeys([*(sub.codes if sub else []), *dx.codes]))
        synonyms = list(dict.fromkeys([name, *(sub.synonyms if sub else []), *dx.synonyms]))
        truth.final_tool = "submit_diagnosis"
        truth.diagnosis, truth.icd10, truth.accepted_codes, truth.synonyms = name, icd, codes, synonyms
        d.answer_text = f"{name} ({icd})"
    else:
        truth.final_tool = "submit_treatment_plan"
        truth.diagnosis = t.name
        truth.management = concepts(spec.management)
        truth.contraindicated = concepts(d.contraindicated)
        d.answer_text = "plan: " + ", ".join(c.label for c in truth.management)
    truth.demonstration = _demonstration(d, truth)
    return truth


def _demonstration(d: Draft, truth: GroundTruth) -> list[ToolCall]:
    """The oracle's encounter: primary survey, the decisive bedside tools and tests, then the answer."""
    c, chart, spec = casekit.call, d.chart, d.spec
    calls = [c("read_vitals"), c("primary_survey")]
    if chart.extra["arrival"] == "ambulance":
        calls.append(c("review_prehospital_report"))
    if "unable_to_answer" not in chart.extra:
        for fact in chart.history:
            if fact.category in ("hpi", "ros", "obstetric", "medications") and fact.value not in (False, "none") and fact.topic != "pde5_inhibitor_use":
                calls.append(c("ask_patient", question=history_topics()[fact.topic]["questions"][0]))
            elif fact.topic == "pde5_inhibitor_use" and fact.value is True:
                calls.append(c("ask_patient", question=history_topics()[fact.topic]["questions"][0]))
    if chart.past_medical_history or chart.medications:
        calls += [c("review_medical_history"), c("review_medications")]
    if chart.extra["pain_score"] is not None:
        calls.append(c("pain_scale"))
    glucose = chart.extra["poc_glucose"]
    if glucose < 70 or glucose > 180 or any(a == "point_of_care_glucose" for a in truth.required_actions):
        calls.append(c("point_of_care_glucose"))
    if chart.extra["toxidrome_exam"] != NORMAL_TOX or d.task_type == "diagnosis":
        calls.append(c("toxidrome_exam"))
    if chart.extra["monitor"]["qrs_ms"] > 100 or chart.extra["monitor"]["rhythm"] not in ("sinus rhythm", "sinus tachycardia") or "cardiac_monitor" in truth.required_actions:
        calls.append(c("cardiac_monitor"))
    for system in dict.fromkeys(f.system for f in chart.exam):
        calls.append(c("examine", system=system))
    if "ecg" in chart.imaging:
        calls.append(c("order_ecg"))
    for test, r in chart.labs.items():
        if r.flag != "normal" or test in ("bun", "wbc", "platelets", "pao2", "hemoglobin", "acetaminophen_level", "salicylate_level"):
            calls.append(c("order_lab", test=test))
    for study in chart.imaging:
        if study != "ecg":
            calls.append(c("order_imaging", study=study))
    if "peak_flow" in chart.extra:
        calls.append(c("measure_peak_flow"))
    if d.template.hook == "acetaminophen":
        hours = TIME_HOURS[d.history_value("ingestion_time")]
        calls.append(c("rumack_matthew_nomogram", hours_since_ingestion=hours, acetaminophen_level=float(chart.labs["acetaminophen_level"].value)))
    for action in truth.required_actions:
        name, _, arg = action.partition(":")
        key = {"order_lab": "test", "order_imaging": "study", "activate_protocol": "protocol", "examine": "system"}.get(name)
        call = c(name, **({key: arg} if key else {}))
        if call not in calls:
            calls.insert(len(calls), call)
    if d.template.id == "sepsis":
        v = d.vitals
        calls.append(c("calculate_qsofa", respiratory_rate_per_min=v.respiratory_rate, systolic_bp_mmhg=v.systolic_bp,
                       altered_mentation=chart.extra["avpu"] != "A"))
    calls += d.extra_demo
    calls = list({(x.name, str(sorted(x.arguments.items()))): x for x in calls}.values())
    calls.append(_final_call(truth))
    return calls


def _final_call(truth: GroundTruth) -> ToolCall:
    if truth.final_tool == "submit_treatment_plan":
        return ToolCall(name="submit_treatment_plan", arguments={"plan": [m.label for m in truth.management], "diagnosis": truth.diagnosis})
    if truth.final_tool == "submit_diagnosis":
        return ToolCall(name="submit_diagnosis", arguments={"diagnosis": truth.diagnosis, "icd10_code": truth.icd10})
    return ToolCall(name="submit_answer", arguments={"answer": truth.answer})


# --- the domain's task list ---------------------------------------------------------------------------------


CASES_PER_TEMPLATE = 12


def generate(seed: int) -> list[Task]:
    from medgym.encounter import stable_seed

    tasks = []
    for template in library().templates.values():
        for i in range(CASES_PER_TEMPLATE):
            case_seed = stable_seed(seed, NAME, template.id, i)
            task_type = choose(random.Random(case_seed ^ 0x7A1A6E), dict(template.task_types))
            tasks.append(build_case(template, task_type, i, case_seed))
    return tasks
