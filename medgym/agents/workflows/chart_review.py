"""The chart-review workflow of the scripted clinician (ehr_management domain).

It reads the task's question, queries the chart with the FHIR-style tools, and computes what is
asked from what the tools return: NEWS2, qSOFA and SOFA with the calculator tools, the KDIGO
creatinine stage, minima, maxima and counts over a series; for reconciliation and summaries
it compares the home and discharge medication lists, reads the notes, and copies the active
problems, pending orders, code status, allergies and appointments.

Its known limit is lexical: it treats a home medication missing at discharge as documented only
when a note sentence names the drug with "held", "holding", "stopped", "discontinued" or "hold",
so other phrasings ("not restarted", "kept off") are missed.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Iterator

from medgym.agents.scripted import register_workflow
from medgym.agents.workflows.common import PlannedProtocol
from medgym.domains.ehr_management.scores import kdigo_aki_stage

Calls = list[tuple[str, dict[str, Any]]]
DOCUMENTED = ("held", "holding", "hold", "stopped", "discontinued")
_WINDOW = re.compile(r"from (\d{4}-\d\d-\d\dT\d\d:\d\d) to (\d{4}-\d\d-\d\dT\d\d:\d\d)")


def _t(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).replace(tzinfo=None)


def _entries(bundle: dict[str, Any]) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle.get("entry", [])]


def _components(panel: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for c in panel.get("component", []):
        name = c["code"].get("text", "")
        out[name] = c["valueQuantity"]["value"] if "valueQuantity" in c else c.get("valueString")
    return out


def news2_arguments(panel: dict[str, Any]) -> dict[str, Any]:
    v = _components(panel)
    return {"respiratory_rate_per_min": v["Respiratory rate"], "spo2_percent": v["SpO2 (pulse oximetry)"],
            "on_supplemental_oxygen": v["Oxygen delivery"] != "Room air", "systolic_bp_mmhg": v["Systolic BP"],
            "heart_rate_bpm": v["Heart rate"],
            "consciousness": "alert" if v["Consciousness (ACVPU)"] == "Alert" else "new_confusion",
            "temperature_c": v["Body temperature"]}


def _med_name(resource: dict[str, Any]) -> str:
    return resource["medicationCodeableConcept"]["text"]


def _dose(resource: dict[str, Any]) -> str:
    dosage = resource.get("dosage") or resource.get("dosageInstruction") or [{}]
    return dosage[0].get("text", "")


class ChartReview(PlannedProtocol):
    """Plans one tool turn at a time as a generator; reads each turn's results before the next."""

    def __init__(self, knowledge: dict[str, Any]) -> None:
        self.formulary = knowledge["formulary"]

    def reset(self, observation: str, info: dict[str, Any]) -> None:
        self.text = info["messages"][1]["content"]
        self.task_type = info["task_type"]
        self.start()

    # --- plans ------------------------------------------------------------------------------------

    def _run(self) -> Iterator[Calls]:
        final, submission = yield from {
            "early_warning": self._early_warning, "trend_review": self._trend,
            "medication_reconciliation": self._reconciliation, "handoff_summary": self._handoff,
            "discharge_summary": self._discharge,
        }[self.task_type]()
        while True:
            yield [(final, submission)]

    def _early_warning(self) -> Iterator[Calls]:
        text = self.text
        if "SOFA score for the 24 hours" in text:
            start, end = _WINDOW.search(text).groups()
            yield [("search_observations", {"date_from": start, "date_to": end}),
                   ("get_medications", {"list_type": "administrations"})]
            yield [("calculate_sofa", self._sofa_arguments(_t(start), _t(end)))]
            return "submit_answer", {"answer": str(self.latest("calculate_sofa").get("score"))}
        yield [("search_observations", {"category": "vital-signs"})]
        panels = [r for r in _entries(self.latest("search_observations")) if "component" in r]
        if "qSOFA" in text:
            args = news2_arguments(panels[0])
            yield [("calculate_qsofa", {"respiratory_rate_per_min": args["respiratory_rate_per_min"],
                                        "systolic_bp_mmhg": args["systolic_bp_mmhg"],
                                        "altered_mentation": args["consciousness"] != "alert"})]
            return "submit_answer", {"answer": str(self.latest("calculate_qsofa").get("score"))}
        if "5 or more" in text:
            yield [("calculate_news2", news2_arguments(p)) for p in panels]
            scores = [r.get("score", 0) for r in self.results.get("calculate_news2", [])]
            hit = next((i for i, score in enumerate(scores) if score >= 5), len(panels) - 1)
            first = _t(panels[0]["effectiveDateTime"])
            return "submit_answer", {"answer": str(round((_t(panels[hit]["effectiveDateTime"]) - first).total_seconds() / 3600))}
        yield [("calculate_news2", news2_arguments(panels[-1]))]
        return "submit_answer", {"answer": str(self.latest("calculate_news2").get("score"))}

    def _sofa_arguments(self, start: datetime, end: datetime) -> dict[str, Any]:
        obs = _entries(self.results["search_observations"][-1])
        by_name: dict[str, list[tuple[datetime, float]]] = {}
        maps = []
        for r in obs:
            if "component" in r:
                v = _components(r)
                if "Mean arterial pressure" in v:
                    maps.append(v["Mean arterial pressure"])
                continue
            by_name.setdefault(r["code"]["text"], []).append((_t(r["effectiveDateTime"]), r["valueQuantity"]["value"]))
        pao2 = dict(by_name.get("PaO2 (room air)", []))
        fio2 = dict(by_name.get("Inhaled oxygen concentration", []))
        t = min((t for t in pao2 if t in fio2), key=lambda t: pao2[t] / fio2[t])
        rates = [r["dosage"]["rateQuantity"]["value"] for r in _entries(self.latest("get_medications"))
                 if start <= _t(r["effectiveDateTime"]) <= end]
        values = lambda name: [v for _, v in by_name.get(name, [])]  # noqa: E731
        urine = values("Urine output, 24 hours")
        return {"pao2_mmhg": pao2[t], "fio2": fio2[t] / 100, "mechanically_ventilated": False,
                "platelets_10e3_ul": min(values("Platelet count")), "bilirubin_mg_dl": max(values("Total bilirubin")),
                "map_mmhg": min(maps), "gcs": int(min(values("Glasgow coma score total"))),
                "creatinine_mg_dl": max(values("Creatinine")), "norepinephrine_mcg_kg_min": max(rates or [0.0]),
                **({"urine_output_ml_day": urine[0]} if urine else {})}

    def _trend(self) -> Iterator[Calls]:
        text = self.text
        if "KDIGO" in text:
            yield [("search_observations", {"code": "2160-0"}), ("list_encounters", {})]
            admission = next(e for e in _entries(self.latest("list_encounters")) if e["class"]["code"] == "IMP")
            start = _t(admission["period"]["start"])
            series = [(_t(r["effectiveDateTime"]), r["valueQuantity"]["value"]) for r in _entries(self.latest("search_observations"))]
            before = [v for t, v in series if t < start]
            during = [((t - start).total_seconds() / 3600, v) for t, v in series if t >= start]
            stage = kdigo_aki_stage(before[-1], during)
            return "submit_answer", {"answer": f"stage {stage}" if stage else "no AKI"}
        if "hemoglobin" in text or "lactate" in text:
            code, fn = ("718-7", min) if "hemoglobin" in text else ("2524-7", max)
            yield [("search_observations", {"code": code})]
            values = [r["valueQuantity"]["value"] for r in _entries(self.latest("search_observations"))]
            return "submit_answer", {"answer": f"{fn(values):g}"}
        if "point-of-care glucose" in text:
            yield [("search_observations", {"code": "point-of-care"})]
            values = [r["valueQuantity"]["value"] for r in _entries(self.latest("search_observations"))]
            return "submit_answer", {"answer": str(sum(v < 70 for v in values))}
        yield [("search_observations", {"code": "29463-7"})]
        values = [r["valueQuantity"]["value"] for r in _entries(self.latest("search_observations"))]
        return "submit_answer", {"answer": f"{values[0] - values[-1]:.1f}"}

    def _notes(self) -> Iterator[Calls]:
        yield [("list_notes", {})]
        ids = [n["id"] for n in self.latest("list_notes").get("notes", [])]
        if ids:
            yield [("read_note", {"note_id": i}) for i in ids]

    def _note_sentences(self) -> list[str]:
        from medgym.domains.ehr_management.fhir import narrative_text

        return [s.lower() for note in self.results.get("read_note", []) for s in narrative_text(note).split(". ")]

    def _medication_lists(self) -> Iterator[Calls]:
        yield [("get_medications", {"list_type": "home"}), ("get_medications", {"list_type": "discharge"})]
        home = {_med_name(r): _dose(r) for r in _entries(self.results["get_medications"][-2])}
        discharge = {_med_name(r): _dose(r) for r in _entries(self.results["get_medications"][-1])}
        return home, discharge

    def _reconciliation(self) -> Iterator[Calls]:
        home, discharge = yield from self._medication_lists()
        yield from self._notes()
        sentences = self._note_sentences()
        documented = lambda drug: any(drug.lower() in s and any(k in s.split() for k in DOCUMENTED) for s in sentences)  # noqa: E731
        omitted = [d for d in home if d not in discharge and not documented(d)]
        groups: dict[str, list[str]] = {}
        for d in discharge:
            drug = self.formulary.find(d)
            if drug:
                groups.setdefault(drug.group, []).append(d)
        duplicated = [d for names in groups.values() if len(names) > 1 for d in names]
        return "submit_medication_reconciliation", {"unintended_omissions": omitted, "duplications": duplicated}

    def _handoff(self) -> Iterator[Calls]:
        yield [("list_problems", {"clinical_status": "active"}), ("list_orders", {"status": "active"}),
               ("search_notes", {"text": "code status"}), ("list_allergies", {})]
        problems = [c["code"]["text"] for c in _entries(self.latest("list_problems"))]
        pending = [o["code"]["text"] for o in _entries(self.latest("list_orders"))]
        code_status = "Full code"
        for note in self.latest("search_notes").get("notes", []):
            for sentence in note["matches"]:
                match = re.search(r"code status(?: changed to|:) ([A-Za-z/ ]+)", sentence, re.IGNORECASE)
                if match:
                    code_status = match.group(1).strip()
        allergies = [a["code"]["text"] for a in _entries(self.latest("list_allergies"))]
        return "submit_handoff", {"active_problems": problems, "pending_results": pending, "code_status": code_status,
                                  "allergies": allergies}

    def _discharge(self) -> Iterator[Calls]:
        yield [("list_encounters", {}), ("list_orders", {"status": "active"}), ("list_appointments", {})]
        admission = next(e for e in _entries(self.results["list_encounters"][-1]) if e["class"]["code"] == "IMP")
        principal = min(admission["diagnosis"], key=lambda d: d["rank"])["condition"]["display"]
        pending = [o["code"]["text"] for o in _entries(self.latest("list_orders"))]
        follow_up = [a["description"] for a in _entries(self.latest("list_appointments"))]
        home, discharge = yield from self._medication_lists()
        return "submit_discharge_summary", {
            "principal_diagnosis": principal,
            "new_medications": [d for d in discharge if d not in home],
            "stopped_medications": [d for d in home if d not in discharge],
            "changed_medications": [d for d in discharge if d in home and discharge[d] != home[d]],
            "pending_results": pending, "follow_up": follow_up}


register_workflow("chart_review", ChartReview)
