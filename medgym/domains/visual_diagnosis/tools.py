"""Measurement tools that read the task's tracing (the same signal a vision model sees), the
interpretation criteria, and the two structured interpretations (ECG, cardiotocograph).

The ECG tools are also offered in cross_domain, whose journeys carry ECGs of their own.
"""

from __future__ import annotations

from typing import Any, Literal

from medgym.domains.visual_diagnosis import measure, signals
from medgym.encounter import Encounter
from medgym.tools.registry import ToolError, tool

DOMAIN = "visual_diagnosis"
ECG_DOMAINS = ("visual_diagnosis", "cross_domain")
Lead = Literal["I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6"]
Rhythm = Literal[
    "normal sinus rhythm", "sinus bradycardia", "sinus tachycardia", "atrial fibrillation", "atrial flutter",
    "sinus rhythm with first-degree AV block", "second-degree AV block, Mobitz I (Wenckebach)", "second-degree AV block, Mobitz II",
    "third-degree (complete) AV block", "supraventricular tachycardia", "monomorphic ventricular tachycardia",
    "sinus rhythm with ventricular bigeminy", "junctional rhythm",
]

CRITERIA: dict[str, dict[str, Any]] = {
    "rhythms": {
        "source": "Chou's Electrocardiography in Clinical Practice, 6th ed.; AHA/ACCF/HRS ECG standardization recommendations (2007-2009)",
        "sinus": "a P wave before every QRS with a constant PR interval; rate 60-100/min (bradycardia < 60, tachycardia > 100)",
        "first-degree AV block": "sinus rhythm with PR > 200 ms, every P conducted",
        "Mobitz I (Wenckebach)": "PR lengthens beat by beat until a P wave is not conducted; grouped beating",
        "Mobitz II": "constant PR with sudden non-conducted P waves; the pause is two P-P intervals; QRS often wide",
        "third-degree AV block": "P waves and QRS complexes regular but independent (PR varies); escape 40-60/min narrow or 20-45/min wide",
        "atrial fibrillation": "irregularly irregular RR, no P waves, fibrillatory baseline",
        "atrial flutter": "sawtooth flutter waves at 250-350/min (negative in II, III, aVF), usually 2:1 (about 150/min) or 4:1 block",
        "supraventricular tachycardia": "regular narrow-complex tachycardia, usually 150-250/min, P waves not visible",
        "ventricular tachycardia": "regular wide-complex (QRS >= 120 ms) tachycardia >= 100/min, AV dissociation",
        "ventricular bigeminy": "every sinus beat is followed by a premature wide QRS without a P wave, then a pause",
        "junctional rhythm": "regular narrow QRS at 40-60/min without preceding P waves",
    },
    "axis": {
        "source": "AHA/ACCF/HRS Recommendations for the Standardization and Interpretation of the ECG, part I (Kligfield P et al., Circulation 2007)",
        "method": "axis = atan2(net QRS in aVF / (sqrt(3)/2), net QRS in I)",
        "normal": "-30 to +90 degrees", "left axis deviation": "-30 to -90 degrees", "right axis deviation": "+90 to +180 degrees",
        "extreme axis deviation": "-90 to -180 degrees",
    },
    "intervals": {
        "source": "AHA/ACCF/HRS Recommendations, part IV: the ST segment, T and U waves and the QT interval (Rautaharju PM et al., Circulation 2009)",
        "PR": "120-200 ms", "QRS": "< 120 ms", "QTc (Bazett)": "QT / sqrt(RR in s)",
        "prolonged QTc": ">= 450 ms in men, >= 460 ms in women",
    },
    "st_elevation": {
        "source": "Fourth Universal Definition of Myocardial Infarction (Thygesen K et al., Circulation 2018)",
        "criterion": "new ST elevation at the J point in two contiguous leads: >= 1 mm in all leads other than V2-V3; in V2-V3 >= 2 mm "
                     "in men >= 40 years, >= 2.5 mm in men < 40 years, >= 1.5 mm in women",
        "territories": {"inferior": ["II", "III", "aVF"], "anterior": ["V1", "V2", "V3", "V4"], "lateral": ["I", "aVL", "V5", "V6"]},
    },
    "fhr_nichd": {
        "source": "Macones GA et al., The 2008 NICHD workshop report on electronic fetal monitoring, Obstet Gynecol 2008;112:661-666",
        "baseline": "mean FHR rounded to 5 bpm over 10 min, excluding accelerations, decelerations and marked variability; normal 110-160",
        "variability": "peak-to-trough amplitude: absent (undetectable), minimal (<= 5 bpm), moderate (6-25 bpm), marked (> 25 bpm)",
        "acceleration": "abrupt rise (onset to peak < 30 s) of >= 15 bpm lasting >= 15 s (>= 10 bpm for >= 10 s before 32 weeks)",
        "early deceleration": "gradual (onset to nadir >= 30 s), nadir coincident with the contraction peak",
        "late deceleration": "gradual (onset to nadir >= 30 s), nadir after the contraction peak",
        "variable deceleration": "abrupt (onset to nadir < 30 s), >= 15 bpm for >= 15 s and < 2 min",
        "prolonged deceleration": ">= 15 bpm below baseline for >= 2 min and < 10 min",
        "recurrent": "with >= 50% of contractions in a 20-minute window",
        "sinusoidal": "smooth sine-wave undulation, 3-5 cycles per minute, for >= 20 minutes",
        "category I": "baseline 110-160, moderate variability, no late or variable decelerations (early may be present)",
        "category III": "absent variability with recurrent late or recurrent variable decelerations or bradycardia; or a sinusoidal pattern",
        "category II": "every tracing that is neither category I nor III",
    },
}


