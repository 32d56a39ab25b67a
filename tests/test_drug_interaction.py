"""The drug_interaction domain: its formulary data, tools, cases, scoring and scripted workflow."""

import collections
import json
import re

import pytest

from medgym import load_tasks
from medgym.agents import OraclePolicy, ScriptedPolicy, play
from medgym.domains.drug_interaction.cases import generate, kidney_values
from medgym.domains.drug_interaction.formulary import SEVERITY_RANK, formulary
from medgym.encounter import Encounter
from medgym.env import EncounterEnv
from medgym.episode import Episode
from medgym.rewards import fields_score, score
from medgym.tasks.schema import Concept
from medgym.tools import ToolError, call_tool, list_tools
from medgym.tools.calculators.hepatology import calculate_child_pugh

from domain_checks import assert_knowledge_is_sourced, assert_scripted_blind_to_truth, own_tools

DOMAIN = "drug_interaction"
_KEY = re.compile(r"^[A-Z][A-Z0-9]{3,}$")


@pytest.fixture(scope="module")
def f():
    return formulary()


@pytest.fixture(scope="module")
def tasks():
    return load_tasks(domain=DOMAIN)


# --- the formulary ---------------------------------------------------------------------------------------


def _sources(f):
    for d in f.drugs.values():
        yield d.key, d.source
        for fact in (d.renal, d.renal_note, d.hepatic, d.pregnancy, d.lactation, d.older_adults, d.allergy_note):
            if fact is not None:
                yield d.key, fact.source
                if getattr(fact, "alternatives_source", None):
                    yield d.key, fact.alternatives_source
    for pair, i in f.interactions.items():
        yield "+".join(sorted(pair)), i.source
        if i.alternatives_source:
            yield "+".join(sorted(pair)), i.alternatives_source
    for r in f.rules:
        yield "allergy rule", r.source


def test_formulary_has_150_drugs_and_every_fact_a_known_source(f):
    assert len(f.drugs) >= 150
    for where, source in _sources(f):
        parts = [p.strip().split(":")[0] for p in source.split(";")]
        assert parts[0].startswith("FDA") or parts[0] in f.sources, f"{where}: {source!r} names no label or guideline"
        for head in parts:  # later parts are label sections or further guideline keys
            if _KEY.match(head):
                assert head in f.sources, f"{where}: unknown source key {head}"


def test_label_statements_are_encoded_as_the_labels_state_them(f):
    """Spot checks against the FDA labels named in each record."""
    simva = f.interaction("simvastatin", "clarithromycin")  # Zocor: Contraindications
    assert (simva.severity, simva.action) == ("contraindicated", ["avoid"])
    amlo = f.interaction("amlodipine", "simvastatin")  # Zocor: do not exceed 20 mg with amlodipine
    assert amlo.adjust == "simvastatin" and amlo.dose_limit == "20 mg once daily"
    ppi = f.interaction("omeprazole", "clopidogrel")  # Plavix: avoid omeprazole or esomeprazole
    assert ppi.severity == "major" and ppi.alternatives_for == "omeprazole" and "pantoprazole" in ppi.alternatives
    assert f.interaction("sildenafil", "nitroglycerin").severity == "contraindicated"  # Viagra: Contraindications
    assert f.interaction("warfarin", "fluconazole").action == ["monitor"]  # Coumadin: monitor INR
    assert f.interaction("pantoprazole", "clopidogrel") is None
    dabi = f.drugs["dabigatran"].renal  # Pradaxa: CrCl 15-30 mL/min: 75 mg twice daily
    assert next(b for b in dabi.bands if b.contains(22)).dose == "75 mg twice daily"
    assert f.drugs["warfarin"].pregnancy.action == "avoid" and f.drugs["warfarin"].lactation.action == "use"


def test_every_interaction_entry_and_alternative_names_formulary_drugs(f):
    for pair, i in f.interactions.items():
        assert pair <= set(f.drugs) and i.adjust in pair
        assert i.severity in SEVERITY_RANK and i.action
        if i.alternatives:
            assert i.alternatives_for in pair and set(i.alternatives) <= set(f.drugs)
    assert not set(f.interactions) & f.unrated


