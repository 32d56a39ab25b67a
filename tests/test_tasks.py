import collections
import filecmp
from pathlib import Path

import pytest
import simple_icd_10_cm as icd
import yaml

import medgym.domains
from medgym import DOMAINS, get_task, load_tasks
from medgym.tasks.generator import DEFAULT_SEED, generate, write
from medgym.tasks.schema import Task
from medgym.tasks.store import TASK_DIR
from medgym.tools import catalog


def test_regeneration_is_byte_identical(tmp_path):
    write(generate(DEFAULT_SEED), tmp_path, DEFAULT_SEED)
    committed = sorted(p.name for p in TASK_DIR.iterdir())
    assert committed == sorted(p.name for p in tmp_path.iterdir())
    for name in committed:
        assert filecmp.cmp(TASK_DIR / name, tmp_path / name, shallow=False), f"{name} differs from a fresh generation"


def test_another_seed_gives_other_cases():
    a = generate(DEFAULT_SEED, ["clinical_diagnosis"])["clinical_diagnosis"]
    b = generate(DEFAULT_SEED + 1, ["clinical_diagnosis"])["clinical_diagnosis"]
    assert [t.id for t in a] == [t.id for t in b]
    assert sum(x.presentation != y.presentation for x, y in zip(a, b)) > len(a) * 0.9


def test_cardiology_is_complete(tasks):
    cardio = [t for t in tasks if t.specialty == "cardiology"]
    assert len(cardio) >= 300
    assert len({t.condition for t in cardio}) >= 12
    assert {t.split for t in cardio} >= {"train", "val", "test"}
    assert {t.task_type for t in cardio} >= {"diagnosis", "management", "workup"}


def test_every_task_is_well_formed(tasks):
    seen = set()
    for t in tasks:
        assert t.domain in DOMAINS
        if t.truth.icd10:
            assert icd.is_valid_item(t.truth.icd10) and icd.is_leaf(t.truth.icd10), f"{t.id}: {t.truth.icd10}"
            for code in t.truth.accepted_codes:
                assert icd.is_valid_item(code), f"{t.id}: accepted code {code}"
        for key, lab in t.chart.labs.items():
            assert key in catalog.labs() and lab.test == key
            expected = catalog.lab_result(key, lab.value, t.presentation.sex)
            assert (lab.flag, lab.reference_range, lab.unit) == (expected.flag, expected.reference_range, expected.unit)
        assert t.source and t.rationale
        assert t.truth.demonstration[-1].name == t.truth.final_tool
        fingerprint = t.model_dump_json(exclude={"id", "seed"})
        assert fingerprint not in seen, f"{t.id} duplicates another task"
        seen.add(fingerprint)


def test_abnormal_findings_the_answer_relies_on_are_reachable(tasks):
    """Every abnormal lab or study in a chart can be ordered through a tool."""
    for t in tasks:
        for study in t.chart.imaging:
            assert study == "ecg" or study in catalog.studies()
        for f in t.chart.exam:
            assert f.system in {"general", "heent", "neck", "cardiovascular", "respiratory", "abdomen", "extremities",
                                "neurological", "skin", "musculoskeletal", "lymph_nodes", "mental_status", "breast",
                                "pelvic"}


def test_load_tasks_filters():
    train = load_tasks(split="train", domain="clinical_diagnosis")
    assert train and all(t.split == "train" and t.domain == "clinical_diagnosis" for t in train)
    mgmt = load_tasks(task_type="management")
    assert mgmt and all(t.task_type == "management" for t in mgmt)
    shares = collections.Counter(t.split for t in load_tasks() if t.split != "heldout")  # held-out conditions stand apart
    total = sum(shares.values())
    assert 0.6 < shares["train"] / total < 0.8


