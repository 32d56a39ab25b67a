"""Side-by-side reports: policies x suites tables (markdown, HTML) and per-domain bar charts (plotly).

Each cell is `mean [95% interval] n`; the last column is the unweighted average over
the suites the policy was scored on; the best value of each column is marked (bold)
for metrics that have a better direction.
"""

from __future__ import annotations

import html
from typing import Any

from medgym.eval.records import METRICS

TABLE_METRICS = ("success", "reward", "safety_violations", "tool_calls_per_episode", "tool_call_validity", "turns",
                 "tokens_per_turn", "tokens_per_episode", "monologue_rate", "extraction_failure_rate")
CHART_METRICS = ("success", "reward", "tool_calls_per_episode", "tokens_per_turn", "monologue_rate")
AVERAGE = "average"


def _fmt(value: float, metric: str) -> str:
    return f"{value:.1f}" if metric in ("turns", "tool_calls_per_episode", "tokens_per_turn", "tokens_per_episode") \
        else f"{value:.2f}"


def table(results: Any, metric: str = "success") -> dict[str, Any]:
    """The policies x suites grid of one metric: columns, rows of cells {text, mean, best}."""
    if metric not in METRICS:
        raise ValueError(f"unknown metric {metric!r}; metrics: {', '.join(METRICS)}")
    kinds = METRICS[metric].kinds
    suites = [s["name"] for s in results.suites if s["kind"] in kinds]
    columns = [*suites, AVERAGE]
    grid: dict[str, dict[str, dict[str, Any]]] = {}
    for p in results.policy_names:
        row: dict[str, dict[str, Any]] = {}
        means = []
        for s in suites:
            c = results.cell(p, s)
            sc = c.get("scores", {}).get(metric)
            if c.get("skipped"):
                row[s] = {"text": "n/a", "mean": None, "note": c["skipped"]}
            elif sc is None:
                row[s] = {"text": "–", "mean": None}
            else:
                lo, hi = sc["ci"]
                failed = f", {c['failed']} failed" if c.get("failed") else ""
                row[s] = {"text": f"{_fmt(sc['mean'], metric)} [{_fmt(lo, metric)}, {_fmt(hi, metric)}] n={sc['n']}{failed}",
                          "mean": sc["mean"]}
                means.append(sc["mean"])
        if means:
            partial = f" ({len(means)} of {len(suites)} suites)" if len(means) < len(suites) else ""
            row[AVERAGE] = {"text": _fmt(sum(means) / len(means), metric) + partial, "mean": sum(means) / len(means),
                            "complete": not partial}
        else:
            row[AVERAGE] = {"text": "–", "mean": None}
        grid[p] = row
    better = METRICS[metric].better
    if better and len(grid) > 1:
        for col in columns:
            # averages compare only over the same suites: a policy scored on fewer suites is not ranked
            ranked = [p for p in grid if grid[p][col]["mean"] is not None and grid[p][col].get("complete", True)]
            if len(ranked) > 1:
                values = [grid[p][col]["mean"] for p in ranked]
                best = max(values) if better > 0 else min(values)
                for p in ranked:
                    grid[p][col]["best"] = _fmt(grid[p][col]["mean"], metric) == _fmt(best, metric)
    return {"metric": metric, "columns": columns, "rows": grid}


