"""psychiatry: mental status exam, PHQ-9, GAD-7, AUDIT-C, C-SSRS, CIWA-Ar, DSM-5-TR diagnosis,
suicide risk formulation and safety planning, first-line treatment (APA / NICE).

Templates in `templates.yaml`, instruments in `instruments.yaml`, the builder in `cases.py`,
the tools in `tools.py`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from medgym.domains import Domain, register_domain
from medgym.domains.conditions import text_of
from medgym.domains.psychiatry import tools  # noqa: F401  (registers the domain's tools)
from medgym.domains.psychiatry.cases import NAME, Library, generate, instruments, library


@dataclass(frozen=True)
class PsychiatryKnowledge:
    """What the scripted clinician may consult: disorders and concepts, and the instruments' scoring."""

    library: Library
    instruments: dict[str, Any]


def clinical_knowledge() -> PsychiatryKnowledge:
    return PsychiatryKnowledge(library(), instruments())


def knowledge() -> list[dict[str, Any]]:
    """Passages: each instrument with its scoring, and each disorder with its criteria and first-line treatment."""
    passages = []
    for key, spec in instruments().items():
        if key == "ciwa_ar":
            text = "Items scored 0-7 (orientation 0-4): " + "; ".join(
                f"{item}: " + ", ".join(f"{p} = {t}" for p, t in anchors.items()) for item, anchors in spec["items"].items())
        elif key == "cssrs":
            text = " ".join(f"Q{i}. {item['text']}" for i, item in enumerate(spec["items"], 1)) + " Triage: " + spec["triage"]
        elif key == "audit_c":
            text = " ".join(f"{item['text']} " + ", ".join(f"{o} = {p}" for o, p in item["options"].items()) for item in spec["items"])
            text += f" Positive screen: {spec['positive']['male']} or more for men, {spec['positive']['female']} or more for women."
        else:
            text = f"{spec['stem']} Options: " + ", ".join(f"{o} = {p}" for o, p in spec["options"].items()) + ". Items: " + "; ".join(spec["items"]) + "."
        if "bands" in spec:
            text += " Severity: " + ", ".join(f"{lo}-{hi} {name}" for lo, hi, name in spec["bands"]) + "."
        passages.append({"id": f"medgym:{NAME}:instrument:{key}", "title": spec["name"], "text": text, "source": spec["source"], "domain": NAME})
    lib = library()
    for t in lib.templates.values():
        plan = [lib.concepts[c].label for c in t.management]
        avoid = [lib.concepts[c].label for c in t.contraindicated]
        text = f"{t.name}. Presents with: {', '.join(map(text_of, t.complaints or []))}."
        if t.dsm:
            text += " DSM-5-TR: " + "; ".join(f"{kind.replace('_', ' ')} {c.n} of {', '.join(c.of)}" for kind, c in t.dsm.items()) + "."
        if plan:
            text += f" First-line treatment: {', '.join(plan)}."
        if avoid:
            text += f" Avoid: {', '.join(avoid)}."
        passages.append({"id": f"medgym:{NAME}:{t.id}", "title": t.name, "text": text, "source": t.source, "domain": NAME})
    return passages


register_domain(
    Domain(
        name=NAME,
        description="Psychiatry: mental status, validated questionnaires, DSM-5-TR diagnosis, suicide risk and safety planning, first-line treatment.",
        generate=generate,
        knowledge=knowledge,
        workflow="psychiatric",
        clinical_knowledge=clinical_knowledge,
    )
)
