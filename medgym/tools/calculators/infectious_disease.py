"""Infectious-disease calculators: pneumonia severity (CURB-65, PSI/PORT) and the
Centor/McIsaac score for streptococcal pharyngitis."""

from __future__ import annotations

from typing import Any

from medgym.tools.calculators._common import (
    DIAGNOSIS,
    Sex,
    calculator,
    check_age,
    check_range,
    one_of_urea_or_bun,
)

_CURB65_MORTALITY = {0: 0.7, 1: 3.2, 2: 13.0, 3: 17.0, 4: 41.5, 5: 57.0}


@calculator(DIAGNOSIS)
def calculate_curb65(
    confusion: bool,
    respiratory_rate_per_min: float,
    systolic_bp_mmhg: float,
    diastolic_bp_mmhg: float,
    age_years: float,
    urea_mmol_l: float | None = None,
    bun_mg_dl: float | None = None,
) -> dict[str, Any]:
    """Calculate the CURB-65 severity score for community-acquired pneumonia.

    Points (1 each, max 5): Confusion (new); Urea >7 mmol/L (BUN >19 mg/dL; urea = BUN / 2.8);
    Respiratory rate >=30/min; Blood pressure systolic <90 or diastolic <=60 mmHg; age >=65.
    30-day mortality in the derivation cohort by score: 0 0.7%, 1 3.2%, 2 13.0%, 3 17.0%,
    4 41.5%, 5 57.0%. Groups: 0-1 low risk (may suit home treatment), 2 intermediate (consider
    hospital-supervised treatment), 3-5 high (manage in hospital as severe pneumonia; consider ICU at 4-5).
    Source: Lim WS et al. Thorax 2003;58:377-382.

    Args:
        confusion: New mental confusion (disorientation in person, place or time).
        respiratory_rate_per_min: Respiratory rate in breaths per minute.
        systolic_bp_mmhg: Systolic blood pressure in mmHg.
        diastolic_bp_mmhg: Diastolic blood pressure in mmHg.
        age_years: Age in years.
        urea_mmol_l: Serum urea in mmol/L (give this or bun_mg_dl).
        bun_mg_dl: Blood urea nitrogen in mg/dL (give this or urea_mmol_l).
    """
    urea = one_of_urea_or_bun(urea_mmol_l, bun_mg_dl)
    rr = check_range("respiratory_rate_per_min", respiratory_rate_per_min, 0, 80, "breaths/min")
    sbp = check_range("systolic_bp_mmhg", systolic_bp_mmhg, 20, 350, "mmHg")
    dbp = check_range("diastolic_bp_mmhg", diastolic_bp_mmhg, 5, 250, "mmHg")
    age = check_age(age_years)
    points = {
        "confusion": int(confusion),
        "urea_over_7_mmol_l": int(urea > 7),
        "respiratory_rate_30_or_more": int(rr >= 30),
        "low_blood_pressure": int(sbp < 90 or dbp <= 60),
        "age_65_or_older": int(age >= 65),
    }
    score = sum(points.values())
    if score <= 1:
        group, management = "low", "low risk; may be suitable for home treatment"
    elif score == 2:
        group, management = "intermediate", "consider hospital-supervised treatment"
    else:
        group, management = "high", "severe pneumonia: manage in hospital; assess for ICU care (especially score 4-5)"
    return {
        "score": score,
        "max_score": 5,
        "points": points,
        "mortality_30_day_percent": _CURB65_MORTALITY[score],
        "risk_group": group,
        "management": management,
    }


_PSI_MORTALITY = {"I": "0.1-0.4%", "II": "0.6-0.7%", "III": "0.9-2.8%", "IV": "8.2-9.3%", "V": "27.0-31.1%"}
_PSI_SITE = {
    "I": "outpatient care",
    "II": "outpatient care",
    "III": "outpatient care or brief inpatient observation",
    "IV": "inpatient care",
    "V": "inpatient care",
}


