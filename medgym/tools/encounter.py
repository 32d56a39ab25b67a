"""Encounter tools shared by every domain: history, exam, vitals, orders, submissions.

Tools reveal only what the case holds. A test the case does not specify comes
back normal (drawn from the catalog's reference range), never as an error.
"""

from __future__ import annotations

import difflib
from functools import cache
from importlib import resources
from typing import Any, Literal

import yaml

from medgym.encounter import Encounter
from medgym.tools import catalog
from medgym.tools.registry import ToolError, ToolOutput, tool

BodySystem = Literal[
    "general",
    "heent",
    "neck",
    "cardiovascular",
    "respiratory",
    "abdomen",
    "extremities",
    "neurological",
    "skin",
    "musculoskeletal",
    "lymph_nodes",
    "mental_status",
    "breast",
    "pelvic",
]


@cache
def _normal_exam() -> dict[str, str]:
    return yaml.safe_load(resources.files("medgym.tools").joinpath("data", "exam.yaml").read_text())["normal"]


def _unknown(kind: str, value: str, options: list[str]) -> ToolError:
    close = difflib.get_close_matches(value, options, n=3, cutoff=0.5)
    hint = f" Did you mean {', '.join(close)}?" if close else ""
    return ToolError(f"Unknown {kind} {value!r}.{hint} Options: {', '.join(sorted(options))}.")


@tool(kind="encounter")
def ask_patient(question: str, case: Encounter) -> ToolOutput:
    """Ask the patient a question about their symptoms, history or habits.

    Args:
        question: The question, in plain language, e.g. "Does the pain spread anywhere?"
        case: The running encounter (injected by the environment).
    """
    if not question.strip():
        raise ToolError("The question is empty. Ask the patient something, e.g. \"When did this start?\"")
    reply = case.patient.reply(question)
    return ToolOutput({"patient": reply.text}, [f"ask_patient:{t}" for t in reply.topics] or ["ask_patient"])


@tool(kind="encounter", key_arg="system")
def examine(system: BodySystem, case: Encounter) -> dict[str, Any]:
    """Perform a physical examination of one body system.

    Args:
        system: The body system to examine.
        case: The running encounter (injected by the environment).
    """
    found = [f.finding for f in case.task.chart.exam if f.system == system]
    return {"system": system, "findings": " ".join(found) if found else _normal_exam()[system]}


@tool(kind="encounter")
def read_vitals(case: Encounter) -> dict[str, Any]:
    """Read the patient's current vital signs.

    Args:
        case: The running encounter (injected by the environment).
    """
    v = case.task.presentation.vitals
    out = {
        "heart_rate": f"{v.heart_rate} beats/min",
        "blood_pressure": f"{v.systolic_bp}/{v.diastolic_bp} mmHg",
        "respiratory_rate": f"{v.respiratory_rate} breaths/min",
        "temperature": f"{v.temperature_c:.1f} °C",
        "spo2": f"{v.spo2}% on room air",
    }
    if v.weight_kg is not None:
        out["weight"] = f"{v.weight_kg:g} kg"
    if v.height_cm is not None:
        out["height"] = f"{v.height_cm:g} cm"
    return out


@tool(kind="encounter")
def review_medical_history(case: Encounter) -> dict[str, Any]:
    """Review the patient's past medical and surgical history from the chart.

    Args:
        case: The running encounter (injected by the environment).
    """
    return {"past_medical_history": case.task.chart.past_medical_history or ["No significant past medical history"]}


@tool(kind="encounter")
def review_medications(case: Encounter) -> dict[str, Any]:
    """Review the patient's current medication list from the chart.

    Args:
        case: The running encounter (injected by the environment).
    """
    meds = [" ".join(p for p in (m.name, m.dose, m.frequency) if p) for m in case.task.chart.medications]
    return {"medications": meds or ["No regular medications"]}


@tool(kind="encounter")
def review_allergies(case: Encounter) -> dict[str, Any]:
    """Review the patient's documented allergies.

    Args:
        case: The running encounter (injected by the environment).
    """
    allergies = [f"{a.substance} ({a.reaction})" if a.reaction else a.substance for a in case.task.chart.allergies]
    return {"allergies": allergies or ["No known drug allergies"]}


