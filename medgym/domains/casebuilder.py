"""Sample one `Task` from a condition template, seeded."""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from typing import Any

from medgym.domains.conditions import ORTHOSTATIC_BASE, NOISE, Condition, Specialty, Statement, answer_for, choose, text_of
from medgym.patient.matching import topics as history_topics
from medgym.tasks.schema import (
    Chart,
    Concept,
    ExamFinding,
    GroundTruth,
    HistoryFact,
    ImagingReport,
    Medication,
    Presentation,
    Task,
    ToolCall,
    Vitals,
)
from medgym.tools import catalog

ATYPICAL_RATE = 0.2  # share of cases that present atypically
ATYPICAL_DROP = 0.5  # chance that an atypical case lacks each typical symptom or sign
UNSURE_RATE = 0.3  # share of symptoms the patient cannot say yes or no to ("I'm not sure")
SELDOM = 0.1  # a distractor symptom is one this condition causes at most this often (the rationale says it does not
             # point to the diagnosis; at 0.3 it called a TIA's facial droop and Guillain-Barre's back pain distractors)
DISTRACTOR_RATE = 0.35  # share of cases with a distractor: a nonspecific feature typical of a look-alike condition
# results that many conditions move a little, so a mild abnormality of one can be incidental
NONSPECIFIC_LABS = ("wbc", "crp", "esr", "glucose", "bun", "d_dimer", "ldh", "alkaline_phosphatase", "platelets", "hemoglobin")
DEFAULT_SOCIAL = {
    "smoking": {"never": 0.55, "former": 0.25, "current": 0.2},
    "alcohol": {"none": 0.35, "moderate": 0.55, "heavy": 0.1},
    "drug_use": {"none": 1.0},
}

INSTRUCTIONS = {
    "diagnosis": "Work up this patient and submit the most likely diagnosis with its ICD-10-CM code using submit_diagnosis.",
    "workup": (
        "Perform the work-up that current guidelines require for this presentation, then submit the diagnosis "
        "with submit_diagnosis. Both the diagnosis and the essential tests count."
    ),
    "management": (
        "Establish the diagnosis and submit the initial management plan with submit_treatment_plan, "
        "one intervention per item. Avoid anything contraindicated for this patient."
    ),
}
FINAL_TOOL = {"diagnosis": "submit_diagnosis", "workup": "submit_diagnosis", "management": "submit_treatment_plan"}


def _value(rng: random.Random, low: float, high: float) -> float:
    if low > 0 and high / low > 10:
        return math.exp(rng.uniform(math.log(low), math.log(high)))
    return rng.uniform(low, high)


def _apply_variant(condition: Condition, rng: random.Random) -> tuple[Condition, list[str]]:
    """Apply each optional variant with its probability; return the condition and the notes it adds."""
    notes = []
    for variant in condition.variants:
        if rng.random() < variant["p"]:
            update = condition.model_dump()
            update["history"] = {**update["history"], **variant.get("history", {})}
            update["contraindicated"] = [*update["contraindicated"], *variant.get("contraindicated", [])]
            update["management"] = [*update["management"], *variant.get("management", [])]
            condition = Condition.model_validate(update)
            notes.append(variant["note"])
    return condition, notes


PRIOR_WHEN = ["3 months ago", "6 months ago", "1 year ago"]


