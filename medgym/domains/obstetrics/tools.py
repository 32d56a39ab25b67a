"""The obstetric unit's own tools: the prenatal record, ultrasound, cervical examination,
fetal heart rate and contraction monitoring, a repeat blood pressure, blood typing and the
fetomaternal hemorrhage test, the postpartum bleeding assessment and the newborn assessment.

Each returns findings (a tracing's features, a cervix, a blood type), never a category, a
score or a diagnosis.
"""

from __future__ import annotations

from typing import Any, Literal

from medgym.domains.obstetrics.cases import NAME
from medgym.encounter import Encounter
from medgym.tools.registry import ToolError, tool


def _extra(case: Encounter, key: str) -> Any:
    return case.task.chart.extra.get(key)


@tool(domain=NAME)
def review_prenatal_record(case: Encounter) -> dict[str, Any]:
    """Review the prenatal record: today's date, gestational age and how it was dated, last menstrual period,
    conception, gravidity and parity, previous deliveries and the course of this pregnancy.

    Args:
        case: The running encounter (injected by the environment).
    """
    return dict(_extra(case, "prenatal") or {"note": "No prenatal record is available."})


@tool(domain=NAME, cost=3.0)
def obstetric_ultrasound(case: Encounter) -> dict[str, Any]:
    """Perform an obstetric ultrasound: viability, gestational age by crown-rump length or biometry,
    presentation, amniotic fluid and placental location.

    Args:
        case: The running encounter (injected by the environment).
    """
    return dict(_extra(case, "ultrasound") or {"findings": "Single live intrauterine pregnancy; growth appropriate for dates.",
                                                 "placenta": "Fundal, clear of the internal os."})


@tool(domain=NAME)
def cervical_exam(case: Encounter) -> dict[str, Any]:
    """Perform a digital cervical examination: dilation, effacement, fetal station, consistency and position.

    Args:
        case: The running encounter (injected by the environment).
    """
    cervix = _extra(case, "cervix")
    if cervix is None:
        raise ToolError("A cervical examination is not indicated at this visit.")
    return dict(cervix)


@tool(domain=NAME, cost=0.5)
def fetal_heart_tracing(case: Encounter) -> dict[str, Any]:
    """Read the last 30 minutes of the fetal heart rate tracing: baseline, variability, accelerations and
    decelerations (their shape, timing and how often they occur).

    Args:
        case: The running encounter (injected by the environment).
    """
    fhr = _extra(case, "fhr")
    if fhr is None:
        return {"note": "No fetal monitoring is running at this encounter."}
    return dict(fhr)


@tool(domain=NAME, cost=0.5)
def tocodynamometry(case: Encounter) -> dict[str, Any]:
    """Read the contraction monitor: contractions per 10 minutes averaged over 30 minutes, their duration and
    the resting tone.

    Args:
        case: The running encounter (injected by the environment).
    """
    return dict(_extra(case, "toco") or {"contractions_per_10_min": 0, "averaged_over": "30 minutes"})


@tool(domain=NAME)
def repeat_blood_pressure(case: Encounter) -> dict[str, Any]:
    """Repeat the blood pressure measurement after the interval the diagnostic criteria require.

    Args:
        case: The running encounter (injected by the environment).
    """
    repeat = _extra(case, "bp_repeat")
    if repeat is None:
        v = case.task.presentation.vitals
        return {"after_hours": 4, "blood_pressure": f"{v.systolic_bp}/{v.diastolic_bp} mmHg"}
    return dict(repeat)


@tool(domain=NAME, key_arg="patient")
def blood_type_and_screen(patient: Literal["mother", "newborn"], case: Encounter) -> dict[str, Any]:
    """Type and screen: ABO and Rh(D) type with an antibody screen (mother), or cord-blood ABO/Rh(D) type and
    direct antiglobulin test (newborn).

    Args:
        patient: Whose blood to type.
        case: The running encounter (injected by the environment).
    """
    types = _extra(case, "blood_type") or {}
    if patient not in types:
        if patient == "newborn":
            raise ToolError("There is no newborn yet: the patient has not delivered.")
        return {"abo_rh": "O Rh(D) positive", "antibody_screen": "Negative"}
    return dict(types[patient])


@tool(domain=NAME, cost=1.0)
def fetal_maternal_hemorrhage_test(case: Encounter) -> dict[str, Any]:
    """Screen the mother's blood for fetal red cells (rosette test) and, if positive, quantify them by
    Kleihauer-Betke acid elution.

    Args:
        case: The running encounter (injected by the environment).
    """
    fmh = _extra(case, "fmh")
    if fmh is None:
        raise ToolError("The fetomaternal hemorrhage test is done after the birth of an Rh(D)-positive baby to an Rh(D)-negative mother.")
    return dict(fmh)


@tool(domain=NAME)
def quantify_blood_loss(case: Encounter) -> dict[str, Any]:
    """Quantify blood loss since the birth by weighing pads and measuring the collection drape.

    Args:
        case: The running encounter (injected by the environment).
    """
    qbl = _extra(case, "qbl")
    if qbl is None:
        return {"quantitative_blood_loss_ml": "not applicable (no delivery at this encounter)"}
    return dict(qbl)


@tool(domain=NAME)
def fundal_assessment(case: Encounter) -> dict[str, Any]:
    """Palpate the uterine fundus after the birth: its tone and height.

    Args:
        case: The running encounter (injected by the environment).
    """
    return {"fundus": _extra(case, "fundus") or "Not applicable: the patient has not delivered."}


@tool(domain=NAME)
def inspect_placenta(case: Encounter) -> dict[str, Any]:
    """Inspect the delivered placenta and membranes for completeness.

    Args:
        case: The running encounter (injected by the environment).
    """
    return {"placenta": _extra(case, "placenta") or "Not applicable: the placenta has not been delivered."}


@tool(domain=NAME)
def inspect_genital_tract(case: Encounter) -> dict[str, Any]:
    """Inspect the perineum, vagina and cervix for lacerations and hematomas.

    Args:
        case: The running encounter (injected by the environment).
    """
    return {"genital_tract": _extra(case, "genital_tract") or "Not applicable: no delivery at this encounter."}


@tool(domain=NAME, key_arg="minute")
def newborn_assessment(minute: Literal[1, 5], case: Encounter) -> dict[str, Any]:
    """Assess the newborn at 1 or 5 minutes after birth: heart rate, respiratory effort, muscle tone, reflex
    irritability and color.

    Args:
        minute: Minutes after birth (1 or 5).
        case: The running encounter (injected by the environment).
    """
    newborn = _extra(case, "newborn")
    if newborn is None:
        raise ToolError("There is no newborn to assess at this encounter.")
    return {"minute": minute, **newborn[str(minute)]}
