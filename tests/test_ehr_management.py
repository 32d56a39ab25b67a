"""The ehr_management domain: FHIR-shaped charts, chart tools, answers, grading and the scripted workflow."""

import collections
import json
import random
import re

import pytest
import simple_icd_10_cm as icd

from medgym import load_tasks
from medgym.agents import OraclePolicy, ScriptedPolicy, play
from medgym.domains.ehr_management import chart as charts
from medgym.domains.ehr_management import fhir
from medgym.domains.ehr_management.cases import generate
from medgym.domains.ehr_management.scores import kdigo_aki_stage
from medgym.encounter import Encounter
from medgym.env import EncounterEnv
from medgym.episode import Episode
from medgym.rewards import score
from medgym.tasks.store import TASK_DIR
from medgym.tools import ToolError, call_tool, list_tools
from medgym.tools.calculators.critical_care import calculate_news2

from domain_checks import assert_knowledge_is_sourced, assert_scripted_blind_to_truth, own_tools

DOMAIN = "ehr_management"
REQUIRED = {  # FHIR R4 elements with cardinality 1..1 (or 1..*) for the resources the charts use
    "Patient": [], "Encounter": ["status", "class"], "Observation": ["status", "code"], "Condition": ["subject"],
    "AllergyIntolerance": ["patient"], "MedicationStatement": ["status", "medicationCodeableConcept", "subject"],
    "MedicationRequest": ["status", "intent", "medicationCodeableConcept", "subject"],
    "MedicationAdministration": ["status", "medicationCodeableConcept", "subject", "effectiveDateTime"],
    "ServiceRequest": ["status", "intent", "subject"], "Appointment": ["status", "participant"],
    "DocumentReference": ["status", "content"],
}
CERTAIN_LOINC = {c for c, _, _ in fhir.VITALS.values() if c} | {c for c, _, _ in fhir.SINGLE.values() if c} | \
    set(fhir.LAB_LOINC.values()) | {fhir.VITAL_PANEL[0]}


@pytest.fixture(scope="module")
def tasks():
    return load_tasks(domain=DOMAIN)


def bundle(task):
    return [e["resource"] for e in task.chart.extra["fhir"]["entry"]]


# --- charts ---------------------------------------------------------------------------------------------


def test_charts_are_fhir_shaped_with_certain_codes_only(tasks):
    for t in tasks:
        resources = bundle(t)
        assert len({(r["resourceType"], r["id"]) for r in resources}) == len(resources), t.id
        kinds = collections.Counter(r["resourceType"] for r in resources)
        assert {"Patient", "Encounter", "Observation", "Condition", "MedicationStatement", "DocumentReference"} <= set(kinds)
        for r in resources:
            assert all(k in r for k in REQUIRED[r["resourceType"]]), (t.id, r["resourceType"], r["id"])
            for concept in [r.get("code", {})] + [c["code"] for c in r.get("component", [])]:
                for coding in concept.get("coding", []):
                    if coding["system"] == fhir.LOINC:
                        assert coding["code"] in CERTAIN_LOINC
                    else:
                        assert coding["system"] == fhir.ICD10CM and icd.is_valid_item(coding["code"]), coding
            assert "rxnorm" not in json.dumps(r).lower()


def test_every_scenario_states_its_source_and_valid_codes():
    for name, spec in charts.templates()["scenarios"].items():
        assert spec["source"], name
        for p in [spec["principal"], *spec["secondary"]]:
            assert icd.is_valid_item(p["icd10"]) and icd.is_leaf(p["icd10"]), (name, p)
    for text, code in charts.CHRONIC_ICD10.items():
        assert icd.is_valid_item(code) and icd.is_leaf(code), text


def test_domain_size_types_splits_and_file_size(tasks):
    assert len(tasks) >= 300
    assert set(collections.Counter(t.task_type for t in tasks)) == {
        "early_warning", "trend_review", "medication_reconciliation", "handoff_summary", "discharge_summary"}
    held = {t.condition for t in tasks if t.split == "heldout"}
    assert held == set(charts.templates()["heldout"]) and not held & {t.condition for t in tasks if t.split != "heldout"}
    assert (TASK_DIR / f"{DOMAIN}.jsonl").stat().st_size < 10_000_000


