"""Seeded medication-safety cases built from the formulary and the templates in cases.yaml.

Every answer comes from a formulary fact (with its source). Patients are placed well inside a
dosing band or Child-Pugh class, so rounding or the choice of body weight never changes the answer,
and a medication list never holds a pair the formulary rates (or marks unrated) other than the one
the case is about.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass, field
from functools import cache
from typing import Any


from medgym.domains.drug_interaction.formulary import Band, Drug, Formulary, apixaban_af_dose, formulary, read_yaml
from medgym.encounter import stable_seed
from medgym.tasks.schema import (
    Allergy,
    Chart,
    Concept,
    ExamFinding,
    GroundTruth,
    LabResult,
    Medication,
    Presentation,
    Task,
    ToolCall,
    Vitals,
)
from medgym.tools import catalog
from medgym.tools.calculators.hepatology import calculate_child_pugh
from medgym.tools.calculators.renal import calculate_ckd_epi_2021, calculate_cockcroft_gault

NAME = "drug_interaction"
FINAL = "submit_medication_review"
MALE_ONLY = {"tamsulosin", "finasteride", "sildenafil", "tadalafil"}
BAND_MARGIN = 4.0  # mL/min (or mL/min/1.73 m2) kept between a patient's value and a band edge
OPEN_BAND_SPAN = 40.0  # how far above an open-ended band's lower edge a value may be drawn
CASES = {"interaction_check": 2, "medication_review": 2, "renal_dosing": 2, "hepatic_dosing": 2, "allergy_per_drug": 5,
         "pregnancy": 2, "pregnancy_none": 12, "lactation": 3, "lactation_none": 4, "older_adult": 3}

INSTRUCTIONS = {
    "interaction_check": (
        "The team wants to start {proposed} for {why}. Check it against the patient's chart and current medications, "
        "then call submit_medication_review with: problem_drugs (every drug in the interaction, including the new one), "
        "severity, action for the combination, recommended_dose if the label sets a dose for this combination, and "
        "alternative if the new drug should be replaced by a safer one."
    ),
    "medication_review": (
        "Screen the patient's current medication list for drug-drug interactions. Call submit_medication_review with "
        "problem_drugs (the interacting drugs), severity and the recommended action."
    ),
    "renal_dosing": (
        "The team plans to start {drug} for {indication}. Assess the patient's kidney function from the chart and call "
        "submit_medication_review with action (\"use\" if the usual dose is right, \"reduce dose\", or \"avoid\") and "
        "recommended_dose when the label states the dose for this kidney function."
    ),
    "hepatic_dosing": (
        "The patient has cirrhosis. The team plans to start {drug}. Work out the Child-Pugh class from the chart "
        "(labs and examination), then call submit_medication_review with action (\"use\", \"reduce dose\" or \"avoid\") "
        "and recommended_dose if the label states one."
    ),
    "allergy_check": (
        "The team wants to give {drug} for {why}. Check the patient's allergy history and call submit_medication_review "
        "with action \"use\" if the drug may be given or \"avoid\" if it should not."
    ),
    "pregnancy": (
        "The patient is pregnant. Review each of her medications for use in pregnancy and call submit_medication_review "
        "with problem_drugs (the drugs to stop; empty if none), action (\"avoid\" if any must be stopped, else \"use\") "
        "and alternative when a guideline names a replacement."
    ),
    "lactation": (
        "The patient is breastfeeding. Review each of her medications for use during breastfeeding and call "
        "submit_medication_review with problem_drugs (the drugs to stop; empty if none) and action (\"avoid\" if any must "
        "be stopped, else \"use\")."
    ),
    "older_adult_review": (
        "Review this older adult's medications against the AGS Beers Criteria 2023 and call submit_medication_review with "
        "problem_drugs (the drugs the criteria say to avoid in older adults regardless of indication) and action \"avoid\"."
    ),
}


def cockcroft_gault(age: float, weight_kg: float, creatinine: float, sex: str) -> float:
    return calculate_cockcroft_gault(creatinine_mg_dl=creatinine, age_years=age, weight_kg=weight_kg, sex=sex)["creatinine_clearance"]


def ckd_epi_2021(age: float, creatinine: float, sex: str) -> float:
    return calculate_ckd_epi_2021(creatinine_mg_dl=creatinine, age_years=age, sex=sex)["egfr"]


def ideal_body_weight(height_cm: float, sex: str) -> float:
    """Devine formula: 50 kg (male) or 45.5 kg (female) + 2.3 kg per inch of height over 5 feet.
    Source: Devine BJ. Drug Intell Clin Pharm 1974;8:650-655. Used only to keep a case's creatinine
    clearance inside its dosing band whichever body weight a reader uses."""
    return (50.0 if sex == "male" else 45.5) + 2.3 * (height_cm / 2.54 - 60)


@cache
def templates() -> dict[str, Any]:
    return read_yaml(__package__, "cases.yaml")


# --- answer concepts -----------------------------------------------------------------------------------


def drug_concept(d: Drug) -> Concept:
    return Concept(label=d.name, synonyms=sorted({d.key.replace("_", " "), *d.brands, *d.aliases} - {d.name}))


_FREQUENCIES = {
    "once daily": ["daily", "once a day", "qd", "every 24 hours", "q24h"],
    "twice daily": ["twice a day", "bid", "every 12 hours", "q12h", "2 times daily"],
}


def dose_concept(dose: str, extra: list[str] | None = None) -> Concept:
    """The dose and the usual ways of writing its frequency ("15 mg once daily" = "15 mg daily" = "15 mg qd")."""
    base = dose.split(" with ")[0].split(" (")[0].strip()
    variants = {base}
    for freq, others in _FREQUENCIES.items():
        if freq in base:
            variants |= {base.replace(freq, o) for o in others}
    return Concept(label=dose, synonyms=sorted(variants - {dose}) + list(extra or []))


def action_concept(actions: list[str]) -> Concept:
    return Concept(label=actions[0], synonyms=list(actions[1:]))


# --- patients ------------------------------------------------------------------------------------------


@dataclass
class Patient:
    age: int
    sex: str
    height_cm: float
    weight_kg: float
    creatinine: float
    meds: list[str] = field(default_factory=list)
    doses: dict[str, str] = field(default_factory=dict)
    pmh: list[str] = field(default_factory=list)
    labs: dict[str, float] = field(default_factory=dict)
    exam: list[ExamFinding] = field(default_factory=list)
    allergies: list[Allergy] = field(default_factory=list)


def new_patient(rng: random.Random, age: tuple[int, int], sex: str | None = None, bmi: tuple[float, float] = (20, 29)) -> Patient:
    sex = sex or rng.choice(["female", "male"])
    height = rng.uniform(*((165, 190) if sex == "male" else (152, 176)))
    weight = round(rng.uniform(*bmi) * (height / 100) ** 2)
    p = Patient(age=rng.randint(*age), sex=sex, height_cm=round(height), weight_kg=weight, creatinine=0.0)
    p.creatinine = normal_creatinine(rng, p)
    return p


def normal_creatinine(rng: random.Random, p: Patient) -> float:
    """A creatinine inside the catalog's normal interval that gives CrCl and eGFR of at least 70."""
    low, high = catalog.labs()["creatinine"]["by_sex"][p.sex]["normal"]
    for _ in range(100):
        cr = round(rng.uniform(low, high), 2)
        if cockcroft_gault(p.age, p.weight_kg, cr, p.sex) >= 70 and ckd_epi_2021(p.age, cr, p.sex) >= 70:
            return cr
    return low


