"""Build psychiatric cases from `templates.yaml` and `instruments.yaml`, seeded.

A case draws the symptoms of its disorder (then makes the DSM-5-TR symptom count hold),
derives every questionnaire's item responses from those symptoms, and sets the answer
from the published scoring: PHQ-9 and GAD-7 bands, the AUDIT-C cut-offs, the C-SSRS
screen triage points, the CIWA-Ar bands of the ASAM guideline.
"""

from __future__ import annotations

import random
from functools import cache
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from medgym.domains import casekit
from medgym.domains.conditions import Statement, choose
from medgym.patient.matching import topics as history_topics
from medgym.tasks.schema import Chart, Concept, GroundTruth, Medication, Presentation, Task, ToolCall
from medgym.tools import catalog

NAME = "psychiatry"
PACKAGE = "medgym.domains.psychiatry"
TaskType = Literal["diagnosis", "management", "assessment", "risk_stratification"]
Instrument = Literal["phq9", "gad7", "audit_c", "cssrs", "ciwa_ar"]
CASES_PER_TEMPLATE = 28

NORMAL_MSE = {
    "appearance": "Appropriately dressed and groomed.",
    "behavior": "Calm and cooperative; good eye contact.",
    "speech": "Normal rate, rhythm and volume.",
    "mood": "\"Okay.\"",
    "affect": "Euthymic, full range, congruent.",
    "thought_process": "Linear and goal-directed.",
    "thought_content": "No suicidal or homicidal ideation; no delusions.",
    "perception": "No hallucinations.",
    "cognition": "Alert and oriented to person, place and time.",
    "insight": "Good.",
    "judgment": "Good.",
}
NORMAL_COGNITION = {
    "orientation": "Oriented to person, place, date and time.",
    "attention": "Recites the months of the year backwards without error.",
    "recall": "Recalls 3 of 3 words at five minutes.",
}
# Symptom topics a psychiatric interview covers; a case answers "no" to those it does not have.
REVIEW = [
    "depressed_mood", "anhedonia", "sleep_disturbance", "fatigue", "weight_change", "worthlessness", "poor_concentration",
    "psychomotor_change", "suicidal_thoughts", "suicide_plan", "prior_episodes", "past_mania", "elevated_mood",
    "decreased_need_for_sleep", "grandiosity", "racing_thoughts", "risky_behavior", "excessive_worry", "restlessness",
    "muscle_tension", "irritability", "panic_attacks", "fear_of_attacks", "trauma_exposure", "intrusive_memories",
    "trauma_avoidance", "hypervigilance", "hallucinations", "paranoia", "morning_drinking", "opioid_use", "confusion",
    "anxiety_symptoms", "palpitations", "recent_stressor",
]
PHQ9_TOPICS = ["anhedonia", "depressed_mood", "sleep_disturbance", "fatigue", "weight_change", "worthlessness",
               "poor_concentration", "psychomotor_change", "suicidal_thoughts"]
