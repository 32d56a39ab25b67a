"""HTML for what a clinician reads: the presentation card, the conversation, lab
tables, imaging reports and the end-of-encounter summary.

Pure functions from medgym data to HTML strings, shared by the ipywidgets player
and the marimo app. Every fragment carries the small stylesheet it needs, so it
looks the same in JupyterLab, in a static notebook and in marimo.
"""

from __future__ import annotations

import json
from html import escape
from typing import Any

from medgym.tasks.schema import Task
from medgym.tools import catalog

CSS = """
<style>
.mg{font-family:-apple-system,BlinkMacSystemFont,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;font-size:14px;
    color:#1f2933;line-height:1.45}
.mg .card{border:1px solid #d9e2ec;border-radius:8px;padding:10px 14px;margin:6px 0;background:#fff}
.mg .card h3{margin:0 0 6px 0;font-size:16px;color:#102a43}
.mg .muted{color:#627d98;font-size:12px}
.mg .vitals{display:flex;flex-wrap:wrap;gap:6px;margin:6px 0}
.mg .vital{background:#f0f4f8;border-radius:6px;padding:3px 8px;font-size:13px}
.mg .vital b{color:#102a43}
.mg .vital.abn{background:#ffe3e3;color:#8a1c1c}
.mg .quote{font-style:italic;color:#334e68;margin:4px 0}
.mg .task{margin-top:6px;padding:6px 8px;background:#fffbea;border-left:3px solid #f0b429;font-size:13px}
.mg .convo{max-height:520px;overflow-y:auto;padding:4px}
.mg .msg{margin:6px 0;padding:8px 12px;border-radius:10px;max-width:88%}
.mg .doctor{background:#e6f0ff;margin-left:auto;border-bottom-right-radius:2px}
.mg .patient{background:#f0f4f8;border-bottom-left-radius:2px}
.mg .who{font-size:11px;font-weight:600;text-transform:uppercase;letter-spacing:.04em;color:#486581;margin-bottom:2px}
.mg .result{border:1px solid #d9e2ec;border-radius:8px;padding:8px 12px;margin:6px 0 6px 24px;background:#fcfdfe}
.mg .result .title{font-weight:600;color:#243b53;margin-bottom:4px}
.mg .error{border-color:#f5b5b5;background:#fff5f5;color:#8a1c1c}
.mg table.labs{border-collapse:collapse;width:100%;font-size:13px}
.mg table.labs th{text-align:left;color:#486581;font-weight:600;border-bottom:1px solid #bcccdc;padding:3px 8px}
.mg table.labs td{padding:3px 8px;border-bottom:1px solid #f0f4f8}
.mg table.labs td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.mg tr.abn td{color:#a61b1b}
.mg tr.abn td.val{font-weight:700}
.mg .flag{display:inline-block;min-width:18px;font-weight:700;color:#a61b1b}
.mg .report p{margin:2px 0}
.mg .impression{font-weight:600}
.mg .impression.abn{color:#a61b1b}
.mg .call{display:inline-block;background:#fff3c4;border:1px solid #f0b429;border-radius:5px;padding:1px 6px;
    margin:2px 4px 2px 0;font-family:SFMono-Regular,Menlo,Consolas,monospace;font-size:12px}
.mg .call.human{font-family:inherit;font-size:13px;background:#fff8e1}
.mg .tokens{float:right;font-size:11px;color:#486581;background:#fff;border-radius:8px;padding:0 6px;margin-left:8px}
.mg .current{outline:2px solid #2680c2}
.mg .banner{font-size:18px;font-weight:700;padding:8px 12px;border-radius:8px;margin-bottom:8px}
.mg .banner.ok{background:#e3f9e5;color:#0e5814}
.mg .banner.no{background:#ffe3e3;color:#8a1c1c}
.mg ul{margin:4px 0 4px 18px;padding:0}
.mg .done{color:#0e5814}.mg .missed{color:#8a1c1c}
.mg .notice{padding:8px 12px;border-radius:6px;background:#fffbea;border:1px solid #f0b429;color:#513c06}
</style>
"""

ACRONYMS = {"heent": "HEENT", "ecg": "ECG", "ct": "CT", "mri": "MRI", "icd10": "ICD-10", "pci": "PCI", "cbc": "CBC",
            "bmp": "BMP", "lft": "LFT", "abg": "ABG", "spo2": "SpO2", "xray": "X-ray", "ehr": "EHR", "qa": "QA"}


def humanize(name: str) -> str:
    """`order_lab` -> `Order lab`, `heent` -> `HEENT`."""
    words = [ACRONYMS.get(w, w) for w in str(name).replace("-", "_").split("_") if w]
    text = " ".join(words)
    return text[:1].upper() + text[1:]


def page(body: str) -> str:
    return f'{CSS}<div class="mg">{body}</div>'