def conflicts(f: Formulary, a: str, b: str) -> bool:
    return a == b or f.interaction(a, b) is not None or f.unrated_pair(a, b)


def add_background(rng: random.Random, f: Formulary, p: Patient, k: int, avoid: list[str] = (), pool: list[str] | None = None) -> None:
    """Add up to k background drugs that form no rated or unrated pair with anything on the list (or in `avoid`)."""
    pool = list(pool or templates()["background"])
    rng.shuffle(pool)
    present = [*p.meds, *avoid]
    groups = {f.drugs[m].group for m in present}
    for cand in pool:
        if k <= 0:
            break
        d = f.drugs[cand]
        if cand in MALE_ONLY and p.sex != "male" or d.group in groups:
            continue
        if any(conflicts(f, cand, m) for m in present):
            continue
        p.meds.append(cand)
        present.append(cand)
        groups.add(d.group)
        k -= 1


def problem_list(p: Patient, extra: list[str] = ()) -> list[str]:
    seen: list[str] = []
    for item in [*extra, *(templates()["indication"].get(m) for m in p.meds)]:
        if item and item not in seen:
            seen.append(item)
    return seen


def vitals(rng: random.Random, p: Patient) -> Vitals:
    return Vitals(heart_rate=rng.randint(62, 88), systolic_bp=rng.randint(112, 136), diastolic_bp=rng.randint(66, 84),
                  respiratory_rate=rng.randint(12, 18), temperature_c=round(rng.uniform(36.5, 37.1), 1),
                  spo2=rng.randint(96, 99), weight_kg=p.weight_kg, height_cm=p.height_cm)


def lab(test: str, value: float, sex: str) -> LabResult:
    return catalog.lab_result(test, value, sex)


