"""Risk-stratification tasks: a published score computed from the case's own findings.

Each score names its calculator tool (from `medgym.tools.calculators`), the findings it
needs (as action keys, so a clinician knows what to gather), and how its arguments are
read from those findings. The same reading serves the task generator (from the chart)
and the scripted clinician (from what the tools returned), so truth and play agree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Protocol


class Findings(Protocol):
    """What a score reads: demographics, vital signs, results, answers, examination, history."""

    age: int
    sex: str
    vitals: dict[str, float]  # heart_rate, systolic_bp, diastolic_bp, respiratory_rate, temperature_c, spo2

    def lab(self, test: str) -> float | str | None: ...

    def symptom(self, topic: str) -> bool | None: ...

    def exam(self, system: str) -> str: ...

    def has_history(self, *words: str) -> bool: ...


@dataclass(frozen=True)
class RiskScore:
    tool: str
    name: str
    answer_key: str  # the field of the calculator's result that is the answer
    needs: tuple[str, ...]  # action keys that reveal the inputs
    labs: tuple[str, ...]  # laboratory inputs the chart must hold
    topics: tuple[str, ...] = ()  # history topics the patient must be able to answer
    arguments: Callable[[Findings], dict[str, Any]] = field(default=lambda f: {})
    unit: str = "points"


def _curb65(f: Findings) -> dict[str, Any]:
    return {"confusion": bool(f.symptom("confusion")) or "disoriented" in f.exam("neurological").lower(),
            "respiratory_rate_per_min": f.vitals["respiratory_rate"], "systolic_bp_mmhg": f.vitals["systolic_bp"],
            "diastolic_bp_mmhg": f.vitals["diastolic_bp"], "age_years": f.age, "bun_mg_dl": f.lab("bun")}


def _egfr(f: Findings) -> dict[str, Any]:
    return {"creatinine_mg_dl": f.lab("creatinine"), "age_years": f.age, "sex": f.sex}


def _meld_na(f: Findings) -> dict[str, Any]:
    return {"creatinine_mg_dl": f.lab("creatinine"), "bilirubin_mg_dl": f.lab("total_bilirubin"), "inr": f.lab("inr"),
            "sodium_mmol_l": f.lab("sodium"), "dialysis_twice_in_past_week": f.has_history("dialysis")}


def _glasgow_blatchford(f: Findings) -> dict[str, Any]:
    return {"hemoglobin_g_dl": f.lab("hemoglobin"), "sex": f.sex, "systolic_bp_mmhg": f.vitals["systolic_bp"],
            "heart_rate_bpm": f.vitals["heart_rate"], "melena": bool(f.symptom("melena")),
            "syncope": bool(f.symptom("syncope")), "hepatic_disease": f.has_history("cirrhosis", "liver"),
            "cardiac_failure": f.has_history("heart failure"), "bun_mg_dl": f.lab("bun")}


def _centor(f: Findings) -> dict[str, Any]:
    heent, nodes = f.exam("heent").lower(), f.exam("lymph_nodes").lower()
    exudate = ("exudate" in heent and "without tonsillar exudate" not in heent) or "swollen tonsils" in heent \
        or "enlarged tonsils" in heent
    return {"age_years": f.age, "temperature_c": f.vitals["temperature_c"], "cough_absent": f.symptom("cough") is False,
            "tender_anterior_cervical_adenopathy": "tender" in nodes and "anterior cervical" in nodes,
            "tonsillar_swelling_or_exudate": exudate}


def _anion_gap(f: Findings) -> dict[str, Any]:
    return {"sodium_mmol_l": f.lab("sodium"), "chloride_mmol_l": f.lab("chloride"), "bicarbonate_mmol_l": f.lab("bicarbonate")}


def _cha2ds2_vasc(f: Findings) -> dict[str, Any]:
    return {"age_years": f.age, "sex": f.sex, "congestive_heart_failure": f.has_history("heart failure"),
            "hypertension": f.has_history("hypertension"), "diabetes": f.has_history("diabetes"),
            "stroke_tia_or_thromboembolism": f.has_history("stroke", "transient ischemic attack", "embolism"),
            "vascular_disease": f.has_history("coronary artery disease", "myocardial infarction", "peripheral arterial")}


SCORES: dict[str, RiskScore] = {s.tool: s for s in [
    RiskScore("calculate_cha2ds2_vasc", "CHA2DS2-VASc score", "score", ("review_medical_history",), (), (), _cha2ds2_vasc),
    RiskScore("calculate_curb65", "CURB-65 score", "score", ("read_vitals", "ask_patient:confusion", "examine:neurological", "order_lab:bmp"),
              ("bun",), ("confusion",), _curb65),
    RiskScore("calculate_ckd_epi_2021", "eGFR (CKD-EPI 2021)", "egfr", ("order_lab:bmp",), ("creatinine",), (), _egfr,
              unit="mL/min/1.73 m2"),
    RiskScore("calculate_meld_na", "MELD-Na score", "meld_na", ("review_medical_history", "order_lab:bmp", "order_lab:lft", "order_lab:coags"),
              ("creatinine", "total_bilirubin", "inr", "sodium"), (), _meld_na),
    RiskScore("calculate_glasgow_blatchford", "Glasgow-Blatchford score", "score",
              ("read_vitals", "review_medical_history", "ask_patient:melena", "ask_patient:syncope", "order_lab:bmp", "order_lab:cbc"),
              ("hemoglobin", "bun"), ("melena", "syncope"), _glasgow_blatchford),
    RiskScore("calculate_centor_mcisaac", "McIsaac (modified Centor) score", "score",
              ("read_vitals", "ask_patient:cough", "examine:heent", "examine:lymph_nodes"), (), ("cough",), _centor),
    RiskScore("calculate_anion_gap", "anion gap", "anion_gap", ("order_lab:bmp",), ("sodium", "chloride", "bicarbonate"), (),
              _anion_gap, unit="mmol/L"),
]}


def instructions(score: RiskScore) -> str:
    return (f"Work up this patient, then calculate the {score.name} from your own findings with {score.tool} and submit "
            f"the result ({score.unit}, the number only) with submit_answer.")


def answer_text(value: float) -> str:
    return f"{value:g}" if float(value) == int(value) else f"{value:.1f}"
