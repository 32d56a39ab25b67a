"""triage_emergency: the ESI algorithm and disposition rules against their publications, the tasks, the tools."""

import collections

import pytest

from medgym import load_tasks
from medgym.domains.triage_emergency import scores
from medgym.domains.triage_emergency.cases import NORMAL_TOX, library, toxicology
from medgym.encounter import Encounter
from medgym.tools import ToolError, call_tool
from medgym.tools.calculators.neurology import calculate_abcd2

from domain_checks import assert_knowledge_is_sourced, assert_scripted_blind_to_truth, own_tools

DOMAIN = "triage_emergency"


@pytest.fixture(scope="module")
def tasks():
    return load_tasks(domain=DOMAIN)


def esi(**kw):
    base = dict(lifesaving=False, unresponsive=False, high_risk=False, confused=False, pain=None, resources=0,
                heart_rate=80, respiratory_rate=16, spo2=98)
    return scores.esi_level(scores.EsiInputs(**{**base, **kw}))[0]


def test_esi_follows_the_handbook_decision_points():
    # ESI Handbook Table 3-4: poison ivy needs an exam and a prescription (5); UTI needs labs (4);
    # right lower quadrant pain needs labs, IV fluids and CT (3).
    assert esi(resources=0) == 5
    assert esi(resources=1) == 4
    assert esi(resources=3) == 3
    # Decision point D uptriages two or more resources with danger-zone vital signs, but not one resource.
    assert esi(resources=2, heart_rate=101) == 2 and esi(resources=2, heart_rate=100) == 3
    assert esi(resources=2, respiratory_rate=21) == 2 and esi(resources=2, spo2=91) == 2
    assert esi(resources=1, heart_rate=130) == 4
    # A and B come before resources.
    assert esi(unresponsive=True, resources=0) == 1 and esi(lifesaving=True) == 1
    assert esi(high_risk=True) == 2 and esi(confused=True) == 2 and esi(pain=7, resources=1) == 2 and esi(pain=6, resources=1) == 4


def test_rumack_matthew_treatment_line_matches_the_nomogram():
    # The 150-line: 150 mcg/mL at 4 h, halving every 4 h, about 4.7 mcg/mL at 24 h (Smilkstein 1988).
    assert scores.rumack_matthew_line(4) == 150
    assert scores.rumack_matthew_line(8) == 75
    assert scores.rumack_matthew_line(12) == pytest.approx(37.5)
    assert scores.rumack_matthew_line(24) == pytest.approx(4.69, abs=0.01)
    out = call_tool("rumack_matthew_nomogram", {"hours_since_ingestion": 8, "acetaminophen_level": 80})
    assert out["interpretation"] == "on or above the treatment line"
    assert call_tool("rumack_matthew_nomogram", {"hours_since_ingestion": 8, "acetaminophen_level": 70})["interpretation"] == "below the treatment line"
    with pytest.raises(ToolError, match="starts at 4 hours"):
        call_tool("rumack_matthew_nomogram", {"hours_since_ingestion": 2, "acetaminophen_level": 200})
    with pytest.raises(ToolError, match="4-24 h"):
        call_tool("rumack_matthew_nomogram", {"hours_since_ingestion": 30, "acetaminophen_level": 20})
    with pytest.raises(ToolError, match="between 0 and 2000"):
        call_tool("rumack_matthew_nomogram", {"hours_since_ingestion": 8, "acetaminophen_level": -3})


def test_disposition_rules_follow_their_definitions():
    # CURB-65 (Lim 2003): confusion, urea > 7 mmol/L (BUN > 19.6 mg/dL), RR >= 30, SBP < 90 or DBP <= 60, age >= 65.
    assert scores.curb65(False, 19, 29, 120, 70, 64) == 0
    assert scores.curb65(True, 20, 30, 89, 70, 65) == 5
    assert scores.curb65(False, 10, 16, 120, 60, 40) == 1
    assert scores.pneumonia_disposition(1, 2) == "discharge" and scores.pneumonia_disposition(2, 2) == "admit_ward"
    assert scores.pneumonia_disposition(0, 3) == "admit_icu"
    # Glasgow-Blatchford (Blatchford 2000): 0 for a normal patient; urea and hemoglobin bands.
    assert scores.glasgow_blatchford(15, 14, "male", 120, 80, False, False, False, False) == 0
    assert scores.glasgow_blatchford(70, 9.5, "male", 85, 110, True, True, True, True) == 6 + 6 + 3 + 1 + 1 + 2 + 2 + 2
    assert scores.glasgow_blatchford(20, 11, "female", 105, 90, False, False, False, False) == 2 + 1 + 1
    # GINA: admit below 25% before or 40% after treatment; discharge from 60% after treatment.
    assert scores.asthma_disposition(24, 70) == "admit" and scores.asthma_disposition(30, 39) == "admit"
    assert scores.asthma_disposition(30, 60) == "discharge"