def make_task(kind: str, condition: str, index: int, seed: int, rng: random.Random, p: Patient, *, complaint: str,
              instructions: str, fields: dict[str, list[Concept]], calls: list[tuple[str, dict[str, Any]]],
              key_findings: list[str], rationale: str, source: str, heldout: bool, setting: str = "outpatient clinic",
              task_type: str | None = None) -> Task:
    f = formulary()
    meds = [Medication(name=f.drugs[m].name, dose=p.doses.get(m, f.drugs[m].usual_dose or "")) for m in p.meds]
    labs = {"creatinine": lab("creatinine", p.creatinine, p.sex)}
    labs.update({t: lab(t, v, p.sex) for t, v in p.labs.items()})
    submission = {k: (v[0].label if k not in ("problem_drugs",) else [c.label for c in v]) for k, v in fields.items()}
    return Task(
        id=f"drug-{kind.replace('_', '-')}-{condition}-{index:03d}",
        domain=NAME,
        task_type=task_type or kind,
        condition=condition,
        split="heldout" if heldout else "train",
        instructions=instructions,
        presentation=Presentation(age=p.age, sex=p.sex, chief_complaint=complaint, vitals=vitals(rng, p), setting=setting),
        chart=Chart(past_medical_history=p.pmh, medications=meds, allergies=p.allergies, exam=p.exam, labs=labs),
        truth=GroundTruth(
            final_tool=FINAL,
            answer=str(submission.get("action", "")),
            fields=fields,
            key_findings=key_findings,
            demonstration=[ToolCall(name=n, arguments=a) for n, a in [*calls, (FINAL, submission)]],
        ),
        rationale=rationale,
        source=source,
        seed=seed,
    )


# --- interaction_check and medication_review ------------------------------------------------------------


def _impaired_kidneys(rng: random.Random, p: Patient) -> None:
    """Give `p` clearly impaired kidney function (CrCl 20-40 mL/min) and chronic kidney disease."""
    target = rng.uniform(22, 38)
    p.creatinine = round((140 - p.age) * p.weight_kg * (0.85 if p.sex == "female" else 1) / (72 * target), 2)


def interaction_checks(seed: int) -> list[Task]:
    f, t = formulary(), templates()
    heldout = set(t["heldout"]["interaction_check"])
    tasks = []
    for scenario in t["interaction_check"]:
        cur, new = f.drugs[scenario["current"]], f.drugs[scenario["proposed"]]
        record = f.interaction(cur.key, new.key)
        assert record is not None, scenario
        condition = f"{cur.key}+{new.key}".replace("_", "-")
        for i in range(CASES["interaction_check"]):
            case_seed = stable_seed(seed, NAME, "interaction", condition, i)
            rng = random.Random(case_seed)
            sex = "male" if new.key in MALE_ONLY or cur.key in MALE_ONLY else ("female" if new.key == "misoprostol" else None)
            p = new_patient(rng, (40, 78), sex)
            p.meds = [cur.key]
            impaired = bool(scenario.get("impairment")) and i % 2 == 0
            extra_pmh = []
            if impaired:
                _impaired_kidneys(rng, p)
                extra_pmh.append("Chronic kidney disease")
            add_background(rng, f, p, rng.randint(2, 4), avoid=[new.key])
            p.pmh = problem_list(p, extra_pmh)
            severity, actions = record.severity, list(record.action)
            if impaired and record.contraindicated_if:
                severity, actions = "contraindicated", ["avoid"]
            fields = {"problem_drugs": [drug_concept(cur), drug_concept(new)], "severity": [Concept(label=severity)],
                      "action": [action_concept(actions)]}
            if actions[0] == "reduce dose" and record.dose_limit:
                fields["recommended_dose"] = [dose_concept(record.dose_limit, record.dose_accept)]
            calls: list[tuple[str, dict[str, Any]]] = [("review_medications", {})]
            if record.contraindicated_if:
                calls += [("review_medical_history", {}), ("order_lab", {"test": "creatinine"})]
            calls.append(("check_interaction", {"drug_a": new.name, "drug_b": cur.name}))
            options = [o for o in record.alternatives if not any(conflicts(f, o, m) for m in p.meds)]
            if actions[0] == "avoid" and record.alternatives_for == new.key and options:
                fields["alternative"] = [Concept(label=f.drugs[options[0]].name,
                                                 synonyms=[f.drugs[o].name for o in options[1:]])]
                calls.append(("suggest_alternatives", {"drug": new.name, "reason": "interaction", "interacting_drug": cur.name}))
            dose = f" {scenario['dose']}" if scenario.get("dose") else ""
            findings = [f"review_medications {{}}: {cur.name}"] + ([f'order_lab {{"test": "creatinine"}}: {p.creatinine:g}'] if record.contraindicated_if else [])
            rationale = (f"{new.name.capitalize()} + {cur.name}: {severity}. {record.mechanism} {record.management}"
                         + (" The patient has chronic kidney disease, so the combination is contraindicated." if impaired else ""))
            tasks.append(make_task(
                "interaction_check", condition, i, case_seed, rng, p,
                complaint=f"medication safety check before starting {new.name}",
                instructions=INSTRUCTIONS["interaction_check"].format(proposed=new.name + dose, why=scenario["why"]),
                fields=fields, calls=calls, key_findings=findings, rationale=rationale, source=f.cite(record.source),
                heldout=bool(heldout & {cur.key, new.key}),
            ))
        for j, variant in enumerate(scenario.get("variants", []), CASES["interaction_check"]):
            tasks.append(_dose_variant(seed, scenario, variant, record, condition, j, bool(heldout & {cur.key, new.key})))
    return tasks