def _notice(text: str) -> str:
    return f'<div class="notice">{escape(text)}</div>'


def notice(text: str) -> str:
    """A highlighted message (missing index, missing model, how to fix it)."""
    return page(_notice(text))


# --- the case ------------------------------------------------------------------------------------------


NEWS2_TIP = ' title="Outside the NEWS2 zero-score band"'


def patient_line(task: Task) -> str:
    p = task.presentation
    return f"{p.age}-year-old {'man' if p.sex == 'male' else 'woman'}"


def case_label(task: Task, number: int | None = None) -> str:
    """How a case is listed for a clinician: never its id, which may name the diagnosis."""
    p = task.presentation
    head = f"Case {number}: " if number is not None else ""
    return f"{head}{p.chief_complaint} · {p.age} {'M' if p.sex == 'male' else 'F'} · {humanize(task.task_type)}"


def _vitals(task: Task) -> str:
    v = task.presentation.vitals
    # A vital sign is highlighted when it scores at least 1 point in NEWS2 (Royal College of
    # Physicians, National Early Warning Score 2, 2017; SpO2 scale 1): HR <=50 or >=91, systolic
    # BP <=110 or >=220, RR <=11 or >=21, temperature <=36.0 or >=38.1 °C, SpO2 <=95%.
    items = [
        ("HR", f"{v.heart_rate} /min", v.heart_rate <= 50 or v.heart_rate >= 91),
        ("BP", f"{v.systolic_bp}/{v.diastolic_bp} mmHg", v.systolic_bp <= 110 or v.systolic_bp >= 220),
        ("RR", f"{v.respiratory_rate} /min", v.respiratory_rate <= 11 or v.respiratory_rate >= 21),
        ("Temp", f"{v.temperature_c:.1f} °C", v.temperature_c <= 36.0 or v.temperature_c >= 38.1),
        ("SpO2", f"{v.spo2}% RA", v.spo2 <= 95),
    ]
    if v.weight_kg is not None:
        items.append(("Weight", f"{v.weight_kg:g} kg", False))
    if v.height_cm is not None:
        items.append(("Height", f"{v.height_cm:g} cm", False))
    return '<div class="vitals">' + "".join(
        f'<span class="vital{" abn" if abn else ""}"{NEWS2_TIP if abn else ""}><b>{k}</b> {escape(val)}</span>' for k, val, abn in items
    ) + "</div>"


def presentation_card(task: Task) -> str:
    """Age, sex, setting, complaint, vital signs, the patient's words and the task."""
    p = task.presentation
    body = (
        f'<div class="card"><h3>{escape(patient_line(task))} · {escape(p.chief_complaint)}</h3>'
        f'<div class="muted">{escape(humanize(task.domain))} · {escape(p.setting)}'
        f'{" · " + escape(humanize(task.specialty)) if task.specialty else ""}</div>'
        f"{_vitals(task)}"
        + (f'<div class="quote">“{escape(p.opening_statement)}”</div>' if p.opening_statement else "")
        + f'<div class="task"><b>Task:</b> {escape(task.instructions)}</div></div>'
    )
    return page(body)


# --- tool results ----------------------------------------------------------------------------------------

_FLAG = {"high": "H", "low": "L", "critical high": "HH", "critical low": "LL", "abnormal": "A"}


def _is_lab(d: Any) -> bool:
    return isinstance(d, dict) and {"test", "value", "unit", "reference_range"} <= set(d)


def lab_table(results: list[dict[str, Any]], title: str | None = None) -> str:
    """Lab results as a laboratory report: test, result, unit, reference range, flag."""
    rows = []
    for r in results:
        flag = str(r.get("flag", "normal"))
        abn = flag != "normal"
        rows.append(
            f'<tr class="{"abn" if abn else ""}"><td>{escape(str(r.get("name", r["test"])))}</td>'
            f'<td class="num val">{escape(str(r["value"]))}</td><td>{escape(str(r["unit"]))}</td>'
            f'<td>{escape(str(r["reference_range"]))}</td>'
            f'<td><span class="flag" title="{escape(flag)}">{_FLAG.get(flag, "")}</span></td></tr>'
        )
    head = f'<div class="title">{escape(title)}</div>' if title else ""
    return (f'{head}<table class="labs"><tr><th>Test</th><th style="text-align:right">Result</th><th>Units</th>'
            f'<th>Reference range</th><th>Flag</th></tr>{"".join(rows)}</table>')


def imaging_report(report: dict[str, Any]) -> str:
    abn = " abn" if report.get("abnormal") else ""
    return (
        f'<div class="report"><div class="title">{escape(str(report.get("name", humanize(report.get("study", "")))))}</div>'
        f'<p><b>Findings:</b> {escape(str(report.get("findings", "")))}</p>'
        f'<p class="impression{abn}"><b>Impression:</b> {escape(str(report.get("impression", "")))}</p></div>'
    )


