"""The psychiatric workflow of the scripted clinician (psychiatry domain).

A structured psychiatric assessment: the record, the mental status examination and a
symptom review; then the instrument the task or the findings call for; then the DSM-5-TR
criteria, the instrument's published scoring, or the guideline's first-line treatment.
It reads only tool results and the domain's knowledge (instruments and concepts). It takes
collateral history only when mania, psychosis or a cognitive change is suspected, so past
mania that the patient does not recognize (bipolar depression presenting as unipolar
depression) escapes it, as it often escapes clinicians.
"""

from __future__ import annotations

from typing import Any

from medgym.agents.scripted import register_workflow
from medgym.agents.workflows.common import Call, Opening, StagedProtocol, ask, wire

CORE = ["depressed_mood", "anhedonia", "sleep_disturbance", "fatigue", "weight_change", "worthlessness", "poor_concentration",
        "psychomotor_change", "suicidal_thoughts", "symptom_duration", "prior_episodes", "past_mania", "recent_stressor"]
SCREEN = ["elevated_mood", "decreased_need_for_sleep", "grandiosity", "racing_thoughts", "risky_behavior", "excessive_worry",
          "restlessness", "muscle_tension", "irritability", "panic_attacks", "fear_of_attacks", "trauma_exposure",
          "intrusive_memories", "trauma_avoidance", "hypervigilance", "hallucinations", "paranoia", "alcohol", "last_drink", "opioid_use"]
DEPRESSION = ["depressed_mood", "anhedonia", "sleep_disturbance", "fatigue", "weight_change", "worthlessness",
              "poor_concentration", "psychomotor_change", "suicidal_thoughts"]
MANIA = ["decreased_need_for_sleep", "grandiosity", "racing_thoughts", "risky_behavior"]
GAD = ["restlessness", "fatigue", "poor_concentration", "irritability", "muscle_tension", "sleep_disturbance"]
MANIA_WORDS = ("barely slept", "did not sleep", "euphoric", "manic", "mania", "not their normal self", "spent all")
SAFETY_PLAN = ["warning_signs", "internal_coping", "social_distraction", "help_contacts", "crisis_contacts", "lethal_means"]


