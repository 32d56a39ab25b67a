"""psychiatry: instrument scoring against the publications and the calculators, DSM-5-TR consistency, tools."""

import collections

import pytest

from medgym import load_tasks
from medgym.domains.psychiatry.cases import (
    AUDIT_OPTIONS, PHQ9_TOPICS, audit_c_positive, band, cssrs_risk, instruments, library, points,
)
from medgym.encounter import Encounter
from medgym.tools import ToolError, call_tool
from medgym.tools.calculators.psychiatry import score_audit_c, score_ciwa_ar, score_gad7, score_phq9, screen_cssrs

from domain_checks import assert_knowledge_is_sourced, assert_scripted_blind_to_truth, own_tools

DOMAIN = "psychiatry"


@pytest.fixture(scope="module")
def tasks():
    return load_tasks(domain=DOMAIN)


def test_bands_and_cutoffs_follow_the_publications():
    # Kroenke 2001: 5, 10, 15, 20 are the PHQ-9 thresholds; Spitzer 2006: 5, 10, 15 for GAD-7.
    assert [band("phq9", s) for s in (4, 5, 9, 10, 14, 15, 19, 20, 27)] == [
        "minimal", "mild", "mild", "moderate", "moderate", "moderately severe", "moderately severe", "severe", "severe"]
    assert [band("gad7", s) for s in (4, 5, 10, 15, 21)] == ["minimal", "mild", "moderate", "severe", "severe"]
    # ASAM 2020 CIWA-Ar bands: < 10 mild, 10-18 moderate, >= 19 severe.
    assert [band("ciwa_ar", s) for s in (9, 10, 18, 19)] == ["mild", "moderate", "moderate", "severe"]
    with pytest.raises(ValueError, match="outside the scale"):
        band("phq9", 28)
    # AUDIT-C (Bush 1998; Bradley 2003): positive at 4 for men, 3 for women.
    assert audit_c_positive(4, "male") and not audit_c_positive(3, "male") and audit_c_positive(3, "female")
    assert points("phq9", ["Not at all", "Nearly every day"]) == [0, 3]


def test_cssrs_triage_points():
    none = dict(wish_dead=False, suicidal_thoughts=False, method=False, intent=False, plan=False, behavior="none")
    assert cssrs_risk(none) == "none"
    assert cssrs_risk({**none, "wish_dead": True}) == "low"
    assert cssrs_risk({**none, "suicidal_thoughts": True, "method": True}) == "moderate"
    assert cssrs_risk({**none, "behavior": "lifetime"}) == "moderate"
    assert cssrs_risk({**none, "suicidal_thoughts": True, "intent": True}) == "high"
    assert cssrs_risk({**none, "behavior": "past_3_months"}) == "high"


def test_assessment_answers_agree_with_the_calculators(tasks):
    """Two implementations, one task: the answer set by the builder equals the calculator's reading of the chart."""
    checked = collections.Counter()
    for t in tasks:
        r = t.chart.extra["instruments"]
        if t.task_type == "risk_stratification":
            c = r["cssrs"]
            got = screen_cssrs(c["wish_dead"], c["suicidal_thoughts"], c["behavior"] != "none", c["method"], c["intent"] and not c["plan"],
                               c["plan"], c["behavior"] == "past_3_months")["risk_level"]
            assert got == t.truth.answer, t.id
            checked["cssrs"] += 1
        if t.task_type != "assessment":
            continue
        instrument = library().templates[t.condition].instrument
        if instrument == "phq9":
            got = score_phq9(points("phq9", r["phq9"]))["severity"]
            assert got == t.truth.answer or (got == "none-minimal" and t.truth.answer == "minimal"), t.id
        elif instrument == "gad7":
            assert score_gad7(points("gad7", r["gad7"]))["severity"] == t.truth.answer, t.id
        elif instrument == "ciwa_ar":
            assert score_ciwa_ar(**r["ciwa_ar"])["severity"] == t.truth.answer, t.id
        else:
            p = points("audit_c", r["audit_c"])
            out = score_audit_c(*(AUDIT_OPTIONS[i][p[i]] for i in range(3)), sex=t.presentation.sex)
            assert ("positive" if out["positive_screen"] else "negative") == t.truth.answer, t.id
        checked[instrument] += 1
    assert set(checked) == {"phq9", "gad7", "ciwa_ar", "audit_c", "cssrs"}, checked


