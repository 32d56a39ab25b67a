"""The six reporting systems as code over the tables in systems.yaml.

Each classifier takes the lexicon descriptors of one lesion and returns its category; the
standard management recommendation of a category comes from the tables. A combination the
publications do not settle unambiguously raises `ValueError` naming why, and is never generated.
"""

from __future__ import annotations

import math
from functools import cache
from importlib import resources
from typing import Any, Literal

import yaml

from medgym.rewards import compact

System = Literal["BI-RADS", "TI-RADS", "Fleischner", "Lung-RADS", "LI-RADS", "Bosniak"]
SYSTEMS: dict[str, str] = {
    "BI-RADS": "birads",
    "TI-RADS": "tirads",
    "Fleischner": "fleischner",
    "Lung-RADS": "lungrads",
    "LI-RADS": "lirads",
    "Bosniak": "bosniak",
}


@cache
def tables() -> dict[str, Any]:
    """systems.yaml: every system's categories, recommendations, point tables and thresholds."""
    return yaml.safe_load(resources.files(__package__).joinpath("systems.yaml").read_text())


def table(system: str) -> dict[str, Any]:
    if system not in SYSTEMS:
        raise ValueError(f"unknown reporting system {system!r}; choose one of {', '.join(SYSTEMS)}")
    return tables()[SYSTEMS[system]]


def source(system: str) -> str:
    return table(system)["source"]


def half_up(value: float, digits: int = 0) -> float:
    """Round half away from zero (the way the guidelines round), not Python's round-half-even."""
    factor = 10**digits
    return math.floor(value * factor + 0.5) / factor


# --- categories and recommendations ------------------------------------------------------------------


def categories(system: str) -> list[str]:
    """The categories a report in `system` may assign (for Fleischner, the rows of Table 1)."""
    t = table(system)
    return list(t["rows"]) if system == "Fleischner" else list(t["categories"]) if "categories" in t else list(t["levels"])


def recommendations(system: str) -> list[str]:
    """The standard management recommendations of `system`, in order of first use."""
    t = table(system)
    if system == "Fleischner":
        found = [r for row in t["rows"].values() for r in row.values()]
    elif system == "TI-RADS":
        found = t["recommendations"]
    else:
        found = [c["recommendation"] for c in t["categories"].values()]
    return list(dict.fromkeys(found))


def category_spellings(system: str, category: str) -> list[str]:
    """Ways of writing `category` that a report may use: "4A", "BI-RADS 4A", "Lung-RADS category 4A"."""
    prefixes = table(system).get("prefixes", [])
    bare = [category]
    if system == "LI-RADS":
        bare.append(category.removeprefix("LR-"))
    if system == "TI-RADS":
        bare.append(category.removeprefix("TR"))
    return list(dict.fromkeys([*bare, *(f"{p} {b}" for p in prefixes for b in bare)]))


def canonical_category(system: str, text: str) -> str | None:
    """The category `text` names in `system`, or None."""
    wanted = compact(text)
    for category in categories(system):
        if wanted in {compact(s) for s in category_spellings(system, category)}:
            return category
    return None


def canonical_recommendation(system: str, text: str) -> str | None:
    """The standard recommendation `text` names (compared without case and punctuation), or None."""
    wanted = compact(text)
    return next((r for r in recommendations(system) if compact(r) == wanted), None)


def recommendation(system: str, category: str) -> str:
    """The standard recommendation of a category (not for TI-RADS or Fleischner, which also need size or risk)."""
    return table(system)["categories"][category]["recommendation"]


def classification(system: str, category: str) -> dict[str, str]:
    """A classifier tool's result: the category with its label and standard recommendation."""
    return {"category": category, "label": table(system)["categories"][category]["label"],
            "recommendation": recommendation(system, category)}


# --- BI-RADS -----------------------------------------------------------------------------------------

BIRADS_ORDER = ["1", "2", "3", "4", "5", "6"]


