import pytest

from medgym import get_task, load_tasks
import medgym.rewards
from medgym.episode import CallRecord, Episode
from medgym.rewards import PRESETS, diagnosis_matches, reward_term, score, terms


@pytest.fixture()
def stemi():
    return get_task("cardiology-stemi-000")


def test_diagnosis_matches_by_code_or_synonym(stemi):
    assert diagnosis_matches("something else", "I21.09", stemi)
    assert diagnosis_matches("something else", "i2109", stemi)
    assert diagnosis_matches("Anterior STEMI", None, stemi)
    assert diagnosis_matches("ST-elevation myocardial infarction (I21.3)", None, stemi)
    assert not diagnosis_matches("NSTEMI", "I21.4", stemi)
    assert not diagnosis_matches("non-ST elevation MI", None, stemi)
    assert not diagnosis_matches("", None, stemi)


def episode_with(task, final_tool, arguments, calls=()):
    return Episode(task_id=task.id, turns=3, submissions={final_tool: arguments}, calls=list(calls), terminated=True)


def test_management_outcome_is_the_share_of_concepts_and_negation_counts_as_nothing():
    task = next(t for t in load_tasks(task_type="management") if t.condition == "aortic_dissection")
    good = episode_with(task, "submit_treatment_plan", {"plan": ["IV esmolol", "emergency surgical repair", "avoid heparin"]})
    result = score(good, task, "shaped")
    assert result.terms["outcome"] == 1.0 and result.terms["safety"] == 0.0 and result.success
    harmful = episode_with(task, "submit_treatment_plan", {"plan": ["IV esmolol", "start heparin infusion"]})
    result = score(harmful, task, "shaped")
    assert result.terms["outcome"] == 0.5 and result.terms["safety"] == -1.0 and not result.success


def test_plan_matching_respects_polarity():
    from medgym.rewards import concept_matched
    from medgym.tasks.schema import Concept

    heparin = Concept(label="anticoagulation", synonyms=["heparin"])
    assert concept_matched("start a heparin infusion", heparin)
    assert not concept_matched("avoid heparin", heparin)
    assert not concept_matched("heparin is contraindicated", heparin)
    stop = Concept(label="discontinue serotonergic drugs", synonyms=["stop sertraline", "discontinue ssri"])
    assert concept_matched("Stop sertraline now", stop)
    assert concept_matched("discontinue SSRI", stop)
    assert not concept_matched("continue sertraline", stop)
    bp = Concept(label="lower blood pressure by no more than 25% in the first hour")
    assert concept_matched("Lower blood pressure by no more than 25% in the first hour", bp)


def test_process_efficiency_and_format_terms(stemi):
    calls = [CallRecord(turn=1, name="order_ecg", action_keys=["order_ecg"], cost=1.0),
             CallRecord(turn=2, name="order_lab", valid=False, error="bad"),
             *[CallRecord(turn=3, name="order_imaging", action_keys=["order_imaging:ct_head"], cost=5.0)] * 8]
    ep = episode_with(stemi, "submit_diagnosis", {"diagnosis": "STEMI"}, calls)
    values = score(ep, stemi, "shaped").terms
    assert values["process"] == 0.5  # ECG done, troponin not
    assert values["format"] == -0.25
    assert -1.0 <= values["efficiency"] < -0.5
    assert values["outcome"] == 1.0


def test_terminal_preset_is_outcome_only(stemi):
    ep = episode_with(stemi, "submit_diagnosis", {"diagnosis": "pericarditis"})
    assert score(ep, stemi, "terminal").total == 0.0
    assert PRESETS["terminal"] == {"outcome": 1.0}


def test_a_custom_term_plugs_in(stemi):
    @reward_term("brevity")
    def brevity(episode, task):
        return -0.01 * episode.turns

    try:
        assert "brevity" in terms()
        ep = episode_with(stemi, "submit_diagnosis", {"diagnosis": "STEMI"})
        assert score(ep, stemi, {"outcome": 1.0, "brevity": 1.0}).total == pytest.approx(0.97)
    finally:
        medgym.rewards._TERMS.pop("brevity")
    with pytest.raises(ValueError, match="unknown reward term"):
        score(ep, stemi, {"brevity": 1.0})
    with pytest.raises(ValueError, match="unknown reward preset 'dense'"):
        score(ep, stemi, "dense")
