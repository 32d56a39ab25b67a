"""`TrainingDashboard`: live plots of the collapse metrics while a trainer runs, and finished runs overlaid.

    from widgets import TrainingDashboard
    dash = TrainingDashboard()
    dash                                          # in a notebook cell
    trainer = ...(callbacks=[dash.on_metrics])   # live: one dict per step, with at least 'step'
    dash.load_run("runs/grpo-seed0"); dash.load_runs("experiments/runs/grpo_vs_ttopd")   # overlay finished runs

A panel appears for each metric that some run logged (see `medgym.plots.PANELS`),
so it plots whatever the trainer logs; spread bands use the `*_std` keys.
"""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Any

import ipywidgets as W
import plotly.graph_objects as go

from medgym.plots import Panel, metrics_figure, panel_traces, panels_for, run_styles
from medgym.runlog import Run, find_runs, is_number, read_run

LIVE = "live"


class TrainingDashboard(W.VBox):
    """One plot per metric; runs overlaid (a color per method, a dash per seed)."""

    def __init__(self, runs: list[str | Path] | None = None, columns: int = 3, title: str = "Training") -> None:
        self.runs: dict[str, Run] = {}
        self.figures: dict[str, go.FigureWidget] = {}
        self.columns = columns
        self.header = W.HTML(f"<b>{escape(title)}</b>")
        self.status = W.HTML("<span style='color:#627d98'>Waiting for metrics…</span>")
        self.status.add_class("medgym-dashboard-status")
        self.grid = W.GridBox(layout=W.Layout(grid_template_columns=f"repeat({columns}, minmax(0, 1fr))",
                                              grid_gap="4px", width="100%"))
        super().__init__([self.header, self.status, self.grid])
        for path in runs or []:
            self.load_run(path)

    # --- feeding it -----------------------------------------------------------------------------------

    def live(self, label: str = LIVE, config: dict[str, Any] | None = None) -> "TrainingDashboard":
        """Start (or restart) the live run that `on_metrics` feeds; `config` gives its method and seed."""
        self.runs[label] = Run(None, label, dict(config or {}))
        self._live = label
        self._refresh([label])
        return self

    def on_metrics(self, record: dict[str, Any]) -> None:
        """The trainer's callback: one metrics record (a dict with 'step' and any metric keys)."""
        label = getattr(self, "_live", None)
        if label is None or label not in self.runs:
            self.live()
            label = self._live
        run = self.runs[label]
        if not isinstance(record, dict):
            run.problems.append(f"record {len(run.records) + 1}: a {type(record).__name__}, not a dict; skipped")
            self._show_status()
            return
        record = dict(record)
        if not is_number(record.get("step")):
            record["step"] = (run.records[-1]["step"] + 1) if run.records else 0
            run.problems.append(f"record {len(run.records) + 1}: no numeric 'step'; numbered {record['step']}")
        run.records.append(record)
        self._refresh([label])

    __call__ = on_metrics

    def load_run(self, path: str | Path, label: str | None = None) -> Run:
        """Load a finished (or running) run directory and overlay it."""
        run = read_run(path, label)
        base, n = run.label, 2
        while run.label in self.runs and self.runs[run.label].path != run.path:
            run.label, n = f"{base} ({n})", n + 1
        self.runs[run.label] = run
        self._refresh([run.label])
        return run

    def load_runs(self, root: str | Path) -> list[Run]:
        """Load every run directory under `root`."""
        paths = find_runs(root)
        if not paths:
            raise FileNotFoundError(f"no run directories (with metrics.jsonl) under {root}")
        return [self.load_run(p) for p in paths]

    def remove_run(self, label: str) -> None:
        self.runs.pop(label, None)
        for fig in self.figures.values():
            fig.data = [t for t in fig.data if (t.meta or {}).get("run") != label]
        self._show_status()

    # --- drawing --------------------------------------------------------------------------------------

    def _figure(self, panel: Panel) -> go.FigureWidget:
        fig = go.FigureWidget(layout=go.Layout(
            title={"text": panel.title, "font": {"size": 12}}, template="plotly_white", height=250,
            margin={"l": 45, "r": 10, "t": 36, "b": 30}, showlegend=True,
            legend={"orientation": "h", "y": -0.25, "font": {"size": 10}},
            xaxis={"title": {"text": "step"}},
            yaxis={"range": [-0.02, 1.02]} if panel.unit_range else {}))
        return fig

    def _refresh(self, labels: list[str]) -> None:
        runs = list(self.runs.values())
        panels = panels_for(runs)
        styles = run_styles(runs)
        added = False
        for panel in panels:
            if panel.key not in self.figures:
                self.figures[panel.key] = self._figure(panel)
                added = True
        if added:
            order = [p.key for p in panels]
            self.grid.children = [self.figures[k] for k in order]
        last = max((r.records[-1]["step"] for r in runs if r.records), default=0)
        for panel in panels:
            fig = self.figures[panel.key]
            fig.layout.xaxis.dtick = 1 if last <= 12 else None  # whole-number steps, no half-step ticks
            first = panel is panels[0]
            for label in labels if not added else list(self.runs):
                run = self.runs[label]
                color, dash = styles[label]
                new = panel_traces(panel, run, color, dash, legend=first)
                old = [t for t in fig.data if (t.meta or {}).get("run") == label]
                with fig.batch_update():
                    if len(old) == len(new):
                        for o, n in zip(old, new):
                            o.x, o.y = n.x, n.y
                            o.line.color, o.line.dash = n.line.color, n.line.dash
                    else:
                        fig.data = [t for t in fig.data if (t.meta or {}).get("run") != label]
                        fig.add_traces(new)
        self._show_status()

    def _show_status(self) -> None:
        if not self.runs:
            self.status.value = "<span style='color:#627d98'>Waiting for metrics…</span>"
            return
        parts = []
        for run in self.runs.values():
            last = run.records[-1]["step"] if run.records else None
            text = f"<b>{escape(run.label)}</b>: {len(run.records)} records" + (f", step {last:g}" if last is not None else "")
            if run.problems:
                text += (f" <span style='color:#a61b1b'>({len(run.problems)} problems: "
                         f"{escape('; '.join(run.problems[:2]))})</span>")
            parts.append(text)
        self.status.value = "<div style='font-size:12px'>" + " · ".join(parts) + "</div>"

    def figure(self, title: str | None = None) -> go.Figure:
        """A static figure of every panel (for saving as HTML or PNG)."""
        return metrics_figure(list(self.runs.values()), columns=self.columns, title=title)

    def series(self, key: str, label: str | None = None) -> tuple[list[float], list[float]]:
        """The (steps, values) plotted for `key` in run `label` (the live run by default)."""
        label = label or getattr(self, "_live", LIVE)
        return self.runs[label].series(key)