def build_case(
    specialty: Specialty,
    condition: Condition,
    task_type: str,
    index: int,
    seed: int,
    domain: str,
    extra_history: Sequence[str] | Callable[[str], Sequence[str]] = (),
    look_alikes: Sequence[Condition] = (),
) -> Task:
    """One case of `condition`, fully determined by `seed`.

    `extra_history`: further topics the patient can answer (as pertinent negatives unless the
    condition specifies them), e.g. those a clinician asks about for the same complaint in
    other specialties; a function of the chief complaint, or a fixed list. `look_alikes`:
    conditions that present the same way; a share of cases carries a nonspecific feature
    typical of one of them (a distractor).
    """
    rng = random.Random(seed)
    triggers = {t for v in condition.variants for t in v.get("history", {})}  # what decides a variant's management
    condition, variant_notes = _apply_variant(condition, rng)
    workup = specialty.complaints[condition.complaint]
    atypical = rng.random() < ATYPICAL_RATE
    keep = (lambda: rng.random() >= ATYPICAL_DROP) if atypical else (lambda: True)

    sex = "male" if rng.random() < condition.male else "female"
    age = rng.randint(*condition.age)
    vitals = {k: rng.uniform(*v) for k, v in condition.vitals.items()}
    vitals = Vitals(
        heart_rate=round(vitals["heart_rate"]),
        systolic_bp=round(vitals["systolic_bp"]),
        diastolic_bp=round(vitals["diastolic_bp"]),
        respiratory_rate=round(vitals["respiratory_rate"]),
        temperature_c=round(vitals["temperature_c"], 1),
        spo2=min(100, round(vitals["spo2"])),
        weight_kg=round(rng.uniform(55, 100) if sex == "male" else rng.uniform(45, 90), 1),
    )

    complaints, openings = condition.chief_complaint, condition.opening
    if atypical and condition.atypical_chief_complaint:  # presents with another complaint altogether
        complaints, openings = condition.atypical_chief_complaint, condition.atypical_opening
    complaint_rng = random.Random(seed ^ 0xCC)
    chief_complaint, opening = complaint_rng.choice(complaints), complaint_rng.choice(openings)
    # what the complaint and the opening tell (when it began, symptoms they report), the patient's answers agree with
    said = [s for s in (chief_complaint, opening) if isinstance(s, Statement)]
    stated_onset = next((s.onset for s in said if s.onset), None)
    told = [t for s in said for t in s.states]
    told_words = {t: a for s in said for t, a in s.answers.items()}
    chief_complaint, opening = text_of(chief_complaint), text_of(opening)
    told_rng = random.Random(seed ^ 0x7E11)  # phrases the told symptoms' answers, so the other draws stay the same

    if callable(extra_history):
        extra_history = extra_history(chief_complaint)
    history: list[HistoryFact] = []
    unsure = random.Random(seed ^ 0x5A7E)
    for topic in dict.fromkeys([*condition.history, *workup.history, *extra_history, *told]):
        if topic not in told and topic not in triggers and topic != "onset" and unsure.random() < UNSURE_RATE:
            continue  # the patient is not sure about this one
        spec = condition.history.get(topic)
        values = history_topics()[topic].get("values")
        if spec is None:
            if values is None:
                value: bool | str = rng.random() < NOISE
            elif "none" in values:
                value = "none"
            else:
                continue
        elif isinstance(spec, dict):
            value = choose(rng, spec)  # drawn even when the opening fixes it, so later draws stay the same
            if topic == "onset" and stated_onset:
                value = stated_onset
        else:
            value = rng.random() < float(spec) and keep()
        fact = _fact(rng, topic, value)
        if topic in told and value is not True:
            fact = _fact(told_rng, topic, True)
        words = told_words.get(topic) or condition.answers.get(topic)
        if words and fact.value is True:
            fact = fact.model_copy(update={"answer": words})
        history.append(fact)
    for topic, default in DEFAULT_SOCIAL.items():
        history.append(_fact(rng, topic, choose(rng, condition.social.get(topic, default))))
    if sex == "male" and "pde5_inhibitor_use" not in condition.history:
        history.append(_fact(rng, "pde5_inhibitor_use", False))

    pmh, medications, labs = [], [], {}
    for name in sorted(condition.comorbidities):
        if rng.random() < condition.comorbidities[name]:
            pmh.append(name)
            comorbidity = specialty.comorbidities[name]
            medications += [Medication(**m) for m in comorbidity.medications]
            for test, (low, high) in comorbidity.labs.items():
                labs[test] = catalog.lab_result(test, _value(rng, low, high), sex)

    exam = [
        ExamFinding(system=specialty.findings[f].system, finding=specialty.findings[f].text, abnormal=True)
        for f, p in condition.exam.items()
        if rng.random() < p and keep()
    ]
    for test, spec in condition.labs.items():
        if rng.random() < spec.p:
            value = spec.value if spec.value is not None else _value(rng, *spec.range)
            labs[test] = catalog.lab_result(test, value, sex)
    _couple(labs, set(condition.labs), sex, random.Random(seed ^ 0xC0DE))
    distractor_notes = _distract(condition, look_alikes, history, labs, sex, random.Random(seed ^ 0xD157))
    imaging: dict[str, ImagingReport] = {}
    for study, reports in condition.imaging.items():
        options = {**reports, "": max(0.0, 1.0 - sum(reports.values()))}
        chosen = choose(rng, options)
        if chosen:
            r = specialty.reports[chosen]
            name = catalog.ecg_study()["name"] if study == "ecg" else catalog.studies()[study]["name"]
            imaging[study] = ImagingReport(study=study, name=name, findings=r.findings, impression=r.impression, abnormal=True)

    extra = _bedside(condition, specialty, pmh, sex, vitals, random.Random(seed ^ 0xBED5), keep)
    chart = Chart(
        history=history,
        past_medical_history=pmh,
        medications=medications,
        exam=exam,
        labs=labs,
        imaging=imaging,
        extra=extra,
    )
    key_findings = [f.finding for f in exam] + [
        f"{r.name}: {r.flag} ({r.value} {r.unit})".replace(" )", ")") for r in labs.values() if r.flag != "normal"
    ] + [f"{r.name}: {r.impression}" for r in imaging.values()]
    key_findings += [f"Positive bedside maneuver: {m}" for m in extra.get("maneuvers", [])]
    if condition.orthostatic is not None and extra["orthostatic"]["positive"]:
        key_findings.append("Orthostatic hypotension")
    key_findings += [f"Earlier result ({r['when']}): {r['name']} {r['flag']} ({r['value']} {r['unit']})".replace(" )", ")")
                     for r in extra.get("prior_results", []) if r["flag"] != "normal" and r["test"] in condition.prior]
    truth = GroundTruth(
        final_tool=FINAL_TOOL[task_type],
        diagnosis=condition.name,
        icd10=condition.icd10,
        accepted_codes=condition.accepted_codes,
        synonyms=[condition.name, *condition.synonyms],
        management=[_concept(specialty, m) for m in condition.management],
        contraindicated=[_concept(specialty, m) for m in condition.contraindicated],
        required_actions=condition.required,
        key_findings=key_findings,
    )
    truth.demonstration = _demonstration(condition, chart, truth, task_type)
    presentation = Presentation(
        age=age,
        sex=sex,
        chief_complaint=chief_complaint,
        vitals=vitals,
        setting=condition.setting,
        opening_statement=opening,
    )
    rationale = " ".join(
        [
            f"Diagnosis: {condition.name} (ICD-10-CM {condition.icd10}).",
            condition.rationale,
            *variant_notes,
            ("Atypical presentation: some typical features are absent"
             + (f" and the chief complaint ({presentation.chief_complaint}) is not the usual one." if complaints is condition.atypical_chief_complaint else ".")
             if atypical else ""),
            *distractor_notes,
        ]
    ).strip()
    return Task(
        id=f"{specialty.name}-{condition.id}-{index:03d}",
        domain=domain,
        task_type=task_type,
        specialty=specialty.name,
        condition=condition.id,
        split="heldout" if condition.heldout else "train",
        instructions=INSTRUCTIONS[task_type],
        presentation=presentation,
        chart=chart,
        truth=truth,
        rationale=rationale,
        source=condition.source,
        seed=seed,
    )


