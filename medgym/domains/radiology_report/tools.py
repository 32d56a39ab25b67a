"""The radiologist's tools: the request, the structured findings, the prior study, the
measurement conventions, one classifier per reporting system, and the structured report.

The classifiers apply the published criteria (systems.py) to the descriptors the agent passes;
choosing the system, the lesion and the descriptors is the agent's work.
"""

from __future__ import annotations

from typing import Any, Literal

from medgym.domains.radiology_report import systems
from medgym.encounter import Encounter
from medgym.tools.registry import ToolError, tool

DOMAIN = "radiology_report"


def _study(case: Encounter) -> dict[str, Any]:
    data = case.task.chart.extra.get("radiology")
    if not data:
        raise ToolError("This encounter has no imaging study to read.")
    return data


@tool(domain=DOMAIN, kind="domain")
def review_imaging_request(case: Encounter) -> dict[str, Any]:
    """Read the imaging request: the examination, the clinical indication, the relevant history and whether a prior study exists.

    Args:
        case: The running encounter (injected by the environment).
    """
    return _study(case)["request"]


@tool(domain=DOMAIN, kind="domain")
def review_imaging_findings(case: Encounter) -> dict[str, Any]:
    """Read the structured findings of the current study: every lesion with its location, size and lexicon descriptors.

    Args:
        case: The running encounter (injected by the environment).
    """
    return _study(case)["findings"]


@tool(domain=DOMAIN, kind="domain", cost=1.0)
def compare_prior_imaging(case: Encounter) -> dict[str, Any]:
    """Compare with the prior study: each current lesion's size then, or that it was not present.

    Args:
        case: The running encounter (injected by the environment).
    """
    prior = _study(case)["prior"]
    if prior is None:
        return {"prior": "No prior examination is available for comparison."}
    return prior


@tool(domain=DOMAIN, kind="domain")
def calculate_nodule_mean_diameter(long_axis_mm: float, short_axis_mm: float, convention: Literal["Fleischner", "Lung-RADS"]) -> dict[str, Any]:
    """Mean diameter of a pulmonary nodule from its long and short axes.

    Fleischner 2017 (MacMahon et al., Radiology 2017): average of long and short axes, rounded to the
    nearest millimetre. Lung-RADS v2022 (ACR 2022): mean of the axes reported to one decimal place.

    Args:
        long_axis_mm: Longest diameter in millimetres.
        short_axis_mm: Perpendicular short-axis diameter in millimetres.
        convention: Which guideline's rounding to apply.
    """
    for name, value in (("long_axis_mm", long_axis_mm), ("short_axis_mm", short_axis_mm)):
        if not 0 < value <= 300:
            raise ToolError(f"{name}={value} mm is outside 0-300 mm; give the axis in millimetres.")
    if short_axis_mm > long_axis_mm:
        raise ToolError("short_axis_mm is larger than long_axis_mm; swap them.")
    return {"mean_diameter_mm": systems.mean_diameter(long_axis_mm, short_axis_mm, convention), "convention": convention}


@tool(domain=DOMAIN, kind="domain")
def assess_interval_growth(system: Literal["Lung-RADS", "LI-RADS"], current_mm: float, prior_mm: float, months: float) -> dict[str, Any]:
    """Decide whether a lesion grew by the system's definition.

    Lung-RADS v2022: growth is an increase in mean diameter of more than 1.5 mm within 12 months.
    LI-RADS v2018: threshold growth is a size increase of at least 50% in 6 months or less.

    Args:
        system: The reporting system whose growth definition applies.
        current_mm: Size now in millimetres (Lung-RADS: mean diameter; LI-RADS: observation size).
        prior_mm: Size on the prior study in millimetres.
        months: Months between the two studies.
    """
    if current_mm <= 0 or prior_mm <= 0 or months <= 0:
        raise ToolError("current_mm, prior_mm and months must all be positive numbers.")
    if system == "Lung-RADS":
        grew = current_mm - prior_mm > systems.table("Lung-RADS")["growth_mm"] and months <= 12
        return {"growing": grew, "rule": "mean diameter increase > 1.5 mm within 12 months",
                "increase_mm": round(current_mm - prior_mm, 1)}
    grew = systems.threshold_growth(current_mm, prior_mm, months)
    return {"threshold_growth": grew, "rule": "size increase >= 50% in <= 6 months",
            "increase_percent": round(100 * (current_mm - prior_mm) / prior_mm)}


