"""The emergency workflow of the scripted clinician (triage_emergency domain).

A protocol-following emergency clinician: vital signs, primary survey and the
prehospital report first; then the bedside checks and tests that the presenting
complaint calls for; then the published rule for the task: the ESI algorithm,
toxidrome recognition, the treatment the toxicology reference and guidelines state,
or the disposition score. It reads only tool results and the domain's knowledge.
It follows the complaint's protocol, so an atypical presentation (an acute coronary
syndrome presenting as weakness, an ectopic pregnancy presenting as dizziness) can
escape it, as it escapes clinicians who triage by the complaint.
"""

from __future__ import annotations

from typing import Any

from medgym.agents.scripted import register_workflow
from medgym.agents.workflows.common import Call, Opening, StagedProtocol, ask, numbers, wire
from medgym.domains.triage_emergency import scores

# Presenting-complaint groups, tried in order; the first whose keyword is in the chief complaint wins.
GROUPS: list[tuple[str, tuple[str, ...]]] = [
    ("suicidal", ("suicide", "end their life", "killing myself")),
    ("overdose", ("overdose", "took too many", "pills", "swallowed")),
    ("unresponsive", ("unresponsive", "found down", "collapsed")),
    ("toxic", ("drooling", "hallucinat", "seeing things", "agitation", "racing heart", "shaking, sweating", "jerking", "seeing yellow")),
    ("tia", ("resolved", "spell", "transient")),
    ("neuro", ("facial droop", "one side", "right-sided weakness", "trouble speaking", "slurred", "arm weakness")),
    ("confusion", ("confus", "acting strangely")),
    ("chest", ("chest",)),
    ("allergy", ("allergic", "hives", "throat swelling", "bee sting")),
    ("gi_bleed", ("vomiting blood", "black stools", "coffee-ground")),
    ("respiratory", ("cough", "shortness of breath", "asthma", "wheez")),
    ("fever", ("fever",)),
    ("pelvic", ("vaginal bleeding", "pelvic pain", "spotting")),
    ("flank", ("flank", "in waves")),
    ("abdominal", ("abdominal", "belly")),
    ("urinary", ("pee", "urinary")),
    ("ankle", ("ankle",)),
    ("laceration", ("cut on", "laceration")),
    ("minor", ("ran out", "refill", "rash", "stitches", "runny nose", "sore throat")),
    ("headache", ("headache",)),
    ("dizziness", ("dizz", "faint", "lightheaded")),
    ("weakness", ("weak", "fatigue", "nausea", "sick to my stomach")),
]
TOXIC_GROUPS = {"overdose", "unresponsive", "toxic", "confusion"}
# Resource types the ED usually needs, by group (ESI Handbook chapter 5); rules below refine some.
USUAL_RESOURCES = {
    "abdominal": 4, "flank": 3, "respiratory": 3, "fever": 4, "gi_bleed": 3, "chest": 3, "neuro": 3, "tia": 3,
    "pelvic": 3, "weakness": 2, "dizziness": 2, "headache": 2, "minor": 0, "general": 2,
}
INTERVIEW = {
    "overdose": ["ingested_substance", "ingestion_time", "self_harm_intent", "tinnitus"],
    "toxic": ["ingested_substance", "serotonergic_drug_change", "pesticide_exposure", "extra_doses"],
    "confusion": ["ingested_substance"],
    "headache": ["household_symptoms", "fuel_heating"],
    "neuro": ["last_known_well", "focal_weakness"],
    "tia": ["tia_symptom", "tia_duration"],
    "chest": ["chest_discomfort", "pde5_inhibitor_use"],
    "allergy": ["allergen_exposure"],
    "gi_bleed": ["melena", "hematemesis", "syncope"],
    "respiratory": ["cough", "fever"],
    "fever": ["cough", "dysuria"],
    "pelvic": ["missed_period", "vaginal_bleeding"],
    "urinary": ["dysuria", "fever", "flank_pain"],
    "flank": ["flank_pain", "fever"],
    "abdominal": ["nausea", "fever"],
    "suicidal": ["suicidal_thoughts", "suicide_plan"],
    "dizziness": ["syncope", "palpitations"],
    "weakness": ["nausea", "fatigue"],
}
TOX_INTERVIEW = ["ingested_substance", "ingestion_time", "self_harm_intent", "tinnitus", "serotonergic_drug_change",
                 "pesticide_exposure", "extra_doses", "household_symptoms", "fuel_heating"]
