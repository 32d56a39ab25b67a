"""Run directories: `metrics.jsonl` (one JSON object per line, each with `step`) and `config.yaml`.

Trainers and experiment notebooks write them; the training dashboard, the
marimo monitor and the experiment report read them. Reading is tolerant: a
broken line is skipped and reported, never fatal, so an interrupted run still
shows everything it logged.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

METRICS_FILE = "metrics.jsonl"
CONFIG_FILE = "config.yaml"


@dataclass
class Run:
    """One run's logged metrics and config, with the problems met while reading them."""

    path: Path | None
    label: str
    config: dict[str, Any] = field(default_factory=dict)
    records: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def method(self) -> str | None:
        value = self.config.get("method")
        return str(value) if value is not None else None

    @property
    def seed(self) -> Any:
        return self.config.get("seed")

    def keys(self) -> list[str]:
        """Numeric metric keys present in any record, in first-seen order (`step` excluded)."""
        seen: dict[str, None] = {}
        for r in self.records:
            for k, v in r.items():
                if k != "step" and is_number(v):
                    seen.setdefault(k, None)
        return list(seen)

    def series(self, key: str) -> tuple[list[float], list[float]]:
        """(steps, values) of the records that have a finite numeric `key`."""
        xs, ys = [], []
        for r in self.records:
            v = r.get(key)
            if is_number(v) and is_number(r.get("step")):
                xs.append(float(r["step"]))
                ys.append(float(v))
        return xs, ys


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def run_label(config: dict[str, Any], fallback: str) -> str:
    """`method · seed N` from the config, or `fallback` (the directory name)."""
    method, seed = config.get("method"), config.get("seed")
    if method is None:
        return fallback if seed is None else f"{fallback} · seed {seed}"
    return f"{method}" if seed is None else f"{method} · seed {seed}"


def parse_record(line: str, number: int) -> tuple[dict[str, Any] | None, str | None]:
    """One metrics line as a record, or the reason it cannot be used."""
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        return None, f"line {number}: not JSON ({exc.msg}); skipped"
    if not isinstance(record, dict):
        return None, f"line {number}: a {type(record).__name__}, not a JSON object; skipped"
    if not is_number(record.get("step")):
        return None, f"line {number}: no numeric 'step'; skipped"
    return record, None


def read_metrics(path: str | Path) -> tuple[list[dict[str, Any]], list[str]]:
    """The records of a metrics.jsonl file and the problems found (broken lines are skipped)."""
    records, problems = [], []
    with open(path, encoding="utf-8", errors="replace") as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            record, problem = parse_record(line, number)
            if record is not None:
                records.append(record)
            else:
                problems.append(problem)
    return records, problems


def read_run(path: str | Path, label: str | None = None) -> Run:
    """A run directory (or its metrics.jsonl) as a `Run`; a clear error when there is nothing to read."""
    path = Path(path).expanduser()
    if path.is_file() and path.name == METRICS_FILE:
        path = path.parent
    if not path.exists():
        raise FileNotFoundError(f"no run directory at {path}")
    metrics = path / METRICS_FILE
    if not metrics.is_file():
        raise FileNotFoundError(
            f"{path} has no {METRICS_FILE}; a run directory holds {METRICS_FILE} (one JSON object per line, "
            f"each with 'step') and {CONFIG_FILE}"
        )
    config: dict[str, Any] = {}
    problems: list[str] = []
    if (path / CONFIG_FILE).is_file():
        try:
            loaded = yaml.safe_load((path / CONFIG_FILE).read_text(encoding="utf-8"))
            config = loaded if isinstance(loaded, dict) else {}
            if not isinstance(loaded, dict):
                problems.append(f"{CONFIG_FILE} is not a mapping; ignored")
        except yaml.YAMLError as exc:
            problems.append(f"{CONFIG_FILE} is not valid YAML ({exc.__class__.__name__}); ignored")
    records, bad = read_metrics(metrics)
    return Run(path, label or run_label(config, path.name), config, records, problems + bad)


def find_runs(root: str | Path) -> list[Path]:
    """Run directories (those holding a metrics.jsonl) at or under `root`, sorted."""
    root = Path(root).expanduser()
    if (root / METRICS_FILE).is_file():
        return [root]
    return sorted(p.parent for p in root.rglob(METRICS_FILE))


def append_metrics(run_dir: str | Path, record: dict[str, Any]) -> None:
    """Append one record (it must have a numeric `step`) to the run's metrics.jsonl."""
    if not is_number(record.get("step")):
        raise ValueError(f"a metrics record needs a numeric 'step'; got keys {', '.join(record) or 'none'}")
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    with open(run_dir / METRICS_FILE, "a", encoding="utf-8") as f:
        f.write(json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n")
        f.flush()
