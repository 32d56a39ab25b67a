"""Clinical calculators against published worked examples and points tables.

Each test names its source. Where a publication gives a narrative worked example
the test reproduces it; where a score is defined only by its points table, the
test walks the table item by item (and says so); for an equation, the expected
value is the published equation worked by hand in the comment next to it.
"""

from __future__ import annotations

import datetime as dt
import math

import pytest

from medgym.tools import ToolError, call_tool, get_tool, list_tools
from medgym.tools.calculators import (
    acid_base,
    cardiology,
    critical_care,
    electrolytes,
    general,
    hematology,
    hepatology,
    infectious_disease,
    neurology,
    obstetrics,
    psychiatry,
    pulmonary,
    renal,
)

EXPECTED_DOMAINS = {
    ("clinical_diagnosis",): [
        "calculate_cha2ds2_vasc", "calculate_has_bled", "calculate_heart_score", "calculate_timi_ua_nstemi",
        "calculate_wells_dvt", "calculate_perc", "calculate_curb65", "calculate_psi_port",
        "calculate_meld_na", "calculate_glasgow_blatchford", "calculate_centor_mcisaac",
        "calculate_4ts", "calculate_khorana",
    ],
    ("clinical_diagnosis", "triage_emergency", "cross_domain"): ["calculate_abcd2", "calculate_nihss"],
    ("clinical_diagnosis", "cross_domain"): ["calculate_wells_pe"],
    ("clinical_diagnosis", "drug_interaction"): ["calculate_child_pugh"],
    ("clinical_diagnosis", "ehr_management", "triage_emergency", "cross_domain"): [
        "calculate_anion_gap", "calculate_corrected_calcium", "calculate_corrected_sodium",
        "calculate_serum_osmolality", "calculate_free_water_deficit", "calculate_fena", "calculate_aa_gradient",
        "calculate_pf_ratio", "calculate_winters_formula", "calculate_qtc", "calculate_map", "calculate_bmi",
    ],
    ("clinical_diagnosis", "drug_interaction", "ehr_management", "cross_domain"): [
        "calculate_ckd_epi_2021", "calculate_cockcroft_gault",
    ],
    ("ehr_management", "triage_emergency", "cross_domain"): ["calculate_news2", "calculate_sofa", "calculate_qsofa"],
    ("triage_emergency",): ["calculate_gcs", "rumack_matthew_nomogram"],
    ("triage_emergency", "drug_interaction"): ["calculate_weight_based_dose"],
    ("psychiatry",): ["score_phq9", "score_gad7", "score_audit_c", "score_ciwa_ar", "screen_cssrs"],
    ("obstetrics",): ["calculate_bishop_score", "calculate_apgar", "calculate_gestational_age"],
}
CALCULATORS = {t.name: t for t in list_tools() if t.kind == "calculator"}


# --------------------------------------------------------------------------- registry and schemas


def test_every_named_calculator_is_registered_in_its_domains():
    expected = {name: domains for domains, names in EXPECTED_DOMAINS.items() for name in names}
    assert set(CALCULATORS) == set(expected)
    for name, domains in expected.items():
        assert CALCULATORS[name].domains == domains, name
        for domain in domains:
            assert name in {t.name for t in list_tools(domain)}, (name, domain)


@pytest.mark.parametrize("name", sorted({n for names in EXPECTED_DOMAINS.values() for n in names}))
def test_schema_describes_every_argument_and_states_formula_source(name):
    fn = CALCULATORS[name].schema["function"]
    assert fn["name"] == name
    doc = get_tool(name).doc
    assert "Source:" in doc, f"{name} states no source"
    source = doc.split("Source:", 1)[1]
    assert any(str(year) in source for year in range(1920, 2026)), f"{name}: source has no year"
    assert len(doc.split("Source:")[0]) > 80, f"{name}: formula/points table missing"
    assert "Source:" not in fn["description"], f"{name}: the agent-facing description should be the summary only"
    for arg, prop in fn["parameters"]["properties"].items():
        assert prop.get("description", "").strip(), f"{name}.{arg} has no description"


# --------------------------------------------------------------------------- cardiology


def test_cha2ds2_vasc_points_table_item_by_item():
    """Lip GY et al. Chest 2010;137:263-272, points table; ESC 2020 (Hindricks, Eur Heart J 2021) thresholds."""
    base = dict(age_years=50, sex="male", congestive_heart_failure=False, hypertension=False, diabetes=False,
                stroke_tia_or_thromboembolism=False, vascular_disease=False)
    assert cardiology.calculate_cha2ds2_vasc(**base)["score"] == 0
    for item, points in [("congestive_heart_failure", 1), ("hypertension", 1), ("diabetes", 1),
                         ("stroke_tia_or_thromboembolism", 2), ("vascular_disease", 1)]:
        assert cardiology.calculate_cha2ds2_vasc(**{**base, item: True})["score"] == points, item
    assert cardiology.calculate_cha2ds2_vasc(**{**base, "age_years": 65})["points"]["age"] == 1
    assert cardiology.calculate_cha2ds2_vasc(**{**base, "age_years": 74})["points"]["age"] == 1
    assert cardiology.calculate_cha2ds2_vasc(**{**base, "age_years": 75})["points"]["age"] == 2
    assert cardiology.calculate_cha2ds2_vasc(**{**base, "sex": "female"})["score"] == 1
    everything = cardiology.calculate_cha2ds2_vasc(age_years=80, sex="female", congestive_heart_failure=True,
                                                   hypertension=True, diabetes=True,
                                                   stroke_tia_or_thromboembolism=True, vascular_disease=True)
    assert everything["score"] == 9
    # ESC 2020: a woman whose only point is her sex is low risk; 1 (men) / 2 (women) -> IIa; >=2 / >=3 -> class I
    assert cardiology.calculate_cha2ds2_vasc(**{**base, "sex": "female"})["recommendation"].startswith("low risk")
    assert "IIa" in cardiology.calculate_cha2ds2_vasc(**{**base, "hypertension": True})["recommendation"]
    assert "IIa" in cardiology.calculate_cha2ds2_vasc(**{**base, "sex": "female", "diabetes": True})["recommendation"]
    assert "class I)" in cardiology.calculate_cha2ds2_vasc(**{**base, "age_years": 76})["recommendation"]


def test_has_bled_points_table_item_by_item():
    """Pisters R et al. Chest 2010;138:1093-1100: one point per letter (A and D may score 2); >=3 is high risk."""
    base = dict(uncontrolled_hypertension=False, abnormal_renal_function=False, abnormal_liver_function=False,
                stroke_history=False, bleeding_history_or_predisposition=False, labile_inr=False, age_years=60,
                antiplatelet_or_nsaid_use=False, alcohol_excess=False)
    assert cardiology.calculate_has_bled(**base)["score"] == 0
    for item in [k for k in base if k != "age_years"]:
        assert cardiology.calculate_has_bled(**{**base, item: True})["score"] == 1, item
    assert cardiology.calculate_has_bled(**{**base, "age_years": 65})["score"] == 0  # "elderly" is >65
    assert cardiology.calculate_has_bled(**{**base, "age_years": 66})["score"] == 1
    high = cardiology.calculate_has_bled(**{**base, "age_years": 70, "labile_inr": True, "alcohol_excess": True})
    assert high["score"] == 3 and high["risk_category"] == "high"


def test_heart_score_points_table_and_categories():
    """Six AJ, Backus BE, Kelder JC. Neth Heart J 2008;16:191-196: each element 0-2; 0-3 low, 4-6 intermediate, 7-10 high."""
    low = cardiology.calculate_heart_score(history="slightly_suspicious", ecg="normal", age_years=44,
                                           risk_factor_count=0, known_atherosclerotic_disease=False,
                                           troponin_ratio_to_upper_limit=1.0)
    assert low["score"] == 0 and low["risk_category"] == "low"
    mid = cardiology.calculate_heart_score(history="moderately_suspicious", ecg="nonspecific_repolarization",
                                           age_years=45, risk_factor_count=2, known_atherosclerotic_disease=False,
                                           troponin_ratio_to_upper_limit=3.0)
    assert mid["points"] == {"history": 1, "ecg": 1, "age": 1, "risk_factors": 1, "troponin": 1}
    assert mid["risk_category"] == "intermediate"
    high = cardiology.calculate_heart_score(history="highly_suspicious", ecg="significant_st_depression",
                                            age_years=65, risk_factor_count=0, known_atherosclerotic_disease=True,
                                            troponin_ratio_to_upper_limit=3.5)
    assert high["score"] == 10 and high["risk_category"] == "high"
    three_factors = cardiology.calculate_heart_score(history="slightly_suspicious", ecg="normal", age_years=30,
                                                     risk_factor_count=3, known_atherosclerotic_disease=False,
                                                     troponin_ratio_to_upper_limit=0.2)
    assert three_factors["points"]["risk_factors"] == 2


