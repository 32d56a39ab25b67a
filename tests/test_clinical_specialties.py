"""The eight internal-medicine specialties of clinical_diagnosis: content, splits, tools, risk tasks, scripted play."""

import collections
import math
import re
from importlib import resources

import pytest
import simple_icd_10_cm as icd
import yaml

from domain_checks import assert_knowledge_is_sourced, assert_scripted_blind_to_truth, own_tools
from medgym import load_tasks
from medgym.agents import OraclePolicy, ScriptedPolicy, play
from medgym.agents.workflows.common import interpret as interpret_answer
from medgym.agents.workflows.diagnostic import MAX_TOPICS, DiagnosticWorkup, merge_workups
from medgym.domains.casebuilder import SELDOM, call_for, via
from medgym.domains.clinical_diagnosis import ChartFindings, look_alikes, risk, specialties
from medgym.domains.conditions import Specialty, Statement, text_of
from medgym.encounter import Encounter
from medgym.env import EncounterEnv
from medgym.patient.matching import lexical_match, topics
from medgym.tools import ToolError, call_tool, catalog, get_tool, list_tools

SPECIALTIES = {"cardiology", "pulmonology", "gastroenterology_hepatology", "nephrology", "endocrinology",
               "infectious_disease", "neurology", "hematology_oncology"}
YEAR = re.compile(r"\b(19|20)\d{2}\b")
_SPECIALTY_FOLDER = resources.files("medgym.domains.clinical_diagnosis") / "specialties"


@pytest.fixture(scope="module")
def clinical():
    return load_tasks(domain="clinical_diagnosis")


def _conditions():
    return [(sp, c) for sp in specialties() for c in sp.conditions]


def test_eight_specialties_with_sourced_conditions(clinical):
    assert {sp.name for sp in specialties()} == SPECIALTIES
    for sp in specialties():
        assert len(sp.conditions) >= 8, sp.name
        for c in sp.conditions:
            assert YEAR.search(c.source) and len(c.rationale) > 100, f"{sp.name}/{c.id} needs a dated source and a rationale"
    by_specialty = collections.Counter(t.specialty for t in clinical)
    assert set(by_specialty) == SPECIALTIES
    for sp in specialties():
        assert by_specialty[sp.name] == 20 * len(sp.conditions)
        types = {t.task_type for t in clinical if t.specialty == sp.name}
        assert types >= {"diagnosis", "workup", "management"}, sp.name
    assert sum(t.task_type == "risk_stratification" for t in clinical) >= 30


def test_held_out_conditions_are_never_trained_on(clinical):
    heldout = {(sp.name, c.id) for sp, c in _conditions() if c.heldout}
    assert {s for s, _ in heldout} == SPECIALTIES  # at least one per specialty
    assert all(sum(h[0] == s for h in heldout) <= 2 for s in SPECIALTIES)
    for t in clinical:
        assert (t.split == "heldout") == ((t.specialty, t.condition) in heldout), t.id
    assert len(load_tasks(split="heldout", domain="clinical_diagnosis", specialty="neurology")) == 20


def test_icd10_codes_are_billable_leaves():
    for sp, c in _conditions():
        assert icd.is_valid_item(c.icd10) and icd.is_leaf(c.icd10), f"{sp.name}/{c.id}: {c.icd10}"
        for code in c.accepted_codes:
            assert icd.is_valid_item(code), f"{sp.name}/{c.id}: {code}"
    codes = collections.Counter(c.icd10 for _, c in _conditions())
    assert max(codes.values()) == 1, "two conditions share a primary code"


def test_chief_complaints_lead_to_a_work_up():
    for sp, c in _conditions():
        own = sp.complaints[c.complaint].keywords
        for cc in map(text_of, c.chief_complaint):
            assert any(k in cc.lower() for k in own), f"{sp.name}/{c.id}: {cc!r} misses its own complaint"
        for cc in map(text_of, c.atypical_chief_complaint):
            assert any(k in cc.lower() for s in specialties() for w in s.complaints.values() for k in w.keywords), cc


