"""The drug_interaction domain's tools: a formulary an agent queries, and the structured submission.

Each tool reports the source of what it says. A combination or situation the formulary does not
cover is reported as not covered, never as safe.
"""

from __future__ import annotations

import itertools
from typing import Any, Literal

from medgym.domains.drug_interaction.formulary import SEVERITY_RANK, Drug, Interaction, formulary
from medgym.encounter import Encounter
from medgym.tools.registry import ToolError, tool

NAME = "drug_interaction"
NOT_COVERED = (
    "The MedGym formulary lists only interactions that an FDA label or guideline states; "
    "absence from it is not evidence of safety."
)
MAX_LIST = 40


def _drug(name: str) -> Drug:
    try:
        return formulary().resolve(name)
    except ValueError as exc:
        raise ToolError(str(exc)) from None


def _number(value: float | None, what: str, low: float, high: float) -> float | None:
    if value is None:
        return None
    if not low <= value <= high:
        raise ToolError(f"{what} must be between {low:g} and {high:g}, got {value:g}. Check the units and the value.")
    return value


def interaction_record(i: Interaction) -> dict[str, Any]:
    """What the tools report about one rated pair."""
    f = formulary()
    a, b = (f.drugs[k].name for k in i.drugs)
    out: dict[str, Any] = {
        "drugs": [a, b],
        "severity": i.severity,
        "recommended_action": i.action[0] if len(i.action) == 1 else " or ".join(i.action),
        "mechanism": i.mechanism,
        "management": i.management,
        "drug_to_adjust": f.drugs[i.adjust].name,
    }
    if i.dose_limit:
        out["dose_in_combination"] = f"{f.drugs[i.adjust].name}: {i.dose_limit}"
    if i.condition:
        out["applies_when"] = i.condition
    if i.contraindicated_if:
        out["contraindicated_if"] = i.contraindicated_if
    if i.alternatives:
        out["alternatives_to_" + f.drugs[i.alternatives_for].name.replace(" ", "_")] = [f.drugs[k].name for k in i.alternatives]
    out["source"] = f.cite(i.source)
    return out


@tool(domain=NAME, key_arg="drug")
def lookup_drug(drug: str) -> dict[str, Any]:
    """Look up a drug in the formulary: its class, therapeutic group, usual dose and which safety guidance is on file.

    Args:
        drug: Generic or brand name, e.g. "simvastatin" or "Zocor".
    """
    d = _drug(drug)
    f = formulary()
    on_file = [topic for topic, present in (
        ("renal dosing (get_renal_dosing)", d.renal or d.renal_note),
        ("hepatic dosing (get_hepatic_dosing)", d.hepatic),
        ("pregnancy (get_pregnancy_lactation)", d.pregnancy),
        ("lactation (get_pregnancy_lactation)", d.lactation),
        ("older adults, AGS Beers 2023 (get_older_adult_guidance)", d.older_adults),
    ) if present]
    out: dict[str, Any] = {"drug": d.name, "brands": d.brands, "class": d.drug_class, "therapeutic_group": d.group}
    if d.allergy_group:
        out["allergy_group"] = d.allergy_group.replace("_", " ")
    if d.usual_dose:
        out["usual_adult_dose"] = d.usual_dose
    out["guidance_on_file"] = on_file or ["none beyond interactions"]
    out["rated_interactions"] = sum(d.key in pair for pair in f.interactions)
    out["source"] = f.cite(d.source)
    return out


@tool(domain=NAME)
def check_interaction(drug_a: str, drug_b: str) -> dict[str, Any]:
    """Check one pair of drugs for an interaction: severity, mechanism, what to do, and the source.

    Args:
        drug_a: First drug, generic or brand name, e.g. "clopidogrel".
        drug_b: Second drug, e.g. "omeprazole".
    """
    a, b = _drug(drug_a), _drug(drug_b)
    if a.key == b.key:
        raise ToolError(f"Both names refer to {a.name}. Give two different drugs.")
    f = formulary()
    record = f.interaction(a.key, b.key)
    if record is None and f.unrated_pair(a.key, b.key):
        return {"drugs": [a.name, b.name], "severity": "not rated",
                "note": "These drugs may interact, but this formulary does not rate the combination; check both labels."}
    if record is None:
        return {"drugs": [a.name, b.name], "severity": "none listed", "note": NOT_COVERED}
    return interaction_record(record)