def test_timi_ua_nstemi_table_and_14_day_event_rates():
    """Antman EM et al. JAMA 2000;284:835-842: 7 items, 14-day event rate 4.7/8.3/13.2/19.9/26.2/40.9%."""
    flags = ["three_or_more_cad_risk_factors", "known_cad_stenosis_50_percent", "aspirin_in_past_7_days",
             "two_or_more_anginal_episodes_24h", "st_deviation_0_5_mm", "elevated_cardiac_markers"]
    rates = {0: 4.7, 1: 4.7, 2: 8.3, 3: 13.2, 4: 19.9, 5: 26.2, 6: 40.9, 7: 40.9}
    for n in range(7):
        result = cardiology.calculate_timi_ua_nstemi(age_years=50, **{f: i < n for i, f in enumerate(flags)})
        assert result["score"] == n and result["risk_14_day_percent"] == rates[n]
    assert cardiology.calculate_timi_ua_nstemi(age_years=65, **{f: True for f in flags})["score"] == 7


def test_qtc_bazett_and_fridericia_worked_by_hand():
    """Bazett, Heart 1920 / Fridericia, Acta Med Scand 1920. QT 400 ms at 90/min: RR = 0.667 s;
    Bazett 400/sqrt(0.667) = 489.9; Fridericia 400/0.667^(1/3) = 457.9. Prolonged per Rautaharju 2009 (>=450 men)."""
    bazett = cardiology.calculate_qtc(qt_ms=400, heart_rate_bpm=90, sex="male")
    assert bazett["qtc_ms"] == 490 and bazett["interpretation"] == "prolonged"
    assert cardiology.calculate_qtc(qt_ms=400, heart_rate_bpm=90, method="fridericia")["qtc_ms"] == 458
    # at 60/min (RR 1 s) every correction leaves the QT unchanged
    assert cardiology.calculate_qtc(qt_ms=420, rr_interval_ms=1000)["qtc_ms"] == 420
    assert cardiology.calculate_qtc(qt_ms=455, rr_interval_ms=1000, sex="female")["interpretation"] == "normal"
    assert cardiology.calculate_qtc(qt_ms=380, rr_interval_ms=1000, sex="female")["interpretation"] == "short"


def test_map_worked_by_hand():
    """MAP = DBP + (SBP - DBP)/3 (Guyton and Hall, Textbook of Medical Physiology): 120/80 -> 93.3 mmHg."""
    assert cardiology.calculate_map(systolic_bp_mmhg=120, diastolic_bp_mmhg=80)["map_mmhg"] == 93.3
    assert cardiology.calculate_map(systolic_bp_mmhg=90, diastolic_bp_mmhg=60)["map_mmhg"] == 70.0


# --------------------------------------------------------------------------- pulmonary and infectious disease


def test_wells_pe_points_table_and_both_tiers():
    """Wells PS et al. Thromb Haemost 2000;83:416-420: 3/3/1.5/1.5/1.5/1/1; <2 low, 2-6 moderate, >6 high; >4 likely."""
    base = dict(clinical_signs_of_dvt=False, pe_most_likely_diagnosis=False, heart_rate_bpm=80,
                immobilization_or_recent_surgery=False, previous_dvt_or_pe=False, hemoptysis=False, malignancy=False)
    for item, pts in [("clinical_signs_of_dvt", 3), ("pe_most_likely_diagnosis", 3),
                      ("immobilization_or_recent_surgery", 1.5), ("previous_dvt_or_pe", 1.5), ("hemoptysis", 1),
                      ("malignancy", 1)]:
        assert pulmonary.calculate_wells_pe(**{**base, item: True})["score"] == pts, item
    assert pulmonary.calculate_wells_pe(**{**base, "heart_rate_bpm": 100})["score"] == 0
    assert pulmonary.calculate_wells_pe(**{**base, "heart_rate_bpm": 101})["score"] == 1.5
    assert pulmonary.calculate_wells_pe(**base)["three_tier_probability"] == "low"
    four_half = pulmonary.calculate_wells_pe(**{**base, "pe_most_likely_diagnosis": True, "heart_rate_bpm": 110})
    assert four_half["score"] == 4.5 and four_half["three_tier_probability"] == "moderate"
    assert four_half["two_tier"] == "PE likely"
    assert pulmonary.calculate_wells_pe(**{**base, "pe_most_likely_diagnosis": True, "hemoptysis": True})["two_tier"] == "PE unlikely"
    seven = pulmonary.calculate_wells_pe(**{**base, "clinical_signs_of_dvt": True, "pe_most_likely_diagnosis": True,
                                            "hemoptysis": True})
    assert seven["three_tier_probability"] == "high"


def test_perc_each_criterion_alone_makes_it_positive():
    """Kline JA et al. J Thromb Haemost 2004;2:1247-1255: eight criteria, all absent = PERC negative."""
    base = dict(age_years=49, heart_rate_bpm=99, spo2_percent=95, unilateral_leg_swelling=False, hemoptysis=False,
                recent_surgery_or_trauma=False, prior_pe_or_dvt=False, hormone_use=False)
    assert pulmonary.calculate_perc(**base)["perc_negative"] is True
    changes = {"age_years": 50, "heart_rate_bpm": 100, "spo2_percent": 94, "unilateral_leg_swelling": True,
               "hemoptysis": True, "recent_surgery_or_trauma": True, "prior_pe_or_dvt": True, "hormone_use": True}
    for key, value in changes.items():
        result = pulmonary.calculate_perc(**{**base, key: value})
        assert result["perc_negative"] is False and len(result["criteria_present"]) == 1, key


def test_aa_gradient_egan_workbook_example():
    """Egan's Fundamentals of Respiratory Care workbook, ch. 12: room air, PaCO2 40, PaO2 90 ->
    PAO2 = 713 x 0.21 - 40/0.8 = 99.7 mmHg and A-a gradient about 10 mmHg."""
    result = pulmonary.calculate_aa_gradient(fio2=0.21, pao2_mmhg=90, paco2_mmhg=40)
    assert result["alveolar_po2_mmhg"] == 99.7
    assert result["aa_gradient_mmhg"] == 9.7


def test_pf_ratio_berlin_categories():
    """ARDS Definition Task Force, JAMA 2012;307:2526-2533: mild 200-300, moderate 100-200, severe <=100."""
    assert pulmonary.calculate_pf_ratio(pao2_mmhg=60, fio2=0.4) == {**pulmonary.calculate_pf_ratio(pao2_mmhg=60, fio2=0.4),
                                                                   "pf_ratio_mmhg": 150, "berlin_oxygenation_category": "moderate"}
    assert pulmonary.calculate_pf_ratio(pao2_mmhg=90, fio2=0.3)["berlin_oxygenation_category"] == "mild"  # 300
    assert pulmonary.calculate_pf_ratio(pao2_mmhg=50, fio2=0.5)["berlin_oxygenation_category"] == "severe"  # 100
    assert pulmonary.calculate_pf_ratio(pao2_mmhg=95, fio2=0.21)["berlin_oxygenation_category"].startswith("above")


