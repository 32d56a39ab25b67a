"""triage_emergency: ABC assessment, ESI triage, toxidromes and antidotes, STAT orders, disposition.

Case templates live in `templates.yaml`, the toxicology reference in `toxicology.yaml`,
the published decision rules in `scores.py`, the bedside tools in `tools.py`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from medgym.domains import Domain, register_domain
from medgym.domains.conditions import text_of
from medgym.domains.triage_emergency import tools  # noqa: F401  (registers the domain's tools)
from medgym.domains.triage_emergency.cases import NAME, Library, generate, library, toxicology


@dataclass(frozen=True)
class EmergencyKnowledge:
    """What the scripted clinician may consult: the presentations, concepts and the toxicology reference."""

    library: Library
    toxicology: dict[str, Any]


def clinical_knowledge() -> EmergencyKnowledge:
    return EmergencyKnowledge(library(), toxicology())


def knowledge() -> list[dict[str, Any]]:
    """Passages for the knowledge base: the ESI algorithm, each toxidrome and poison, each presentation."""
    passages = [{
        "id": f"medgym:{NAME}:esi",
        "title": "Emergency Severity Index (ESI) version 4",
        "text": (
            "ESI sorts emergency patients into five levels. A: a patient who needs an immediate life-saving intervention "
            "(bag-valve-mask ventilation, intubation, defibrillation, needle decompression, significant fluid resuscitation, "
            "blood, naloxone, D50, atropine, dopamine, adenosine) or is unresponsive (AVPU P or U) is ESI 1. B: a high-risk "
            "situation, new confusion, lethargy or disorientation, or severe pain or distress is ESI 2. C: otherwise count "
            "the distinct resource types the ED will use: labs, ECG, X-rays, CT/MRI/ultrasound, IV fluids, IV/IM/nebulized "
            "medications, specialty consultation, a simple procedure (1) or a complex procedure (2). History and examination, "
            "point-of-care tests, oral medications, tetanus immunization, prescriptions, simple wound care, splints and "
            "crutches are not resources. None: ESI 5; one: ESI 4; two or more: ESI 3. D: with two or more resources, "
            "danger-zone vital signs (adults: heart rate over 100, respiratory rate over 20, SpO2 below 92%) uptriage to ESI 2."
        ),
        "source": "Gilboy N et al. Emergency Severity Index Version 4 Implementation Handbook, 2012 edition (AHRQ 12-0014)",
        "domain": NAME,
    }]
    tox = toxicology()
    for kind in ("toxidromes", "poisons"):
        for key, entry in tox[kind].items():
            text = f"Features: {'; '.join(entry['features'])}. " + (f"Tests: {'; '.join(entry['tests'])}. " if "tests" in entry else "")
            text += f"Treatment: {'; '.join(entry['treatment'])}."
            passages.append({"id": f"medgym:{NAME}:tox:{key}", "title": key.replace("_", " ").capitalize(),
                             "text": text, "source": entry["source"], "domain": NAME})
    lib = library()
    for t in lib.templates.values():
        plan = {c for v in t.variants for c in v.management}
        text = f"{t.name}. Presents with: {', '.join(map(text_of, t.complaints or [c for v in t.variants for c in v.complaints or []]))}."
        for v in t.variants:
            why = v.lifesaving or v.high_risk or (t.lifesaving or t.high_risk)
            if why:
                text += f" {v.id.replace('_', ' ').capitalize()}: {why}."
            elif v.resources is not None:
                used = ", ".join(r.replace("_", " ") for r in v.resources) or "no resources"
                text += f" {v.id.replace('_', ' ').capitalize()}: {used}."
        if plan:
            text += f" Immediate treatment: {', '.join(lib.concepts[c].label for c in sorted(plan))}."
        passages.append({"id": f"medgym:{NAME}:{t.id}", "title": t.name, "text": text, "source": t.source, "domain": NAME})
    return passages


register_domain(
    Domain(
        name=NAME,
        description="Emergency department: primary survey, ESI triage, toxidromes and antidotes, STAT orders, disposition.",
        generate=generate,
        knowledge=knowledge,
        workflow="emergency",
        clinical_knowledge=clinical_knowledge,
    )
)