def birads_finding(finding: dict[str, Any]) -> str:
    """The assessment of one finding at a diagnostic examination (BI-RADS Atlas 5th ed.)."""
    t = table("BI-RADS")
    kind = finding.get("kind")
    if finding.get("biopsy_proven_malignancy"):
        return "6"
    if kind in t["benign_masses"]:
        return "2"
    if kind == "complicated_cyst":
        return "3"  # an isolated complicated cyst is probably benign
    if kind == "calcifications":
        morphology = finding.get("morphology")
        if morphology in t["benign_calcifications"]:
            return "2"
        if morphology in t["suspicious_calcifications"]:
            return "4"
        if morphology == "punctate" and finding.get("distribution") == "grouped":
            return "3"  # a solitary group of punctate calcifications
        raise ValueError(f"calcification morphology {morphology!r} with distribution {finding.get('distribution')!r} "
                         "is not assessed by a rule here")
    if kind == "architectural_distortion":
        return "4"
    if kind == "mass":
        associated = finding.get("associated_calcifications", "none")
        classic = (finding.get("shape") == "irregular" and finding.get("margin") == "spiculated"
                   and finding.get("density") == "high")
        if classic and associated == "fine_linear_branching":
            return "5"
        if finding.get("margin") == "obscured":
            raise ValueError("an obscured margin needs further imaging before it can be assessed")
        suspicious = (finding.get("shape") == "irregular" or finding.get("margin") != "circumscribed"
                      or finding.get("orientation") == "not_parallel" or associated in t["suspicious_calcifications"])
        if suspicious:
            return "4"
        if (finding.get("shape") == "oval" and finding.get("orientation", "parallel") == "parallel"
                and finding.get("echo_pattern") == "hypoechoic" and not finding.get("palpable")):
            return "3"  # circumscribed oval parallel hypoechoic solid mass at a baseline examination
        raise ValueError("a circumscribed mass that is not an oval parallel hypoechoic nonpalpable mass "
                         "is not assessed by a rule here")
    raise ValueError(f"finding kind {kind!r} is not assessed by a rule here")


def birads_benign(finding: dict[str, Any]) -> bool:
    """A typically benign finding (assessed 2 even at screening)."""
    t = table("BI-RADS")
    return finding.get("kind") in t["benign_masses"] or (
        finding.get("kind") == "calcifications" and finding.get("morphology") in t["benign_calcifications"])


def birads_screening_finding(finding: dict[str, Any]) -> str:
    """At screening a finding is benign (2) or needs recall for additional imaging (0)."""
    return "2" if birads_benign(finding) else "0"


def birads(exam: str, findings: list[dict[str, Any]]) -> str:
    """Overall assessment: the most suspicious finding decides; a screening exam with any
    finding that is not benign is incomplete (0) and needs recall."""
    if not findings:
        return "1"
    if exam == "screening":
        return "2" if all(birads_benign(f) for f in findings) else "0"
    return max((birads_finding(f) for f in findings), key=BIRADS_ORDER.index)


# --- TI-RADS -----------------------------------------------------------------------------------------


def tirads_points(composition: str, echogenicity: str, shape: str, margin: str, echogenic_foci: list[str]) -> int:
    """Sum of points, one feature from each of the first four categories and every echogenic focus that applies."""
    points = table("TI-RADS")["points"]
    for name, value in (("composition", composition), ("echogenicity", echogenicity), ("shape", shape), ("margin", margin)):
        if value not in points[name]:
            raise ValueError(f"{name} must be one of {', '.join(points[name])}; got {value!r}")
    foci = list(dict.fromkeys(echogenic_foci or ["none"]))
    for focus in foci:
        if focus not in points["echogenic_foci"]:
            raise ValueError(f"echogenic_foci must be from {', '.join(points['echogenic_foci'])}; got {focus!r}")
    if composition == "spongiform":
        return 0  # the white paper: a spongiform nodule gets no further points
    return (points["composition"][composition] + points["echogenicity"][echogenicity] + points["shape"][shape]
            + points["margin"][margin] + sum(points["echogenic_foci"][f] for f in foci))