def test_abcd2_agrees_with_the_calculator_on_every_tia_task(tasks):
    features = {"weakness": "unilateral_weakness", "speech": "speech_disturbance_without_weakness", "sensory": "other"}
    minutes = {"lt10": 5, "m10_59": 30, "ge60": 90}
    tia = [t for t in tasks if t.condition == "transient_ischemic_attack"]
    assert tia
    for t in tia:
        facts = {f.topic: f.value for f in t.chart.history}
        diabetes = any("diabetes" in p.lower() for p in t.chart.past_medical_history)
        v = t.presentation.vitals
        mine = scores.abcd2(t.presentation.age, v.systolic_bp, v.diastolic_bp, facts["tia_symptom"], facts["tia_duration"], diabetes)
        theirs = calculate_abcd2(t.presentation.age, v.systolic_bp, v.diastolic_bp, features[facts["tia_symptom"]],
                                 minutes[facts["tia_duration"]], diabetes)["score"]
        assert mine == theirs, t.id
        assert t.truth.answer == ("admit" if mine >= 3 else "discharge"), t.id


def test_the_domain_is_large_varied_and_sourced(tasks):
    assert len(tasks) >= 300
    types = collections.Counter(t.task_type for t in tasks)
    assert set(types) == {"triage", "diagnosis", "management", "disposition"}
    assert {t.split for t in tasks} == {"train", "val", "test", "heldout"}
    assert {t.truth.answer for t in tasks if t.task_type == "triage"} == {f"ESI {i}" for i in range(1, 6)}
    for template in library().templates.values():
        assert template.source.strip(), template.id
    assert len({t.presentation.age for t in tasks}) > 40 and {t.presentation.sex for t in tasks} == {"female", "male"}
    assert sum(bool(t.chart.medications) for t in tasks) > len(tasks) / 3


def test_every_life_saving_level_shows_its_reason_through_a_tool(tasks):
    """An ESI 1 patient is unresponsive, in shock, hypoglycemic and altered, or has a compromised airway or breathing."""
    compromise = ("stridor", "obstructed", "snoring", "secretions", "shallow", "bronchorrhea", "weak", "thready", "mottled")
    for t in tasks:
        if t.truth.answer != "ESI 1":
            continue
        x, v = t.chart.extra, t.presentation.vitals
        survey = " ".join(x["primary_survey"].values()).lower()
        assert (x["avpu"] in "PU" or v.systolic_bp < 90 or v.heart_rate < 50 or v.respiratory_rate < 8
                or (x["poc_glucose"] < 70 and x["avpu"] != "A") or any(w in survey for w in compromise)), t.id


def test_poisoning_tasks_have_the_confirming_finding_in_the_chart(tasks):
    for t in tasks:
        if t.task_type != "diagnosis":
            continue
        x = t.chart.extra
        detected = "acetaminophen_level" in t.chart.labs and float(t.chart.labs["acetaminophen_level"].value) > 10
        confirmed = (detected or any(r.flag != "normal" for r in t.chart.labs.values()) or x["toxidrome_exam"] != NORMAL_TOX
                     or x["monitor"]["qrs_ms"] > 100 or x["poc_glucose"] > 180 or t.presentation.vitals.systolic_bp < 90)
        assert confirmed, t.id


def test_tools(tasks):
    own = own_tools(DOMAIN)
    assert len(own) >= 8, own
    unresponsive = next(t for t in tasks if t.chart.extra.get("unable_to_answer"))
    case = Encounter(unresponsive)
    assert "AVPU" in call_tool("primary_survey", {}, case)["disability"]
    assert call_tool("ask_patient", {"question": "What did you take?"}, case)["patient"] == unresponsive.chart.extra["unable_to_answer"]
    assert call_tool("pain_scale", {}, case)["pain_score"].startswith("unable")
    for name in ("opioid", "cholinergic", "tricyclic_antidepressant", "carbon_monoxide"):
        entry = call_tool("toxidrome_reference", {"name": name})
        assert entry["features"] and entry["treatment"] and entry["source"]
    with pytest.raises(ToolError, match="must be one of"):
        call_tool("toxidrome_reference", {"name": "arsenic"})
    walk_in = next(t for t in tasks if t.chart.extra["arrival"] == "walk-in")
    assert "no prehospital care" in call_tool("review_prehospital_report", {}, Encounter(walk_in))["report"]
    assert "note" in call_tool("measure_peak_flow", {}, Encounter(walk_in)) or "peak_flow" in walk_in.chart.extra


def test_every_toxidrome_in_the_reference_names_its_source():
    data = toxicology()
    assert set(data) == {"toxidromes", "poisons"}
    for kind in data.values():
        for name, entry in kind.items():
            assert entry["source"] and entry["treatment"], name


def test_scripted_clinician_does_not_read_the_answer(tasks):
    assert_scripted_blind_to_truth(tasks)


def test_knowledge_passages_are_sourced():
    assert_knowledge_is_sourced(DOMAIN)
