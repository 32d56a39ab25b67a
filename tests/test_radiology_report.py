"""radiology_report: each reporting system against its published criteria, the tools, the tasks and the grading."""

import pytest

from medgym import load_tasks
from medgym.domains.radiology_report import systems
from medgym.domains.radiology_report.cases import generate
from medgym.episode import CallRecord, Episode
from medgym.rewards import score
from medgym.tools import ToolError, call_tool, list_tools

from domain_checks import (
    assert_knowledge_is_sourced,
    assert_oracle_solves_and_scripted_is_a_baseline,
    assert_scripted_blind_to_truth,
    own_tools,
)


@pytest.fixture(scope="module")
def tasks():
    return load_tasks(domain="radiology_report")


# --- ACR TI-RADS (Tessler et al., JACR 2017: the chart of points, levels and size thresholds) -----------


@pytest.mark.parametrize("features, points, level", [
    (("solid", "hypoechoic", "wider_than_tall", "smooth", ["none"]), 4, "TR4"),          # 2+2+0+0+0
    (("solid", "very_hypoechoic", "taller_than_wide", "lobulated_or_irregular", ["punctate"]), 13, "TR5"),
    (("mixed_cystic_solid", "isoechoic", "wider_than_tall", "smooth", ["none"]), 2, "TR2"),  # 1+1
    (("mixed_cystic_solid", "hypoechoic", "wider_than_tall", "smooth", ["none"]), 3, "TR3"),
    (("solid", "isoechoic", "wider_than_tall", "ill_defined", ["macrocalcifications"]), 4, "TR4"),
    (("solid", "hypoechoic", "wider_than_tall", "smooth", ["macrocalcifications", "peripheral_rim"]), 7, "TR5"),  # foci add up
    (("cystic", "anechoic", "wider_than_tall", "smooth", ["large_comet_tail"]), 0, "TR1"),
    (("spongiform", "hypoechoic", "taller_than_wide", "lobulated_or_irregular", ["punctate"]), 0, "TR1"),  # no further points
    (("solid", "hyperechoic", "wider_than_tall", "extrathyroidal_extension", ["none"]), 6, "TR4"),
])
def test_tirads_points_and_levels(features, points, level):
    assert systems.tirads_points(*features) == points
    assert systems.tirads_level(points) == level


@pytest.mark.parametrize("level, size, recommendation", [
    ("TR1", 4.0, "no FNA or follow-up"), ("TR2", 4.0, "no FNA or follow-up"),
    ("TR3", 2.5, "FNA"), ("TR3", 2.4, "ultrasound follow-up"), ("TR3", 1.5, "ultrasound follow-up"), ("TR3", 1.4, "no FNA or follow-up"),
    ("TR4", 1.5, "FNA"), ("TR4", 1.0, "ultrasound follow-up"), ("TR4", 0.9, "no FNA or follow-up"),
    ("TR5", 1.0, "FNA"), ("TR5", 0.5, "ultrasound follow-up"), ("TR5", 0.4, "no FNA or follow-up"),
])
def test_tirads_size_thresholds_are_inclusive(level, size, recommendation):
    assert systems.tirads_recommendation(level, size) == recommendation


def test_tirads_one_point_has_no_level():
    with pytest.raises(ValueError, match="1 point"):
        systems.tirads_level(1)


# --- Fleischner Society 2017 (MacMahon et al., Radiology 2017, Table 1) -----------------------------------