def test_new_history_topics_are_asked_and_read_back_exactly():
    with open("medgym/patient/data/topics_clinical_diagnosis.yaml") as f:
        mine = yaml.safe_load(f)["topics"]
    every = topics()

    def answers(topic):
        spec = every[topic]
        out = [(v, a) for v, phrases in spec.get("values", {}).items() for a in phrases]
        return out + [(True, a) for a in spec.get("present", [])] + [(False, a) for a in spec.get("absent", [])]

    for topic, spec in mine.items():
        assert spec["category"] in {"hpi", "ros", "pmh", "medications", "social", "family"}
        matched = lexical_match(spec["questions"][0])
        assert topic in matched, (topic, matched)
        others = [o for o in matched if o != topic and "chart" not in every[o] and o != "presenting_complaint"]
        for value, text in answers(topic):
            combined = [text] + [f"{text} {b}" for o in others for _, b in answers(o)] + [f"{b} {text}" for o in others for _, b in answers(o)]
            assert all(interpret_answer(topic, t) == value for t in combined), (topic, text)


def test_required_and_confirmatory_actions_are_tools_of_the_domain():
    offered = {t.name: t for t in list_tools("clinical_diagnosis")}
    for sp, c in _conditions():
        actions = [*c.required, *(a for w in sp.complaints.values() for a in w.tools)]
        for test in c.confirm:
            kind, _, key = test.partition(":")
            actions.append({"ecg": "order_ecg", "lab": f"order_lab:{key}", "imaging": f"order_imaging:{key}", "tool": key}[kind])
        for action in actions:
            call = call_for(via(action))
            assert call.name in offered, f"{sp.name}/{c.id}: {action}"
            offered[call.name].validate(call.arguments)


def test_lab_and_study_catalog_entries_are_sourced():
    with open("medgym/tools/data/labs_clinical_diagnosis.yaml") as f:
        data = yaml.safe_load(f)
    header = open("medgym/tools/data/labs_clinical_diagnosis.yaml").read().split("labs:")[0]
    for key, spec in data["labs"].items():
        abbreviation = spec["source"].split()[0]
        assert abbreviation in header, f"{key}: source {abbreviation} is not defined in the file header"
        if spec.get("qualitative"):
            assert spec["normal_text"] and spec["range_text"], key
            continue
        for r in [spec, *spec.get("by_sex", {}).values()]:
            if "low" in r:
                assert r["low"] < r["high"] and r["low"] <= r["normal"][0] < r["normal"][1] <= r["high"], key
    for sp, c in _conditions():
        assert set(c.labs) | set(c.prior) <= set(catalog.labs()), f"{sp.name}/{c.id}"
        assert set(c.imaging) <= set(catalog.studies()) | {"ecg"}, f"{sp.name}/{c.id}"


def test_comorbidities_mean_the_same_in_every_specialty():
    seen = {}
    for sp in specialties():
        for name, m in sp.comorbidities.items():
            definition = m.model_dump()
            assert seen.setdefault(name, definition) == definition, f"{name} differs in {sp.name}"
            for med in m.medications:
                assert med["dose"] and med["frequency"], f"{name}: {med}"


def test_lab_values_are_physiological(clinical):
    limits = {"sodium": (100, 180), "potassium": (1.5, 9), "glucose": (15, 2000), "hemoglobin": (3, 22),
              "platelets": (1, 2000), "creatinine": (0.2, 20), "arterial_ph": (6.7, 7.8), "wbc": (0.1, 300),
              "calcium": (5, 16), "bicarbonate": (3, 50), "total_bilirubin": (0.1, 40), "inr": (0.7, 10)}
    for t in clinical:
        for test, result in t.chart.labs.items():
            if isinstance(result.value, (int, float)):
                assert result.value >= 0, (t.id, test)
                low, high = limits.get(test, (0, math.inf))
                assert low <= result.value <= high, (t.id, test, result.value)