def _value(value: Any) -> str:
    if isinstance(value, list):
        return "<ul>" + "".join(f"<li>{_value(v)}</li>" for v in value) + "</ul>" if value else "none"
    if isinstance(value, dict):
        return "<ul>" + "".join(f"<li><b>{escape(humanize(k))}:</b> {_value(v)}</li>" for k, v in value.items()) + "</ul>"
    return escape(str(value))


def tool_result(name: str, content: str) -> str:
    """One tool result, laid out the way clinicians read that kind of result."""
    try:
        data = json.loads(content)
    except (json.JSONDecodeError, TypeError):
        data = content
    if isinstance(data, dict) and "error" in data and len(data) == 1:
        return f'<div class="result error"><div class="title">{escape(humanize(name))}: not done</div>{escape(str(data["error"]))}</div>'
    if _is_lab(data):
        inner = lab_table([data])
    elif isinstance(data, dict) and isinstance(data.get("results"), list) and all(_is_lab(r) for r in data["results"]):
        inner = lab_table(data["results"], title=str(data.get("panel", "Panel")))
    elif isinstance(data, dict) and {"findings", "impression"} <= set(data):
        inner = imaging_report(data)
    elif name == "examine" and isinstance(data, dict):
        inner = (f'<div class="title">Examination: {escape(humanize(data.get("system", "")))}</div>'
                 f'{escape(str(data.get("findings", "")))}')
    elif isinstance(data, dict) and data.get("status") == "received":
        fields = {k: v for k, v in data.items() if k != "status"}
        inner = f'<div class="title">{escape(humanize(name))}: submitted</div>{_value(fields)}'
    elif isinstance(data, dict):
        inner = f'<div class="title">{escape(humanize(name))}</div>{_value(data)}'
    else:
        inner = f'<div class="title">{escape(humanize(name))}</div>{escape(str(data))}'
    return f'<div class="result">{inner}</div>'


# --- the conversation ------------------------------------------------------------------------------------


def call_text(name: str, arguments: Any) -> str:
    """A tool call as written by an agent: order_lab(test="troponin_t_hs")."""
    args = ", ".join(f"{k}={json.dumps(v, ensure_ascii=False)}" for k, v in arguments.items()) if isinstance(arguments, dict) else ""
    return f"{name}({args})"


def call_label(name: str, arguments: Any) -> str:
    """A tool call as a clinician would say it: Order lab: High-sensitivity cardiac troponin T."""
    if not isinstance(arguments, dict) or not arguments:
        return humanize(name)
    if name in ("order_lab", "order_imaging", "examine") and len(arguments) == 1:
        return action_label(f"{name}:{next(iter(arguments.values()))}")
    values = "; ".join(", ".join(map(str, v)) if isinstance(v, list) else str(v) for v in arguments.values())
    return f"{humanize(name)}: {values}"


def call_chip(name: str, arguments: Any, technical: bool = True) -> str:
    """A highlighted tool call: the exact call (watching an agent) or its clinical reading (playing)."""
    if technical:
        return f'<span class="call">{escape(call_text(name, arguments))}</span>'
    return f'<span class="call human" title="{escape(call_text(name, arguments))}">{escape(call_label(name, arguments))}</span>'


def message_html(message: dict[str, Any], tokens: int | None = None, current: bool = False,
                 technical: bool = True) -> str:
    """One chat message: the doctor's words and tool calls, the patient's reply, or a tool result."""
    role = message["role"]
    if role == "assistant":
        cur = " current" if current else ""
        badge = f'<span class="tokens">{tokens} tokens</span>' if tokens is not None else ""
        text = escape(message.get("content") or "")
        calls = "".join(call_chip(c["function"]["name"], c["function"].get("arguments"), technical)
                        for c in message.get("tool_calls", []))
        return f'<div class="msg doctor{cur}">{badge}<div class="who">Doctor</div>{text}{"<div>" + calls + "</div>" if calls else ""}</div>'
    if role == "tool":
        name = message.get("name", "tool")
        try:
            data = json.loads(message["content"])
        except (json.JSONDecodeError, TypeError):
            data = None
        if isinstance(data, dict) and set(data) == {"patient"}:
            return f'<div class="msg patient"><div class="who">Patient</div>{escape(str(data["patient"]))}</div>'
        return tool_result(name, message["content"])
    if role == "user":
        return f'<div class="msg patient"><div class="who">Patient</div>{escape(message["content"])}</div>'
    return ""