@pytest.mark.parametrize("nodule, size, multiple, risk, row, recommendation", [
    ("solid", 5, False, "low", "solid single under 6 mm", "no routine follow-up"),
    ("solid", 5, False, "high", "solid single under 6 mm", "optional CT at 12 months"),
    ("solid", 7, False, "low", "solid single 6-8 mm", "CT at 6-12 months, then consider CT at 18-24 months"),
    ("solid", 7, False, "high", "solid single 6-8 mm", "CT at 6-12 months, then CT at 18-24 months"),
    ("solid", 12, False, "low", "solid single over 8 mm", "consider CT at 3 months, PET/CT or tissue sampling"),
    ("solid", 7, True, "low", "solid multiple 6-8 mm", "CT at 3-6 months, then consider CT at 18-24 months"),
    ("solid", 7, True, "high", "solid multiple 6-8 mm", "CT at 3-6 months, then CT at 18-24 months"),
    ("solid", 10, True, "high", "solid multiple over 8 mm", "CT at 3-6 months, then consider CT at 18-24 months"),
    ("ground_glass", 5, False, "high", "ground-glass single under 6 mm", "no routine follow-up"),
    ("ground_glass", 8, False, "low", "ground-glass single 6 mm or more",
     "CT at 6-12 months to confirm persistence, then every 2 years until 5 years"),
    ("part_solid", 9, False, "low", "part-solid single 6 mm or more",
     "CT at 3-6 months to confirm persistence, then annually for 5 years if unchanged and solid component under 6 mm"),
    ("ground_glass", 4, True, "low", "subsolid multiple under 6 mm", "CT at 3-6 months, then consider CT at 2 and 4 years if stable"),
    ("part_solid", 7, True, "low", "subsolid multiple 6 mm or more", "CT at 3-6 months, then manage by the most suspicious nodule"),
])
def test_fleischner_table(nodule, size, multiple, risk, row, recommendation):
    assert systems.fleischner(nodule, size, multiple, risk) == (row, recommendation)


def test_nodule_size_conventions_round_half_up():
    # Fleischner 2017: average of long and short axes rounded to the nearest millimetre (8.5 -> 9, not 8)
    assert systems.mean_diameter(9.0, 8.0, "Fleischner") == 9
    assert systems.fleischner_row("solid", systems.mean_diameter(9.0, 8.0, "Fleischner"), False) == "solid single over 8 mm"
    assert systems.mean_diameter(6.0, 5.0, "Fleischner") == 6
    # Lung-RADS v2022: mean diameter to one decimal place
    assert systems.mean_diameter(7.3, 5.0, "Lung-RADS") == 6.2


# --- Lung-RADS v2022 (ACR, November 2022: assessment categories) -----------------------------------------


@pytest.mark.parametrize("args, category", [
    (("solid", 5.9, "baseline"), "2"), (("solid", 6.0, "baseline"), "3"), (("solid", 8.0, "baseline"), "4A"),
    (("solid", 15.0, "baseline"), "4B"), (("solid", 3.9, "new"), "2"), (("solid", 4.0, "new"), "3"),
    (("solid", 6.0, "new"), "4A"), (("solid", 8.0, "new"), "4B"), (("solid", 7.9, "growing"), "4A"),
    (("solid", 8.0, "growing"), "4B"), (("ground_glass", 29.9, "baseline"), "2"), (("ground_glass", 30.0, "baseline"), "3"),
    (("ground_glass", 30.0, "new"), "3"), (("solid", 4.0, "stable"), "2"),
])
def test_lungrads_solid_and_nonsolid(args, category):
    assert systems.lungrads(*args) == category


@pytest.mark.parametrize("total, solid, status, category", [
    (5.9, 3.0, "baseline", "2"), (10.0, 5.9, "baseline", "3"), (10.0, 6.0, "baseline", "4A"), (12.0, 8.0, "baseline", "4B"),
    (5.0, 2.0, "new", "3"), (12.0, 3.9, "growing", "4A"), (12.0, 4.0, "growing", "4B"),
])
def test_lungrads_part_solid(total, solid, status, category):
    assert systems.lungrads("part_solid", total, status, solid) == category


def test_lungrads_benign_features_and_unsettled_rows():
    assert systems.lungrads("solid", 9.0, "baseline", benign_calcification=True) == "1"
    assert systems.lungrads("solid", 9.0, "baseline", fat=True) == "1"
    assert systems.lungrads("solid", 9.0, "baseline", perifissural=True) == "2"
    with pytest.raises(ValueError, match="two rows"):
        systems.lungrads("part_solid", 12.0, "new", 7.0)
    with pytest.raises(ValueError, match="stepped management"):
        systems.lungrads("solid", 7.0, "stable")


# --- LI-RADS CT/MRI v2018 (ACR 2018: the diagnostic table, cell by cell) -----------------------------------


