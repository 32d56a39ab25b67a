"""Seeded chart-review tasks: each builds its own chart (chart.py) and computes the answer from it."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any, Callable

from medgym.domains.drug_interaction.cases import drug_concept
from medgym.domains.drug_interaction.formulary import formulary
from medgym.domains.ehr_management import chart as charts
from medgym.domains.ehr_management.chart import Admission, iso
from medgym.domains.ehr_management.scores import kdigo_aki_stage
from medgym.encounter import stable_seed
from medgym.tasks.schema import Allergy, Chart, Concept, GroundTruth, Medication, Presentation, Task, ToolCall, Vitals
from medgym.tools import catalog
from medgym.tools.calculators.critical_care import calculate_news2, calculate_qsofa, calculate_sofa

NAME = "ehr_management"
SOURCES = {
    "news2": "Royal College of Physicians. National Early Warning Score (NEWS) 2: Standardising the assessment of acute-illness severity in the NHS. London: RCP, 2017.",
    "qsofa": "Seymour CW, et al. Assessment of Clinical Criteria for Sepsis (Sepsis-3). JAMA 2016;315(8):762-774.",
    "sofa": "Vincent JL, et al. The SOFA (Sepsis-related Organ Failure Assessment) score to describe organ dysfunction/failure. Intensive Care Med 1996;22(7):707-710.",
    "kdigo": "KDIGO Clinical Practice Guideline for Acute Kidney Injury. Kidney Int Suppl 2012;2:1-138.",
    "hypoglycemia": "American Diabetes Association Professional Practice Committee. 6. Glycemic Goals and Hypoglycemia: Standards of Care in Diabetes-2024. Diabetes Care 2024;47(Suppl 1):S111-S125.",
    "medrec": "The Joint Commission, National Patient Safety Goal NPSG.03.06.01 (maintain and communicate accurate patient medication information); WHO High 5s Project, Standard Operating Protocol: Assuring Medication Accuracy at Transitions in Care (Medication Reconciliation), 2014.",
    "ipass": "Starmer AJ, et al. Changes in medical errors after implementation of a handoff program (I-PASS). N Engl J Med 2014;371(19):1803-1812.",
    "discharge": "The Joint Commission, Record of Care standard RC.02.04.01 (discharge summary contents); Kripalani S, et al. Deficits in communication and information transfer between hospital-based and primary care physicians. JAMA 2007;297(8):831-841.",
    "fhir": "HL7 FHIR Release 4 (v4.0.1).",
    "loinc": "LOINC, Logical Observation Identifiers Names and Codes (Regenstrief Institute), https://loinc.org.",
}
CHRONIC_SYNONYMS = {
    "Hypertension": ["HTN", "high blood pressure"], "Hyperlipidemia": ["dyslipidemia", "hypercholesterolemia", "high cholesterol"],
    "Type 2 diabetes mellitus": ["type 2 diabetes", "T2DM", "diabetes mellitus", "diabetes"], "Hypothyroidism": [],
    "Gastroesophageal reflux disease": ["GERD", "reflux"], "Gout": [], "Asthma": [], "Osteoporosis": [],
    "Chronic obstructive pulmonary disease": ["COPD"], "Allergic rhinitis": ["hay fever"],
    "Atrial fibrillation": ["AF", "afib", "atrial fibrillation"], "Benign prostatic hyperplasia": ["BPH"],
    "Major depressive disorder": ["depression", "MDD"], "Heart failure with reduced ejection fraction": ["HFrEF", "heart failure"],
    "Heart failure": ["HF", "CHF"], "Osteoarthritis of the knee": ["osteoarthritis", "OA"], "Chronic low back pain": ["back pain"],
    "Iron deficiency anemia": ["iron deficiency"],
}
INSTRUCTIONS = {
    "news2_latest": "Calculate the National Early Warning Score 2 (NEWS2, SpO2 scale 1) for the most recent set of vital signs in the chart and submit the number with submit_answer.",
    "news2_first5": ("From the vital signs charted since arrival, find the first observation set at which NEWS2 (SpO2 scale 1) was 5 or more. "
                     "Submit how many hours after the first charted set it was taken (0 if it was the first set), as a number, with submit_answer."),
    "qsofa_arrival": "Calculate the qSOFA score for the first set of vital signs charted on arrival (altered mentation: anything other than alert) and submit the number with submit_answer.",
    "sofa_day": ("Calculate the SOFA score for the 24 hours from {start} to {end}, using the worst value of each component charted in that "
                 "period (PaO2/FiO2, platelets, bilirubin, mean arterial pressure and vasopressor doses, Glasgow coma score, creatinine and "
                 "24-hour urine output). Submit the total with submit_answer."),
    "kdigo_stage": ("Using the pre-admission outpatient creatinine as the baseline and the KDIGO serum creatinine criteria (not urine output), "
                    "what is the highest acute kidney injury stage reached during this admission? Submit \"stage 1\", \"stage 2\", \"stage 3\" "
                    "or \"no AKI\" with submit_answer."),
    "nadir_hemoglobin": "What is the lowest hemoglobin (g/dL) charted during this admission? Submit the value with submit_answer.",
    "peak_lactate": "What is the highest lactate (mmol/L) charted during this admission? Submit the value with submit_answer.",
    "hypoglycemia_count": ("How many point-of-care glucose readings during this admission were below 70 mg/dL (hypoglycemia, ADA level 1 or "
                           "worse)? Submit the count with submit_answer."),
    "weight_loss": ("How many kilograms has the patient lost from the first weight charted this admission to the most recent one? "
                    "Submit the number with one decimal with submit_answer."),
    "medication_reconciliation": (
        "The patient is being discharged. Reconcile the discharge medication orders against the pre-admission home medication list, "
        "using the notes for documented changes, and call submit_medication_reconciliation with unintended_omissions (home medications "
        "missing from the discharge list without a documented reason) and duplications (discharge drugs that duplicate the same drug "
        "class; name both); use empty lists if there are none."),
    "handoff_summary": (
        "Prepare a structured handoff of this inpatient for the night team and call submit_handoff with every active problem (current "
        "diagnoses and active chronic conditions, not resolved ones), the results still pending (tests ordered but not resulted), the "
        "current code status and the recorded allergies."),
    "discharge_summary": (
        "Write the structured discharge summary and call submit_discharge_summary with the principal diagnosis; the new, stopped "
        "(including held) and changed medications compared with the home list; the results still pending; and the follow-up arranged."),
}
HOURS = ["hours", "h", "hrs"]


# --- concepts ---------------------------------------------------------------------------------------


def problem_concept(p: dict[str, Any]) -> Concept:
    synonyms = list(p.get("synonyms", [])) + CHRONIC_SYNONYMS.get(p["text"].split(" (")[0], [])
    if p.get("icd10"):
        synonyms.append(p["icd10"])
    return Concept(label=p["text"], synonyms=sorted(set(synonyms)))


def item_concept(item: dict[str, Any]) -> Concept:
    return Concept(label=item["text"], synonyms=list(item.get("synonyms", [])))


# --- answers from a chart -----------------------------------------------------------------------------


def news2_arguments(v: charts.VitalSet) -> dict[str, Any]:
    """The calculate_news2 arguments for one charted set of vital signs."""
    return {"respiratory_rate_per_min": v.respiratory_rate, "spo2_percent": v.spo2, "on_supplemental_oxygen": v.on_oxygen,
            "systolic_bp_mmhg": v.systolic_bp, "heart_rate_bpm": v.heart_rate,
            "consciousness": "alert" if v.consciousness == "Alert" else "new_confusion", "temperature_c": v.temperature_c}


def vital_news2(v: charts.VitalSet) -> int:
    return calculate_news2(**news2_arguments(v))["score"]


def sofa_arguments(adm: Admission) -> tuple[dict[str, Any], datetime, datetime]:
    """The calculate_sofa arguments from the worst values of the chart's SOFA window, and the window."""
    start = adm.singles["sofa_window_start"][0][0]
    end = start + timedelta(hours=24)
    inside = lambda t: start <= t <= end  # noqa: E731
    vit = [v for v in adm.vitals if inside(v.time)]
    fio2 = {t: v for t, v in adm.singles.get("fio2", []) if inside(t)}
    pairs = [(pao2, fio2[t]) for t, pao2 in adm.labs.get("pao2", []) if inside(t)]
    pao2, fio2_pct = min(pairs, key=lambda p: p[0] / p[1])
    worst = lambda test, fn: fn(v for t, v in adm.labs[test] if inside(t))  # noqa: E731
    args = {"pao2_mmhg": pao2, "fio2": fio2_pct / 100, "mechanically_ventilated": False,
            "platelets_10e3_ul": worst("platelets", min), "bilirubin_mg_dl": worst("total_bilirubin", max),
            "map_mmhg": min(v.mean_bp for v in vit), "gcs": int(min(v for t, v in adm.singles["gcs"] if inside(t))),
            "creatinine_mg_dl": worst("creatinine", max),
            "norepinephrine_mcg_kg_min": max([r for t, r in adm.norepinephrine if inside(t)] or [0.0]),
            "urine_output_ml_day": adm.singles["urine_output_24h"][0][1]}
    return args, start, end


