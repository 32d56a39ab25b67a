"""clinical_diagnosis: history, exam, labs, imaging, diagnosis with ICD-10-CM code, first management.

Each specialty is a YAML file of condition templates in `specialties/` (eight internal-medicine
specialties); every task carries its specialty, and conditions marked `heldout` form the held-out
split. Task types: diagnosis, workup, management, and risk_stratification for conditions with a
published score (`risk.py`). The domain's own tools (bedside maneuvers, orthostatic vitals,
point-of-care tests, procedures, biopsies, earlier results, consults, a reference look-up) are in
`tools.py`, with their data in `bedside.yaml`.
"""

from __future__ import annotations

import random
from functools import cache
from importlib import resources
from typing import Any

from medgym.domains import Domain, register_domain
from medgym.domains.casebuilder import build_case
from medgym.domains.clinical_diagnosis import risk, tools
from medgym.domains.conditions import Condition, Specialty, choose, load_specialty, text_of
from medgym.encounter import stable_seed
from medgym.tasks.schema import Task

NAME = "clinical_diagnosis"
CASES_PER_CONDITION = 20
TASK_MIX = {"diagnosis": 0.55, "workup": 0.2, "management": 0.25}
RISK_TASK_MIX = {"diagnosis": 0.45, "workup": 0.15, "management": 0.2, "risk_stratification": 0.2}  # a condition with a score


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
        unknown = set(c.risk_scores) - set(risk.SCORES)
        if unknown:
            raise ValueError(f"{sp.name}/{c.id}: no risk score for {sorted(unknown)}; the scores are {', '.join(risk.SCORES)}")
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


def complaint_history(chief_complaint: str) -> list[str]:
    """History topics of every complaint, in any specialty, that a chief complaint names:
    what a clinician may ask such a patient, so the patient can answer it."""
    text = chief_complaint.lower()
    return [t for sp in specialties() for w in sp.complaints.values() if any(k in text for k in w.keywords) for t in w.history]


def _matching(condition: Condition) -> set[tuple[str, str]]:
    """The (specialty, complaint) work-ups that the condition's chief complaints name."""
    texts = [text_of(cc).lower() for cc in [*condition.chief_complaint, *condition.atypical_chief_complaint]]
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
            similar = look_alikes(specialty, condition)
            for i in range(CASES_PER_CONDITION):
                case_seed = stable_seed(seed, NAME, specialty.name, condition.id, i)
                task_rng = random.Random(case_seed ^ 0x5EED)
                task_type = choose(task_rng, RISK_TASK_MIX if condition.risk_scores else TASK_MIX)
                base_type = "diagnosis" if task_type == "risk_stratification" else task_type
                task = build_case(specialty, condition, base_type, i, case_seed, NAME, extra_history=complaint_history, look_alikes=similar)
                if task_type == "risk_stratification":
                    task = risk_task(task, risk.SCORES[task_rng.choice(condition.risk_scores)])
                tasks.append(task)
    return tasks


class ChartFindings:
    """A case's findings as a score reads them, taken through the tools (what an agent would see)."""

    def __init__(self, task: Task) -> None:
        from medgym.encounter import Encounter

        self.task, self.case = task, Encounter(task)
        p = task.presentation
        self.age, self.sex = p.age, p.sex
        self.vitals = {k: float(getattr(p.vitals, k)) for k in ("heart_rate", "systolic_bp", "diastolic_bp",
                                                                 "respiratory_rate", "temperature_c", "spo2")}

    def lab(self, test: str) -> float | str | None:
        from medgym.tools import call_tool

        return call_tool("order_lab", {"test": test}, self.case)["value"]

    def symptom(self, topic: str) -> bool | None:
        facts = {f.topic: f.value for f in self.task.chart.history}
        value = facts.get(topic)
        return value if isinstance(value, bool) else None

    def exam(self, system: str) -> str:
        from medgym.tools import call_tool

        return call_tool("examine", {"system": system}, self.case)["findings"]

    def has_history(self, *words: str) -> bool:
        text = " ".join(self.task.chart.past_medical_history).lower()
        return any(w in text for w in words)


def risk_task(task: Task, score: risk.RiskScore) -> Task:
    """Turn a case into a risk-stratification task: the answer is `score` computed from the case's own findings.

    The chart is completed with whatever the score needs (a normal result for a test the case does not
    set, a pertinent negative for a symptom the patient could not say), so the answer is determined."""
    from medgym.domains.casebuilder import call_for
    from medgym.encounter import Encounter
    from medgym.patient.matching import topics
    from medgym.tasks.schema import HistoryFact, ToolCall
    from medgym.tools import call_tool, catalog

    task = task.model_copy(deep=True)
    chart, sex = task.chart, task.presentation.sex
    case = Encounter(task)
    for test in score.labs:
        if test not in chart.labs:
            chart.labs[test] = catalog.normal_lab(test, sex, case.rng(test))
    known = {f.topic for f in chart.history}
    for topic in score.topics:
        if topic not in known:
            spec = topics()[topic]
            chart.history.append(HistoryFact(topic=topic, value=False, answer=spec["absent"][0], category=spec["category"]))
    arguments = score.arguments(ChartFindings(task))
    result = call_tool(score.tool, arguments)
    answer = risk.answer_text(result[score.answer_key])
    calls = [ToolCall(name="read_vitals")]
    for action in score.needs:
        name, _, key = action.partition(":")
        if name == "ask_patient":
            calls.append(ToolCall(name=name, arguments={"question": topics()[key]["questions"][0]}))
        elif action != "read_vitals":
            calls.append(call_for(action))
    calls += [ToolCall(name=score.tool, arguments=arguments), ToolCall(name="submit_answer", arguments={"answer": answer})]
    task.task_type = "risk_stratification"
    task.instructions = risk.instructions(score)
    task.truth = task.truth.model_copy(update={
        "final_tool": "submit_answer", "answer": answer,
        "accepted_answers": [f"{answer} {score.unit}", f"{score.name} {answer}", f"{score.name} {answer} {score.unit}"],
        "required_actions": [a for a in score.needs if a != "read_vitals"] + [score.tool],
        "demonstration": calls})
    task.rationale = f"{task.rationale} {score.name}: {answer} {score.unit} ({score.tool} with {arguments})."
    return task


def knowledge() -> list[dict[str, Any]]:
    """One passage per condition and per work-up, for the knowledge base."""
    passages = []
    for sp in specialties():
        for c in sp.conditions:
            features = [sp.findings[f].text for f in c.exam] + [sp.reports[r].impression for v in c.imaging.values() for r in v]
            text = (
                f"{c.name} (ICD-10-CM {c.icd10}). Also called: {', '.join(c.synonyms)}. "
                f"Typical presentation: {text_of(c.chief_complaint[0])}. {c.rationale} "
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