def conversation(messages: list[dict[str, Any]], tokens: list[int | None] | None = None,
                 current_turn: int | None = None, technical: bool = False) -> str:
    """The encounter after the presentation (messages[2:]); `tokens[i]` is shown on the i-th doctor turn.
    `technical` shows tool calls as the agent wrote them (watching an agent) rather than in clinical words."""
    parts, turn = [], -1
    for m in messages[2:]:
        if m["role"] == "assistant":
            turn += 1
            n = tokens[turn] if tokens is not None and turn < len(tokens) else None
            parts.append(message_html(m, n, current=turn == current_turn, technical=technical))
        else:
            parts.append(message_html(m))
    if not parts:
        parts.append('<div class="muted">Nothing asked or ordered yet. Ask the patient a question or pick a tool.</div>')
    return page(f'<div class="convo">{"".join(parts)}</div>')


# --- the end of the encounter ----------------------------------------------------------------------------


def action_label(key: str) -> str:
    """A required action key as a clinician would name it: order_lab:troponin_t_hs -> Order lab: High-sensitivity ..."""
    name, _, arg = key.partition(":")
    if not arg:
        return humanize(name)
    if name == "order_lab":
        arg = catalog.labs().get(arg, {}).get("name") or catalog.lab_panels().get(arg) or arg
    elif name == "order_imaging":
        arg = catalog.studies().get(arg, {}).get("name", arg)
    else:
        arg = humanize(arg).lower()
    return f"{humanize(name)}: {arg}"


def correct_answer(task: Task) -> str:
    t = task.truth
    if t.fields:  # a domain's structured submission: the concepts each part must name
        parts = "".join(f"<li><b>{escape(humanize(name))}:</b> {escape('; '.join(c.label for c in concepts))}</li>"
                        for name, concepts in t.fields.items())
        head = escape(t.diagnosis or "")
        return f"{head}<ul>{parts}</ul>"
    if t.final_tool == "submit_treatment_plan":
        items = "".join(f"<li>{escape(c.label)}</li>" for c in t.management)
        dx = f"{escape(t.diagnosis)} " if t.diagnosis else ""
        return f"{dx}<div>Management:</div><ul>{items}</ul>"
    if t.final_tool == "submit_answer":
        return escape(t.answer or "")
    code = f" (ICD-10-CM {escape(t.icd10)})" if t.icd10 else ""
    return f"{escape(t.diagnosis or '')}{code}"


def _signed(value: float) -> str:
    """+1.00 / -0.25, and 0.00 rather than -0.00."""
    value = round(value, 2) + 0.0
    return f"{value:+.2f}" if value else "0.00"


def end_screen(task: Task, submission: dict[str, Any] | None, total: float, terms: dict[str, float],
               weights: dict[str, float], success: bool, done_actions: set[str], preset: str = "") -> str:
    """Score with its breakdown, the correct answer, what was done or missed, and the rationale."""
    verdict = "Correct" if success else "Not solved"
    rows = "".join(
        f"<tr><td>{escape(humanize(k))}</td><td class='num'>{_signed(v)}</td><td class='num'>{weights.get(k, 0.0):g}</td>"
        f"<td class='num'>{_signed(weights.get(k, 0.0) * v)}</td></tr>"
        for k, v in terms.items()
    )
    breakdown = (f'<table class="labs"><tr><th>Reward term</th><th style="text-align:right">Value</th>'
                 f'<th style="text-align:right">Weight</th><th style="text-align:right">Contribution</th></tr>{rows}'
                 f'<tr><td><b>Total{" (" + escape(preset) + ")" if preset else ""}</b></td><td></td><td></td>'
                 f'<td class="num"><b>{_signed(total)}</b></td></tr></table>')
    given = _value({k: v for k, v in (submission or {}).items()}) if submission else "nothing was submitted"
    required = task.truth.required_actions
    actions = "".join(
        f'<li class="{"done" if a in done_actions else "missed"}">{"✓" if a in done_actions else "✗"} {escape(action_label(a))}</li>'
        for a in required
    )
    findings = "".join(f"<li>{escape(f)}</li>" for f in task.truth.key_findings)
    body = (
        f'<div class="card"><div class="banner {"ok" if success else "no"}">{verdict} · score {_signed(total)}</div>'
        f"<p><b>Correct answer:</b> {correct_answer(task)}</p>"
        f"<div><b>Your answer:</b> {given}</div>"
        f"<h3 style='margin-top:10px'>Reward breakdown</h3>{breakdown}"
        + (f"<h3 style='margin-top:10px'>Guideline work-up</h3><ul style='list-style:none;margin-left:0'>{actions}</ul>" if actions else "")
        + (f"<h3 style='margin-top:10px'>Key findings</h3><ul>{findings}</ul>" if findings else "")
        + f"<h3 style='margin-top:10px'>Rationale</h3><p>{escape(task.rationale)}</p>"
        f'<div class="muted">Source: {escape(task.source)} · case {escape(task.id)}</div></div>'
    )
    return page(body)
