"""Evaluation results: one cell per policy and suite, with scores, intervals and n; saved as JSON.

    results.cell("scripted", "cardiology")["scores"]["success"]  -> {"mean", "ci": [lo, hi], "n"}
    results.by_domain  -> the same scores per policy and task domain (every env episode of the domain,
                          each task once), which the per-domain charts show
    results.save(folder)  -> results.json, report.md, report.html, charts.html
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from medgym.eval.records import METRICS
from medgym.eval.stats import summarize

RESULTS_FILE = "results.json"
SCHEMA = "medgym.eval/1"


@dataclass
class Results:
    config: dict[str, Any]
    policies: list[dict[str, Any]]
    suites: list[dict[str, Any]]
    cells: list[dict[str, Any]]
    by_domain: list[dict[str, Any]] = field(default_factory=list)
    episodes: list[dict[str, Any]] = field(default_factory=list, repr=False)
    out: str | None = None

    @property
    def policy_names(self) -> list[str]:
        return [p["name"] for p in self.policies]

    @property
    def suite_names(self) -> list[str]:
        return [s["name"] for s in self.suites]

    def cell(self, policy: str, suite: str) -> dict[str, Any]:
        for c in self.cells:
            if c["policy"] == policy and c["suite"] == suite:
                return c
        raise KeyError(f"no result for policy {policy!r} on suite {suite!r}; policies {', '.join(self.policy_names)}, "
                       f"suites {', '.join(self.suite_names)}")

    def score(self, policy: str, suite: str, metric: str = "success") -> float | None:
        s = self.cell(policy, suite).get("scores", {}).get(metric)
        return None if s is None else s["mean"]

    def to_dict(self, episodes: bool = False) -> dict[str, Any]:
        data = {"schema": SCHEMA, "config": self.config, "policies": self.policies, "suites": self.suites,
                "metrics": {m.name: {"description": m.description, "better": m.better} for m in METRICS.values()},
                "results": self.cells, "by_domain": self.by_domain}
        if episodes:
            data["episodes"] = self.episodes
        return data

    def to_json(self, episodes: bool = False) -> str:
        return json.dumps(self.to_dict(episodes), indent=2, ensure_ascii=False)

    @classmethod
    def load(cls, path: str | Path) -> "Results":
        """Results saved by `save` (a results.json file or the folder holding it)."""
        path = Path(path).expanduser()
        if path.is_dir():
            path = path / RESULTS_FILE
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("schema") != SCHEMA:
            raise ValueError(f"{path} is not a medgym evaluation result (schema {data.get('schema')!r})")
        return cls(data["config"], data["policies"], data["suites"], data["results"], data.get("by_domain", []),
                   data.get("episodes", []), str(path.parent))

    def markdown(self) -> str:
        from medgym.eval.report import markdown_report

        return markdown_report(self)

    def html(self) -> str:
        from medgym.eval.report import html_report

        return html_report(self)

    def charts_html(self) -> str:
        from medgym.eval.report import charts_html

        return charts_html(self)

    def _repr_html_(self) -> str:
        from medgym.eval.report import html_table

        return html_table(self, "success")

    def save(self, out: str | Path) -> dict[str, Path]:
        """Write results.json (with every episode), report.md, report.html and charts.html."""
        out = Path(out).expanduser()
        out.mkdir(parents=True, exist_ok=True)
        files = {"results": out / RESULTS_FILE, "markdown": out / "report.md", "html": out / "report.html",
                 "charts": out / "charts.html"}
        files["results"].write_text(self.to_json(episodes=True) + "\n", encoding="utf-8")
        files["markdown"].write_text(self.markdown(), encoding="utf-8")
        files["html"].write_text(self.html(), encoding="utf-8")
        files["charts"].write_text(self.charts_html(), encoding="utf-8")
        self.out = str(out)
        return files


def aggregate(policies: list[Any], suites: list[Any], records: dict[tuple[str, str, str], dict[str, Any]],
              skipped: dict[tuple[str, str], str], config: dict[str, Any], limit: int | None) -> Results:
    """Cells (scores with intervals) from the episode records, in policy and suite order."""
    seed = int(config["seed"])
    cells, episodes = [], []
    for p in policies:
        for s in suites:
            base = {"policy": p.name, "suite": s.name, "kind": s.kind, "group": s.group, "domain": s.domain}
            if (p.name, s.name) in skipped:
                cells.append(base | {"n": 0, "skipped": skipped[(p.name, s.name)], "scores": {}})
                continue
            recs = [records[(p.name, s.name, i)] for i in s.item_ids(limit) if (p.name, s.name, i) in records]
            episodes += recs
            cells.append(base | {"n": len(recs), "failed": sum(1 for r in recs if r.get("error")),
                                 "scores": summarize(recs, s.kind, seed, f"{p.name}|{s.name}")})
    return Results(
        config=config,
        policies=[{"name": p.name, "spec": p.spec, "kind": p.kind, "path": p.path, "adapter": p.adapter,
                   "base_url": p.base_url, "model": p.model} for p in policies],
        suites=[{"name": s.name, "kind": s.kind, "group": s.group, "domain": s.domain, "description": s.description,
                 "items": len(s.item_ids(limit)), "mode": s.mode if s.kind == "qa" else None,
                 "benchmark": s.read_report or None} for s in suites],
        cells=cells,
        by_domain=_by_domain(policies, suites, records, seed, limit),
        episodes=episodes,
    )


def _by_domain(policies: list[Any], suites: list[Any], records: dict[tuple[str, str, str], dict[str, Any]],
               seed: int, limit: int | None) -> list[dict[str, Any]]:
    """Scores per policy and task domain over every environment episode, each task counted once."""
    from medgym.tasks import get_task

    out = []
    for p in policies:
        pooled: dict[str, dict[str, dict[str, Any]]] = {}
        for s in suites:
            if s.kind != "env":
                continue
            for item in s.item_ids(limit):
                r = records.get((p.name, s.name, item))
                if r is not None:
                    pooled.setdefault(get_task(item).domain, {}).setdefault(item, r)
        for domain in sorted(pooled):
            recs = list(pooled[domain].values())
            out.append({"policy": p.name, "domain": domain, "n": len(recs),
                        "scores": summarize(recs, "env", seed, f"{p.name}|domain:{domain}")})
    return out
