import pytest

from medgym import get_task, load_tasks
from medgym.encounter import Encounter
from medgym.tools import ToolError, call_tool, get_tool, list_tools
from medgym.tools import catalog


@pytest.fixture(scope="module")
def case():
    return Encounter(get_task("cardiology-acute_pericarditis-000"))


def test_schemas_are_derived_from_signatures():
    spec = get_tool("order_lab")
    fn = spec.schema["function"]
    assert fn["name"] == "order_lab"
    assert fn["description"].startswith("Order a laboratory test")
    assert fn["parameters"]["required"] == ["test"]
    assert "case" not in fn["parameters"]["properties"]
    examine = get_tool("examine").schema["function"]["parameters"]["properties"]["system"]
    assert "cardiovascular" in examine["enum"]
    for t in list_tools():
        assert t.schema["type"] == "function" and t.schema["function"]["description"], t.name


@pytest.mark.parametrize(
    "arguments, message",
    [
        ({}, "'test' is a required property"),
        ({"test": "cbc", "urgent": True}, "unexpected argument"),
        ({"test": 7}, "7 is not of type 'string'"),
        ("cbc", "must be a JSON object"),
    ],
)
def test_bad_arguments_name_the_problem_and_the_fix(case, arguments, message):
    with pytest.raises(ToolError, match=message) as err:
        call_tool("order_lab", arguments, case)
    assert '<tool_call>{"name": "order_lab", "arguments": {"test": "<text>"}}</tool_call>' in str(err.value)


def test_unknown_tool_and_unknown_test_suggest_alternatives(case):
    with pytest.raises(ToolError, match="Did you mean order_lab"):
        call_tool("order_labs", {"test": "cbc"}, case)
    with pytest.raises(ToolError, match="Did you mean troponin_t_hs"):
        call_tool("order_lab", {"test": "troponin_t"}, case)


def test_a_test_the_case_does_not_specify_is_normal_and_stable(case):
    for test in ["tsh", "lipase", "hemoglobin", "albumin"]:
        first = call_tool("order_lab", {"test": test}, case)
        assert first["flag"] == "normal", first
        assert first == call_tool("order_lab", {"test": test}, case)
        assert first["reference_range"] == catalog.range_text(test, case.task.presentation.sex)


def test_case_results_come_from_the_chart():
    task = next(t for t in load_tasks(domain="clinical_diagnosis", specialty="cardiology")
                if t.condition == "acute_pericarditis" and "ecg" in t.chart.imaging and "crp" in t.chart.labs)
    case = Encounter(task)
    crp = case.task.chart.labs["crp"]
    assert call_tool("order_lab", {"test": "crp"}, case)["value"] == crp.value
    panel = call_tool("order_lab", {"test": "cbc"}, case)
    assert {r["test"] for r in panel["results"]} == {"wbc", "hemoglobin", "hematocrit", "platelets", "mcv"}
    ecg = call_tool("order_ecg", {}, case)
    assert ecg == case.task.chart.imaging["ecg"].model_dump()
    assert call_tool("order_imaging", {"study": "ct_head"}, case)["impression"] == "No acute intracranial abnormality."


def test_call_tool_accepts_a_task():
    task = get_task("cardiology-stemi-000")
    vitals = call_tool("read_vitals", {}, task)
    assert vitals["heart_rate"] == f"{task.presentation.vitals.heart_rate} beats/min"


def test_lab_flags_follow_the_catalog_ranges():
    assert catalog.lab_result("potassium", 5.9, "male").flag == "high"
    assert catalog.lab_result("potassium", 3.1, "female").flag == "low"
    assert catalog.lab_result("creatinine", 1.2, "female").flag == "high"
    assert catalog.lab_result("creatinine", 1.2, "male").flag == "normal"
    assert catalog.lab_result("troponin_t_hs", 15, "male").reference_range == "<=14 ng/L (99th percentile URL)"
    for key, spec in catalog.labs().items():
        assert spec.get("source"), key
        for sex in ("female", "male"):
            s = {**spec, **spec.get("by_sex", {}).get(sex, {})}
            if not s.get("qualitative"):
                assert s["low"] <= s["normal"][0] <= s["normal"][1] <= s["high"], key