def test_ckd_stage_4_cases_have_an_egfr_of_15_to_29(clinical):
    """CKD G4 is an eGFR of 15-29 mL/min/1.73 m2 (KDIGO 2024), by the race-free CKD-EPI 2021 equation."""
    cases = [t for t in clinical if t.condition == "ckd_stage_4"]
    assert cases
    for t in cases:
        out = call_tool("calculate_ckd_epi_2021", {"creatinine_mg_dl": t.chart.labs["creatinine"].value,
                                                   "age_years": t.presentation.age, "sex": t.presentation.sex})
        assert 15 <= out["egfr"] <= 29, (t.id, out)


def test_alcohol_associated_hepatitis_cases_are_severe(clinical):
    """Prednisolone is the truth only where the disease is severe: Maddrey discriminant function
    4.6 x (PT - control PT) + bilirubin of at least 32 (Maddrey WC et al. Gastroenterology 1978;75:193-199),
    control PT 12.0 s as the case builder derives PT, and MELD-Na above 20."""
    for t in (t for t in clinical if t.condition == "alcohol_associated_hepatitis"):
        labs = {k: float(v.value) for k, v in t.chart.labs.items() if isinstance(v.value, (int, float))}
        assert 4.6 * (labs["pt"] - 12.0) + labs["total_bilirubin"] >= 32, t.id
        meld = call_tool("calculate_meld_na", {"creatinine_mg_dl": labs.get("creatinine", 1.0), "bilirubin_mg_dl": labs["total_bilirubin"],
                                               "inr": labs["inr"], "sodium_mmol_l": labs.get("sodium", 140)})
        assert meld["meld_na"] > 20, (t.id, meld)


def test_risk_tasks_answer_is_the_calculator_on_the_case(clinical):
    tasks = [t for t in clinical if t.task_type == "risk_stratification"]
    tools = collections.Counter()
    for t in tasks:
        assert t.truth.final_tool == "submit_answer" and t.truth.answer is not None
        calc = t.truth.demonstration[-2]
        score = risk.SCORES[calc.name]
        tools[calc.name] += 1
        assert score.tool in t.instructions and calc.name in t.truth.required_actions
        result = call_tool(calc.name, calc.arguments)
        assert risk.answer_text(result[score.answer_key]) == t.truth.answer, t.id
        assert calc.arguments == score.arguments(ChartFindings(t)), t.id  # the case's own findings, as the tools show them
        assert all(test in t.chart.labs for test in score.labs), t.id
        assert t.truth.demonstration[-1].arguments["answer"] == t.truth.answer
    assert len(tools) >= 6, tools