@pytest.mark.parametrize("size, aphe, washout, capsule, growth, category", [
    # no APHE, < 20 mm: 0 / 1 / >= 2 additional major features
    (15, "none", False, False, False, "LR-3"), (15, "none", True, False, False, "LR-3"), (15, "none", True, True, False, "LR-4"),
    # no APHE, >= 20 mm
    (25, "none", False, False, False, "LR-3"), (25, "none", False, True, False, "LR-4"), (25, "none", True, True, False, "LR-4"),
    # nonrim APHE, < 10 mm
    (8, "nonrim", False, False, False, "LR-3"), (8, "nonrim", True, False, False, "LR-4"), (8, "nonrim", True, True, True, "LR-4"),
    # nonrim APHE, 10-19 mm: capsule alone LR-4, washout or threshold growth alone LR-5
    (15, "nonrim", False, False, False, "LR-3"), (15, "nonrim", False, True, False, "LR-4"), (15, "nonrim", True, False, False, "LR-5"),
    (15, "nonrim", False, False, True, "LR-5"), (15, "nonrim", False, True, True, "LR-5"),
    # nonrim APHE, >= 20 mm
    (20, "nonrim", False, False, False, "LR-4"), (20, "nonrim", False, True, False, "LR-5"), (30, "nonrim", True, True, False, "LR-5"),
])
def test_lirads_diagnostic_table(size, aphe, washout, capsule, growth, category):
    assert systems.lirads(size, aphe, washout, capsule, growth) == category


def test_lirads_other_categories_and_threshold_growth():
    assert systems.lirads(30, "rim", False, False) == "LR-M"
    assert systems.lirads(30, "nonrim", True, True, tumor_in_vein=True) == "LR-TIV"
    assert systems.lirads(12, "none", False, False, definitely_benign=True) == "LR-1"
    assert systems.threshold_growth(15, 10, 6) and not systems.threshold_growth(15, 10, 7)  # >= 50% in <= 6 months
    assert not systems.threshold_growth(14, 10, 3)


# --- Bosniak 2019 (Silverman et al., Radiology 2019: CT classes) ------------------------------------------


@pytest.mark.parametrize("kwargs, category", [
    (dict(wall_mm=1, septa_count=0, septa_mm=0, enhancing=True, noncontrast_hu=5), "I"),
    (dict(wall_mm=2, septa_count=2, septa_mm=1, enhancing=True), "II"),
    (dict(wall_mm=1, septa_count=0, septa_mm=0, enhancing=False, calcification=True), "II"),
    (dict(wall_mm=1, septa_count=0, septa_mm=0, enhancing=False, noncontrast_hu=75), "II"),
    (dict(wall_mm=3, septa_count=0, septa_mm=0, enhancing=True), "IIF"),
    (dict(wall_mm=2, septa_count=5, septa_mm=2, enhancing=True), "IIF"),
    (dict(wall_mm=2, septa_count=2, septa_mm=3, enhancing=True), "IIF"),
    (dict(wall_mm=4, septa_count=0, septa_mm=0, enhancing=True), "III"),
    (dict(wall_mm=2, septa_count=1, septa_mm=2, enhancing=True, irregular=True), "III"),
    (dict(wall_mm=2, septa_count=1, septa_mm=2, enhancing=True, nodule="obtuse_4mm_or_more"), "IV"),
    (dict(wall_mm=2, septa_count=0, septa_mm=0, enhancing=True, nodule="acute"), "IV"),
])
def test_bosniak_classes(kwargs, category):
    assert systems.bosniak(**kwargs) == category


def test_bosniak_management():
    assert systems.recommendation("Bosniak", "IIF") == "follow-up imaging at 6 and 12 months, then annually for 5 years"
    assert systems.recommendation("Bosniak", "I") == systems.recommendation("Bosniak", "II") == "no follow-up"


# --- BI-RADS Atlas 5th edition -----------------------------------------------------------------------------


