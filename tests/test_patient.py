from importlib import resources

import yaml

from medgym import get_task
from medgym.patient import DONT_KNOW, NOT_UNDERSTOOD, RuleBasedPatient
from medgym.patient.matching import lexical_match, match, topics

PARAPHRASES = yaml.safe_load(resources.files("medgym.patient").joinpath("data", "paraphrases.yaml").read_text())


def paraphrase_rate(mode: str) -> float:
    return sum(it["topic"] in match(it["q"], mode) for it in PARAPHRASES) / len(PARAPHRASES)


def test_paraphrased_questions_are_understood():
    lexical, hybrid = paraphrase_rate("lexical"), paraphrase_rate("hybrid")
    print(f"paraphrase match rate: lexical {lexical:.2f}, hybrid (MiniLM) {hybrid:.2f} on {len(PARAPHRASES)} questions")
    assert hybrid >= 0.85
    assert hybrid > lexical


def test_patient_answers_from_the_chart_in_lay_language():
    task = get_task("cardiology-acute_pericarditis-003")
    patient = RuleBasedPatient(task, seed=1)
    facts = {f.topic: f for f in task.chart.history}
    reply = patient.reply("Is the pain worse when you breathe in deeply?")
    assert reply.topics == ["pleuritic_pain"] and reply.text == facts["pleuritic_pain"].answer
    reply = patient.reply("Any fever or cough?")
    assert set(reply.topics) >= {"fever"}
    assert facts["fever"].answer in reply.text


def test_patient_never_invents_and_says_when_it_does_not_understand():
    task = get_task("cardiology-stemi-000")
    patient = RuleBasedPatient(task, seed=1, matcher="lexical")
    facts = {f.topic for f in task.chart.history}
    unknown = next(t for t, spec in topics().items() if t not in facts and t != "presenting_complaint" and "chart" not in spec and spec.get("questions")
                   and lexical_match(spec["questions"][0]) == (t,))  # a topic this case says nothing about
    assert patient.reply(topics()[unknown]["questions"][0]).text in DONT_KNOW
    assert patient.reply("zzqx vvrt").text in NOT_UNDERSTOOD
    assert patient.reply("What medicines do you take?").text.startswith("I take ")


def test_patient_is_deterministic_for_a_seed():
    task = get_task("cardiology-stemi-000")
    a = [RuleBasedPatient(task, seed=3).reply(q).text for q in ["qwerty", "asdf", "Any allergies?"]]
    b = [RuleBasedPatient(task, seed=3).reply(q).text for q in ["qwerty", "asdf", "Any allergies?"]]
    assert a == b


def test_generic_opening_question_yields_to_specific_topics():
    assert match("What happens to the pain when you exercise?", "lexical")[0] == "exertional_symptoms"
    assert lexical_match("What brings you in today?") == ("presenting_complaint",)