def test_domain_tools(clinical):
    assert len(own_tools("clinical_diagnosis")) >= 8
    by_id = {t.id: t for t in clinical}
    asthma = next(t for t in clinical if "peak_expiratory_flow" in t.chart.extra.get("maneuvers", []))
    case = Encounter(asthma)
    assert call_tool("perform_bedside_maneuver", {"maneuver": "peak_expiratory_flow"}, case)["result"] == "positive"
    assert call_tool("perform_bedside_maneuver", {"maneuver": "kernig_brudzinski"}, case)["result"] == "negative"
    with pytest.raises(ToolError, match="must be one of"):
        get_tool("perform_bedside_maneuver").validate({"maneuver": "babinski_dance"})

    addison = next(t for t in clinical if t.condition == "primary_adrenal_insufficiency" and t.chart.extra["orthostatic"]["positive"])
    readings = call_tool("measure_orthostatic_vitals", {}, addison)
    lying, standing = (list(map(int, re.findall(r"\d+", readings[k]["blood_pressure"]))) for k in ("supine", "standing_3_min"))
    assert lying[0] - standing[0] >= 20 or lying[1] - standing[1] >= 10

    hypo = next(t for t in clinical if t.condition == "sulfonylurea_hypoglycemia")
    poc = call_tool("point_of_care_test", {"test": "fingerstick_glucose"}, hypo)
    assert poc["value"] == call_tool("order_lab", {"test": "glucose"}, hypo)["value"] < 54

    meningitis = next(t for t in clinical if t.condition == "bacterial_meningitis")
    csf = call_tool("perform_procedure", {"procedure": "lumbar_puncture"}, meningitis)
    assert {r["test"] for r in csf["results"]} >= {"csf_wbc", "csf_protein", "csf_glucose"}
    with pytest.raises(ToolError, match="perform_procedure"):
        call_tool("order_lab", {"test": "csf_wbc"}, meningitis)
    with pytest.raises(ToolError, match="request_biopsy"):
        call_tool("order_imaging", {"study": "kidney_biopsy"}, meningitis)

    gpa = next(t for t in clinical if t.condition == "granulomatosis_with_polyangiitis" and "kidney_biopsy" in t.chart.imaging)
    assert "pauci-immune" in call_tool("request_biopsy", {"site": "kidney"}, gpa)["impression"].lower()
    assert call_tool("request_biopsy", {"site": "bone_marrow"}, gpa)["impression"] == "Normal bone marrow."

    ckd = next(t for t in clinical if t.condition == "ckd_stage_4" and t.chart.extra.get("prior_results"))
    prior = call_tool("review_prior_results", {}, ckd)["prior_results"]
    assert any(r["test"] == "creatinine" and r["flag"] == "high" for r in prior)
    assert call_tool("review_prior_results", {}, by_id["neurology-bell_palsy-000"])["prior_results"] == []

    consult = call_tool("request_specialist_consult", {"specialty": "neurology"}, by_id["neurology-subarachnoid_hemorrhage-000"])
    assert consult["recommended_tests"] and any("worst pain" in q for q in consult["recommended_history"])
    assert "no specific recommendation" in call_tool("request_specialist_consult", {"specialty": "nephrology"},
                                                     by_id["neurology-subarachnoid_hemorrhage-000"])["note"]
    found = call_tool("lookup_diagnostic_criteria", {"condition": "strep throat"})
    assert found["condition"] == "Streptococcal pharyngitis" and found["icd10"] == "J02.0"
    with pytest.raises(ToolError, match="Did you mean"):
        call_tool("lookup_diagnostic_criteria", {"condition": "acute pancreatitiss"})


def test_work_ups_merge_across_specialties():
    workflow = DiagnosticWorkup(specialties())
    matched = workflow._matching_complaints("shortness of breath")
    assert {(s.name, n) for s, n, _ in matched} >= {("cardiology", "dyspnea"), ("pulmonology", "dyspnea")}
    merged = merge_workups([w for _, _, w in matched])
    assert len(merged.history) == MAX_TOPICS and merged.ecg
    shared = set(matched[0][2].history) & set(matched[1][2].history)
    assert shared <= set(merged.history) or len(shared) > MAX_TOPICS


def test_cases_vary_realistically(clinical):
    rationales = [t.rationale for t in clinical]
    assert sum("Distractor:" in r for r in rationales) > 0.2 * len(clinical)
    conditions = {c.id: c for _, c in _conditions()}
    for t in clinical:  # a distractor symptom is one the condition itself seldom causes
        for topic in re.findall(r"the patient reports ([a-z ]+), which does not point", t.rationale):
            assert float(conditions[t.condition].history.get(topic.replace(" ", "_"), 0.0)) <= SELDOM, (t.id, topic)
    assert sum("is not the usual one" in r for r in rationales) > 30
    assert sum("Atypical presentation" in r for r in rationales) > 0.1 * len(clinical)
    assert len({t.presentation.sex for t in clinical}) == 2 and any(t.chart.medications for t in clinical)
    pneumonia = next(sp.condition("community_acquired_pneumonia") for sp in specialties() if sp.name == "pulmonology")
    assert "acute_bronchitis" in {c.id for c in look_alikes(next(s for s in specialties() if s.name == "pulmonology"), pneumonia)}


