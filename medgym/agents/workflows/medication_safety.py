"""The medication-safety workflow of the scripted clinician (drug_interaction domain).

A pharmacist's routine, driven only by what it observes (the task's instructions, the chart the
tools reveal, and the formulary tools' answers) and the formulary as clinical knowledge:
review the medication list, allergies and history, compute kidney function (the Cockcroft-Gault
and CKD-EPI 2021 calculators) or the Child-Pugh class (its calculator, from the labs and the
examination), query the formulary tool that fits the task, and submit what the tool says.

It is a literal baseline: it takes a tool's severity, action and first alternative at face value
and does not weigh conditions written in free text (a contraindication that applies only with
renal or hepatic impairment, for instance).
"""

from __future__ import annotations

import re
from typing import Any, Iterator

from medgym.agents.scripted import register_workflow
from medgym.agents.workflows.common import PlannedProtocol
from medgym.domains.drug_interaction.formulary import SEVERITY_RANK, Formulary, apixaban_af_dose

Calls = list[tuple[str, dict[str, Any]]]
_PATIENT = re.compile(r"Patient: (\d+)-year-old (man|woman)")
_PROPOSED = re.compile(r"(?:wants to start|plans to start|wants to give) (.+?)(?: for |\. )")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


class MedicationSafety(PlannedProtocol):
    """Plans one tool turn at a time as a generator; each turn's results are read before the next."""

    def __init__(self, formulary: Formulary) -> None:
        self.f = formulary

    def reset(self, observation: str, info: dict[str, Any]) -> None:
        self.text = info["messages"][1]["content"]
        match = _PATIENT.search(self.text)
        self.age = int(match.group(1)) if match else 60
        self.sex = "female" if match and match.group(2) == "woman" else "male"
        proposed = _PROPOSED.search(self.text)
        self.proposed = self.f.find(proposed.group(1)) if proposed else None
        self.task_type = info["task_type"]
        self.start()


    # --- reading results --------------------------------------------------------------------------


    def medications(self) -> list[str]:
        items = self.latest("review_medications").get("medications", [])
        return [d.name for d in (self.f.find(i) for i in items) if d is not None]

    def lab_value(self, test: str) -> float | None:
        for content in self.results.get("order_lab", []):
            for r in content.get("results", [content]):
                if r.get("test") == test:
                    return float(r["value"])
        return None

    def weight(self) -> float:
        numbers = _NUMBER.findall(str(self.latest("read_vitals").get("weight", "")))
        return float(numbers[0]) if numbers else 70.0

    # --- the plans ----------------------------------------------------------------------------------

    def _run(self) -> Iterator[Calls]:
        plan = {
            "interaction_check": self._interaction_check,
            "medication_review": self._medication_review,
            "renal_dosing": self._renal,
            "hepatic_dosing": self._hepatic,
            "allergy_check": self._allergy,
            "pregnancy_lactation": self._pregnancy_lactation,
            "older_adult_review": self._older_adult,
        }[self.task_type]
        submission = yield from plan()
        while True:
            yield [("submit_medication_review", submission)]

    def _interaction_check(self) -> Iterator[Calls]:
        yield [("review_medications", {}), ("review_medical_history", {}), ("review_allergies", {})]
        new = self.proposed.name if self.proposed else ""
        meds = self.medications()
        yield [("check_interaction", {"drug_a": new, "drug_b": m}) for m in meds]
        records = [r for r in self.results.get("check_interaction", []) if r.get("severity") in SEVERITY_RANK]
        if not records:
            return {"action": "use", "severity": "none", "problem_drugs": []}
        top = max(records, key=lambda r: SEVERITY_RANK[r["severity"]])
        worst = [r for r in records if r["severity"] == top["severity"]]
        drugs = list(dict.fromkeys([new, *(d for r in worst for d in r["drugs"])]))
        out: dict[str, Any] = {"problem_drugs": drugs, "severity": top["severity"],
                               "action": top["recommended_action"].split(" or ")[0]}
        if out["action"] == "reduce dose" and "dose_in_combination" in top:
            out["recommended_dose"] = top["dose_in_combination"].split(": ", 1)[1]
        alternatives = top.get("alternatives_to_" + new.replace(" ", "_"))
        if out["action"] == "avoid" and alternatives:
            out["alternative"] = alternatives[0]
        return out

    def _medication_review(self) -> Iterator[Calls]:
        yield [("review_medications", {})]
        yield [("screen_medication_list", {"drugs": self.medications()})]
        found = self.latest("screen_medication_list").get("interactions", [])
        if not found:
            return {"action": "use", "severity": "none", "problem_drugs": []}
        top = found[0]
        return {"problem_drugs": top["drugs"], "severity": top["severity"],
                "action": top["recommended_action"].split(" or ")[0]}

    def _renal(self) -> Iterator[Calls]:
        yield [("read_vitals", {}), ("order_lab", {"test": "creatinine"}), ("review_medical_history", {})]
        creatinine = self.lab_value("creatinine") or 1.0
        weight = self.weight()
        drug = self.proposed
        renal = drug.renal if drug else None
        if renal is not None and renal.rule == "apixaban_af":
            yield [("get_renal_dosing", {"drug": drug.name})]
            dose, _ = apixaban_af_dose(self.age, weight, creatinine)
            return {"action": "use" if dose.startswith("5") else "reduce dose", "recommended_dose": dose}
        yield [("calculate_cockcroft_gault", {"creatinine_mg_dl": creatinine, "age_years": self.age, "weight_kg": weight, "sex": self.sex}),
               ("calculate_ckd_epi_2021", {"creatinine_mg_dl": creatinine, "age_years": self.age, "sex": self.sex})]
        crcl = self.latest("calculate_cockcroft_gault").get("creatinine_clearance", 60)
        egfr = self.latest("calculate_ckd_epi_2021").get("egfr", 60)
        yield [("get_renal_dosing", {"drug": drug.name if drug else "", "crcl_ml_min": round(crcl), "egfr": round(egfr)})]
        band = self.latest("get_renal_dosing").get("for_this_patient", {})
        out: dict[str, Any] = {"action": band.get("action", "use")}
        if band.get("dose") and out["action"] != "avoid":
            out["recommended_dose"] = band["dose"]
        return out

    def _hepatic(self) -> Iterator[Calls]:
        yield [("order_lab", {"test": "lft"}), ("order_lab", {"test": "coags"}),
               ("examine", {"system": "abdomen"}), ("examine", {"system": "mental_status"})]
        exam = {c["system"]: c["findings"].lower() for c in self.results.get("examine", [])}
        abdomen, mental = exam.get("abdomen", ""), exam.get("mental_status", "")
        ascites = "moderate_to_severe" if "moderate to severe ascites" in abdomen else "mild" if "mild ascites" in abdomen else "none"
        enceph = "grade_1_2" if "asterixis present" in mental or "grade 1-2" in mental else "none"
        yield [("calculate_child_pugh", {"bilirubin_mg_dl": self.lab_value("total_bilirubin") or 1.0,
                                         "albumin_g_dl": self.lab_value("albumin") or 4.0, "inr": self.lab_value("inr") or 1.0,
                                         "ascites": ascites, "encephalopathy": enceph})]
        cls = self.latest("calculate_child_pugh").get("child_pugh_class", "A")
        yield [("get_hepatic_dosing", {"drug": self.proposed.name if self.proposed else "", "child_pugh_class": cls})]
        result = self.latest("get_hepatic_dosing")
        out: dict[str, Any] = {"action": result.get("action", "use")}
        if result.get("dose") and out["action"] != "avoid":
            out["recommended_dose"] = result["dose"]
        return out

    def _allergy(self) -> Iterator[Calls]:
        yield [("review_allergies", {})]
        entries = self.latest("review_allergies").get("allergies", [])
        calls = []
        for entry in entries:
            match = re.match(r"(.+?)(?: \((.*)\))?$", entry)
            if match and self.f.find(match.group(1)):
                calls.append(("check_allergy_cross_reactivity", {
                    "allergy": match.group(1), "drug": self.proposed.name if self.proposed else "",
                    "reaction": match.group(2) or ""}))
        if not calls:
            return {"action": "use"}
        yield calls
        verdicts = [r.get("verdict") for r in self.results.get("check_allergy_cross_reactivity", [])]
        return {"action": "avoid" if "avoid" in verdicts else "use"}

    def _pregnancy_lactation(self) -> Iterator[Calls]:
        yield [("review_medical_history", {}), ("review_medications", {})]
        history = " ".join(self.latest("review_medical_history").get("past_medical_history", []))
        status = "lactation" if "Breastfeeding" in history or "breastfeeding" in self.text else "pregnancy"
        weeks = re.search(r"(\d+) weeks of gestation", history)
        calls = []
        for m in self.medications():
            args: dict[str, Any] = {"drug": m, "status": status}
            if status == "pregnancy" and weeks:
                args["gestational_age_weeks"] = int(weeks.group(1))
            calls.append(("get_pregnancy_lactation", args))
        yield calls
        stop = [r for r in self.results.get("get_pregnancy_lactation", []) if r.get("action") == "avoid"]
        out: dict[str, Any] = {"problem_drugs": [r["drug"] for r in stop], "action": "avoid" if stop else "use"}
        alternatives = [a for r in stop for a in r.get("alternatives", [])]
        if alternatives:
            out["alternative"] = alternatives[0]
        return out

    def _older_adult(self) -> Iterator[Calls]:
        yield [("review_medications", {})]
        yield [("get_older_adult_guidance", {"drug": m}) for m in self.medications()]
        flagged = [r["drug"] for r in self.results.get("get_older_adult_guidance", []) if r.get("recommendation") == "avoid"]
        return {"problem_drugs": flagged, "action": "avoid" if flagged else "use"}


register_workflow("medication_safety", MedicationSafety)