def test_renal_tables_have_no_overlapping_bands(f):
    for d in f.drugs.values():
        if d.renal and d.renal.bands:
            for value in range(0, 200):
                assert sum(b.contains(value) for b in d.renal.bands) <= 1, (d.key, value)
    rivaroxaban = f.drugs["rivaroxaban"].renal  # Xarelto: CrCl >50: 20 mg; <=50: 15 mg
    assert [b.dose for b in rivaroxaban.bands if b.contains(50)] == ["15 mg once daily with the evening meal"]
    assert [b.dose for b in rivaroxaban.bands if b.contains(51)] == ["20 mg once daily with the evening meal"]


def test_names_resolve_by_generic_brand_alias_and_medication_line(f):
    assert f.resolve("Zocor").key == "simvastatin"
    assert f.resolve("TMP-SMX").key == "trimethoprim_sulfamethoxazole"
    assert f.find("warfarin dose adjusted to the INR").key == "warfarin"
    assert f.find("insulin glargine units once daily as directed").key == "insulin_glargine"
    with pytest.raises(ValueError, match="Did you mean simvastatin"):
        f.resolve("simvastatn")


# --- tools ------------------------------------------------------------------------------------------------


def test_domain_offers_its_own_tools_and_the_renal_calculators():
    assert len(own_tools(DOMAIN)) >= 8
    names = {t.name for t in list_tools(DOMAIN)}
    assert {"calculate_cockcroft_gault", "calculate_ckd_epi_2021", "calculate_child_pugh", "submit_medication_review"} <= names


def test_check_interaction_is_symmetric_and_cites_its_source():
    ab = call_tool("check_interaction", {"drug_a": "Plavix", "drug_b": "omeprazole 20 mg"})
    ba = call_tool("check_interaction", {"drug_a": "omeprazole", "drug_b": "clopidogrel"})
    assert ab == ba and ab["severity"] == "major" and "Plavix" in ab["source"]
    none = call_tool("check_interaction", {"drug_a": "amoxicillin", "drug_b": "levothyroxine"})
    assert none["severity"] == "none listed" and "not evidence of safety" in none["note"]


def test_screen_medication_list_finds_every_rated_pair_most_severe_first():
    out = call_tool("screen_medication_list", {"drugs": ["simvastatin 40 mg", "amlodipine", "clarithromycin", "metformin", "foo"]})
    severities = [i["severity"] for i in out["interactions"]]
    assert severities == sorted(severities, key=lambda s: -SEVERITY_RANK[s])
    assert {frozenset(i["drugs"]) for i in out["interactions"]} == {
        frozenset({"simvastatin", "clarithromycin"}), frozenset({"simvastatin", "amlodipine"}), frozenset({"amlodipine", "clarithromycin"})}
    assert out["not_in_formulary"] == ["foo"]


def test_dosing_tools_pick_the_band_and_reject_impossible_values():
    renal = call_tool("get_renal_dosing", {"drug": "edoxaban", "crcl_ml_min": 120})
    assert renal["for_this_patient"]["action"] == "avoid"  # Savaysa boxed warning: CrCl >95
    assert call_tool("get_renal_dosing", {"drug": "sitagliptin", "egfr": 38})["for_this_patient"]["dose"] == "50 mg once daily"
    with pytest.raises(ToolError, match="crcl_ml_min must be between 0 and 250"):
        call_tool("get_renal_dosing", {"drug": "edoxaban", "crcl_ml_min": -5})
    hepatic = call_tool("get_hepatic_dosing", {"drug": "rivaroxaban", "child_pugh_class": "B"})
    assert hepatic["action"] == "avoid"
    with pytest.raises(ToolError, match="not in the MedGym formulary"):
        call_tool("get_hepatic_dosing", {"drug": "unobtainium"})
    with pytest.raises(ToolError, match="empty"):
        call_tool("screen_medication_list", {"drugs": []})