def tirads_level(points: int) -> str:
    if points == 1:
        raise ValueError("a total of 1 point has no ACR TI-RADS level; re-check the features "
                         "(a cystic nodule is anechoic; a mixed nodule's solid part has an echogenicity)")
    levels = table("TI-RADS")["levels"]
    return [name for name, spec in levels.items() if points >= spec["min_points"]][-1]


def tirads_recommendation(level: str, max_diameter_cm: float) -> str:
    """FNA, ultrasound follow-up or neither, by the level's size thresholds (maximum diameter)."""
    spec = table("TI-RADS")["levels"][level]
    if spec["fna_cm"] is not None and max_diameter_cm >= spec["fna_cm"]:
        return "FNA"
    if spec["follow_cm"] is not None and max_diameter_cm >= spec["follow_cm"]:
        return "ultrasound follow-up"
    return "no FNA or follow-up"


# --- pulmonary nodules -------------------------------------------------------------------------------


def mean_diameter(long_axis_mm: float, short_axis_mm: float, convention: str) -> float:
    """Fleischner 2017: average of long and short axes rounded to the nearest millimetre.
    Lung-RADS v2022: mean of long and short axes to one decimal place."""
    mean = (long_axis_mm + short_axis_mm) / 2
    if convention == "Fleischner":
        return half_up(mean)
    if convention == "Lung-RADS":
        return half_up(mean, 1)
    raise ValueError(f"convention must be 'Fleischner' or 'Lung-RADS'; got {convention!r}")


def fleischner_row(nodule_type: str, mean_diameter_mm: float, multiple: bool) -> str:
    """The row of Fleischner Table 1 for the nodule (for multiple nodules, the most suspicious one)."""
    size = half_up(mean_diameter_mm)
    count = "multiple" if multiple else "single"
    if nodule_type == "solid":
        band = "under 6 mm" if size < 6 else "6-8 mm" if size <= 8 else "over 8 mm"
        return f"solid {count} {band}"
    if nodule_type not in ("ground_glass", "part_solid"):
        raise ValueError(f"nodule_type must be solid, ground_glass or part_solid; got {nodule_type!r}")
    band = "under 6 mm" if size < 6 else "6 mm or more"
    if multiple:
        return f"subsolid multiple {band}"
    return f"{'ground-glass' if nodule_type == 'ground_glass' else 'part-solid'} single {band}"


def fleischner(nodule_type: str, mean_diameter_mm: float, multiple: bool, risk: str) -> tuple[str, str]:
    """(row, recommendation) for an incidental nodule in an adult of 35 or more without cancer or immunosuppression."""
    if risk not in ("low", "high"):
        raise ValueError(f"risk must be 'low' or 'high'; got {risk!r}")
    row = fleischner_row(nodule_type, mean_diameter_mm, multiple)
    options = table("Fleischner")["rows"][row]
    return row, options.get("any") or options[risk]


def lungrads(nodule_type: str, mean_diameter_mm: float, status: str, solid_component_mm: float | None = None,
             benign_calcification: bool = False, fat: bool = False, perifissural: bool = False) -> str:
    """Lung-RADS v2022 category of one nodule. status: baseline, new, growing (for a part-solid nodule: its solid
    component is new or growing) or stable."""
    if benign_calcification or fat:
        return "1"
    d = mean_diameter_mm
    if status not in ("baseline", "new", "growing", "stable"):
        raise ValueError(f"status must be baseline, new, growing or stable; got {status!r}")
    if perifissural:
        if nodule_type != "solid" or d >= 10 or status not in ("baseline", "new"):
            raise ValueError("the perifissural rule covers solid nodules under 10 mm at baseline or new")
        return "2"
    if nodule_type == "solid":
        if status == "stable":
            if d < 6:
                return "2"
            raise ValueError("stable solid nodules of 6 mm or more follow the stepped management, not encoded here")
        bands = {"baseline": [(6, "2"), (8, "3"), (15, "4A")], "new": [(4, "2"), (6, "3"), (8, "4A")], "growing": [(8, "4A")]}
        return next((cat for limit, cat in bands[status] if d < limit), "4B")
    if nodule_type == "part_solid":
        s = solid_component_mm or 0.0
        if status == "baseline":
            if d < 6:
                return "2"
            return "3" if s < 6 else "4A" if s < 8 else "4B"
        if status == "new" and d < 6:
            return "3"
        if status == "growing":
            if s < 4:
                return "4A"
            if s < 6 or s >= 8:
                return "4B"
        raise ValueError("a new part-solid nodule of 6 mm or more, or a growing solid component of 6 to <8 mm, "
                         "fits two rows of the table; not encoded")
    if nodule_type == "ground_glass":
        if status in ("baseline", "new"):
            return "2" if d < 30 else "3"
        if status in ("growing", "stable") and d < 30:
            return "2"
        raise ValueError("a growing or stable non-solid nodule of 30 mm or more depends on the growth rate; not encoded")
    raise ValueError(f"nodule_type must be solid, part_solid or ground_glass; got {nodule_type!r}")


