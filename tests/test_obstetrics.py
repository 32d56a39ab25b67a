"""obstetrics: ACOG dating, NICHD categories, ACOG hypertension criteria and RhIG dosing against their
publications; every task's answer re-derived from what its chart holds; tools and safety."""

import collections
import datetime as dt

import pytest

from medgym import load_tasks
from medgym.domains.obstetrics import rules
from medgym.domains.obstetrics.cases import library
from medgym.encounter import Encounter
from medgym.env import EncounterEnv
from medgym.tools import ToolError, call_tool
from medgym.tools.calls import assistant_message
from medgym.tools.calculators.obstetrics import calculate_bishop_score

from domain_checks import assert_knowledge_is_sourced, assert_scripted_blind_to_truth, own_tools

DOMAIN = "obstetrics"


@pytest.fixture(scope="module")
def tasks():
    return load_tasks(domain=DOMAIN)


def test_acog_700_redating_thresholds():
    # ACOG CO 700 Table 1: <= 8 6/7 weeks 5 days; 9 0/7-15 6/7 weeks 7 days; 16 0/7-21 6/7 10; 22 0/7-27 6/7 14; >= 28 0/7 21.
    assert [rules.redating_threshold_days(7 * w + d) for w, d in ((8, 6), (9, 0), (13, 6), (15, 6), (16, 0), (21, 6), (22, 0), (27, 6), (28, 0))] == [
        5, 7, 7, 7, 10, 10, 14, 14, 21]
    visit = dt.date(2026, 3, 1)
    lmp = visit - dt.timedelta(days=70)  # 10 0/7 weeks by LMP
    assert rules.estimated_due_date(visit, 70 + 7, lmp)[0] == lmp + dt.timedelta(days=280)  # 7 days: keep the LMP
    assert rules.estimated_due_date(visit, 70 + 8, lmp)[0] == visit + dt.timedelta(days=280 - 78)  # 8 days: redate
    # ACOG CO 700: "for a day-5 embryo, the EDD would be 261 days from the embryo replacement date".
    transfer = dt.date(2026, 1, 10)
    assert rules.estimated_due_date(visit, 60, lmp, transfer, 5)[0] == transfer + dt.timedelta(days=261)
    assert rules.estimated_due_date(visit, 60, None)[0] == visit + dt.timedelta(days=220)


def test_nichd_categories():
    T = rules.Tracing
    assert rules.fhr_category(T(140, "moderate", True, early=True)) == "I"
    assert rules.fhr_category(T(165, "moderate", True)) == "II"  # tachycardia
    assert rules.fhr_category(T(140, "minimal", False)) == "II"
    assert rules.fhr_category(T(140, "moderate", False, recurrent_late=True)) == "II"
    assert rules.fhr_category(T(140, "absent", False)) == "II"  # absent variability alone
    assert rules.fhr_category(T(140, "absent", False, recurrent_late=True)) == "III"
    assert rules.fhr_category(T(140, "absent", False, recurrent_variable=True)) == "III"
    assert rules.fhr_category(T(100, "absent", False)) == "III"
    assert rules.fhr_category(T(140, "minimal", False, sinusoidal=True)) == "III"
    assert [rules.variability_class(a) for a in (0, 5, 6, 25, 26)] == ["absent", "minimal", "moderate", "moderate", "marked"]


def test_acog_222_classification():
    normal = dict(chronic=False, readings=((146, 94), (148, 92)), upcr=0.1, platelets=220, creatinine=0.6, ast=20, alt=20, ldh=200,
                  headache_unresponsive=False, visual_disturbance=False, ruq_pain=False, pulmonary_edema=False)
    f = lambda **kw: rules.classify_hypertension(rules.HypertensionFindings(**{**normal, **kw}))  # noqa: E731
    assert f() == "gestational_hypertension"
    assert f(upcr=0.3) == "preeclampsia"
    assert f(upcr=0.5, readings=((162, 100), (165, 104))) == "preeclampsia_severe"
    assert f(platelets=90) == "preeclampsia_severe"  # no proteinuria needed with a severe feature
    assert f(creatinine=1.2) == "preeclampsia_severe"
    assert f(platelets=80, ast=120, alt=140, ldh=700) == "hellp_syndrome"
    assert f(readings=((130, 80), (128, 82))) == "normotensive"
    assert f(chronic=True) == "chronic_hypertension" and f(chronic=True, upcr=0.4) == "superimposed_preeclampsia"


def test_rhig_dose_by_the_aabb_rule():
    # 1.75% fetal cells: 87.5 mL / 30 = 2.92 -> round up to 3, plus one vial = 4.
    assert rules.rhig_vials_for_bleed(1.75) == 4
    # 1.2%: 60 mL / 30 = 2.0 -> 2, plus one = 3; 0.8%: 40 mL / 30 = 1.33 -> 1, plus one = 2.
    assert rules.rhig_vials_for_bleed(1.2) == 3 and rules.rhig_vials_for_bleed(0.8) == 2
    assert rules.rhig_vials(True, False, False, None, None) == 1  # 28 weeks
    assert rules.rhig_vials(True, True, True, True, None) == 0  # already alloimmunized
    assert rules.rhig_vials(True, False, True, False, None) == 0  # Rh(D)-negative newborn
    assert rules.rhig_vials(False, False, True, True, None) == 0  # Rh(D)-positive mother