def test_curb65_points_table_and_lim_2003_mortality():
    """Lim WS et al. Thorax 2003;58:377-382: 30-day mortality 0.7/3.2/13.0/17.0/41.5/57.0% for scores 0-5."""
    base = dict(confusion=False, respiratory_rate_per_min=18, systolic_bp_mmhg=120, diastolic_bp_mmhg=70,
                age_years=40, urea_mmol_l=5.0)
    assert infectious_disease.calculate_curb65(**base)["score"] == 0
    for change in [{"confusion": True}, {"urea_mmol_l": 7.1}, {"respiratory_rate_per_min": 30},
                   {"systolic_bp_mmhg": 89}, {"diastolic_bp_mmhg": 60}, {"age_years": 65}]:
        assert infectious_disease.calculate_curb65(**{**base, **change})["score"] == 1, change
    assert infectious_disease.calculate_curb65(**{**base, "urea_mmol_l": 7.0})["score"] == 0  # >7, not >=7
    # BUN 20 mg/dL = urea 7.1 mmol/L (BUN / 2.8)
    bun = {k: v for k, v in base.items() if k != "urea_mmol_l"}
    assert infectious_disease.calculate_curb65(**bun, bun_mg_dl=20)["points"]["urea_over_7_mmol_l"] == 1
    worst = infectious_disease.calculate_curb65(confusion=True, respiratory_rate_per_min=32, systolic_bp_mmhg=85,
                                                diastolic_bp_mmhg=50, age_years=80, urea_mmol_l=12)
    assert worst["score"] == 5 and worst["mortality_30_day_percent"] == 57.0 and worst["risk_group"] == "high"
    assert infectious_disease.calculate_curb65(**{**base, "age_years": 70, "confusion": True})["risk_group"] == "intermediate"


def test_psi_points_table_and_classes():
    """Fine MJ et al. N Engl J Med 1997;336:243-250, points table worked by hand:
    a 70-year-old woman (70 - 10 = 60) from a nursing home (+10) with heart failure (+10), RR 32 (+20) and
    BUN 35 mg/dL (+20) scores 120 -> class IV; a 40-year-old man without risk factors is class I."""
    common = dict(nursing_home_resident=False, neoplastic_disease=False, liver_disease=False,
                  congestive_heart_failure=False, cerebrovascular_disease=False, renal_disease=False,
                  altered_mental_status=False, respiratory_rate_per_min=18, systolic_bp_mmhg=120, temperature_c=37,
                  heart_rate_bpm=80)
    woman = infectious_disease.calculate_psi_port(**{**common, "age_years": 70, "sex": "female",
                                                     "nursing_home_resident": True, "congestive_heart_failure": True,
                                                     "respiratory_rate_per_min": 32}, bun_mg_dl=35)
    assert woman["score"] == 120 and woman["risk_class"] == "IV" and woman["suggested_site_of_care"] == "inpatient care"
    young = infectious_disease.calculate_psi_port(**common, age_years=40, sex="male")
    assert young["risk_class"] == "I" and young["mortality_30_day"] == "0.1-0.4%"
    assert set(young["labs_not_provided"]) == {"arterial_ph", "bun_mg_dl", "sodium_mmol_l", "glucose_mg_dl",
                                               "hematocrit_percent", "pao2_mmhg"}
    labs = infectious_disease.calculate_psi_port(**common, age_years=60, sex="male", arterial_ph=7.30, bun_mg_dl=30,
                                                 sodium_mmol_l=129, glucose_mg_dl=250, hematocrit_percent=29,
                                                 pao2_mmhg=59, pleural_effusion=True)
    assert labs["score"] == 60 + 30 + 20 + 20 + 10 + 10 + 10 + 10 and labs["risk_class"] == "V"
    exam = infectious_disease.calculate_psi_port(**{**common, "temperature_c": 40, "heart_rate_bpm": 125,
                                                    "systolic_bp_mmhg": 89, "altered_mental_status": True},
                                                 age_years=30, sex="male")
    assert exam["score"] == 30 + 15 + 10 + 20 + 20 and exam["risk_class"] == "IV"  # 95 points


def test_mcisaac_points_and_1998_recommendations():
    """McIsaac WJ et al. CMAJ 1998;158:75-83 (table p. 79): age 3-14 +1, >=45 -1; <=1 no culture/antibiotic,
    2-3 culture, >=4 treat on clinical grounds. GAS-positive shares by score from Fine AM et al. Arch Intern
    Med 2012;172:847-852 (Results): 0 8%, 2 23%, 4 55%."""
    child = infectious_disease.calculate_centor_mcisaac(age_years=10, temperature_c=38.5, cough_absent=True,
                                                        tender_anterior_cervical_adenopathy=True,
                                                        tonsillar_swelling_or_exudate=True)
    assert child["score"] == 5 and child["score_group"] == ">=4" and "clinical grounds" in child["recommendation"]
    older = infectious_disease.calculate_centor_mcisaac(age_years=50, temperature_c=38.0, cough_absent=False,
                                                        tender_anterior_cervical_adenopathy=False,
                                                        tonsillar_swelling_or_exudate=False)
    assert child["gas_positive_percent"] == 55
    assert older["score"] == -1 and older["score_group"] == "<=0" and older["gas_positive_percent"] == 8  # 38.0 is not >38
    adult = infectious_disease.calculate_centor_mcisaac(age_years=30, temperature_c=38.2, cough_absent=True,
                                                        tender_anterior_cervical_adenopathy=False,
                                                        tonsillar_swelling_or_exudate=False)
    assert adult["score"] == 2 and adult["gas_positive_percent"] == 23 and adult["recommendation"].startswith("culture")


# --------------------------------------------------------------------------- hepatology and haematology


def test_child_pugh_points_table_item_by_item():
    """Pugh RN et al. Br J Surg 1973;60:646-649 (INR substituted for prothrombin time): A 5-6, B 7-9, C 10-15."""
    best = hepatology.calculate_child_pugh(bilirubin_mg_dl=1.0, albumin_g_dl=4.0, inr=1.1, ascites="none",
                                           encephalopathy="none")
    assert best["score"] == 5 and best["child_pugh_class"] == "A"
    mid = hepatology.calculate_child_pugh(bilirubin_mg_dl=2.5, albumin_g_dl=3.0, inr=2.0, ascites="mild",
                                          encephalopathy="grade_1_2")
    assert mid["points"] == {"bilirubin": 2, "albumin": 2, "inr": 2, "ascites": 2, "encephalopathy": 2}
    assert mid["child_pugh_class"] == "C"  # 10
    worst = hepatology.calculate_child_pugh(bilirubin_mg_dl=3.1, albumin_g_dl=2.7, inr=2.4,
                                            ascites="moderate_to_severe", encephalopathy="grade_3_4")
    assert worst["score"] == 15
    b = hepatology.calculate_child_pugh(bilirubin_mg_dl=2.0, albumin_g_dl=3.5, inr=1.7, ascites="none",
                                        encephalopathy="none")
    assert b["score"] == 8 and b["child_pugh_class"] == "B"


def test_meld_na_medscape_example_and_optn_sodium_term():
    """Medscape (Wolf DC, Cirrhosis): creatinine 1.9, bilirubin 4.2, INR 1.2 -> MELD 20; at sodium >=137 MELD-Na = MELD.
    OPTN 2016 sodium term worked by hand at Na 130: 20 + 1.32 x 7 - 0.033 x 20 x 7 = 24.62 -> 25 (Kim WR et al. NEJM 2008)."""
    assert hepatology.calculate_meld_na(creatinine_mg_dl=1.9, bilirubin_mg_dl=4.2, inr=1.2, sodium_mmol_l=140) == {
        "meld_na": 20, "meld": 20, "sodium_used_mmol_l": 137.0}
    assert hepatology.calculate_meld_na(creatinine_mg_dl=1.9, bilirubin_mg_dl=4.2, inr=1.2, sodium_mmol_l=130)["meld_na"] == 25
    # sodium is bounded at 125 and values below 1.0 are set to 1.0: MELD(i) = 6.4 -> 6 (the floor)
    floor = hepatology.calculate_meld_na(creatinine_mg_dl=0.5, bilirubin_mg_dl=0.4, inr=0.9, sodium_mmol_l=120)
    assert floor["meld_na"] == 6 and floor["sodium_used_mmol_l"] == 125.0
    dialysis = hepatology.calculate_meld_na(creatinine_mg_dl=1.0, bilirubin_mg_dl=1.0, inr=1.0, sodium_mmol_l=137,
                                            dialysis_twice_in_past_week=True)
    assert dialysis["meld"] == 20  # creatinine set to 4.0: 0.957 x ln 4 + 0.643 = 1.97 -> 2.0 x 10


