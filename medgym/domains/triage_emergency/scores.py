"""The emergency department's decision rules, as published: the ESI algorithm, the
Rumack-Matthew treatment line, CURB-65 and the IDSA/ATS severe-CAP criteria, ABCD2,
the Glasgow-Blatchford score and GINA's post-treatment PEF rule.

The case builder uses them to set a task's answer from the facts it generated; the
scripted clinician uses the same rules on the facts it observed. They are clinical
knowledge, never a task's answer.
"""

from __future__ import annotations

from dataclasses import dataclass

DANGER_ZONE = {"heart_rate": 100, "respiratory_rate": 20, "spo2": 92}


# --- ESI v4 ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EsiInputs:
    """What the ESI algorithm asks, in the order it asks it."""

    lifesaving: bool  # decision point A: needs an immediate life-saving intervention
    unresponsive: bool  # decision point A: AVPU P or U, or nonverbal and not following commands
    high_risk: bool  # decision point B: a high-risk situation
    confused: bool  # decision point B: new confusion, lethargy or disorientation (AVPU V counts)
    pain: int | None  # decision point B: severe pain or distress (>= 7/10)
    resources: int  # decision point C: distinct resource types
    heart_rate: float
    respiratory_rate: float
    spo2: float


def danger_zone(heart_rate: float, respiratory_rate: float, spo2: float) -> bool:
    """ESI decision point D for adults: HR > 100, RR > 20 or SpO2 < 92%."""
    return heart_rate > DANGER_ZONE["heart_rate"] or respiratory_rate > DANGER_ZONE["respiratory_rate"] or spo2 < DANGER_ZONE["spo2"]


def esi_level(x: EsiInputs) -> tuple[int, str]:
    """The ESI level (1-5) and the decision point that set it.

    Gilboy N et al. Emergency Severity Index, Version 4: Implementation Handbook 2012 (AHRQ 12-0014).
    A: life-saving intervention or unresponsive -> 1. B: high risk, new confusion/lethargy/disorientation,
    or severe pain/distress (MedGym applies the handbook's pain >= 7/10 consideration as a rule) -> 2.
    C: resources, none -> 5, one -> 4, two or more -> D: danger-zone vital signs -> 2, else 3.
    """
    if x.lifesaving:
        return 1, "A: requires an immediate life-saving intervention"
    if x.unresponsive:
        return 1, "A: unresponsive"
    if x.high_risk:
        return 2, "B: high-risk situation"
    if x.confused:
        return 2, "B: new confusion, lethargy or disorientation"
    if x.pain is not None and x.pain >= 7:
        return 2, "B: severe pain (7/10 or more)"
    if x.resources == 0:
        return 5, "C: no resources"
    if x.resources == 1:
        return 4, "C: one resource"
    if danger_zone(x.heart_rate, x.respiratory_rate, x.spo2):
        return 2, "D: two or more resources with danger-zone vital signs"
    return 3, "C/D: two or more resources, vital signs outside the danger zone"


# --- acetaminophen -------------------------------------------------------------------------------------


def rumack_matthew_line(hours: float) -> float:
    """The treatment line of the Rumack-Matthew nomogram in mcg/mL at `hours` (4-24) after an acute ingestion.

    The line starts at 150 mcg/mL at 4 hours and halves every 4 hours (about 4.7 mcg/mL at 24 hours):
    Rumack BH, Matthew H. Pediatrics 1975;55:871 (200-line); the 150 mcg/mL treatment line of
    Smilkstein MJ et al. N Engl J Med 1988;319:1557.
    """
    if not 4 <= hours <= 24:
        raise ValueError(f"the nomogram applies 4 to 24 hours after a single acute ingestion, got {hours} hours")
    return 150.0 * 2 ** (-(hours - 4) / 4)


# --- pneumonia ----------------------------------------------------------------------------------------


def curb65(confusion: bool, bun_mg_dl: float, respiratory_rate: float, systolic: float, diastolic: float, age: int) -> int:
    """CURB-65 (Lim WS et al. Thorax 2003;58:377): confusion; urea > 7 mmol/L (BUN > 19.6 mg/dL);
    RR >= 30; SBP < 90 or DBP <= 60 mmHg; age >= 65. One point each."""
    return sum([confusion, bun_mg_dl > 19.6, respiratory_rate >= 30, systolic < 90 or diastolic <= 60, age >= 65])