@calculator(DIAGNOSIS)
def calculate_psi_port(
    age_years: float,
    sex: Sex,
    nursing_home_resident: bool,
    neoplastic_disease: bool,
    liver_disease: bool,
    congestive_heart_failure: bool,
    cerebrovascular_disease: bool,
    renal_disease: bool,
    altered_mental_status: bool,
    respiratory_rate_per_min: float,
    systolic_bp_mmhg: float,
    temperature_c: float,
    heart_rate_bpm: float,
    arterial_ph: float | None = None,
    bun_mg_dl: float | None = None,
    sodium_mmol_l: float | None = None,
    glucose_mg_dl: float | None = None,
    hematocrit_percent: float | None = None,
    pao2_mmhg: float | None = None,
    pleural_effusion: bool = False,
) -> dict[str, Any]:
    """Calculate the Pneumonia Severity Index (PSI / PORT score) for community-acquired pneumonia.

    Points: age in years (women: age - 10); nursing-home resident +10; neoplastic disease +30;
    liver disease +20; congestive heart failure +10; cerebrovascular disease +10; renal disease
    +10; altered mental status +20; respiratory rate >=30/min +20; systolic BP <90 mmHg +20;
    temperature <35 or >=40 C +15; pulse >=125/min +10; arterial pH <7.35 +30; BUN >=30 mg/dL
    +20; sodium <130 mmol/L +20; glucose >=250 mg/dL +10; haematocrit <30% +10; PaO2 <60 mmHg
    +10; pleural effusion +10. Class I: age <=50 with none of the five comorbidities and none of
    the five examination findings; otherwise class II <=70, III 71-90, IV 91-130, V >130 points.
    30-day mortality across the derivation and validation cohorts: I 0.1-0.4%, II 0.6-0.7%,
    III 0.9-2.8%, IV 8.2-9.3%, V 27.0-31.1%. Suggested site of care: I-II outpatient, III
    outpatient or brief inpatient observation, IV-V inpatient. Laboratory values not given
    score no points (the rule treats missing values as normal); they are listed as not provided.
    Source: Fine MJ et al. N Engl J Med 1997;336:243-250.

    Args:
        age_years: Age in years.
        sex: The patient's sex.
        nursing_home_resident: Resident of a nursing home.
        neoplastic_disease: Active cancer (other than basal or squamous cell skin cancer) in the past year.
        liver_disease: Cirrhosis or other chronic liver disease.
        congestive_heart_failure: Congestive heart failure.
        cerebrovascular_disease: Prior stroke or TIA.
        renal_disease: Chronic renal disease.
        altered_mental_status: Disorientation, stupor or coma.
        respiratory_rate_per_min: Respiratory rate in breaths per minute.
        systolic_bp_mmhg: Systolic blood pressure in mmHg.
        temperature_c: Body temperature in degrees Celsius.
        heart_rate_bpm: Pulse in beats per minute.
        arterial_ph: Arterial pH, if measured.
        bun_mg_dl: Blood urea nitrogen in mg/dL, if measured.
        sodium_mmol_l: Serum sodium in mmol/L, if measured.
        glucose_mg_dl: Serum glucose in mg/dL, if measured.
        hematocrit_percent: Haematocrit in percent, if measured.
        pao2_mmhg: Arterial PaO2 in mmHg, if measured (an SpO2 <90% counts as PaO2 <60).
        pleural_effusion: Pleural effusion on the chest radiograph.
    """
    age = check_age(age_years, adult=True)
    rr = check_range("respiratory_rate_per_min", respiratory_rate_per_min, 0, 80, "breaths/min")
    sbp = check_range("systolic_bp_mmhg", systolic_bp_mmhg, 20, 350, "mmHg")
    temp = check_range("temperature_c", temperature_c, 25, 45, "degrees C", "Give the temperature in Celsius.")
    hr = check_range("heart_rate_bpm", heart_rate_bpm, 20, 300, "beats/min")
    labs = {
        "arterial_ph": (arterial_ph, 6.5, 8.0, "", lambda v: v < 7.35, 30),
        "bun_mg_dl": (bun_mg_dl, 1, 400, "mg/dL", lambda v: v >= 30, 20),
        "sodium_mmol_l": (sodium_mmol_l, 90, 200, "mmol/L", lambda v: v < 130, 20),
        "glucose_mg_dl": (glucose_mg_dl, 10, 3000, "mg/dL", lambda v: v >= 250, 10),
        "hematocrit_percent": (hematocrit_percent, 5, 80, "%", lambda v: v < 30, 10),
        "pao2_mmhg": (pao2_mmhg, 10, 700, "mmHg", lambda v: v < 60, 10),
    }
    comorbid = {
        "neoplastic_disease": 30 * neoplastic_disease,
        "liver_disease": 20 * liver_disease,
        "congestive_heart_failure": 10 * congestive_heart_failure,
        "cerebrovascular_disease": 10 * cerebrovascular_disease,
        "renal_disease": 10 * renal_disease,
    }
    exam = {
        "altered_mental_status": 20 * altered_mental_status,
        "respiratory_rate_30_or_more": 20 * (rr >= 30),
        "systolic_bp_below_90": 20 * (sbp < 90),
        "temperature_below_35_or_40_or_more": 15 * (temp < 35 or temp >= 40),
        "pulse_125_or_more": 10 * (hr >= 125),
    }
    points: dict[str, int] = {"age": int(age) - (10 if sex == "female" else 0)}
    points["nursing_home_resident"] = 10 * nursing_home_resident
    points.update(comorbid)
    points.update(exam)
    not_provided = []
    for name, (value, low, high, unit, abnormal, pts) in labs.items():
        if value is None:
            not_provided.append(name)
            points[name] = 0
        else:
            points[name] = pts * abnormal(check_range(name, value, low, high, unit))
    points["pleural_effusion"] = 10 * pleural_effusion
    score = sum(points.values())
    if age <= 50 and not any(comorbid.values()) and not any(exam.values()):
        risk_class = "I"
    elif score <= 70:
        risk_class = "II"
    elif score <= 90:
        risk_class = "III"
    elif score <= 130:
        risk_class = "IV"
    else:
        risk_class = "V"
    return {
        "score": score,
        "points": points,
        "risk_class": risk_class,
        "mortality_30_day": _PSI_MORTALITY[risk_class],
        "suggested_site_of_care": _PSI_SITE[risk_class],
        "labs_not_provided": not_provided,
    }