@tool(domain=DOMAIN, kind="knowledge")
def radiology_lexicon(system: Literal["BI-RADS", "TI-RADS", "Fleischner", "Lung-RADS", "LI-RADS", "Bosniak"]) -> dict[str, Any]:
    """Look up a reporting system: when it applies, its categories and its standard management recommendations.

    Args:
        system: The reporting system.
    """
    t = systems.table(system)
    out: dict[str, Any] = {"system": system, "source": t["source"], "applies_to": APPLIES_TO[system],
                           "categories": systems.categories(system), "recommendations": systems.recommendations(system)}
    if "categories" in t:
        out["category_definitions"] = {k: v["label"] for k, v in t["categories"].items()}
    if system == "TI-RADS":
        out["points"] = t["points"]
        out["levels"] = t["levels"]
    if system == "Fleischner":
        out["high_risk_factors"] = t["high_risk_factors"]
    return out


APPLIES_TO = {
    "BI-RADS": "breast imaging (mammography, ultrasound); a screening examination with any non-benign finding is category 0",
    "TI-RADS": "thyroid nodules on ultrasound; report the nodule with the highest level",
    "Fleischner": "incidental pulmonary nodules on CT in adults aged 35 or more; not for lung cancer screening, known cancer or immunosuppression",
    "Lung-RADS": "nodules on low-dose CT for lung cancer screening; the most suspicious nodule sets the category",
    "LI-RADS": "liver observations on multiphase CT or MRI in patients at high risk of hepatocellular carcinoma",
    "Bosniak": "cystic renal masses on renal mass protocol CT",
}


@tool(domain=DOMAIN, kind="domain")
def assess_breast_finding(
    exam: Literal["screening", "diagnostic"],
    kind: Literal["mass", "calcifications", "focal_asymmetry", "architectural_distortion", "simple_cyst",
                  "complicated_cyst", "intramammary_lymph_node", "oil_cyst", "lipoma", "hamartoma"],
    shape: Literal["oval", "round", "irregular"] | None = None,
    margin: Literal["circumscribed", "obscured", "indistinct", "angular", "microlobulated", "spiculated"] | None = None,
    orientation: Literal["parallel", "not_parallel"] | None = None,
    echo_pattern: Literal["anechoic", "hypoechoic", "isoechoic", "hyperechoic", "heterogeneous", "complex_cystic_solid"] | None = None,
    density: Literal["high", "equal", "low", "fat_containing"] | None = None,
    morphology: Literal["skin", "vascular", "coarse_popcorn", "large_rod_like", "round", "rim", "dystrophic", "milk_of_calcium",
                        "suture", "punctate", "amorphous", "coarse_heterogeneous", "fine_pleomorphic", "fine_linear_branching"] | None = None,
    distribution: Literal["diffuse", "regional", "grouped", "linear", "segmental"] | None = None,
    associated_calcifications: Literal["none", "amorphous", "coarse_heterogeneous", "fine_pleomorphic", "fine_linear_branching"] | None = None,
    palpable: bool = False,
    biopsy_proven_malignancy: bool = False,
) -> dict[str, Any]:
    """BI-RADS assessment of one breast finding from its lexicon descriptors (ACR BI-RADS Atlas, 5th edition).

    At screening a finding is benign (2) or needs recall (0). At a diagnostic examination the
    rules cover: typically benign findings (2); a solitary complicated cyst, a solitary group of
    punctate calcifications or a circumscribed oval parallel hypoechoic nonpalpable mass at baseline
    (3); any suspicious feature (4; the subcategory is the reader's judgment); an irregular spiculated
    high-density mass with fine linear branching calcifications (5); known biopsy-proven cancer (6).
    The overall assessment is that of the most suspicious finding.

    Args:
        exam: Screening or diagnostic examination.
        kind: The kind of finding.
        shape: Mass shape.
        margin: Mass margin.
        orientation: Mass orientation on ultrasound.
        echo_pattern: Mass echo pattern on ultrasound.
        density: Mass density on mammography.
        morphology: Calcification morphology.
        distribution: Calcification distribution.
        associated_calcifications: Calcifications within or around a mass.
        palpable: Whether the finding is palpable.
        biopsy_proven_malignancy: Whether this finding is a biopsy-proven cancer.
    """
    finding = {k: v for k, v in locals().items() if v is not None and k != "exam"}
    category = systems.birads_screening_finding(finding) if exam == "screening" else systems.birads_finding(finding)
    return systems.classification("BI-RADS", category)