def test_glasgow_blatchford_points_table_item_by_item():
    """Blatchford O et al. Lancet 2000;356:1318-1321 points table; score 0 = low risk (Stanley AJ et al. Lancet 2009)."""
    base = dict(hemoglobin_g_dl=14, sex="male", systolic_bp_mmhg=120, heart_rate_bpm=80, melena=False, syncope=False,
                hepatic_disease=False, cardiac_failure=False, urea_mmol_l=5.0)
    zero = hepatology.calculate_glasgow_blatchford(**base)
    assert zero["score"] == 0 and zero["interpretation"].startswith("low risk")
    gbs = hepatology.calculate_glasgow_blatchford
    for urea, pts in [(6.5, 2), (8.0, 3), (10.0, 4), (25.0, 6)]:
        assert gbs(**{**base, "urea_mmol_l": urea})["points"]["urea"] == pts
    for hb, pts in [(12.5, 1), (11, 3), (9.9, 6)]:
        assert gbs(**{**base, "hemoglobin_g_dl": hb})["points"]["hemoglobin"] == pts
    for hb, pts in [(12.5, 0), (11, 1), (9.9, 6)]:
        assert gbs(**{**base, "sex": "female", "hemoglobin_g_dl": hb})["points"]["hemoglobin"] == pts
    for sbp, pts in [(105, 1), (95, 2), (85, 3)]:
        assert gbs(**{**base, "systolic_bp_mmhg": sbp})["points"]["systolic_bp"] == pts
    for item, pts in [("melena", 1), ("syncope", 2), ("hepatic_disease", 2), ("cardiac_failure", 2)]:
        assert gbs(**{**base, item: True})["score"] == pts
    assert gbs(**{**base, "heart_rate_bpm": 100})["score"] == 1


def test_wells_dvt_points_table_item_by_item():
    """Wells PS et al. N Engl J Med 2003;349:1227-1235: nine items +1, alternative diagnosis -2; >=2 likely."""
    items = ["active_cancer", "paralysis_paresis_or_leg_cast", "bedridden_or_major_surgery", "deep_vein_tenderness",
             "entire_leg_swollen", "calf_swelling_3cm", "pitting_edema_symptomatic_leg",
             "collateral_superficial_veins", "previous_dvt"]
    base = {k: False for k in items} | {"alternative_diagnosis_as_likely": False}
    for item in items:
        assert hematology.calculate_wells_dvt(**{**base, item: True})["score"] == 1
    assert hematology.calculate_wells_dvt(**{**base, "alternative_diagnosis_as_likely": True})["score"] == -2
    likely = hematology.calculate_wells_dvt(**{**base, "active_cancer": True, "calf_swelling_3cm": True})
    assert likely["probability"] == "DVT likely"
    assert hematology.calculate_wells_dvt(**{**base, "active_cancer": True})["probability"] == "DVT unlikely"


def test_4ts_points_table_and_probability():
    """Lo GK et al. J Thromb Haemost 2006;4:759-765: each category 2/1/0; 0-3 low, 4-5 intermediate, 6-8 high."""
    high = hematology.calculate_4ts(
        thrombocytopenia="fall_over_50_percent_and_nadir_20_or_more",
        timing="clear_onset_day_5_to_10_or_fall_within_1_day_with_heparin_in_past_30_days",
        thrombosis_or_sequelae="new_thrombosis_skin_necrosis_or_systemic_reaction_after_heparin_bolus",
        other_causes="none_apparent")
    assert high["score"] == 8 and high["pretest_probability"] == "high"
    mid = hematology.calculate_4ts(
        thrombocytopenia="fall_30_to_50_percent_or_nadir_10_to_19",
        timing="consistent_with_day_5_to_10_but_unclear_or_after_day_10_or_fall_within_1_day_with_heparin_30_to_100_days_ago",
        thrombosis_or_sequelae="progressive_or_recurrent_thrombosis_or_nonnecrotizing_skin_lesions_or_suspected_thrombosis",
        other_causes="possible")
    assert mid["score"] == 4 and mid["pretest_probability"] == "intermediate"
    low = hematology.calculate_4ts(thrombocytopenia="fall_under_30_percent_or_nadir_under_10",
                                   timing="fall_before_day_4_without_recent_heparin", thrombosis_or_sequelae="none",
                                   other_causes="definite")
    assert low["score"] == 0 and low["pretest_probability"] == "low"


def test_khorana_points_table_and_risk_groups():
    """Khorana AA et al. Blood 2008;111:4902-4907: site 2/1, platelets >=350, Hb <10 or ESA, WBC >11, BMI >=35."""
    base = dict(cancer_site="other", platelets_10e9_l=250, hemoglobin_g_dl=12, uses_erythropoiesis_stimulating_agent=False,
                leukocytes_10e9_l=8, bmi_kg_m2=25)
    assert hematology.calculate_khorana(**base)["risk_category"] == "low"
    assert hematology.calculate_khorana(**{**base, "cancer_site": "pancreas"})["score"] == 2
    assert hematology.calculate_khorana(**{**base, "cancer_site": "lymphoma"})["score"] == 1
    for change in [{"platelets_10e9_l": 350}, {"hemoglobin_g_dl": 9.9}, {"uses_erythropoiesis_stimulating_agent": True},
                   {"leukocytes_10e9_l": 11.1}, {"bmi_kg_m2": 35}]:
        assert hematology.calculate_khorana(**{**base, **change})["score"] == 1, change
    high = hematology.calculate_khorana(**{**base, "cancer_site": "stomach", "platelets_10e9_l": 400})
    assert high["score"] == 3 and high["risk_category"] == "high"


# --------------------------------------------------------------------------- neurology


def test_gcs_components_from_teasdale_1974():
    """Teasdale G, Jennett B. Lancet 1974;2:81-84: E1-4, V1-5, M1-6; total 3-15."""
    assert neurology.calculate_gcs(eye_response=4, verbal_response=5, motor_response=6)["gcs"] == 15
    assert neurology.calculate_gcs(eye_response=1, verbal_response=1, motor_response=1)["gcs"] == 3
    assert neurology.calculate_gcs(eye_response=2, verbal_response=2, motor_response=4) == {
        "gcs": 8, "components": "E2V2M4", "min_score": 3, "max_score": 15}


def test_nihss_sums_items_and_skips_untestable_limbs():
    """Brott T et al. Stroke 1989;20:864-870 (NINDS form): 15 items, maximum 42; untestable (UN) items add nothing."""
    worst = dict(level_of_consciousness=3, loc_questions=2, loc_commands=2, best_gaze=2, visual_fields=3,
                 facial_palsy=3, motor_arm_left=4, motor_arm_right=4, motor_leg_left=4, motor_leg_right=4,
                 limb_ataxia=2, sensory=2, best_language=3, dysarthria=2, extinction_inattention=2)
    assert neurology.calculate_nihss(**worst)["nihss"] == 42
    normal = {k: 0 for k in worst}
    left_arm = neurology.calculate_nihss(**{**normal, "motor_arm_left": 2, "facial_palsy": 1, "dysarthria": 1})
    assert left_arm["nihss"] == 4
    amputee = neurology.calculate_nihss(**{**normal, "motor_leg_right": None, "best_language": 1})
    assert amputee["nihss"] == 1 and amputee["untestable_items"] == ["motor_leg_right"]
    with pytest.raises(ValueError, match="only limb, ataxia and dysarthria"):
        neurology.calculate_nihss(**{**normal, "sensory": None})