def test_generation_is_seeded():
    rng_a, rng_b = random.Random(7), random.Random(7)
    assert charts.build(rng_a, "urosepsis", discharged=True)[1] == charts.build(rng_b, "urosepsis", discharged=True)[1]
    assert charts.build(random.Random(8), "urosepsis", discharged=True)[1] != charts.build(random.Random(7), "urosepsis", discharged=True)[1]


# --- scores and answers ---------------------------------------------------------------------------------


@pytest.mark.parametrize("baseline,series,stage", [
    (1.0, [(0, 1.1), (24, 1.6)], 1),  # 1.6 x baseline
    (1.0, [(0, 1.0), (30, 1.35)], 1),  # rise of 0.35 mg/dL within 48 h
    (1.0, [(0, 1.0), (60, 1.35)], 0),  # the same rise over 60 h is not AKI (1.35 x baseline)
    (0.8, [(0, 1.2), (24, 2.0)], 2),  # 2.5 x baseline
    (1.5, [(0, 2.0), (24, 4.1)], 3),  # rise to >= 4.0 mg/dL
    (0.7, [(0, 1.0), (24, 2.2)], 3),  # >= 3.0 x baseline
])
def test_kdigo_staging_follows_the_2012_guideline_definitions(baseline, series, stage):
    assert kdigo_aki_stage(baseline, series) == stage


def test_news2_answers_recompute_from_the_charted_panel(tasks):
    for t in (t for t in tasks if "news2-latest" in t.id):
        panel = [r for r in bundle(t) if "component" in r][-1]
        v = {c["code"]["text"]: c.get("valueQuantity", {}).get("value", c.get("valueString")) for c in panel["component"]}
        result = calculate_news2(respiratory_rate_per_min=v["Respiratory rate"], spo2_percent=v["SpO2 (pulse oximetry)"],
                                 on_supplemental_oxygen=v["Oxygen delivery"] != "Room air", systolic_bp_mmhg=v["Systolic BP"],
                                 heart_rate_bpm=v["Heart rate"], temperature_c=v["Body temperature"],
                                 consciousness="alert" if v["Consciousness (ACVPU)"] == "Alert" else "new_confusion")
        assert str(result["score"]) == t.truth.answer, t.id


def test_reconciliation_truth_matches_the_lists_and_notes(tasks):
    for t in (t for t in tasks if t.task_type == "medication_reconciliation"):
        home = {r["medicationCodeableConcept"]["text"] for r in bundle(t) if r["resourceType"] == "MedicationStatement"}
        discharge = {r["medicationCodeableConcept"]["text"] for r in bundle(t)
                     if r["resourceType"] == "MedicationRequest" and r["category"][0]["coding"][0]["code"] == "discharge"}
        sentences = [s.lower() for r in bundle(t) if r["resourceType"] == "DocumentReference"
                     for s in fhir.narrative_text(r).split(". ")]
        changed = ("held", "holding", "stop", "discontinu", "not restarted", " off ", "not be continued", "changed", "started")
        for c in t.truth.fields["unintended_omissions"]:
            assert c.label in home and c.label not in discharge, t.id
            assert not [s for s in sentences if c.label in s and any(w in s for w in changed)], t.id
        for c in t.truth.fields["duplications"]:
            assert c.label in discharge, t.id


# --- tools ---------------------------------------------------------------------------------------------------


def test_domain_offers_its_own_tools_and_the_early_warning_calculators():
    assert len(own_tools(DOMAIN)) >= 8
    assert {"calculate_news2", "calculate_qsofa", "calculate_sofa"} <= {t.name for t in list_tools(DOMAIN)}