def _couple(labs: dict[str, Any], specified: set[str], sex: str, rng: random.Random) -> None:
    """Keep results that physiology ties together consistent when a template sets only one of them:
    hematocrit is about three times the hemoglobin (Walker HK et al. Clinical Methods, 3rd ed. 1990,
    ch. 151); the prothrombin time follows the INR (INR = (PT / mean normal PT) ** ISI, taken with
    ISI 1.0 and a mean normal PT of 12.0 s); and a measured serum osmolality is the calculated one
    (2 Na + glucose / 18 + BUN / 2.8, mg/dL units) plus a small osmolal gap."""

    def value(test: str) -> float:
        return float(labs[test].value)

    if "hemoglobin" in labs and "hematocrit" not in specified:
        labs["hematocrit"] = catalog.lab_result("hematocrit", 3 * value("hemoglobin") + rng.uniform(-1, 1), sex)
    if "inr" in labs and "pt" not in specified:
        labs["pt"] = catalog.lab_result("pt", 12.0 * value("inr"), sex)
    if "serum_osmolality" in specified and {"sodium", "glucose", "bun"} <= set(labs):
        calculated = 2 * value("sodium") + value("glucose") / 18 + value("bun") / 2.8
        labs["serum_osmolality"] = catalog.lab_result("serum_osmolality", calculated + rng.uniform(0, 6), sex)


