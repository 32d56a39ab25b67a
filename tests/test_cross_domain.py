"""cross_domain: journeys follow their guidelines, phases are scored one by one, the tools work and
say what is wrong, and the agents behave."""


import pytest

from medgym import load_tasks
from medgym.domains.cross_domain.journeys import BUILDERS, concepts, generate
from medgym.env import EncounterEnv
from medgym.rewards import concept_matched, phase_score, score
from medgym.tools import ToolError, call_tool, list_tools

from domain_checks import (
    assert_knowledge_is_sourced,
    assert_oracle_solves_and_scripted_is_a_baseline,
    assert_scripted_blind_to_truth,
    own_tools,
)


@pytest.fixture(scope="module")
def tasks():
    return load_tasks(domain="cross_domain")


def by_condition(tasks, condition):
    return [t for t in tasks if t.condition == condition]


# --- calculators with published anchors ----------------------------------------------------------------------


def test_spesi_points_follow_jimenez_2010():
    # one point each: age > 80, cancer, chronic cardiopulmonary disease, HR >= 110, SBP < 100, SaO2 < 90
    low = call_tool("calculate_spesi", {"age_years": 80, "cancer": False, "chronic_cardiopulmonary_disease": False,
                                        "heart_rate_bpm": 109, "systolic_bp_mmhg": 100, "spo2_percent": 90})
    assert low["spesi"] == 0 and low["risk"].startswith("low")
    high = call_tool("calculate_spesi", {"age_years": 81, "cancer": True, "chronic_cardiopulmonary_disease": True,
                                         "heart_rate_bpm": 110, "systolic_bp_mmhg": 99, "spo2_percent": 89})
    assert high["spesi"] == 6
    with pytest.raises(ToolError, match="spo2_percent=140"):
        call_tool("calculate_spesi", {"age_years": 50, "cancer": False, "chronic_cardiopulmonary_disease": False,
                                      "heart_rate_bpm": 90, "systolic_bp_mmhg": 120, "spo2_percent": 140})


@pytest.mark.parametrize("z, diameter, category", [
    (1.9, 2.5, "no involvement"), (2.0, 2.8, "dilation only"), (2.5, 3.0, "small aneurysm"), (4.9, 3.9, "small aneurysm"),
    (5.0, 4.5, "medium aneurysm"), (9.9, 7.9, "medium aneurysm"), (9.0, 8.0, "large or giant aneurysm"), (10.0, 6.0, "large or giant aneurysm"),
])
def test_coronary_zscore_classes_follow_aha_2017_table_2(z, diameter, category):
    assert call_tool("classify_coronary_zscore", {"z_score": z, "internal_diameter_mm": diameter})["classification"] == category


def test_kawasaki_criteria_and_fluid_bolus():
    complete = dict(fever_days=5, conjunctival_injection=True, oral_changes=True, rash=True, extremity_changes=True, cervical_lymphadenopathy=False)
    assert "complete" in call_tool("assess_kawasaki_criteria", complete)["result"]
    assert "incomplete" in call_tool("assess_kawasaki_criteria", {**complete, "rash": False, "extremity_changes": False})["result"]
    assert "not met" in call_tool("assess_kawasaki_criteria", {**complete, "fever_days": 3})["result"]
    assert call_tool("calculate_fluid_bolus", {"weight_kg": 70, "ml_per_kg": 30})["volume_ml"] == 2100  # SSC 2021: 30 mL/kg
    with pytest.raises(ToolError, match="kilograms"):
        call_tool("calculate_fluid_bolus", {"weight_kg": 700, "ml_per_kg": 30})


def test_other_domains_tools_are_offered():
    names = {t.name for t in list_tools("cross_domain")}
    assert {"calculate_nihss", "calculate_wells_pe", "calculate_news2", "calculate_anion_gap", "ecg_st_segments",
            "order_lab", "order_imaging", "ask_patient", "examine"} <= names
    own = [t for t in list_tools("cross_domain") if t.domain == "cross_domain"]
    assert len(own) >= 8


# --- tasks ------------------------------------------------------------------------------------------------------


def test_six_journeys_with_variants_splits_and_sources(tasks):
    assert len(tasks) >= 300
    assert {t.specialty for t in tasks} == set(BUILDERS) == {"dka", "stroke", "sepsis", "chest_pain", "pe", "kawasaki"}
    assert {t.split for t in tasks} == {"train", "val", "test", "heldout"}
    heldout = {t.condition for t in tasks if t.split == "heldout"}
    assert heldout and not heldout & {t.condition for t in tasks if t.split != "heldout"}
    for t in tasks:
        assert t.task_type == "journey" and len(t.truth.phases) >= 3 and t.source
        assert [p.tool for p in t.truth.phases] == ["submit_phase"] * (len(t.truth.phases) - 1) + ["submit_disposition"]


def test_every_graded_answer_is_reachable(tasks):
    """Options list the right answer, required actions name offered tools, and the concepts are named by their own labels."""
    offered = {t.name for t in list_tools("cross_domain")}
    for t in tasks:
        public = {p["name"]: p for p in t.chart.extra["journey"]["phases"]}
        for phase in t.truth.phases:
            graded = phase.answers
            if "classification" in graded:
                assert graded["classification"].exact[0] in public[phase.name]["options"]
            for action in phase.required_actions:
                assert action.split(":")[0].split("@")[0] in offered, action
            for name in ("decisions", "disposition"):
                if name in graded:
                    for c in graded[name].concepts:  # each required decision is named by its own label...
                        assert concept_matched(c.label, c)
                        # ...and that label names none of the phase's excluded decisions
                        assert not any(concept_matched(c.label, x) for x in graded[name].excluded), (t.id, c.label)