_MCISAAC = [  # (score group, recommendation) from McIsaac 1998, Table (p. 79)
    ("<=0", "no culture or antibiotic"),
    ("1", "no culture or antibiotic"),
    ("2", "culture all; antibiotic only if culture positive"),
    ("3", "culture all; antibiotic only if culture positive"),
    (">=4", "culture all; treat with antibiotic on clinical grounds (high fever or clinically unwell, presenting early)"),
]
# share testing GAS positive by score group, 206,870 patients aged 3 years and over (Fine 2012, Results)
_MCISAAC_GAS_PERCENT = [8, 14, 23, 37, 55]


@calculator(DIAGNOSIS)
def calculate_centor_mcisaac(
    age_years: float,
    temperature_c: float,
    cough_absent: bool,
    tender_anterior_cervical_adenopathy: bool,
    tonsillar_swelling_or_exudate: bool,
) -> dict[str, Any]:
    """Calculate the Centor score modified by McIsaac for group A streptococcal pharyngitis.

    Points: temperature >38 C 1; absence of cough 1; swollen tender anterior cervical nodes 1;
    tonsillar swelling or exudate 1; age 3-14 years +1, 15-44 years 0, >=45 years -1.
    Recommendations (McIsaac 1998): <=0 and 1 no culture or antibiotic; 2 and 3 culture all,
    antibiotic only if culture positive; >=4 culture all, treat on clinical grounds. Share of
    patients testing positive for GAS by score (Fine 2012, 206,870 patients aged 3 years and over):
    <=0 8%, 1 14%, 2 23%, 3 37%, >=4 55%.
    Source: McIsaac WJ et al. CMAJ 1998;158:75-83; Fine AM, Nizet V, Mandl KD. Arch Intern Med
    2012;172:847-852; Centor RM et al. Med Decis Making 1981;1:239-246.

    Args:
        age_years: Age in years (the score was validated from age 3).
        temperature_c: Highest temperature in degrees Celsius (history or measured).
        cough_absent: The patient has no cough.
        tender_anterior_cervical_adenopathy: Swollen, tender anterior cervical lymph nodes.
        tonsillar_swelling_or_exudate: Tonsillar swelling or exudate.
    """
    age = check_age(age_years, minimum=3)
    temp = check_range("temperature_c", temperature_c, 30, 45, "degrees C", "Give the temperature in Celsius.")
    points = {
        "temperature_over_38": int(temp > 38),
        "cough_absent": int(cough_absent),
        "tender_anterior_cervical_adenopathy": int(tender_anterior_cervical_adenopathy),
        "tonsillar_swelling_or_exudate": int(tonsillar_swelling_or_exudate),
        "age": 1 if age < 15 else 0 if age < 45 else -1,
    }
    score = sum(points.values())
    row = min(max(score, 0), 4)
    group, recommendation = _MCISAAC[row]
    return {
        "score": score,
        "points": points,
        "score_group": group,
        "gas_positive_percent": _MCISAAC_GAS_PERCENT[row],
        "recommendation": recommendation,
    }