def _dose_variant(seed: int, scenario: dict[str, Any], variant: dict[str, Any], record: Any, condition: str, index: int,
                  heldout: bool) -> Task:
    """A case at a dose where the label's instruction for the combination differs from the usual one."""
    f = formulary()
    cur, new = f.drugs[scenario["current"]], f.drugs[scenario["proposed"]]
    case_seed = stable_seed(seed, NAME, "interaction", condition, index)
    rng = random.Random(case_seed)
    if cur.key == "apixaban":
        p, met = _apixaban_patient(rng, 2)
    else:
        p = new_patient(rng, (40, 78))
    p.meds = [cur.key]
    if variant.get("current_dose"):
        p.doses[cur.key] = variant["current_dose"]
    add_background(rng, f, p, rng.randint(2, 4), avoid=[new.key])
    p.pmh = problem_list(p)
    proposed = new.name + " " + variant.get("proposed_dose", scenario.get("dose", "")).strip()
    calls: list[tuple[str, dict[str, Any]]] = [("review_medications", {}),
                                               ("check_interaction", {"drug_a": new.name, "drug_b": cur.name})]
    if variant["answer"] == "use":
        fields = {"action": [Concept(label="use", synonyms=["monitor"])]}
        rationale = (f"{new.name.capitalize()} + {cur.name}: {record.management} At the dose here "
                     f"({(variant.get('current_dose') or variant.get('proposed_dose'))}) the limit is met, so no change is needed.")
    else:
        fields = {"problem_drugs": [drug_concept(cur), drug_concept(new)], "severity": [Concept(label=record.severity)],
                  "action": [Concept(label="avoid")]}
        rationale = (f"{new.name.capitalize()} + {cur.name}: {record.management} The patient already takes "
                     f"{variant['current_dose']}, so the combination should be avoided.")
    return make_task(
        "interaction_check", condition, index, case_seed, rng, p,
        complaint=f"medication safety check before starting {new.name}",
        instructions=INSTRUCTIONS["interaction_check"].format(proposed=proposed, why=scenario["why"]),
        fields=fields, calls=calls,
        key_findings=[f"review_medications {{}}: {cur.name} {variant.get('current_dose', '')}".strip()],
        rationale=rationale, source=f.cite(record.source), heldout=heldout,
    )


def medication_reviews(seed: int) -> list[Task]:
    f, t = formulary(), templates()
    heldout = set(t["heldout"]["medication_review"])
    tasks = []
    for a_key, b_key in t["medication_review"]:
        record = f.interaction(a_key, b_key)
        assert record is not None, (a_key, b_key)
        a, b = f.drugs[a_key], f.drugs[b_key]
        condition = f"{a_key}+{b_key}".replace("_", "-")
        for i in range(CASES["medication_review"]):
            case_seed = stable_seed(seed, NAME, "review", condition, i)
            rng = random.Random(case_seed)
            p = new_patient(rng, (45, 80), "male" if {a_key, b_key} & MALE_ONLY else None)
            p.meds = [a_key, b_key]
            add_background(rng, f, p, rng.randint(2, 5))
            rng.shuffle(p.meds)
            p.pmh = problem_list(p)
            fields = {"problem_drugs": [drug_concept(a), drug_concept(b)], "severity": [Concept(label=record.severity)],
                      "action": [action_concept(list(record.action))]}
            names = [f.drugs[m].name for m in p.meds]
            calls = [("review_medications", {}), ("screen_medication_list", {"drugs": names})]
            tasks.append(make_task(
                "medication_review", condition, i, case_seed, rng, p, complaint="medication review",
                instructions=INSTRUCTIONS["medication_review"], fields=fields, calls=calls,
                key_findings=[f"review_medications {{}}: {a.name}", f"review_medications {{}}: {b.name}"],
                rationale=f"{a.name} + {b.name}: {record.severity}. {record.mechanism} {record.management}",
                source=f.cite(record.source), heldout=bool(heldout & {a_key, b_key}),
            ))
    return tasks


