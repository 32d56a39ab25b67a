"""Hepatology and upper-GI calculators: Child-Pugh, MELD-Na and the Glasgow-Blatchford score."""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal

from medgym.tools.calculators._common import DIAGNOSIS, Sex, calculator, check_range, one_of_urea_or_bun

CREATININE_HINT = "Give creatinine in mg/dL (umol/L / 88.4)."
BILIRUBIN_HINT = "Give bilirubin in mg/dL (umol/L / 17.1)."


def _half_up(value: float, digits: int = 0) -> float:
    return float(Decimal(repr(value)).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP))


@calculator((DIAGNOSIS, "drug_interaction"))  # drug_interaction: hepatic dose adjustment by Child-Pugh class
def calculate_child_pugh(
    bilirubin_mg_dl: float,
    albumin_g_dl: float,
    inr: float,
    ascites: Literal["none", "mild", "moderate_to_severe"],
    encephalopathy: Literal["none", "grade_1_2", "grade_3_4"],
) -> dict[str, Any]:
    """Calculate the Child-Pugh score and class of cirrhosis severity.

    Points (1/2/3): bilirubin <2 / 2-3 / >3 mg/dL; albumin >3.5 / 2.8-3.5 / <2.8 g/dL;
    INR <1.7 / 1.7-2.3 / >2.3 (the usual substitute for Pugh's prothrombin-time prolongation
    of 1-4 / 4-6 / >6 s); ascites none / mild / moderate-severe; hepatic encephalopathy none /
    grade 1-2 / grade 3-4. Class A 5-6, B 7-9, C 10-15 points.
    Source: Pugh RN et al. Br J Surg 1973;60:646-649.

    Args:
        bilirubin_mg_dl: Total serum bilirubin in mg/dL.
        albumin_g_dl: Serum albumin in g/dL.
        inr: International normalized ratio.
        ascites: Ascites on examination or imaging.
        encephalopathy: Hepatic encephalopathy grade (West Haven).
    """
    bili = check_range("bilirubin_mg_dl", bilirubin_mg_dl, 0.1, 80, "mg/dL", BILIRUBIN_HINT)
    alb = check_range("albumin_g_dl", albumin_g_dl, 0.5, 7, "g/dL", "Give albumin in g/dL (g/L / 10).")
    inr_v = check_range("inr", inr, 0.5, 20, "")
    points = {
        "bilirubin": 1 if bili < 2 else 2 if bili <= 3 else 3,
        "albumin": 1 if alb > 3.5 else 2 if alb >= 2.8 else 3,
        "inr": 1 if inr_v < 1.7 else 2 if inr_v <= 2.3 else 3,
        "ascites": ["none", "mild", "moderate_to_severe"].index(ascites) + 1,
        "encephalopathy": ["none", "grade_1_2", "grade_3_4"].index(encephalopathy) + 1,
    }
    score = sum(points.values())
    return {"score": score, "points": points, "child_pugh_class": "A" if score <= 6 else "B" if score <= 9 else "C"}


@calculator(DIAGNOSIS)
def calculate_meld_na(
    creatinine_mg_dl: float,
    bilirubin_mg_dl: float,
    inr: float,
    sodium_mmol_l: float,
    dialysis_twice_in_past_week: bool = False,
) -> dict[str, Any]:
    """Calculate the MELD-Na score (Model for End-Stage Liver Disease with sodium), as used by OPTN/UNOS from 2016.

    Values below 1.0 are set to 1.0; creatinine is capped at 4.0 mg/dL and set to 4.0 with
    dialysis at least twice (or 24 h of CVVHD) in the past week; sodium is bounded to 125-137.
    MELD(i) = 0.957 x ln(creatinine) + 0.378 x ln(bilirubin) + 1.120 x ln(INR) + 0.643, rounded
    to the tenth and multiplied by 10. If MELD(i) > 11:
    MELD-Na = MELD(i) + 1.32 x (137 - Na) - 0.033 x MELD(i) x (137 - Na). Rounded; range 6-40.
    Source: Kim WR et al. N Engl J Med 2008;359:1018-1026; OPTN Policy 9 (MELD-Na, January 2016);
    Kamath PS et al. Hepatology 2001;33:464-470.

    Args:
        creatinine_mg_dl: Serum creatinine in mg/dL.
        bilirubin_mg_dl: Total serum bilirubin in mg/dL.
        inr: International normalized ratio.
        sodium_mmol_l: Serum sodium in mmol/L.
        dialysis_twice_in_past_week: Dialysis at least twice, or 24 hours of CVVHD, in the past week.
    """
    cr = check_range("creatinine_mg_dl", creatinine_mg_dl, 0.1, 30, "mg/dL", CREATININE_HINT)
    bili = check_range("bilirubin_mg_dl", bilirubin_mg_dl, 0.1, 80, "mg/dL", BILIRUBIN_HINT)
    inr_v = check_range("inr", inr, 0.5, 20, "")
    na = check_range("sodium_mmol_l", sodium_mmol_l, 90, 200, "mmol/L")
    cr = 4.0 if dialysis_twice_in_past_week else min(max(cr, 1.0), 4.0)
    bili, inr_v = max(bili, 1.0), max(inr_v, 1.0)
    na_bounded = min(max(na, 125.0), 137.0)
    meld_i = _half_up(0.957 * math.log(cr) + 0.378 * math.log(bili) + 1.120 * math.log(inr_v) + 0.643, 1) * 10
    score = meld_i
    if meld_i > 11:
        score = meld_i + 1.32 * (137 - na_bounded) - 0.033 * meld_i * (137 - na_bounded)
    final = int(min(max(_half_up(score), 6), 40))
    return {"meld_na": final, "meld": int(min(max(meld_i, 6), 40)), "sodium_used_mmol_l": na_bounded}


