"""The emergency department's own tools: the bedside assessments a triage nurse and an
emergency physician make, a toxicology reference, and the nomogram for acetaminophen.

Each tool reveals what the case holds (or a normal result); none states a triage level,
a diagnosis or a disposition.
"""

from __future__ import annotations

from typing import Any, Literal

from medgym.domains.triage_emergency.cases import NAME, NORMAL_TOX, Protocol, toxicology
from medgym.domains.triage_emergency.scores import rumack_matthew_line
from medgym.encounter import Encounter
from medgym.tools.registry import ToolError, tool

Toxidrome = Literal[
    "opioid", "sympathomimetic", "anticholinergic", "cholinergic", "sedative_hypnotic", "serotonin",
    "acetaminophen", "salicylate", "tricyclic_antidepressant", "calcium_channel_blocker", "beta_blocker",
    "digoxin", "carbon_monoxide",
]


@tool(domain=NAME)
def primary_survey(case: Encounter) -> dict[str, Any]:
    """Do the rapid primary survey (ABCDE): airway, breathing, circulation, disability (AVPU) and exposure.

    Args:
        case: The running encounter (injected by the environment).
    """
    return dict(case.task.chart.extra.get("primary_survey") or {"note": "Primary survey unremarkable."})


@tool(domain=NAME, cost=0.2)
def point_of_care_glucose(case: Encounter) -> dict[str, Any]:
    """Check a fingerstick (point-of-care) blood glucose.

    Args:
        case: The running encounter (injected by the environment).
    """
    value = case.task.chart.extra.get("poc_glucose")
    if value is None:
        value = round(case.rng("poc_glucose").uniform(82, 138))
    return {
        "glucose": f"{value} mg/dL",
        "reference": "below 70 mg/dL is hypoglycemia; below 54 mg/dL is clinically significant (ADA Standards of Care 2024)",
    }


@tool(domain=NAME)
def pain_scale(case: Encounter) -> dict[str, Any]:
    """Ask the patient to rate their pain on the 0-10 numeric rating scale.

    Args:
        case: The running encounter (injected by the environment).
    """
    extra = case.task.chart.extra
    if extra.get("unable_to_answer"):
        return {"pain_score": "unable to rate: the patient cannot communicate"}
    score = extra.get("pain_score")
    return {"pain_score": f"{score}/10" if score is not None else "0/10 (denies pain)"}


@tool(domain=NAME)
def review_prehospital_report(case: Encounter) -> dict[str, Any]:
    """Read the paramedics' handover or the bystanders' account of how the patient arrived.

    Args:
        case: The running encounter (injected by the environment).
    """
    extra = case.task.chart.extra
    return {"arrival": extra.get("arrival", "walk-in"), "report": extra.get("prehospital", "Walked in to triage; no prehospital care.")}


@tool(domain=NAME)
def toxidrome_exam(case: Encounter) -> dict[str, Any]:
    """Examine the features that separate the toxidromes: mental status, pupils, skin, mucous membranes,
    bowel sounds and neuromuscular findings (tone, reflexes, clonus, fasciculations).

    Args:
        case: The running encounter (injected by the environment).
    """
    return dict(case.task.chart.extra.get("toxidrome_exam") or NORMAL_TOX)


@tool(domain=NAME, kind="knowledge")
def toxidrome_reference(name: Toxidrome) -> dict[str, Any]:
    """Look up a toxidrome or a poison in the toxicology reference: its features, confirming tests and
    the treatment and antidotes the references state.

    Args:
        name: The toxidrome (e.g. "anticholinergic") or poison (e.g. "tricyclic_antidepressant") to look up.
    """
    data = toxicology()
    entry = data["toxidromes"].get(name) or data["poisons"].get(name)
    if entry is None:
        raise ToolError(f"No reference entry for {name!r}.")
    return {"name": name, **entry}