# --- renal and hepatic dosing -----------------------------------------------------------------------------


def _creatinine_for(measure: str, target: float, p: Patient) -> float:
    if measure == "crcl":
        return (140 - p.age) * p.weight_kg * (0.85 if p.sex == "female" else 1) / (72 * target)
    low, high = 0.2, 15.0  # eGFR falls as creatinine rises: bisect
    for _ in range(60):
        mid = (low + high) / 2
        low, high = (mid, high) if ckd_epi_2021(p.age, mid, p.sex) > target else (low, mid)
    return (low + high) / 2


def kidney_values(p: Patient) -> dict[str, float]:
    """CrCl with actual and with ideal body weight (the lesser of the two) and eGFR."""
    ibw = min(p.weight_kg, ideal_body_weight(p.height_cm, p.sex))
    return {"crcl": cockcroft_gault(p.age, p.weight_kg, p.creatinine, p.sex),
            "crcl_ibw": cockcroft_gault(p.age, ibw, p.creatinine, p.sex),
            "egfr": ckd_epi_2021(p.age, p.creatinine, p.sex)}


def place_in_band(rng: random.Random, measure: str, band: Band, age: tuple[int, int]) -> Patient | None:
    """A patient whose CrCl (by any body weight) or eGFR lies inside `band` with a margin, or None."""
    low = (band.low or 0) + BAND_MARGIN
    high = (band.high if band.high is not None else (band.low or 0) + OPEN_BAND_SPAN) - BAND_MARGIN
    for _ in range(300):
        p = new_patient(rng, age)
        p.creatinine = round(_creatinine_for(measure, rng.uniform(low, high), p), 2)
        if not 0.5 <= p.creatinine <= 8.0:
            continue
        v = kidney_values(p)
        values = [v["crcl"], v["crcl_ibw"]] if measure == "crcl" else [v["egfr"]]
        if all(low <= x <= high for x in values):
            return p
    return None


def renal_cases(seed: int) -> list[Task]:
    f, t = formulary(), templates()
    heldout = set(t["heldout"]["renal_dosing"])
    tasks = []
    for key in t["renal_dosing"]:
        d = f.drugs[key]
        r = d.renal
        if r.rule == "apixaban_af":
            variants = [("criteria-0", 0), ("criteria-1", 1), ("criteria-2", 2), ("criteria-3", 3)]
        else:
            variants = [(f"band-{j}", b) for j, b in enumerate(r.bands) if b.generate]
        for label, variant in variants:
            condition = f"{key.replace('_', '-')}-{label}"
            for i in range(CASES["renal_dosing"]):
                case_seed = stable_seed(seed, NAME, "renal", condition, i)
                rng = random.Random(case_seed)
                if r.rule == "apixaban_af":
                    p, met = _apixaban_patient(rng, variant)
                    dose, _ = apixaban_af_dose(p.age, p.weight_kg, p.creatinine)
                    action = "use" if dose.startswith("5") else "reduce dose"
                    answer_text = f"{len(met)} of the dose-reduction criteria met ({', '.join(met) or 'none'}): {dose}."
                    call = ("get_renal_dosing", {"drug": d.name})
                    calculator = None
                else:
                    p = place_in_band(rng, r.measure, variant, (35, 88))
                    assert p is not None, condition
                    dose, action = variant.dose, variant.action
                    value = kidney_values(p)[r.measure]
                    answer_text = f"{r.measure.upper()} {value:.0f}: {variant.text}"
                    arg = "crcl_ml_min" if r.measure == "crcl" else "egfr"
                    call = ("get_renal_dosing", {"drug": d.name, arg: round(value)})
                    calculator = ("calculate_cockcroft_gault", {"creatinine_mg_dl": p.creatinine, "age_years": p.age,
                                                                "weight_kg": p.weight_kg, "sex": p.sex}) if r.measure == "crcl" else \
                        ("calculate_ckd_epi_2021", {"creatinine_mg_dl": p.creatinine, "age_years": p.age, "sex": p.sex})
                add_background(rng, f, p, rng.randint(1, 3), avoid=[key])
                egfr = ckd_epi_2021(p.age, p.creatinine, p.sex)
                p.pmh = problem_list(p, ["Chronic kidney disease"] if egfr < 60 else [])
                fields = {"action": [Concept(label=action)]}
                if dose and action != "avoid":
                    fields["recommended_dose"] = [dose_concept(dose)]
                findings = [f'order_lab {{"test": "creatinine"}}: {p.creatinine:g}']
                if r.measure != "egfr":
                    findings.append(f"read_vitals {{}}: {p.weight_kg:g} kg")
                tasks.append(make_task(
                    "renal_dosing", condition, i, case_seed, rng, p, complaint=f"dose check before starting {d.name}",
                    instructions=INSTRUCTIONS["renal_dosing"].format(drug=d.name, indication=r.indication),
                    fields=fields, calls=[("read_vitals", {}), ("order_lab", {"test": "creatinine"}), *([calculator] if calculator else []), call],
                    key_findings=findings, rationale=f"{d.name.capitalize()} ({r.indication}). {answer_text}",
                    source=f.cite(r.source) + "; " + f.cite("CG1976" if r.measure != "egfr" else "CKDEPI2021"),
                    heldout=key in heldout,
                ))
    return tasks


