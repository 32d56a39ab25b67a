"""clinical_diagnosis: history, exam, labs, imaging, diagnosis with ICD-10-CM code, first management.

Each specialty is a YAML file of condition templates in `specialties/`.
"""

from __future__ import annotations

import random
from functools import cache
from importlib import resources
from typing import Any

from medgym.domains import Domain, register_domain
from medgym.domains.casebuilder import build_case
from medgym.domains.clinical_diagnosis import tools
from medgym.domains.conditions import Condition, Specialty, choose, load_specialty
from medgym.encounter import stable_seed
from medgym.tasks.schema import Task

NAME = "clinical_diagnosis"
CASES_PER_CONDITION = 20
TASK_MIX = {"diagnosis": 0.55, "workup": 0.2, "management": 0.25}


@cache
def specialties() -> list[Specialty]:
    """Every specialty file, in name order, checked against the domain's bedside tools."""
    folder = resources.files(__name__).joinpath("specialties")
    loaded = [load_specialty(str(f)) for f in sorted(folder.iterdir(), key=lambda f: f.name) if f.name.endswith(".yaml")]
    for sp in loaded:
        _check_bedside(sp)
    return loaded


def _check_bedside(sp: Specialty) -> None:
    library = tools.bedside()
    for c in sp.conditions:
        unknown = set(c.maneuvers) - set(library["maneuvers"])
        if unknown:
            raise ValueError(f"{sp.name}/{c.id}: unknown bedside maneuver(s) {sorted(unknown)}; see bedside.yaml")
        for test in c.confirm:
            if test.startswith("tool:"):
                _check_action(test[5:], f"{sp.name}/{c.id}")
    for name, w in sp.complaints.items():
        for action in w.tools:
            _check_action(action, f"{sp.name}/complaint {name}")


def _check_action(action: str, where: str) -> None:
    """An action key names a tool of this domain and, where the tool has a key argument, one of its options."""
    from medgym.tools import registered

    name, _, arg = action.partition(":")
    spec = registered().get(name)
    if spec is None or not spec.in_domain(NAME):
        raise ValueError(f"{where}: {action!r} names no tool of {NAME}")
    if arg:
        options = spec.schema["function"]["parameters"]["properties"][spec.key_arg].get("enum")
        if options is not None and arg not in options:
            raise ValueError(f"{where}: {arg!r} is not an option of {name} ({', '.join(options)})")


def complaint_history(condition: Condition) -> list[str]:
    """History topics of every complaint, in any specialty, that the condition's chief complaints name:
    what a clinician may ask such a patient, so the patient can answer it."""
    texts = [cc.lower() for cc in [*condition.chief_complaint, *condition.atypical_chief_complaint]]
    return [
        t
        for sp in specialties()
        for w in sp.complaints.values()
        if any(k in text for k in w.keywords for text in texts)
        for t in w.history
    ]


def _matching(condition: Condition) -> set[tuple[str, str]]:
    """The (specialty, complaint) work-ups that the condition's chief complaints name."""
    texts = [cc.lower() for cc in [*condition.chief_complaint, *condition.atypical_chief_complaint]]
    return {(sp.name, name) for sp in specialties() for name, w in sp.complaints.items()
            if any(k in text for k in w.keywords for text in texts)}


def look_alikes(specialty: Specialty, condition: Condition) -> list[Condition]:
    """Other conditions that present with the same complaint (in any specialty)."""
    mine = _matching(condition) | {(specialty.name, condition.complaint)}
    return [c for sp in specialties() for c in sp.conditions
            if c is not condition and (sp.name, c.complaint) in mine]


def generate(seed: int) -> list[Task]:
    tasks = []
    for specialty in specialties():
        for condition in specialty.conditions:
            extra = complaint_history(condition)
            similar = look_alikes(specialty, condition)
            for i in range(CASES_PER_CONDITION):
                case_seed = stable_seed(seed, NAME, specialty.name, condition.id, i)
                task_type = choose(random.Random(case_seed ^ 0x5EED), TASK_MIX)
                tasks.append(build_case(specialty, condition, task_type, i, case_seed, NAME,
                                        extra_history=extra, look_alikes=similar))
    return tasks


def knowledge() -> list[dict[str, Any]]:
    """One passage per condition and per work-up, for the knowledge base."""
    passages = []
    for sp in specialties():
        for c in sp.conditions:
            features = [sp.findings[f].text for f in c.exam] + [sp.reports[r].impression for v in c.imaging.values() for r in v]
            text = (
                f"{c.name} (ICD-10-CM {c.icd10}). Also called: {', '.join(c.synonyms)}. "
                f"Typical presentation: {c.chief_complaint[0]}. {c.rationale} "
                f"Findings that support it: {' '.join(features)} "
                f"Initial management: {', '.join(sp.management[m].label for m in c.management)}."
                + (f" Avoid: {', '.join(sp.management[m].label for m in c.contraindicated)}." if c.contraindicated else "")
            )
            passages.append({"id": f"medgym:{NAME}:{sp.name}:{c.id}", "title": c.name, "text": text,
                             "source": c.source, "domain": NAME})
    return passages


register_domain(
    Domain(
        name=NAME,
        description="Internal-medicine diagnosis: history, examination, tests, diagnosis and first management.",
        generate=generate,
        knowledge=knowledge,
        workflow="diagnostic",
        clinical_knowledge=specialties,
    )
)