GAD7_TOPICS = ["excessive_worry", "excessive_worry", "excessive_worry", "muscle_tension", "restlessness", "irritability", "excessive_worry"]
CSSRS_ITEMS = ["wish_dead", "suicidal_thoughts", "method", "intent", "plan"]
SETTING_VITALS = {
    "default": {},
    "withdrawal": {"heart_rate": (98, 124), "systolic_bp": (138, 168), "diastolic_bp": (86, 102), "temperature_c": (37.1, 37.8)},
    "mania": {"heart_rate": (84, 108)},
    "delirium": {"heart_rate": (88, 112), "temperature_c": (37.0, 38.3)},
}
INSTRUCTIONS = {
    "diagnosis": ("Take a psychiatric history, examine the mental state, gather what else you need, and submit the DSM-5-TR "
                  "diagnosis with its ICD-10-CM code using submit_diagnosis."),
    "management": ("Establish the diagnosis and submit the first-line treatment plan that APA or NICE guidelines recommend with "
                   "submit_treatment_plan, one intervention per item. Leave out anything contraindicated for this patient."),
    "safety_plan": ("This patient needs a suicide risk assessment before leaving the emergency department. Assess the risk, then "
                    "submit a Stanley-Brown safety plan (its six elements, one per item), adding the level of care if the risk "
                    "calls for hospitalization, with submit_treatment_plan."),
    "risk_stratification": ("Assess this patient's suicide risk with the Columbia-Suicide Severity Rating Scale screen and its triage "
                            "points, and submit \"low\", \"moderate\" or \"high\" risk with submit_answer."),
    "phq9": ("Screen this patient for depression with the PHQ-9 and submit the severity band (minimal, mild, moderate, moderately "
             "severe or severe; Kroenke 2001) with submit_answer."),
    "gad7": ("Screen this patient for anxiety with the GAD-7 and submit the severity band (minimal, mild, moderate or severe; "
             "Spitzer 2006) with submit_answer."),
    "audit_c": ("Screen this patient for unhealthy alcohol use with the AUDIT-C and submit \"positive\" or \"negative\" (positive at 4 "
                "or more for men and 3 or more for women) with submit_answer."),
    "ciwa_ar": ("Rate this patient's alcohol withdrawal with the CIWA-Ar and submit its severity (mild below 10, moderate 10-18, "
                "severe 19 or more; ASAM 2020) with submit_answer."),
}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Diagnosis(_Model):
    name: str
    icd10: str
    codes: list[str] = Field(default_factory=list)
    synonyms: list[str] = Field(default_factory=list)


class Count(_Model):
    n: int
    of: list[str]
    including: list[str] = Field(default_factory=list)


class Layer(_Model):
    complaints: list[str | Statement] | None = None
    opening: list[str | Statement] | None = None
    age: tuple[int, int] | None = None
    symptoms: dict[str, Any] = Field(default_factory=dict)
    mse: dict[str, str | list[str]] = Field(default_factory=dict)
    psych_history: dict[str, list[str]] = Field(default_factory=dict)
    collateral: list[str] | None = None
    risk: dict[str, list[str]] = Field(default_factory=dict)
    cognition: dict[str, str] = Field(default_factory=dict)
    labs: dict[str, tuple[float, float] | str] = Field(default_factory=dict)
    pmh: list[str] = Field(default_factory=list)
    medications: list[dict[str, str]] = Field(default_factory=list)
    pdmp: list[str] | None = None
    management: list[str] = Field(default_factory=list)
    contraindicated: list[str] = Field(default_factory=list)
    note: str | None = None

    @model_validator(mode="after")
    def _statements_state_only(self) -> "Layer":
        casekit.states_only([*(self.complaints or []), *(self.opening or [])])
        return self


class Variant(Layer):
    id: str
    weight: float = 1.0
    task_types: list[TaskType] | None = None
    cssrs: dict[str, bool | str] | None = None
    ciwa: tuple[int, int] | None = None
    audit: list[tuple[int, int]] | None = None
    diagnosis_override: Diagnosis | None = None


class Template(Layer):
    id: str
    name: str
    source: str
    heldout: bool = False
    task_types: dict[TaskType, float]
    instrument: Instrument | None = None
    male: float = 0.5
    setting: str
    diagnosis: Diagnosis | None = None
    dsm: dict[Literal["at_least", "at_most"], Count] = Field(default_factory=dict)
    brac: float | None = None
    variants: list[Variant]
    hook: Literal["depression", "mania", "alcohol_use", "suicide"] | None = None

    @model_validator(mode="after")
    def _consistent(self) -> "Template":
        for task_type in self.task_types:
            if not any(v.task_types is None or task_type in v.task_types for v in self.variants):
                raise ValueError(f"{self.id}: no variant allows task type {task_type}")
        if "assessment" in self.task_types and self.instrument not in ("phq9", "gad7", "audit_c", "ciwa_ar"):
            raise ValueError(f"{self.id}: assessment tasks need a scored instrument")
        if "diagnosis" in self.task_types and self.diagnosis is None and not all(v.diagnosis_override for v in self.variants):
            raise ValueError(f"{self.id}: diagnosis tasks need a diagnosis")
        return self