def _record(case: Encounter, kinds: tuple[str, ...]) -> tuple[dict[str, Any], dict[str, Any]]:
    spec = signals.spec_of(case.task)
    if spec is None or spec["kind"] not in kinds:
        what = "ECG" if "ecg_strip" in kinds else "fetal heart rate tracing"
        raise ToolError(f"No {what} is recorded for this patient; use the tools for the tracing the task provides.")
    return spec, signals.load(spec)


def _lead(record: dict[str, Any], lead: str) -> Any:
    if lead not in record["leads"]:
        raise ToolError(f"Lead {lead} is not in this recording; it has {', '.join(record['leads'])}.")
    return record["signals"][:, record["leads"].index(lead)]


@tool(domain=ECG_DOMAINS, kind="domain")
def ecg_rate_and_rhythm(case: Encounter, lead: Lead | None = None) -> dict[str, Any]:
    """Measure the ventricular rate and the RR intervals (regularity) from the R peaks of one ECG lead.

    Args:
        case: The running encounter (injected by the environment).
        lead: The lead to measure; by default the lead with the largest QRS complexes (a rhythm strip has lead II only).
    """
    _, record = _record(case, signals.ECG_KINDS)
    if lead is None:
        lead = record["leads"][measure.qrs_lead(record["signals"], record["fs"])]
    return {"lead": lead, **measure.rhythm_measurements(_lead(record, lead), record["fs"])}


@tool(domain=ECG_DOMAINS, kind="domain")
def ecg_atrial_activity(case: Encounter, lead: Lead = "II") -> dict[str, Any]:
    """Find atrial waves (P or flutter waves) outside the QRS-T complexes: their number and rate, and whether each QRS has a P wave before it with its PR interval.

    Args:
        case: The running encounter (injected by the environment).
        lead: The lead to analyse (lead II shows P waves best).
    """
    _, record = _record(case, signals.ECG_KINDS)
    return {"lead": lead, **measure.atrial_activity(_lead(record, lead), record["fs"])}


@tool(domain=ECG_DOMAINS, kind="domain")
def ecg_intervals(case: Encounter) -> dict[str, Any]:
    """Measure the PR interval, QRS duration, QT and Bazett-corrected QTc (medians over beats).

    Args:
        case: The running encounter (injected by the environment).
    """
    _, record = _record(case, signals.ECG_KINDS)
    return measure.intervals(record["signals"], record["leads"], record["fs"])


@tool(domain=ECG_DOMAINS, kind="domain")
def ecg_axis(case: Encounter) -> dict[str, Any]:
    """Measure the frontal QRS axis from the net QRS areas of leads I and aVF (12-lead ECG only).

    Args:
        case: The running encounter (injected by the environment).
    """
    _, record = _record(case, signals.ECG_KINDS)
    if "aVF" not in record["leads"]:
        raise ToolError("The axis needs leads I and aVF; this rhythm strip has lead II only.")
    return measure.frontal_axis(record["signals"], record["leads"], record["fs"])


@tool(domain=ECG_DOMAINS, kind="domain")
def ecg_st_segments(case: Encounter) -> dict[str, Any]:
    """Measure the ST deviation in every lead (mm at 10 mm/mV, 20 ms after the J point, against the PR segment).

    Args:
        case: The running encounter (injected by the environment).
    """
    _, record = _record(case, signals.ECG_KINDS)
    return {"st_deviation_mm": measure.st_deviation(record["signals"], record["leads"], record["fs"]),
            "contiguous_groups": CRITERIA["st_elevation"]["territories"]}


@tool(domain=DOMAIN, kind="domain")
def ctg_baseline(case: Encounter) -> dict[str, Any]:
    """Measure the fetal heart rate baseline (NICHD: mean excluding accelerations and decelerations, rounded to 5 bpm).

    Args:
        case: The running encounter (injected by the environment).
    """
    _, record = _record(case, ("ctg",))
    return measure.fhr_baseline(record["fhr"], record["fs"])


