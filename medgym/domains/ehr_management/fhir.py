"""FHIR R4 resource shapes and the codes this domain uses.

Resources are plain dicts in the FHIR R4 JSON shape, kept minimal (only the elements a chart
needs). LOINC and ICD-10-CM codes appear only where they are certain; otherwise an element has a
text and no coding. No RxNorm codes are used: medications are coded by text.
"""

from __future__ import annotations

from typing import Any

LOINC = "http://loinc.org"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
OBS_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"

# key -> (LOINC code or None, text, UCUM unit)
VITALS: dict[str, tuple[str | None, str, str]] = {
    "heart_rate": ("8867-4", "Heart rate", "/min"),
    "respiratory_rate": ("9279-1", "Respiratory rate", "/min"),
    "systolic_bp": ("8480-6", "Systolic BP", "mm[Hg]"),
    "diastolic_bp": ("8462-4", "Diastolic BP", "mm[Hg]"),
    "mean_bp": (None, "Mean arterial pressure", "mm[Hg]"),
    "temperature_c": ("8310-5", "Body temperature", "Cel"),
    "spo2": ("59408-5", "SpO2 (pulse oximetry)", "%"),
    "oxygen": (None, "Oxygen delivery", ""),
    "consciousness": (None, "Consciousness (ACVPU)", ""),
}
VITAL_PANEL = ("85353-1", "Vital signs panel")
SINGLE: dict[str, tuple[str | None, str, str]] = {
    "body_weight": ("29463-7", "Body weight", "kg"),
    "gcs": ("9269-2", "Glasgow coma score total", "{score}"),
    "fio2": ("3150-0", "Inhaled oxygen concentration", "%"),
    "urine_output_24h": (None, "Urine output, 24 hours", "mL"),
    "glucose_poc": (None, "Glucose, point-of-care (capillary blood)", "mg/dL"),
}
LAB_LOINC: dict[str, str] = {
    "creatinine": "2160-0", "potassium": "2823-3", "sodium": "2951-2", "hemoglobin": "718-7", "platelets": "777-3",
    "wbc": "6690-2", "total_bilirubin": "1975-2", "glucose": "2345-7", "bicarbonate": "1963-8", "bun": "3094-0",
    "lactate": "2524-7", "albumin": "1751-7", "inr": "6301-6", "pao2": "2703-7",
}
INTERPRETATION = {"high": "H", "low": "L", "normal": "N", "abnormal": "A"}


def codeable(text: str, code: str | None = None, system: str = LOINC) -> dict[str, Any]:
    out: dict[str, Any] = {"text": text}
    if code:
        out["coding"] = [{"system": system, "code": code}]
    return out


def ref(kind: str, rid: str, display: str | None = None) -> dict[str, str]:
    out = {"reference": f"{kind}/{rid}"}
    if display:
        out["display"] = display
    return out


def category(code: str) -> list[dict[str, Any]]:
    """An observation category (code from the HL7 observation-category code system)."""
    return [{"coding": [{"code": code}]}]


def quantity(value: float, unit: str) -> dict[str, Any]:
    return {"value": value, "unit": unit}


def narrative(text: str) -> dict[str, str]:
    """A FHIR Narrative holding plain text as escaped XHTML."""
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return {"status": "generated", "div": f'<div xmlns="http://www.w3.org/1999/xhtml">{escaped}</div>'}


def narrative_text(resource: dict[str, Any]) -> str:
    div = resource.get("text", {}).get("div", "")
    body = div.split(">", 1)[1].rsplit("</div>", 1)[0] if ">" in div else div
    return body.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def code_text(concept: dict[str, Any]) -> str:
    return concept.get("text") or next((c.get("display", c.get("code", "")) for c in concept.get("coding", [])), "")


def codes(concept: dict[str, Any]) -> list[str]:
    return [c["code"] for c in concept.get("coding", []) if "code" in c]