class Library(_Model):
    concepts: dict[str, Concept]
    templates: dict[str, Template]

    @model_validator(mode="after")
    def _references(self) -> "Library":
        for t in self.templates.values():
            for layer in [t, *t.variants]:
                casekit.check_references(t.id, self.concepts, [*layer.management, *layer.contraindicated],
                                         layer.symptoms, layer.labs)
        return self


@cache
def library() -> Library:
    """The parsed and checked template file."""
    return casekit.load_library(PACKAGE, Library)


@cache
def instruments() -> dict[str, Any]:
    return casekit.load_yaml(PACKAGE, "instruments.yaml")["instruments"]


# --- scoring (the published rules) ----------------------------------------------------------------------


def band(instrument: str, total: int) -> str:
    """The severity band of a PHQ-9, GAD-7 or CIWA-Ar total."""
    for low, high, name in instruments()[instrument]["bands"]:
        if low <= total <= high:
            return name
    raise ValueError(f"{instrument} total {total} is outside the scale")


def points(instrument: str, responses: list[str]) -> list[int]:
    """Item points for PHQ-9, GAD-7 or AUDIT-C option texts."""
    spec = instruments()[instrument]
    if instrument == "audit_c":
        return [item["options"][r] for item, r in zip(spec["items"], responses)]
    return [spec["options"][r] for r in responses]


def audit_c_positive(total: int, sex: str) -> bool:
    """AUDIT-C is positive at 4 or more for men and 3 or more for women (Bush 1998; Bradley 2003)."""
    return total >= instruments()["audit_c"]["positive"][sex]


def cssrs_risk(answers: dict[str, bool | str]) -> str:
    """C-SSRS screen triage: yes to 4 or 5, or behavior in the past 3 months: high; yes to 3, or behavior
    more than 3 months ago: moderate; yes to 1 or 2 only: low; nothing endorsed: none."""
    behavior = answers.get("behavior", "none")
    if answers.get("intent") or answers.get("plan") or behavior == "past_3_months":
        return "high"
    if answers.get("method") or behavior == "lifetime":
        return "moderate"
    if answers.get("wish_dead") or answers.get("suicidal_thoughts"):
        return "low"
    return "none"


# --- building one case -----------------------------------------------------------------------------------


def _merge(template: Template, variant: Variant) -> Layer:
    out: dict[str, Any] = {}
    for field in Layer.model_fields:
        a, b = getattr(template, field), getattr(variant, field)
        if isinstance(a, dict):
            out[field] = {**a, **b}
        elif field in ("pmh", "medications", "management", "contraindicated"):
            out[field] = [*a, *b]
        else:
            out[field] = b if b is not None else a
    return Layer.model_construct(**out)


def _present(value: Any) -> bool:
    return value not in (False, None, "none")


def _sample_symptoms(rng: random.Random, spec: dict[str, Any], dsm: dict[str, Count]) -> dict[str, bool | str]:
    """Symptom values drawn from `spec`, then adjusted until the DSM-5-TR counts hold (fixed values never move)."""
    fixed = {t for t, s in spec.items() if isinstance(s, (bool, str)) or (isinstance(s, dict) and len(s) == 1)}
    values: dict[str, bool | str] = {}
    for topic, s in spec.items():
        if isinstance(s, dict):
            values[topic] = choose(rng, s)
        elif isinstance(s, (bool, str)):
            values[topic] = s
        else:
            values[topic] = rng.random() < float(s)
    if "at_least" in dsm:
        rule = dsm["at_least"]
        if rule.including and not any(_present(values.get(t)) for t in rule.including):
            values[rng.choice(rule.including)] = True
        while sum(_present(values.get(t)) for t in rule.of) < rule.n:
            options = [t for t in rule.of if not _present(values.get(t)) and t not in fixed]
            topic = rng.choice(options)
            values[topic] = "loss" if topic == "weight_change" else True
    if "at_most" in dsm:
        rule = dsm["at_most"]
        while sum(_present(values.get(t)) for t in rule.of) > rule.n:
            options = [t for t in rule.of if _present(values.get(t)) and t not in fixed]
            topic = rng.choice(options)
            values[topic] = "none" if topic == "weight_change" else False
    return values


