"""Build obstetric cases, seeded: one builder per kind of template in `templates.yaml`.

Each builder draws the findings (dates, cervix, tracing, blood pressures and labs, bleeding,
blood types, the newborn) and sets the answer with the published rule (`rules.py`, or the
Bishop and Apgar calculators), never with a value written in a template.
"""

from __future__ import annotations

import datetime as dt
import random
from functools import cache
from typing import Any, Callable, Literal

from pydantic import BaseModel, ConfigDict, Field

from medgym.domains import casekit
from medgym.domains.conditions import choose
from medgym.domains.obstetrics import rules
from medgym.tasks.schema import Chart, Concept, ExamFinding, GroundTruth, HistoryFact, Medication, Presentation, Task, ToolCall
from medgym.tools.calculators.obstetrics import calculate_apgar, calculate_bishop_score

NAME = "obstetrics"
PACKAGE = "medgym.domains.obstetrics"
TaskType = Literal["assessment", "diagnosis", "management"]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"]
PREGNANT_VITALS = {"heart_rate": (72, 98), "systolic_bp": (102, 128), "diastolic_bp": (60, 80), "respiratory_rate": (14, 20),
                   "temperature_c": (36.5, 37.3), "spo2": (97, 100)}
APGAR_TEXT = {
    "respiratory_effort": {"absent": "apneic, no respiratory effort", "slow_or_irregular": "slow, irregular gasping respirations",
                           "good_crying": "strong cry with regular breathing"},
    "muscle_tone": {"limp": "limp, no spontaneous movement", "some_flexion": "some flexion of the arms and legs",
                    "active_motion": "active motion, arms and legs well flexed"},
    "reflex_irritability": {"no_response": "no response to stimulation or suctioning", "grimace": "grimaces when the nares are suctioned",
                            "cry_or_active_withdrawal": "cries and pulls away when stimulated"},
    "color": {"blue_or_pale": "pale and blue all over", "acrocyanosis": "pink body with blue hands and feet",
              "completely_pink": "pink all over"},
}
PPH_CAUSES = {
    "atony": ["uterine atony", "atony", "tone", "atonic uterus", "uterine atony (tone)"],
    "tissue": ["retained placental tissue", "retained placenta", "retained products", "retained products of conception", "tissue",
               "retained placental fragments", "retained cotyledon"],
    "trauma": ["genital tract trauma", "trauma", "laceration", "genital tract laceration", "cervical laceration", "vaginal laceration",
               "obstetric laceration"],
    "thrombin": ["coagulopathy", "thrombin", "disseminated intravascular coagulation", "dic", "consumptive coagulopathy",
                 "coagulation defect"],
}
INSTRUCTIONS = {
    "dating": ("Establish this pregnancy's best obstetric estimate of the due date following ACOG Committee Opinion 700, and "
               "submit the estimated due date as YYYY-MM-DD with submit_answer."),
    "bishop": "Examine the cervix and submit the Bishop score (0-13) with submit_answer.",
    "bishop_management": ("This patient is admitted for induction of labor. Assess the cervix and submit the plan for starting the "
                          "induction (ACOG Practice Bulletin 107) with submit_treatment_plan, one item per intervention. Leave out "
                          "anything contraindicated for this patient."),
    "fhr": ("Interpret the intrapartum fetal heart rate tracing and submit its NICHD category (Category I, II or III) with "
            "submit_answer."),
    "fhr_management": ("Interpret the fetal heart rate tracing and submit the immediate management with submit_treatment_plan, one "
                       "item per intervention (ACOG Practice Bulletin 116)."),
    "hypertension": ("Evaluate this pregnant patient's blood pressure and submit the diagnosis with its ICD-10-CM code (by "
                     "trimester) using submit_diagnosis, following ACOG Practice Bulletin 222."),
    "hypertension_management": ("Evaluate this pregnant patient's blood pressure and submit the management plan (ACOG Practice "
                                "Bulletin 222 and Committee Opinion 767) with submit_treatment_plan, one item per intervention. "
                                "Leave out anything contraindicated for this patient."),
    "pph": ("This patient is bleeding after a vaginal birth. Identify the cause of the postpartum hemorrhage (the four Ts: tone, "
            "trauma, tissue, thrombin) and submit it with submit_answer, e.g. \"uterine atony\"."),
    "pph_management": ("This patient is bleeding after a vaginal birth. Find the cause and submit the treatment for it (ACOG Practice "
                       "Bulletin 183, WHO 2017) with submit_treatment_plan, one item per intervention. Leave out anything "
                       "contraindicated for this patient."),
    "rh": ("Decide whether this patient needs Rh(D) immune globulin and how many 300-ug vials. Submit the number of vials (0 if not "
           "indicated) with submit_answer. For a quantified fetomaternal hemorrhage use a maternal blood volume of 5,000 mL, 30 mL "
           "of fetal whole blood per vial, and the AABB rule (round down below .5, up from .5, then add one vial)."),
    "apgar": "Assess the newborn and submit the Apgar score at {minute} minute{s} with submit_answer.",
    "bleeding": ("This pregnant patient has vaginal bleeding. Make the diagnosis safely and submit it with its ICD-10-CM code using "
                 "submit_diagnosis."),
}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Diagnosis(_Model):
    name: str
    icd10: dict[int, str]
    synonyms: list[str] = Field(default_factory=list)


class Template(_Model):
    id: str
    kind: Literal["dating", "bishop", "fhr", "hypertension", "pph", "rh", "apgar", "bleeding"]
    name: str
    source: str
    heldout: bool = False
    task_types: dict[TaskType, float]
    cases: int
    diagnosis: Diagnosis | None = None


class Library(_Model):
    concepts: dict[str, Concept]
    templates: dict[str, Template]


@cache
def library() -> Library:
    """The parsed and checked template file."""
    return casekit.load_library(PACKAGE, Library)