def test_search_observations_by_loinc_name_and_date(tasks):
    t = next(t for t in tasks if t.task_type == "trend_review" and "kdigo" in t.id)
    case = Encounter(t)
    by_code = call_tool("search_observations", {"code": "2160-0"}, case)
    by_name = call_tool("search_observations", {"code": "creatinine"}, case)
    assert by_code == by_name and by_code["total"] >= 3
    times = [e["resource"]["effectiveDateTime"] for e in by_code["entry"]]
    assert times == sorted(times)
    day = times[-1][:10]
    later = call_tool("search_observations", {"code": "2160-0", "date_from": day}, case)
    assert {e["resource"]["effectiveDateTime"][:10] for e in later["entry"]} == {day}
    hr = call_tool("search_observations", {"code": "8867-4"}, case)
    assert hr["entry"] and all(e["resource"]["code"]["text"] == "Heart rate" and "valueQuantity" in e["resource"] for e in hr["entry"])


def test_tool_errors_name_the_problem(tasks):
    case = Encounter(tasks[0])
    with pytest.raises(ToolError, match="not a date; use YYYY-MM-DD"):
        call_tool("search_observations", {"date_from": "yesterday"}, case)
    with pytest.raises(ToolError, match="No note with id 'doc99'"):
        call_tool("read_note", {"note_id": "doc99"}, case)
    with pytest.raises(ToolError, match="search text is empty"):
        call_tool("search_notes", {"text": " "}, case)


def _reveal(task, finding):
    match = re.match(r"^(\w+) (\{.*?\}): (.+)$", finding)
    name, args, expected = match.group(1), json.loads(match.group(2)), match.group(3)
    return expected in json.dumps(call_tool(name, args, Encounter(task)), ensure_ascii=False)


def test_every_finding_the_answer_relies_on_is_reachable(tasks):
    for t in tasks:
        assert t.truth.key_findings, t.id
        for finding in t.truth.key_findings:
            assert _reveal(t, finding), (t.id, finding)


# --- grading and agents ---------------------------------------------------------------------------------


def test_summaries_are_graded_by_structured_elements(tasks):
    t = next(t for t in tasks if t.task_type == "handoff_summary" and t.truth.fields["pending_results"])
    right = t.truth.demonstration[-1].arguments
    ep = lambda sub: Episode(task_id=t.id, submissions={"submit_handoff": sub})  # noqa: E731
    assert score(ep(right), t).terms["outcome"] == 1.0
    assert score(ep({**right, "pending_results": []}), t).terms["outcome"] < 1.0
    assert score(ep({**right, "active_problems": right["active_problems"] + ["Acute kidney injury"]}), t).terms["outcome"] < 1.0
    reworded = {**right, "allergies": [a.upper() for a in right["allergies"]] or ["none"]}
    assert score(ep(reworded), t).terms["outcome"] == 1.0


def test_oracle_solves_and_the_scripted_clinician_is_a_real_baseline(tasks):
    by_type = collections.defaultdict(list)
    for t in tasks:
        by_type[t.task_type].append(t)
    sample = [t for v in by_type.values() for t in v[:: max(1, len(v) // 4)][:4]]
    env = EncounterEnv(tasks=sample, patient_matcher="lexical")
    assert all(play(env, OraclePolicy(), seed=0, options={"task_id": t.id})[0]["success"] for t in sample)
    env = EncounterEnv(tasks=tasks, patient_matcher="lexical")
    scripted = [play(env, ScriptedPolicy(), seed=0, options={"task_id": t.id})[0]["success"] for t in tasks]
    assert 0.7 <= sum(scripted) / len(scripted) < 1.0


def test_scripted_clinician_never_reads_the_answer(tasks):
    assert_scripted_blind_to_truth(tasks)


def test_knowledge_passages_are_sourced():
    assert_knowledge_is_sourced(DOMAIN)


def test_regenerating_one_scenario_task_reproduces_it(tasks):
    from medgym.domains.ehr_management.cases import handoff

    t = next(t for t in tasks if t.id == "ehr-handoff-summary-gi-bleed-000")
    again = handoff(20261123, "gi_bleed", 0)
    assert again.chart == t.chart and again.truth == t.truth
    assert len(generate.__doc__) > 0