def _frequency(rng: random.Random, present: bool) -> int:
    return rng.choice([2, 3, 3]) if present else rng.choice([0, 0, 0, 1])


def _ciwa_items(rng: random.Random, target: tuple[int, int] | None) -> dict[str, int]:
    items = instruments()["ciwa_ar"]["items"]
    allowed = {k: sorted(int(p) for p in v) for k, v in items.items()}
    if target is None:
        return {k: 0 for k in items}
    low, high = target
    for _ in range(2000):
        scores = {}
        level = rng.uniform(0.1, 0.9)
        for k, options in allowed.items():
            weights = [max(0.02, 1 - abs(o / max(options) - level) * 2.2) for o in options]
            if k in ("tactile_disturbances", "auditory_disturbances", "visual_disturbances", "orientation"):
                weights = [w * (3 if o == 0 else 1) for w, o in zip(weights, options)]
            scores[k] = rng.choices(options, weights=weights)[0]
        if low <= sum(scores.values()) <= high:
            return scores
    raise RuntimeError(f"could not draw CIWA-Ar items totalling {target}")


def build_case(template: Template, task_type: str, index: int, seed: int) -> Task:
    rng = random.Random(seed)
    variants = [v for v in template.variants if v.task_types is None or task_type in v.task_types]
    variant = casekit.weighted(rng, variants)
    spec = _merge(template, variant)
    sex = "male" if rng.random() < template.male else "female"
    age = rng.randint(*(spec.age or (18, 75)))

    symptoms = _sample_symptoms(rng, spec.symptoms, template.dsm)
    cssrs = dict(variant.cssrs) if variant.cssrs else None
    if cssrs is None:
        thoughts = bool(symptoms.get("suicidal_thoughts"))
        cssrs = {"wish_dead": thoughts, "suicidal_thoughts": thoughts, "method": False, "intent": False, "plan": False, "behavior": "none"}
    else:
        symptoms["suicidal_thoughts"] = bool(cssrs["suicidal_thoughts"])
    symptoms.setdefault("suicide_plan", bool(cssrs["plan"]))
    symptoms.setdefault("alcohol", choose(rng, {"none": 0.4, "moderate": 0.6}))
    symptoms.setdefault("smoking", choose(rng, {"never": 0.55, "former": 0.2, "current": 0.25}))
    for topic in REVIEW:
        if topic not in symptoms:
            values = history_topics()[topic].get("values")
            if values is None:
                symptoms[topic] = False
            elif "none" in values:
                symptoms[topic] = "none"
    history = [casekit.fact(rng, t, v) for t, v in symptoms.items()]

    phq9 = [_frequency(rng, _present(symptoms.get(t))) for t in PHQ9_TOPICS]
    if not (cssrs["wish_dead"] or cssrs["suicidal_thoughts"]):
        phq9[8] = 0
    elif phq9[8] == 0:
        phq9[8] = rng.choice([1, 2])
    gad7 = [_frequency(rng, _present(symptoms.get(t))) for t in GAD7_TOPICS]
    audit_ranges = variant.audit or {"none": [(0, 0), (0, 0), (0, 0)], "moderate": [(1, 2), (0, 0), (0, 0)],
                                     "heavy": [(3, 4), (2, 4), (2, 4)]}[str(symptoms["alcohol"])]
    audit = [rng.randint(*r) for r in audit_ranges]
    ciwa = _ciwa_items(rng, variant.ciwa)

    options = {v: k for k, v in instruments()["phq9"]["options"].items()}
    audit_text = [list(item["options"])[p] for item, p in zip(instruments()["audit_c"]["items"], audit)]
    responses = {
        "phq9": [options[p] for p in phq9],
        "gad7": [options[p] for p in gad7],
        "audit_c": audit_text,
        "cssrs": cssrs,
        "ciwa_ar": ciwa,
    }

    mse = {**NORMAL_MSE, **{k: rng.choice(v) if isinstance(v, list) else v for k, v in spec.mse.items()}}
    if "thought_content" not in spec.mse or variant.cssrs:
        mse["thought_content"] = _thought_content(cssrs, mse["thought_content"])
    cognition = {**NORMAL_COGNITION, **spec.cognition}
    if spec.cognition:
        mse["cognition"] = cognition["orientation"] + " " + cognition["attention"]
    psych_history = {k: rng.choice(v) for k, v in spec.psych_history.items()}
    risk = {k: [rng.choice(v)] if k == "lethal_means" else rng.sample(v, min(len(v), 2)) for k, v in spec.risk.items()}
    labs = {}
    for test, v in spec.labs.items():
        value = v if isinstance(v, str) else casekit.uniform(rng, v, catalog.labs()[test].get("decimals", 0))
        labs[test] = casekit.lab(test, value, sex)
    vitals_kind = {"alcohol_withdrawal": "withdrawal", "bipolar_mania": "mania", "delirium": "delirium"}.get(template.id, "default")
    vitals = casekit.vitals(rng, SETTING_VITALS[vitals_kind], sex)
    extra = {
        "mse": mse,
        "instruments": responses,
        "psych_history": psych_history or {"diagnoses": "No prior psychiatric diagnosis."},
        "collateral": rng.choice(spec.collateral) if spec.collateral else "No family member or friend is available to speak with.",
        "risk_factors": risk,
        "pdmp": spec.pdmp or ["No controlled substance prescriptions in the past 12 months."],
        "cognition": cognition,
        "brac": template.brac if template.brac is not None else (round(rng.uniform(0.0, 0.02), 3) if symptoms["alcohol"] == "moderate" else 0.0),
    }
    chart = Chart(history=history, past_medical_history=list(spec.pmh), medications=[Medication(**m) for m in spec.medications],
                  labs=labs, extra=extra)
    complaint = casekit.say(rng, spec.complaints or [], history, "feeling unwell")
    presentation = Presentation(age=age, sex=sex, chief_complaint=complaint, vitals=vitals, setting=template.setting,
                                opening_statement=casekit.say(rng, spec.opening or [], history, ""))
    truth, answer, instructions = _truth(template, variant, spec, task_type, sex, age, symptoms, responses, phq9, gad7, audit, ciwa)
    truth.demonstration = _demonstration(template, task_type, chart, symptoms, truth, _calculator_call(template, task_type, sex, phq9, gad7, audit, ciwa, cssrs))
    rationale = " ".join([f"{template.name} ({variant.id}).", f"Answer: {answer}.", spec.note or ""]).strip()
    return Task(
        id=f"psych-{template.id}-{index:03d}", domain=NAME, task_type=task_type, specialty="psychiatry", condition=template.id,
        split="heldout" if template.heldout else "train", instructions=instructions, presentation=presentation, chart=chart,
        truth=truth, rationale=rationale, source=template.source, seed=seed,
    )


