"""The medical_qa domain: evidence questions grounded in ICD-10-CM, the HPO and MedGym's condition knowledge."""

import collections
import json

import pytest

from medgym import load_tasks
from medgym.domains import get_domain
from medgym.knowledge import hpo, icd10
from medgym.tools import ToolError, call_tool, list_tools


@pytest.fixture(scope="module")
def qa():
    return load_tasks(domain="medical_qa")


def option_text(task):
    options = task.chart.extra["options"]
    return options["ABCD".index(task.truth.answer)] if options else task.truth.answer


def test_size_families_and_tools(qa):
    assert len(qa) >= 300
    families = collections.Counter(t.chart.extra["family"] for t in qa)
    assert len(families) == 9 and min(families.values()) >= 20
    kinds = {t.chart.extra["kind"] for t in qa}
    assert kinds == {"multiple_choice", "short_answer"}
    own = [t for t in list_tools("medical_qa") if "medical_qa" in t.domains]
    assert len(own) >= 8
    assert "search_knowledge" in {t.name for t in list_tools("medical_qa")}
    assert len({t.id for t in qa}) == len(qa)
    assert len({(t.instructions, t.truth.answer) for t in qa}) == len(qa)  # no two tasks identical
    assert all(t.source for t in qa)


def test_generation_is_seeded():
    d = get_domain("medical_qa")
    a = [t.model_dump_json() for t in d.generate(7)]
    assert a == [t.model_dump_json() for t in d.generate(7)]
    assert a != [t.model_dump_json() for t in d.generate(8)]


def test_heldout_subjects_never_appear_in_training(qa):
    heldout = [t for t in qa if t.split == "heldout"]
    assert len(heldout) >= 20
    train_subjects = {t.condition.split("/")[0] for t in qa if t.split != "heldout"}
    assert not train_subjects & {t.condition.split("/")[0] for t in heldout}
    for t in qa:
        if t.chart.extra["family"].startswith("icd_") and t.split != "heldout":
            assert icd10.chapter_of(t.condition) not in ("6", "12")
    assert {t.split for t in qa} == {"train", "val", "test", "heldout"}


def test_multiple_choice_has_one_correct_option(qa):
    for t in qa:
        options = t.chart.extra["options"]
        if options:
            assert len(options) == 4 and len(set(options)) == 4
            assert t.truth.answer in "ABCD" and option_text(t) in t.truth.accepted_answers
            assert f"{t.truth.answer}. {option_text(t)}" in t.instructions


def test_every_answer_is_in_what_the_tools_return(qa):
    """The oracle's lookup returns the answer and counts as retrieving the supporting passage."""
    from medgym.tools import get_tool
    from medgym.tools.registry import run

    for t in qa:
        lookup = t.truth.demonstration[0]
        out = run(get_tool(lookup.name), dict(lookup.arguments))
        text = json.dumps(out.content, ensure_ascii=False)
        assert option_text(t) in text, (t.id, option_text(t))
        assert t.truth.required_actions[0] in out.action_keys, t.id
        assert t.truth.demonstration[-1].name == "submit_answer"


def test_hpo_facts_match_the_annotation_file():
    from medgym.domains.medical_qa.questions import INHERITANCE

    marfan = hpo.diseases()["OMIM:154700"]
    names = {t.name for t, a in hpo.features(marfan) if not a.excluded}
    assert {"Ectopia lentis", "Arachnodactyly"} <= names
    assert [t.id for t, _ in hpo.features(marfan, "I")] == ["HP:0000006"]
    assert all(hpo.terms()[k].name == v for k, v in INHERITANCE.items())
    assert hpo.frequency_class("7/10") == "HP:0040282" and hpo.frequency_class("1/1") == "HP:0040280"
    assert hpo.frequency_class("3%") == "HP:0040284" and hpo.frequency_class("") is None


def test_tools_give_clear_errors():
    with pytest.raises(ToolError, match="icd10_search"):
        call_tool("icd10_lookup", {"code": "XYZ.99"})
    with pytest.raises(ToolError, match="hpo_search"):
        call_tool("hpo_term", {"term_id": "seizure"})
    with pytest.raises(ToolError, match="disease_search"):
        call_tool("disease_phenotypes", {"disease_id": "OMIM:0"})
    with pytest.raises(ToolError, match="k must be"):
        call_tool("icd10_search", {"text": "diabetes", "k": 500})
    with pytest.raises(ToolError, match="empty"):
        call_tool("hpo_search", {"text": "  "})
    with pytest.raises(ToolError, match="No passage"):
        call_tool("get_passage", {"passage_id": "hpo:term:HP:9999999"})
    assert call_tool("icd10_lookup", {"code": "e119"})["description"] == "Type 2 diabetes mellitus without complications"
    assert call_tool("get_passage", {"passage_id": "icd10cm:E11.9"})["id"] == "icd10cm:E11.9"


def test_small_index_holds_every_supporting_passage(kb, qa):
    from medgym.knowledge import index

    collection = index.open_collection()
    doc_ids = {m["doc_id"] for m in collection.get(include=["metadatas"])["metadatas"]}
    missing = {t.truth.required_actions[0].removeprefix("passage:") for t in qa} - doc_ids
    assert not missing


def test_scripted_clinician_searches_and_cites_with_the_index(kb, qa):
    from medgym.agents import ScriptedPolicy, play
    from medgym.env import EncounterEnv

    sample = qa[::8]
    env = EncounterEnv(tasks=sample, patient_matcher="lexical", reward="shaped")
    policy, wins, cited = ScriptedPolicy(), 0, 0
    for t in sample:
        info, _, _ = play(env, policy, seed=0, options={"task_id": t.id})
        assert env.episode.invalid_calls == 0  # search_knowledge worked against the small index
        assert env.episode.calls[0].name == "search_knowledge"
        wins += info["success"]
        cited += info["reward_terms"]["process"] == 1.0
    assert wins / len(sample) >= 0.7  # the whole domain (70-99%) is checked in test_agents
    assert cited / len(sample) >= 0.9


def test_shared_domain_checks(qa):
    from domain_checks import assert_knowledge_is_sourced, assert_scripted_blind_to_truth, own_tools

    assert len(own_tools("medical_qa")) >= 8
    assert_knowledge_is_sourced("medical_qa")
    assert_scripted_blind_to_truth(qa, per_type=12)