def _apixaban_patient(rng: random.Random, n_met: int) -> tuple[Patient, list[str]]:
    met = set(rng.sample(["age", "weight", "creatinine"], n_met))
    p = new_patient(rng, (82, 90) if "age" in met else (55, 76))
    if "weight" in met:
        p.weight_kg = rng.randint(46, 56)
    elif p.weight_kg < 65:
        p.weight_kg = rng.randint(66, 90)
    p.creatinine = round(rng.uniform(1.6, 2.3), 2) if "creatinine" in met else round(rng.uniform(0.75, 1.3), 2)
    return p, apixaban_af_dose(p.age, p.weight_kg, p.creatinine)[1]


CHILD_PUGH_VALUES = {
    "total_bilirubin": {1: (0.6, 1.6), 2: (2.2, 2.8), 3: (3.6, 6.0)},
    "albumin": {1: (3.7, 4.3), 2: (2.9, 3.3), 3: (2.1, 2.6)},
    "inr": {1: (1.0, 1.5), 2: (1.8, 2.2), 3: (2.5, 3.0)},
}
ASCITES = {1: ("none", "Soft, non-distended abdomen; no shifting dullness or fluid wave. Liver edge not palpable."),
           2: ("mild", "Mild abdominal distension with shifting dullness: mild ascites."),
           3: ("moderate_to_severe", "Tense abdominal distension with a fluid wave: moderate to severe ascites.")}
ENCEPHALOPATHY = {1: ("none", "Alert and oriented to person, place and time; no asterixis."),
                  2: ("grade_1_2", "Slowed responses, oriented to person only; asterixis present: grade 1-2 hepatic encephalopathy.")}
CLASS_POINTS = {"A": (5, 6), "B": (7, 9), "C": (10, 13)}


def _child_pugh_patient(rng: random.Random, cls: str) -> tuple[Patient, dict[str, Any]]:
    low, high = CLASS_POINTS[cls]
    while True:
        pts = {k: rng.choice([1, 2, 3]) for k in ("total_bilirubin", "albumin", "inr", "ascites")}
        pts["enceph"] = rng.choice([1, 2])
        if low <= sum(pts.values()) <= high:
            break
    p = new_patient(rng, (40, 75))
    for test in ("total_bilirubin", "albumin", "inr"):
        p.labs[test] = round(rng.uniform(*CHILD_PUGH_VALUES[test][pts[test]]), 1)
    ascites, ascites_text = ASCITES[pts["ascites"]]
    enceph, enceph_text = ENCEPHALOPATHY[pts["enceph"]]
    p.exam = [ExamFinding(system="abdomen", finding=ascites_text, abnormal=pts["ascites"] > 1),
              ExamFinding(system="mental_status", finding=enceph_text, abnormal=pts["enceph"] > 1)]
    result = calculate_child_pugh(bilirubin_mg_dl=p.labs["total_bilirubin"], albumin_g_dl=p.labs["albumin"],
                                  inr=p.labs["inr"], ascites=ascites, encephalopathy=enceph)
    score, got = result["score"], result["child_pugh_class"]
    assert got == cls, (pts, score)
    return p, {"score": score, "ascites": ascites, "encephalopathy": enceph}