def _thought_content(cssrs: dict[str, Any], base: str) -> str:
    if cssrs.get("plan"):
        return "Suicidal ideation with intent and a specific plan."
    if cssrs.get("intent"):
        return "Suicidal ideation with some intent to act; no specific plan."
    if cssrs.get("method"):
        return "Suicidal ideation; has thought about a method; denies intent or plan."
    if cssrs.get("suicidal_thoughts"):
        return "Active suicidal thoughts without a method, intent or plan."
    if cssrs.get("wish_dead"):
        return "Passive death wish; no active suicidal thoughts."
    return base


def _truth(template, variant, spec, task_type, sex, age, symptoms, responses, phq9, gad7, audit, ciwa):
    lib = library()
    truth = GroundTruth(required_actions=["mental_status_exam"])
    concepts = lambda ids: [lib.concepts[i] for i in dict.fromkeys(ids)]  # noqa: E731
    management, contraindicated = list(spec.management), list(spec.contraindicated)
    dx = variant.diagnosis_override or template.diagnosis
    icd = dx.icd10 if dx else None
    instructions = INSTRUCTIONS.get(task_type, "")
    phq_total = sum(phq9)
    if template.hook == "depression":
        recurrent = bool(symptoms.get("prior_episodes"))
        if template.id == "bipolar_depression":
            icd = "F31.4" if phq_total >= 20 else "F31.32"
        else:
            icd = ("F33" if recurrent else "F32") + (".2" if phq_total >= 20 else ".1")
            # NICE NG222: combination of an antidepressant and individual CBT for more severe depression (PHQ-9 >= 16).
            management = ["ssri", "psychotherapy"] if phq_total >= 16 else ["ssri_or_psychotherapy"]
    if template.hook == "mania":
        icd = "F31.2" if variant.id == "with_psychosis" else "F31.13"
        if sex == "female" and age <= 50:
            contraindicated.append("valproate")
    risk = cssrs_risk(responses["cssrs"])
    if template.hook == "suicide":
        management = ["warning_signs", "internal_coping", "social_distraction", "help_contacts", "crisis_contacts", "lethal_means"]
        if risk == "high":
            management.append("psychiatric_admission")
    if task_type == "assessment":
        instrument = template.instrument
        instructions = INSTRUCTIONS[instrument]
        truth.final_tool = "submit_answer"
        truth.required_actions = ["assess_alcohol_withdrawal" if instrument == "ciwa_ar" else f"administer_questionnaire:{instrument}"]
        if instrument == "audit_c":
            total = sum(audit)
            answer = "positive" if audit_c_positive(total, sex) else "negative"
            truth.accepted_answers = [answer, f"{answer} screen", f"audit-c {answer}", f"{answer} audit-c"]
        else:
            total = sum(ciwa.values()) if instrument == "ciwa_ar" else sum(phq9) if instrument == "phq9" else sum(gad7)
            answer = band(instrument, total)
            noun = {"phq9": "depression", "gad7": "anxiety", "ciwa_ar": "withdrawal"}[instrument]
            truth.accepted_answers = [answer, f"{answer} {noun}", str(total), f"{total} {answer}", f"{answer} {total}"]
            if answer == "minimal":
                truth.accepted_answers += ["none-minimal", "none", "none or minimal", f"none-minimal {noun}"]
        truth.answer = answer
        truth.key_findings = [f"{instrument} total {total}"]
        return truth, f"{answer} ({instrument} {total})", instructions
    if task_type == "risk_stratification":
        truth.final_tool = "submit_answer"
        truth.answer = risk
        truth.accepted_answers = [risk, f"{risk} risk", f"{risk} suicide risk", f"{risk} risk of suicide"]
        truth.required_actions = ["administer_questionnaire:cssrs"]
        return truth, f"{risk} risk", instructions
    if task_type == "diagnosis":
        truth.final_tool = "submit_diagnosis"
        truth.diagnosis, truth.icd10 = dx.name, icd
        truth.accepted_codes = list(dict.fromkeys([icd, *dx.codes]))
        truth.synonyms = [dx.name, *dx.synonyms]
        return truth, f"{dx.name} ({icd})", instructions
    truth.final_tool = "submit_treatment_plan"
    truth.diagnosis = dx.name if dx else template.name
    truth.management = concepts(management)
    truth.contraindicated = concepts(contraindicated)
    if template.hook == "suicide":
        instructions = INSTRUCTIONS["safety_plan"]
        truth.required_actions = ["administer_questionnaire:cssrs", "assess_suicide_risk_factors"]
    if template.hook == "alcohol_use":
        truth.required_actions = ["check_prescription_monitoring"]
    return truth, "plan: " + ", ".join(c.label for c in truth.management), instructions


