"""ehr_management: reading and summarizing a longitudinal, FHIR R4-shaped electronic chart.

Each task carries its own seeded chart (a pre-admission visit, the admission's time series of
vital signs and laboratory results, problems, medications, notes, orders and appointments) in
`task.chart.extra["fhir"]`. Task types: trend reading, early-warning scores over time (NEWS2,
qSOFA, SOFA), discharge medication reconciliation, and handoff and discharge summaries graded by
their required structured elements.
"""

from __future__ import annotations

from typing import Any

from medgym.domains import Domain, register_domain
from medgym.domains.ehr_management import tools  # noqa: F401  (registers the domain's tools)
from medgym.domains.ehr_management.cases import SOURCES, generate

NAME = "ehr_management"

KNOWLEDGE = [
    ("news2", "National Early Warning Score 2 (NEWS2)",
     "NEWS2 adds points for respiration rate (<=8: 3; 9-11: 1; 12-20: 0; 21-24: 2; >=25: 3), SpO2 on scale 1 (<=91: 3; "
     "92-93: 2; 94-95: 1; >=96: 0), supplemental oxygen (2), systolic blood pressure (<=90: 3; 91-100: 2; 101-110: 1; "
     "111-219: 0; >=220: 3), pulse (<=40: 3; 41-50: 1; 51-90: 0; 91-110: 1; 111-130: 2; >=131: 3), consciousness (new "
     "confusion, voice, pain or unresponsive: 3) and temperature (<=35.0: 3; 35.1-36.0: 1; 36.1-38.0: 0; 38.1-39.0: 1; "
     ">=39.1: 2). An aggregate of 5-6 calls for an urgent response, 7 or more for an emergency response; a 3 in any single "
     "parameter prompts urgent ward-based review. SpO2 scale 2 is for patients with hypercapnic respiratory failure and a "
     "prescribed target of 88-92%.", "news2"),
    ("qsofa", "quick SOFA (qSOFA)",
     "qSOFA gives one point each for respiratory rate of 22/min or more, systolic blood pressure of 100 mmHg or less, and "
     "altered mentation (Glasgow coma score below 15). A score of 2 or more identifies patients with suspected infection at "
     "higher risk of poor outcome.", "qsofa"),
    ("sofa", "Sequential Organ Failure Assessment (SOFA)",
     "SOFA scores six organ systems 0-4 from the worst value in a 24-hour period: respiration by PaO2/FiO2 (<400: 1; <300: "
     "2; <200 with respiratory support: 3; <100 with support: 4), coagulation by platelets x10^3/uL (<150: 1; <100: 2; <50: "
     "3; <20: 4), liver by bilirubin mg/dL (1.2-1.9: 1; 2.0-5.9: 2; 6.0-11.9: 3; >=12: 4), cardiovascular (MAP <70 mmHg: 1; "
     "dopamine <=5 or dobutamine: 2; norepinephrine <=0.1 ug/kg/min: 3; norepinephrine >0.1: 4), central nervous system by "
     "Glasgow coma score (13-14: 1; 10-12: 2; 6-9: 3; <6: 4) and renal by creatinine mg/dL (1.2-1.9: 1; 2.0-3.4: 2; "
     "3.5-4.9 or urine output <500 mL/day: 3; >=5.0 or urine output <200 mL/day: 4). Sepsis is an acute rise of 2 or more.",
     "sofa"),
    ("kdigo", "KDIGO acute kidney injury staging",
     "Acute kidney injury: creatinine rise of 0.3 mg/dL or more within 48 hours, or to 1.5 times baseline or more within 7 "
     "days. Stage 1: 1.5-1.9 times baseline or a rise of 0.3 mg/dL or more; stage 2: 2.0-2.9 times baseline; stage 3: 3.0 "
     "times baseline or more, a rise to 4.0 mg/dL or more, or renal replacement therapy (urine-output criteria also exist).",
     "kdigo"),
    ("hypoglycemia", "Hypoglycemia levels",
     "Level 1 hypoglycemia: glucose below 70 mg/dL and at or above 54 mg/dL; level 2: below 54 mg/dL; level 3: a severe "
     "event with altered mental or physical status needing assistance.", "hypoglycemia"),
    ("medrec", "Medication reconciliation at transitions of care",
     "Compare the medications the patient took before admission with those ordered at discharge; every difference should "
     "be intentional and documented. Unintended discrepancies include omissions of home medications without a documented "
     "reason and therapeutic duplications (two drugs of the same class).", "medrec"),
    ("ipass", "I-PASS handoff",
     "I-PASS: Illness severity, Patient summary (including active problems, code status and allergies), Action list, "
     "Situation awareness and contingency planning (including pending results), and Synthesis by the receiver.", "ipass"),
    ("discharge", "Discharge summary contents",
     "A discharge summary states the reason for hospitalization, significant findings, procedures and treatment, the "
     "patient's condition at discharge, medication changes (new, stopped and changed drugs), results pending at discharge "
     "and the follow-up arranged.", "discharge"),
    ("fhir_observation", "FHIR R4 Observation",
     "An Observation records a measurement: status (e.g. final, preliminary), category (vital-signs, laboratory, survey), "
     "code (usually LOINC), effectiveDateTime, and a value such as valueQuantity (value and unit). Panels such as vital "
     "signs or blood pressure carry their parts as components, each with its own code and value. referenceRange gives the "
     "normal range and interpretation flags the result (H high, L low, N normal, A abnormal).", "fhir"),
    ("fhir_condition", "FHIR R4 Condition",
     "A Condition is a problem or diagnosis. clinicalStatus is active, recurrence, relapse, inactive, remission or "
     "resolved; category distinguishes problem-list items from encounter diagnoses; abatementDateTime records when a "
     "condition resolved. Encounter.diagnosis lists an encounter's diagnoses with a rank (1 = the principal diagnosis).",
     "fhir"),
    ("fhir_medications", "FHIR R4 medication resources",
     "MedicationStatement records what a patient takes (for example the pre-admission home list, category community). "
     "MedicationRequest is an order or prescription (intent order) whose category is inpatient, outpatient, community "
     "or discharge. MedicationAdministration records a dose actually given, including infusion rates (rateQuantity).",
     "fhir"),
    ("fhir_encounter", "FHIR R4 Encounter, ServiceRequest and Appointment",
     "An Encounter is a contact with the health system; its class is e.g. AMB (ambulatory), EMER (emergency) or IMP "
     "(inpatient), with a period (start, end). A ServiceRequest is an order for a test or service: status active means "
     "ordered and not yet completed, completed means resulted. An Appointment (status booked, proposed, ...) is a "
     "scheduled follow-up.", "fhir"),
    ("fhir_documentreference", "FHIR R4 DocumentReference and AllergyIntolerance",
     "A DocumentReference points to a clinical document such as a history and physical or a progress note, with its "
     "type and date; the note text can be carried in the resource's narrative. AllergyIntolerance records a substance "
     "and the reaction (manifestation) the patient had.", "fhir"),
    ("loinc_codes", "LOINC codes in the charts",
     "Vital signs panel 85353-1; heart rate 8867-4; respiratory rate 9279-1; systolic blood pressure 8480-6; diastolic "
     "blood pressure 8462-4; body temperature 8310-5; oxygen saturation by pulse oximetry 59408-5; body weight 29463-7; "
     "Glasgow coma score total 9269-2; inhaled oxygen concentration 3150-0; creatinine 2160-0; potassium 2823-3; sodium "
     "2951-2; hemoglobin 718-7; platelets 777-3; leukocytes 6690-2; total bilirubin 1975-2; glucose 2345-7; bicarbonate "
     "1963-8; urea nitrogen 3094-0; lactate 2524-7; albumin 1751-7; INR 6301-6; arterial PaO2 2703-7.", "loinc"),
]


def knowledge() -> list[dict[str, Any]]:
    return [{"id": f"medgym:{NAME}:{key}", "title": title, "text": text, "source": SOURCES[src], "domain": NAME}
            for key, title, text, src in KNOWLEDGE]


def clinical_knowledge() -> dict[str, Any]:
    """What the scripted clinician consults: the drug formulary's classes (to spot duplications)."""
    from medgym.domains.drug_interaction.formulary import formulary

    return {"formulary": formulary()}


register_domain(
    Domain(
        name=NAME,
        description="Electronic health record: trends, early-warning scores, medication reconciliation, handoff and discharge summaries.",
        generate=generate,
        knowledge=knowledge,
        workflow="chart_review",
        clinical_knowledge=clinical_knowledge,
    )
)
