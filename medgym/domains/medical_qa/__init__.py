"""medical_qa: evidence questions answered by searching the knowledge base and citing passages.

Questions (multiple choice and short answer) are generated from facts the
knowledge base holds: ICD-10-CM codes and their hierarchy, HPO disease ->
phenotype annotations (features, frequencies, inheritance), HPO term
definitions, and MedGym's own condition knowledge. The agent answers with
`submit_answer`; the task also requires that a passage supporting the answer
was retrieved (`passage:<id>` in `required_actions`: by `search_knowledge`,
`get_passage` or the lookup tool that shows the same record). Templates and
their sources are in `templates.yaml`. Held out: ICD-10-CM chapters 6 and 12,
one in eight HPO diseases and terms, one in five MedGym conditions.
"""

from __future__ import annotations

import random
from functools import cache
from typing import Any

from medgym.domains import Domain, register_domain
from medgym.domains.medical_qa import tools  # noqa: F401  (registers the domain's tools)
from medgym.domains.medical_qa.questions import LETTERS, Question, questions, templates
from medgym.encounter import stable_seed
from medgym.tasks.schema import Chart, GroundTruth, Presentation, Task, ToolCall, Vitals

NAME = "medical_qa"
SETTING = "evidence review (no patient present: answer the question)"


def instructions(q: Question) -> str:
    if q.options:
        listed = "\n".join(f"{LETTERS[i]}. {o}" for i, o in enumerate(q.options))
        how = "Answer with the letter of the one correct option."
        return f"{q.stem}\n{listed}\n{how} Search the knowledge base (search_knowledge) or the lookup tools, " \
               "make sure you retrieved the passage that supports your answer, then call submit_answer."
    return f"{q.stem}\nSearch the knowledge base (search_knowledge) or the lookup tools, make sure you retrieved " \
           "the passage that supports your answer, then call submit_answer."


def truth(q: Question) -> GroundTruth:
    if q.options:
        letter = LETTERS[q.options.index(q.answer)]
        answer, accepted = letter, [f"{letter}. {q.answer}", f"{letter}) {q.answer}", q.answer]
    else:
        answer, accepted = q.answer, list(dict.fromkeys(q.accepted))
    name, args = q.lookup
    return GroundTruth(
        final_tool="submit_answer",
        answer=answer,
        accepted_answers=accepted,
        required_actions=[f"passage:{q.passage}"],
        key_findings=[q.fact],
        demonstration=[ToolCall(name=name, arguments=args),
                       ToolCall(name="submit_answer", arguments={"answer": answer, "rationale": f"{q.fact} (passage {q.passage})."})],
    )


def to_task(q: Question, index: int, seed: int) -> Task:
    case_seed = stable_seed(seed, NAME, q.family, index)
    rng = random.Random(case_seed)
    vitals = Vitals(heart_rate=rng.randint(60, 90), systolic_bp=rng.randint(110, 130), diastolic_bp=rng.randint(68, 84),
                    respiratory_rate=rng.randint(12, 18), temperature_c=round(rng.uniform(36.4, 37.1), 1),
                    spo2=rng.randint(96, 99))
    spec = templates()[q.family]
    return Task(
        id=f"{NAME}-{q.family}-{index:03d}",
        domain=NAME,
        task_type="question_answering",
        condition=q.subject,
        split="heldout" if q.heldout else "train",
        instructions=instructions(q),
        presentation=Presentation(age=rng.randint(18, 88), sex=rng.choice(["female", "male"]),
                                  chief_complaint=f"evidence question ({spec['kind'].replace('_', ' ')})",
                                  vitals=vitals, setting=SETTING),
        chart=Chart(extra={"family": q.family, "kind": spec["kind"], "options": q.options, "passage": q.passage}),
        truth=truth(q),
        rationale=f"{q.fact}. Stated in passage {q.passage}, which the lookup {q.lookup[0]}({q.lookup[1]}) also shows.",
        source=spec["source"],
        seed=case_seed,
    )


def generate(seed: int) -> list[Task]:
    counters: dict[str, int] = {}
    tasks = []
    for q in questions(seed):
        i = counters.get(q.family, 0)
        counters[q.family] = i + 1
        tasks.append(to_task(q, i, seed))
    return tasks


@cache
def knowledge_passages() -> tuple[dict[str, Any], ...]:
    """The HPO and ICD-10-CM passages that state the default task set's answers (so the small build answers it)."""
    from medgym.knowledge import corpus, hpo
    from medgym.tasks.generator import DEFAULT_SEED

    out: dict[str, dict[str, Any]] = {}
    for q in questions(DEFAULT_SEED):
        kind, _, key = q.passage.partition(":")
        if kind == "icd10cm":
            passages = [corpus.icd10_passage(key)]
        elif q.passage.startswith("hpo:term:"):
            passages = [corpus.hpo_term_passage(hpo.terms()[q.passage.removeprefix("hpo:term:")])]
        elif q.passage.startswith("hpo:disease:"):  # only the chunk that states the answer keeps the small build small
            chunks = corpus.hpo_disease_passages(hpo.diseases()[q.passage.removeprefix("hpo:disease:")])
            needle = q.subject.split("/")[1] if "/" in q.subject else q.answer
            passages = [next((c for c in chunks if needle in c.text), chunks[0])]
        else:
            continue  # MedGym condition passages come from their own domain
        for p in passages:
            out[p.id] = {"id": p.id, "title": p.title, "text": p.text, "source": p.reference, "domain": NAME}
    return tuple(out.values())


def knowledge() -> list[dict[str, Any]]:
    return [dict(p) for p in knowledge_passages()]


register_domain(
    Domain(
        name=NAME,
        description="Evidence questions (multiple choice and short answer) answered from the knowledge base, with citation.",
        generate=generate,
        knowledge=knowledge,
        workflow="evidence",
        clinical_knowledge=lambda: None,
    )
)