@tool(kind="encounter", cost=1.0, key_arg="test")
def order_lab(test: str, case: Encounter) -> ToolOutput:
    """Order a laboratory test or panel and get its result with unit and reference range.

    Args:
        test: The test key, e.g. "troponin_t_hs", "d_dimer", or a panel: "cbc", "bmp", "lft", "coags", "abg".
        case: The running encounter (injected by the environment).
    """
    key = test.strip().lower()
    panels = catalog.lab_panels()
    _check_via(key, [spec for t, spec in catalog.labs().items() if t == key or spec.get("panel") == key])
    if key in panels:
        tests = [t for t, spec in catalog.labs().items() if spec.get("panel") == key]
        results = [_lab(t, case) for t in tests]
        return ToolOutput({"panel": panels[key], "results": results}, [f"order_lab:{t}" for t in [key, *tests]])
    if key not in catalog.labs():
        raise _unknown("lab test", test, [*catalog.labs(), *panels])
    return ToolOutput(_lab(key, case), [f"order_lab:{key}"])


def _check_via(key: str, specs: list[dict[str, Any]]) -> None:
    """A result that only a procedure yields (a catalog entry's `via`, e.g. CSF from a lumbar puncture)."""
    from medgym.tools import get_tool

    for spec in specs:
        if spec.get("via"):
            name, _, arg = spec["via"].partition(":")
            args = f'{{"{get_tool(name).key_arg}": "{arg}"}}' if arg else "{}"
            raise ToolError(f"{key!r} is not a test to order: it comes from a procedure. Call {name} with arguments {args}.")


def _lab(test: str, case: Encounter) -> dict[str, Any]:
    result = case.task.chart.labs.get(test) or catalog.normal_lab(test, case.task.presentation.sex, case.rng(test))
    return result.model_dump()


@tool(kind="encounter", cost=3.0, key_arg="study")
def order_imaging(study: str, case: Encounter) -> dict[str, Any]:
    """Order an imaging study and get the radiologist's report.

    Args:
        study: The study key, e.g. "chest_xray", "echocardiogram", "ct_pulmonary_angiography", "ct_head".
        case: The running encounter (injected by the environment).
    """
    key = study.strip().lower()
    if key not in catalog.studies():
        raise _unknown("imaging study", study, list(catalog.studies()))
    _check_via(key, [catalog.studies()[key]])
    report = case.task.chart.imaging.get(key) or catalog.normal_imaging(key)
    return report.model_dump()


@tool(kind="encounter", cost=1.0)
def order_ecg(case: Encounter) -> dict[str, Any]:
    """Record a 12-lead electrocardiogram and get its interpretation.

    Args:
        case: The running encounter (injected by the environment).
    """
    report = case.task.chart.imaging.get("ecg") or catalog.normal_imaging("ecg")
    return report.model_dump()


@tool(kind="submit")
def submit_diagnosis(
    diagnosis: str, case: Encounter, icd10_code: str | None = None, differential: list[str] | None = None
) -> dict[str, Any]:
    """Submit your final diagnosis for this patient.

    Args:
        diagnosis: The diagnosis, e.g. "Acute pericarditis".
        case: The running encounter (injected by the environment).
        icd10_code: The ICD-10-CM code of the diagnosis, e.g. "I30.9".
        differential: Other diagnoses you considered, most likely first.
    """
    return _submit(case, "submit_diagnosis", diagnosis=diagnosis, icd10_code=icd10_code, differential=differential)


@tool(kind="submit")
def submit_treatment_plan(plan: list[str], case: Encounter, diagnosis: str | None = None) -> dict[str, Any]:
    """Submit your management plan for this patient, one item per intervention.

    Args:
        plan: The interventions, e.g. ["aspirin", "primary PCI"].
        case: The running encounter (injected by the environment).
        diagnosis: The diagnosis the plan treats.
    """
    if not plan:
        raise ToolError("The plan is empty. List at least one intervention.")
    return _submit(case, "submit_treatment_plan", plan=plan, diagnosis=diagnosis)


@tool(kind="submit")
def submit_answer(answer: str, case: Encounter, rationale: str | None = None) -> dict[str, Any]:
    """Submit your final answer when the task asks for one (a score, a category, a level or an option).

    Args:
        answer: The answer, e.g. "4" or "ESI 2" or "B".
        case: The running encounter (injected by the environment).
        rationale: A short justification.
    """
    return _submit(case, "submit_answer", answer=answer, rationale=rationale)


def _submit(case: Encounter, name: str, **arguments: Any) -> dict[str, Any]:
    case.submissions[name] = {k: v for k, v in arguments.items() if v is not None}
    return {"status": "received", **case.submissions[name]}
