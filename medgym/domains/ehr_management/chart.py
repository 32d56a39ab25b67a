"""Build one seeded longitudinal chart from a scenario in scenarios.yaml.

The chart is a list of FHIR R4-shaped resources (Patient, Encounter, Observation, Condition,
AllergyIntolerance, MedicationStatement, MedicationRequest, MedicationAdministration,
ServiceRequest, Appointment, DocumentReference) plus an `Admission` record of what was generated,
from which the case builder computes the answers.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from typing import Any


from medgym.domains.drug_interaction.formulary import formulary, read_yaml
from medgym.domains.ehr_management import fhir
from medgym.tools import catalog

CHRONIC_ICD10 = {  # problem-list text -> ICD-10-CM code (validated by the tests)
    "Hypertension": "I10", "Hyperlipidemia": "E78.5", "Type 2 diabetes mellitus": "E11.9", "Hypothyroidism": "E03.9",
    "Gastroesophageal reflux disease": "K21.9", "Gout": "M10.9", "Asthma": "J45.909",
    "Chronic obstructive pulmonary disease": "J44.9", "Osteoporosis": "M81.0", "Allergic rhinitis": "J30.9",
    "Atrial fibrillation": "I48.91", "Benign prostatic hyperplasia": "N40.0", "Major depressive disorder": "F32.9",
}
ALLERGIES = [("penicillin", "hives"), ("sulfamethoxazole-trimethoprim", "rash"), ("codeine", "nausea and vomiting"),
             ("latex", "contact dermatitis")]
VITAL_NOISE = {"heart_rate": 4, "respiratory_rate": 1.2, "systolic_bp": 5, "temperature_c": 0.2, "spo2": 1}


@cache
def templates() -> dict[str, Any]:
    return read_yaml(__package__, "scenarios.yaml")


def iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class VitalSet:
    time: datetime
    hours: int
    heart_rate: int
    respiratory_rate: int
    systolic_bp: int
    diastolic_bp: int
    temperature_c: float
    spo2: int
    oxygen: str  # "Room air" or a device and flow
    consciousness: str  # "Alert" or "New confusion"

    @property
    def on_oxygen(self) -> bool:
        return self.oxygen != "Room air"

    @property
    def mean_bp(self) -> int:
        return round((self.systolic_bp + 2 * self.diastolic_bp) / 3)


@dataclass
class MedLine:
    drug: str  # formulary key
    dose: str


@dataclass
class Admission:
    """What the chart holds, in plain form, for computing answers."""

    scenario: str
    age: int
    sex: str
    admitted: datetime
    discharged: datetime | None
    now: datetime
    baseline_creatinine: float
    vitals: list[VitalSet] = field(default_factory=list)
    labs: dict[str, list[tuple[datetime, float]]] = field(default_factory=dict)
    singles: dict[str, list[tuple[datetime, float]]] = field(default_factory=dict)
    norepinephrine: list[tuple[datetime, float]] = field(default_factory=list)
    problems: list[dict[str, Any]] = field(default_factory=list)  # text, icd10, synonyms, status, principal
    allergies: list[tuple[str, str]] = field(default_factory=list)
    home: list[MedLine] = field(default_factory=list)
    discharge: list[MedLine] = field(default_factory=list)
    changes: dict[str, list[str]] = field(default_factory=dict)  # hold/stop/start/change -> drug keys
    omitted: list[str] = field(default_factory=list)
    duplicated: list[str] = field(default_factory=list)
    pending: list[dict[str, Any]] = field(default_factory=list)
    follow_up: list[dict[str, Any]] = field(default_factory=list)
    code_status: str = "Full code"
    weights: list[tuple[datetime, float]] = field(default_factory=list)


class ChartBuilder:
    """Accumulates resources with short, stable ids."""

    def __init__(self) -> None:
        self.resources: list[dict[str, Any]] = []
        self._counts: dict[str, int] = {}

    def add(self, kind: str, body: dict[str, Any], prefix: str | None = None) -> str:
        prefix = prefix or kind[:3].lower()
        self._counts[prefix] = self._counts.get(prefix, 0) + 1
        rid = f"{prefix}{self._counts[prefix]}"
        self.resources.append({"resourceType": kind, "id": rid, **body})
        return rid


def _lerp(a: float, b: float, x: float) -> float:
    return a + (b - a) * max(0.0, min(1.0, x))


def _draw(rng: random.Random, span: list[float]) -> float:
    return rng.uniform(span[0], span[1])


def vital_times(admitted: datetime, end: datetime) -> list[datetime]:
    """Every 4 hours for the first 24 hours, then at 06:00, 14:00 and 22:00 until `end`."""
    times = [admitted + timedelta(hours=4 * k) for k in range(6)]
    t = (admitted + timedelta(hours=24)).replace(minute=0, second=0)
    while t <= end:
        if t.hour in (6, 14, 22) and t > times[-1]:
            times.append(t)
        t += timedelta(hours=1)
    return times


def build(rng: random.Random, scenario: str, *, discharged: bool, sofa_window: bool = False,
          aki_stage: int | None = None, omissions: int = 0, duplication: bool = False,
          now_hours: int | None = None) -> tuple[Admission, list[dict[str, Any]]]:
    """One chart for `scenario`: the Admission record and the FHIR resources."""
    spec = templates()["scenarios"][scenario]
    f = formulary()
    sex = rng.choice(["female", "male"])
    age = rng.randint(45, 88)
    admitted = datetime(2024, 1, 1, rng.randint(0, 23)) + timedelta(days=rng.randint(0, 330))
    days = rng.randint(*spec["days"])
    if discharged:
        days = min(days, 4)
    discharge_time = (admitted + timedelta(days=days)).replace(hour=11, minute=0)
    if discharged:
        now = discharge_time
    elif now_hours is not None:
        now = admitted + timedelta(hours=now_hours)
    else:
        now = (admitted + timedelta(days=2)).replace(hour=rng.choice([7, 15, 19]), minute=0)
    low, high = catalog.labs()["creatinine"]["by_sex"][sex]["normal"]
    baseline = round(rng.uniform(low, high), 2)
    adm = Admission(scenario=scenario, age=age, sex=sex, admitted=admitted, discharged=discharge_time if discharged else None,
                    now=now, baseline_creatinine=baseline)
    b = ChartBuilder()
    end = now
    stay_hours = (discharge_time - admitted).total_seconds() / 3600

    # --- patient and encounters
    given = rng.choice(["Alex", "Sam", "Jordan", "Taylor", "Morgan", "Casey", "Robin", "Jamie"])
    family = rng.choice(["Rivera", "Chen", "Okafor", "Novak", "Haddad", "Silva", "Kowalski", "Nguyen", "Moreau"])
    birth = (admitted - timedelta(days=365 * age + rng.randint(1, 300))).date().isoformat()
    b.add("Patient", {"name": [{"family": family, "given": [given]}], "gender": sex, "birthDate": birth}, "pat")
    visit = (admitted - timedelta(days=rng.randint(30, 120))).replace(hour=10, minute=0)
    b.add("Encounter", {"status": "finished", "class": {"code": "AMB", "display": "ambulatory"},
                        "type": [{"text": "Primary care visit"}], "subject": fhir.ref("Patient", "pat1"),
                        "period": {"start": iso(visit), "end": iso(visit + timedelta(minutes=30))}}, "enc")
    _lab(b, adm, "enc1", "creatinine", visit, baseline, sex, record=False)

    # --- problems
    home = _home_meds(rng, scenario, f, sex)
    chronic: list[str] = []
    indication = _indications()
    principal_names = [n.lower() for n in [spec["principal"]["text"], *spec["principal"].get("synonyms", [])]]
    for m in home:
        text = indication.get(m.drug)
        if text and text not in chronic and not any(n in text.lower() for n in principal_names):
            chronic.append(text)
    problems = [{**spec["principal"], "status": "active", "principal": True, "synonyms": spec["principal"].get("synonyms", [])}]
    for s in spec["secondary"]:
        resolved = s.get("resolves") and (now - admitted).total_seconds() / 3600 >= 36
        problems.append({**s, "status": "resolved" if resolved else "active", "principal": False, "synonyms": s.get("synonyms", [])})
    for text in chronic:
        problems.append({"text": text, "icd10": CHRONIC_ICD10.get(text), "synonyms": [], "status": "active", "principal": False, "chronic": True})
    adm.problems = problems
    cond_ids = []
    for p in problems:
        body = {"clinicalStatus": {"coding": [{"code": p["status"]}]},
                "category": [{"coding": [{"code": "problem-list-item" if p.get("chronic") else "encounter-diagnosis"}]}],
                "code": fhir.codeable(p["text"], p.get("icd10"), fhir.ICD10CM), "subject": fhir.ref("Patient", "pat1")}
        if not p.get("chronic"):
            body["encounter"] = fhir.ref("Encounter", "enc2")
            body["onsetDateTime"] = iso(admitted)
        if p["status"] == "resolved":
            body["abatementDateTime"] = iso(admitted + timedelta(hours=rng.randint(24, 34)))
        cond_ids.append(b.add("Condition", body, "con"))
    enc = {"status": "finished" if discharged else "in-progress", "class": {"code": "IMP", "display": "inpatient encounter"},
           "type": [{"text": "Hospital admission"}], "subject": fhir.ref("Patient", "pat1"),
           "reasonCode": [{"text": spec["complaint"]}],
           "period": {"start": iso(admitted), **({"end": iso(discharge_time)} if discharged else {})},
           "diagnosis": [{"condition": fhir.ref("Condition", cid, p["text"]), "rank": i + 1}
                         for i, (cid, p) in enumerate(zip(cond_ids, problems)) if not p.get("chronic")]}
    b.add("Encounter", enc, "enc")

    # --- allergies
    for substance, reaction in rng.sample(ALLERGIES, rng.choice([0, 0, 1, 1, 2])):
        adm.allergies.append((substance, reaction))
        b.add("AllergyIntolerance", {"clinicalStatus": {"coding": [{"code": "active"}]}, "code": {"text": substance},
                                     "patient": fhir.ref("Patient", "pat1"), "reaction": [{"manifestation": [{"text": reaction}]}]}, "alg")

    # --- vital signs
    vit = spec["vitals"]
    anchors = {k: (_draw(rng, vit["admission"][k]), _draw(rng, vit["worst"][k]), _draw(rng, vit["discharge"][k]))
               for k in vit["admission"]}
    worst = rng.randint(*vit["worst_hour"])
    confused = rng.random() < vit["confusion"]
    confusion = (worst - rng.randint(2, 6), worst + rng.randint(4, 12))
    oxygen_until = vit["oxygen_until"] * stay_hours
    flow = rng.choice([2, 3, 4])
    for t in vital_times(admitted, end):
        h = round((t - admitted).total_seconds() / 3600)
        x = h / worst if h <= worst else 1 + (h - worst) / max(1.0, stay_hours - worst)
        values = {}
        for k, (a0, w, d) in anchors.items():
            v = _lerp(a0, w, x) if x <= 1 else _lerp(w, d, min(1.0, (x - 1) * 1.6))
            values[k] = v + rng.gauss(0, VITAL_NOISE[k])
        sbp = round(values["systolic_bp"])
        on_o2 = h < oxygen_until
        vs = VitalSet(time=t, hours=h, heart_rate=round(values["heart_rate"]), respiratory_rate=round(values["respiratory_rate"]),
                      systolic_bp=sbp, diastolic_bp=round(sbp * rng.uniform(0.55, 0.65)),
                      temperature_c=round(values["temperature_c"], 1), spo2=min(100, round(values["spo2"] + (2 if on_o2 and not spec.get("spo2_scale_2") else 0))),
                      oxygen=f"Nasal cannula {flow} L/min" if on_o2 else "Room air",
                      consciousness="New confusion" if confused and confusion[0] <= h <= confusion[1] else "Alert")
        adm.vitals.append(vs)
        comps = []
        keys = ["heart_rate", "respiratory_rate", "systolic_bp", "diastolic_bp", "temperature_c", "spo2", "oxygen", "consciousness"]
        if sofa_window:
            keys.insert(4, "mean_bp")
        for key in keys:
            code, text, unit = fhir.VITALS[key]
            value = getattr(vs, key)
            comp: dict[str, Any] = {"code": fhir.codeable(text, code)}
            comp.update({"valueString": value} if isinstance(value, str) else {"valueQuantity": fhir.quantity(value, unit)})
            comps.append(comp)
        b.add("Observation", {"status": "final", "category": fhir.category("vital-signs"),
                              "code": fhir.codeable(fhir.VITAL_PANEL[1], fhir.VITAL_PANEL[0]),
                              "effectiveDateTime": iso(t), "component": comps}, "vs")

    # --- laboratory results
    draws = [admitted + timedelta(hours=1)]
    t = (admitted + timedelta(days=1)).replace(hour=6, minute=0)
    while t <= end:
        draws.append(t)
        t += timedelta(days=1)
    lab_spec = dict(spec["labs"])
    creat_anchor = None
    if aki_stage is not None:
        creat_anchor = _aki_anchors(rng, aki_stage)
    for test, spans in lab_spec.items():
        a0, w, d = (_draw(rng, s) for s in spans)
        if test == "creatinine_x" and creat_anchor:
            a0, w, d = creat_anchor
        name = "creatinine" if test == "creatinine_x" else test
        peak_draw = min(range(len(draws)), key=lambda i: abs((draws[i] - admitted).total_seconds() / 3600 - max(worst, 20)))
        if test == "lactate" or (test == "total_bilirubin" and not sofa_window):
            draws_here = draws[:3]
        else:
            draws_here = draws
        for i, t in enumerate(draws_here):
            if i == 0:
                v = a0
            elif i <= peak_draw:
                v = _lerp(a0, w, i / max(1, peak_draw))
            else:
                v = _lerp(w, d, (i - peak_draw) / max(1, len(draws) - 1 - peak_draw) * 1.3)
            if test == "creatinine_x":
                v *= baseline
            elif creat_anchor is None:
                v *= rng.uniform(0.97, 1.03)
            _lab(b, adm, "enc2", name, t, v, sex)
    if spec.get("poc_glucose"):
        _poc_glucose(rng, b, adm, admitted, end)
    if spec.get("weight_loss_kg"):
        start_weight = round(rng.uniform(68, 112), 1)
        loss = rng.uniform(*spec["weight_loss_kg"])
        days_on = [(admitted + timedelta(days=k)).replace(hour=6, minute=0) for k in range(1, days + 1)]
        days_on = [t for t in days_on if t <= end]
        w_series = [(admitted + timedelta(hours=1), start_weight)] + [
            (t, round(start_weight - loss * (k + 1) / len(days_on) + rng.uniform(-0.2, 0.2) * (k + 1 < len(days_on)), 1))
            for k, t in enumerate(days_on)]
        for t, w in w_series:
            _single(b, adm, "body_weight", t, w)
        adm.weights = w_series
    if sofa_window:
        _sofa_data(rng, b, adm, admitted, sex)

    # --- medications
    adm.home = home
    for m in home:
        d = f.drugs[m.drug]
        b.add("MedicationStatement", {"status": "active", "category": {"coding": [{"code": "community"}]},
                                      "medicationCodeableConcept": {"text": d.name}, "subject": fhir.ref("Patient", "pat1"),
                                      "dateAsserted": iso(admitted + timedelta(hours=2)), "dosage": [{"text": m.dose}]}, "ms")
    notes = _medication_plan(rng, spec, adm, f, omissions, duplication)
    for extra in spec.get("start", []):
        if extra["drug"] not in [m.drug for m in home]:
            _request(b, MedLine(extra["drug"], extra["dose"]), "inpatient", admitted + timedelta(hours=rng.randint(20, 40)))
    if discharged:
        for m in adm.discharge:
            _request(b, m, "discharge", discharge_time - timedelta(hours=2))

    # --- orders and follow-up
    for item in spec.get("pending", []):
        pending = rng.random() < 0.7
        if pending:
            adm.pending.append(item)
        b.add("ServiceRequest", {"status": "active" if pending else "completed", "intent": "order", "code": {"text": item["text"]},
                                 "subject": fhir.ref("Patient", "pat1"), "encounter": fhir.ref("Encounter", "enc2"),
                                 "authoredOn": iso(admitted + timedelta(hours=rng.randint(1, 20)))}, "sr")
    b.add("ServiceRequest", {"status": "completed", "intent": "order", "code": {"text": "Chest radiograph"},
                             "subject": fhir.ref("Patient", "pat1"), "encounter": fhir.ref("Encounter", "enc2"),
                             "authoredOn": iso(admitted + timedelta(hours=1))}, "sr")
    if discharged:
        for item in spec.get("follow_up", []):
            adm.follow_up.append(item)
            b.add("Appointment", {"status": "booked", "description": item["text"],
                                  "start": iso((discharge_time + timedelta(days=rng.randint(5, 14))).replace(hour=9)),
                                  "participant": [{"actor": fhir.ref("Patient", "pat1"), "status": "accepted"}]}, "apt")

    # --- notes
    if age >= 70 and rng.random() < 0.35:
        adm.code_status = "DNR/DNI"
    _notes(rng, b, adm, spec, f, notes)
    return adm, b.resources


def _indications() -> dict[str, str]:
    from medgym.domains.drug_interaction.cases import templates as drug_templates

    return drug_templates()["indication"]


def _home_meds(rng: random.Random, scenario: str, f: Any, sex: str) -> list[MedLine]:
    t = templates()
    chosen: list[str] = []

    def fits(m: str) -> bool:
        d = f.drugs[m]
        return not ((m == "tamsulosin" and sex != "male") or any(f.drugs[c].group == d.group for c in chosen)
                    or any(f.interaction(m, c) or f.unrated_pair(m, c) for c in chosen))

    specific = list(t["scenario_home"].get(scenario, []))
    rng.shuffle(specific)
    wanted = rng.randint(1, min(3, len(specific))) if specific else 0
    for m in specific:
        if len(chosen) < wanted and fits(m):
            chosen.append(m)
    pool = list(t["home_pool"])
    rng.shuffle(pool)
    target = rng.randint(4, 7)
    for m in pool:
        if len(chosen) < target and fits(m):
            chosen.append(m)
    return [MedLine(m, f.drugs[m].usual_dose or "") for m in chosen]


def _medication_plan(rng: random.Random, spec: dict[str, Any], adm: Admission, f: Any, omissions: int,
                     duplication: bool) -> list[str]:
    """Decide holds, stops, starts and dose changes; build the discharge list; return the note sentences."""
    phrases = templates()["phrases"]
    sentences: list[str] = []
    changes: dict[str, list[str]] = {"hold": [], "stop": [], "start": [], "change": []}
    home_keys = [m.drug for m in adm.home]
    for kind in ("stop", "hold"):
        rule = spec.get(f"{kind}_on_admission")
        if not rule:
            continue
        for m in home_keys:
            d = f.drugs[m]
            if (d.group in rule.get("group", []) and (not rule.get("drugs") or m in rule["drugs"])) and m not in changes["stop"]:
                changes[kind].append(m)
                sentences.append(_sentence(rng.choice(phrases[kind]).format(drug=d.name, reason=rule["reason"])))
    discharge = [MedLine(m.drug, m.dose) for m in adm.home if m.drug not in changes["hold"] + changes["stop"]]
    for c in spec.get("change", []):
        for line in discharge:
            if line.drug == c["drug"] and line.dose != c["dose"]:
                line.dose = c["dose"]
                changes["change"].append(c["drug"])
                sentences.append(_sentence(rng.choice(phrases["change"]).format(drug=f.drugs[c["drug"]].name, dose=c["dose"], reason=c["reason"])))
    for s in spec.get("start", []):
        if s["drug"] in home_keys:
            continue
        if any(f.interaction(s["drug"], m.drug) or f.drugs[s["drug"]].group == f.drugs[m.drug].group for m in discharge):
            continue
        discharge.append(MedLine(s["drug"], s["dose"]))
        changes["start"].append(s["drug"])
        sentences.append(rng.choice(phrases["start"]).format(drug=f.drugs[s["drug"]].name, dose=s["dose"], reason=s["reason"]))
    # unintended discrepancies (never documented)
    candidates = [m for m in discharge if m.drug in home_keys and m.drug not in changes["change"]]
    rng.shuffle(candidates)
    for m in candidates[:omissions]:
        discharge.remove(m)
        adm.omitted.append(m.drug)
    if duplication:
        _add_duplicate(rng, discharge, adm, f)
    rng.shuffle(discharge)
    adm.discharge = discharge
    adm.changes = changes
    return sentences


DUPLICABLE_GROUPS = ("proton pump inhibitor", "statin", "ACE inhibitor", "ARB", "SSRI", "beta blocker")


def _add_duplicate(rng: random.Random, discharge: list[MedLine], adm: Admission, f: Any) -> None:
    """Add a second drug of a group already on the discharge list (a therapeutic duplication)."""
    options = []
    for line in discharge:
        d = f.drugs[line.drug]
        if d.group not in DUPLICABLE_GROUPS:
            continue
        for alt in f.same_group(d):
            others = [x.drug for x in discharge if x.drug != line.drug]
            if alt.usual_dose and not any(f.interaction(alt.key, o) or f.unrated_pair(alt.key, o) for o in others):
                options.append((line.drug, alt.key))
    if options:
        original, alt = rng.choice(sorted(options))
        discharge.append(MedLine(alt, f.drugs[alt].usual_dose))
        adm.duplicated = [original, alt]


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def _aki_anchors(rng: random.Random, stage: int) -> tuple[float, float, float]:
    """Creatinine multiples of baseline (admission, peak, discharge) for a KDIGO stage, away from the cut-offs."""
    peak = {0: (1.0, 1.12), 1: (1.6, 1.85), 2: (2.15, 2.8), 3: (3.2, 3.8)}[stage]
    w = rng.uniform(*peak)
    a0 = rng.uniform(1.0, min(w, 1.1)) if stage == 0 else rng.uniform(max(1.0, w * 0.75), w * 0.92)
    return a0, w, rng.uniform(1.0, 1.1) if stage == 0 else rng.uniform(1.1, 1.4)


def _lab(b: ChartBuilder, adm: Admission, encounter: str, test: str, t: datetime, value: float, sex: str,
         record: bool = True) -> None:
    result = catalog.lab_result(test, value, sex)
    body: dict[str, Any] = {"status": "final", "category": fhir.category("laboratory"),
                            "code": fhir.codeable(result.name, fhir.LAB_LOINC.get(test)),
                            "effectiveDateTime": iso(t), "valueQuantity": fhir.quantity(result.value, result.unit),
                            "referenceRange": [{"text": result.reference_range}],
                            "interpretation": [{"coding": [{"code": fhir.INTERPRETATION[result.flag]}]}]}
    if encounter != "enc2":  # results outside the admission name their encounter
        body["encounter"] = fhir.ref("Encounter", encounter)
    b.add("Observation", body, "lab")
    if record:
        adm.labs.setdefault(test, []).append((t, float(result.value)))


def _single(b: ChartBuilder, adm: Admission, key: str, t: datetime, value: float, category: str = "vital-signs") -> None:
    code, text, unit = fhir.SINGLE[key]
    b.add("Observation", {"status": "final", "category": fhir.category(category), "code": fhir.codeable(text, code),
                          "effectiveDateTime": iso(t),
                          "valueQuantity": fhir.quantity(value, unit)}, "obs")
    adm.singles.setdefault(key, []).append((t, value))


def _poc_glucose(rng: random.Random, b: ChartBuilder, adm: Admission, admitted: datetime, end: datetime) -> None:
    times = []
    t = admitted + timedelta(hours=2)
    while t <= end:
        times.append(t)
        t += timedelta(hours=4)
    lows = set(rng.sample(range(3, len(times)), min(len(times) - 3, rng.choice([0, 1, 1, 2, 2, 3]))))
    for i, t in enumerate(times):
        if i in lows:
            v = rng.randint(48, 64)
        elif i < 3:
            v = rng.randint(260, 420) - 50 * i
        else:
            v = rng.randint(96, 214)
        _single(b, adm, "glucose_poc", t, v, "laboratory")


SOFA_MARGINS = {"pf": (400, 300, 200, 100), "platelets": (150, 100, 50, 20), "total_bilirubin": (1.2, 2.0, 6.0, 12.0),
                "creatinine": (1.2, 2.0, 3.5, 5.0)}


def _sofa_data(rng: random.Random, b: ChartBuilder, adm: Admission, admitted: datetime, sex: str) -> None:
    """Arterial blood gases with FiO2, GCS, urine output and norepinephrine for the first full 07:00-07:00 day."""
    start = (admitted + timedelta(days=1)).replace(hour=7, minute=0) if admitted.hour >= 7 else admitted.replace(hour=7, minute=0)
    adm.singles["sofa_window_start"] = [(start, 0.0)]
    for k in range(2):
        t = start + timedelta(hours=4 + 10 * k)
        fio2 = rng.choice([21, 28, 32, 36, 40])
        pf_target = rng.choice([rng.uniform(420, 480), rng.uniform(315, 385), rng.uniform(215, 285)])
        pao2 = round(pf_target * fio2 / 100)
        _lab(b, adm, "enc2", "pao2", t, pao2, sex)
        _single(b, adm, "fio2", t, fio2, "laboratory")
    for k, hours in enumerate((3, 11, 19)):
        gcs = 15 if rng.random() < 0.5 else rng.choice([14, 13, 11])
        _single(b, adm, "gcs", start + timedelta(hours=hours), gcs, "survey")
    urine = rng.choice([rng.randint(650, 1600), rng.randint(260, 460), rng.randint(120, 180)])
    _single(b, adm, "urine_output_24h", start + timedelta(hours=24), urine)
    if rng.random() < 0.6:
        for k in range(rng.randint(1, 3)):
            rate = round(rng.choice([rng.uniform(0.03, 0.08), rng.uniform(0.13, 0.3)]), 2)
            t = start + timedelta(hours=2 + 6 * k)
            adm.norepinephrine.append((t, rate))
            b.add("MedicationAdministration", {"status": "in-progress", "medicationCodeableConcept": {"text": "norepinephrine"},
                                               "subject": fhir.ref("Patient", "pat1"), "context": fhir.ref("Encounter", "enc2"),
                                               "effectiveDateTime": iso(t),
                                               "dosage": {"route": {"text": "intravenous infusion"},
                                                          "rateQuantity": fhir.quantity(rate, "ug/kg/min")}}, "mad")
    extra = start + timedelta(hours=12)
    for test in ("platelets", "total_bilirubin", "creatinine"):
        series = adm.labs.get(test)
        if series:
            last = series[-1][1]
            v = last * rng.uniform(0.95, 1.08)
            cut = SOFA_MARGINS[test]
            for c in cut:
                if abs(v - c) < c * 0.04:
                    v = c * (1.06 if v >= c else 0.94)
            _lab(b, adm, "enc2", test, extra, v, sex)


def _request(b: ChartBuilder, m: MedLine, cat: str, t: datetime) -> None:
    d = formulary().drugs[m.drug]
    b.add("MedicationRequest", {"status": "active", "intent": "order", "category": [{"coding": [{"code": cat}]}],
                                "medicationCodeableConcept": {"text": d.name}, "subject": fhir.ref("Patient", "pat1"),
                                "encounter": fhir.ref("Encounter", "enc2"), "authoredOn": iso(t),
                                "dosageInstruction": [{"text": m.dose}]}, "mr")


def _note(b: ChartBuilder, kind: str, t: datetime, text: str) -> None:
    b.add("DocumentReference", {"status": "current", "type": {"text": kind}, "date": iso(t),
                                "subject": fhir.ref("Patient", "pat1"), "context": {"encounter": [fhir.ref("Encounter", "enc2")]},
                                "content": [{"attachment": {"contentType": "text/plain", "title": kind}}],
                                "text": fhir.narrative(text)}, "doc")


def _notes(rng: random.Random, b: ChartBuilder, adm: Admission, spec: dict[str, Any], f: Any, med_sentences: list[str]) -> None:
    who = "man" if adm.sex == "male" else "woman"
    pmh = ", ".join(p["text"] for p in adm.problems if p.get("chronic")) or "no chronic conditions"
    home = "; ".join(f"{f.drugs[m.drug].name} {m.dose}" for m in adm.home)
    allergies = ", ".join(f"{s} ({r})" for s, r in adm.allergies) or "no known drug allergies"
    principal = spec["principal"]["text"]
    hp = (f"{adm.age}-year-old {who} with {pmh} presenting with {spec['complaint']}. Home medications: {home}. "
          f"Allergies: {allergies}. Assessment: {principal}. Plan: admit to medicine; treatment per protocol. "
          + " ".join(s for s in med_sentences if not s.startswith(("Started", "New medication", "Increased")) and "dose changed" not in s)
          + " Code status: Full code.")
    _note(b, "History and physical", adm.admitted + timedelta(hours=2), hp)
    later = [s for s in med_sentences if s not in hp]
    day = 1
    t = (adm.admitted + timedelta(days=1)).replace(hour=10, minute=0)
    while t <= adm.now:
        lines = [f"Hospital day {day + 1}. {principal}: " + ("improving." if day > 1 else "clinically stable overnight.")]
        if day == 1 and later:
            lines += later
        if day == 2 and adm.code_status != "Full code":
            lines.append("Goals-of-care discussion with the patient and family today. Code status changed to DNR/DNI.")
        _note(b, "Progress note", t, " ".join(lines))
        day += 1
        t += timedelta(days=1)
    if adm.code_status != "Full code" and day <= 2:
        _note(b, "Progress note", adm.now - timedelta(hours=1),
              "Goals-of-care discussion with the patient and family. Code status changed to DNR/DNI.")