AUDIT_OPTIONS = (
    ["never", "monthly_or_less", "2_to_4_times_a_month", "2_to_3_times_a_week", "4_or_more_times_a_week"],
    ["1_or_2", "3_or_4", "5_or_6", "7_to_9", "10_or_more"],
    ["never", "less_than_monthly", "monthly", "weekly", "daily_or_almost_daily"],
)


def _calculator_call(template: Template, task_type: str, sex: str, phq9: list[int], gad7: list[int], audit: list[int],
                     ciwa: dict[str, int], cssrs: dict[str, Any]) -> ToolCall | None:
    """The scoring calculator the oracle calls after administering the instrument (medgym.tools.calculators)."""
    if task_type == "risk_stratification":
        behavior = str(cssrs.get("behavior", "none"))
        return casekit.call("screen_cssrs", wish_to_be_dead=bool(cssrs["wish_dead"]), suicidal_thoughts=bool(cssrs["suicidal_thoughts"]),
                            suicidal_behavior_ever=behavior != "none", thoughts_of_method=bool(cssrs["method"]),
                            intent_without_plan=bool(cssrs["intent"]) and not cssrs["plan"], intent_with_plan=bool(cssrs["plan"]),
                            behavior_within_past_3_months=behavior == "past_3_months")
    if task_type != "assessment":
        return None
    if template.instrument == "phq9":
        return casekit.call("score_phq9", item_scores=phq9)
    if template.instrument == "gad7":
        return casekit.call("score_gad7", item_scores=gad7)
    if template.instrument == "ciwa_ar":
        return casekit.call("score_ciwa_ar", **ciwa)
    return casekit.call("score_audit_c", drinking_frequency=AUDIT_OPTIONS[0][audit[0]], drinks_per_typical_day=AUDIT_OPTIONS[1][audit[1]],
                        six_or_more_drinks_frequency=AUDIT_OPTIONS[2][audit[2]], sex=sex)