@tool(domain=NAME)
def screen_medication_list(drugs: list[str]) -> dict[str, Any]:
    """Screen a whole medication list for interactions between any two of its drugs, most severe first.

    Args:
        drugs: The drug names, e.g. ["warfarin", "amiodarone", "metformin"]; doses may be included.
    """
    if not drugs:
        raise ToolError('The list is empty. Pass the drugs to screen, e.g. {"drugs": ["warfarin", "amiodarone"]}.')
    if len(drugs) > MAX_LIST:
        raise ToolError(f"The list has {len(drugs)} drugs; screen at most {MAX_LIST} at a time.")
    f = formulary()
    found: dict[str, Drug] = {}
    unknown = []
    for name in drugs:
        d = f.find(str(name))
        if d is None:
            unknown.append(str(name))
        else:
            found.setdefault(d.key, d)
    pairs = [f.interaction(x, y) for x, y in itertools.combinations(found, 2)]
    rated = sorted((p for p in pairs if p), key=lambda p: -SEVERITY_RANK[p.severity])
    out: dict[str, Any] = {
        "screened": [d.name for d in found.values()],
        "interactions": [interaction_record(p) for p in rated],
    }
    if not rated:
        out["result"] = "No interaction listed between these drugs. " + NOT_COVERED
    if unknown:
        out["not_in_formulary"] = unknown
    return out


@tool(domain=NAME, key_arg="drug")
def get_renal_dosing(drug: str, crcl_ml_min: float | None = None, egfr: float | None = None) -> dict[str, Any]:
    """Kidney-function dosing for a drug from its label; give the patient's CrCl or eGFR to get the band that applies.

    Args:
        drug: Generic or brand name, e.g. "rivaroxaban".
        crcl_ml_min: Creatinine clearance by Cockcroft-Gault, in mL/min (labels that dose by CrCl use it).
        egfr: Estimated GFR in mL/min/1.73 m2 (labels that dose by eGFR, e.g. metformin, use it).
    """
    d = _drug(drug)
    crcl = _number(crcl_ml_min, "crcl_ml_min", 0, 250)
    gfr = _number(egfr, "egfr", 0, 250)
    f = formulary()
    if d.renal is None:
        if d.renal_note:
            return {"drug": d.name, "guidance": d.renal_note.text, "source": f.cite(d.renal_note.source)}
        return {"drug": d.name, "guidance": "No kidney-function dosing guidance on file for this drug. " + NOT_COVERED}
    r = d.renal
    out: dict[str, Any] = {"drug": d.name, "indication": r.indication}
    if r.rule:
        out["dosing"] = r.text
        out["note"] = "Apply the criteria to the patient's age, weight and serum creatinine."
    else:
        out["measure"] = {"crcl": "creatinine clearance (Cockcroft-Gault), mL/min",
                          "egfr": "eGFR, mL/min/1.73 m2"}[r.measure]
        out["table"] = [b.text for b in r.bands]
        value = crcl if r.measure == "crcl" else gfr
        other = gfr if r.measure == "crcl" else crcl
        if value is not None:
            band = next((b for b in r.bands if b.contains(value)), None)
            if band is None:
                out["for_this_patient"] = {"value": value, "guidance": "Outside the label's table."}
            else:
                out["for_this_patient"] = {"value": value, "action": band.action, "text": band.text,
                                           **({"dose": band.dose} if band.dose else {})}
        elif other is not None:
            out["note"] = f"This label doses by {r.measure}; pass {'crcl_ml_min' if r.measure == 'crcl' else 'egfr'}."
    out["source"] = f.cite(r.source)
    return out


