"""The ehr_management domain's tools: FHIR-style queries over the patient's chart, and the
structured submissions for reconciliation, handoff and discharge summaries.

The chart is a FHIR R4-shaped Bundle in `task.chart.extra["fhir"]`; the tools return resources
(or searchset Bundles of them) as a FHIR server would, with simple search parameters.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from medgym.domains.ehr_management import fhir
from medgym.encounter import Encounter
from medgym.tools.registry import ToolError, tool

NAME = "ehr_management"
MAX_ENTRIES = 300


def resources(case: Encounter, kind: str | None = None) -> list[dict[str, Any]]:
    bundle = case.task.chart.extra.get("fhir")
    if not bundle:
        raise ToolError("This patient has no electronic chart to query.")
    return [e["resource"] for e in bundle["entry"] if kind is None or e["resource"]["resourceType"] == kind]


def searchset(items: list[dict[str, Any]]) -> dict[str, Any]:
    if len(items) > MAX_ENTRIES:
        raise ToolError(f"The search matched {len(items)} resources; narrow it (code, category or dates), at most {MAX_ENTRIES}.")
    return {"resourceType": "Bundle", "type": "searchset", "total": len(items), "entry": [{"resource": r} for r in items]}


def parse_time(value: str, name: str) -> datetime:
    text = value.strip().replace("Z", "+00:00")
    try:
        t = datetime.fromisoformat(text)
    except ValueError:
        raise ToolError(f"{name} {value!r} is not a date; use YYYY-MM-DD or YYYY-MM-DDTHH:MM.") from None
    return t.replace(tzinfo=None)


def _time(resource: dict[str, Any]) -> datetime:
    return parse_time(resource.get("effectiveDateTime") or resource.get("date") or resource.get("authoredOn") or "1900-01-01", "time")


def _matches(concept: dict[str, Any], query: str) -> bool:
    q = query.strip().lower()
    return q in fhir.codes(concept) or q in fhir.code_text(concept).lower()


@tool(domain=NAME)
def get_patient(case: Encounter) -> dict[str, Any]:
    """Read the Patient resource (name, sex, date of birth).

    Args:
        case: The running encounter (injected by the environment).
    """
    return resources(case, "Patient")[0]


@tool(domain=NAME)
def list_encounters(case: Encounter) -> dict[str, Any]:
    """List the patient's encounters (outpatient visits and the hospital admission) with dates and diagnoses.

    Args:
        case: The running encounter (injected by the environment).
    """
    return searchset(resources(case, "Encounter"))


@tool(domain=NAME)
def list_observation_types(case: Encounter) -> dict[str, Any]:
    """List which kinds of observations the chart holds (code, name, category, how many, first and last date).

    Args:
        case: The running encounter (injected by the environment).
    """
    seen: dict[str, dict[str, Any]] = {}
    for r in resources(case, "Observation"):
        concepts = [r["code"]] + [c["code"] for c in r.get("component", [])]
        for c in concepts:
            key = fhir.code_text(c)
            row = seen.setdefault(key, {"name": key, "code": (fhir.codes(c) or [None])[0],
                                        "category": r["category"][0]["coding"][0]["code"], "count": 0,
                                        "first": r["effectiveDateTime"], "last": r["effectiveDateTime"]})
            row["count"] += 1
            row["last"] = max(row["last"], r["effectiveDateTime"])
    return {"observation_types": sorted(seen.values(), key=lambda x: (x["category"], x["name"]))}


@tool(domain=NAME)
def search_observations(
    case: Encounter,
    code: str | None = None,
    category: Literal["vital-signs", "laboratory", "survey"] | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
) -> dict[str, Any]:
    """Search Observations by code (a LOINC code or a name such as "creatinine" or "heart rate"), category and date;
    vital signs are charted as panels, and searching one vital sign by code returns one Observation per panel.

    Args:
        case: The running encounter (injected by the environment).
        code: LOINC code (e.g. "2160-0") or name text (e.g. "creatinine", "respiratory rate").
        category: "vital-signs", "laboratory" or "survey" (e.g. Glasgow coma score).
        date_from: Earliest time, inclusive: "YYYY-MM-DD" or "YYYY-MM-DDTHH:MM".
        date_to: Latest time, inclusive: "YYYY-MM-DD" (the whole day) or "YYYY-MM-DDTHH:MM".
    """
    low = parse_time(date_from, "date_from") if date_from else None
    high = None
    if date_to:
        high = parse_time(date_to, "date_to")
        if len(date_to.strip()) == 10:
            high = high.replace(hour=23, minute=59, second=59)
    out = []
    for r in resources(case, "Observation"):
        if category and r["category"][0]["coding"][0]["code"] != category:
            continue
        t = _time(r)
        if (low and t < low) or (high and t > high):
            continue
        if not code or _matches(r["code"], code):
            out.append(r)
            continue
        for i, comp in enumerate(r.get("component", [])):
            if _matches(comp["code"], code):
                single = {k: v for k, v in r.items() if k not in ("component", "code", "id")}
                out.append({"resourceType": "Observation", "id": f"{r['id']}-{i}", **single, "code": comp["code"],
                            **{k: v for k, v in comp.items() if k.startswith("value")}})
    return searchset(sorted(out, key=_time))


@tool(domain=NAME)
def list_problems(case: Encounter, clinical_status: Literal["active", "resolved"] | None = None) -> dict[str, Any]:
    """List the patient's conditions (problem list and this admission's diagnoses), optionally by clinical status.

    Args:
        case: The running encounter (injected by the environment).
        clinical_status: "active" or "resolved"; omit for all.
    """
    items = resources(case, "Condition")
    if clinical_status:
        items = [c for c in items if c["clinicalStatus"]["coding"][0]["code"] == clinical_status]
    return searchset(items)


@tool(domain=NAME)
def get_medications(case: Encounter, list_type: Literal["home", "inpatient", "discharge", "administrations"]) -> dict[str, Any]:
    """Medication history: the pre-admission home list (MedicationStatement), inpatient or discharge orders
    (MedicationRequest), or infusions given (MedicationAdministration).

    Args:
        case: The running encounter (injected by the environment).
        list_type: "home", "inpatient", "discharge" or "administrations".
    """
    if list_type == "home":
        return searchset(resources(case, "MedicationStatement"))
    if list_type == "administrations":
        return searchset(sorted(resources(case, "MedicationAdministration"), key=_time))
    return searchset([r for r in resources(case, "MedicationRequest") if r["category"][0]["coding"][0]["code"] == list_type])


@tool(domain=NAME)
def list_allergies(case: Encounter) -> dict[str, Any]:
    """List the patient's recorded allergies and intolerances (AllergyIntolerance).

    Args:
        case: The running encounter (injected by the environment).
    """
    return searchset(resources(case, "AllergyIntolerance"))


@tool(domain=NAME)
def list_orders(case: Encounter, status: Literal["active", "completed"] | None = None) -> dict[str, Any]:
    """List diagnostic orders (ServiceRequest); "active" ones have not been resulted yet.

    Args:
        case: The running encounter (injected by the environment).
        status: "active" (pending) or "completed"; omit for all.
    """
    items = resources(case, "ServiceRequest")
    return searchset([r for r in items if not status or r["status"] == status])


@tool(domain=NAME)
def list_appointments(case: Encounter) -> dict[str, Any]:
    """List booked follow-up appointments (Appointment).

    Args:
        case: The running encounter (injected by the environment).
    """
    return searchset(resources(case, "Appointment"))


@tool(domain=NAME)
def list_notes(case: Encounter, note_type: str | None = None) -> dict[str, Any]:
    """List clinical notes (DocumentReference) with id, type and date, without their text.

    Args:
        case: The running encounter (injected by the environment).
        note_type: Filter by type text, e.g. "progress note".
    """
    items = sorted(resources(case, "DocumentReference"), key=_time)
    if note_type:
        items = [d for d in items if note_type.lower() in d["type"]["text"].lower()]
    return {"notes": [{"id": d["id"], "type": d["type"]["text"], "date": d["date"]} for d in items]}


@tool(domain=NAME, key_arg="note_id")
def read_note(case: Encounter, note_id: str) -> dict[str, Any]:
    """Read one clinical note (DocumentReference) in full.

    Args:
        case: The running encounter (injected by the environment).
        note_id: The note's id from list_notes, e.g. "doc2".
    """
    for d in resources(case, "DocumentReference"):
        if d["id"] == note_id:
            return d
    ids = ", ".join(d["id"] for d in resources(case, "DocumentReference"))
    raise ToolError(f"No note with id {note_id!r}. Note ids: {ids}. Call list_notes to see them.")


@tool(domain=NAME)
def search_notes(case: Encounter, text: str) -> dict[str, Any]:
    """Find notes containing a word or phrase (case-insensitive); returns each match's sentence.

    Args:
        case: The running encounter (injected by the environment).
        text: The word or phrase, e.g. "code status" or "lisinopril".
    """
    query = text.strip().lower()
    if not query:
        raise ToolError('The search text is empty, e.g. {"text": "code status"}.')
    hits = []
    for d in sorted(resources(case, "DocumentReference"), key=_time):
        body = fhir.narrative_text(d)
        sentences = [s.strip() + "." for s in body.split(". ") if query in s.lower()]
        if sentences:
            hits.append({"id": d["id"], "type": d["type"]["text"], "date": d["date"], "matches": sentences})
    return {"query": text, "notes": hits}


def _submit(case: Encounter, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    case.submissions[name] = {k: v for k, v in arguments.items() if v is not None}
    return {"status": "received", **case.submissions[name]}


@tool(domain=NAME, kind="submit")
def submit_medication_reconciliation(
    unintended_omissions: list[str], case: Encounter, duplications: list[str] | None = None, comments: str | None = None
) -> dict[str, Any]:
    """Submit the discharge medication reconciliation; this ends the task.

    Args:
        unintended_omissions: Home medications missing from the discharge list with no documented reason (generic names); empty list if none.
        case: The running encounter (injected by the environment).
        duplications: Drugs on the discharge list that duplicate each other's class (name both); empty list if none.
        comments: Anything else worth flagging.
    """
    return _submit(case, "submit_medication_reconciliation",
                   {"unintended_omissions": unintended_omissions, "duplications": duplications, "comments": comments})


@tool(domain=NAME, kind="submit")
def submit_handoff(
    active_problems: list[str],
    pending_results: list[str],
    code_status: str,
    case: Encounter,
    allergies: list[str] | None = None,
    summary: str | None = None,
) -> dict[str, Any]:
    """Submit a structured (I-PASS style) handoff of this inpatient; this ends the task.

    Args:
        active_problems: Every active problem (current diagnoses and active chronic conditions); leave out resolved ones.
        pending_results: Tests ordered but not yet resulted; empty list if none.
        code_status: The current code status, e.g. "Full code" or "DNR/DNI".
        case: The running encounter (injected by the environment).
        allergies: Recorded allergies (substances); empty list if none.
        summary: A one-line patient summary.
    """
    return _submit(case, "submit_handoff", {"active_problems": active_problems, "pending_results": pending_results,
                                            "code_status": code_status, "allergies": allergies, "summary": summary})


@tool(domain=NAME, kind="submit")
def submit_discharge_summary(
    principal_diagnosis: str,
    case: Encounter,
    new_medications: list[str] | None = None,
    stopped_medications: list[str] | None = None,
    changed_medications: list[str] | None = None,
    pending_results: list[str] | None = None,
    follow_up: list[str] | None = None,
    hospital_course: str | None = None,
) -> dict[str, Any]:
    """Submit the structured discharge summary; this ends the task.

    Args:
        principal_diagnosis: The main reason for this admission.
        case: The running encounter (injected by the environment).
        new_medications: Drugs started for after discharge (not on the home list).
        stopped_medications: Home drugs stopped or held at discharge.
        changed_medications: Home drugs continued at a different dose.
        pending_results: Tests whose results are still pending at discharge.
        follow_up: Follow-up appointments and tests arranged.
        hospital_course: A short narrative of the admission.
    """
    return _submit(case, "submit_discharge_summary", {
        "principal_diagnosis": principal_diagnosis, "new_medications": new_medications,
        "stopped_medications": stopped_medications, "changed_medications": changed_medications,
        "pending_results": pending_results, "follow_up": follow_up, "hospital_course": hospital_course})