def _distract(
    condition: Condition, look_alikes: Sequence[Condition], history: list[HistoryFact], labs: dict[str, Any],
    sex: str, rng: random.Random,
) -> list[str]:
    """Give a share of cases one (rarely two) distractors: a symptom that a look-alike condition usually
    has and this one seldom does, or a mild abnormality of a nonspecific test that a look-alike raises.
    Returns the rationale's notes on them."""
    if not look_alikes or rng.random() >= DISTRACTOR_RATE:
        return []
    facts = {f.topic: i for i, f in enumerate(history)}
    symptoms = sorted({
        t for other in look_alikes for t, p in other.history.items()
        if not isinstance(p, dict) and p >= 0.5 and history_topics()[t].get("values") is None
        and not isinstance(condition.history.get(t), dict) and float(condition.history.get(t, 0.0)) <= SELDOM
    })
    tests = sorted({
        (t, "high" if catalog.lab_result(t, (spec.range[0] + spec.range[1]) / 2, sex).flag == "high" else "low")
        for other in look_alikes for t, spec in other.labs.items()
        if t in NONSPECIFIC_LABS and spec.p >= 0.5 and spec.range and t not in condition.labs and t not in labs
    })
    options = [("symptom", t) for t in symptoms] + [("lab", t) for t in tests]
    notes = []
    for _ in range(2 if rng.random() < 0.25 else 1):
        if not options:
            break
        kind, item = options.pop(rng.randrange(len(options)))
        if kind == "symptom":
            fact = _fact(rng, item, True)
            if item in facts:
                history[facts[item]] = fact
            else:
                history.append(fact)
            notes.append(f"Distractor: the patient reports {item.replace('_', ' ')}, which does not point to this diagnosis.")
        else:
            test, direction = item
            spec = {**catalog.labs()[test], **catalog.labs()[test].get("by_sex", {}).get(sex, {})}
            value = spec["high"] * rng.uniform(1.05, 1.4) if direction == "high" else spec["low"] * rng.uniform(0.8, 0.95)
            labs[test] = catalog.lab_result(test, value, sex)
            notes.append(f"Distractor: an incidental, mildly {direction} {spec['name']} that does not point to this diagnosis.")
    return notes


def _fact(rng: random.Random, topic: str, value: bool | str) -> HistoryFact:
    category = history_topics()[topic]["category"]
    return HistoryFact(topic=topic, value=value, answer=answer_for(rng, topic, value), category=category)


def _concept(specialty: Specialty, concept_id: str) -> Concept:
    c = specialty.management[concept_id]
    return Concept(label=c.label, synonyms=c.synonyms)


def _demonstration(condition: Condition, chart: Chart, truth: GroundTruth, task_type: str) -> list[ToolCall]:
    """The oracle's ideal encounter: targeted history, exam, the tests that matter, then the answer.

    Abnormal labs of one panel are ordered as the panel; tests that come from a procedure
    (a catalog entry's `via`) are obtained through that procedure's tool.
    """
    calls = [ToolCall(name="read_vitals")]
    positives = [f for f in chart.history if f.category in ("hpi", "ros") and f.value not in (False, "none")]
    for fact in positives[:5]:
        calls.append(ToolCall(name="ask_patient", arguments={"question": history_topics()[fact.topic]["questions"][0]}))
    for system in dict.fromkeys(f.system for f in chart.exam):
        calls.append(ToolCall(name="examine", arguments={"system": system}))
    actions: list[str] = list(truth.required_actions)
    abnormal = [t for t in chart.labs if chart.labs[t].flag != "normal"]
    panels = [catalog.labs()[t].get("panel") for t in abnormal]
    for test, panel in zip(abnormal, panels):
        grouped = panel and panels.count(panel) > 1 and not catalog.labs()[test].get("via")
        actions.append(f"order_lab:{panel}" if grouped else f"order_lab:{test}")
    actions += ["order_ecg" if s == "ecg" else f"order_imaging:{s}" for s in chart.imaging]
    actions += [f"perform_bedside_maneuver:{m}" for m in chart.extra.get("maneuvers", [])]
    if condition.orthostatic is not None and chart.extra.get("orthostatic", {}).get("positive"):
        actions.append("measure_orthostatic_vitals")
    if any(r["test"] in condition.prior for r in chart.extra.get("prior_results", [])):
        actions.append("review_prior_results")
    for action in dict.fromkeys(via(a) for a in actions):
        calls.append(call_for(action))
    calls.append(_final_call(truth, task_type))
    return calls


