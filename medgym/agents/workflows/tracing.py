"""The scripted tracing reader (visual_diagnosis domain): a text policy that measures.

ECG: it measures rate and RR regularity, atrial activity, intervals (and on a 12-lead the axis and
ST deviation), then names the rhythm with a decision tree over those numbers (regular or not, P
waves before each QRS or not, PR constant or changing, QRS narrow or wide, atrial rate), and
applies the axis, QTc and ST-elevation criteria of the domain's knowledge. CTG: baseline,
variability, contractions and events, then the NICHD definitions and category. It reads only what
the measurement tools return, so it inherits their errors (P waves hidden in T waves, 2:1 flutter
waves buried in the QRS, noise at the J point), and it never reads the task's answer.
"""

from __future__ import annotations

import re
from statistics import median, pstdev
from typing import Any

from medgym.agents.scripted import Action, register_workflow
from medgym.agents.workflows.radiology import read_tools
from medgym.domains.visual_diagnosis.ecg import axis_category
from medgym.tools.calls import assistant_message as tool_message

ST_LEADS = {"inferior": ["II", "III", "aVF"], "anterior": ["V1", "V2", "V3", "V4"], "lateral": ["I", "aVL", "V5", "V6"]}


def name_rhythm(rate: float, rr: list[int], atrial: dict[str, Any], qrs: list[int]) -> str:
    """The rhythm from the measurements (a bedside decision tree)."""
    mean_rr = sum(rr) / len(rr) if rr else 1000.0
    cv = pstdev(rr) / mean_rr if len(rr) > 1 else 0.0
    with_p, total = (int(x) for x in re.findall(r"\d+", atrial.get("qrs_with_preceding_p", "0 of 0")))
    p_share = with_p / total if total else 0.0
    prs = atrial.get("pr_intervals_ms", [])
    pr_spread = (max(prs) - min(prs)) if len(prs) > 1 else 0
    atrial_rate = atrial.get("atrial_rate_bpm") or 0
    wide = median(qrs) >= 120 if qrs else False
    if atrial_rate >= 240 and atrial.get("atrial_waves_per_qrs", 0) >= 0.9:
        return "atrial flutter"
    if cv > 0.08:
        alternating = len(rr) >= 4 and all((rr[i + 1] - rr[i]) * (rr[i + 2] - rr[i + 1]) < 0 for i in range(len(rr) - 2))
        mixed_width = bool(qrs) and any(q >= 120 for q in qrs) and any(q < 110 for q in qrs)
        if alternating and mixed_width:
            return "sinus rhythm with ventricular bigeminy"
        if p_share < 0.5:
            return "atrial fibrillation"
        if pr_spread > 60:
            return "second-degree AV block, Mobitz I (Wenckebach)"
        if any(1.8 <= r / min(rr) <= 2.2 for r in rr):
            return "second-degree AV block, Mobitz II"
        return "atrial fibrillation"
    if wide and rate >= 100:
        return "monomorphic ventricular tachycardia"
    if p_share >= 0.7 and pr_spread <= 60:
        if median(prs) > 200:
            return "sinus rhythm with first-degree AV block"
        return "sinus bradycardia" if rate < 60 else "sinus tachycardia" if rate > 100 else "normal sinus rhythm"
    if 130 <= rate <= 165 and p_share < 0.3:
        return "atrial flutter"  # a regular narrow tachycardia near 150/min is flutter with 2:1 block until shown otherwise
    if rate >= 140:
        return "supraventricular tachycardia"
    if rate < 60 and (pr_spread > 60 or wide or (atrial_rate and atrial_rate > rate * 1.3)):
        return "third-degree (complete) AV block"
    if rate < 60:
        return "junctional rhythm"
    return "normal sinus rhythm"


def st_territory(st: dict[str, float], sex: str, age: int) -> str:
    """The territory with ST elevation meeting the Fourth Universal Definition in two contiguous leads."""
    v2v3 = 1.5 if sex == "female" else (2.0 if age >= 40 else 2.5)
    best, best_sum = "none", 0.0
    for territory, leads in ST_LEADS.items():
        meeting = [lead for lead in leads if st.get(lead, 0) >= (v2v3 if lead in ("V2", "V3") else 1.0)]
        if len(meeting) >= 2 and sum(st[lead] for lead in meeting) > best_sum:
            best, best_sum = territory, sum(st[lead] for lead in meeting)
    return best


