"""drug_interaction: medication safety on a patient's medication list.

Interactions with severity and mechanism, kidney and liver dose adjustment, allergy
cross-reactivity, pregnancy and lactation, AGS Beers Criteria in older adults, and safer
alternatives, all from a formulary written as data (drugs.yaml, interactions.yaml,
allergy.yaml) in which every fact names its FDA label section or guideline.
"""

from __future__ import annotations

from typing import Any

from medgym.domains import Domain, register_domain
from medgym.domains.drug_interaction import tools  # noqa: F401  (registers the domain's tools)
from medgym.domains.drug_interaction.cases import generate
from medgym.domains.drug_interaction.formulary import Formulary, formulary

NAME = "drug_interaction"


def knowledge() -> list[dict[str, Any]]:
    """One passage per drug (its facts) and per rated interaction group, each with its sources."""
    f = formulary()
    passages = []
    for d in f.drugs.values():
        parts = [f"{d.name.capitalize()} ({', '.join(d.brands) or 'generic'}): {d.drug_class}; therapeutic group: {d.group}."]
        if d.usual_dose:
            parts.append(f"Usual adult dose: {d.usual_dose}.")
        sources = [d.source]
        partners = sorted((i.severity, f.drugs[next(iter(pair - {d.key}))].name) for pair, i in f.interactions.items() if d.key in pair)
        parts.append("Interactions on file: " + ("; ".join(f"{name} ({sev})" for sev, name in partners) if partners else
                                                 "none in this formulary (absence is not evidence of safety)") + ".")
        if d.renal is not None:
            parts.append(f"Kidney function ({d.renal.indication}): " + (d.renal.text or " ".join(b.text for b in d.renal.bands)))
            sources.append(d.renal.source)
        if d.hepatic is not None:
            by_class = " ".join(dict.fromkeys(e.text for c in "ABC" if (e := d.hepatic.for_class(c))))
            parts.append("Liver function (Child-Pugh): " + by_class + (f" {d.hepatic.note}" if d.hepatic.note else ""))
            sources.append(d.hepatic.source)
        for label, fact in (("Kidney function", d.renal_note), ("Pregnancy", d.pregnancy), ("Lactation", d.lactation),
                            ("Older adults (AGS Beers 2023)", d.older_adults), ("Allergy", d.allergy_note)):
            if fact is not None:
                parts.append(f"{label}: {fact.text}")
                sources.append(fact.source)
        passages.append({"id": f"medgym:{NAME}:drug:{d.key}", "title": d.name.capitalize(), "text": " ".join(parts),
                         "source": "; ".join(dict.fromkeys(f.cite(s) for s in sources)), "domain": NAME})
    for pair, i in sorted(f.interactions.items(), key=lambda kv: sorted(kv[0])):
        a, b = (f.drugs[k].name for k in i.drugs)
        passages.append({
            "id": f"medgym:{NAME}:interaction:{'+'.join(sorted(pair))}", "title": f"{a} + {b}",
            "text": f"{a.capitalize()} and {b}: {i.severity} interaction. {i.mechanism} {i.management}",
            "source": f.cite(i.source), "domain": NAME,
        })
    return passages


def clinical_knowledge() -> Formulary:
    """The formulary, which the scripted clinician consults (as a pharmacist would)."""
    return formulary()


register_domain(
    Domain(
        name=NAME,
        description="Medication safety: interactions, kidney and liver dosing, allergies, pregnancy and lactation, older adults.",
        generate=generate,
        knowledge=knowledge,
        workflow="medication_safety",
        clinical_knowledge=clinical_knowledge,
    )
)