@tool(domain=NAME, key_arg="drug")
def get_hepatic_dosing(drug: str, child_pugh_class: Literal["A", "B", "C"] | None = None) -> dict[str, Any]:
    """Liver-function dosing for a drug from its label, by Child-Pugh class.

    Args:
        drug: Generic or brand name, e.g. "rivaroxaban".
        child_pugh_class: The patient's Child-Pugh class, A, B or C; omit to see every class the label addresses.
    """
    d = _drug(drug)
    f = formulary()
    if d.hepatic is None:
        return {"drug": d.name, "guidance": "No hepatic dosing guidance on file for this drug. " + NOT_COVERED}
    h = d.hepatic
    out: dict[str, Any] = {"drug": d.name}
    if child_pugh_class:
        entry = h.for_class(child_pugh_class)
        out["child_pugh_class"] = child_pugh_class
        if entry is None:
            out["guidance"] = h.note or f"The label gives no recommendation for Child-Pugh class {child_pugh_class}."
        else:
            out.update(action=entry.action, guidance=entry.text, **({"dose": entry.dose} if entry.dose else {}))
    else:
        out["by_class"] = {c: e.text for c in "ABC" if (e := h.for_class(c))}
        if h.note:
            out["note"] = h.note
    out["source"] = f.cite(h.source)
    return out


@tool(domain=NAME)
def check_allergy_cross_reactivity(allergy: str, drug: str, reaction: str | None = None) -> dict[str, Any]:
    """Check whether a drug may be given to a patient with a recorded drug allergy (cross-reactivity).

    Args:
        allergy: The drug the patient is allergic to, e.g. "amoxicillin".
        drug: The drug you intend to give, e.g. "cefazolin".
        reaction: The recorded reaction, e.g. "anaphylaxis", "hives", "angioedema"; it can change the answer.
    """
    allergen, d = _drug(allergy), _drug(drug)
    f = formulary()
    rule = f.allergy_rule(allergen, reaction or "", d)
    out: dict[str, Any] = {"allergy": allergen.name, "drug": d.name}
    if reaction:
        out["reaction"] = reaction
    if rule is None:
        note = d.allergy_note.text + " (" + f.cite(d.allergy_note.source) + ")" if d.allergy_note else ""
        out["verdict"] = "no rule on file"
        out["note"] = ("No cross-reactivity rule in this formulary covers this allergy, reaction and drug"
                       + ("" if reaction else "; the reaction may matter, pass it") + ". " + note).strip()
        return out
    out.update(verdict=rule.verdict, guidance=rule.text, source=f.cite(rule.source))
    return out


@tool(domain=NAME, key_arg="drug")
def get_pregnancy_lactation(
    drug: str, status: Literal["pregnancy", "lactation"], gestational_age_weeks: int | None = None
) -> dict[str, Any]:
    """Pregnancy or breastfeeding guidance for a drug from its label or a guideline.

    Args:
        drug: Generic or brand name, e.g. "lisinopril".
        status: "pregnancy" or "lactation" (breastfeeding).
        gestational_age_weeks: Weeks of gestation, for guidance that depends on it (e.g. NSAIDs late in pregnancy).
    """
    d = _drug(drug)
    weeks = _number(gestational_age_weeks, "gestational_age_weeks", 0, 44)
    f = formulary()
    entry = d.pregnancy if status == "pregnancy" else d.lactation
    if entry is None:
        return {"drug": d.name, "status": status, "guidance": f"No {status} guidance on file for this drug. " + NOT_COVERED}
    out: dict[str, Any] = {"drug": d.name, "status": status, "action": entry.action, "guidance": entry.text}
    if status == "pregnancy" and (entry.from_week or entry.until_week):
        out["applies"] = " ".join(p for p in (f"from {entry.from_week} weeks" if entry.from_week else "",
                                               f"up to {entry.until_week} weeks" if entry.until_week else "") if p)
        if weeks is None:
            out["note"] = "The guidance depends on gestational age; pass gestational_age_weeks."
        elif (entry.from_week and weeks < entry.from_week) or (entry.until_week and weeks > entry.until_week):
            out["action"] = "see guidance"
            out["note"] = f"At {weeks:g} weeks the restriction above does not apply as stated; read the guidance."
    if entry.alternatives:
        out["alternatives"] = entry.alternatives
        out["alternatives_source"] = f.cite(entry.alternatives_source or "")
    out["source"] = f.cite(entry.source)
    return out


