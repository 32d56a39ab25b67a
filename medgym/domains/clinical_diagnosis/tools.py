"""The clinical_diagnosis domain's own tools: bedside maneuvers, orthostatic vitals,
point-of-care tests, procedures, biopsies, earlier results, consults and a reference look-up.

Like the shared encounter tools they reveal only what the case holds; a maneuver
or test the case does not specify comes back normal.
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

DOMAIN = "clinical_diagnosis"


@cache
def bedside() -> dict[str, dict[str, Any]]:
    """The maneuver, point-of-care, procedure and biopsy libraries (bedside.yaml)."""
    return yaml.safe_load(resources.files(__package__).joinpath("bedside.yaml").read_text())


def _specialty_names() -> tuple[str, ...]:
    folder = resources.files(__package__).joinpath("specialties")
    return tuple(sorted(f.name[:-5] for f in folder.iterdir() if f.name.endswith(".yaml")))


Maneuver = Literal[tuple(bedside()["maneuvers"])]  # type: ignore[valid-type]
PointOfCareTest = Literal[tuple(bedside()["point_of_care"])]  # type: ignore[valid-type]
Procedure = Literal[tuple(bedside()["procedures"])]  # type: ignore[valid-type]
BiopsySite = Literal[tuple(bedside()["biopsies"])]  # type: ignore[valid-type]
SpecialtyName = Literal[_specialty_names()]  # type: ignore[valid-type]


@tool(domain=DOMAIN, key_arg="maneuver")
def perform_bedside_maneuver(maneuver: Maneuver, case: Encounter) -> dict[str, Any]:
    """Perform a focused bedside examination maneuver (a special test beyond the routine exam of a body system).

    Args:
        maneuver: The maneuver, e.g. "kernig_brudzinski", "asterixis", "murphy_sign", "pronator_drift", "romberg".
        case: The running encounter (injected by the environment).
    """
    spec = bedside()["maneuvers"][maneuver]
    positive = maneuver in case.task.chart.extra.get("maneuvers", [])
    return {"maneuver": maneuver, "name": spec["name"], "result": "positive" if positive else "negative",
            "finding": spec["positive" if positive else "negative"]}


@tool(domain=DOMAIN)
def measure_orthostatic_vitals(case: Encounter) -> dict[str, Any]:
    """Measure heart rate and blood pressure lying down and again after 3 minutes of standing.

    Args:
        case: The running encounter (injected by the environment).
    """
    v = case.task.presentation.vitals
    readings = case.task.chart.extra.get("orthostatic") or {
        "supine": {"heart_rate": v.heart_rate, "systolic_bp": v.systolic_bp, "diastolic_bp": v.diastolic_bp},
        "standing": {"heart_rate": v.heart_rate + 6, "systolic_bp": v.systolic_bp, "diastolic_bp": v.diastolic_bp + 2},
    }

    def show(r: dict[str, int]) -> dict[str, str]:
        return {"heart_rate": f"{r['heart_rate']} beats/min", "blood_pressure": f"{r['systolic_bp']}/{r['diastolic_bp']} mmHg"}

    return {"supine": show(readings["supine"]), "standing_3_min": show(readings["standing"])}


@tool(domain=DOMAIN, cost=0.5, key_arg="test")
def point_of_care_test(test: PointOfCareTest, case: Encounter) -> ToolOutput:
    """Run a point-of-care test at the bedside: a fast result that stands for the matching laboratory test.

    Args:
        test: The test, e.g. "fingerstick_glucose", "urine_dipstick", "urine_pregnancy", "rapid_strep".
        case: The running encounter (injected by the environment).
    """
    spec = bedside()["point_of_care"][test]
    lab = spec["lab"]
    result = case.task.chart.labs.get(lab) or catalog.normal_lab(lab, case.task.presentation.sex, case.rng(lab))
    return ToolOutput({**result.model_dump(), "point_of_care": spec["name"]}, [f"point_of_care_test:{test}", f"order_lab:{lab}"])


@tool(domain=DOMAIN, cost=4.0, key_arg="procedure")
def perform_procedure(procedure: Procedure, case: Encounter) -> ToolOutput:
    """Perform a diagnostic procedure and get the laboratory analysis of the fluid it obtains.

    Args:
        procedure: The procedure: "lumbar_puncture" (cerebrospinal fluid) or "paracentesis" (ascitic fluid).
        case: The running encounter (injected by the environment).
    """
    tests = [t for t, spec in catalog.labs().items() if spec.get("via") == f"perform_procedure:{procedure}"]
    sex = case.task.presentation.sex
    results = [(case.task.chart.labs.get(t) or catalog.normal_lab(t, sex, case.rng(t))).model_dump() for t in tests]
    name = bedside()["procedures"][procedure]["name"]
    return ToolOutput({"procedure": name, "results": results},
                      [f"perform_procedure:{procedure}", *(f"order_lab:{t}" for t in tests)])


@tool(domain=DOMAIN, cost=6.0, key_arg="site")
def request_biopsy(site: BiopsySite, case: Encounter) -> ToolOutput:
    """Obtain a tissue biopsy and get the pathologist's report.

    Args:
        site: What to sample: "kidney", "bone_marrow", "lymph_node" or "lung".
        case: The running encounter (injected by the environment).
    """
    study = bedside()["biopsies"][site]["study"]
    report = case.task.chart.imaging.get(study) or catalog.normal_imaging(study)
    return ToolOutput(report.model_dump(), [f"request_biopsy:{site}", f"order_imaging:{study}"])


@tool(domain=DOMAIN)
def review_prior_results(case: Encounter) -> dict[str, Any]:
    """Review earlier laboratory results on file (from before this presentation), with their dates.

    Args:
        case: The running encounter (injected by the environment).
    """
    prior = case.task.chart.extra.get("prior_results", [])
    if not prior:
        return {"prior_results": [], "note": "No earlier results on file."}
    keys = ("test", "name", "value", "unit", "reference_range", "flag", "when")
    return {"prior_results": [{k: r[k] for k in keys} for r in prior]}


@tool(domain=DOMAIN, cost=2.0, key_arg="specialty")
def request_specialist_consult(specialty: SpecialtyName, case: Encounter) -> dict[str, Any]:
    """Ask a specialist which evaluation they recommend for this presentation.

    The consultant answers from the chief complaint alone: the history, examination and
    tests their specialty uses to work it up.

    Args:
        specialty: The specialty to consult, e.g. "neurology", "nephrology", "infectious_disease".
        case: The running encounter (injected by the environment).
    """
    from medgym.domains.clinical_diagnosis import specialties
    from medgym.patient.matching import topics

    complaint = case.task.presentation.chief_complaint.lower()
    sp = next(s for s in specialties() if s.name == specialty)
    workups = [w for w in sp.complaints.values() if any(k in complaint for k in w.keywords)]
    if not workups:
        return {"specialty": specialty, "note": f"The {specialty.replace('_', ' ')} consultant has no specific recommendation "
                                                  f"for {complaint!r}; consider another specialty."}
    history = dict.fromkeys(topics()[t]["questions"][0] for w in workups for t in w.history)
    exam = dict.fromkeys(s for w in workups for s in w.exam)
    tests = dict.fromkeys([*(["12-lead ECG"] if any(w.ecg for w in workups) else []),
                           *(_test_name(t) for w in workups for t in w.labs),
                           *(catalog.studies()[s]["name"] for w in workups for s in w.imaging),
                           *(a for w in workups for a in w.tools)])
    return {"specialty": specialty, "recommended_history": list(history), "recommended_examination": list(exam),
            "recommended_tests": list(tests)}


def _test_name(test: str) -> str:
    return catalog.lab_panels().get(test) or catalog.labs()[test]["name"]


@tool(domain=DOMAIN)
def lookup_diagnostic_criteria(condition: str) -> dict[str, Any]:
    """Look up a condition in the clinical reference: its typical features, the tests that confirm it, and the source.

    Args:
        condition: The condition's name, e.g. "acute pancreatitis" or "bacterial meningitis".
    """
    from medgym.domains.clinical_diagnosis import specialties
    from medgym.rewards import normalize

    index = {}
    for sp in specialties():
        for c in sp.conditions:
            for name in [c.name, *c.synonyms]:
                index.setdefault(normalize(name), (sp, c))
    query = normalize(condition)
    if query not in index:
        close = difflib.get_close_matches(query, list(index), n=3, cutoff=0.6)
        hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        raise ToolError(f"No reference entry for {condition!r}.{hint} Give the condition's usual name.")
    sp, c = index[query]
    features = [sp.findings[f].text for f, p in sorted(c.exam.items(), key=lambda x: -x[1]) if p >= 0.5]
    features += [f"{bedside()['maneuvers'][m]['name']}: positive" for m, p in c.maneuvers.items() if p >= 0.5]
    features += [sp.reports[r].impression for reports in c.imaging.values() for r, p in reports.items() if p >= 0.5]
    confirm = []
    for test in c.confirm:
        kind, _, key = test.partition(":")
        confirm.append({"lab": lambda k: catalog.labs()[k]["name"], "imaging": lambda k: catalog.studies()[k]["name"],
                        "ecg": lambda k: "12-lead ECG", "tool": lambda k: k.replace("_", " ").replace(":", ": ")}[kind](key))
    return {"condition": c.name, "icd10": c.icd10, "typical_features": features, "confirmatory_tests": confirm,
            "summary": c.rationale, "source": c.source}
