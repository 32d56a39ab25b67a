"""Plotly figures of training and evaluation metrics, one panel per quantity.

The panels are data (`PANELS`): which metric keys a panel plots, and which key
gives its spread band. A panel appears only when a run logged its main key, so
the figures work with whatever a trainer logs; numeric keys that no panel
names get a panel of their own.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from medgym.runlog import Run


@dataclass(frozen=True)
class Panel:
    """One plot: `key` is the main line, `std` a ±1 SD band around it, `max` a dotted line."""

    key: str
    title: str
    std: str | None = None
    max: str | None = None
    unit_range: bool = False  # a rate in [0, 1]


PANELS: tuple[Panel, ...] = (
    Panel("tokens_per_turn_mean", "Tokens per assistant turn (mean; dotted: max)", max="tokens_per_turn_max"),
    Panel("tokens_per_episode_mean", "Tokens per episode (mean ± SD; dotted: max)", std="tokens_per_episode_std",
          max="tokens_per_episode_max"),
    Panel("tool_calls_per_episode", "Tool calls per episode"),
    Panel("turns_per_episode", "Turns per episode"),
    Panel("tool_call_validity", "Tool-call validity", unit_range=True),
    Panel("monologue_rate", "Monologue rate (answer in one turn, no tools)", unit_range=True),
    Panel("success_rate", "Success rate", unit_range=True),
    Panel("reward_mean", "Reward (mean ± SD)", std="reward_std"),
    Panel("kl_teacher_per_turn", "KL to teacher per turn"),
    Panel("entropy", "Entropy"),
    Panel("step_time_s", "Step time (s)"),
)
SECONDARY_KEYS = {p.std for p in PANELS if p.std} | {p.max for p in PANELS if p.max}
IGNORED_KEYS = {"step", "epoch", "seed", "episode", "episodes"}
COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf")
DASHES = ("solid", "dash", "dot", "dashdot", "longdash", "longdashdot")


def panels_for(runs: list[Run]) -> list[Panel]:
    """The panels with data in `runs`: the known ones in order, then one per other numeric key."""
    present: dict[str, None] = {}
    for run in runs:
        for key in run.keys():
            present.setdefault(key, None)
    known = [p for p in PANELS if p.key in present]
    named = {p.key for p in PANELS} | SECONDARY_KEYS | IGNORED_KEYS
    extra = [Panel(k, k.replace("_", " ")) for k in present if k not in named]
    return known + extra


def run_styles(runs: list[Run]) -> dict[str, tuple[str, str]]:
    """(color, dash) per run label: one color per method, one dash per seed within it."""
    methods: dict[str, int] = {}
    seen: dict[str, int] = {}
    styles = {}
    for run in runs:
        group = run.method or run.label
        color = COLORS[methods.setdefault(group, len(methods)) % len(COLORS)]
        dash = DASHES[seen.get(group, 0) % len(DASHES)]
        seen[group] = seen.get(group, 0) + 1
        styles[run.label] = (color, dash)
    return styles


def _rgba(color: str, alpha: float) -> str:
    r, g, b = (int(color[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def panel_traces(panel: Panel, run: Run, color: str, dash: str = "solid", legend: bool = True) -> list[go.Scatter]:
    """The traces of one run in one panel: the band (if any) first, then the line, then the max."""
    xs, ys = run.series(panel.key)
    traces: list[go.Scatter] = []
    by_step = dict(zip(*run.series(panel.std))) if panel.std else {}
    if by_step:
        bx = [x for x in xs if x in by_step]
        mean = dict(zip(xs, ys))
        upper = [mean[x] + by_step[x] for x in bx]
        lower = [mean[x] - by_step[x] for x in bx]
        traces.append(go.Scatter(
            x=bx + bx[::-1], y=upper + lower[::-1], fill="toself", fillcolor=_rgba(color, 0.15),
            line={"width": 0}, hoverinfo="skip", showlegend=False, legendgroup=run.label,
            name=f"{run.label} ± SD", meta={"run": run.label, "role": "band"},
        ))
    traces.append(go.Scatter(
        x=xs, y=ys, mode="lines+markers" if len(xs) < 30 else "lines", name=run.label, legendgroup=run.label,
        showlegend=legend, line={"color": color, "dash": dash, "width": 2}, marker={"size": 5},
        meta={"run": run.label, "role": "mean"},
    ))
    mx, my = run.series(panel.max) if panel.max else ([], [])
    if mx:
        traces.append(go.Scatter(
            x=mx, y=my, mode="lines", name=f"{run.label} max", legendgroup=run.label, showlegend=False,
            line={"color": color, "dash": "dot", "width": 1}, meta={"run": run.label, "role": "max"},
        ))
    return traces


def metrics_figure(runs: list[Run], columns: int = 3, title: str | None = None) -> go.Figure:
    """All panels with data, runs overlaid (a static figure for reports and the marimo monitor)."""
    panels = panels_for(runs)
    if not panels:
        fig = go.Figure()
        fig.add_annotation(text="No metrics logged yet", showarrow=False, font={"size": 16})
        fig.update_layout(height=240, xaxis={"visible": False}, yaxis={"visible": False}, title=title)
        return fig
    rows = math.ceil(len(panels) / columns)
    fig = make_subplots(rows=rows, cols=columns, subplot_titles=[p.title for p in panels],
                        vertical_spacing=min(0.16, 0.45 / rows), horizontal_spacing=0.06)
    styles = run_styles(runs)
    for i, panel in enumerate(panels):
        row, col = divmod(i, columns)
        for run in runs:
            color, dash = styles[run.label]
            for trace in panel_traces(panel, run, color, dash, legend=i == 0):
                fig.add_trace(trace, row=row + 1, col=col + 1)
        if panel.unit_range:
            fig.update_yaxes(range=[-0.02, 1.02], row=row + 1, col=col + 1)
        if i + columns >= len(panels):  # the lowest panel of its column says what the x axis is
            fig.update_xaxes(title_text="step", title_standoff=4, row=row + 1, col=col + 1)
    last = max((x for r in runs for p in panels for x in r.series(p.key)[0]), default=0)
    if last <= 12:
        fig.update_xaxes(dtick=1)  # steps are whole numbers; no half-step ticks
    height = 290 * rows + 120
    fig.update_layout(height=height, template="plotly_white", title=title,
                      legend={"orientation": "h", "yanchor": "top", "y": -60 / height, "x": 0},
                      margin={"l": 50, "r": 20, "t": 70 if title else 40, "b": 110},
                      font={"size": 11})
    fig.update_annotations(font_size=12)
    return fig


def summary_bars(rows: list[dict[str, Any]], metric: str, group: str = "label") -> go.Figure:
    """A bar per row of `rows` (dicts) showing `metric`, with an error bar where `<metric>_sd` is given."""
    xs = [str(r[group]) for r in rows if metric in r]
    ys = [r[metric] for r in rows if metric in r]
    err = [r.get(f"{metric}_sd") or 0.0 for r in rows if metric in r]
    fig = go.Figure(go.Bar(x=xs, y=ys, error_y={"type": "data", "array": err, "visible": any(err)},
                           marker_color=COLORS[0]))
    fig.update_layout(title=metric.replace("_", " "), template="plotly_white", height=320,
                      margin={"l": 50, "r": 20, "t": 50, "b": 80})
    return fig