def test_birads_assessments_and_management():
    cyst = {"kind": "simple_cyst"}
    probably_benign = {"kind": "mass", "shape": "oval", "margin": "circumscribed", "orientation": "parallel", "echo_pattern": "hypoechoic"}
    suspicious = {"kind": "mass", "shape": "irregular", "margin": "angular", "orientation": "not_parallel", "echo_pattern": "hypoechoic"}
    classic = {"kind": "mass", "shape": "irregular", "margin": "spiculated", "density": "high", "associated_calcifications": "fine_linear_branching"}
    assert systems.birads("screening", []) == "1"
    assert systems.birads("screening", [{"kind": "calcifications", "morphology": "vascular", "distribution": "diffuse"}]) == "2"
    assert systems.birads("screening", [suspicious]) == "0"
    assert systems.birads("diagnostic", [cyst]) == "2"
    assert systems.birads("diagnostic", [probably_benign]) == "3"
    assert systems.birads("diagnostic", [{"kind": "calcifications", "morphology": "punctate", "distribution": "grouped"}]) == "3"
    assert systems.birads("diagnostic", [cyst, suspicious]) == "4"  # the most suspicious finding decides
    assert systems.birads("diagnostic", [classic]) == "5"
    assert systems.birads("diagnostic", [{**suspicious, "biopsy_proven_malignancy": True}]) == "6"
    assert {c: systems.recommendation("BI-RADS", c) for c in ("0", "3", "4", "5", "6")} == {
        "0": "recall for additional imaging", "3": "short-interval follow-up at 6 months", "4": "tissue diagnosis",
        "5": "tissue diagnosis", "6": "surgical excision when clinically appropriate"}
    with pytest.raises(ValueError, match="obscured"):
        systems.birads_finding({"kind": "mass", "shape": "oval", "margin": "obscured"})


def test_category_and_recommendation_spellings():
    assert systems.canonical_category("TI-RADS", "TR-4") == "TR4"
    assert systems.canonical_category("TI-RADS", "ACR TI-RADS 4") == "TR4"
    assert systems.canonical_category("LI-RADS", "lr5") == "LR-5"
    assert systems.canonical_category("Lung-RADS", "Lung-RADS category 4a") == "4A"
    assert systems.canonical_category("BI-RADS", "TR4") is None
    assert systems.canonical_recommendation("Lung-RADS", "ldct in 3 months") == "LDCT in 3 months"
    for system in systems.SYSTEMS:  # every standard recommendation is told apart from every other
        recs = systems.recommendations(system)
        assert len({systems.canonical_recommendation(system, r) for r in recs}) == len(recs)


# --- tools -------------------------------------------------------------------------------------------------


def test_the_domain_has_its_own_tools():
    own = [t for t in list_tools("radiology_report") if t.domain == "radiology_report"]
    assert len(own) >= 8
    for t in own:
        assert t.description and t.schema["function"]["parameters"]


def test_tools_reject_bad_input_with_a_fix(tasks):
    with pytest.raises(ToolError, match="centimetres"):
        call_tool("score_acr_tirads", {"composition": "solid", "echogenicity": "hypoechoic", "shape": "wider_than_tall",
                                       "margin": "smooth", "echogenic_foci": ["none"], "max_diameter_cm": 25})
    with pytest.raises(ToolError, match="must be one of"):
        call_tool("classify_li_rads", {"size_mm": 12, "aphe": "yes", "washout": True, "capsule": False})
    with pytest.raises(ToolError, match="swap"):
        call_tool("calculate_nodule_mean_diameter", {"long_axis_mm": 4, "short_axis_mm": 6, "convention": "Fleischner"})
    task = tasks[0]
    with pytest.raises(ToolError, match="not a BI-RADS category; use one of"):
        call_tool("submit_radiology_report", {"system": "BI-RADS", "findings": "x", "category": "TR4", "recommendation": "tissue diagnosis"}, task)
    with pytest.raises(ToolError, match="not a standard TI-RADS recommendation"):
        call_tool("submit_radiology_report", {"system": "TI-RADS", "findings": "x", "category": "TR4", "recommendation": "biopsy"}, task)
    assert call_tool("compare_prior_imaging", {}, next(t for t in tasks if t.chart.extra["radiology"]["prior"] is None)) == {
        "prior": "No prior examination is available for comparison."}


