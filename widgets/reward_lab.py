"""`RewardLab`: weigh the reward terms and see at once how a stored set of trajectories is re-scored.

    from widgets import RewardLab
    lab = RewardLab.from_file("trajectories.jsonl")
    lab                                   # sliders per term, presets, plots, ranking
    lab.add_term("brevity", lambda episode, task: -episode.turns / 24)
    lab.save_preset("rewards/my_preset.yaml")

Every change re-scores every trajectory with `medgym.rewards.score` under the
current weights and compares with a baseline preset: the reward distributions,
the mean reward per agent, and the ranking of the trajectories (Kendall's tau
against the baseline, and the biggest movers).
"""

from __future__ import annotations

import math
from html import escape
from pathlib import Path
from typing import Any

import ipywidgets as W
import numpy as np
import plotly.graph_objects as go
import yaml
from scipy.stats import kendalltau, rankdata

from medgym.rewards import PRESETS, RewardTerm, reward_term, score, terms
from widgets.render import humanize
from widgets.session import Trajectory, load_trajectories

CUSTOM = "custom"
WEIGHT_RANGE = (-2.0, 2.0)
COLORS = {"baseline": "#9fb3c8", "current": "#2680c2"}


class RewardLab(W.VBox):
    """Sliders and check boxes over the reward terms, re-scoring `trajectories` on every change."""

    def __init__(self, trajectories: list[Trajectory], preset: str = "shaped", baseline: str = "terminal",
                 problems: list[str] | None = None) -> None:
        if not trajectories:
            raise ValueError("RewardLab needs at least one trajectory; collect some with widgets.session.collect")
        for name in (preset, baseline):
            if name not in PRESETS:
                raise ValueError(f"unknown reward preset {name!r}; presets: {', '.join(PRESETS)}")
        self.trajectories = trajectories
        self._tasks = {t.task_id: t.task for t in trajectories}
        self.error = W.HTML()
        self.error.add_class("medgym-lab-error")
        self.preset_picker = W.Dropdown(description="Preset", options=[*PRESETS, CUSTOM], value=preset)
        self.baseline_picker = W.Dropdown(description="Compare with", options=list(PRESETS), value=baseline,
                                          style={"description_width": "initial"})
        self.preset_picker.observe(self._on_preset, "value")
        self.baseline_picker.observe(lambda _: self.rescore(), "value")
        self.enabled: dict[str, W.Checkbox] = {}
        self.sliders: dict[str, W.FloatSlider] = {}
        self.term_rows = W.VBox()
        self._applying = False
        for name in terms():
            self._add_row(name)
        self.histogram = go.FigureWidget(layout=go.Layout(
            title={"text": "Reward distribution", "font": {"size": 13}}, barmode="overlay", template="plotly_white",
            height=300, width=560, autosize=False, margin={"l": 45, "r": 10, "t": 40, "b": 40}, xaxis={"title": "reward"},
            yaxis={"title": "trajectories"}, legend={"orientation": "h", "y": 1.12, "x": 1, "xanchor": "right"}))
        self.histogram.add_histogram(x=[], name="baseline", marker_color=COLORS["baseline"], opacity=0.6, bingroup="r")
        self.histogram.add_histogram(x=[], name="current", marker_color=COLORS["current"], opacity=0.6, bingroup="r")
        self.by_policy = go.FigureWidget(layout=go.Layout(
            title={"text": "Mean reward per agent", "font": {"size": 13}}, barmode="group", template="plotly_white",
            height=300, width=460, autosize=False, margin={"l": 45, "r": 10, "t": 40, "b": 40},
            legend={"orientation": "h", "y": 1.12, "x": 1, "xanchor": "right"}))
        self.by_policy.add_bar(x=[], y=[], name="baseline", marker_color=COLORS["baseline"])
        self.by_policy.add_bar(x=[], y=[], name="current", marker_color=COLORS["current"])
        self.ranking = W.HTML()
        self.ranking.add_class("medgym-ranking")
        self.summary = W.HTML()
        self.summary.add_class("medgym-lab-summary")
        info = f"{len(trajectories)} trajectories from {len({t.policy for t in trajectories})} agents on {len(self._tasks)} tasks"
        if problems:
            info += f"; {len(problems)} unreadable records skipped: " + escape("; ".join(problems[:3]))
        self.scores: list[float] = []
        self.baseline_scores: list[float] = []
        super().__init__([
            W.HTML(f"<b>Reward lab</b> · <span style='color:#627d98'>{info}</span>"),
            W.HBox([self.preset_picker, self.baseline_picker]),
            self.term_rows, self.error, self.summary,
            W.HBox([self.histogram, self.by_policy], layout=W.Layout(width="100%", flex_flow="row wrap")),
            self.ranking,
        ])
        self._apply(PRESETS[preset])

    @classmethod
    def from_file(cls, path: str | Path, **kwargs: Any) -> "RewardLab":
        trajectories, problems = load_trajectories(path)
        return cls(trajectories, problems=problems, **kwargs)

    # --- terms and weights ------------------------------------------------------------------------------

    def _add_row(self, name: str, weight: float = 0.0) -> None:
        fn = terms()[name]
        doc = (fn.__doc__ or "").strip().splitlines()[0] if fn.__doc__ else "custom term"
        box = W.Checkbox(value=weight != 0.0, indent=False, layout=W.Layout(width="24px"))
        slider = W.FloatSlider(value=weight, min=WEIGHT_RANGE[0], max=WEIGHT_RANGE[1], step=0.05,
                               description=humanize(name), continuous_update=True, readout_format=".2f",
                               style={"description_width": "90px"}, layout=W.Layout(width="380px"))
        box.add_class(f"medgym-term-{name}")
        slider.add_class(f"medgym-weight-{name}")
        box.observe(self._on_weight, "value")
        slider.observe(self._on_weight, "value")
        self.enabled[name], self.sliders[name] = box, slider
        self.term_rows.children = [*self.term_rows.children, W.HBox([box, slider, W.HTML(
            f"<span style='color:#627d98;font-size:12px;line-height:28px'>{escape(doc)}</span>")])]

    def add_term(self, name: str, fn: RewardTerm, weight: float = 1.0) -> bool:
        """Register `fn(episode, task) -> float` as reward term `name` (a notebook cell's function) and weigh it.

        The function is first tried on every stored trajectory; one that fails or returns something other
        than a finite number is not registered (it would break scoring everywhere in this kernel), and the
        lab says why. Returns whether the term was added."""
        if not callable(fn):
            raise TypeError(f"a reward term must be a function (episode, task) -> float, got {type(fn).__name__}")
        problem = self._try_term(name, fn)
        if problem:
            self.error.value = f"<div style='color:#a61b1b'>⚠ {escape(problem)}</div>"
            return False
        reward_term(name)(fn)
        if name in self.sliders:
            self.sliders[name].value = weight
            self.enabled[name].value = weight != 0.0
        else:
            self._add_row(name, weight)
        self.preset_picker.value = CUSTOM
        self.rescore()
        return True

    def _try_term(self, name: str, fn: RewardTerm) -> str | None:
        for t in self.trajectories:
            try:
                value = fn(t.episode, self._tasks[t.task_id])
            except Exception as exc:  # noqa: BLE001  (the notebook's function: report, do not crash the lab)
                return (f"reward term {name!r} failed on {t.policy} / {t.task_id}: {type(exc).__name__}: {exc}. "
                        f"Fix the function and call lab.add_term({name!r}, fn) again; it was not added.")
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
                return (f"reward term {name!r} returned {value!r} on {t.policy} / {t.task_id}; a term must return "
                        "a finite float. It was not added.")
        return None

    @property
    def weights(self) -> dict[str, float]:
        """The current weights of the enabled terms."""
        # sliders move in steps of 0.05 and hand back floats such as 0.30000000000000004: round them
        return {n: round(float(s.value), 6) for n, s in self.sliders.items() if self.enabled[n].value and s.value != 0.0}

    def set_weights(self, weights: dict[str, float]) -> None:
        """Set the sliders (terms not named are switched off)."""
        unknown = set(weights) - set(self.sliders)
        if unknown:
            raise ValueError(f"unknown reward term(s) {', '.join(sorted(unknown))}; terms: {', '.join(self.sliders)}")
        self._apply(weights)
        self.preset_picker.value = next((p for p, w in PRESETS.items() if w == self.weights), CUSTOM)

    def _apply(self, weights: dict[str, float]) -> None:
        self._applying = True
        try:
            for name, slider in self.sliders.items():
                slider.value = float(weights.get(name, 0.0))
                self.enabled[name].value = name in weights and weights[name] != 0.0
        finally:
            self._applying = False
        self.rescore()

    def _on_preset(self, change: dict[str, Any]) -> None:
        if change["new"] in PRESETS and not self._applying:
            self._apply(PRESETS[change["new"]])

    def _on_weight(self, change: dict[str, Any]) -> None:
        if self._applying:
            return
        match = next((p for p, w in PRESETS.items() if w == self.weights), CUSTOM)
        if self.preset_picker.value != match:
            self._applying = True
            self.preset_picker.value = match
            self._applying = False
        self.rescore()

    # --- scoring ----------------------------------------------------------------------------------------

    def _score_all(self, weights: dict[str, float]) -> list[float]:
        out = []
        for t in self.trajectories:
            try:
                value = score(t.episode, self._tasks[t.task_id], weights).total
            except Exception as exc:  # a custom term from a notebook cell may fail: say which, on what
                raise RuntimeError(self._which_term_failed(t, exc)) from exc
            if not isinstance(value, (int, float)) or not math.isfinite(value):
                raise RuntimeError(f"the reward of {t.policy} on {t.task_id} is {value!r}, not a finite number; "
                                   "every term must return a float")
            out.append(float(value))
        return out

    def _which_term_failed(self, t: Trajectory, exc: Exception) -> str:
        task = self._tasks[t.task_id]
        for name, fn in terms().items():
            try:
                fn(t.episode, task)
            except Exception as inner:  # noqa: BLE001
                return (f"reward term {name!r} failed on {t.policy} / {t.task_id}: {type(inner).__name__}: {inner}. "
                        f"Fix the function, then call lab.add_term({name!r}, fn) again.")
        return f"scoring failed on {t.policy} / {t.task_id}: {type(exc).__name__}: {exc}"

    def rescore(self) -> None:
        """Re-score every trajectory under the current and the baseline weights; update the views."""
        try:
            current = self._score_all(self.weights)
            baseline = self._score_all(PRESETS[self.baseline_picker.value])
        except RuntimeError as exc:
            self.error.value = f"<div style='color:#a61b1b'>⚠ {escape(str(exc))}</div>"
            return
        self.error.value = ""
        self.scores, self.baseline_scores = current, baseline
        policies = sorted({t.policy for t in self.trajectories})
        mean = {which: [float(np.mean([s for s, t in zip(scores, self.trajectories) if t.policy == p])) for p in policies]
                for which, scores in (("baseline", baseline), ("current", current))}
        with self.histogram.batch_update():
            self.histogram.data[0].x = baseline
            self.histogram.data[1].x = current
        with self.by_policy.batch_update():
            for i, which in enumerate(("baseline", "current")):
                self.by_policy.data[i].x = policies
                self.by_policy.data[i].y = mean[which]
        tau = self.rank_correlation()
        self.summary.value = (
            f"<div style='margin:4px 0'>Current weights: <code>{escape(', '.join(f'{k} {v:g}' for k, v in self.weights.items()))}</code> · "
            f"mean {np.mean(current):+.3f} (baseline {np.mean(baseline):+.3f}) · "
            f"Kendall's τ with the baseline ranking: {'n/a (a constant reward)' if tau is None else f'{tau:.2f}'}</div>"
        )
        self.ranking.value = self._ranking_html()

    def rank_correlation(self) -> float | None:
        """Kendall's tau-b between the current and the baseline ranking (None when either is constant)."""
        if len(set(self.scores)) < 2 or len(set(self.baseline_scores)) < 2:
            return None
        return float(kendalltau(self.scores, self.baseline_scores).statistic)

    def ranks(self) -> tuple[list[int], list[int]]:
        """(current, baseline) rank of each trajectory, 1 = highest reward, ties share the best rank."""
        cur = rankdata([-s for s in self.scores], method="min").astype(int).tolist()
        base = rankdata([-s for s in self.baseline_scores], method="min").astype(int).tolist()
        return cur, base

    def _ranking_html(self, top: int = 12) -> str:
        cur, base = self.ranks()
        order = sorted(range(len(self.trajectories)), key=lambda i: (cur[i], i))
        moved = sorted(range(len(self.trajectories)), key=lambda i: -abs(base[i] - cur[i]))[:5]
        rows = []
        for i in order[:top]:
            t, delta = self.trajectories[i], base[i] - cur[i]
            arrow = f"<span style='color:#0e5814'>▲{delta}</span>" if delta > 0 else (
                f"<span style='color:#a61b1b'>▼{-delta}</span>" if delta < 0 else "·")
            rows.append(f"<tr><td>{cur[i]}</td><td>{base[i]}</td><td>{arrow}</td><td>{escape(t.policy)}</td>"
                        f"<td>{escape(t.task_id)}</td><td>{t.episode.turns}</td><td>{t.episode.tool_calls}</td>"
                        f"<td style='text-align:right'>{self.scores[i]:+.3f}</td>"
                        f"<td style='text-align:right'>{self.baseline_scores[i]:+.3f}</td></tr>")
        movers = ", ".join(f"{escape(self.trajectories[i].policy)} / {escape(self.trajectories[i].task_id)} "
                           f"({base[i]}→{cur[i]})" for i in moved if base[i] != cur[i]) or "none"
        return (
            "<div style='font-size:13px'><b>Ranking</b> (top {top} of {n}; ▲ moved up against the baseline)"
            "<table style='border-collapse:collapse;width:100%'><tr style='color:#486581;text-align:left'>"
            "<th>rank</th><th>baseline rank</th><th></th><th>agent</th><th>task</th><th>turns</th><th>tool calls</th>"
            "<th style='text-align:right'>reward</th><th style='text-align:right'>baseline</th></tr>{rows}</table>"
            "<div style='color:#627d98'>Biggest movers: {movers}</div></div>"
        ).format(top=min(top, len(order)), n=len(order), rows="".join(rows), movers=movers)

    # --- presets as YAML --------------------------------------------------------------------------------

    def save_preset(self, path: str | Path, name: str | None = None) -> Path:
        """Write the current weights as YAML: a `reward:` mapping of term -> weight, as a trainer config takes it."""
        weights = self.weights
        if not weights:
            raise ValueError("every term is switched off or weighted 0; enable at least one term before saving")
        builtin = {"outcome", "safety", "process", "efficiency", "format"}
        custom = sorted(set(weights) - builtin)
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        header = f"# Reward preset{' ' + name if name else ''} saved by the MedGym reward lab.\n"
        if custom:
            header += (f"# Custom terms ({', '.join(custom)}) must be registered with @medgym.rewards.reward_term "
                       "in the process that reads this file.\n")
        body = yaml.safe_dump({"reward": {k: round(v, 6) for k, v in weights.items()}}, sort_keys=False)
        path.write_text(header + body, encoding="utf-8")
        return path


def load_preset(path: str | Path) -> dict[str, float]:
    """The `reward:` weights of a preset YAML file written by `RewardLab.save_preset`, checked."""
    from medgym.rewards import resolve_preset

    data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not isinstance(data.get("reward"), dict):
        raise ValueError(f"{path}: expected a mapping with a 'reward:' mapping of term -> weight")
    bad = {k: v for k, v in data["reward"].items() if not isinstance(v, (int, float)) or isinstance(v, bool)}
    if bad:
        raise ValueError(f"{path}: weights must be numbers; got {bad}")
    try:
        return resolve_preset({str(k): float(v) for k, v in data["reward"].items()})
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}. A custom term must be registered with @medgym.rewards.reward_term "
                         "in this process before its preset is loaded") from None