@tool(domain=DOMAIN, kind="domain")
def score_acr_tirads(
    composition: Literal["cystic", "spongiform", "mixed_cystic_solid", "solid"],
    echogenicity: Literal["anechoic", "hyperechoic", "isoechoic", "hypoechoic", "very_hypoechoic"],
    shape: Literal["wider_than_tall", "taller_than_wide"],
    margin: Literal["smooth", "ill_defined", "lobulated_or_irregular", "extrathyroidal_extension"],
    echogenic_foci: list[Literal["none", "large_comet_tail", "macrocalcifications", "peripheral_rim", "punctate"]],
    max_diameter_cm: float,
) -> dict[str, Any]:
    """ACR TI-RADS points, level and FNA/follow-up recommendation for one thyroid nodule.

    Points (Tessler et al., JACR 2017): composition cystic/spongiform 0, mixed 1, solid 2;
    echogenicity anechoic 0, hyper/isoechoic 1, hypoechoic 2, very hypoechoic 3; shape taller-than-wide 3;
    margin lobulated/irregular 2, extrathyroidal extension 3; echogenic foci (sum all) macrocalcifications 1,
    peripheral rim 2, punctate 3. Spongiform nodules get no further points. Levels: 0 TR1, 2 TR2, 3 TR3,
    4-6 TR4, 7+ TR5. FNA if >= 2.5 / 1.5 / 1.0 cm (TR3/TR4/TR5); follow-up if >= 1.5 / 1.0 / 0.5 cm.

    Args:
        composition: Nodule composition.
        echogenicity: Echogenicity (of the solid part for a mixed nodule).
        shape: Shape on the transverse image.
        margin: Nodule margin.
        echogenic_foci: Every type of echogenic focus present (["none"] if none).
        max_diameter_cm: Maximum nodule diameter in centimetres.
    """
    if not 0.1 <= max_diameter_cm <= 15:
        raise ToolError(f"max_diameter_cm={max_diameter_cm} is outside 0.1-15 cm; give the size in centimetres.")
    points = systems.tirads_points(composition, echogenicity, shape, margin, list(echogenic_foci))
    level = systems.tirads_level(points)
    spec = systems.table("TI-RADS")["levels"][level]
    rec = systems.tirads_recommendation(level, max_diameter_cm)
    return {"points": points, "category": level, "label": spec["label"], "recommendation": rec,
            "follow_up_schedule": spec["schedule"] if rec == "ultrasound follow-up" else None}


@tool(domain=DOMAIN, kind="domain")
def classify_fleischner(
    nodule_type: Literal["solid", "ground_glass", "part_solid"], mean_diameter_mm: float, multiple: bool, risk: Literal["low", "high"]
) -> dict[str, Any]:
    """Fleischner Society 2017 recommendation for an incidental pulmonary nodule (MacMahon et al., Radiology 2017, Table 1).

    Applies to adults aged 35 or more; not to lung cancer screening, patients with known cancer or
    immunosuppression. For multiple nodules use the most suspicious one.

    Args:
        nodule_type: Solid, ground-glass (non-solid) or part-solid.
        mean_diameter_mm: Average of long and short axes, rounded to the nearest millimetre.
        multiple: Whether there is more than one nodule.
        risk: Patient risk of lung cancer (high: heavy smoking, exposures, family history, emphysema, fibrosis, upper lobe, spiculation).
    """
    if not 1 <= mean_diameter_mm <= 30:
        raise ToolError(f"mean_diameter_mm={mean_diameter_mm} is outside 1-30 mm; Fleischner covers nodules under 3 cm.")
    row, rec = systems.fleischner(nodule_type, mean_diameter_mm, multiple, risk)
    return {"category": row, "recommendation": rec}