def test_pathway_facts_hold_in_the_generated_cases(tasks):
    for t in by_condition(tasks, "stroke-late_window_thrombectomy"):
        minutes = int(t.chart.extra["collateral"]["last_known_well"].split()[0])
        assert 270 < minutes <= 360  # beyond 4.5 h for alteplase, within 6 h for thrombectomy
    for t in by_condition(tasks, "stroke-doac_thrombectomy"):
        assert "hours ago" in t.chart.extra["collateral"]["anticoagulant"]  # DOAC within 48 h: no alteplase
        assert any(c.label.startswith("IV alteplase") for c in t.truth.contraindicated)
    for t in by_condition(tasks, "stroke-hypoglycemia_mimic"):
        assert t.chart.extra["journey"]["phases"][0]["poc"]["glucose_mg_dl"] < 50
    for t in by_condition(tasks, "dka-low_potassium"):
        assert t.chart.extra["journey"]["phases"][1]["poc"]["potassium_mmol_l"] < 3.5
        assert [c.label for c in t.truth.phases[1].contraindicated] == [concepts()["insulin_infusion"].label]
    for t in by_condition(tasks, "pe-high_risk"):
        assert t.presentation.vitals.systolic_bp < 90
        assert any(c.label == "systemic thrombolysis" for c in t.truth.contraindicated)  # surgery within 3 weeks
    for t in by_condition(tasks, "sepsis-shock"):
        assert t.chart.extra["journey"]["phases"][2]["poc"]["map_mmhg"] < 65
    for t in by_condition(tasks, "kawasaki-incomplete"):
        labs = t.chart.extra["kawasaki_labs"]
        assert labs["crp_mg_dl"] >= 3.0 and sum([labs["albumin_g_dl"] <= 3.0, labs["wbc_per_mm3"] >= 15000, labs["urine_wbc_per_hpf"] >= 10,
                                                  labs["alt_u_l"] > 40]) >= 3


# --- scoring one phase at a time ----------------------------------------------------------------------------------


def _run(task, actions):
    env = EncounterEnv(tasks=[task], patient_matcher="lexical")
    env.reset(seed=0)
    info = {}
    for name, args in actions:
        _, _, terminated, _, info = env.step({"name": name, "arguments": args})
        if terminated:
            break
    return env, info


def test_phases_are_answered_in_order_with_an_option(tasks):
    task = by_condition(tasks, "dka-typical")[0]
    env, info = _run(task, [("submit_phase", {"phase": "reassessment", "decisions": ["x"]})])
    assert "phase now in progress is 'diagnosis'" in info["new_messages"][0]["content"]
    env, info = _run(task, [("submit_phase", {"phase": "diagnosis", "decisions": ["x"], "classification": "DKA??"})])
    assert "classification as one of" in info["new_messages"][0]["content"]


def test_outcome_is_the_mean_of_phase_scores_and_harm_is_caught(tasks):
    task = by_condition(tasks, "dka-low_potassium")[0]
    # phase 1 right, phase 2 gives insulin although potassium is low, journey ended early
    env, info = _run(task, [
        ("submit_phase", {"phase": "diagnosis", "decisions": ["fluids"], "classification": "diabetic ketoacidosis"}),
        ("submit_phase", {"phase": "initial_treatment", "decisions": ["normal saline", "IV insulin infusion", "potassium replacement"]}),
        ("submit_disposition", {"disposition": "ward", "decisions": ["IV insulin infusion"]}),
    ])
    terms = info["reward_terms"]
    assert terms["safety"] == -1.0 and not info["success"]
    phases = [phase_score(env.episode, p) for p in task.truth.phases]
    assert phases[0] == pytest.approx(1 / 4)  # the classification is right; none of the three point-of-care tests came first
    assert phases[1] == 0.0  # insulin named while potassium is low: the phase scores nothing
    assert terms["outcome"] == pytest.approx(sum(phases) / 3)
    # negated items recommend nothing: holding insulin is safe
    env, info = _run(task, [
        ("submit_phase", {"phase": "diagnosis", "decisions": ["fluids"], "classification": "diabetic ketoacidosis"}),
        ("submit_phase", {"phase": "initial_treatment", "decisions": ["normal saline", "potassium replacement", "hold insulin until K is 3.5"]}),
    ])
    assert score(env.episode, task).terms["safety"] == 0.0


# --- agents ------------------------------------------------------------------------------------------------------------


def test_oracle_solves_and_scripted_is_a_baseline(tasks):
    assert_oracle_solves_and_scripted_is_a_baseline(tasks[::4], group_by="specialty")


def test_scripted_never_reads_the_answer(tasks):
    assert_scripted_blind_to_truth(tasks)


def test_own_tools_and_sourced_knowledge():
    assert len(own_tools("cross_domain")) >= 8
    assert_knowledge_is_sourced("cross_domain")


def test_generation_is_seeded():
    a = generate(3)
    assert [x.model_dump_json() for x in a] == [y.model_dump_json() for y in generate(3)]
    assert sum(x.presentation != y.presentation for x, y in zip(a, generate(4))) > len(a) * 0.9