def markdown_table(results: Any, metric: str = "success") -> str:
    t = table(results, metric)
    if len(t["columns"]) == 1:
        return ""
    head = "| policy | " + " | ".join(t["columns"]) + " |"
    lines = [head, "|" + "---|" * (len(t["columns"]) + 1)]
    for p, row in t["rows"].items():
        cells = [f"**{c['text']}**" if c.get("best") else c["text"] for c in (row[col] for col in t["columns"])]
        lines.append(f"| {p} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def markdown_report(results: Any) -> str:
    cfg = results.config
    parts = [
        "# MedGym evaluation",
        "",
        f"Seed {cfg['seed']}, reward preset `{cfg['reward']}`, max turns {cfg['max_turns']}, patient matcher "
        f"`{cfg['patient_matcher']}`" + (f", first {cfg['limit']} items per suite" if cfg.get("limit") else "") + ".",
        "Cells: mean [95% bootstrap interval] n. **Bold**: best in its column. `n/a`: the policy cannot play the suite.",
    ]
    for metric in TABLE_METRICS:
        text = markdown_table(results, metric)
        if text:
            parts += ["", f"## {metric} — {METRICS[metric].description}", "", text]
    parts += _notes(results, markdown=True)
    return "\n".join(parts) + "\n"


def _notes(results: Any, markdown: bool) -> list[str]:
    notes = []
    for c in results.cells:
        if c.get("skipped"):
            notes.append(f"{c['policy']} on {c['suite']}: not evaluated ({c['skipped']}).")
        elif c.get("failed"):
            notes.append(f"{c['policy']} on {c['suite']}: {c['failed']} of {c['n']} episodes failed (endpoint errors; "
                         "counted as not solved).")
    for s in results.suites:
        b = s.get("benchmark")
        if b:
            line = f"{s['name']}: {b['evaluated']} of {b['records']} records of {b['path']} evaluated"
            if b["skipped"]:
                line += "; skipped: " + ", ".join(f"{n} {why}" for why, n in b["problems"].items())
            notes.append(line + ".")
    if not notes:
        return []
    return ["", "## Notes", "", *[f"- {n}" for n in notes]] if markdown else notes


CSS = """body{font-family:system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:1em 0}
td,th{border:1px solid #ccc;padding:.3em .6em;text-align:right;white-space:nowrap}th{background:#f3f3f3}
td.policy{text-align:left;font-weight:600}td.best{background:#e3f4e1;font-weight:700}td.na{color:#999}"""


def html_table(results: Any, metric: str = "success") -> str:
    t = table(results, metric)
    if len(t["columns"]) == 1:
        return ""
    e = html.escape
    rows = ["<tr><th>policy</th>" + "".join(f"<th>{e(c)}</th>" for c in t["columns"]) + "</tr>"]
    for p, row in t["rows"].items():
        tds = []
        for col in t["columns"]:
            c = row[col]
            cls = "best" if c.get("best") else "na" if c["mean"] is None else ""
            title = f' title="{e(c["note"])}"' if c.get("note") else ""
            tds.append(f'<td class="{cls}"{title}>{e(c["text"])}</td>')
        rows.append(f'<tr><td class="policy">{e(p)}</td>' + "".join(tds) + "</tr>")
    return f'<table class="medgym-eval" data-metric="{e(metric)}">' + "".join(rows) + "</table>"


def html_report(results: Any) -> str:
    e = html.escape
    body = ["<h1>MedGym evaluation</h1>",
            f"<p>Seed {results.config['seed']}, reward preset <code>{e(str(results.config['reward']))}</code>. "
            "Cells: mean [95% bootstrap interval] n; highlighted: best in its column.</p>"]
    for metric in TABLE_METRICS:
        t = html_table(results, metric)
        if t:
            body += [f"<h2>{e(metric)} — {e(METRICS[metric].description)}</h2>", t]
    notes = _notes(results, markdown=False)
    if notes:
        body += ["<h2>Notes</h2><ul>", *[f"<li>{e(n)}</li>" for n in notes], "</ul>"]
    return ("<!DOCTYPE html><html><head><meta charset='utf-8'><title>MedGym evaluation</title>"
            f"<style>{CSS}</style></head><body>" + "\n".join(body) + "</body></html>\n")


def domain_figures(results: Any) -> list[Any]:
    """One grouped bar chart per metric: domains on the x axis, a bar per policy, 95% intervals as error bars."""
    import plotly.graph_objects as go

    figures = []
    domains = sorted({d["domain"] for d in results.by_domain})
    if not domains:
        return figures
    for metric in CHART_METRICS:
        fig = go.Figure()
        for p in results.policy_names:
            rows = {d["domain"]: d["scores"].get(metric) for d in results.by_domain if d["policy"] == p}
            ys = [rows.get(d, {}) or {} for d in domains]
            fig.add_trace(go.Bar(
                name=p, x=domains, y=[s.get("mean") for s in ys],
                error_y={"type": "data", "symmetric": False,
                         "array": [s["ci"][1] - s["mean"] if s else None for s in ys],
                         "arrayminus": [s["mean"] - s["ci"][0] if s else None for s in ys]},
                customdata=[s.get("n") for s in ys],
                hovertemplate="%{x}: %{y:.3f} (n=%{customdata})<extra>" + p + "</extra>",
            ))
        fig.update_layout(title=f"{metric} by domain — {METRICS[metric].description}", barmode="group",
                          yaxis_title=metric, xaxis_title="domain", template="plotly_white", height=420)
        figures.append(fig)
    return figures


def charts_html(results: Any) -> str:
    """A standalone HTML page (plotly.js inlined, no network) with the per-domain charts."""
    figures = domain_figures(results)
    if not figures:
        return ("<!DOCTYPE html><html><head><meta charset='utf-8'></head><body><p>No environment suites were "
                "evaluated, so there are no per-domain charts.</p></body></html>\n")
    divs = [f.to_html(full_html=False, include_plotlyjs=(i == 0)) for i, f in enumerate(figures)]
    return ("<!DOCTYPE html><html><head><meta charset='utf-8'><title>MedGym evaluation by domain</title></head><body>"
            "<h1>MedGym evaluation by domain</h1><p>Bars: mean per policy; error bars: 95% bootstrap interval. Every "
            "environment episode of a domain's tasks is pooled, each task counted once.</p>" + "\n".join(divs) +
            "</body></html>\n")