# --- tasks -------------------------------------------------------------------------------------------------


def test_tasks_cover_every_system_with_splits_and_types(tasks):
    assert len(tasks) >= 300
    assert {t.specialty for t in tasks} == set(systems.SYSTEMS)
    assert {t.split for t in tasks} == {"train", "val", "test", "heldout"}
    assert {t.task_type for t in tasks} == {"report", "interval_comparison"}
    heldout = {t.condition for t in tasks if t.split == "heldout"}
    assert heldout and not heldout & {t.condition for t in tasks if t.split != "heldout"}
    assert all(t.source for t in tasks)


def test_truth_is_the_classifier_on_the_most_suspicious_lesion_and_is_reachable(tasks):
    for t in tasks:
        study = t.chart.extra["radiology"]
        report = t.truth.phases[0].answers
        system, category, rec = report["system"].exact[0], t.truth.answer, report["recommendation"].exact[0]
        assert systems.canonical_category(system, category) == category
        assert systems.canonical_recommendation(system, rec) == rec
        ids = {lesion["id"] for lesion in study["findings"]["lesions"]}
        for key in t.truth.key_findings:  # the key lesion is in the findings the tool returns
            assert key.split(":")[0] in ids
        classify = [c for c in t.truth.demonstration if c.name.startswith(("classify", "score", "assess_breast"))]
        if classify:
            out = call_tool(classify[-1].name, classify[-1].arguments)
            assert out["category"] in report["category"].exact
            if system != "BI-RADS" or out["category"] != "0":
                assert out["recommendation"] == rec
        if any(c.name == "compare_prior_imaging" for c in t.truth.demonstration):
            assert study["prior"] is not None and t.task_type == "interval_comparison"


def test_generation_is_seeded_and_fast():
    import time

    start = time.perf_counter()
    a = generate(7)
    elapsed = time.perf_counter() - start
    b = generate(7)
    assert [x.model_dump_json() for x in a] == [y.model_dump_json() for y in b]
    assert [x.presentation for x in a] != [y.presentation for y in generate(8)]
    print(f"radiology_report: {len(a)} tasks in {elapsed:.2f} s")


# --- grading and agents --------------------------------------------------------------------------------------


def _episode(task, **arguments):
    call = CallRecord(turn=1, name="submit_radiology_report", arguments=arguments, action_keys=["submit_radiology_report"])
    return Episode(task_id=task.id, calls=[call], submissions={"submit_radiology_report": arguments}, terminated=True)


def test_report_grading_counts_system_category_and_recommendation(tasks):
    task = next(t for t in tasks if t.specialty == "Lung-RADS" and t.truth.answer == "4A")
    right = dict(system="Lung-RADS", findings="x", category="Lung-RADS 4A", recommendation="LDCT in 3 months")
    assert score(_episode(task, **right), task).success
    assert score(_episode(task, **{**right, "category": "4B"}), task).terms["outcome"] == pytest.approx(2 / 3)
    assert score(_episode(task, **{**right, "system": "Fleischner"}), task).terms["outcome"] == pytest.approx(2 / 3)
    assert score(_episode(task, **{**right, "category": "3", "recommendation": "LDCT in 6 months"}), task).terms["outcome"] == pytest.approx(1 / 3)
    suspicious = next(t for t in tasks if t.truth.answer == "4" and t.specialty == "BI-RADS")
    for sub in ("4", "4A", "BI-RADS 4C"):
        assert score(_episode(suspicious, system="BI-RADS", findings="x", category=sub, recommendation="tissue diagnosis"), suspicious).success


def test_oracle_solves_and_scripted_is_a_baseline(tasks):
    assert_oracle_solves_and_scripted_is_a_baseline(tasks[::3], group_by="task_type")


def test_scripted_never_reads_the_answer(tasks):
    assert_scripted_blind_to_truth(tasks)


def test_own_tools_and_sourced_knowledge():
    assert len(own_tools("radiology_report")) >= 8
    assert_knowledge_is_sourced("radiology_report")