def classify_deceleration(d: dict[str, Any]) -> str:
    if d["duration_s"] >= 120:
        return "prolonged"
    if d["onset_to_nadir_s"] < 30:
        return "variable"
    return "late" if d.get("nadir_after_contraction_peak_s", 0) > 10 else "early"


def nichd_category(baseline: int, variability: str, decelerations: str, sinusoidal: bool) -> str:
    if sinusoidal or (variability == "absent" and (decelerations in ("late", "variable") or baseline < 110)):
        return "III"
    if 110 <= baseline <= 160 and variability == "moderate" and decelerations in ("none", "early"):
        return "I"
    return "II"


class TracingReading:
    """Measure with every tool in one turn, then submit the interpretation."""

    def __init__(self, knowledge: Any = None) -> None:
        self.knowledge = knowledge

    def reset(self, observation: str, info: dict[str, Any]) -> None:
        self.final = info["final_tool"]
        text = info["messages"][1]["content"] if isinstance(info["messages"][1]["content"], str) else observation
        self.twelve = "12-lead" in text
        match = re.search(r"Patient: (\d+)-year-old (man|woman)", observation)
        self.age = int(match.group(1)) if match else 50
        self.sex = "female" if match and match.group(2) == "woman" else "male"
        self.stage = "start"

    def act(self, observation: str, info: dict[str, Any]) -> Action:
        if self.stage == "start":
            self.stage = "measured"
            if self.final == "submit_ctg_interpretation":
                return tool_message(("ctg_baseline", {}), ("ctg_variability", {}), ("ctg_contractions", {}), ("ctg_events", {}))
            calls = [("ecg_rate_and_rhythm", {}), ("ecg_atrial_activity", {"lead": "II"}), ("ecg_intervals", {})]
            if self.twelve:
                calls += [("ecg_axis", {}), ("ecg_st_segments", {})]
            return tool_message(*calls)
        results = read_tools(info)
        if self.final == "submit_ctg_interpretation":
            return self._ctg(results)
        return self._ecg(results)

    def _ecg(self, r: dict[str, Any]) -> Action:
        rhythm_data, atrial, intervals = r["ecg_rate_and_rhythm"], r["ecg_atrial_activity"], r["ecg_intervals"]
        rate = rhythm_data.get("rate_bpm") or 60
        rhythm = name_rhythm(rate, rhythm_data.get("rr_ms", []), atrial, intervals.get("qrs_durations_ms", []))
        args: dict[str, Any] = {"rhythm": rhythm, "heart_rate_bpm": int(rate)}
        if self.twelve:
            args["axis"] = axis_category(r["ecg_axis"]["axis_degrees"])
            limit = 460 if self.sex == "female" else 450
            args["qtc"] = "prolonged" if (intervals.get("qtc_bazett_ms") or 0) >= limit else "normal"
            args["st_elevation"] = st_territory(r["ecg_st_segments"]["st_deviation_mm"], self.sex, self.age)
        return tool_message(("submit_ecg_interpretation", args))

    def _ctg(self, r: dict[str, Any]) -> Action:
        baseline = r["ctg_baseline"]["baseline_bpm"]
        v = r["ctg_variability"]
        sinusoidal = v["share_of_power_at_dominant_rhythm"] >= 0.5 and 3 <= v["dominant_cycles_per_min"] <= 5
        amplitude = v["amplitude_bpm"] if v["amplitude_bpm"] is not None else 0.0
        variability = "absent" if amplitude < 1.5 else "minimal" if amplitude <= 5 else "moderate" if amplitude <= 25 else "marked"
        events = r["ctg_events"]
        kinds = [classify_deceleration(d) for d in events["decelerations"]]
        decelerations = max(set(kinds), key=kinds.count) if kinds else "none"
        if "prolonged" in kinds:
            decelerations = "prolonged"
        accelerations = "present" if events["accelerations"] else "absent"
        category = nichd_category(baseline, variability, decelerations, sinusoidal)
        return tool_message(("submit_ctg_interpretation", {"baseline_bpm": baseline, "variability": variability,
                                                          "accelerations": accelerations, "decelerations": decelerations,
                                                          "sinusoidal": sinusoidal, "category": category}))


register_workflow("tracing", TracingReading)