def test_abcd2_points_table_and_two_day_risk():
    """Johnston SC et al. Lancet 2007;369:283-292: 2-day stroke risk 1.0% (0-3), 4.1% (4-5), 8.1% (6-7)."""
    low = neurology.calculate_abcd2(age_years=59, systolic_bp_mmhg=139, diastolic_bp_mmhg=89, clinical_features="other",
                                    duration_minutes=9, diabetes=False)
    assert low["score"] == 0 and low["stroke_risk_2_day_percent"] == 1.0
    high = neurology.calculate_abcd2(age_years=60, systolic_bp_mmhg=120, diastolic_bp_mmhg=90,
                                     clinical_features="unilateral_weakness", duration_minutes=60, diabetes=True)
    assert high["score"] == 7 and high["risk_category"] == "high" and high["stroke_risk_2_day_percent"] == 8.1
    mid = neurology.calculate_abcd2(age_years=70, systolic_bp_mmhg=150, diastolic_bp_mmhg=80,
                                    clinical_features="speech_disturbance_without_weakness", duration_minutes=10,
                                    diabetes=False)
    assert mid["score"] == 4 and mid["stroke_risk_2_day_percent"] == 4.1


# --------------------------------------------------------------------------- acid-base, electrolytes, renal


def test_anion_gap_worked_by_hand_with_figge_albumin_correction():
    """Emmett & Narins, Medicine 1977: AG = 140 - (104 + 24) = 12; Figge 1998: + 2.5 x (4.0 - 2.0) = 17."""
    assert acid_base.calculate_anion_gap(sodium_mmol_l=140, chloride_mmol_l=104, bicarbonate_mmol_l=24) == {
        "anion_gap": 12.0, "unit": "mmol/L"}
    corrected = acid_base.calculate_anion_gap(sodium_mmol_l=140, chloride_mmol_l=104, bicarbonate_mmol_l=24,
                                              albumin_g_dl=2.0)
    assert corrected["albumin_corrected_anion_gap"] == 17.0


def test_winters_formula_worked_example():
    """Albert, Dell, Winters. Ann Intern Med 1967: HCO3 12 -> expected PaCO2 1.5 x 12 + 8 = 26 (24-28)."""
    result = acid_base.calculate_winters_formula(bicarbonate_mmol_l=12, measured_paco2_mmhg=34)
    assert result["expected_paco2_mmhg"] == 26.0 and result["expected_range_mmhg"] == [24.0, 28.0]
    assert "respiratory acidosis" in result["interpretation"]
    assert "alkalosis" in acid_base.calculate_winters_formula(bicarbonate_mmol_l=14, measured_paco2_mmhg=20)["interpretation"]
    assert acid_base.calculate_winters_formula(bicarbonate_mmol_l=12, measured_paco2_mmhg=27)["interpretation"].startswith("appropriate")


def test_serum_osmolality_and_osmolal_gap_worked_by_hand():
    """Rose & Post (2001): 2 x 140 + 90/18 + 14/2.8 = 290 mOsm/kg; measured 310 -> gap 20.
    Purssell RA et al. Ann Emerg Med 2001: ethanol 370 mg/dL adds 370/3.7 = 100."""
    result = acid_base.calculate_serum_osmolality(sodium_mmol_l=140, glucose_mg_dl=90, bun_mg_dl=14,
                                                  measured_osmolality_mosm_kg=310)
    assert result["calculated_osmolality"] == 290.0 and result["osmolal_gap"] == 20.0
    drunk = acid_base.calculate_serum_osmolality(sodium_mmol_l=140, glucose_mg_dl=90, bun_mg_dl=14, ethanol_mg_dl=370)
    assert drunk["calculated_osmolality"] == 390.0 and "osmolal_gap" not in drunk


def test_corrected_calcium_payne_1973():
    """Payne RB et al. Br Med J 1973;4:643-646: adjusted Ca = Ca - albumin + 4.0 (8.0 mg/dL, albumin 2.0 -> 10.0);
    the conventional 0.02 mmol/L per g/L form gives 8.0 + 0.8 x 2.0 = 9.6."""
    assert electrolytes.calculate_corrected_calcium(calcium_mg_dl=8.0, albumin_g_dl=2.0,
                                                    method="payne_1973")["corrected_calcium_mg_dl"] == 10.0
    assert electrolytes.calculate_corrected_calcium(calcium_mg_dl=8.0, albumin_g_dl=2.0)["corrected_calcium_mg_dl"] == 9.6
    # 1.83 mmol/L (7.335 mg/dL) with albumin 26 g/L: 1.83 + 0.02 x 14 = 2.11 mmol/L
    mg = electrolytes.calculate_corrected_calcium(calcium_mg_dl=1.83 * 4.008, albumin_g_dl=2.6)["corrected_calcium_mg_dl"]
    assert mg / 4.008 == pytest.approx(2.11, abs=0.005)


def test_corrected_sodium_katz_and_hillier():
    """Katz MA. NEJM 1973 (1.6 per 100 mg/dL) and Hillier TA. Am J Med 1999 (2.4): Na 130, glucose 600 -> 138 / 142."""
    assert electrolytes.calculate_corrected_sodium(sodium_mmol_l=130, glucose_mg_dl=600)["corrected_sodium"] == 138.0
    assert electrolytes.calculate_corrected_sodium(sodium_mmol_l=130, glucose_mg_dl=600,
                                                   method="hillier")["corrected_sodium"] == 142.0


def test_free_water_deficit_worked_by_hand():
    """TBW fractions of Adrogue & Madias, NEJM 2000: 70 kg man, Na 154: 42 L x (154/140 - 1) = 4.2 L;
    70 kg woman: 35 L x 0.1 = 3.5 L; elderly woman 0.45."""
    man = electrolytes.calculate_free_water_deficit(sodium_mmol_l=154, weight_kg=70, patient_group="adult_male")
    assert man["free_water_deficit_l"] == 4.2 and man["total_body_water_l"] == 42.0
    woman = electrolytes.calculate_free_water_deficit(sodium_mmol_l=154, weight_kg=70, patient_group="adult_female")
    assert woman["free_water_deficit_l"] == 3.5
    assert electrolytes.calculate_free_water_deficit(sodium_mmol_l=154, weight_kg=70,
                                                     patient_group="elderly_female")["free_water_deficit_l"] == 3.15


def test_ckd_epi_2021_equation_worked_by_hand():
    """Inker LA et al. N Engl J Med 2021;385:1737-1749, worked by hand:
    woman 50 y, Scr 0.9: 142 x (0.9/0.7)^-1.2 x 0.9938^50 x 1.012 = 142 x 0.7397 x 0.7328 x 1.012 = 77.9 -> 78 (G2);
    man 60 y, Scr 0.9 (= kappa): 142 x 0.9938^60 = 142 x 0.6888 = 97.8 -> 98 (G1);
    man 70 y, Scr 2.0: 142 x (2.0/0.9)^-1.2 x 0.9938^70 = 142 x 0.3834 x 0.6465 = 35.2 -> 35 (G3b)."""
    assert renal.calculate_ckd_epi_2021(creatinine_mg_dl=0.9, age_years=50, sex="female")["egfr"] == 78
    man = renal.calculate_ckd_epi_2021(creatinine_mg_dl=0.9, age_years=60, sex="male")
    assert man["egfr"] == 98 and man["gfr_category"] == "G1"
    ckd = renal.calculate_ckd_epi_2021(creatinine_mg_dl=2.0, age_years=70, sex="male")
    assert ckd["egfr"] == 35 and ckd["gfr_category"] == "G3b"
    # below kappa the female exponent -0.241 applies: 142 x (0.5/0.7)^-0.241 x 0.9938^30 x 1.012 = 131.9
    assert renal.calculate_ckd_epi_2021(creatinine_mg_dl=0.5, age_years=30, sex="female")["egfr"] == round(
        142 * (0.5 / 0.7) ** -0.241 * 0.9938**30 * 1.012)


def test_cockcroft_gault_worked_by_hand():
    """Cockcroft DW, Gault MH. Nephron 1976;16:31-41: (140 - 60) x 72 / (72 x 1.0) = 80 mL/min; woman x 0.85 = 68;
    70-year-old man, 75 kg, creatinine 110 umol/L (1.244 mg/dL): 70 x 75 / (72 x 1.244) = 58.6 mL/min."""
    assert renal.calculate_cockcroft_gault(creatinine_mg_dl=1.0, age_years=60, weight_kg=72, sex="male")[
        "creatinine_clearance"] == 80.0
    assert renal.calculate_cockcroft_gault(creatinine_mg_dl=1.0, age_years=60, weight_kg=72, sex="female")[
        "creatinine_clearance"] == 68.0
    assert renal.calculate_cockcroft_gault(creatinine_mg_dl=110 / 88.4, age_years=70, weight_kg=75, sex="male")[
        "creatinine_clearance"] == pytest.approx(58.6, abs=0.1)