class Case:
    """A case under construction: what a builder fills in."""

    def __init__(self, template: Template, task_type: str, rng: random.Random) -> None:
        self.template, self.task_type, self.rng = template, task_type, rng
        self.age = rng.randint(18, 42)
        self.vitals_ranges: dict[str, tuple[float, float]] = dict(PREGNANT_VITALS)
        self.history: dict[str, Any] = {}
        self.pmh: list[str] = []
        self.medications: list[dict[str, str]] = []
        self.exam: dict[str, str] = {}
        self.labs: dict[str, float | str] = {}
        self.extra: dict[str, Any] = {}
        self.prenatal: dict[str, Any] = {}
        self.setting = "labor and delivery unit"
        self.complaint = ""
        self.opening = ""
        self.instructions = ""
        self.truth = GroundTruth()
        self.answer_text = ""
        self.demo: list[ToolCall] = []
        self.notes: list[str] = []
        self.vitals_override: dict[str, int] = {}


def _concepts(ids: list[str]) -> list[Concept]:
    lib = library()
    return [lib.concepts[i] for i in dict.fromkeys(ids)]


def _answer(case: Case, answer: str, accepted: list[str]) -> None:
    case.truth.final_tool = "submit_answer"
    case.truth.answer = answer
    case.truth.accepted_answers = list(dict.fromkeys([answer, *accepted]))
    case.answer_text = answer


def _plan(case: Case, management: list[str], contraindicated: list[str], diagnosis: str) -> None:
    case.truth.final_tool = "submit_treatment_plan"
    case.truth.diagnosis = diagnosis
    case.truth.management = _concepts(management)
    case.truth.contraindicated = _concepts(contraindicated)
    case.answer_text = "plan: " + ", ".join(c.label for c in case.truth.management)


def _ga_text(days: int) -> str:
    return f"{days // 7} weeks {days % 7} days"


def _date_text(d: dt.date) -> list[str]:
    return [d.isoformat(), f"{MONTHS[d.month - 1]} {d.day} {d.year}", f"{d.day} {MONTHS[d.month - 1]} {d.year}", f"edd {d.isoformat()}"]


# --- dating ------------------------------------------------------------------------------------------------


def build_dating(case: Case) -> None:
    rng = case.rng
    visit = dt.date(2026, 1, 5) + dt.timedelta(days=rng.randint(0, 600))
    variant = choose(rng, {"confirmed": 0.4, "redate": 0.35, "unknown_lmp": 0.15, "ivf": 0.1})
    true_ga = rng.randint(7 * 7, 24 * 7)
    lmp = transfer = embryo = None
    us_ga = true_ga
    threshold = rules.redating_threshold_days(us_ga)
    record: dict[str, Any] = {"today": visit.isoformat(), "gravida_para": rng.choice(["G1P0", "G2P1", "G3P2", "G2P0"])}
    if variant == "confirmed":
        lmp = visit - dt.timedelta(days=us_ga + rng.randint(-(threshold - 1), threshold - 1))
    elif variant == "redate":
        lmp = visit - dt.timedelta(days=us_ga + rng.choice([-1, 1]) * rng.randint(threshold + 2, threshold + 20))
    elif variant == "ivf":
        embryo = rng.choice([5, 5, 3])
        transfer = visit - dt.timedelta(days=true_ga - 14 - embryo)
        us_ga = true_ga + rng.randint(-3, 3)
        record["conception"] = f"In vitro fertilization: day-{embryo} embryo transferred on {transfer.isoformat()}."
    if lmp is not None:
        record["last_menstrual_period"] = f"{lmp.isoformat()} (certain; regular 28-day cycles)"
    elif variant == "unknown_lmp":
        record["last_menstrual_period"] = rng.choice(["Unknown - irregular cycles since stopping the contraceptive pill.",
                                                      "Not sure - conceived while breastfeeding without periods."])
    else:
        record["last_menstrual_period"] = "Not used for dating (IVF pregnancy)."
    edd, how = rules.estimated_due_date(visit, us_ga, lmp, transfer, embryo)
    method = "crown-rump length" if us_ga <= 13 * 7 + 6 else "fetal biometry (BPD, HC, AC, FL)"
    case.extra["ultrasound"] = {
        "date": visit.isoformat(), "findings": f"Single live intrauterine pregnancy with cardiac activity. {method.capitalize()} "
        f"consistent with {_ga_text(us_ga)}.", "placenta": "Posterior, clear of the internal os."}
    case.prenatal = record
    case.setting = "prenatal clinic"
    case.complaint = rng.choice(["first prenatal visit", "dating ultrasound visit", "booking visit for a new pregnancy"])
    case.opening = rng.choice(["I'm here for my first pregnancy appointment.", "I had my scan today - when is the baby due?"])
    case.instructions = INSTRUCTIONS["dating"]
    _answer(case, edd.isoformat(), _date_text(edd))
    case.notes.append(f"EDD by {how}; ultrasound {_ga_text(us_ga)}.")
    c = casekit.call
    case.demo = [c("review_prenatal_record"), c("obstetric_ultrasound")]
    if lmp is not None:
        case.demo.append(c("calculate_gestational_age", lmp_date=lmp.isoformat(), current_date=visit.isoformat()))
    case.truth.required_actions = ["review_prenatal_record", "obstetric_ultrasound"]


# --- Bishop score and induction -----------------------------------------------------------------------------