@tool(domain=DOMAIN, kind="domain")
def classify_lung_rads(
    nodule_type: Literal["solid", "part_solid", "ground_glass"],
    mean_diameter_mm: float,
    status: Literal["baseline", "new", "growing", "stable"],
    solid_component_mm: float | None = None,
    benign_calcification: bool = False,
    fat: bool = False,
    perifissural: bool = False,
) -> dict[str, Any]:
    """Lung-RADS v2022 category and management of one screening nodule (ACR, November 2022).

    Solid: baseline <6 mm 2, 6-<8 3, 8-<15 4A, >=15 4B; new <4 2, 4-<6 3, 6-<8 4A, >=8 4B; growing <8 4A, >=8 4B.
    Part-solid at baseline: <6 mm total 2; solid component <6 3, 6-<8 4A, >=8 4B; new <6 mm total 3;
    new or growing solid component <4 mm 4A, >=4 mm 4B. Non-solid <30 mm 2, >=30 mm at baseline or new 3.
    Benign calcification (complete, central, popcorn, concentric rings) or fat 1; perifissural solid <10 mm 2.

    Args:
        nodule_type: Solid, part-solid or ground-glass (non-solid).
        mean_diameter_mm: Mean of long and short axes to one decimal place.
        status: Baseline screen, new since the prior, growing (>1.5 mm in 12 months; for a part-solid nodule its solid component is new or growing), or stable.
        solid_component_mm: Mean diameter of the solid component of a part-solid nodule.
        benign_calcification: Complete, central, popcorn or concentric-ring calcification.
        fat: Macroscopic fat in the nodule.
        perifissural: A smooth solid lentiform or triangular nodule attached to a fissure or pleura.
    """
    if not 0 < mean_diameter_mm <= 100:
        raise ToolError(f"mean_diameter_mm={mean_diameter_mm} is outside 0-100 mm.")
    category = systems.lungrads(nodule_type, mean_diameter_mm, status, solid_component_mm, benign_calcification, fat, perifissural)
    return systems.classification("Lung-RADS", category)


@tool(domain=DOMAIN, kind="domain")
def classify_li_rads(
    size_mm: float,
    aphe: Literal["none", "nonrim", "rim"],
    washout: bool,
    capsule: bool,
    threshold_growth: bool = False,
    tumor_in_vein: bool = False,
    definitely_benign: bool = False,
) -> dict[str, Any]:
    """CT/MRI LI-RADS v2018 category of an untreated liver observation in a patient at high risk of HCC.

    Diagnostic table (no APHE / nonrim APHE by size): no APHE <20 mm LR-3 (LR-4 with >=2 features),
    >=20 mm LR-3 (LR-4 with >=1); nonrim APHE <10 mm LR-3 (LR-4 with >=1); 10-19 mm LR-3, one feature
    LR-4 for capsule and LR-5 for washout or threshold growth, >=2 LR-5; >=20 mm LR-4 (LR-5 with >=1).
    Rim APHE (targetoid) LR-M; tumor in vein LR-TIV; definitely benign (cyst, typical hemangioma) LR-1.

    Args:
        size_mm: Observation size in millimetres.
        aphe: Arterial phase hyperenhancement: none, nonrim or rim.
        washout: Nonperipheral washout.
        capsule: Enhancing capsule.
        threshold_growth: Size increase of >= 50% in <= 6 months.
        tumor_in_vein: Unequivocal enhancing soft tissue in a vein.
        definitely_benign: Imaging features diagnostic of a benign entity.
    """
    if not 1 <= size_mm <= 300:
        raise ToolError(f"size_mm={size_mm} is outside 1-300 mm.")
    category = systems.lirads(size_mm, aphe, washout, capsule, threshold_growth, tumor_in_vein, definitely_benign)
    return systems.classification("LI-RADS", category)