def test_fena_worked_by_hand_against_espinel_groups():
    """Espinel CH. JAMA 1976;236:579-581: FENa = UNa x PCr / (PNa x UCr) x 100; <1 prerenal, >3 ATN.
    UNa 10, PNa 140, UCr 100, PCr 2 -> 0.14%; UNa 60, PNa 135, UCr 30, PCr 4 -> 5.93%."""
    prerenal = renal.calculate_fena(urine_sodium_mmol_l=10, plasma_sodium_mmol_l=140, urine_creatinine_mg_dl=100,
                                    plasma_creatinine_mg_dl=2)
    assert prerenal["fena_percent"] == 0.14 and "prerenal" in prerenal["interpretation"]
    atn = renal.calculate_fena(urine_sodium_mmol_l=60, plasma_sodium_mmol_l=135, urine_creatinine_mg_dl=30,
                               plasma_creatinine_mg_dl=4)
    assert atn["fena_percent"] == 5.93 and "tubular necrosis" in atn["interpretation"]


# --------------------------------------------------------------------------- critical care, general


def test_news2_chart_item_by_item():
    """Royal College of Physicians NEWS2 (2017), Chart 1, band edges checked item by item, and the risk bands."""
    base = dict(respiratory_rate_per_min=16, spo2_percent=97, on_supplemental_oxygen=False, systolic_bp_mmhg=120,
                heart_rate_bpm=70, consciousness="alert", temperature_c=37.0)
    assert critical_care.calculate_news2(**base)["score"] == 0
    news = critical_care.calculate_news2
    for rr, pts in [(8, 3), (9, 1), (11, 1), (12, 0), (20, 0), (21, 2), (24, 2), (25, 3)]:
        assert news(**{**base, "respiratory_rate_per_min": rr})["points"]["respiration_rate"] == pts, rr
    for spo2, pts in [(91, 3), (92, 2), (93, 2), (94, 1), (95, 1), (96, 0)]:
        assert news(**{**base, "spo2_percent": spo2})["points"]["spo2"] == pts, spo2
    for sbp, pts in [(90, 3), (91, 2), (100, 2), (101, 1), (110, 1), (111, 0), (219, 0), (220, 3)]:
        assert news(**{**base, "systolic_bp_mmhg": sbp})["points"]["systolic_bp"] == pts, sbp
    for hr, pts in [(40, 3), (41, 1), (50, 1), (51, 0), (90, 0), (91, 1), (110, 1), (111, 2), (130, 2), (131, 3)]:
        assert news(**{**base, "heart_rate_bpm": hr})["points"]["pulse"] == pts, hr
    for temp, pts in [(35.0, 3), (35.1, 1), (36.0, 1), (36.1, 0), (38.0, 0), (38.1, 1), (39.0, 1), (39.1, 2)]:
        assert news(**{**base, "temperature_c": temp})["points"]["temperature"] == pts, temp
    assert news(**{**base, "consciousness": "new_confusion"})["points"]["consciousness"] == 3
    assert news(**{**base, "on_supplemental_oxygen": True})["points"]["air_or_oxygen"] == 2
    # scale 2 (hypercapnic respiratory failure): 88-92 scores 0; on oxygen 93-94 1, 95-96 2, >=97 3; >=93 on air 0
    s2 = {**base, "hypercapnic_respiratory_failure": True}
    for spo2, oxygen, pts in [(83, False, 3), (85, False, 2), (87, False, 1), (90, False, 0), (95, False, 0),
                              (94, True, 1), (96, True, 2), (97, True, 3)]:
        assert news(**{**s2, "spo2_percent": spo2, "on_supplemental_oxygen": oxygen})["points"]["spo2"] == pts
    assert news(**{**base, "consciousness": "voice"})["clinical_risk"] == "low-medium"
    assert news(**{**base, "respiratory_rate_per_min": 22, "heart_rate_bpm": 115, "temperature_c": 38.5})["clinical_risk"] == "medium"
    assert news(**{**base, "respiratory_rate_per_min": 26, "systolic_bp_mmhg": 95, "heart_rate_bpm": 115})["clinical_risk"] == "high"


def test_sofa_table_item_by_item_and_sepsis3_threshold():
    """Vincent JL et al. Intensive Care Med 1996;22:707-710 table; Singer M et al. JAMA 2016 (rise of >=2 = sepsis)."""
    base = dict(pao2_mmhg=95, fio2=0.21, mechanically_ventilated=False, platelets_10e3_ul=200, bilirubin_mg_dl=0.8,
                map_mmhg=85, gcs=15, creatinine_mg_dl=0.9)
    sofa = critical_care.calculate_sofa
    assert sofa(**base)["score"] == 0
    for pao2, fio2, vent, pts in [(80, 0.21, False, 1), (85, 0.3, False, 2), (60, 0.4, False, 2), (60, 0.4, True, 3),
                                  (55, 0.6, True, 4)]:
        assert sofa(**{**base, "pao2_mmhg": pao2, "fio2": fio2, "mechanically_ventilated": vent})["points"]["respiration"] == pts
    for plt, pts in [(149, 1), (99, 2), (49, 3), (19, 4)]:
        assert sofa(**{**base, "platelets_10e3_ul": plt})["points"]["coagulation"] == pts
    for bili, pts in [(1.2, 1), (2.0, 2), (6.0, 3), (12.0, 4)]:
        assert sofa(**{**base, "bilirubin_mg_dl": bili})["points"]["liver"] == pts
    for drug, pts in [({"map_mmhg": 65}, 1), ({"dopamine_mcg_kg_min": 5}, 2), ({"dobutamine_mcg_kg_min": 2.5}, 2),
                      ({"dopamine_mcg_kg_min": 6}, 3), ({"norepinephrine_mcg_kg_min": 0.1}, 3),
                      ({"epinephrine_mcg_kg_min": 0.11}, 4), ({"dopamine_mcg_kg_min": 16}, 4)]:
        assert sofa(**{**base, **drug})["points"]["cardiovascular"] == pts, drug
    for gcs, pts in [(14, 1), (10, 2), (6, 3), (5, 4)]:
        assert sofa(**{**base, "gcs": gcs})["points"]["cns"] == pts
    for cr, pts in [(1.2, 1), (2.0, 2), (3.5, 3), (5.0, 4)]:
        assert sofa(**{**base, "creatinine_mg_dl": cr})["points"]["renal"] == pts
    assert sofa(**{**base, "urine_output_ml_day": 450})["points"]["renal"] == 3
    assert sofa(**{**base, "urine_output_ml_day": 150})["points"]["renal"] == 4
    sepsis = sofa(**{**base, "platelets_10e3_ul": 90, "map_mmhg": 65})
    assert sepsis["score"] == 3 and sepsis["sepsis3_organ_dysfunction"] is True
    assert sofa(**{**base, "platelets_10e3_ul": 90, "map_mmhg": 65}, baseline_sofa=2)["sepsis3_organ_dysfunction"] is False


def test_qsofa_criteria():
    """Seymour CW et al. JAMA 2016;315:762-774: RR >=22, altered mentation, SBP <=100; >=2 positive."""
    assert critical_care.calculate_qsofa(respiratory_rate_per_min=21, systolic_bp_mmhg=101, altered_mentation=False)["score"] == 0
    positive = critical_care.calculate_qsofa(respiratory_rate_per_min=22, systolic_bp_mmhg=100, altered_mentation=False)
    assert positive["score"] == 2 and positive["qsofa_positive"] is True
    assert critical_care.calculate_qsofa(respiratory_rate_per_min=30, systolic_bp_mmhg=90, altered_mentation=True)["score"] == 3