def hepatic_cases(seed: int) -> list[Task]:
    f, t = formulary(), templates()
    heldout = set(t["heldout"]["hepatic_dosing"])
    tasks = []
    for key in t["hepatic_dosing"]:
        d = f.drugs[key]
        for cls in "ABC":
            entry = d.hepatic.for_class(cls)
            if entry is None:
                continue
            condition = f"{key.replace('_', '-')}-child-pugh-{cls.lower()}"
            for i in range(CASES["hepatic_dosing"]):
                case_seed = stable_seed(seed, NAME, "hepatic", condition, i)
                rng = random.Random(case_seed)
                p, cp = _child_pugh_patient(rng, cls)
                add_background(rng, f, p, rng.randint(1, 2), avoid=[key], pool=["pantoprazole", "levothyroxine", "tamsulosin", "losartan", "furosemide"])
                p.pmh = problem_list(p, [f"Cirrhosis ({rng.choice(t['cirrhosis_etiology'])})"])
                fields = {"action": [Concept(label=entry.action)]}
                if entry.dose and entry.action != "avoid":
                    fields["recommended_dose"] = [dose_concept(entry.dose)]
                calls = [("order_lab", {"test": "lft"}), ("order_lab", {"test": "coags"}), ("examine", {"system": "abdomen"}),
                         ("examine", {"system": "mental_status"}),
                         ("calculate_child_pugh", {"bilirubin_mg_dl": p.labs["total_bilirubin"], "albumin_g_dl": p.labs["albumin"],
                                                   "inr": p.labs["inr"], "ascites": cp["ascites"], "encephalopathy": cp["encephalopathy"]}),
                         ("get_hepatic_dosing", {"drug": d.name, "child_pugh_class": cls})]
                findings = [f'order_lab {{"test": "{t}"}}: {p.labs[t]}' for t in ("total_bilirubin", "albumin", "inr")]
                findings += [f'examine {{"system": "{e.system}"}}: {e.finding}' for e in p.exam]
                tasks.append(make_task(
                    "hepatic_dosing", condition, i, case_seed, rng, p, complaint=f"dose check before starting {d.name}",
                    instructions=INSTRUCTIONS["hepatic_dosing"].format(drug=d.name), fields=fields, calls=calls,
                    key_findings=findings,
                    rationale=f"Child-Pugh {cp['score']} points, class {cls}. {d.name.capitalize()}: {entry.text}",
                    source=f.cite(d.hepatic.source) + "; " + f.cite("PUGH1973"), heldout=key in heldout,
                ))
    return tasks


# --- allergy, pregnancy and lactation, older adults --------------------------------------------------------


def allergy_cases(seed: int) -> list[Task]:
    f, t = formulary(), templates()
    heldout = set(t["heldout"]["allergy_check"])
    tasks = []
    for block in t["allergy_check"]:
        for proposed in block["proposed"]:
            d = f.drugs[proposed]
            combos = [(a, r) for a, r in itertools.product(block["allergens"], block["reactions"])
                      if a != proposed and f.allergy_rule(f.drugs[a], r, d)]
            random.Random(stable_seed(seed, NAME, "allergy-combos", proposed)).shuffle(combos)
            for allergen_key, reaction in combos[: CASES["allergy_per_drug"]]:
                allergen = f.drugs[allergen_key]
                rule = f.allergy_rule(allergen, reaction, d)
                substance = "penicillin" if allergen_key == "penicillin_v" else allergen.name
                condition = f"{allergen_key}-{reaction.split()[0]}-{proposed}".replace("_", "-")
                case_seed = stable_seed(seed, NAME, "allergy", condition)
                rng = random.Random(case_seed)
                p = new_patient(rng, (25, 80))
                p.allergies = [Allergy(substance=substance, reaction=reaction)]
                add_background(rng, f, p, rng.randint(1, 3), avoid=[proposed, allergen_key])
                p.pmh = problem_list(p)
                why = _why(rng, d, t)
                calls = [("review_allergies", {}),
                         ("check_allergy_cross_reactivity", {"allergy": substance, "drug": d.name, "reaction": reaction})]
                tasks.append(make_task(
                    "allergy_check", condition, 0, case_seed, rng, p, complaint=f"allergy check before giving {d.name}",
                    instructions=INSTRUCTIONS["allergy_check"].format(drug=d.name, why=why),
                    fields={"action": [Concept(label=rule.verdict)]}, calls=calls,
                    key_findings=[f"review_allergies {{}}: {substance}"],
                    rationale=f"Allergy to {substance} ({reaction}); proposed {d.name}: {rule.verdict}. {rule.text}",
                    source=f.cite(rule.source), heldout=allergen_key in heldout, setting="inpatient ward",
                ))
    return tasks


def _why(rng: random.Random, d: Drug, t: dict[str, Any]) -> str:
    if d.group in ("NSAID",):
        return rng.choice(["acute gout flare", "acute low back pain"]) if d.key != "ketorolac" else "acute renal colic"
    if d.group in ("loop diuretic", "thiazide diuretic"):
        return "edema" if d.group == "loop diuretic" else "hypertension"
    if d.key == "sacubitril_valsartan":
        return "heart failure with reduced ejection fraction"
    if d.allergy_group == "ace_inhibitor":
        return "hypertension"
    return rng.choice(t["why_antibiotic"])