TOX_LABS = ["acetaminophen_level", "salicylate_level", "carboxyhemoglobin", "bmp", "abg", "urine_drug_screen"]
SULFONYLUREAS = ("glipizide", "glyburide", "glimepiride", "gliclazide")
ANTICOAGULANTS = ("apixaban", "rivaroxaban", "edoxaban", "dabigatran", "warfarin")


def group_of(complaint: str) -> str:
    for name, keywords in GROUPS:
        if any(k in complaint for k in keywords):
            return name
    return "general"


class EmergencyWorkflow(StagedProtocol):
    """Protocol by presenting complaint, then the published rule for the task."""

    def __init__(self, knowledge: Any) -> None:
        self.k = knowledge

    def reset(self, observation: str, info: dict[str, Any]) -> None:
        self.open = Opening.parse(info)
        self.group = group_of(self.open.complaint)
        self.start()

    # --- the protocol, stage by stage ----------------------------------------------------------------

    def _arrival(self) -> list[Call]:
        return [("read_vitals", {}), ("primary_survey", {}), ("review_prehospital_report", {}),
                ("review_medical_history", {}), ("review_medications", {})]

    def _interview(self) -> list[Call]:
        if not self.open.speaks:
            return []
        toxic = self.open.task_type == "diagnosis" or self.group in TOXIC_GROUPS
        topics = TOX_INTERVIEW if toxic else INTERVIEW.get(self.group, [])
        if self.open.sex == "female" and 12 <= self.open.age <= 50 and self.group in ("pelvic", "abdominal"):
            topics = [*topics, "missed_period"]
        calls = [ask(t) for t in dict.fromkeys(topics)]
        return calls + [("pain_scale", {})]

    def _bedside(self) -> list[Call]:
        calls: list[Call] = []
        altered = self._avpu() != "A" or self._confused()
        toxic = self.open.task_type == "diagnosis" or self.group in TOXIC_GROUPS or self.open.task_type == "management"
        if altered or toxic or self.group in ("neuro", "weakness", "dizziness", "confusion") or self.obs.has_pmh("diabetes"):
            calls.append(("point_of_care_glucose", {}))
        if toxic or altered:
            calls.append(("toxidrome_exam", {}))
        v = self.obs.vitals
        if toxic or v.get("heart_rate", 80) < 50 or v.get("systolic_bp", 120) < 90:
            calls.append(("cardiac_monitor", {}))
        if self.group in ("chest", "dizziness") or (toxic and self.group != "allergy"):
            calls.append(("order_ecg", {}))
        systems = {
            "neuro": ["neurological"], "tia": ["neurological"], "abdominal": ["abdomen"], "flank": ["abdomen"],
            "pelvic": ["abdomen", "pelvic"], "urinary": ["abdomen"], "ankle": ["musculoskeletal"], "laceration": ["skin"],
            "minor": ["skin"], "suicidal": ["mental_status"], "fever": ["skin", "respiratory"], "weakness": ["neurological"],
        }.get(self.group, [])
        calls += [("examine", {"system": s}) for s in systems]
        return calls

    def _tests(self) -> list[Call]:
        g, task = self.group, self.open.task_type
        labs: list[str] = []
        studies: list[str] = []
        if task == "diagnosis" or (task == "management" and g in TOXIC_GROUPS | {"headache"}) or g in ("overdose", "toxic"):
            labs += TOX_LABS
        if self.obs.takes("digoxin"):
            labs += ["digoxin_level", "bmp"]
        if g == "headache" or self.obs.answers.get("household_symptoms") or self.obs.answers.get("fuel_heating"):
            labs.append("carboxyhemoglobin")
        if task == "management" and (g in ("fever", "respiratory", "urinary") or self.obs.vitals.get("temperature_c", 37) >= 38.3):
            labs += ["lactate", "blood_culture", "cbc"]
        if g in ("respiratory",) and task == "disposition":
            labs += ["bmp", "cbc", "abg"]
            studies.append("chest_xray")
        if g == "gi_bleed":
            labs += ["bmp", "cbc"]
        if g == "pelvic":
            labs.append("urine_hcg")
        if g == "abdominal" and self.open.sex == "female" and self.open.age <= 50:
            labs.append("urine_hcg")
        if g in ("neuro",) and task == "management":
            studies.append("ct_head")
        if g in ("weakness", "dizziness"):
            labs += ["bmp", "cbc"]
        calls: list[Call] = [("order_lab", {"test": t}) for t in dict.fromkeys(labs)]
        calls += [("order_imaging", {"study": s}) for s in dict.fromkeys(studies)]
        if g == "neuro" and task == "management":
            calls.append(("activate_protocol", {"protocol": "stroke"}))
        if "ST-elevation" in self._ecg() and task == "management":
            calls.append(("activate_protocol", {"protocol": "stemi"}))
        if g == "respiratory" and task == "disposition" and self.obs.has_pmh("asthma"):
            calls.append(("measure_peak_flow", {}))
        return calls

    def _followup(self) -> list[Call]:
        hours = {"h4": 4, "h6": 6, "h8": 8, "h10": 10, "h12": 12, "h16": 16, "h20": 20}.get(str(self.obs.answers.get("ingestion_time")))
        level = self.obs.lab("acetaminophen_level")
        if hours and level is not None and level > 10:
            return [("rumack_matthew_nomogram", {"hours_since_ingestion": hours, "acetaminophen_level": level})]
        return []

    STAGES = [_arrival, _interview, _bedside, _tests, _followup]

    # --- reading ---------------------------------------------------------------------------------------

    def _survey(self) -> str:
        return " ".join(str(v) for v in (self.obs.tools.get("primary_survey") or {}).values()).lower()

    def _avpu(self) -> str:
        text = self._survey()
        for letter in ("U", "P", "V"):
            if f"avpu: {letter.lower()}" in text:
                return letter
        return "A"

    def _confused(self) -> bool:
        tox = str((self.obs.tools.get("toxidrome_exam") or {}).get("mental_status", "")).lower()
        return any(w in self._survey() for w in ("confus", "disoriented")) or any(w in tox for w in ("confus", "delirium"))

    def _ecg(self) -> str:
        return str(self.obs.studies.get("ecg", {}).get("impression", ""))

    def _glucose(self) -> float | None:
        g = self.obs.tools.get("point_of_care_glucose")
        return numbers(g["glucose"])[0] if g else None

    def _pain(self) -> int | None:
        p = self.obs.tools.get("pain_scale")
        n = numbers(p["pain_score"]) if p else []
        return int(n[0]) if n else None

    def _tox(self) -> dict[str, str]:
        return {k: str(v).lower() for k, v in (self.obs.tools.get("toxidrome_exam") or {}).items()}

    def _qrs(self) -> float:
        m = self.obs.tools.get("cardiac_monitor")
        return numbers(m["qrs_duration"])[0] if m else 90.0

    # --- deciding --------------------------------------------------------------------------------------

    def _lifesaving(self) -> bool:
        s, v = self._survey(), self.obs.vitals
        airway = any(w in s for w in ("stridor", "obstructed", "snoring respirations", "secretions pooling", "gurgling"))
        breathing = any(w in s for w in ("shallow, slow", "agonal", "bronchorrhea", "cyanosis"))
        shock = v.get("systolic_bp", 120) < 90 or (v.get("heart_rate", 80) < 50 and v.get("systolic_bp", 120) < 100)
        glucose = self._glucose()
        hypoglycemia = glucose is not None and glucose < 70 and (self._avpu() != "A" or self._confused() or not self.open.speaks)
        return airway or breathing or shock or hypoglycemia or v.get("respiratory_rate", 16) < 8

    def _high_risk(self) -> bool:
        g, o = self.group, self.obs
        tox = self._tox()
        toxic_exam = any(x not in ("alert and oriented", "3-4 mm, equal and reactive", "warm, dry, normal color", "moist", "normal")
                         and not x.startswith("normal tone") for x in tox.values())
        hcg = "positive" in o.lab_text("urine_hcg")
        return any([
            g in ("chest", "suicidal", "overdose", "allergy"),
            "infarction" in self._ecg() or "ischemia" in self._ecg(),
            g == "neuro" and "neurological" in o.exam and "intact" not in o.exam["neurological"],
            bool(o.answers.get("suicidal_thoughts")) or bool(o.answers.get("self_harm_intent")),
            hcg and g in ("pelvic", "abdominal", "dizziness"),
            toxic_exam,
            (o.lab("carboxyhemoglobin") or 0) > 10,
        ])

    def _resources(self) -> int:
        g, o = self.group, self.obs
        if g == "ankle":
            return int("meets the ottawa" in o.exam.get("musculoskeletal", "").lower())
        if g == "laceration":
            return int("suture" in o.exam.get("skin", "").lower())
        if g == "urinary":
            infected = o.vitals.get("temperature_c", 37) >= 38.0 or bool(o.answers.get("flank_pain")) or "costovertebral" in o.exam.get("abdomen", "").lower()
            return 3 if infected else 1
        return USUAL_RESOURCES.get(g, 2)

    def esi(self) -> int:
        v = self.obs.vitals
        level, _ = scores.esi_level(scores.EsiInputs(
            lifesaving=self._lifesaving(), unresponsive=self._avpu() in ("P", "U"), high_risk=self._high_risk(),
            confused=self._confused() or self._avpu() == "V", pain=self._pain(), resources=self._resources(),
            heart_rate=v.get("heart_rate", 80), respiratory_rate=v.get("respiratory_rate", 16), spo2=v.get("spo2", 98),
        ))
        return level

    def poisoning(self) -> str:
        """The template id of the poisoning the findings point to."""
        o, tox = self.obs, self._tox()
        agent = str(o.answers.get("ingested_substance", "")) + " " + str(o.tools.get("review_prehospital_report", {}).get("report", "")).lower()
        if (o.lab("acetaminophen_level") or 0) > 10:
            return "acetaminophen_overdose"
        if (o.lab("salicylate_level") or 0) > 30:
            return "salicylate_poisoning"
        if (o.lab("carboxyhemoglobin") or 0) > 10:
            return "carbon_monoxide_poisoning"
        if (o.lab("digoxin_level") or 0) > 2.0:
            return "digoxin_toxicity"
        pupils, skin, neuro = tox.get("pupils", ""), tox.get("skin", ""), tox.get("neuromuscular", "")
        if "clonus" in neuro and "no clonus" not in neuro:
            return "serotonin_syndrome"
        if "pinpoint" in pupils:
            wet = any(w in skin + tox.get("mucous_membranes", "") + neuro for w in ("diaphoretic", "salivation", "fasciculation"))
            return "organophosphate_poisoning" if wet else "opioid_overdose"
        if "dilated" in pupils and "dry" in skin:
            return "tricyclic_overdose" if self._qrs() > 100 or "amitriptyline" in agent else "anticholinergic_toxicity"
        if "dilated" in pupils:
            return "sympathomimetic_toxicity"
        glucose = self._glucose() or 100
        if any(w in agent for w in ("verapamil", "diltiazem", "amlodipine")) or glucose > 180:
            return "calcium_channel_blocker_overdose"
        return "beta_blocker_overdose"

    def condition(self) -> str:
        """The emergency a management task is about."""
        g, o = self.group, self.obs
        glucose = self._glucose()
        if glucose is not None and glucose < 70:
            return "hypoglycemia"
        if "ST-elevation" in self._ecg() and g == "chest":
            return "acute_coronary_syndrome"
        if g == "neuro":
            return "acute_ischemic_stroke"
        if g == "allergy" or o.answers.get("allergen_exposure"):
            return "anaphylaxis"
        if g in ("fever", "respiratory", "urinary") or (o.lab("lactate") or 0) > 2:
            return "sepsis"
        return self.poisoning()

    def plan(self, condition: str) -> list[str]:
        o, v = self.obs, self.obs.vitals
        plans: dict[str, list[str]] = {
            "opioid_overdose": ["naloxone", "bvm_ventilation"],
            "hypoglycemia": ["iv_dextrose"] + (["octreotide"] if o.takes(*SULFONYLUREAS) else []),
            "anaphylaxis": ["im_epinephrine"] + (["iv_fluid_bolus"] if v.get("systolic_bp", 120) < 90 else []),
            "acute_coronary_syndrome": ["aspirin", "primary_pci"],
            "acute_ischemic_stroke": (["ct_angiography"] if o.takes(*ANTICOAGULANTS) else
                                      (["bp_lowering_before_lysis"] if v.get("systolic_bp", 0) > 185 or v.get("diastolic_bp", 0) > 110 else [])
                                      + ["iv_thrombolysis"]),
            "sepsis": ["lactate", "blood_cultures", "broad_spectrum_antibiotics"]
                      + (["crystalloid_30"] if v.get("systolic_bp", 120) < 90 or (o.lab("lactate") or 0) >= 4 else []),
            "acetaminophen_overdose": ["n_acetylcysteine"],
            "salicylate_poisoning": ["sodium_bicarbonate"] + (["hemodialysis"] if (o.lab("salicylate_level") or 0) > 100 or self._confused() else []),
            "tricyclic_overdose": ["sodium_bicarbonate"],
            "organophosphate_poisoning": ["decontamination", "atropine", "pralidoxime"],
            "carbon_monoxide_poisoning": ["high_flow_oxygen"],
            "calcium_channel_blocker_overdose": ["iv_calcium", "high_dose_insulin"],
            "beta_blocker_overdose": ["glucagon", "high_dose_insulin"],
            "sympathomimetic_toxicity": ["benzodiazepines"] + (["active_cooling"] if v.get("temperature_c", 37) >= 38.5 else []),
            "anticholinergic_toxicity": ["benzodiazepines"] + (["physostigmine"] if self._qrs() <= 100 else []),
            "serotonin_syndrome": ["benzodiazepines", "cyproheptadine"],
            "digoxin_toxicity": ["digoxin_fab"],
        }
        return plans.get(condition, [])

    def disposition(self) -> str:
        o, v = self.obs, self.obs.vitals
        if self.group == "tia":
            score = scores.abcd2(self.open.age, v["systolic_bp"], v["diastolic_bp"], str(o.answers.get("tia_symptom")),
                                 str(o.answers.get("tia_duration")), o.has_pmh("diabetes"))
            return scores.tia_disposition(score)
        if self.group == "gi_bleed":
            score = scores.glasgow_blatchford(
                o.lab("bun") or 0, o.lab("hemoglobin") or 15, self.open.sex, v["systolic_bp"], v["heart_rate"],
                bool(o.answers.get("melena")), bool(o.answers.get("syncope")), o.has_pmh("cirrhosis"), o.has_pmh("heart failure"))
            return scores.gi_bleed_disposition(score)
        if "measure_peak_flow" in o.tools:
            pf = o.tools.get("measure_peak_flow", {})
            pre, post = numbers(pf.get("before_treatment", ""))[1:2], numbers(pf.get("after_one_hour", ""))[1:2]
            if pre and post:
                return scores.asthma_disposition(pre[0], post[0])
        confused = self._confused()
        bun = o.lab("bun") or 0
        multilobar = "multilobar" in str(o.studies.get("chest_xray", {}).get("impression", "")).lower()
        curb = scores.curb65(confused, bun, v["respiratory_rate"], v["systolic_bp"], v["diastolic_bp"], self.open.age)
        minor = scores.severe_cap_minor_criteria(v["respiratory_rate"], (o.lab("pao2") or 95) / 0.21, multilobar, confused, bun,
                                                 o.lab("wbc") or 8, o.lab("platelets") or 250, v["temperature_c"], v["systolic_bp"])
        return scores.pneumonia_disposition(curb, minor)

    def submission(self) -> Call:
        lib = self.k.library
        task = self.open.task_type
        if task == "triage":
            return "submit_answer", {"answer": f"ESI {self.esi()}"}
        if task == "disposition":
            label = {"discharge": "discharge", "admit": "admit", "admit_ward": "admit to ward", "admit_icu": "admit to ICU"}
            return "submit_answer", {"answer": label[self.disposition()]}
        if task == "diagnosis":
            template = lib.templates[self.poisoning()]
            name, code = self._diagnosis_name(template)
            return "submit_diagnosis", {"diagnosis": name, "icd10_code": code}
        condition = self.condition()
        plan = [lib.concepts[c].label for c in self.plan(condition)]
        return "submit_treatment_plan", {"plan": plan or ["supportive care"], "diagnosis": lib.templates[condition].name if condition in lib.templates else condition}

    def _diagnosis_name(self, template: Any) -> tuple[str, str]:
        report = str(self.obs.tools.get("review_prehospital_report", {}).get("report", "")).lower()
        evidence = " ".join([report, str(self.obs.answers.get("ingested_substance", "")), self.obs.lab_text("urine_drug_screen")])
        for sub in template.subtypes:
            if sub.name and sub.id in evidence or (sub.id == "methamphetamine" and "amphetamine" in evidence):
                return sub.name, sub.icd10
        dx = template.diagnosis
        if dx.name:
            return dx.name, dx.icd10
        if template.id == "opioid_overdose":
            return "Opioid overdose", "T40.601A"
        return dx.synonyms[0], ""


register_workflow("emergency", EmergencyWorkflow)
