"""obstetrics: gestational dating (ACOG CO 700), Bishop score, NICHD fetal heart rate categories,
hypertensive disorders of pregnancy (ACOG PB 222), postpartum hemorrhage, Rh(D) prophylaxis, Apgar.

Templates in `templates.yaml`, the published rules in `rules.py`, the builders in `cases.py`,
the tools in `tools.py`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from medgym.domains import Domain, register_domain
from medgym.domains.obstetrics import tools  # noqa: F401  (registers the domain's tools)
from medgym.domains.obstetrics.cases import NAME, Library, generate, library


@dataclass(frozen=True)
class ObstetricKnowledge:
    """What the scripted clinician may consult: the templates and treatment concepts."""

    library: Library


def clinical_knowledge() -> ObstetricKnowledge:
    return ObstetricKnowledge(library())


KNOWLEDGE = [
    ("dating", "Estimating the due date",
     "Ultrasound measurement of the embryo or fetus in the first trimester (up to 13 6/7 weeks) is the most accurate method to "
     "establish or confirm gestational age. The EDD is 280 days after the first day of the LMP. Redate by ultrasound when the "
     "difference exceeds 5 days before 9 0/7 weeks, 7 days at 9 0/7-13 6/7 and 14 0/7-15 6/7 weeks, 10 days at 16 0/7-21 6/7 "
     "weeks, 14 days at 22 0/7-27 6/7 weeks and 21 days from 28 0/7 weeks. For IVF the EDD is set from the embryo's age and the "
     "transfer date (a day-5 embryo: 261 days after transfer; day 3: 263 days).", "pregnancy_dating"),
    ("fhr", "NICHD three-tier fetal heart rate interpretation",
     "Category I: baseline 110-160 bpm, moderate variability (6-25 bpm), no late or variable decelerations; early decelerations "
     "and accelerations may be present or absent. Category III: absent variability with recurrent late decelerations, recurrent "
     "variable decelerations or bradycardia (< 110 bpm), or a sinusoidal pattern. Category II: all other tracings. Late "
     "decelerations are gradual (onset to nadir 30 s or more) with the nadir after the contraction's peak; variable decelerations "
     "are abrupt (under 30 s); early decelerations mirror the contraction; recurrent means with half or more of contractions. "
     "Category III calls for intrauterine resuscitation and, if unresolved, expedited delivery.", "fhr_tracing"),
    ("hypertension", "Hypertensive disorders of pregnancy",
     "Gestational hypertension: blood pressure 140/90 mmHg or more on two occasions at least 4 hours apart after 20 weeks in a "
     "previously normotensive woman. Preeclampsia: gestational hypertension with proteinuria (protein/creatinine ratio 0.3 mg/mg "
     "or more), or without proteinuria with thrombocytopenia, renal insufficiency, impaired liver function, pulmonary edema, new "
     "headache unresponsive to medication or visual symptoms. Severe features: severe-range BP (160 systolic or 110 diastolic), "
     "platelets below 100,000, transaminases twice normal or severe RUQ pain, creatinine above 1.1 mg/dL, pulmonary edema, "
     "headache unresponsive to medication, visual disturbances. HELLP: LDH 600 IU/L or more, AST and ALT more than twice normal, "
     "platelets below 100,000. Chronic hypertension predates pregnancy or 20 weeks; superimposed preeclampsia adds new proteinuria "
     "or severe features. Management: gestational hypertension or preeclampsia without severe features - deliver at 37 0/7 "
     "weeks, expectant management before; with severe features at 34 weeks or more - magnesium sulfate, treat severe-range BP "
     "within 30-60 minutes (IV labetalol, IV hydralazine or oral nifedipine), deliver after stabilization. Magnesium is "
     "contraindicated in myasthenia gravis; labetalol is avoided in asthma.", "preeclampsia_severe"),
    ("pph", "Postpartum hemorrhage",
     "Cumulative blood loss of 1000 mL or more, or bleeding with signs of hypovolemia, within 24 hours of birth. Causes (four Ts): "
     "tone (atony: soft boggy uterus), trauma (lacerations, hematoma), tissue (retained placenta or membranes), thrombin "
     "(coagulopathy). Atony: bimanual uterine massage and oxytocin, then other uterotonics (methylergonovine - contraindicated in "
     "hypertension and preeclampsia; carboprost - contraindicated in asthma; misoprostol). Tranexamic acid 1 g IV within 3 hours "
     "of birth (WHO 2017). Retained tissue: manual removal; trauma: repair; coagulopathy: replace fibrinogen, plasma and platelets.",
     "postpartum_hemorrhage"),
    ("rh", "Rh(D) immune globulin",
     "An Rh(D)-negative woman who is not alloimmunized receives 300 ug of RhIG at 28 weeks and within 72 hours after delivering an "
     "Rh(D)-positive newborn; none is given once anti-D has formed, nor after an Rh(D)-negative newborn. After delivery a rosette "
     "screen looks for a large fetomaternal hemorrhage; if positive, a Kleihauer-Betke test quantifies it: fetal whole blood (mL) = "
     "percent fetal cells x 5000 mL / 100; each 300-ug vial covers 30 mL; round the quotient down below .5 and up from .5, then "
     "add one vial.", "rh_prophylaxis"),
    ("bishop", "Bishop score",
     "Dilation: closed 0, 1-2 cm 1, 3-4 cm 2, 5 cm or more 3. Effacement: 0-30% 0, 40-50% 1, 60-70% 2, 80% or more 3. Station: -3 0, "
     "-2 1, -1 or 0 2, +1 or +2 3. Consistency: firm 0, medium 1, soft 2. Position: posterior 0, mid 1, anterior 2. A score above 8 "
     "predicts a vaginal delivery after induction as likely as after spontaneous labor.", "bishop_induction"),
    ("induction", "Starting an induction of labor",
     "With an unfavorable cervix (Bishop score 6 or less) a cervical ripening agent is used first: a prostaglandin (misoprostol, "
     "dinoprostone) or a mechanical method (transcervical balloon catheter). Misoprostol should not be used for cervical ripening "
     "in women who have had a cesarean delivery or major uterine surgery; a balloon catheter is used instead. With a favorable "
     "cervix, oxytocin with or without amniotomy.", "bishop_induction"),
    ("fhr_management", "Managing a category III tracing",
     "A category III tracing is abnormal: begin intrauterine resuscitation at once (maternal repositioning, an IV fluid bolus, "
     "correcting maternal hypotension, stopping uterotonics and treating tachysystole) and, if the tracing does not resolve, "
     "expedite delivery.", "fhr_tracing"),
    ("apgar", "Apgar score",
     "Five signs scored 0, 1 or 2 at 1 and 5 minutes: heart rate (absent; below 100; 100 or more), respiratory effort (absent; "
     "slow or irregular; good, crying), muscle tone (limp; some flexion; active motion), reflex irritability (no response; "
     "grimace; cry or active withdrawal) and color (blue or pale; pink body with blue extremities; completely pink). 7-10 is "
     "reassuring, 4-6 moderately abnormal, 0-3 low.", "apgar_score"),
    ("bleeding", "Third-trimester bleeding",
     "Placenta previa presents with painless bright red bleeding and a soft, non-tender uterus; digital cervical examination is "
     "contraindicated until ultrasound has excluded a previa. Placental abruption presents with painful bleeding, a tender "
     "hypertonic uterus, frequent contractions and often a non-reassuring fetal heart rate; ultrasound misses many abruptions.",
     "antepartum_bleeding"),
]


def knowledge() -> list[dict[str, Any]]:
    """Passages: dating, FHR categories, hypertensive disorders, PPH, Rh prophylaxis and bleeding, each with its source."""
    lib = library()
    return [{"id": f"medgym:{NAME}:{key}", "title": title, "text": text, "source": lib.templates[template].source, "domain": NAME}
            for key, title, text, template in KNOWLEDGE]


register_domain(
    Domain(
        name=NAME,
        description="Obstetrics: dating, Bishop score, fetal heart rate categories, hypertensive disorders, postpartum hemorrhage, Rh(D) prophylaxis, Apgar.",
        generate=generate,
        knowledge=knowledge,
        workflow="obstetric",
        clinical_knowledge=clinical_knowledge,
    )
)