class PsychiatricWorkflow(StagedProtocol):
    """Record, mental state and symptom review, then the instrument or criteria the task needs."""

    def __init__(self, knowledge: Any) -> None:
        self.k = knowledge

    def reset(self, observation: str, info: dict[str, Any]) -> None:
        self.open = Opening.parse(info)
        text = self.open.instructions
        self.instrument = next((key for key, label in (("phq9", "PHQ-9"), ("gad7", "GAD-7"), ("audit_c", "AUDIT-C"), ("ciwa_ar", "CIWA-Ar"))
                                if label in text), None)
        self.suicide = "Columbia" in text or "Stanley-Brown" in text
        self.start()

    # --- stages ---------------------------------------------------------------------------------------

    def _record(self) -> list[Call]:
        calls: list[Call] = [("review_psychiatric_history", {}), ("mental_status_exam", {}), ("review_medications", {})]
        if self.open.task_type in ("diagnosis", "management"):
            calls.append(("review_medical_history", {}))
        return calls

    def _interview(self) -> list[Call]:
        if self.open.task_type in ("assessment", "risk_stratification") or self.suicide:
            return []
        return [ask(t) for t in CORE]

    def _screen(self) -> list[Call]:
        if self.open.task_type in ("assessment", "risk_stratification") or self.suicide:
            return []
        return [ask(t) for t in SCREEN]

    def _instruments(self) -> list[Call]:
        if self.instrument == "ciwa_ar":
            return [("assess_alcohol_withdrawal", {})]
        if self.instrument:
            return [("administer_questionnaire", {"instrument": self.instrument})]
        if self.suicide:
            return [("administer_questionnaire", {"instrument": "cssrs"}), ("assess_suicide_risk_factors", {})]
        a = self.obs.answers
        calls: list[Call] = []
        if sum(bool(a.get(t)) and a.get(t) != "none" for t in DEPRESSION) >= 3:
            calls.append(("administer_questionnaire", {"instrument": "phq9"}))
        if a.get("alcohol") == "heavy":
            calls += [("assess_alcohol_withdrawal", {}), ("breath_alcohol_test", {})]
            if self.open.task_type == "management":
                calls += [("check_prescription_monitoring", {}), ("order_lab", {"test": "creatinine"})]
        suspicious = any(a.get(t) for t in ("elevated_mood", "grandiosity", "hallucinations", "paranoia", "decreased_need_for_sleep"))
        confused = self.open.age >= 70 or "confus" in self.open.complaint or "disorganized" in self._mse()
        if suspicious or confused:
            calls.append(("obtain_collateral_history", {}))
        if confused:
            calls += [("cognitive_screen", {}), ("order_lab", {"test": "bmp"}), ("order_lab", {"test": "cbc"})]
        if a.get("hallucinations") or a.get("paranoia"):
            calls.append(("order_lab", {"test": "urine_drug_screen"}))
        return calls

    def _calculate(self) -> list[Call]:
        """Score what was administered with the scoring calculator (medgym.tools.calculators)."""
        spec = self.k.instruments
        if self.instrument in ("phq9", "gad7"):
            options = spec[self.instrument]["options"]
            return [(f"score_{self.instrument}", {"item_scores": [options[a] for a in self._responses(self.instrument)]})]
        if self.instrument == "audit_c":
            from medgym.domains.psychiatry.cases import AUDIT_OPTIONS

            points = [item["options"][a] for item, a in zip(spec["audit_c"]["items"], self._responses("audit_c"))]
            names = ("drinking_frequency", "drinks_per_typical_day", "six_or_more_drinks_frequency")
            return [("score_audit_c", {**{n: AUDIT_OPTIONS[i][p] for i, (n, p) in enumerate(zip(names, points))}, "sex": self.open.sex})]
        if self.instrument == "ciwa_ar":
            obs = (self.obs.tools.get("assess_alcohol_withdrawal") or {}).get("observations", {})
            items = spec["ciwa_ar"]["items"]
            return [("score_ciwa_ar", {item: next(int(p) for p, text in items[item].items() if text == value) for item, value in obs.items()})]
        if self.open.task_type == "risk_stratification":
            q = self.obs.tools.get("administer_questionnaire") or {}
            yes = [i["answer"].startswith("Yes") for i in q.get("items", [])]
            behavior = q["items"][5]["answer"] if len(yes) == 6 else "No."
            return [("screen_cssrs", {"wish_to_be_dead": yes[0], "suicidal_thoughts": yes[1], "suicidal_behavior_ever": behavior.startswith("Yes"),
                                      "thoughts_of_method": yes[2], "intent_without_plan": yes[3] and not yes[4], "intent_with_plan": yes[4],
                                      "behavior_within_past_3_months": "within the past 3 months" in behavior})]
        return []

    STAGES = [_record, _interview, _screen, _instruments, _calculate]

    # --- reading --------------------------------------------------------------------------------------

    def _mse(self) -> str:
        return " ".join(str(v) for v in (self.obs.tools.get("mental_status_exam") or {}).values()).lower()

    def _responses(self, instrument: str) -> list[str]:
        q = self.obs.tools.get("administer_questionnaire")
        return [i["answer"] for i in q["items"]] if q and q["instrument"] == self.k.instruments[instrument]["name"] else []

    def _score(self, instrument: str) -> int | None:
        """Score an administered questionnaire (or the CIWA-Ar observations) with the instrument's points."""
        spec = self.k.instruments[instrument]
        if instrument == "ciwa_ar":
            obs = (self.obs.tools.get("assess_alcohol_withdrawal") or {}).get("observations")
            if not obs:
                return None
            return sum(next(int(p) for p, text in spec["items"][item].items() if text == value) for item, value in obs.items())
        answers = self._responses(instrument)
        if not answers:
            return None
        if instrument == "audit_c":
            return sum(item["options"][a] for item, a in zip(spec["items"], answers))
        return sum(spec["options"][a] for a in answers)

    def _band(self, instrument: str, total: int) -> str:
        for low, high, name in self.k.instruments[instrument]["bands"]:
            if low <= total <= high:
                return name
        return "unknown"

    def _cssrs_risk(self) -> str:
        q = self.obs.tools.get("administer_questionnaire") or {}
        yes = [i["answer"].startswith("Yes") for i in q.get("items", [])]
        if len(yes) < 6:
            return "low"
        behavior = q["items"][5]["answer"]
        if yes[3] or yes[4] or "within the past 3 months" in behavior:
            return "high"
        if yes[2] or "more than 3 months" in behavior:
            return "moderate"
        return "low"

    def _count(self, topics: list[str]) -> int:
        return sum(bool(self.obs.answers.get(t)) and self.obs.answers.get(t) != "none" for t in topics)

    # --- deciding ------------------------------------------------------------------------------------------

    def disorder(self) -> str:
        a, o = self.obs.answers, self.obs
        cognition = o.tools.get("cognitive_screen") or {}
        if "cannot" in str(cognition.get("attention", "")).lower() and ("abrupt" in str(cognition).lower() or "sudden" in str(cognition).lower()):
            return "delirium"
        ciwa = self._score("ciwa_ar")
        if a.get("alcohol") == "heavy":
            return "alcohol_withdrawal" if ciwa else "unhealthy_alcohol_use"
        if (a.get("hallucinations") or a.get("paranoia")) and not a.get("elevated_mood"):
            return "schizophrenia_spectrum"
        if a.get("elevated_mood") and self._count(MANIA) >= 3:
            return "bipolar_mania"
        if a.get("trauma_exposure") and a.get("intrusive_memories") and a.get("trauma_avoidance"):
            return "posttraumatic_stress_disorder"
        if a.get("panic_attacks") and a.get("fear_of_attacks"):
            return "panic_disorder"
        core = bool(a.get("depressed_mood")) or bool(a.get("anhedonia"))
        if core and self._count(DEPRESSION) >= 5:
            history = " ".join(str(v) for v in (o.tools.get("review_psychiatric_history") or {}).values()).lower()
            collateral = str((o.tools.get("obtain_collateral_history") or {}).get("collateral", "")).lower()
            if a.get("past_mania") or "bipolar" in history or any(w in collateral for w in MANIA_WORDS):
                return "bipolar_depression"
            return "major_depressive_disorder"
        if a.get("excessive_worry") and a.get("symptom_duration") == "months6plus" and self._count(GAD) >= 3:
            return "generalized_anxiety_disorder"
        if core and a.get("recent_stressor") not in (None, "none"):
            return "adjustment_disorder"
        return "major_depressive_disorder"

    def _diagnosis(self, disorder: str) -> tuple[str, str]:
        t = self.k.library.templates[disorder]
        a = self.obs.answers
        phq = self._score("phq9") or 0
        if disorder == "major_depressive_disorder":
            return t.diagnosis.name, ("F33" if a.get("prior_episodes") else "F32") + (".2" if phq >= 20 else ".1")
        if disorder == "bipolar_depression":
            return t.diagnosis.name, "F31.4" if phq >= 20 else "F31.32"
        if disorder == "bipolar_mania":
            return t.diagnosis.name, "F31.2" if "delusion" in self._mse() else "F31.13"
        if disorder == "schizophrenia_spectrum":
            over = {v.id: v.diagnosis_override for v in t.variants}
            dx = over["schizophrenia"] if a.get("symptom_duration") == "months6plus" else over["schizophreniform"]
            return dx.name, dx.icd10
        return t.diagnosis.name, t.diagnosis.icd10

    def _plan(self, disorder: str) -> list[str]:
        o = self.obs
        if disorder == "major_depressive_disorder":
            return ["ssri", "psychotherapy"] if (self._score("phq9") or 0) >= 16 else ["ssri_or_psychotherapy"]
        if disorder == "unhealthy_alcohol_use":
            pdmp = " ".join(o.tools.get("check_prescription_monitoring", {}).get("pdmp", [])).lower()
            if o.answers.get("opioid_use") or any(w in pdmp for w in ("oxycodone", "tramadol", "morphine", "hydrocodone", "methadone", "buprenorphine")):
                return ["acamprosate"]
            creatinine = o.lab("creatinine")
            weight = o.vitals.get("weight_kg", 70)
            if creatinine:
                clearance = (140 - self.open.age) * weight / (72 * creatinine) * (0.85 if self.open.sex == "female" else 1.0)
                if clearance <= 30:  # Cockcroft-Gault; acamprosate is contraindicated at or below 30 mL/min
                    return ["naltrexone"]
            return ["aud_medication"]
        if disorder == "alcohol_withdrawal":
            return ["withdrawal_benzodiazepine", "thiamine"]
        return list(self.k.library.templates[disorder].management)

    def submission(self) -> Call:
        lib = self.k.library
        task = self.open.task_type
        if task == "assessment":
            result = self.obs.tools.get(f"score_{self.instrument}") or {}
            if self.instrument == "audit_c":
                return "submit_answer", {"answer": "positive" if result.get("positive_screen") else "negative"}
            return "submit_answer", {"answer": result.get("severity") or self._band(self.instrument, self._score(self.instrument) or 0)}
        if task == "risk_stratification":
            return "submit_answer", {"answer": (self.obs.tools.get("screen_cssrs") or {}).get("risk_level") or self._cssrs_risk()}
        if self.suicide:
            plan = SAFETY_PLAN + (["psychiatric_admission"] if self._cssrs_risk() == "high" else [])
            return "submit_treatment_plan", {"plan": [lib.concepts[c].label for c in plan], "diagnosis": "Suicidal ideation"}
        disorder = self.disorder()
        if task == "diagnosis":
            name, code = self._diagnosis(disorder)
            return "submit_diagnosis", {"diagnosis": name, "icd10_code": code}
        plan = [lib.concepts[c].label for c in self._plan(disorder)]
        return "submit_treatment_plan", {"plan": plan, "diagnosis": self._diagnosis(disorder)[0] if lib.templates[disorder].diagnosis or disorder == "schizophrenia_spectrum" else lib.templates[disorder].name}


register_workflow("psychiatric", PsychiatricWorkflow)