def via(action: str) -> str:
    """The action that obtains `action`'s result: a lab or study that comes from a procedure maps to it."""
    name, _, key = action.partition(":")
    if name == "order_lab" and key in catalog.labs():
        return catalog.labs()[key].get("via", action)
    if name == "order_imaging" and key in catalog.studies():
        return catalog.studies()[key].get("via", action)
    return action


def call_for(action: str) -> ToolCall:
    """The tool call an action key stands for, e.g. order_lab:cbc -> order_lab(test="cbc")."""
    from medgym.tools import get_tool

    name, _, arg = action.partition(":")
    key = get_tool(name).key_arg
    return ToolCall(name=name, arguments={key: arg} if key and arg else {})


def _bedside(
    condition: Condition, specialty: Specialty, pmh: list[str], sex: str, vitals: Vitals, rng: random.Random, keep: Any
) -> dict[str, Any]:
    """What the bedside tools reveal: positive maneuvers, orthostatic readings and earlier results."""
    extra: dict[str, Any] = {}
    positive = [m for m, p in condition.maneuvers.items() if rng.random() < p and keep()]
    if positive:
        extra["maneuvers"] = positive
    p = ORTHOSTATIC_BASE if condition.orthostatic is None else condition.orthostatic
    orthostatic = rng.random() < p
    sbp_drop, dbp_drop, hr_rise = (
        (rng.randint(20, 40), rng.randint(10, 20), rng.randint(12, 32)) if orthostatic
        else (rng.randint(-6, 8), rng.randint(-5, 4), rng.randint(2, 12))
    )
    if condition.orthostatic is not None or orthostatic:  # otherwise the tool reports an unremarkable response
        extra["orthostatic"] = {
            "positive": orthostatic,
            "supine": {"heart_rate": vitals.heart_rate, "systolic_bp": vitals.systolic_bp, "diastolic_bp": vitals.diastolic_bp},
            "standing": {"heart_rate": vitals.heart_rate + hr_rise, "systolic_bp": vitals.systolic_bp - sbp_drop,
                         "diastolic_bp": vitals.diastolic_bp - dbp_drop},
        }
    prior = []
    for name in pmh:
        for test, (low, high) in specialty.comorbidities[name].labs.items():
            prior.append((test, _value(rng, low, high)))
    for test, spec in condition.prior.items():
        if rng.random() < spec.p:
            prior.append((test, spec.value if spec.value is not None else _value(rng, *spec.range)))
    if prior:
        when = rng.choice(PRIOR_WHEN)
        extra["prior_results"] = [
            {**catalog.lab_result(test, value, sex).model_dump(), "when": when} for test, value in dict(prior).items()
        ]
    return extra


def _final_call(truth: GroundTruth, task_type: str) -> ToolCall:
    if task_type == "management":
        return ToolCall(
            name="submit_treatment_plan",
            arguments={"plan": [c.label for c in truth.management], "diagnosis": truth.diagnosis},
        )
    return ToolCall(name="submit_diagnosis", arguments={"diagnosis": truth.diagnosis, "icd10_code": truth.icd10})


def case_args(**kwargs: Any) -> dict[str, Any]:  # pragma: no cover - convenience for notebooks
    return kwargs