def test_cases_meet_their_dsm_criteria(tasks):
    present = lambda v: v not in (False, None, "none")  # noqa: E731
    for t in tasks:
        facts = {f.topic: f.value for f in t.chart.history}
        count = sum(present(facts.get(topic)) for topic in PHQ9_TOPICS)
        if t.condition in ("major_depressive_disorder", "bipolar_depression"):
            assert count >= 5 and (present(facts["depressed_mood"]) or present(facts["anhedonia"])), t.id
            assert facts["symptom_duration"] in ("weeks2_4", "months1_5", "months6plus"), t.id
        if t.condition == "adjustment_disorder":
            assert count <= 4 and facts["recent_stressor"] != "none", t.id
        if t.condition == "generalized_anxiety_disorder":
            six = ["restlessness", "fatigue", "poor_concentration", "irritability", "muscle_tension", "sleep_disturbance"]
            assert facts["symptom_duration"] == "months6plus" and sum(present(facts[x]) for x in six) >= 3, t.id
        if t.condition == "major_depressive_disorder":
            assert facts["past_mania"] is False and "barely slept" not in t.chart.extra["collateral"], t.id
        # The questionnaire answers agree with the interview: PHQ-9 item 9 is positive exactly when there are death thoughts.
        c = t.chart.extra["instruments"]["cssrs"]
        assert (t.chart.extra["instruments"]["phq9"][8] != "Not at all") == bool(c["wish_dead"] or c["suicidal_thoughts"]), t.id


def test_the_domain_is_large_varied_and_sourced(tasks):
    assert len(tasks) >= 300
    assert set(collections.Counter(t.task_type for t in tasks)) == {"diagnosis", "management", "assessment", "risk_stratification"}
    assert {t.split for t in tasks} == {"train", "val", "test", "heldout"}
    assert {t.condition for t in tasks if t.split == "heldout"} == {"panic_disorder", "adjustment_disorder", "delirium"}
    for template in library().templates.values():
        assert template.source.strip(), template.id
    for spec in instruments().values():
        assert spec["source"]
    safety = [t for t in tasks if t.condition == "suicidal_crisis" and t.task_type == "management"]
    assert safety and all(len(t.truth.management) >= 6 for t in safety)


def test_tools(tasks):
    own = own_tools(DOMAIN)
    assert len(own) >= 8, own
    t = next(x for x in tasks if x.condition == "major_depressive_disorder")
    case = Encounter(t)
    phq = call_tool("administer_questionnaire", {"instrument": "phq9"}, case)
    assert len(phq["items"]) == 9 and {i["answer"] for i in phq["items"]} <= set(instruments()["phq9"]["options"])
    assert "score" not in str(phq).lower()
    ciwa = call_tool("assess_alcohol_withdrawal", {}, case)["observations"]
    assert set(ciwa) == set(instruments()["ciwa_ar"]["items"]) and ciwa["tremor"] == "no tremor"
    cssrs = call_tool("administer_questionnaire", {"instrument": "cssrs"}, case)["items"]
    assert len(cssrs) == 6
    assert "mood" in call_tool("mental_status_exam", {}, case)
    with pytest.raises(ToolError, match="must be one of"):
        call_tool("administer_questionnaire", {"instrument": "beck"}, case)
    assert call_tool("instrument_reference", {"instrument": "gad7"})["bands"]


def test_scripted_clinician_does_not_read_the_answer(tasks):
    assert_scripted_blind_to_truth(tasks)


def test_knowledge_passages_are_sourced():
    assert_knowledge_is_sourced(DOMAIN)