@pytest.mark.parametrize("allergy,reaction,drug,verdict", [
    ("amoxicillin", "anaphylaxis", "cephalexin", "avoid"),  # shared R1 side chain
    ("amoxicillin", "hives", "cephalexin", "use"),  # non-anaphylactic penicillin reaction
    ("penicillin", "anaphylaxis", "cefazolin", "use"),  # dissimilar side chain
    ("penicillin", "anaphylaxis", "aztreonam", "use"),
    ("ceftazidime", "hives", "aztreonam", "avoid"),  # identical side chain
    ("Bactrim", "rash", "furosemide", "use"),  # non-antibiotic sulfonamide
    ("aspirin", "bronchospasm", "naproxen", "avoid"),  # NSAID labels: contraindicated
    ("lisinopril", "angioedema", "enalapril", "avoid"),
])
def test_allergy_cross_reactivity_follows_the_2022_practice_parameter_and_labels(allergy, reaction, drug, verdict):
    out = call_tool("check_allergy_cross_reactivity", {"allergy": allergy, "drug": drug, "reaction": reaction})
    assert out["verdict"] == verdict, out


def test_an_uncovered_allergy_question_is_not_called_safe():
    out = call_tool("check_allergy_cross_reactivity", {"allergy": "lisinopril", "drug": "enalapril", "reaction": "cough"})
    assert out["verdict"] == "no rule on file"


def test_pregnancy_guidance_depends_on_gestational_age():
    late = call_tool("get_pregnancy_lactation", {"drug": "ibuprofen", "status": "pregnancy", "gestational_age_weeks": 32})
    early = call_tool("get_pregnancy_lactation", {"drug": "ibuprofen", "status": "pregnancy", "gestational_age_weeks": 12})
    assert late["action"] == "avoid" and early["action"] == "see guidance"
    alts = call_tool("suggest_alternatives", {"drug": "lisinopril", "reason": "pregnancy"})
    assert set(alts["alternatives"]) == {"labetalol", "nifedipine", "methyldopa"} and "same_group_on_file" not in alts


# --- cases --------------------------------------------------------------------------------------------------


def test_cases_are_many_varied_and_reproducible(tasks):
    assert len(tasks) >= 300
    types = collections.Counter(t.task_type for t in tasks)
    assert set(types) == {"interaction_check", "medication_review", "renal_dosing", "hepatic_dosing", "allergy_check",
                          "pregnancy_lactation", "older_adult_review"}
    assert {t.split for t in tasks} == {"train", "val", "test", "heldout"}
    heldout = {t.condition for t in tasks if t.split == "heldout"}
    assert heldout and not heldout & {t.condition for t in tasks if t.split != "heldout"}
    again = {t.id: t for t in generate(20261123)}
    assert all(again[t.id].truth == t.truth and again[t.id].chart == t.chart for t in tasks)


def test_renal_answers_follow_the_calculated_kidney_function(f, tasks):
    from medgym.domains.drug_interaction.cases import Patient

    for t in tasks:
        if t.task_type != "renal_dosing" or t.condition.startswith("apixaban"):
            continue
        drug = f.resolve(t.instructions.split("start ")[1].split(" for ")[0])
        p = Patient(age=t.presentation.age, sex=t.presentation.sex, height_cm=t.presentation.vitals.height_cm,
                    weight_kg=t.presentation.vitals.weight_kg, creatinine=float(t.chart.labs["creatinine"].value))
        value = kidney_values(p)[drug.renal.measure]
        band = next(b for b in drug.renal.bands if b.contains(value))
        assert t.truth.fields["action"][0].label == band.action, t.id


def test_hepatic_answers_follow_the_child_pugh_class(f, tasks):
    for t in (t for t in tasks if t.task_type == "hepatic_dosing"):
        args = next(c.arguments for c in t.truth.demonstration if c.name == "calculate_child_pugh")
        cls = calculate_child_pugh(**args)["child_pugh_class"]
        assert args["bilirubin_mg_dl"] == t.chart.labs["total_bilirubin"].value
        drug = f.resolve(t.instructions.split("start ")[1].split(".")[0])
        assert drug.hepatic.for_class(cls).action == t.truth.fields["action"][0].label, t.id