def pregnancy_cases(seed: int) -> list[Task]:
    f, t = formulary(), templates()
    heldout = set(t["heldout"]["pregnancy_lactation"])
    tasks = []
    specs = [(k, i, "pregnancy") for k in t["pregnancy_avoid"] for i in range(CASES["pregnancy"])]
    specs += [(None, i, "pregnancy") for i in range(CASES["pregnancy_none"])]
    specs += [(k, i, "lactation") for k in t["lactation_avoid"] for i in range(CASES["lactation"])]
    specs += [(None, i, "lactation") for i in range(CASES["lactation_none"])]
    for key, i, status in specs:
        condition = f"{status}-{key.replace('_', '-') if key else 'none'}"
        case_seed = stable_seed(seed, NAME, condition, i)
        rng = random.Random(case_seed)
        p = new_patient(rng, (19, 42), "female")
        compatible = t["pregnancy_compatible"] if status == "pregnancy" else t["lactation_compatible"]
        p.meds = [key] if key else []
        add_background(rng, f, p, rng.randint(1, 2) if key else rng.randint(2, 3), pool=compatible)
        rng.shuffle(p.meds)
        if status == "pregnancy":
            weeks = rng.randint(*t["pregnancy_avoid"][key]) if key else rng.randint(8, 30)
            state = f"Pregnancy, {weeks} weeks of gestation"
        else:
            weeks = rng.randint(2, 16)
            state = f"Breastfeeding (postpartum, {weeks} weeks)"
        p.pmh = problem_list(p, [state])
        fields: dict[str, list[Concept]] = {"problem_drugs": [drug_concept(f.drugs[key])] if key else [],
                                            "action": [Concept(label="avoid" if key else "use")]}
        calls: list[tuple[str, dict[str, Any]]] = [("review_medical_history", {}), ("review_medications", {})]
        for m in p.meds:
            args: dict[str, Any] = {"drug": f.drugs[m].name, "status": status}
            if status == "pregnancy":
                args["gestational_age_weeks"] = weeks
            calls.append(("get_pregnancy_lactation", args))
        entry = (f.drugs[key].pregnancy if status == "pregnancy" else f.drugs[key].lactation) if key else None
        if entry and entry.alternatives:
            alts = [f.resolve(a) for a in entry.alternatives]
            fields["alternative"] = [Concept(label=alts[0].name, synonyms=[a.name for a in alts[1:]])]
            calls.append(("suggest_alternatives", {"drug": f.drugs[key].name, "reason": status}))
        rationale = (f"{f.drugs[key].name.capitalize()}: {entry.text}" if entry else
                     "Every medication on the list has guidance supporting its use; no change needed.")
        sources = [entry.source] if entry else [(getattr(f.drugs[m], status).source) for m in p.meds]
        tasks.append(make_task(
            "pregnancy_lactation", condition, i, case_seed, rng, p,
            complaint="medication review in pregnancy" if status == "pregnancy" else "medication review while breastfeeding",
            instructions=INSTRUCTIONS[status], fields=fields, calls=calls,
            key_findings=[f"review_medical_history {{}}: {state}"] + [f"review_medications {{}}: {f.drugs[m].name}" for m in p.meds],
            rationale=rationale, source="; ".join(dict.fromkeys(f.cite(s) for s in sources)),
            heldout=bool(key in heldout),
        ))
    return tasks


def older_adult_cases(seed: int) -> list[Task]:
    f, t = formulary(), templates()
    heldout = set(t["heldout"]["older_adult_review"])
    tasks = []
    for key in t["older_adult_avoid"]:
        d = f.drugs[key]
        condition = f"beers-{key.replace('_', '-')}"
        for i in range(CASES["older_adult"]):
            case_seed = stable_seed(seed, NAME, condition, i)
            rng = random.Random(case_seed)
            p = new_patient(rng, (68, 92))
            p.meds = [key]
            add_background(rng, f, p, rng.randint(3, 5), pool=t["older_adult_decoys"])
            rng.shuffle(p.meds)
            p.pmh = problem_list(p)
            calls = [("review_medications", {})] + [("get_older_adult_guidance", {"drug": f.drugs[m].name}) for m in p.meds]
            tasks.append(make_task(
                "older_adult_review", condition, i, case_seed, rng, p, complaint="medication review (older adult)",
                instructions=INSTRUCTIONS["older_adult_review"],
                fields={"problem_drugs": [drug_concept(d)], "action": [Concept(label="avoid")]}, calls=calls,
                key_findings=[f"review_medications {{}}: {d.name}"], rationale=f"{d.name.capitalize()}: {d.older_adults.text}",
                source=f.cite(d.older_adults.source), heldout=key in heldout,
            ))
    return tasks


def generate(seed: int) -> list[Task]:
    """Every drug_interaction task for `seed`."""
    return [*interaction_checks(seed), *medication_reviews(seed), *renal_cases(seed), *hepatic_cases(seed),
            *allergy_cases(seed), *pregnancy_cases(seed), *older_adult_cases(seed)]