@calculator(DIAGNOSIS)
def calculate_glasgow_blatchford(
    hemoglobin_g_dl: float,
    sex: Sex,
    systolic_bp_mmhg: float,
    heart_rate_bpm: float,
    melena: bool,
    syncope: bool,
    hepatic_disease: bool,
    cardiac_failure: bool,
    urea_mmol_l: float | None = None,
    bun_mg_dl: float | None = None,
) -> dict[str, Any]:
    """Calculate the Glasgow-Blatchford score for upper gastrointestinal bleeding.

    Points: blood urea (mmol/L; urea = BUN mg/dL / 2.8) 6.5-<8 2, 8-<10 3, 10-<25 4, >=25 6;
    haemoglobin (g/dL) men 12-<13 1, 10-<12 3, <10 6; women 10-<12 1, <10 6; systolic BP
    100-109 1, 90-99 2, <90 3 mmHg; pulse >=100/min 1; melaena 1; syncope 2; hepatic disease 2;
    cardiac failure 2 (max 23). A score of 0 identifies patients at low risk of needing
    intervention (transfusion, endoscopic therapy or surgery), who may be managed as outpatients.
    Source: Blatchford O et al. Lancet 2000;356:1318-1321; Stanley AJ et al. Lancet 2009;373:42-47.

    Args:
        hemoglobin_g_dl: Haemoglobin in g/dL.
        sex: The patient's sex.
        systolic_bp_mmhg: Systolic blood pressure in mmHg.
        heart_rate_bpm: Pulse in beats per minute.
        melena: Presentation with melaena.
        syncope: Presentation with syncope.
        hepatic_disease: Known history or clinical and laboratory evidence of chronic or acute liver disease.
        cardiac_failure: Known history or clinical and echocardiographic evidence of cardiac failure.
        urea_mmol_l: Blood urea in mmol/L (give this or bun_mg_dl).
        bun_mg_dl: Blood urea nitrogen in mg/dL (give this or urea_mmol_l).
    """
    urea = one_of_urea_or_bun(urea_mmol_l, bun_mg_dl)
    hb = check_range("hemoglobin_g_dl", hemoglobin_g_dl, 1, 25, "g/dL", "Give haemoglobin in g/dL (g/L / 10).")
    sbp = check_range("systolic_bp_mmhg", systolic_bp_mmhg, 20, 350, "mmHg")
    hr = check_range("heart_rate_bpm", heart_rate_bpm, 20, 300, "beats/min")
    if sex == "male":
        hb_points = 0 if hb >= 13 else 1 if hb >= 12 else 3 if hb >= 10 else 6
    else:
        hb_points = 0 if hb >= 12 else 1 if hb >= 10 else 6
    points = {
        "urea": 0 if urea < 6.5 else 2 if urea < 8 else 3 if urea < 10 else 4 if urea < 25 else 6,
        "hemoglobin": hb_points,
        "systolic_bp": 0 if sbp >= 110 else 1 if sbp >= 100 else 2 if sbp >= 90 else 3,
        "pulse_100_or_more": int(hr >= 100),
        "melena": int(melena),
        "syncope": 2 * int(syncope),
        "hepatic_disease": 2 * int(hepatic_disease),
        "cardiac_failure": 2 * int(cardiac_failure),
    }
    score = sum(points.values())
    return {
        "score": score,
        "max_score": 23,
        "points": points,
        "interpretation": (
            "low risk: intervention unlikely to be needed; may be managed as an outpatient"
            if score == 0
            else "not low risk: the need for intervention rises with the score"
        ),
    }