def test_bmi_who_categories():
    """WHO Technical Report Series 894 (2000): 70 kg / 1.75 m^2 = 22.9 normal range; 30.0 -> obese class I."""
    assert general.calculate_bmi(weight_kg=70, height_cm=175) == {"bmi": 22.9, "unit": "kg/m2",
                                                                  "who_adult_category": "normal range"}
    assert general.calculate_bmi(weight_kg=91.875, height_cm=175)["who_adult_category"] == "obese class I"  # 30.0
    assert general.calculate_bmi(weight_kg=50, height_cm=175)["who_adult_category"] == "underweight"  # 16.3
    assert general.calculate_bmi(weight_kg=130, height_cm=175)["who_adult_category"] == "obese class III"  # 42.4


def test_weight_based_dose_arithmetic_and_caller_cap():
    """BNF for Children dose arithmetic: 20 kg x 15 mg/kg = 300 mg; capped at the caller's maximum of 250 mg."""
    assert general.calculate_weight_based_dose(weight_kg=20, dose_mg_per_kg=15, max_dose_mg=500) == {
        "dose_mg": 300.0, "calculated_dose_mg": 300.0, "capped_at_maximum": False, "unit": "mg"}
    capped = general.calculate_weight_based_dose(weight_kg=20, dose_mg_per_kg=15, max_dose_mg=250)
    assert capped["dose_mg"] == 250.0 and capped["capped_at_maximum"] is True
    source = open(general.__file__).read()
    assert "paracetamol" not in source.lower() and "amoxicillin" not in source.lower()


# --------------------------------------------------------------------------- psychiatry


def test_phq9_kroenke_severity_bands():
    """Kroenke K et al. J Gen Intern Med 2001;16:606-613: 5, 10, 15, 20 = mild, moderate, moderately severe, severe."""
    for total, severity in [(4, "none-minimal"), (5, "mild"), (10, "moderate"), (15, "moderately severe"), (20, "severe")]:
        items = [3] * (total // 3) + [total % 3] + [0] * (9 - total // 3 - 1)
        result = psychiatry.score_phq9(item_scores=items[:9])
        assert result["score"] == total and result["severity"] == severity, total
    assert psychiatry.score_phq9(item_scores=[0] * 8 + [1])["item_9_positive"] is True


def test_gad7_spitzer_severity_bands():
    """Spitzer RL et al. Arch Intern Med 2006;166:1092-1097: cut points 5, 10, 15."""
    assert psychiatry.score_gad7(item_scores=[0, 1, 1, 1, 0, 1, 0])["severity"] == "minimal"
    assert psychiatry.score_gad7(item_scores=[1, 1, 1, 1, 1, 0, 0])["severity"] == "mild"
    ten = psychiatry.score_gad7(item_scores=[2, 2, 2, 1, 1, 1, 1])
    assert ten["score"] == 10 and ten["severity"] == "moderate" and ten["at_or_above_cut_point_10"]
    assert psychiatry.score_gad7(item_scores=[3] * 7)["severity"] == "severe"


def test_audit_c_scoring_and_sex_specific_threshold():
    """Bush K et al. 1998 / Bradley KA et al. 2007: answers score 0-4; positive >=4 men, >=3 women."""
    result = psychiatry.score_audit_c(drinking_frequency="2_to_3_times_a_week", drinks_per_typical_day="1_or_2",
                                      six_or_more_drinks_frequency="never", sex="female")
    assert result["score"] == 3 and result["positive_screen"] is True
    man = psychiatry.score_audit_c(drinking_frequency="2_to_3_times_a_week", drinks_per_typical_day="1_or_2",
                                   six_or_more_drinks_frequency="never", sex="male")
    assert man["positive_screen"] is False
    top = psychiatry.score_audit_c(drinking_frequency="4_or_more_times_a_week", drinks_per_typical_day="10_or_more",
                                   six_or_more_drinks_frequency="daily_or_almost_daily", sex="male")
    assert top["score"] == 12


def test_ciwa_ar_items_and_asam_severity():
    """Sullivan JT et al. Br J Addict 1989 (nine items 0-7, orientation 0-4, max 67); ASAM 2020: <10, 10-18, >=19."""
    items = ["nausea_vomiting", "tremor", "paroxysmal_sweats", "anxiety", "agitation", "tactile_disturbances",
             "auditory_disturbances", "visual_disturbances", "headache"]
    worst = psychiatry.score_ciwa_ar(**{k: 7 for k in items}, orientation=4)
    assert worst["score"] == 67 and worst["severity"] == "severe"
    mild = psychiatry.score_ciwa_ar(**{k: 1 for k in items}, orientation=0)
    assert mild["score"] == 9 and mild["severity"] == "mild"
    moderate = psychiatry.score_ciwa_ar(**{k: 2 for k in items}, orientation=0)
    assert moderate["score"] == 18 and moderate["severity"] == "moderate"
    with pytest.raises(ValueError, match="orientation"):
        psychiatry.score_ciwa_ar(**{k: 0 for k in items}, orientation=5)


def test_cssrs_screener_triage():
    """Columbia C-SSRS screener triage (Posner K et al. Am J Psychiatry 2011): 4/5 or behaviour <3 months high;
    3 or behaviour >3 months moderate; 1-2 only low."""
    none = dict(wish_to_be_dead=False, suicidal_thoughts=False, suicidal_behavior_ever=False)
    assert psychiatry.screen_cssrs(**none)["risk_level"] == "none"
    assert psychiatry.screen_cssrs(**{**none, "wish_to_be_dead": True})["risk_level"] == "low"
    assert psychiatry.screen_cssrs(**{**none, "suicidal_thoughts": True})["risk_level"] == "low"
    assert psychiatry.screen_cssrs(**{**none, "suicidal_thoughts": True}, thoughts_of_method=True)["risk_level"] == "moderate"
    assert psychiatry.screen_cssrs(**{**none, "suicidal_thoughts": True}, intent_without_plan=True)["risk_level"] == "high"
    assert psychiatry.screen_cssrs(**{**none, "suicidal_thoughts": True}, intent_with_plan=True)["risk_level"] == "high"
    assert psychiatry.screen_cssrs(**{**none, "suicidal_behavior_ever": True})["risk_level"] == "moderate"
    assert psychiatry.screen_cssrs(**{**none, "suicidal_behavior_ever": True},
                                   behavior_within_past_3_months=True)["risk_level"] == "high"
    with pytest.raises(ValueError, match="only when question 2"):
        psychiatry.screen_cssrs(**none, intent_with_plan=True)


# --------------------------------------------------------------------------- obstetrics


def test_bishop_score_table_and_acog_reading():
    """Bishop EH. Obstet Gynecol 1964;24:266-268 table; ACOG Practice Bulletin 107 (>8 favourable, <=6 unfavourable)."""
    closed = obstetrics.calculate_bishop_score(dilation_cm=0, effacement_percent=20, station=-3, consistency="firm",
                                               position="posterior")
    assert closed["score"] == 0 and closed["interpretation"] == "unfavourable cervix"
    ripe = obstetrics.calculate_bishop_score(dilation_cm=5, effacement_percent=80, station=1, consistency="soft",
                                             position="anterior")
    assert ripe["score"] == 13 and ripe["interpretation"].startswith("favourable")
    mid = obstetrics.calculate_bishop_score(dilation_cm=2, effacement_percent=50, station=-1, consistency="medium",
                                            position="mid")
    assert mid["points"] == {"dilation": 1, "effacement": 1, "station": 2, "consistency": 1, "position": 1}
    assert obstetrics.calculate_bishop_score(dilation_cm=3, effacement_percent=60, station=0, consistency="soft",
                                             position="mid")["score"] == 2 + 2 + 2 + 2 + 1


def test_apgar_table_and_acog_reading():
    """Apgar V. 1953 table; ACOG Committee Opinion 644 (2015): 7-10 reassuring, 4-6 moderately abnormal, 0-3 low."""
    vigorous = obstetrics.calculate_apgar(heart_rate_bpm=140, respiratory_effort="good_crying",
                                          muscle_tone="active_motion", reflex_irritability="cry_or_active_withdrawal",
                                          color="acrocyanosis")
    assert vigorous["score"] == 9 and vigorous["interpretation"] == "reassuring"
    depressed = obstetrics.calculate_apgar(heart_rate_bpm=80, respiratory_effort="slow_or_irregular",
                                           muscle_tone="some_flexion", reflex_irritability="grimace",
                                           color="blue_or_pale")
    assert depressed["score"] == 4 and depressed["interpretation"] == "moderately abnormal"
    assert obstetrics.calculate_apgar(heart_rate_bpm=0, respiratory_effort="absent", muscle_tone="limp",
                                      reflex_irritability="no_response", color="blue_or_pale")["interpretation"] == "low"


def test_gestational_age_and_naegele_due_date():
    """Naegele's rule (Williams Obstetrics: add 7 days, count back 3 months): LMP 14 March 2001 -> 21 December 2001;
    LMP 3 August 2011 -> 10 May 2012. ACOG CO 700: LMP + 280 days."""
    result = obstetrics.calculate_gestational_age(lmp_date="2001-03-14", current_date="2001-06-20")
    assert result["estimated_due_date_naegele"] == "2001-12-21"
    assert result["gestational_age"] == "14w0d"  # 98 days
    assert result["due_date_lmp_plus_280_days"] == (dt.date(2001, 3, 14) + dt.timedelta(days=280)).isoformat()
    assert obstetrics.calculate_gestational_age(lmp_date="2011-08-03", current_date="2011-08-03")[
        "estimated_due_date_naegele"] == "2012-05-10"
    # month-end: LMP 24 May + 7 days = 31 May; 9 months later February has no 31st -> last day of February
    assert obstetrics.calculate_gestational_age(lmp_date="2023-05-24", current_date="2023-07-01")[
        "estimated_due_date_naegele"] == "2024-02-29"


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "name, arguments, message",
    [
        ("calculate_ckd_epi_2021", {"creatinine_mg_dl": -1, "age_years": 50, "sex": "male"}, "creatinine_mg_dl=-1 is outside"),
        ("calculate_ckd_epi_2021", {"creatinine_mg_dl": 90, "age_years": 50, "sex": "male"}, "umol/L / 88.4"),
        ("calculate_ckd_epi_2021", {"creatinine_mg_dl": 1.0, "age_years": 300, "sex": "male"}, "age_years=300"),
        ("calculate_ckd_epi_2021", {"creatinine_mg_dl": 1.0, "age_years": 12, "sex": "male"}, "adults only"),
        ("calculate_cockcroft_gault", {"creatinine_mg_dl": 1, "age_years": 50, "weight_kg": 0, "sex": "male"}, "weight_kg=0"),
        ("calculate_pf_ratio", {"pao2_mmhg": 80, "fio2": 40}, "fraction from 0.21"),
        ("calculate_aa_gradient", {"fio2": 1.2, "pao2_mmhg": 80, "paco2_mmhg": 40}, "fio2=1.2"),
        ("calculate_aa_gradient", {"fio2": 0.21, "pao2_mmhg": 300, "paco2_mmhg": 40}, "exceeds the alveolar"),
        ("calculate_sofa", {"pao2_mmhg": 80, "fio2": 1.5, "mechanically_ventilated": False, "platelets_10e3_ul": 100,
                            "bilirubin_mg_dl": 1, "map_mmhg": 70, "gcs": 15, "creatinine_mg_dl": 1}, "fio2=1.5"),
        ("calculate_gcs", {"eye_response": 5, "verbal_response": 5, "motor_response": 6}, "eye_response=5 is out of range"),
        ("calculate_gcs", {"eye_response": 4, "verbal_response": 0, "motor_response": 6}, "verbal_response=0"),
        ("calculate_gcs", {"eye_response": 4, "verbal_response": 5, "motor_response": 7}, "motor_response=7"),
        ("calculate_news2", {"respiratory_rate_per_min": 16, "spo2_percent": 120, "on_supplemental_oxygen": False,
                             "systolic_bp_mmhg": 120, "heart_rate_bpm": 70, "consciousness": "alert",
                             "temperature_c": 37}, "spo2_percent=120"),
        ("calculate_news2", {"respiratory_rate_per_min": 16, "spo2_percent": 97, "on_supplemental_oxygen": False,
                             "systolic_bp_mmhg": 120, "heart_rate_bpm": 70, "consciousness": "alert",
                             "temperature_c": 98.6}, "Celsius"),
        ("calculate_map", {"systolic_bp_mmhg": 70, "diastolic_bp_mmhg": 90}, "above systolic"),
        ("calculate_qtc", {"qt_ms": 0.4, "heart_rate_bpm": 70}, "milliseconds"),
        ("calculate_qtc", {"qt_ms": 400}, "exactly one of heart_rate_bpm or rr_interval_ms"),
        ("calculate_curb65", {"confusion": False, "respiratory_rate_per_min": 18, "systolic_bp_mmhg": 120,
                              "diastolic_bp_mmhg": 80, "age_years": 50}, "exactly one of urea_mmol_l"),
        ("calculate_corrected_calcium", {"calcium_mg_dl": 9, "albumin_g_dl": 35}, "g/L / 10"),
        ("calculate_free_water_deficit", {"sodium_mmol_l": 130, "weight_kg": 70, "patient_group": "adult_male"}, "hypernatraemia"),
        ("calculate_bmi", {"weight_kg": 70, "height_cm": 1.75}, "centimetres"),
        ("calculate_weight_based_dose", {"weight_kg": 20, "dose_mg_per_kg": -5, "max_dose_mg": 100}, "dose_mg_per_kg=-5"),
        ("score_phq9", {"item_scores": [1, 2, 3]}, "exactly 9 item scores"),
        ("score_phq9", {"item_scores": [0, 0, 0, 0, 0, 0, 0, 0, 4]}, r"item_scores\[9\]=4"),
        ("calculate_bishop_score", {"dilation_cm": 2, "effacement_percent": 50, "station": 4, "consistency": "soft",
                                    "position": "mid"}, "station=4"),
        ("calculate_gestational_age", {"lmp_date": "2024-13-01", "current_date": "2024-05-01"}, "YYYY-MM-DD"),
        ("calculate_gestational_age", {"lmp_date": "2024-05-01", "current_date": "2024-03-01"}, "before lmp_date"),
        ("calculate_gestational_age", {"lmp_date": "2020-01-01", "current_date": "2024-03-01"}, "more than 45 weeks"),
        ("calculate_apgar", {"heart_rate_bpm": -10, "respiratory_effort": "absent", "muscle_tone": "limp",
                             "reflex_irritability": "no_response", "color": "blue_or_pale"}, "heart_rate_bpm=-10"),
    ],
)
def test_out_of_range_inputs_are_rejected_with_a_clear_message(name, arguments, message):
    with pytest.raises(ToolError, match=message) as err:
        call_tool(name, arguments)
    assert str(err.value).startswith(f"{name}:") or "Invalid arguments" in str(err.value)