def build_bishop(case: Case) -> None:
    rng = case.rng
    for _ in range(200):
        cervix = {
            "dilation_cm": rng.choice([0, 1, 1, 2, 2, 3, 3, 4, 5]),
            "effacement_percent": rng.choice([0, 10, 20, 30, 40, 50, 60, 70, 80, 90]),
            "station": rng.choice([-3, -3, -2, -2, -1, 0, 1]),
            "consistency": rng.choice(["firm", "medium", "soft"]),
            "position": rng.choice(["posterior", "mid", "anterior"]),
        }
        score = calculate_bishop_score(**cervix)["score"]
        if case.task_type == "assessment" or score <= 6 or score >= 9:
            break
    ga = rng.randint(39 * 7, 41 * 7 + 3)
    prior_cesarean = rng.random() < 0.25
    case.prenatal = {
        "gestational_age": f"{_ga_text(ga)} by first-trimester ultrasound",
        "gravida_para": "G2P1" if prior_cesarean else rng.choice(["G1P0", "G2P1", "G3P2"]),
        "obstetric_history": "One previous low transverse cesarean delivery; planning a trial of labor after cesarean."
        if prior_cesarean else "No previous uterine surgery.",
        "indication_for_induction": "late-term pregnancy (41 weeks)" if ga >= 41 * 7 else "elective induction at 39 weeks",
    }
    case.extra["cervix"] = {
        "dilation": f"{cervix['dilation_cm']} cm" if cervix["dilation_cm"] else "closed",
        "effacement": f"{cervix['effacement_percent']}%", "station": f"{cervix['station']:+d}" if cervix["station"] else "0",
        "consistency": cervix["consistency"], "position": cervix["position"],
        "membranes": "intact", "presentation": "cephalic"}
    case.extra["ultrasound"] = {"findings": "Single live fetus, cephalic presentation. Normal amniotic fluid.", "placenta": "Fundal, clear of the os."}
    case.complaint = "scheduled induction of labor"
    case.opening = "I'm booked in to be induced today."
    c = casekit.call
    case.demo = [c("review_prenatal_record"), c("cervical_exam"), c("calculate_bishop_score", **cervix)]
    case.truth.required_actions = ["cervical_exam"]
    if case.task_type == "assessment":
        case.instructions = INSTRUCTIONS["bishop"]
        _answer(case, str(score), [f"bishop score {score}", f"{score}/13", f"bishop {score}", f"score {score}"])
    else:
        case.instructions = INSTRUCTIONS["bishop_management"]
        if score >= 9:
            _plan(case, ["oxytocin_induction"], [], "Favorable cervix for induction of labor")
        elif prior_cesarean:
            _plan(case, ["mechanical_ripening"], ["misoprostol"], "Unfavorable cervix after a previous cesarean delivery")
            case.notes.append("Previous cesarean: misoprostol is contraindicated; use a balloon catheter.")
        else:
            _plan(case, ["cervical_ripening"], [], "Unfavorable cervix for induction of labor")
    case.notes.append(f"Bishop score {score}.")


# --- fetal heart rate tracing -------------------------------------------------------------------------------


def _tracing(rng: random.Random, category: str) -> tuple[rules.Tracing, float | None]:
    if category == "I":
        t = rules.Tracing(rng.randint(115, 155), "moderate", rng.random() < 0.8, early=rng.random() < 0.3)
        return t, rng.randint(8, 20)
    if category == "II":
        kind = choose(rng, {"tachycardia": 0.2, "minimal": 0.2, "late": 0.2, "variable": 0.15, "prolonged": 0.1, "absent_no_decels": 0.1, "marked": 0.05})
        base = rng.randint(120, 150)
        options = {
            "tachycardia": (rules.Tracing(rng.randint(162, 176), "moderate", rng.random() < 0.5), rng.randint(7, 16)),
            "minimal": (rules.Tracing(base, "minimal", False), rng.randint(3, 5)),
            "late": (rules.Tracing(base, "moderate", False, recurrent_late=True), rng.randint(6, 12)),
            "variable": (rules.Tracing(base, rng.choice(["moderate", "minimal"]), False, recurrent_variable=True), None),
            "prolonged": (rules.Tracing(base, "moderate", False, prolonged=True), rng.randint(7, 14)),
            "absent_no_decels": (rules.Tracing(base, "absent", False), 0),
            "marked": (rules.Tracing(base, "marked", True), rng.randint(27, 34)),
        }
        t, amp = options[kind]
        if amp is None:
            amp = rng.randint(6, 14) if t.variability == "moderate" else rng.randint(3, 5)
        return t, amp
    kind = choose(rng, {"late": 0.35, "variable": 0.25, "bradycardia": 0.25, "sinusoidal": 0.15})
    if kind == "sinusoidal":
        return rules.Tracing(rng.randint(125, 150), "minimal", False, sinusoidal=True), rng.randint(3, 5)
    if kind == "bradycardia":
        return rules.Tracing(rng.randint(92, 106), "absent", False), 0
    return rules.Tracing(rng.randint(115, 150), "absent", False, recurrent_late=kind == "late", recurrent_variable=kind == "variable"), 0


def tracing_report(t: rules.Tracing, amplitude: float | None) -> dict[str, Any]:
    """How a reader describes the tracing (features, not a category)."""
    decels = []
    if t.recurrent_late:
        decels.append("Gradual decelerations (onset to nadir 30 s or more) whose nadir follows the peak of the contraction, with more than half of contractions.")
    if t.intermittent_late:
        decels.append("Occasional gradual decelerations whose nadir follows the peak of the contraction, with fewer than half of contractions.")
    if t.recurrent_variable:
        decels.append("Abrupt decelerations (onset to nadir under 30 s) of 30-60 bpm lasting 30-90 s, with more than half of contractions.")
    if t.intermittent_variable:
        decels.append("Occasional abrupt decelerations of 20-30 bpm, with fewer than half of contractions.")
    if t.early:
        decels.append("Gradual decelerations mirroring the contractions, the nadir coinciding with the peak of the contraction.")
    if t.prolonged:
        decels.append("One deceleration of 40 bpm below baseline lasting 4 minutes, then recovery to baseline.")
    variability = "amplitude undetectable" if not amplitude else f"amplitude {amplitude} bpm"
    report = {
        "baseline": f"{t.baseline} bpm",
        "variability": variability,
        "accelerations": "present (15 bpm for 15 s or more)" if t.accelerations else "none",
        "decelerations": decels or ["none"],
    }
    if t.sinusoidal:
        report["pattern"] = "Smooth, sine wave-like undulating baseline at 3-5 cycles per minute persisting for 25 minutes."
    return report