def test_bad_filters_and_ids_are_named():
    with pytest.raises(ValueError, match="unknown split 'dev'"):
        load_tasks(split="dev")
    with pytest.raises(ValueError, match="unknown domain 'cardiology'"):
        load_tasks(domain="cardiology")
    with pytest.raises(KeyError, match="unknown task id 'cardiology-stemi-999'"):
        get_task("cardiology-stemi-999")


def test_task_round_trips_through_json(tasks):
    t = tasks[0]
    assert Task.model_validate_json(t.model_dump_json()) == t


def test_template_references_are_checked_by_name():
    """`casekit.check_references` (the domain template files' checks) names the template and the first
    reference to something that does not exist."""
    from medgym.domains import casekit
    from medgym.patient.matching import topics
    from medgym.tools import catalog

    topic = next(name for name, spec in topics().items() if spec.get("values"))
    value = next(iter(topics()[topic]["values"]))
    good = dict(management=["fluids"], history={topic: {value: 1.0}}, labs=[next(iter(catalog.labs()))],
                studies=[next(iter(catalog.studies()))])
    casekit.check_references("t-1", {"fluids"}, **good)
    for bad, words in ((dict(management=["leeches"]), "t-1: unknown management concept 'leeches'"),
                       (dict(history={"no_such_topic": True}), "unknown history topic 'no_such_topic'"),
                       (dict(history={topic: {"no_such_value": 1.0}}), "['no_such_value'] are not in the topic file"),
                       (dict(labs=["no_such_lab"]), "unknown lab 'no_such_lab'"),
                       (dict(studies=["no_such_study"]), "unknown imaging study 'no_such_study'")):
        with pytest.raises(ValueError) as err:
            casekit.check_references("t-1", {"fluids"}, **{**good, **bad})
        assert words in str(err.value)


def _statements() -> dict[tuple[str, str], set[str]]:
    """Every chief complaint or opening statement in the domain data that says what it tells: (its
    domain, its words) -> the yes/no history topics it reports as present."""
    told: dict[tuple[str, str], set[str]] = collections.defaultdict(set)

    def walk(domain, node):
        if isinstance(node, dict):
            if "text" in node and "states" in node:
                told[domain, node["text"]] |= set(node["states"])
            for v in node.values():
                walk(domain, v)
        elif isinstance(node, list):
            for v in node:
                walk(domain, v)

    root = Path(medgym.domains.__file__).parent
    for f in sorted(root.rglob("*.yaml")):
        walk(f.relative_to(root).parts[0], yaml.safe_load(f.read_text()))
    return told


def test_the_patient_never_denies_what_they_came_in_with(tasks):
    """A symptom the chief complaint or the opening statement reports is present when the patient is asked."""
    told = _statements()
    assert len(told) > 200
    checked = collections.Counter()
    for t in tasks:
        if not t.presentation or not t.chart:
            continue
        present = {f.topic for f in t.chart.history if f.value is True}
        for said in ((t.domain, t.presentation.chief_complaint), (t.domain, t.presentation.opening_statement)):
            if said in told:
                assert told[said] <= present, (t.id, said, told[said] - present)
                checked[t.domain] += 1
    assert {"clinical_diagnosis", "psychiatry", "triage_emergency"} <= set(checked)
    assert checked["clinical_diagnosis"] > 1000


def test_psychiatry_and_triage_refuse_what_they_would_ignore():
    """Their complaints are chosen by what they state; an onset or the patient's own words given there
    would be ignored, so the template is rejected instead."""
    from pydantic import ValidationError

    from medgym.domains.psychiatry.cases import Layer as PsychiatryLayer
    from medgym.domains.triage_emergency.cases import Layer as TriageLayer

    for layer in (PsychiatryLayer, TriageLayer):
        assert layer.model_validate({"complaints": [{"text": "low mood", "states": ["fatigue"]}]})
        with pytest.raises(ValidationError, match="states only, not its onset or answers"):
            layer.model_validate({"opening": [{"text": "It began today.", "onset": "hours"}]})
