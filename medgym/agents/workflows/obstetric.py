"""The obstetric workflow of the scripted clinician (obstetrics domain).

It reads the task, gathers the findings the matching protocol lists (record, ultrasound,
cervix, tracing, blood pressures and labs, blood types, the bleeding assessment, the
newborn), and applies the published rule: ACOG dating, the Bishop and Apgar calculators,
the NICHD categories, ACOG's hypertension criteria, RhIG dosing. For postpartum bleeding it
checks the uterine tone first and stops at a boggy uterus, so a retained placental fragment
that leaves the uterus boggy is taken for atony, the classic premature closure.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from medgym.agents.scripted import register_workflow
from medgym.agents.workflows.common import Call, Opening, StagedProtocol, ask, numbers, wire
from medgym.domains.obstetrics import rules

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_GA = re.compile(r"(\d+) weeks (\d+) days")
APGAR_CHOICES = {
    "respiratory_effort": {"apneic": "absent", "gasping": "slow_or_irregular", "strong cry": "good_crying"},
    "muscle_tone": {"limp": "limp", "some flexion": "some_flexion", "active motion": "active_motion"},
    "reflex_irritability": {"no response": "no_response", "grimaces": "grimace", "cries": "cry_or_active_withdrawal"},
    "color": {"pale and blue": "blue_or_pale", "blue hands": "acrocyanosis", "pink all over": "completely_pink"},
}


def _task(text: str) -> str:
    for key, phrase in (("dating", "due date"), ("bishop", "Bishop score"), ("induction", "induction of labor"),
                        ("fhr", "fetal heart rate tracing"), ("hypertension", "blood pressure"), ("pph", "after a vaginal birth"),
                        ("rh", "Rh(D) immune globulin"), ("apgar", "Apgar"), ("bleeding", "vaginal bleeding")):
        if phrase in text:
            return key
    return "unknown"


class ObstetricWorkflow(StagedProtocol):
    """Protocol by task, then the published rule."""

    def __init__(self, knowledge: Any) -> None:
        self.k = knowledge

    def reset(self, observation: str, info: dict[str, Any]) -> None:
        self.open = Opening.parse(info)
        self.task = _task(self.open.instructions)
        match = re.search(r"Apgar score at (\d) minute", self.open.instructions)
        self.minute = int(match.group(1)) if match else 1
        self.start()

    # --- stages ---------------------------------------------------------------------------------------

    def _first(self) -> list[Call]:
        plans: dict[str, list[Call]] = {
            "dating": [("review_prenatal_record", {}), ("obstetric_ultrasound", {})],
            "bishop": [("cervical_exam", {})],
            "induction": [("review_prenatal_record", {}), ("cervical_exam", {})],
            "fhr": [("review_prenatal_record", {}), ("fetal_heart_tracing", {}), ("tocodynamometry", {})],
            "hypertension": [("read_vitals", {}), ("review_prenatal_record", {}), ("review_medical_history", {}), ("repeat_blood_pressure", {}),
                             ask("headache"), ask("headache_unrelieved"), ask("vision_changes"), ask("epigastric_pain"), ask("dyspnea"),
                             *[("order_lab", {"test": t}) for t in ("urine_protein_creatinine_ratio", "cbc", "creatinine", "lft", "ldh")],
                             ("examine", {"system": "respiratory"})],
            "pph": [("read_vitals", {}), ("quantify_blood_loss", {}), ("review_medical_history", {}), ("fundal_assessment", {})],
            "rh": [("review_prenatal_record", {}), ("blood_type_and_screen", {"patient": "mother"})],
            "apgar": [("newborn_assessment", {"minute": self.minute})],
            "bleeding": [("read_vitals", {}), ("review_prenatal_record", {}), ("obstetric_ultrasound", {}), ask("bleeding_pain"),
                         ("examine", {"system": "abdomen"}), ("fetal_heart_tracing", {}), ("tocodynamometry", {})],
        }
        return plans.get(self.task, [("review_prenatal_record", {})])

    def _second(self) -> list[Call]:
        o = self.obs
        if self.task == "dating":
            lmp = _DATE.search(str(o.tools["review_prenatal_record"].get("last_menstrual_period", "")))
            today = o.tools["review_prenatal_record"]["today"]
            return [("calculate_gestational_age", {"lmp_date": lmp.group(0), "current_date": today})] if lmp else []
        if self.task in ("bishop", "induction"):
            return [("calculate_bishop_score", self._cervix())]
        if self.task == "pph" and "boggy" not in str(o.tools.get("fundal_assessment", {})).lower():
            return [("inspect_placenta", {}), ("inspect_genital_tract", {}), ("order_lab", {"test": "fibrinogen"}), ("order_lab", {"test": "cbc"})]
        if self.task == "rh":
            mother = o.result("blood_type_and_screen", patient="mother") or {}
            record = o.tools.get("review_prenatal_record", {})
            if "negative" in mother.get("abo_rh", "") and "anti-D" not in mother.get("antibody_screen", "") and "delivery" in str(record.get("gestational_age", "")):
                return [("blood_type_and_screen", {"patient": "newborn"})]
        if self.task == "apgar":
            return [("calculate_apgar", self._apgar_signs())]
        return []

    def _third(self) -> list[Call]:
        newborn = self.obs.result("blood_type_and_screen", patient="newborn")
        if self.task == "rh" and newborn and "positive" in newborn.get("abo_rh", ""):
            return [("fetal_maternal_hemorrhage_test", {})]
        return []

    STAGES = [_first, _second, _third]

    # --- reading ---------------------------------------------------------------------------------------

    def _cervix(self) -> dict[str, Any]:
        c = self.obs.tools.get("cervical_exam", {})
        dilation = 0 if c.get("dilation") == "closed" else int(numbers(c.get("dilation", "0"))[0])
        return {"dilation_cm": dilation, "effacement_percent": numbers(c.get("effacement", "0"))[0],
                "station": int(numbers(c.get("station", "0"))[0]) if c.get("station") not in ("0", None) else 0,
                "consistency": c.get("consistency", "firm"), "position": c.get("position", "posterior")}

    def _apgar_signs(self) -> dict[str, Any]:
        n = self.obs.tools.get("newborn_assessment", {})
        hr = numbers(n.get("heart_rate", "0"))
        signs: dict[str, Any] = {"heart_rate_bpm": hr[0] if hr else 0}
        for item, choices in APGAR_CHOICES.items():
            text = str(n.get(item, ""))
            signs[item] = next((v for phrase, v in choices.items() if phrase in text), list(choices.values())[0])
        return signs

    def _tracing(self) -> rules.Tracing:
        f = self.obs.tools.get("fetal_heart_tracing", {})
        baseline = int(numbers(f.get("baseline", "140"))[0])
        amplitude = numbers(f.get("variability", ""))
        decels = " ".join(f.get("decelerations", [])).lower()
        sentences = [s for s in decels.split(".") if s.strip()]
        def has(*words: str) -> bool:
            return any(all(w in s for w in words) for s in sentences)
        return rules.Tracing(
            baseline=baseline, variability=rules.variability_class(amplitude[0] if amplitude else None),
            accelerations=str(f.get("accelerations", "")).startswith("present"),
            recurrent_late=has("gradual", "follows the peak", "more than half"), intermittent_late=has("gradual", "follows the peak", "fewer than half"),
            recurrent_variable=has("abrupt", "more than half"), intermittent_variable=has("abrupt", "fewer than half"),
            early=has("mirroring"), prolonged=has("lasting 4 minutes") or has("minutes, then recovery"),
            sinusoidal="sine wave" in str(f.get("pattern", "")).lower(),
        )

    def _ga_weeks(self) -> int:
        m = _GA.search(str(self.obs.tools.get("review_prenatal_record", {}).get("gestational_age", "")))
        return int(m.group(1)) if m else 38

    def _hypertension(self) -> str:
        o = self.obs
        v = o.vitals
        repeat = numbers(o.tools.get("repeat_blood_pressure", {}).get("blood_pressure", ""))
        readings = ((int(v.get("systolic_bp", 120)), int(v.get("diastolic_bp", 80))), (int(repeat[0]), int(repeat[1])) if len(repeat) >= 2 else (120, 80))
        findings = rules.HypertensionFindings(
            chronic=o.has_pmh("chronic hypertension"), readings=readings, upcr=o.lab("urine_protein_creatinine_ratio") or 0,
            platelets=o.lab("platelets") or 250, creatinine=o.lab("creatinine") or 0.6, ast=o.lab("ast") or 20, alt=o.lab("alt") or 20,
            ldh=o.lab("ldh") or 200, headache_unresponsive=bool(o.answers.get("headache_unrelieved")),
            visual_disturbance=bool(o.answers.get("vision_changes")), ruq_pain=bool(o.answers.get("epigastric_pain")),
            pulmonary_edema="crackles" in o.exam.get("respiratory", "").lower(),
        )
        self.readings = readings
        return rules.classify_hypertension(findings)

    def _pph_cause(self) -> str:
        o = self.obs
        if "boggy" in str(o.tools.get("fundal_assessment", {})).lower():
            return "atony"
        if "incomplete" in str(o.tools.get("inspect_placenta", {})).lower():
            return "tissue"
        if "actively bleeding" in str(o.tools.get("inspect_genital_tract", {})).lower():
            return "trauma"
        if (o.lab("fibrinogen") or 300) < 200:
            return "thrombin"
        return "atony"

    def _rh_vials(self) -> int:
        o = self.obs
        mother = o.result("blood_type_and_screen", patient="mother") or {}
        newborn = o.result("blood_type_and_screen", patient="newborn")
        postpartum = "delivery" in str(o.tools.get("review_prenatal_record", {}).get("gestational_age", ""))
        kb_text = str(o.tools.get("fetal_maternal_hemorrhage_test", {}).get("kleihauer_betke", ""))
        kb = numbers(kb_text)[0] if "%" in kb_text else None
        return rules.rhig_vials(
            mother_rh_negative="negative" in mother.get("abo_rh", ""), anti_d_present="anti-D" in mother.get("antibody_screen", ""),
            postpartum=postpartum, newborn_rh_positive=("positive" in newborn.get("abo_rh", "")) if newborn else None,
            kleihauer_betke_percent=kb)

    # --- deciding -----------------------------------------------------------------------------------------

    def submission(self) -> Call:
        o, lib = self.obs, self.k.library
        concept = lambda ids: [lib.concepts[i].label for i in ids]  # noqa: E731
        if self.task == "dating":
            record = o.tools.get("review_prenatal_record", {})
            today = dt.date.fromisoformat(record["today"])
            us = _GA.search(str(o.tools.get("obstetric_ultrasound", {}).get("findings", "")))
            us_days = int(us.group(1)) * 7 + int(us.group(2))
            lmp = _DATE.search(str(record.get("last_menstrual_period", "")))
            conception = str(record.get("conception", ""))
            transfer = _DATE.search(conception)
            embryo = re.search(r"day-(\d)", conception)
            edd, _ = rules.estimated_due_date(today, us_days, dt.date.fromisoformat(lmp.group(0)) if lmp else None,
                                              dt.date.fromisoformat(transfer.group(0)) if transfer else None,
                                              int(embryo.group(1)) if embryo else None)
            return "submit_answer", {"answer": edd.isoformat()}
        if self.task == "bishop":
            return "submit_answer", {"answer": str(o.tools.get("calculate_bishop_score", {}).get("score", 0))}
        if self.task == "induction":
            score = o.tools.get("calculate_bishop_score", {}).get("score", 0)
            cesarean = "cesarean" in str(o.tools.get("review_prenatal_record", {}).get("obstetric_history", "")).lower() and "no previous" not in str(o.tools.get("review_prenatal_record", {})).lower()
            plan = ["oxytocin_induction"] if score >= 9 else ["mechanical_ripening"] if cesarean else ["cervical_ripening"]
            return "submit_treatment_plan", {"plan": concept(plan), "diagnosis": "Induction of labor"}
        if self.task == "fhr":
            category = rules.fhr_category(self._tracing())
            if self.open.task_type == "management":
                plan = ["intrauterine_resuscitation", "expedited_delivery"] if category == "III" else ["intrauterine_resuscitation"]
                return "submit_treatment_plan", {"plan": concept(plan), "diagnosis": f"Category {category} tracing"}
            return "submit_answer", {"answer": f"Category {category}"}
        if self.task == "hypertension":
            kind = self._hypertension()
            template = lib.templates.get(kind)
            if template is None:
                return "submit_diagnosis", {"diagnosis": "Normal blood pressure in pregnancy"}
            if self.open.task_type == "diagnosis":
                return "submit_diagnosis", {"diagnosis": template.diagnosis.name,
                                            "icd10_code": template.diagnosis.icd10[rules.trimester(self._ga_weeks())]}
            if kind in ("preeclampsia_severe", "hellp_syndrome"):
                plan = ["magnesium_sulfate", *(["severe_bp_treatment"] if rules.severe_range(self.readings) else []), "delivery"]
                if o.has_pmh("myasthenia"):
                    plan.remove("magnesium_sulfate")
                if o.has_pmh("asthma") and "severe_bp_treatment" in plan:
                    plan[plan.index("severe_bp_treatment")] = "bp_treatment_without_labetalol"
            else:
                plan = ["delivery"] if self._ga_weeks() >= 37 else ["expectant_management"]
            return "submit_treatment_plan", {"plan": concept(plan), "diagnosis": template.diagnosis.name}
        if self.task == "pph":
            cause = self._pph_cause()
            names = {"atony": "uterine atony", "tissue": "retained placental tissue", "trauma": "genital tract trauma", "thrombin": "coagulopathy"}
            if self.open.task_type == "diagnosis":
                return "submit_answer", {"answer": names[cause]}
            plan = {"atony": ["uterine_massage", "oxytocin", "tranexamic_acid"], "tissue": ["manual_removal", "tranexamic_acid"],
                    "trauma": ["laceration_repair", "tranexamic_acid"], "thrombin": ["blood_products", "tranexamic_acid"]}[cause]
            return "submit_treatment_plan", {"plan": concept(plan), "diagnosis": f"Postpartum hemorrhage ({names[cause]})"}
        if self.task == "rh":
            return "submit_answer", {"answer": str(self._rh_vials())}
        if self.task == "apgar":
            return "submit_answer", {"answer": str(o.tools.get("calculate_apgar", {}).get("score", 0))}
        if self.task == "bleeding":
            if "previa" in str(o.tools.get("obstetric_ultrasound", {})).lower():
                return "submit_diagnosis", {"diagnosis": "Placenta previa with hemorrhage", "icd10_code": "O44.13"}
            return "submit_diagnosis", {"diagnosis": "Placental abruption", "icd10_code": "O45.93"}
        return "submit_answer", {"answer": "unknown"}


register_workflow("obstetric", ObstetricWorkflow)