def test_the_patient_says_it_began_when_the_opening_says(clinical):
    """An opening that states when the problem began fixes the answer to "when did it start?"."""
    stated = {(c.id, o.text): o.onset for _, c in _conditions() for o in [*c.opening, *c.atypical_opening]
              if isinstance(o, Statement)}
    checked = 0
    for t in clinical:
        onset = stated.get((t.condition, t.presentation.opening_statement))
        if onset is not None:
            assert next(f.value for f in t.chart.history if f.topic == "onset") == onset, t.id
            checked += 1
    assert checked > 100
    tia = [t for t in clinical if t.condition == "transient_ischemic_attack"]
    assert tia and all(next(f for f in t.chart.history if f.topic == "onset").answer in
                       topics()["onset"]["values"]["sudden"] for t in tia)
    # the patient's words fit the statement and the condition: the side it names, a deficit that has resolved
    words = {(c.id, o.text): o.answers for _, c in _conditions() for o in c.statements if isinstance(o, Statement)}
    conditions = {c.id: c for _, c in _conditions()}
    for t in clinical:
        said = {**words.get((t.condition, t.presentation.chief_complaint), {}),
                **words.get((t.condition, t.presentation.opening_statement), {})}
        for f in t.chart.history:
            if f"the patient reports {f.topic.replace('_', ' ')}," in t.rationale:
                continue  # a distractor: a look-alike's feature, in its own words
            expected = said.get(f.topic) or (conditions[t.condition].answers.get(f.topic) if f.value is True else None)
            assert expected is None or f.answer == expected, (t.id, f.topic, f.answer)
    weakness = [f.answer for t in tia for f in t.chart.history if f.topic == "focal_weakness" and f.value is True]
    assert weakness and all("came back" in a or "gone now" in a for a in weakness)
    said_of = {(t.condition, f.topic): f.answer for t in clinical for f in t.chart.history if f.value is True}
    assert "double" in said_of["myasthenia_gravis", "vision_changes"]  # not "seeing spots"
    assert "pressing" in said_of["tension_type_headache", "headache"]  # not "pounding"
    assert "mouth" in said_of["acute_ischemic_stroke", "facial_droop"]  # an upper motor neuron face spares the eye
    bell = [t for t in clinical if t.condition == "bell_palsy" and t.presentation.chief_complaint == "face drooping on one side"]
    assert bell and all(any(f.topic == "facial_droop" and f.value is True for f in t.chart.history) for t in bell)
    pulmonology = yaml.safe_load((_SPECIALTY_FOLDER / "pulmonology.yaml").read_text())
    asthma = next(c for c in pulmonology["conditions"] if c["id"] == "asthma_exacerbation")
    asthma["opening"] = [{"text": "It began weeks ago.", "onset": "weeks"}]  # not in its onset distribution
    with pytest.raises(ValueError, match="states onset 'weeks'"):
        Specialty.model_validate(pulmonology)


def test_knowledge_and_blind_scripted_clinician(clinical):
    assert_knowledge_is_sourced("clinical_diagnosis")
    assert_scripted_blind_to_truth([t for t in clinical if t.split == "test"], per_type=2)


def test_held_out_conditions_are_solvable():
    """The held-out split is diagnosable from what the tools reveal: the oracle solves all, the scripted clinician most."""
    tasks = load_tasks(split="heldout", domain="clinical_diagnosis")
    env = EncounterEnv(tasks=tasks, patient_matcher="lexical")
    for policy, low in ((OraclePolicy(), 1.0), (ScriptedPolicy(), 0.7)):
        success = [play(env, policy, seed=0, options={"task_id": t.id})[0]["success"] for t in tasks]
        assert sum(success) / len(success) >= low, (policy.name, sum(success) / len(success))
