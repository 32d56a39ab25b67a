"""The psychiatric interview's own tools: the mental status examination, validated
questionnaires (the patient's own answers), the CIWA-Ar observations, the records and
people a psychiatrist consults, and point-of-care checks.

Questionnaires return the options the patient chose, never points or a band; scoring is
the calculators' job (or the clinician's, with `instrument_reference`).
"""

from __future__ import annotations

from typing import Any, Literal

from medgym.domains.psychiatry.cases import NAME, NORMAL_COGNITION, NORMAL_MSE, instruments
from medgym.encounter import Encounter
from medgym.tools.registry import ToolError, tool

Questionnaire = Literal["phq9", "gad7", "audit_c", "cssrs"]
CSSRS_BEHAVIOR = {
    "none": "No.",
    "lifetime": "Yes - more than 3 months ago.",
    "past_3_months": "Yes - within the past 3 months.",
}


def _extra(case: Encounter, key: str, default: Any) -> Any:
    return case.task.chart.extra.get(key, default)


@tool(domain=NAME)
def mental_status_exam(case: Encounter) -> dict[str, Any]:
    """Examine the mental state: appearance, behavior, speech, mood (in the patient's words), affect,
    thought process, thought content (including suicidal and homicidal ideation), perception, cognition,
    insight and judgment.

    Args:
        case: The running encounter (injected by the environment).
    """
    return dict(_extra(case, "mse", NORMAL_MSE))


@tool(domain=NAME, key_arg="instrument")
def administer_questionnaire(instrument: Questionnaire, case: Encounter) -> dict[str, Any]:
    """Administer a validated questionnaire and record the patient's answer to each item: PHQ-9 (depression),
    GAD-7 (anxiety), AUDIT-C (alcohol use) or the C-SSRS screen (suicidal ideation and behavior).

    Args:
        instrument: Which questionnaire to administer.
        case: The running encounter (injected by the environment).
    """
    spec = instruments()[instrument]
    responses = _extra(case, "instruments", {}).get(instrument)
    if responses is None:
        raise ToolError(f"The patient cannot complete the {spec['name']} now.")
    if instrument == "cssrs":
        items = []
        for item in spec["items"]:
            if item["id"] == "behavior":
                answer = CSSRS_BEHAVIOR[str(responses.get("behavior", "none"))]
            elif item["id"] in ("method", "intent", "plan") and not responses.get("suicidal_thoughts"):
                answer = "Not asked (question 2 was answered no)."
            else:
                answer = "Yes." if responses.get(item["id"]) else "No."
            items.append({"question": item["text"], "answer": answer})
        return {"instrument": spec["name"], "items": items}
    if instrument == "audit_c":
        items = [{"question": item["text"], "answer": r} for item, r in zip(spec["items"], responses)]
    else:
        items = [{"question": q, "answer": r} for q, r in zip(spec["items"], responses)]
    return {"instrument": spec["name"], "stem": spec.get("stem", ""), "items": items}


@tool(domain=NAME)
def assess_alcohol_withdrawal(case: Encounter) -> dict[str, Any]:
    """Rate the ten CIWA-Ar items by observing and asking the patient: nausea and vomiting, tremor, paroxysmal
    sweats, anxiety, agitation, tactile, auditory and visual disturbances, headache, and orientation.

    Args:
        case: The running encounter (injected by the environment).
    """
    spec = instruments()["ciwa_ar"]["items"]
    scores = _extra(case, "instruments", {}).get("ciwa_ar") or {k: 0 for k in spec}
    return {"instrument": "CIWA-Ar", "observations": {item: spec[item][scores[item]] for item in spec}}


@tool(domain=NAME)
def review_psychiatric_history(case: Encounter) -> dict[str, Any]:
    """Review the psychiatric record: previous diagnoses, admissions, suicide attempts, treatments tried,
    and family psychiatric history.

    Args:
        case: The running encounter (injected by the environment).
    """
    return dict(_extra(case, "psych_history", {"diagnoses": "No prior psychiatric diagnosis."}))


@tool(domain=NAME)
def obtain_collateral_history(case: Encounter) -> dict[str, Any]:
    """Speak with a family member or friend (with the patient's consent) for their account of the illness.

    Args:
        case: The running encounter (injected by the environment).
    """
    return {"collateral": _extra(case, "collateral", "No family member or friend is available to speak with.")}


@tool(domain=NAME)
def assess_suicide_risk_factors(case: Encounter) -> dict[str, Any]:
    """Assess suicide risk and protective factors, including access to lethal means (firearms, stockpiled
    medication).

    Args:
        case: The running encounter (injected by the environment).
    """
    return dict(_extra(case, "risk_factors", {"risk_factors": ["None identified."], "protective": [], "lethal_means": ["None reported."]}))


@tool(domain=NAME)
def check_prescription_monitoring(case: Encounter) -> dict[str, Any]:
    """Query the prescription drug monitoring program (PDMP) for the patient's controlled-substance
    prescriptions in the past 12 months.

    Args:
        case: The running encounter (injected by the environment).
    """
    return {"pdmp": _extra(case, "pdmp", ["No controlled substance prescriptions in the past 12 months."])}


@tool(domain=NAME, cost=0.2)
def breath_alcohol_test(case: Encounter) -> dict[str, Any]:
    """Measure breath alcohol concentration with a breathalyzer.

    Args:
        case: The running encounter (injected by the environment).
    """
    return {"breath_alcohol": f"{_extra(case, 'brac', 0.0):.3f} g/dL"}


@tool(domain=NAME)
def cognitive_screen(case: Encounter) -> dict[str, Any]:
    """Screen cognition at the bedside: orientation, attention (months of the year backwards) and recall of
    three words; the nursing record notes how the picture has changed over time.

    Args:
        case: The running encounter (injected by the environment).
    """
    return dict(_extra(case, "cognition", NORMAL_COGNITION))


@tool(domain=NAME, kind="knowledge")
def instrument_reference(instrument: Literal["phq9", "gad7", "audit_c", "cssrs", "ciwa_ar"]) -> dict[str, Any]:
    """Look up a psychiatric instrument: its items, response options with their points, and its published
    interpretation (severity bands, cut-offs or triage points) with the source.

    Args:
        instrument: The instrument to look up.
    """
    return dict(instruments()[instrument])
