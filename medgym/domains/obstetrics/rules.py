"""Obstetric decision rules as published: ACOG dating, the NICHD three-tier FHR categories,
ACOG's criteria for the hypertensive disorders of pregnancy, and RhIG dosing.

The case builder sets answers with them; the scripted clinician applies them to what it
observed. Bishop and Apgar scores come from the calculators in `medgym.tools.calculators`.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

AST_ULN = 33  # U/L, the lab catalog's upper limit (MedlinePlus)
ALT_ULN = 36  # U/L, the lab catalog's upper limit (MedlinePlus)
MATERNAL_BLOOD_VOLUME_ML = 5000
FETAL_BLOOD_PER_VIAL_ML = 30


# --- dating (ACOG Committee Opinion 700) ---------------------------------------------------------------


def redating_threshold_days(ultrasound_ga_days: int) -> int:
    """Largest LMP-ultrasound discrepancy (days) that keeps the LMP dating, by gestational age at the ultrasound:
    up to 8 6/7 weeks 5; 9 0/7-13 6/7 weeks 7; 14 0/7-15 6/7 weeks 7; 16 0/7-21 6/7 weeks 10;
    22 0/7-27 6/7 weeks 14; 28 0/7 weeks and later 21 (ACOG Committee Opinion 700, Table 1)."""
    for limit, days in ((62, 5), (97, 7), (111, 7), (153, 10), (195, 14)):
        if ultrasound_ga_days <= limit:
            return days
    return 21


def estimated_due_date(
    visit: dt.date, ultrasound_ga_days: int, lmp: dt.date | None = None,
    transfer: dt.date | None = None, embryo_age_days: int | None = None,
) -> tuple[dt.date, str]:
    """The best obstetric estimate of the due date and how it was set (ACOG Committee Opinion 700).

    IVF: transfer date + (266 - embryo age) days (a day-5 embryo gives 261 days). An unknown LMP: the
    ultrasound. Otherwise LMP + 280 days, unless the ultrasound differs by more than the threshold.
    """
    if transfer is not None and embryo_age_days is not None:
        return transfer + dt.timedelta(days=266 - embryo_age_days), "assisted reproduction (embryo transfer)"
    by_ultrasound = visit + dt.timedelta(days=280 - ultrasound_ga_days)
    if lmp is None:
        return by_ultrasound, "ultrasound (LMP unknown)"
    lmp_ga = (visit - lmp).days
    if abs(lmp_ga - ultrasound_ga_days) > redating_threshold_days(ultrasound_ga_days):
        return by_ultrasound, "ultrasound (discrepancy beyond the ACOG threshold)"
    return lmp + dt.timedelta(days=280), "last menstrual period (confirmed by ultrasound)"


def weeks_days(days: int) -> str:
    return f"{days // 7} weeks {days % 7} days"


# --- fetal heart rate tracing (NICHD 2008) -------------------------------------------------------------


def variability_class(amplitude_bpm: float | None) -> str:
    """Baseline variability: absent (undetectable), minimal (<= 5 bpm), moderate (6-25 bpm), marked (> 25 bpm)."""
    if amplitude_bpm is None or amplitude_bpm <= 0:
        return "absent"
    if amplitude_bpm <= 5:
        return "minimal"
    return "moderate" if amplitude_bpm <= 25 else "marked"


@dataclass(frozen=True)
class Tracing:
    baseline: int
    variability: str  # absent, minimal, moderate, marked
    accelerations: bool
    recurrent_late: bool = False
    recurrent_variable: bool = False
    intermittent_late: bool = False
    intermittent_variable: bool = False
    early: bool = False
    prolonged: bool = False
    sinusoidal: bool = False


def fhr_category(t: Tracing) -> str:
    """NICHD three-tier category (Macones GA et al. Obstet Gynecol 2008;112:661).

    III: absent variability with recurrent late decelerations, recurrent variable decelerations or
    bradycardia; or a sinusoidal pattern. I: baseline 110-160, moderate variability, no late, variable
    or prolonged decelerations (early decelerations and accelerations may be present or absent).
    II: every other tracing.
    """
    if t.sinusoidal or (t.variability == "absent" and (t.recurrent_late or t.recurrent_variable or t.baseline < 110)):
        return "III"
    decels = t.recurrent_late or t.recurrent_variable or t.intermittent_late or t.intermittent_variable or t.prolonged
    if 110 <= t.baseline <= 160 and t.variability == "moderate" and not decels:
        return "I"
    return "II"


# --- hypertensive disorders of pregnancy (ACOG Practice Bulletin 222) -----------------------------------


@dataclass(frozen=True)
class HypertensionFindings:
    chronic: bool  # hypertension before pregnancy or before 20 weeks
    readings: tuple[tuple[int, int], tuple[int, int]]  # two readings at least 4 hours apart
    upcr: float  # urine protein/creatinine ratio, mg/mg
    platelets: float  # x10^3/uL
    creatinine: float  # mg/dL
    ast: float  # U/L
    alt: float  # U/L
    ldh: float  # IU/L
    headache_unresponsive: bool
    visual_disturbance: bool
    ruq_pain: bool
    pulmonary_edema: bool


def hypertensive(readings: tuple[tuple[int, int], ...]) -> bool:
    return all(s >= 140 or d >= 90 for s, d in readings)


def severe_range(readings: tuple[tuple[int, int], ...]) -> bool:
    return all(s >= 160 or d >= 110 for s, d in readings)


def severe_features(f: HypertensionFindings) -> list[str]:
    """ACOG PB 222 severe features: severe-range BP on two occasions, platelets < 100,000/uL, transaminases twice
    normal or severe persistent RUQ/epigastric pain, creatinine > 1.1 mg/dL, pulmonary edema, new headache
    unresponsive to medication, visual disturbances."""
    out = []
    if severe_range(f.readings):
        out.append("severe-range blood pressure")
    if f.platelets < 100:
        out.append("thrombocytopenia")
    if f.ast > 2 * AST_ULN or f.alt > 2 * ALT_ULN or f.ruq_pain:
        out.append("impaired liver function or RUQ pain")
    if f.creatinine > 1.1:
        out.append("renal insufficiency")
    if f.pulmonary_edema:
        out.append("pulmonary edema")
    if f.headache_unresponsive:
        out.append("headache unresponsive to medication")
    if f.visual_disturbance:
        out.append("visual disturbance")
    return out


def hellp(f: HypertensionFindings) -> bool:
    """LDH >= 600 IU/L, AST and ALT more than twice the upper limit of normal, platelets < 100,000/uL."""
    return f.ldh >= 600 and f.ast > 2 * AST_ULN and f.alt > 2 * ALT_ULN and f.platelets < 100


def classify_hypertension(f: HypertensionFindings) -> str:
    """One of: chronic_hypertension, superimposed_preeclampsia, hellp_syndrome, preeclampsia_severe,
    preeclampsia, gestational_hypertension, normotensive."""
    proteinuria = f.upcr >= 0.3
    severe = severe_features(f)
    if f.chronic:
        return "superimposed_preeclampsia" if proteinuria or severe else "chronic_hypertension"
    if hellp(f):
        return "hellp_syndrome"
    if not hypertensive(f.readings):
        return "normotensive"
    if severe and (proteinuria or any(s != "severe-range blood pressure" for s in severe)):
        return "preeclampsia_severe"
    if proteinuria:
        return "preeclampsia_severe" if severe else "preeclampsia"
    return "gestational_hypertension"


def trimester(ga_weeks: int) -> int:
    """ICD-10-CM trimesters: second 14 0/7 to < 28 0/7 weeks, third from 28 0/7 weeks."""
    return 2 if ga_weeks < 28 else 3


# --- Rh(D) immune globulin (ACOG PB 181; AABB Technical Manual) ------------------------------------------


def rhig_vials_for_bleed(kleihauer_betke_percent: float) -> int:
    """300-ug vials for a quantified fetomaternal hemorrhage: fetal whole blood = KB% x 5000 mL; vials = volume / 30;
    below .5 round down, from .5 round up; then add one vial (AABB)."""
    volume = kleihauer_betke_percent / 100 * MATERNAL_BLOOD_VOLUME_ML
    exact = volume / FETAL_BLOOD_PER_VIAL_ML
    whole = math.floor(exact) if exact - math.floor(exact) < 0.5 else math.ceil(exact)
    return whole + 1


def rhig_vials(
    mother_rh_negative: bool, anti_d_present: bool, postpartum: bool, newborn_rh_positive: bool | None,
    kleihauer_betke_percent: float | None,
) -> int:
    """300-ug RhIG vials indicated (0 = not indicated). Rh(D)-negative and not alloimmunized: one vial at 28 weeks;
    after delivery of an Rh(D)-positive newborn one vial, or more for a fetomaternal hemorrhage over 30 mL."""
    if not mother_rh_negative or anti_d_present:
        return 0
    if not postpartum:
        return 1
    if not newborn_rh_positive:
        return 0
    if kleihauer_betke_percent is None:
        return 1
    return max(1, rhig_vials_for_bleed(kleihauer_betke_percent))