def test_categorical_inputs_are_checked_in_direct_calls_and_through_the_schema():
    with pytest.raises(ValueError, match="sex must be one of 'male', 'female'"):
        renal.calculate_ckd_epi_2021(creatinine_mg_dl=1.0, age_years=50, sex="m")
    with pytest.raises(ToolError, match="sex must be one of 'male', 'female'"):
        call_tool("calculate_ckd_epi_2021", {"creatinine_mg_dl": 1.0, "age_years": 50, "sex": "m"})
    with pytest.raises(ToolError, match="unexpected argument"):
        call_tool("calculate_bmi", {"weight_kg": 70, "height_cm": 175, "age": 30})
    with pytest.raises(ToolError, match="'height_cm' is a required property"):
        call_tool("calculate_bmi", {"weight_kg": 70})


def test_calculators_run_through_the_tool_registry_without_a_case():
    result = call_tool("calculate_anion_gap", {"sodium_mmol_l": 140, "chloride_mmol_l": 104, "bicarbonate_mmol_l": 24})
    assert result == {"anion_gap": 12.0, "unit": "mmol/L"}
    nihss = call_tool("calculate_nihss", {k: 0 for k in neurology._NIHSS_ITEMS} | {"motor_arm_left": None})
    assert nihss["untestable_items"] == ["motor_arm_left"]
    assert not any(math.isnan(v) for v in call_tool("calculate_qtc", {"qt_ms": 400, "heart_rate_bpm": 75}).values()
                   if isinstance(v, float))
