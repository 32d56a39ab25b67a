"""Acute kidney injury staging over a creatinine series (KDIGO).

NEWS2, qSOFA and SOFA come from the calculators (`medgym.tools.calculators.critical_care`);
staging AKI needs a series rather than one set of values, so it lives here.
"""

from __future__ import annotations


def kdigo_aki_stage(baseline_mg_dl: float, values: list[tuple[float, float]]) -> int:
    """KDIGO acute kidney injury stage by serum creatinine (0 = no AKI).

    values: (hours since the first value, creatinine mg/dL) in time order.
    Stage 1: 1.5-1.9 x baseline, or a rise >= 0.3 mg/dL within 48 hours; stage 2: 2.0-2.9 x baseline;
    stage 3: >= 3.0 x baseline, or a rise to >= 4.0 mg/dL. (Urine-output criteria are not used here.)

    Source: KDIGO Clinical Practice Guideline for Acute Kidney Injury. Kidney Int Suppl 2012;2:1-138.
    """
    if baseline_mg_dl <= 0:
        raise ValueError("baseline creatinine must be positive")
    peak = max(v for _, v in values)
    ratio = peak / baseline_mg_dl
    if ratio >= 3.0 or peak >= 4.0:
        return 3
    if ratio >= 2.0:
        return 2
    if ratio >= 1.5:
        return 1
    for i, (t1, v1) in enumerate(values):
        if any(0 < t2 - t1 <= 48 and v2 - v1 >= 0.3 - 1e-9 for t2, v2 in values[i + 1:]):
            return 1
    return 0