@tool(domain=NAME, cost=0.2)
def cardiac_monitor(case: Encounter) -> dict[str, Any]:
    """Attach the cardiac monitor and read the rhythm strip: rhythm, rate and QRS duration.

    Args:
        case: The running encounter (injected by the environment).
    """
    monitor = case.task.chart.extra.get("monitor") or {"rhythm": "sinus rhythm", "qrs_ms": 90}
    return {"rhythm": monitor["rhythm"], "heart_rate": f"{case.task.presentation.vitals.heart_rate} beats/min",
            "qrs_duration": f"{monitor['qrs_ms']} ms"}


@tool(domain=NAME, key_arg="protocol")
def activate_protocol(protocol: Protocol, case: Encounter) -> dict[str, Any]:
    """Activate a time-critical team: the STEMI (cath lab) team, the stroke team, the trauma team,
    the sepsis pathway or the massive transfusion protocol.

    Args:
        protocol: Which team or pathway to activate.
        case: The running encounter (injected by the environment).
    """
    return {"status": f"{protocol.replace('_', ' ')} protocol activated", "protocol": protocol}


@tool(domain=NAME, kind="calculator")
def rumack_matthew_nomogram(hours_since_ingestion: float, acetaminophen_level: float) -> dict[str, Any]:
    """Plot a serum acetaminophen level on the Rumack-Matthew nomogram after a single acute ingestion.

    Treatment line = 150 x 2^(-(hours - 4) / 4) mcg/mL: 150 mcg/mL at 4 hours, halving every 4 hours to about
    4.7 mcg/mL at 24 hours. A level on or above the line calls for N-acetylcysteine. The nomogram does not apply
    before 4 hours, after 24 hours, to staggered ingestions or to an unknown time of ingestion.
    Source: Rumack BH, Matthew H. Pediatrics 1975;55:871-876; Smilkstein MJ et al. N Engl J Med 1988;319:1557-1562
    (the 150 mcg/mL treatment line).

    Args:
        hours_since_ingestion: Hours from the ingestion to the blood draw (4 to 24).
        acetaminophen_level: Serum acetaminophen concentration in mcg/mL.
    """
    if acetaminophen_level < 0 or acetaminophen_level > 2000:
        raise ToolError(f"acetaminophen_level must be between 0 and 2000 mcg/mL, got {acetaminophen_level}.")
    if hours_since_ingestion < 4:
        raise ToolError(f"A level drawn {hours_since_ingestion} h after ingestion cannot be interpreted; "
                        "the nomogram starts at 4 hours. Repeat the level at 4 hours.")
    if hours_since_ingestion > 24:
        raise ToolError(f"The nomogram does not apply {hours_since_ingestion} h after ingestion (its range is 4-24 h).")
    line = rumack_matthew_line(hours_since_ingestion)
    above = acetaminophen_level >= line
    return {
        "treatment_line_mcg_ml": round(line, 1),
        "acetaminophen_level_mcg_ml": acetaminophen_level,
        "interpretation": "on or above the treatment line" if above else "below the treatment line",
    }


@tool(domain=NAME, cost=0.2)
def measure_peak_flow(case: Encounter) -> dict[str, Any]:
    """Measure peak expiratory flow (PEF) before and after the first hour of emergency treatment, as a
    percentage of the patient's personal best.

    Args:
        case: The running encounter (injected by the environment).
    """
    pf = case.task.chart.extra.get("peak_flow")
    if pf is None:
        return {"note": "Peak flow is measured in asthma and COPD exacerbations; this patient has neither."}
    best = pf["personal_best_l_min"]
    return {
        "personal_best": f"{best} L/min",
        "before_treatment": f"{round(best * pf['pre_percent'] / 100)} L/min ({pf['pre_percent']}% of personal best)",
        "after_one_hour": f"{round(best * pf['post_percent'] / 100)} L/min ({pf['post_percent']}% of personal best)",
    }