@tool(domain=DOMAIN, kind="domain")
def classify_bosniak(
    wall_mm: int,
    septa_count: int,
    septa_mm: int,
    enhancing: bool,
    irregular: bool = False,
    nodule: Literal["none", "obtuse_4mm_or_more", "acute"] = "none",
    calcification: bool = False,
    noncontrast_hu: float = 10.0,
    homogeneous: bool = True,
) -> dict[str, Any]:
    """Bosniak 2019 class of a cystic renal mass on renal mass protocol CT (Silverman et al., Radiology 2019).

    IV: enhancing nodule (obtuse protrusion >= 4 mm or any acute-margined protrusion). III: enhancing
    thick (>= 4 mm) or irregular (obtuse protrusions <= 3 mm) wall or septa. IIF: enhancing smooth
    minimally thickened (3 mm) wall or septa, or >= 4 thin septa. II: 1-3 thin septa, calcification,
    or homogeneous >= 70 HU unenhanced. I: thin (<= 2 mm) smooth wall, simple fluid (-9 to 20 HU).

    Args:
        wall_mm: Wall thickness in millimetres.
        septa_count: Number of septa.
        septa_mm: Thickness of the thickest septum in millimetres (0 if none).
        enhancing: Whether the wall or septa enhance.
        irregular: Irregular wall or septa (obtuse convex protrusions of 3 mm or less).
        nodule: Enhancing nodule: none, obtuse-margined 4 mm or more, or acute-margined of any size.
        calcification: Calcification present.
        noncontrast_hu: Attenuation of the contents on the unenhanced images (HU).
        homogeneous: Whether the contents are homogeneous.
    """
    if not 0 <= wall_mm <= 30 or not 0 <= septa_mm <= 30 or not 0 <= septa_count <= 50:
        raise ToolError("wall_mm and septa_mm must be 0-30 mm and septa_count 0-50.")
    category = systems.bosniak(wall_mm, septa_count, septa_mm, enhancing, irregular, nodule, calcification, noncontrast_hu, homogeneous)
    return systems.classification("Bosniak", category)


@tool(domain=DOMAIN, kind="submit")
def submit_radiology_report(
    system: Literal["BI-RADS", "TI-RADS", "Fleischner", "Lung-RADS", "LI-RADS", "Bosniak"],
    findings: str,
    category: str,
    recommendation: str,
    case: Encounter,
) -> dict[str, Any]:
    """Submit the structured report: system, findings, category and the standard recommendation. This ends the reading.

    Args:
        system: The reporting system that applies to this study.
        findings: The key finding in a sentence (e.g. "L2: 12 mm solid nodule, right upper lobe").
        category: The system's category, e.g. "4A", "TR4", "LR-5", "IIF", or for Fleischner the table row, e.g. "solid single 6-8 mm".
        recommendation: The system's standard management recommendation, written as radiology_lexicon lists it.
        case: The running encounter (injected by the environment).
    """
    if not findings.strip():
        raise ToolError("findings is empty; summarize the key finding in a sentence.")
    if systems.canonical_category(system, category) is None:
        raise ToolError(f"{category!r} is not a {system} category; use one of: {', '.join(systems.categories(system))}.")
    if systems.canonical_recommendation(system, recommendation) is None:
        raise ToolError(f"{recommendation!r} is not a standard {system} recommendation; use one of: "
                        + "; ".join(repr(r) for r in systems.recommendations(system)) + ".")
    case.submissions["submit_radiology_report"] = {"system": system, "findings": findings, "category": category,
                                                    "recommendation": recommendation}
    return {"status": "received", "system": system, "category": systems.canonical_category(system, category),
            "recommendation": systems.canonical_recommendation(system, recommendation)}