def severe_cap_minor_criteria(
    respiratory_rate: float, pao2_fio2: float, multilobar: bool, confusion: bool, bun_mg_dl: float,
    wbc: float, platelets: float, temperature_c: float, systolic: float,
) -> int:
    """IDSA/ATS 2019 minor criteria for severe CAP (Metlay JP et al. AJRCCM 2019;200:e45): RR >= 30,
    PaO2/FiO2 <= 250, multilobar infiltrates, confusion, BUN >= 20 mg/dL, WBC < 4000/uL,
    platelets < 100,000/uL, temperature < 36 C, hypotension needing aggressive fluids (SBP < 90 here)."""
    return sum([
        respiratory_rate >= 30, pao2_fio2 <= 250, multilobar, confusion, bun_mg_dl >= 20,
        wbc < 4.0, platelets < 100, temperature_c < 36.0, systolic < 90,
    ])


def pneumonia_disposition(curb: int, minor: int) -> str:
    """ICU with 3 or more IDSA/ATS minor criteria; else admit to a ward with CURB-65 >= 2 (BTS 2009); else home."""
    if minor >= 3:
        return "admit_icu"
    return "admit_ward" if curb >= 2 else "discharge"


# --- TIA ------------------------------------------------------------------------------------------------


def abcd2(age: int, systolic: float, diastolic: float, symptom: str, duration: str, diabetes: bool) -> int:
    """ABCD2 (Johnston SC et al. Lancet 2007;369:283): age >= 60 (1); BP >= 140/90 (1); unilateral weakness (2)
    or speech disturbance without weakness (1); duration >= 60 min (2) or 10-59 min (1); diabetes (1)."""
    clinical = {"weakness": 2, "speech": 1}.get(symptom, 0)
    minutes = {"ge60": 2, "m10_59": 1}.get(duration, 0)
    return int(age >= 60) + int(systolic >= 140 or diastolic >= 90) + clinical + minutes + int(diabetes)


def tia_disposition(score: int) -> str:
    """Hospitalize when ABCD2 >= 3 within 72 hours (Easton JD et al. Stroke 2009;40:2276, class IIa)."""
    return "admit" if score >= 3 else "discharge"


# --- upper GI bleeding -------------------------------------------------------------------------------


def glasgow_blatchford(
    bun_mg_dl: float, hemoglobin: float, sex: str, systolic: float, heart_rate: float,
    melena: bool, syncope: bool, hepatic_disease: bool, cardiac_failure: bool,
) -> int:
    """Glasgow-Blatchford score (Blatchford O et al. Lancet 2000;356:1318), blood urea converted from
    BUN (urea mmol/L = BUN mg/dL / 2.8)."""
    urea = bun_mg_dl / 2.8
    score = 6 if urea >= 25 else 4 if urea >= 10 else 3 if urea >= 8 else 2 if urea >= 6.5 else 0
    if sex == "male":
        score += 6 if hemoglobin < 10 else 3 if hemoglobin < 12 else 1 if hemoglobin < 13 else 0
    else:
        score += 6 if hemoglobin < 10 else 1 if hemoglobin < 12 else 0
    score += 3 if systolic < 90 else 2 if systolic < 100 else 1 if systolic < 110 else 0
    score += int(heart_rate >= 100) + int(melena) + 2 * int(syncope) + 2 * int(hepatic_disease) + 2 * int(cardiac_failure)
    return score


def gi_bleed_disposition(score: int) -> str:
    """Discharge with outpatient follow-up when the score is 0-1 (Laine L et al. Am J Gastroenterol 2021;116:899)."""
    return "discharge" if score <= 1 else "admit"


# --- asthma -----------------------------------------------------------------------------------------------


def asthma_disposition(pre_percent: float, post_percent: float) -> str:
    """GINA 2023: hospitalize if pre-treatment PEF < 25% or post-treatment PEF < 40% of predicted or personal
    best; discharge is recommended when post-treatment PEF is >= 60% (40-60%: individual decision)."""
    if pre_percent < 25 or post_percent < 40:
        return "admit"
    if post_percent >= 60:
        return "discharge"
    return "individual decision"