@tool(domain=NAME, key_arg="drug")
def get_older_adult_guidance(drug: str) -> dict[str, Any]:
    """AGS Beers Criteria 2023 guidance on a drug for adults aged 65 and older.

    Args:
        drug: Generic or brand name, e.g. "diphenhydramine".
    """
    d = _drug(drug)
    f = formulary()
    if d.older_adults is None:
        return {"drug": d.name, "listed": False,
                "guidance": "Not among this formulary's AGS Beers 2023 entries (the formulary does not reproduce every criterion)."}
    o = d.older_adults
    return {"drug": d.name, "listed": True, "recommendation": "avoid" if o.unconditional else "avoid in the situations stated",
            "guidance": o.text, "source": f.cite(o.source)}


@tool(domain=NAME, key_arg="drug")
def suggest_alternatives(
    drug: str,
    reason: Literal["interaction", "pregnancy", "lactation", "allergy", "renal", "hepatic", "older_adult"],
    interacting_drug: str | None = None,
) -> dict[str, Any]:
    """Alternatives to a drug that a source names for this situation, and the other drugs of its group on file.

    Args:
        drug: The drug to replace, e.g. "omeprazole".
        reason: Why it must be replaced.
        interacting_drug: For reason "interaction", the drug it interacts with, e.g. "clopidogrel".
    """
    d = _drug(drug)
    f = formulary()
    out: dict[str, Any] = {"drug": d.name, "reason": reason}
    named: list[str] = []
    source = None
    if reason == "interaction":
        if not interacting_drug:
            raise ToolError('For reason "interaction" pass interacting_drug, e.g. {"drug": "omeprazole", '
                            '"reason": "interaction", "interacting_drug": "clopidogrel"}.')
        other = _drug(interacting_drug)
        record = f.interaction(d.key, other.key)
        if record is None:
            out["note"] = f"No interaction between {d.name} and {other.name} is listed. " + NOT_COVERED
        elif record.alternatives_for == d.key:
            named, source = [f.drugs[k].name for k in record.alternatives], record.alternatives_source
    elif reason in ("pregnancy", "lactation"):
        entry = d.pregnancy if reason == "pregnancy" else d.lactation
        if entry and entry.alternatives:
            named, source = entry.alternatives, entry.alternatives_source
    if named:
        out["alternatives"] = named
        out["source"] = f.cite(source or "")
    else:
        out["alternatives"] = []
        out.setdefault("note", "No source-named alternative on file for this situation.")
    if reason in ("interaction", "renal", "hepatic"):
        out["same_group_on_file"] = [x.name for x in f.same_group(d)]
        out["caution"] = "Same-group drugs are listed for reference only; check each against the patient before choosing."
    return out


@tool(domain=NAME, kind="submit")
def submit_medication_review(
    action: Literal["use", "monitor", "separate doses", "reduce dose", "avoid"],
    case: Encounter,
    problem_drugs: list[str] | None = None,
    severity: Literal["contraindicated", "major", "moderate", "none"] | None = None,
    recommended_dose: str | None = None,
    alternative: str | None = None,
    rationale: str | None = None,
) -> dict[str, Any]:
    """Submit your medication-safety recommendation; this ends the task.

    Args:
        action: What to do about the drug or combination in question: "use" (no change needed), "monitor", "separate doses", "reduce dose" or "avoid".
        case: The running encounter (injected by the environment).
        problem_drugs: Every drug involved in the problem you found, by generic name (for an interaction, both drugs); leave empty if there is none.
        severity: For an interaction, its severity.
        recommended_dose: The dose to use when the dose must change or the label sets it, e.g. "15 mg once daily".
        alternative: A drug to use instead, by generic name, when the problem drug should be replaced.
        rationale: A short justification.
    """
    arguments = {"action": action, "problem_drugs": problem_drugs, "severity": severity,
                 "recommended_dose": recommended_dose, "alternative": alternative, "rationale": rationale}
    case.submissions["submit_medication_review"] = {k: v for k, v in arguments.items() if v is not None}
    return {"status": "received", **case.submissions["submit_medication_review"]}