def test_medication_lists_hold_only_the_pair_the_case_is_about(f, tasks):
    for t in tasks:
        keys = [f.find(m.name).key for m in t.chart.medications]
        pairs = [(a, b) for i, a in enumerate(keys) for b in keys[i + 1:]]
        rated = [p for p in pairs if f.interaction(*p)]
        assert not [p for p in pairs if f.unrated_pair(*p)], t.id
        if t.task_type == "medication_review":
            assert len(rated) == 1 and {c.label for c in t.truth.fields["problem_drugs"]} == {f.drugs[k].name for k in rated[0]}
        elif t.task_type != "interaction_check":
            assert not rated, t.id


def _reveal(task, finding):
    """Call the tool a key finding names on the task and say whether its output shows the finding."""
    match = re.match(r"^(\w+) (\{.*?\}): (.+)$", finding)
    name, args, expected = match.group(1), json.loads(match.group(2)), match.group(3)
    return expected in json.dumps(call_tool(name, args, Encounter(task)), ensure_ascii=False)


def test_every_finding_the_answer_relies_on_is_reachable(tasks):
    for t in tasks:
        assert t.truth.key_findings, t.id
        for finding in t.truth.key_findings:
            assert _reveal(t, finding), (t.id, finding)


# --- grading and agents ------------------------------------------------------------------------------------


def test_structured_answers_score_by_element_and_penalize_extras(tasks):
    t = next(t for t in tasks if t.task_type == "interaction_check" and "recommended_dose" in t.truth.fields)
    right = t.truth.demonstration[-1].arguments
    ep = lambda sub: Episode(task_id=t.id, submissions={"submit_medication_review": sub})  # noqa: E731
    assert score(ep(right), t).terms["outcome"] == 1.0
    padded = {**right, "problem_drugs": right["problem_drugs"] + ["metformin", "aspirin"]}
    assert score(ep(padded), t).terms["outcome"] < 1.0
    wrong_dose = {**right, "recommended_dose": "80 mg daily"}
    assert 0 < score(ep(wrong_dose), t).terms["outcome"] < 1.0
    assert fields_score({"x": ["None"]}, {"x": []}) == 1.0
    # a field's words carry no plan polarity: "avoid" and "contraindicated" are answers here
    verdict = {"action": [Concept(label="avoid")], "severity": [Concept(label="contraindicated")]}
    assert fields_score({"action": "avoid", "severity": "contraindicated"}, verdict) == 1.0
    assert fields_score({"action": "use", "severity": "major"}, verdict) == 0.0
    assert fields_score({"x": "15 mg daily"}, {"x": [Concept(label="15 mg once daily", synonyms=["15 mg daily"])]}) == 1.0


def _sample(tasks, n=3):
    by_type = collections.defaultdict(list)
    for t in tasks:
        by_type[t.task_type].append(t)
    return [t for v in by_type.values() for t in v[:: max(1, len(v) // n)][:n]]


def test_oracle_solves_and_the_scripted_pharmacist_is_a_real_baseline(tasks):
    sample = _sample(tasks, 6)
    env = EncounterEnv(tasks=sample, patient_matcher="lexical")
    oracle = [play(env, OraclePolicy(), seed=0, options={"task_id": t.id})[0]["success"] for t in sample]
    assert all(oracle)
    scripted = [play(env, ScriptedPolicy(), seed=0, options={"task_id": t.id})[0]["success"] for t in tasks]
    assert 0.7 <= sum(scripted) / len(scripted) < 1.0


def test_scripted_pharmacist_never_reads_the_answer(tasks):
    assert_scripted_blind_to_truth(tasks)


def test_knowledge_passages_are_sourced():
    assert_knowledge_is_sourced(DOMAIN)