def build_fhr(case: Case) -> None:
    rng = case.rng
    category = "III" if case.task_type == "management" else choose(rng, {"I": 0.35, "II": 0.4, "III": 0.25})
    tracing, amplitude = _tracing(rng, category)
    assert rules.fhr_category(tracing) == category, (tracing, category)
    contractions = rng.randint(2, 5) if rng.random() < 0.85 else rng.randint(6, 7)
    ga = rng.randint(37 * 7, 41 * 7)
    case.prenatal = {"gestational_age": f"{_ga_text(ga)} by first-trimester ultrasound", "gravida_para": rng.choice(["G1P0", "G2P1"]),
                     "labor": f"Spontaneous labor; cervix {rng.randint(4, 8)} cm; membranes ruptured with clear fluid."}
    case.extra["fhr"] = tracing_report(tracing, amplitude)
    case.extra["toco"] = {"contractions_per_10_min": contractions, "averaged_over": "30 minutes", "duration": "60-80 s",
                          "resting_tone": "normal between contractions"}
    case.complaint = "active labor"
    case.opening = "The contractions are really strong now."
    c = casekit.call
    case.demo = [c("review_prenatal_record"), c("fetal_heart_tracing"), c("tocodynamometry")]
    case.truth.required_actions = ["fetal_heart_tracing"]
    if case.task_type == "assessment":
        case.instructions = INSTRUCTIONS["fhr"]
        roman = {"I": "1", "II": "2", "III": "3"}[category]
        _answer(case, f"Category {category}", [category, roman, f"category {roman}", f"nichd category {category}", f"cat {category}",
                                               f"category {category} tracing"])
    else:
        case.instructions = INSTRUCTIONS["fhr_management"]
        _plan(case, ["intrauterine_resuscitation", "expedited_delivery"], [], "Category III fetal heart rate tracing")
    case.notes.append(f"NICHD category {category}.")


# --- hypertensive disorders of pregnancy -------------------------------------------------------------------------


def _bp(rng: random.Random, severe: bool) -> tuple[int, int]:
    if severe:
        return (rng.randint(160, 178), rng.randint(100, 116)) if rng.random() < 0.7 else (rng.randint(150, 165), rng.randint(110, 116))
    return (rng.randint(142, 158), rng.randint(90, 106)) if rng.random() < 0.7 else (rng.randint(132, 139), rng.randint(92, 104))