# --- building tasks -------------------------------------------------------------------------------------


def _task(kind: str, task_type: str, scenario: str, index: int, seed: int, adm: Admission, resources: list[dict[str, Any]],
          truth: GroundTruth, instructions: str, rationale: str, source: str) -> Task:
    f = formulary()
    spec = charts.templates()["scenarios"][scenario]
    last = adm.vitals[-1]
    labs = {}
    for test, series in adm.labs.items():
        if test in catalog.labs():
            labs[test] = catalog.lab_result(test, series[-1][1], adm.sex)
    chart = Chart(
        past_medical_history=[p["text"] for p in adm.problems if p.get("chronic")],
        medications=[Medication(name=f.drugs[m.drug].name, dose=m.dose) for m in adm.home],
        allergies=[Allergy(substance=s, reaction=r) for s, r in adm.allergies],
        labs=labs,
        extra={"fhir": {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": r} for r in resources]},
               "as_of": iso(adm.now)},
    )
    return Task(
        id=f"ehr-{kind.replace('_', '-')}-{scenario.replace('_', '-')}-{index:03d}",
        domain=NAME, task_type=task_type, condition=scenario,
        split="heldout" if scenario in charts.templates()["heldout"] else "train",
        instructions=instructions + f" The chart is current as of {iso(adm.now)}.",
        presentation=Presentation(
            age=adm.age, sex=adm.sex, chief_complaint=spec["complaint"], setting="hospital ward (chart review)",
            vitals=Vitals(heart_rate=last.heart_rate, systolic_bp=last.systolic_bp, diastolic_bp=last.diastolic_bp,
                          respiratory_rate=last.respiratory_rate, temperature_c=last.temperature_c, spo2=last.spo2)),
        chart=chart, truth=truth, rationale=rationale, source=source + " " + SOURCES["fhir"], seed=seed,
    )


def number_forms(value: float, decimals: int) -> list[str]:
    """How a number may be written: 3.0 as "3.0" or "3", 7.25 rounded as "7.3"."""
    text = f"{value:.{decimals}f}"
    forms = [text]
    if "." in text and text.rstrip("0").endswith("."):
        forms.append(text.rstrip("0").rstrip("."))
    return forms


def _answer_truth(answer: str, accepted: list[str], calls: list[tuple[str, dict[str, Any]]], findings: list[str]) -> GroundTruth:
    return GroundTruth(final_tool="submit_answer", answer=answer, accepted_answers=accepted, key_findings=findings,
                       demonstration=[ToolCall(name=n, arguments=a) for n, a in [*calls, ("submit_answer", {"answer": answer})]])


def _fields_truth(final: str, fields: dict[str, list[Concept]], calls: list[tuple[str, dict[str, Any]]],
                  findings: list[str], scalar: set[str] = frozenset()) -> GroundTruth:
    submission = {k: (v[0].label if k in scalar else [c.label for c in v]) for k, v in fields.items()}
    return GroundTruth(final_tool=final, fields=fields, key_findings=findings,
                       demonstration=[ToolCall(name=n, arguments=a) for n, a in [*calls, (final, submission)]])


VS = {"category": "vital-signs"}


def early_warning(seed: int, kind: str, scenario: str, i: int) -> Task | None:
    for attempt in range(40):
        case_seed = stable_seed(seed, NAME, kind, scenario, i, attempt)
        rng = random.Random(case_seed)
        now_hours = rng.randint(6, 40) if kind == "news2_latest" else None
        adm, res = charts.build(rng, scenario, discharged=False, sofa_window=kind == "sofa_day", now_hours=now_hours)
        first = adm.vitals[0]
        if kind == "news2_latest":
            v = adm.vitals[-1]
            value = vital_news2(v)
            answer = str(value)
            calls = [("search_observations", {**VS, "date_from": iso(v.time)[:16]}), ("calculate_news2", news2_arguments(v))]
            findings = [f'search_observations {{"category": "vital-signs"}}: {iso(v.time)}']
            rationale = f"Most recent vital signs ({iso(v.time)}): NEWS2 {value}."
            instr, source = INSTRUCTIONS[kind], SOURCES["news2"]
        elif kind == "news2_first5":
            hit = next((v for v in adm.vitals if vital_news2(v) >= 5), None)
            if hit is None or (hit is first and attempt < 20 and rng.random() < 0.6):
                continue  # re-draw: no such set, or (usually) the very first one
            answer = str(hit.hours - first.hours)
            upto = [v for v in adm.vitals if v.time <= hit.time]
            calls = [("search_observations", VS)] + [("calculate_news2", news2_arguments(v)) for v in upto]
            findings = [f'search_observations {{"category": "vital-signs"}}: {iso(hit.time)}']
            rationale = f"NEWS2 first reached {vital_news2(hit)} (>=5) at {iso(hit.time)}, {answer} hours after the first set."
            instr, source = INSTRUCTIONS[kind], SOURCES["news2"]
        elif kind == "qsofa_arrival":
            args = {"respiratory_rate_per_min": first.respiratory_rate, "systolic_bp_mmhg": first.systolic_bp,
                    "altered_mentation": first.consciousness != "Alert"}
            value = calculate_qsofa(**args)["score"]
            answer = str(value)
            calls = [("search_observations", {**VS, "date_to": iso(first.time)[:16]}), ("calculate_qsofa", args)]
            findings = [f'search_observations {{"category": "vital-signs"}}: {iso(first.time)}']
            rationale = (f"Arrival: respiratory rate {first.respiratory_rate}, systolic BP {first.systolic_bp}, "
                         f"{first.consciousness.lower()}: qSOFA {value}.")
            instr, source = INSTRUCTIONS[kind], SOURCES["qsofa"]
        else:
            args, start, end = sofa_arguments(adm)
            result = calculate_sofa(**args)
            answer = str(result["score"])
            calls = [("search_observations", {"date_from": iso(start)[:16], "date_to": iso(end)[:16]}),
                     ("get_medications", {"list_type": "administrations"}), ("calculate_sofa", args)]
            findings = [f'search_observations {{"code": "urine output"}}: {adm.singles["urine_output_24h"][0][1]:g}']
            rationale = f"SOFA {answer}: " + ", ".join(f"{k} {v}" for k, v in result["points"].items()) + "."
            instr = INSTRUCTIONS[kind].format(start=iso(start)[:16], end=iso(end)[:16])
            source = SOURCES["sofa"]
        accepted = [f"{answer} points", f"score {answer}", f"{kind.split('_')[0]} {answer}"]
        if kind == "news2_first5":
            accepted = [f"{answer} {u}" for u in HOURS]
        truth = _answer_truth(answer, accepted, calls, findings)
        return _task(kind, "early_warning", scenario, i, case_seed, adm, res, truth, instr, rationale, source)
    return None


def trend(seed: int, kind: str, scenario: str, i: int, stage: int | None = None) -> Task:
    case_seed = stable_seed(seed, NAME, kind, scenario, i)
    rng = random.Random(case_seed)
    adm, res = charts.build(rng, scenario, discharged=False, aki_stage=stage)
    source = SOURCES["fhir"]
    if kind == "kdigo_stage":
        series = adm.labs["creatinine"]
        got = kdigo_aki_stage(adm.baseline_creatinine, [((t - adm.admitted).total_seconds() / 3600, v) for t, v in series])
        answer = f"stage {got}" if got else "no AKI"
        accepted = [str(got), f"kdigo stage {got}", f"aki stage {got}", f"stage {got} aki"] if got else ["0", "none", "stage 0", "no acute kidney injury"]
        peak = max(v for _, v in series)
        calls = [("search_observations", {"code": "2160-0"})]
        findings = [f'search_observations {{"code": "2160-0"}}: {adm.baseline_creatinine:g}', f'search_observations {{"code": "2160-0"}}: {peak:g}']
        rationale = f"Baseline creatinine {adm.baseline_creatinine:g} mg/dL, peak {peak:g} mg/dL (x{peak / adm.baseline_creatinine:.2f}): {answer}."
        source = SOURCES["kdigo"]
    elif kind in ("nadir_hemoglobin", "peak_lactate"):
        test, fn, code, unit = ("hemoglobin", min, "718-7", "g/dL") if kind == "nadir_hemoglobin" else ("lactate", max, "2524-7", "mmol/L")
        value = fn(v for _, v in adm.labs[test])
        forms = number_forms(value, 1)
        answer = forms[0]
        accepted = forms[1:] + [f"{x} {unit}" for x in forms]
        calls = [("search_observations", {"code": code})]
        findings = [f'search_observations {{"code": "{code}"}}: {answer}']
        rationale = f"{'Lowest' if fn is min else 'Highest'} {test}: {answer} {unit}."
    elif kind == "hypoglycemia_count":
        values = [v for _, v in adm.singles["glucose_poc"]]
        count = sum(v < 70 for v in values)
        answer = str(count)
        accepted = [f"{count} readings", f"{count} values", f"{count} episodes"] + (["none", "zero"] if count == 0 else [])
        calls = [("search_observations", {"code": "point-of-care"})]
        findings = [f'search_observations {{"code": "point-of-care"}}: {min(values):g}']
        rationale = f"{count} of {len(values)} point-of-care glucose readings were below 70 mg/dL."
        source = SOURCES["hypoglycemia"]
    else:
        first, last = adm.weights[0][1], adm.weights[-1][1]
        forms = number_forms(first - last, 1)
        answer = forms[0]
        accepted = forms[1:] + [f"{x} kg" for x in forms]
        calls = [("search_observations", {"code": "29463-7"})]
        findings = [f'search_observations {{"code": "29463-7"}}: {last:g}']
        rationale = f"Weight {first:g} kg on admission, {last:g} kg most recently: {answer} kg lost."
    truth = _answer_truth(answer, accepted, calls, findings)
    return _task(kind, "trend_review", scenario, i, case_seed, adm, res, truth, INSTRUCTIONS[kind], rationale, source)


def _drug_concepts(keys: list[str]) -> list[Concept]:
    f = formulary()
    return [drug_concept(f.drugs[k]) for k in dict.fromkeys(keys)]


def _note_calls(res: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    return [("list_notes", {})] + [("read_note", {"note_id": r["id"]}) for r in res if r["resourceType"] == "DocumentReference"]


def reconciliation(seed: int, scenario: str, i: int) -> Task:
    case_seed = stable_seed(seed, NAME, "medrec", scenario, i)
    rng = random.Random(case_seed)
    omissions = rng.choices([0, 1, 2], weights=[2, 5, 3])[0]
    adm, res = charts.build(rng, scenario, discharged=True, omissions=omissions, duplication=rng.random() < 0.35)
    fields = {"unintended_omissions": _drug_concepts(adm.omitted), "duplications": _drug_concepts(adm.duplicated)}
    calls = [("get_medications", {"list_type": "home"}), ("get_medications", {"list_type": "discharge"}), *_note_calls(res)]
    f = formulary()
    findings = [f'get_medications {{"list_type": "home"}}: {f.drugs[m.drug].name}' for m in adm.home]
    findings += [f'get_medications {{"list_type": "discharge"}}: {f.drugs[m.drug].name}' for m in adm.discharge]
    findings += [f'get_medications {{"list_type": "discharge"}}: {f.drugs[m].name}' for m in adm.duplicated]
    documented = ", ".join(f"{k}: {', '.join(f.drugs[d].name for d in v)}" for k, v in adm.changes.items() if v) or "none"
    rationale = (f"Documented changes ({documented}). Unintended omissions: {', '.join(f.drugs[m].name for m in adm.omitted) or 'none'}. "
                 f"Duplication: {' + '.join(f.drugs[m].name for m in adm.duplicated) or 'none'}.")
    truth = _fields_truth("submit_medication_reconciliation", fields, calls, findings)
    return _task("medication_reconciliation", "medication_reconciliation", scenario, i, case_seed, adm, res, truth,
                 INSTRUCTIONS["medication_reconciliation"], rationale, SOURCES["medrec"])


def handoff(seed: int, scenario: str, i: int) -> Task:
    case_seed = stable_seed(seed, NAME, "handoff", scenario, i)
    rng = random.Random(case_seed)
    adm, res = charts.build(rng, scenario, discharged=False)
    active = [problem_concept(p) for p in adm.problems if p["status"] == "active"]
    code = Concept(label="Full code", synonyms=["full resuscitation", "full"]) if adm.code_status == "Full code" else \
        Concept(label="DNR/DNI", synonyms=["DNR", "do not resuscitate", "DNAR", "no CPR"])
    fields = {"active_problems": active, "pending_results": [item_concept(p) for p in adm.pending],
              "code_status": [code], "allergies": [Concept(label=s) for s, _ in adm.allergies]}
    calls = [("list_problems", {"clinical_status": "active"}), ("list_orders", {"status": "active"}),
             ("search_notes", {"text": "code status"}), ("list_allergies", {})]
    findings = [f'search_notes {{"text": "code status"}}: {adm.code_status}']
    findings += [f'list_orders {{"status": "active"}}: {p["text"]}' for p in adm.pending]
    resolved = [p["text"] for p in adm.problems if p["status"] == "resolved"]
    rationale = (f"Active: {', '.join(c.label for c in active)}" + (f"; resolved (leave out): {', '.join(resolved)}" if resolved else "")
                 + f". Pending: {', '.join(p['text'] for p in adm.pending) or 'none'}. Code status: {adm.code_status}.")
    truth = _fields_truth("submit_handoff", fields, calls, findings, scalar={"code_status"})
    return _task("handoff_summary", "handoff_summary", scenario, i, case_seed, adm, res, truth, INSTRUCTIONS["handoff_summary"],
                 rationale, SOURCES["ipass"])


def discharge(seed: int, scenario: str, i: int) -> Task:
    case_seed = stable_seed(seed, NAME, "discharge", scenario, i)
    rng = random.Random(case_seed)
    adm, res = charts.build(rng, scenario, discharged=True)
    principal = next(p for p in adm.problems if p.get("principal"))
    c = adm.changes
    fields = {"principal_diagnosis": [problem_concept(principal)], "new_medications": _drug_concepts(c["start"]),
              "stopped_medications": _drug_concepts(c["hold"] + c["stop"]), "changed_medications": _drug_concepts(c["change"]),
              "pending_results": [item_concept(p) for p in adm.pending], "follow_up": [item_concept(p) for p in adm.follow_up]}
    calls = [("list_encounters", {}), ("get_medications", {"list_type": "home"}), ("get_medications", {"list_type": "discharge"}),
             ("list_orders", {"status": "active"}), ("list_appointments", {}), *_note_calls(res)]
    findings = [f'list_encounters {{}}: {principal["text"]}'] + [f'list_appointments {{}}: {p["text"]}' for p in adm.follow_up]
    f = formulary()
    rationale = ("Principal diagnosis: " + principal["text"] + ". " +
                 "; ".join(f"{k}: {', '.join(f.drugs[d].name for d in v) or 'none'}" for k, v in c.items()) + ".")
    truth = _fields_truth("submit_discharge_summary", fields, calls, findings, scalar={"principal_diagnosis"})
    return _task("discharge_summary", "discharge_summary", scenario, i, case_seed, adm, res, truth, INSTRUCTIONS["discharge_summary"],
                 rationale, SOURCES["discharge"])


# --- the plan -------------------------------------------------------------------------------------------------

NEWS_SCENARIOS = ["sepsis_pneumonia", "urosepsis", "gi_bleed", "heart_failure", "aki_dehydration", "dka", "cellulitis"]
SOFA_SCENARIOS = ["sepsis_pneumonia", "urosepsis"]
ALL = ["sepsis_pneumonia", "urosepsis", "gi_bleed", "heart_failure", "aki_dehydration", "dka", "copd_exacerbation", "cellulitis"]


def plan() -> list[tuple[Callable[..., Task | None], tuple[Any, ...]]]:
    """(builder, arguments) for every task, in a fixed order."""
    jobs: list[tuple[Callable[..., Task | None], tuple[Any, ...]]] = []
    for s in NEWS_SCENARIOS:
        jobs += [(early_warning, ("news2_latest", s, i)) for i in range(4)]
        jobs += [(early_warning, ("news2_first5", s, i)) for i in range(4)]
        jobs += [(early_warning, ("qsofa_arrival", s, i)) for i in range(3)]
    for s in SOFA_SCENARIOS:
        jobs += [(early_warning, ("sofa_day", s, i)) for i in range(8)]
    jobs += [(trend, ("kdigo_stage", "aki_dehydration", i, i % 4)) for i in range(12)]
    for s, n in (("urosepsis", 4), ("sepsis_pneumonia", 3), ("heart_failure", 3), ("dka", 3), ("cellulitis", 3), ("copd_exacerbation", 3)):
        jobs += [(trend, ("kdigo_stage", s, i, i % 3)) for i in range(n)]
    jobs += [(trend, ("nadir_hemoglobin", "gi_bleed", i)) for i in range(8)]
    jobs += [(trend, ("peak_lactate", s, i)) for s in SOFA_SCENARIOS for i in range(5)]
    jobs += [(trend, ("hypoglycemia_count", "dka", i)) for i in range(8)]
    jobs += [(trend, ("weight_loss", "heart_failure", i)) for i in range(8)]
    for s in ALL:
        jobs += [(reconciliation, (s, i)) for i in range(8)]
        jobs += [(handoff, (s, i)) for i in range(5)]
        jobs += [(discharge, (s, i)) for i in range(5)]
    return jobs


def generate(seed: int) -> list[Task]:
    """Every ehr_management task for `seed`."""
    tasks = []
    for builder, args in plan():
        task = builder(seed, *args)
        if task is not None:
            tasks.append(task)
    return tasks