def test_answers_rederived_from_the_chart(tasks):
    """The answer each builder set follows from the findings its tools reveal."""
    counts = collections.Counter()
    for t in tasks:
        x = t.chart.extra
        if t.condition == "bishop_induction" and t.task_type == "assessment":
            c = x["cervix"]
            args = dict(dilation_cm=0 if c["dilation"] == "closed" else float(c["dilation"].split()[0]),
                        effacement_percent=float(c["effacement"].rstrip("%")), station=int(c["station"]),
                        consistency=c["consistency"], position=c["position"])
            assert str(calculate_bishop_score(**args)["score"]) == t.truth.answer, t.id
            counts["bishop"] += 1
        if t.condition in ("gestational_hypertension", "preeclampsia", "preeclampsia_severe", "hellp_syndrome",
                           "chronic_hypertension", "superimposed_preeclampsia"):
            v, labs = t.presentation.vitals, t.chart.labs
            s2, d2 = (int(p) for p in x["bp_repeat"]["blood_pressure"].split()[0].split("/"))
            facts = {f.topic: f.value for f in t.chart.history}
            findings = rules.HypertensionFindings(
                chronic=any("Chronic hypertension" in p for p in t.chart.past_medical_history), readings=((v.systolic_bp, v.diastolic_bp), (s2, d2)),
                upcr=float(labs["urine_protein_creatinine_ratio"].value), platelets=float(labs["platelets"].value),
                creatinine=float(labs["creatinine"].value), ast=float(labs["ast"].value), alt=float(labs["alt"].value),
                ldh=float(labs["ldh"].value), headache_unresponsive=facts.get("headache_unrelieved") is True,
                visual_disturbance=facts["vision_changes"] is True, ruq_pain=facts["epigastric_pain"] is True,
                pulmonary_edema=any(f.system == "respiratory" for f in t.chart.exam))
            assert rules.classify_hypertension(findings) == t.condition, t.id
            counts["hypertension"] += 1
        if t.condition == "rh_prophylaxis":
            mother, newborn = x["blood_type"]["mother"], x["blood_type"].get("newborn")
            kb = x.get("fmh", {}).get("kleihauer_betke", "")
            vials = rules.rhig_vials("negative" in mother["abo_rh"], "anti-D" in mother["antibody_screen"], newborn is not None,
                                     "positive" in newborn["abo_rh"] if newborn else None, float(kb.split("%")[0]) if "%" in kb else None)
            assert str(vials) == t.truth.answer, t.id
            counts["rh"] += 1
    assert counts["bishop"] and counts["hypertension"] >= 80 and counts["rh"] >= 30


def test_the_domain_is_large_varied_and_sourced(tasks):
    assert len(tasks) >= 300
    assert set(collections.Counter(t.task_type for t in tasks)) == {"assessment", "diagnosis", "management"}
    assert {t.split for t in tasks} == {"train", "val", "test", "heldout"}
    assert {t.condition for t in tasks if t.split == "heldout"} == {"hellp_syndrome", "antepartum_bleeding"}
    for template in library().templates.values():
        assert template.source.strip(), template.id
    assert {t.truth.answer for t in tasks if t.condition == "fhr_tracing" and t.task_type == "assessment"} == {
        "Category I", "Category II", "Category III"}
    assert len({t.truth.answer for t in tasks if t.condition == "rh_prophylaxis"}) >= 4


def test_tools_and_the_previa_safety_rule(tasks):
    own = own_tools(DOMAIN)
    assert len(own) >= 8, own
    previa = next(t for t in tasks if t.condition == "antepartum_bleeding" and t.truth.contraindicated_actions)
    case = Encounter(previa)
    assert "previa" in call_tool("obstetric_ultrasound", {}, case)["placenta"]
    with pytest.raises(ToolError, match="no newborn"):
        call_tool("newborn_assessment", {"minute": 1}, case)
    # A digital examination before the ultrasound has excluded a previa costs the safety term.
    env = EncounterEnv(tasks=[previa], patient_matcher="lexical", reward="shaped")
    env.reset(seed=0)
    env.step(assistant_message(("cervical_exam", {})))
    _, _, done, _, info = env.step(assistant_message(("submit_diagnosis", {"diagnosis": previa.truth.diagnosis, "icd10_code": previa.truth.icd10})))
    assert done and info["reward_terms"]["safety"] == -1.0 and not info["success"]
    apgar = next(t for t in tasks if t.condition == "apgar_score")
    one = call_tool("newborn_assessment", {"minute": 1}, Encounter(apgar))
    assert set(one) == {"minute", "heart_rate", "respiratory_effort", "muscle_tone", "reflex_irritability", "color"}
    assert "score" not in str(one).lower()


def test_scripted_clinician_does_not_read_the_answer(tasks):
    assert_scripted_blind_to_truth(tasks)


def test_knowledge_passages_are_sourced():
    assert_knowledge_is_sourced(DOMAIN)