def build_hypertension(case: Case) -> None:
    rng, kind = case.rng, case.template.id
    manage = case.task_type == "management"
    for _ in range(500):
        ga = rng.randint(34 * 7, 40 * 7) if manage else rng.randint(22 * 7, 39 * 7)
        chronic = kind in ("chronic_hypertension", "superimposed_preeclampsia")
        lab = {"upcr": round(rng.uniform(0.05, 0.22), 2), "platelets": rng.randint(160, 340), "creatinine": round(rng.uniform(0.45, 0.8), 2),
               "ast": rng.randint(14, 30), "alt": rng.randint(10, 32), "ldh": rng.randint(140, 290)}
        symptoms = {"headache_unresponsive": False, "visual": False, "ruq": False, "edema": False}
        severe_bp = False
        if kind in ("preeclampsia", "superimposed_preeclampsia"):
            lab["upcr"] = round(rng.uniform(0.35, 2.6), 2)
        if kind == "preeclampsia_severe":
            feature = choose(rng, {"bp": 0.45, "platelets": 0.12, "liver": 0.12, "renal": 0.1, "headache": 0.11, "visual": 0.05, "edema": 0.05})
            severe_bp = feature == "bp"
            lab["upcr"] = round(rng.uniform(0.4, 4.0), 2) if feature == "bp" or rng.random() < 0.7 else round(rng.uniform(0.08, 0.25), 2)
            if feature == "platelets":
                lab["platelets"] = rng.randint(62, 95)
            if feature == "liver":
                lab["ast"], lab["alt"], symptoms["ruq"] = rng.randint(80, 190), rng.randint(85, 210), rng.random() < 0.6
            if feature == "renal":
                lab["creatinine"] = round(rng.uniform(1.2, 1.6), 2)
            if feature == "headache":
                symptoms["headache_unresponsive"] = True
            if feature == "visual":
                symptoms["visual"] = True
            if feature == "edema":
                symptoms["edema"] = True
        if kind == "hellp_syndrome":
            lab.update(platelets=rng.randint(40, 95), ast=rng.randint(120, 450), alt=rng.randint(130, 480), ldh=rng.randint(620, 1400),
                       upcr=round(rng.uniform(0.3, 3.0), 2))
            symptoms["ruq"] = rng.random() < 0.8
        readings = (_bp(rng, severe_bp), _bp(rng, severe_bp))
        if kind == "chronic_hypertension":
            readings = ((rng.randint(140, 154), rng.randint(90, 98)), (rng.randint(140, 154), rng.randint(90, 98)))
        findings = rules.HypertensionFindings(chronic, readings, lab["upcr"], lab["platelets"], lab["creatinine"], lab["ast"], lab["alt"],
                                              lab["ldh"], symptoms["headache_unresponsive"], symptoms["visual"], symptoms["ruq"], symptoms["edema"])
        if rules.classify_hypertension(findings) == kind:
            break
    else:  # pragma: no cover - the draws above always reach their own class
        raise RuntimeError(f"could not draw a case of {kind}")
    (s1, d1), (s2, d2) = readings
    case.vitals_override = {"systolic_bp": s1, "diastolic_bp": d1}
    if symptoms["edema"]:
        case.vitals_override.update(spo2=rng.randint(90, 93), respiratory_rate=rng.randint(24, 30))
        case.exam["respiratory"] = "Bibasal inspiratory crackles to the mid-zones; increased work of breathing."
    case.extra["bp_repeat"] = {"after_hours": 4, "blood_pressure": f"{s2}/{d2} mmHg"}
    trimester = rules.trimester(ga // 7)
    case.prenatal = {
        "gestational_age": f"{_ga_text(ga)} by first-trimester ultrasound",
        "gravida_para": rng.choice(["G1P0", "G2P1", "G1P0", "G3P1"]),
        "booking_blood_pressure": f"{rng.randint(138, 152)}/{rng.randint(88, 96)} mmHg at 10 weeks" if chronic
        else f"{rng.randint(106, 124)}/{rng.randint(64, 78)} mmHg at 10 weeks",
    }
    if chronic:
        case.pmh.append("Chronic hypertension (diagnosed before pregnancy)")
        case.medications.append({"name": "Labetalol", "dose": "200 mg", "frequency": "twice daily"})
    case.labs = {"urine_protein_creatinine_ratio": lab["upcr"], "platelets": lab["platelets"], "creatinine": lab["creatinine"],
                 "ast": lab["ast"], "alt": lab["alt"], "ldh": lab["ldh"]}
    case.history = {"headache": symptoms["headache_unresponsive"] or rng.random() < 0.2, "vision_changes": symptoms["visual"],
                    "epigastric_pain": symptoms["ruq"], "dyspnea": symptoms["edema"], "fetal_movements": "normal"}
    if case.history["headache"]:
        case.history["headache_unrelieved"] = symptoms["headache_unresponsive"]
    case.setting = "obstetric triage"
    complaints = ["raised blood pressure at a prenatal visit", "swelling and high blood pressure"]
    case.complaint = rng.choice([*complaints, "headache and high blood pressure"] if case.history["headache"] else complaints)
    case.opening = rng.choice(["The midwife said my blood pressure was high.", "My feet are swollen and my blood pressure is up."])
    dx = case.template.diagnosis
    case.truth.required_actions = ["repeat_blood_pressure", "order_lab:urine_protein_creatinine_ratio"]
    if not manage:
        case.instructions = INSTRUCTIONS["hypertension"]
        code = dx.icd10[trimester]
        case.truth.final_tool = "submit_diagnosis"
        case.truth.diagnosis, case.truth.icd10 = dx.name, code
        case.truth.accepted_codes = [code]
        case.truth.synonyms = [dx.name, *dx.synonyms]
        case.answer_text = f"{dx.name} ({code})"
    else:
        case.instructions = INSTRUCTIONS["hypertension_management"]
        contraindicated: list[str] = []
        if kind in ("preeclampsia_severe", "hellp_syndrome"):
            severe_pressures = rules.severe_range(readings)
            plan = ["magnesium_sulfate", *(["severe_bp_treatment"] if severe_pressures else []), "delivery"]
            modifier = choose(rng, {"none": 0.65, "myasthenia": 0.15, "asthma": 0.2 if severe_pressures else 0.0})
            if modifier == "myasthenia":
                case.pmh.append("Myasthenia gravis")
                case.medications.append({"name": "Pyridostigmine", "dose": "60 mg", "frequency": "three times daily"})
                plan.remove("magnesium_sulfate")
                contraindicated.append("magnesium_sulfate")
                case.notes.append("Myasthenia gravis: magnesium sulfate is contraindicated.")
            elif modifier == "asthma":
                case.pmh.append("Asthma")
                case.medications.append({"name": "Budesonide-formoterol inhaler", "dose": "160/4.5 mcg", "frequency": "twice daily"})
                plan[plan.index("severe_bp_treatment")] = "bp_treatment_without_labetalol"
                contraindicated.append("labetalol")
                case.notes.append("Asthma: avoid labetalol; use hydralazine or nifedipine.")
        else:
            plan = ["delivery"] if ga >= 37 * 7 else ["expectant_management"]
        _plan(case, plan, contraindicated, dx.name)
    from medgym.patient.matching import topics as history_topics

    c = casekit.call
    case.demo = [c("read_vitals"), c("review_prenatal_record"), c("repeat_blood_pressure")]
    if case.pmh:
        case.demo.append(c("review_medical_history"))
    for topic, value in case.history.items():
        if value not in (False, "normal"):
            case.demo.append(c("ask_patient", question=history_topics()[topic]["questions"][0]))
    case.demo += [c("order_lab", test=t) for t in ("urine_protein_creatinine_ratio", "cbc", "creatinine", "lft", "ldh")]
    if symptoms["edema"]:
        case.demo.append(c("examine", system="respiratory"))
    case.notes.append(f"{dx.name} at {_ga_text(ga)}; readings {s1}/{d1} and {s2}/{d2} mmHg.")


# --- postpartum hemorrhage ----------------------------------------------------------------------------------------


def build_pph(case: Case) -> None:
    rng = case.rng
    cause = choose(rng, {"atony": 0.5, "tissue": 0.2, "trauma": 0.15, "thrombin": 0.15})
    qbl = rng.randrange(1000, 2300, 50)
    minutes = rng.randint(15, 120)
    case.vitals_ranges.update(heart_rate=(104, 128), systolic_bp=(88, 112), diastolic_bp=(48, 66))
    fundus = "Firm, well-contracted uterus at the umbilicus."
    placenta = "Delivered complete with intact membranes."
    tract = "Intact apart from a small first-degree perineal tear that is not bleeding."
    labs: dict[str, float] = {"fibrinogen": rng.randint(320, 520), "platelets": rng.randint(150, 300)}
    if cause == "atony":
        fundus = "Soft, boggy uterus two fingerbreadths above the umbilicus; firms transiently with massage, then relaxes."
    elif cause == "tissue":
        placenta = "Incomplete: a cotyledon is missing from the maternal surface."
        fundus = rng.choice(["Soft, boggy uterus above the umbilicus that relaxes again after massage.",
                             "Uterus firm at the umbilicus, yet bleeding continues."])
    elif cause == "trauma":
        tract = rng.choice(["Actively bleeding 4 cm laceration of the right vaginal sidewall.",
                            "Actively bleeding 3 cm laceration of the cervix at 3 o'clock."])
    else:
        labs = {"fibrinogen": rng.randint(70, 150), "platelets": rng.randint(55, 110)}
        case.exam["skin"] = "Oozing from IV sites and the perineal repair; no clots forming in the pooled blood."
        case.notes.append("Coagulopathy after placental abruption.")
    case.labs = labs
    case.extra.update(qbl={"quantitative_blood_loss_ml": qbl, "minutes_since_birth": minutes},
                      fundus=fundus, placenta=placenta, genital_tract=tract)
    case.prenatal = {"delivery": f"Spontaneous vaginal birth {minutes} minutes ago at {rng.randint(38, 41)} weeks; oxytocin 10 units IM given with the anterior shoulder.",
                     "gravida_para": rng.choice(["G1P1", "G2P2", "G4P4", "G3P3"])}
    if cause == "thrombin":
        case.prenatal["antenatal_course"] = "Admitted with placental abruption before the birth."
    contraindicated: list[str] = []
    modifier = choose(rng, {"none": 0.55, "preeclampsia": 0.25, "asthma": 0.2})
    if modifier == "preeclampsia":
        case.pmh.append("Preeclampsia in this pregnancy")
        case.medications.append({"name": "Nifedipine extended release", "dose": "30 mg", "frequency": "daily"})
        contraindicated.append("methylergonovine")
    elif modifier == "asthma":
        case.pmh.append("Asthma")
        case.medications.append({"name": "Albuterol inhaler", "dose": "2 puffs", "frequency": "as needed"})
        contraindicated.append("carboprost")
    case.setting = "labor and delivery unit"
    case.complaint = "heavy bleeding after delivery"
    case.opening = "I feel dizzy - there's so much blood."
    c = casekit.call
    case.demo = [c("read_vitals"), c("quantify_blood_loss"), c("review_prenatal_record"), c("review_medical_history"),
                 c("fundal_assessment"), c("inspect_placenta"), c("inspect_genital_tract"), c("order_lab", test="fibrinogen"),
                 c("order_lab", test="cbc")]
    case.truth.required_actions = ["quantify_blood_loss", "fundal_assessment"]
    if case.task_type == "diagnosis":
        case.instructions = INSTRUCTIONS["pph"]
        _answer(case, PPH_CAUSES[cause][0], PPH_CAUSES[cause])
    else:
        case.instructions = INSTRUCTIONS["pph_management"]
        plan = {"atony": ["uterine_massage", "oxytocin", "tranexamic_acid"], "tissue": ["manual_removal", "tranexamic_acid"],
                "trauma": ["laceration_repair", "tranexamic_acid"], "thrombin": ["blood_products", "tranexamic_acid"]}[cause]
        _plan(case, plan, contraindicated, f"Postpartum hemorrhage ({PPH_CAUSES[cause][0]})")
    case.notes.append(f"Cause: {cause}; QBL {qbl} mL.")


# --- Rh(D) immune globulin ---------------------------------------------------------------------------------------


def build_rh(case: Case) -> None:
    rng = case.rng
    scenario = choose(rng, {"antenatal": 0.25, "postpartum_screen_negative": 0.2, "postpartum_fmh": 0.2, "newborn_negative": 0.12,
                            "sensitized": 0.11, "mother_positive": 0.12})
    abo = rng.choice(["O", "A", "B", "AB", "O", "A"])
    mother_negative = scenario != "mother_positive"
    anti_d = scenario == "sensitized"
    postpartum = scenario not in ("antenatal",) and not (scenario in ("sensitized", "mother_positive") and rng.random() < 0.5)
    newborn_positive = None
    kb = None
    blood = {"mother": {"abo_rh": f"{abo} Rh(D) {'negative' if mother_negative else 'positive'}",
                        "antibody_screen": "Positive: anti-D identified (titer 1:16)" if anti_d else "Negative"}}
    if postpartum:
        newborn_positive = scenario != "newborn_negative"
        blood["newborn"] = {"abo_rh": f"{rng.choice(['O', 'A', 'B'])} Rh(D) {'positive' if newborn_positive else 'negative'} (cord blood)",
                            "direct_antiglobulin_test": "Positive" if anti_d and newborn_positive else "Negative"}
        if scenario == "postpartum_fmh":
            while True:
                kb = round(rng.uniform(0.7, 3.0), 2)
                exact = kb / 100 * rules.MATERNAL_BLOOD_VOLUME_ML / rules.FETAL_BLOOD_PER_VIAL_ML
                if 0.1 <= exact % 1 <= 0.4 or 0.6 <= exact % 1 <= 0.9:
                    break
            case.extra["fmh"] = {"rosette_screen": "Positive", "kleihauer_betke": f"{kb}% fetal red cells"}
            case.prenatal["delivery_note"] = "Manual removal of the placenta after a difficult third stage."
        else:
            case.extra["fmh"] = {"rosette_screen": "Negative", "kleihauer_betke": "not indicated (rosette screen negative)"}
    vials = rules.rhig_vials(mother_negative, anti_d, postpartum, newborn_positive, kb)
    ga = rng.randint(27 * 7 + 6, 28 * 7 + 3) if not postpartum else rng.randint(38 * 7, 41 * 7)
    case.extra["blood_type"] = blood
    case.prenatal.update({"gestational_age": f"{_ga_text(ga)}" + (" at delivery" if postpartum else " by first-trimester ultrasound"),
                          "gravida_para": rng.choice(["G1P0", "G2P1", "G3P2"]) if not postpartum else rng.choice(["G1P1", "G2P2"]),
                          "blood_group": "see type and screen"})
    if postpartum:
        case.setting = "postnatal ward"
        case.complaint = "postpartum day 1 check"
        case.opening = "The baby and I are doing well."
    else:
        case.setting = "prenatal clinic"
        case.complaint = "routine 28-week prenatal visit"
        case.opening = "I'm here for my 28-week check."
    case.instructions = INSTRUCTIONS["rh"]
    words = {0: "zero", 1: "one", 2: "two", 3: "three", 4: "four", 5: "five", 6: "six"}
    accepted = [str(vials), f"{vials} vials", f"{vials} vial", f"{vials} doses", f"{vials} dose", f"{vials * 300} ug",
                f"{vials * 300} mcg", f"{vials * 300} micrograms", f"{words.get(vials, vials)} vials"]
    if vials == 0:
        accepted += ["none", "not indicated", "rhig not indicated", "0 vials"]
    _answer(case, str(vials), accepted)
    c = casekit.call
    case.demo = [c("review_prenatal_record"), c("blood_type_and_screen", patient="mother")]
    if postpartum:
        case.demo.append(c("blood_type_and_screen", patient="newborn"))
        if mother_negative and not anti_d and newborn_positive:
            case.demo.append(c("fetal_maternal_hemorrhage_test"))
    case.truth.required_actions = ["blood_type_and_screen:mother"]
    case.notes.append(f"Scenario {scenario}: {vials} vial(s).")


# --- Apgar -----------------------------------------------------------------------------------------------------------


def _apgar_signs(rng: random.Random, level: str) -> dict[str, Any]:
    pick = {
        "vigorous": lambda: {"heart_rate_bpm": rng.randint(120, 160), "respiratory_effort": choose(rng, {"good_crying": 0.85, "slow_or_irregular": 0.15}),
                             "muscle_tone": choose(rng, {"active_motion": 0.8, "some_flexion": 0.2}),
                             "reflex_irritability": choose(rng, {"cry_or_active_withdrawal": 0.8, "grimace": 0.2}),
                             "color": choose(rng, {"acrocyanosis": 0.7, "completely_pink": 0.3})},
        "depressed": lambda: {"heart_rate_bpm": rng.choice([rng.randint(70, 98), rng.randint(100, 130)]),
                              "respiratory_effort": choose(rng, {"slow_or_irregular": 0.7, "absent": 0.3}),
                              "muscle_tone": choose(rng, {"some_flexion": 0.7, "limp": 0.3}),
                              "reflex_irritability": choose(rng, {"grimace": 0.7, "no_response": 0.3}),
                              "color": choose(rng, {"acrocyanosis": 0.5, "blue_or_pale": 0.5})},
        "severe": lambda: {"heart_rate_bpm": rng.randint(50, 90), "respiratory_effort": "absent", "muscle_tone": "limp",
                           "reflex_irritability": choose(rng, {"no_response": 0.7, "grimace": 0.3}), "color": "blue_or_pale"},
    }
    return pick[level]()


def build_apgar(case: Case) -> None:
    rng = case.rng
    level = choose(rng, {"vigorous": 0.45, "depressed": 0.4, "severe": 0.15})
    one = _apgar_signs(rng, level)
    five = _apgar_signs(rng, "vigorous" if level != "severe" or rng.random() < 0.6 else "depressed")
    minute = rng.choice([1, 5])
    signs = one if minute == 1 else five
    score = calculate_apgar(**signs)["score"]
    case.extra["newborn"] = {
        str(m): {"heart_rate": "no heart rate detected" if s["heart_rate_bpm"] == 0 else f"{s['heart_rate_bpm']} beats/min by auscultation",
                 **{k: APGAR_TEXT[k][s[k]] for k in APGAR_TEXT}}
        for m, s in ((1, one), (5, five))}
    case.prenatal = {"delivery": f"Vaginal birth at {rng.randint(37, 41)} weeks; {rng.choice(['clear', 'meconium-stained'])} amniotic fluid.",
                     "gravida_para": rng.choice(["G1P1", "G2P2"])}
    case.setting = "delivery room"
    case.complaint = "newborn assessment after birth"
    case.opening = "Is my baby okay?"
    case.instructions = INSTRUCTIONS["apgar"].format(minute=minute, s="" if minute == 1 else "s")
    _answer(case, str(score), [f"apgar {score}", f"{score}/10", f"apgar score {score}", f"score {score}"])
    c = casekit.call
    case.demo = [c("newborn_assessment", minute=minute), c("calculate_apgar", **signs)]
    case.truth.required_actions = [f"newborn_assessment:{minute}"]
    case.notes.append(f"Apgar {score} at {minute} min.")


# --- third-trimester bleeding ---------------------------------------------------------------------------------------


def build_bleeding(case: Case) -> None:
    rng = case.rng
    previa = rng.random() < 0.5
    ga = rng.randint(30 * 7, 37 * 7)
    case.prenatal = {"gestational_age": f"{_ga_text(ga)} by first-trimester ultrasound", "gravida_para": rng.choice(["G2P1", "G3P2", "G4P3"])}
    if previa:
        case.prenatal["obstetric_history"] = rng.choice(["Two previous cesarean deliveries.", "One previous cesarean delivery."])
        case.extra["ultrasound"] = {"findings": "Single live fetus, cephalic, normal growth.",
                                    "placenta": "Placental edge completely covers the internal cervical os (complete placenta previa)."}
        case.exam["abdomen"] = "Soft, non-tender uterus; no contractions palpable."
        case.extra["fhr"] = tracing_report(rules.Tracing(rng.randint(125, 150), "moderate", True), rng.randint(8, 15))
        case.extra["toco"] = {"contractions_per_10_min": 0, "averaged_over": "30 minutes", "resting_tone": "normal"}
        case.history = {"vaginal_bleeding": True, "bleeding_pain": "painless", "contractions": False, "fetal_movements": "normal"}
        name, code, synonyms = "Placenta previa with hemorrhage", "O44.13", ["placenta previa", "placenta praevia", "complete placenta previa", "placenta previa with hemorrhage", "low lying placenta with bleeding"]
        codes = ["O44.13", "O44.33", "O44.53"]
        case.truth.contraindicated_actions = ["cervical_exam"]
        case.notes.append("Placenta previa: a digital cervical examination is contraindicated.")
    else:
        case.prenatal["antenatal_course"] = rng.choice(["Chronic hypertension on labetalol.", "Reports a fall onto her abdomen this morning.", "Smoker, 15 cigarettes a day."])
        case.extra["ultrasound"] = {"findings": "Single live fetus, cephalic.", "placenta": rng.choice(
            ["Fundal placenta clear of the os; a 5 cm retroplacental hypoechoic collection.", "Fundal placenta clear of the os; no retroplacental collection seen."])}
        case.exam["abdomen"] = "Tender, firm (hypertonic) uterus between contractions."
        case.extra["fhr"] = tracing_report(rules.Tracing(rng.randint(150, 165), "minimal", False, recurrent_late=True), rng.randint(3, 5))
        case.extra["toco"] = {"contractions_per_10_min": rng.randint(6, 9), "averaged_over": "30 minutes", "resting_tone": "elevated; uterus does not relax between contractions"}
        case.history = {"vaginal_bleeding": True, "bleeding_pain": "painful", "contractions": True, "fetal_movements": "reduced"}
        name, code, synonyms = "Placental abruption", "O45.93", ["placental abruption", "abruptio placentae", "premature separation of placenta", "abruption"]
        codes = ["O45.93", "O45.8X3", "O45.003", "O45.023", "O45.013"]
        case.extra["cervix"] = {"dilation": "2 cm", "effacement": "50%", "station": "-2", "consistency": "medium", "position": "mid",
                                "membranes": "intact", "presentation": "cephalic"}
    if previa:
        case.extra["cervix"] = {"dilation": "1 cm", "effacement": "20%", "station": "-3", "consistency": "medium", "position": "posterior",
                                "membranes": "intact", "presentation": "cephalic"}
    case.setting = "obstetric triage"
    case.complaint = "vaginal bleeding in pregnancy"
    case.opening = "I'm bleeding - bright red blood."
    case.instructions = INSTRUCTIONS["bleeding"]
    case.truth.final_tool = "submit_diagnosis"
    case.truth.diagnosis, case.truth.icd10, case.truth.accepted_codes, case.truth.synonyms = name, code, codes, [name, *synonyms]
    case.answer_text = f"{name} ({code})"
    c = casekit.call
    from medgym.patient.matching import topics as history_topics

    case.demo = [c("read_vitals"), c("review_prenatal_record"), c("obstetric_ultrasound"),
                 c("ask_patient", question=history_topics()["bleeding_pain"]["questions"][0]), c("examine", system="abdomen"),
                 c("fetal_heart_tracing"), c("tocodynamometry")]
    case.truth.required_actions = ["obstetric_ultrasound"]


BUILDERS: dict[str, Callable[[Case], None]] = {
    "dating": build_dating, "bishop": build_bishop, "fhr": build_fhr, "hypertension": build_hypertension,
    "pph": build_pph, "rh": build_rh, "apgar": build_apgar, "bleeding": build_bleeding,
}


# --- assembling the task -----------------------------------------------------------------------------------------------


def build_case(template: Template, task_type: str, index: int, seed: int) -> Task:
    rng = random.Random(seed)
    case = Case(template, task_type, rng)
    BUILDERS[template.kind](case)
    vitals = casekit.vitals(rng, case.vitals_ranges, "female", weight=(56, 102))
    if case.vitals_override:
        vitals = vitals.model_copy(update=case.vitals_override)
    history: list[HistoryFact] = [casekit.fact(rng, t, v) for t, v in case.history.items()]
    history += casekit.facts(rng, {"smoking": {"never": 0.75, "former": 0.15, "current": 0.1}, "alcohol": {"none": 1.0}})
    labs = {t: casekit.lab(t, v, "female") for t, v in case.labs.items()}
    exam = [ExamFinding(system=s, finding=f, abnormal=True) for s, f in case.exam.items()]
    case.extra["prenatal"] = case.prenatal
    chart = Chart(history=history, past_medical_history=case.pmh, medications=[Medication(**m) for m in case.medications],
                  exam=exam, labs=labs, extra=case.extra)
    truth = case.truth
    truth.key_findings = case.notes[:]
    truth.demonstration = [*case.demo, _final_call(truth)]
    presentation = Presentation(age=case.age, sex="female", chief_complaint=case.complaint, vitals=vitals, setting=case.setting,
                                opening_statement=case.opening)
    return Task(
        id=f"ob-{template.id}-{index:03d}", domain=NAME, task_type=task_type, specialty="obstetrics", condition=template.id,
        split="heldout" if template.heldout else "train", instructions=case.instructions, presentation=presentation, chart=chart,
        truth=truth, rationale=" ".join([f"{template.name}.", f"Answer: {case.answer_text}.", *case.notes]), source=template.source, seed=seed,
    )


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
        for i in range(template.cases):
            case_seed = stable_seed(seed, NAME, template.id, i)
            task_type = choose(random.Random(case_seed ^ 0x0B57), dict(template.task_types))
            tasks.append(build_case(template, task_type, i, case_seed))
    return tasks