def _demonstration(template: Template, task_type: str, chart: Chart, symptoms: dict[str, Any], truth: GroundTruth,
                   calculator: ToolCall | None) -> list[ToolCall]:
    c = casekit.call
    calls = [c("review_psychiatric_history"), c("mental_status_exam")]
    if chart.past_medical_history or chart.medications:
        calls.append(c("review_medications"))
    if task_type in ("diagnosis", "management"):
        asked = [t for t in REVIEW + ["symptom_duration", "last_drink", "alcohol"] if _present(symptoms.get(t))]
        for topic in asked[:9]:
            calls.append(c("ask_patient", question=history_topics()[topic]["questions"][0]))
        calls.append(c("obtain_collateral_history"))
    instrument = template.instrument
    if task_type == "assessment":
        calls.append(c("assess_alcohol_withdrawal") if instrument == "ciwa_ar" else c("administer_questionnaire", instrument=instrument))
    if task_type == "risk_stratification" or template.hook == "suicide":
        calls.append(c("administer_questionnaire", instrument="cssrs"))
        calls.append(c("assess_suicide_risk_factors"))
    if template.id == "alcohol_withdrawal" and task_type != "assessment":
        calls.append(c("assess_alcohol_withdrawal"))
    if template.hook == "alcohol_use" and task_type == "management":
        calls.append(c("check_prescription_monitoring"))
        calls.append(c("order_lab", test="creatinine"))
    if template.id == "delirium":
        calls.append(c("cognitive_screen"))
    for test, r in chart.labs.items():
        if r.flag != "normal":
            calls.append(c("order_lab", test=test))
    if calculator is not None:
        calls.append(calculator)
    calls.append(_final_call(truth))
    return calls


def _final_call(truth: GroundTruth) -> ToolCall:
    if truth.final_tool == "submit_treatment_plan":
        return ToolCall(name="submit_treatment_plan", arguments={"plan": [m.label for m in truth.management], "diagnosis": truth.diagnosis})
    if truth.final_tool == "submit_diagnosis":
        return ToolCall(name="submit_diagnosis", arguments={"diagnosis": truth.diagnosis, "icd10_code": truth.icd10})
    return ToolCall(name="submit_answer", arguments={"answer": truth.answer})


def generate(seed: int) -> list[Task]:
    from medgym.encounter import stable_seed

    tasks = []
    for template in library().templates.values():
        for i in range(CASES_PER_TEMPLATE):
            case_seed = stable_seed(seed, NAME, template.id, i)
            task_type = choose(random.Random(case_seed ^ 0x95C1), dict(template.task_types))
            tasks.append(build_case(template, task_type, i, case_seed))
    return tasks