LUNGRADS_ORDER = ["1", "2", "3", "4A", "4B"]


# --- LI-RADS -----------------------------------------------------------------------------------------


def threshold_growth(size_mm: float, prior_size_mm: float, months: float) -> bool:
    """LI-RADS v2018 threshold growth: size increase of >= 50% in <= 6 months."""
    rule = table("LI-RADS")["threshold_growth"]
    return months <= rule["max_months"] and size_mm >= prior_size_mm * (1 + rule["increase"])


def lirads(size_mm: float, aphe: str, washout: bool, capsule: bool, threshold_growth: bool = False,
           tumor_in_vein: bool = False, definitely_benign: bool = False) -> str:
    """CT/MRI LI-RADS v2018 category of an untreated observation in a patient at high risk of HCC."""
    if tumor_in_vein:
        return "LR-TIV"
    if definitely_benign:
        return "LR-1"
    if aphe == "rim":
        return "LR-M"  # rim APHE is a targetoid LR-M feature
    if aphe not in ("none", "nonrim"):
        raise ValueError(f"aphe must be none, nonrim or rim; got {aphe!r}")
    extra = int(washout) + int(capsule) + int(threshold_growth)
    if aphe == "none":
        if size_mm < 20:
            return "LR-4" if extra >= 2 else "LR-3"
        return "LR-4" if extra >= 1 else "LR-3"
    if size_mm < 10:
        return "LR-4" if extra >= 1 else "LR-3"
    if size_mm < 20:
        if extra == 0:
            return "LR-3"
        if extra >= 2:
            return "LR-5"
        return "LR-5" if (washout or threshold_growth) else "LR-4"  # capsule alone: LR-4
    return "LR-5" if extra >= 1 else "LR-4"


# --- Bosniak -----------------------------------------------------------------------------------------


def bosniak(wall_mm: int, septa_count: int, septa_mm: int, enhancing: bool, irregular: bool = False,
            nodule: str = "none", calcification: bool = False, noncontrast_hu: float = 10.0,
            homogeneous: bool = True) -> str:
    """Bosniak 2019 CT class of a cystic renal mass. nodule: none, obtuse_4mm_or_more or acute (enhancing)."""
    t = table("Bosniak")
    if nodule in ("obtuse_4mm_or_more", "acute"):
        return "IV"
    if nodule != "none":
        raise ValueError(f"nodule must be none, obtuse_4mm_or_more or acute; got {nodule!r}")
    thickest = max(wall_mm, septa_mm if septa_count else 0)
    if thickest >= t["thick_mm"] or irregular:
        if enhancing:
            return "III"
        raise ValueError("a thick or irregular wall or septum that does not enhance is not classed by a rule here")
    if thickest == t["minimal_mm"] or septa_count >= 4:
        if enhancing:
            return "IIF"
        raise ValueError("minimal thickening or many septa without enhancement is not classed by a rule here")
    if 1 <= septa_count <= 3 or calcification or (homogeneous and noncontrast_hu >= t["hyperattenuating_hu"]):
        return "II"
    low, high = t["simple_fluid_hu"]
    if wall_mm <= t["thin_mm"] and septa_count == 0 and homogeneous and low <= noncontrast_hu <= high:
        return "I"
    raise ValueError("this combination is not one of the Bosniak 2019 CT classes encoded here")