@tool(domain=DOMAIN, kind="domain")
def ctg_variability(case: Encounter) -> dict[str, Any]:
    """Measure baseline variability (median peak-to-trough amplitude per minute) and how regular the fluctuation is (a sinusoidal pattern is regular).

    Args:
        case: The running encounter (injected by the environment).
    """
    _, record = _record(case, ("ctg",))
    return measure.fhr_variability(record["fhr"], record["fs"])


@tool(domain=DOMAIN, kind="domain")
def ctg_contractions(case: Encounter) -> dict[str, Any]:
    """Find the uterine contractions on the toco channel: onset, peak and end times and their frequency.

    Args:
        case: The running encounter (injected by the environment).
    """
    _, record = _record(case, ("ctg",))
    found = measure.contractions(record["toco"], record["fs"])
    minutes = record["toco"].size / record["fs"] / 60
    return {"contractions": found, "per_10_minutes": round(10 * len(found) / minutes, 1)}


@tool(domain=DOMAIN, kind="domain")
def ctg_events(case: Encounter) -> dict[str, Any]:
    """Find accelerations and decelerations with their depth, duration, onset-to-nadir time and timing against the nearest contraction.

    Args:
        case: The running encounter (injected by the environment).
    """
    spec, record = _record(case, ("ctg",))
    return measure.fhr_events(record["fhr"], record["toco"], record["fs"], spec["params"].get("weeks", 40))


@tool(domain=ECG_DOMAINS, kind="knowledge")
def tracing_criteria(topic: Literal["rhythms", "axis", "intervals", "st_elevation", "fhr_nichd"]) -> dict[str, Any]:
    """Look up interpretation criteria: ECG rhythms, axis, intervals, ST-elevation MI, or the NICHD fetal heart rate definitions.

    Args:
        topic: Which criteria.
    """
    return CRITERIA[topic]


@tool(domain=DOMAIN, kind="submit")
def submit_ecg_interpretation(
    rhythm: Rhythm,
    heart_rate_bpm: int,
    case: Encounter,
    axis: Literal["normal", "left axis deviation", "right axis deviation", "extreme axis deviation"] | None = None,
    qtc: Literal["normal", "prolonged"] | None = None,
    st_elevation: Literal["none", "inferior", "anterior", "lateral"] | None = None,
    impression: str | None = None,
) -> dict[str, Any]:
    """Submit your ECG interpretation. This ends the task.

    Args:
        rhythm: The rhythm.
        heart_rate_bpm: The ventricular rate in beats per minute.
        case: The running encounter (injected by the environment).
        axis: The frontal QRS axis (12-lead ECG).
        qtc: Whether the corrected QT is normal or prolonged (12-lead ECG).
        st_elevation: The territory of ST elevation meeting MI criteria, or none (12-lead ECG).
        impression: A one-line impression.
    """
    if not 10 <= heart_rate_bpm <= 350:
        raise ToolError(f"heart_rate_bpm={heart_rate_bpm} is outside 10-350 beats/min.")
    submission = {k: v for k, v in {"rhythm": rhythm, "heart_rate_bpm": heart_rate_bpm, "axis": axis, "qtc": qtc,
                                    "st_elevation": st_elevation, "impression": impression}.items() if v is not None}
    case.submissions["submit_ecg_interpretation"] = submission
    return {"status": "received", **submission}


@tool(domain=DOMAIN, kind="submit")
def submit_ctg_interpretation(
    baseline_bpm: int,
    variability: Literal["absent", "minimal", "moderate", "marked"],
    accelerations: Literal["present", "absent"],
    decelerations: Literal["none", "early", "late", "variable", "prolonged"],
    sinusoidal: bool,
    category: Literal["I", "II", "III"],
    case: Encounter,
) -> dict[str, Any]:
    """Submit your cardiotocograph interpretation by the NICHD definitions. This ends the task.

    Args:
        baseline_bpm: The baseline fetal heart rate (bpm, rounded to 5).
        variability: Baseline variability.
        accelerations: Whether accelerations are present.
        decelerations: The (recurrent) deceleration type, or none.
        sinusoidal: Whether the pattern is sinusoidal.
        category: The NICHD three-tier category.
        case: The running encounter (injected by the environment).
    """
    if not 50 <= baseline_bpm <= 240:
        raise ToolError(f"baseline_bpm={baseline_bpm} is outside 50-240 bpm.")
    submission = {"baseline_bpm": baseline_bpm, "variability": variability, "accelerations": accelerations,
                  "decelerations": decelerations, "sinusoidal": sinusoidal, "category": category}
    case.submissions["submit_ctg_interpretation"] = submission
    return {"status": "received", **submission}
