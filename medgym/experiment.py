"""Experiments: a parameterized notebook executed over a grid of parameters with papermill.

    medgym experiment run experiments/agents_by_domain.yaml [--resume] [--set n_episodes=2]

An experiment file (YAML) names a notebook, fixed `parameters` and a `grid`
(every combination is one run). Each run goes to `experiments/runs/NAME/RUN_ID/`:
the executed notebook, the resolved `config.yaml`, `environment.json` (package
versions, git revision), `status.json`, the `metrics.jsonl` and figures that the
notebook writes there (its `run_dir` parameter), and PNGs made from those
figures. A failing run is recorded with its error and the others go on;
`--resume` skips finished runs and reruns the others from scratch, keeping the
entries of their directories named in `keep_on_resume` (the trainer's
checkpoints, from which the training notebook continues). At the end
`summary.md` / `summary.html` compare the runs. Notebooks write figures with
`save_figure` and metrics with `medgym.runlog.append_metrics`.
"""

from __future__ import annotations

import ast
import datetime as dt
import hashlib
import importlib.metadata
import itertools
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time
import traceback
from html import escape
from pathlib import Path
from typing import Any, Callable, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from medgym.runlog import CONFIG_FILE, METRICS_FILE, is_number, read_run

RUN_DIR_PARAM = "run_dir"
STATUS_FILE = "status.json"
PLAIN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")  # an experiment's name, an entry of a run directory
FIGURES = "figures"
PACKAGES = ("medgym", "torch", "transformers", "trl", "peft", "accelerate", "gymnasium", "numpy", "papermill",
            "nbclient", "ipykernel", "plotly", "kaleido", "ipywidgets", "marimo", "chromadb", "pydantic")


class ReportSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    metrics: list[str] = Field(default_factory=list, description="columns of the summary (default: every metric)")
    reduce: Literal["last", "mean"] = "last"
    group_by: list[str] = Field(default_factory=list, description="parameters to aggregate over the others (mean ± SD)")


class ExperimentConfig(BaseModel):
    """An experiment file. Unknown keys are errors."""

    model_config = ConfigDict(extra="forbid")

    name: str
    notebook: str
    description: str = ""
    kernel: str = "medgym"
    timeout_s: int = Field(1800, gt=0, description="per-cell execution limit")
    parameters: dict[str, Any] = Field(default_factory=dict)
    grid: dict[str, list[Any]] = Field(default_factory=dict)
    report: ReportSpec = Field(default_factory=ReportSpec)
    keep_on_resume: list[str] = Field(default_factory=list, description="entries of a run's directory that --resume "
                                      "keeps when it reruns an unfinished run with the same parameters (e.g. the "
                                      "trainer's checkpoints), so that its notebook continues from them")

    @field_validator("keep_on_resume")
    @classmethod
    def _keep(cls, v: list[str]) -> list[str]:
        reserved = {CONFIG_FILE, METRICS_FILE, STATUS_FILE, "notebook.ipynb", "environment.json", FIGURES, "error.txt"}
        for name in v:
            if not PLAIN_NAME.fullmatch(name) or name in reserved:
                raise ValueError(f"{name!r}: name a folder or file directly inside the run directory, other than "
                                 f"the runner's own ({', '.join(sorted(reserved))})")
        return v

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not PLAIN_NAME.fullmatch(v):
            raise ValueError("use letters, digits, '_', '-' and '.' only (it names a directory)")
        return v

    @field_validator("grid")
    @classmethod
    def _grid(cls, v: dict[str, list[Any]]) -> dict[str, list[Any]]:
        for key, values in v.items():
            if not values:
                raise ValueError(f"grid.{key} is empty; give at least one value")
        return v


class ExperimentError(ValueError):
    """A broken experiment file or set-up; the message names the problem and the fix."""


# --- loading ------------------------------------------------------------------------------------------------


def load_config(path: str | Path, overrides: dict[str, Any] | None = None) -> ExperimentConfig:
    """Read and check an experiment file; `overrides` replace fixed parameters (or a grid axis)."""
    path = Path(path)
    if not path.is_file():
        raise ExperimentError(f"no experiment file at {path}")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ExperimentError(f"{path} is not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ExperimentError(f"{path} must be a mapping with at least 'notebook'")
    data.setdefault("name", path.stem)
    try:
        config = ExperimentConfig.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise ExperimentError(f"{path}: {problems}") from None
    for key, value in (overrides or {}).items():
        if key in config.grid:
            config.grid[key] = value if isinstance(value, list) else [value]
        else:
            config.parameters[key] = value
    clash = set(config.parameters) & set(config.grid)
    if clash:
        raise ExperimentError(f"{path}: {', '.join(sorted(clash))} is both a fixed parameter and a grid axis")
    return config


def notebook_path(config: ExperimentConfig, config_path: Path) -> Path:
    """The notebook, relative to the experiment file's directory."""
    nb = (config_path.parent / config.notebook).resolve()
    if not nb.is_file():
        raise ExperimentError(f"notebook {config.notebook!r} not found (looked at {nb}; the path is relative to "
                              f"{config_path.parent})")
    return nb


def parse_overrides(items: list[str]) -> dict[str, Any]:
    """`key=value` pairs from the command line; values are read as YAML (numbers, lists, true/false)."""
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ExperimentError(f"--set takes key=value, got {item!r}")
        out[key.strip()] = yaml.safe_load(value) if value.strip() else ""
    return out


# --- the grid -------------------------------------------------------------------------------------------------


def expand(config: ExperimentConfig) -> list[dict[str, Any]]:
    """Every combination of the grid, in file order (one empty combination when there is no grid)."""
    keys = list(config.grid)
    return [dict(zip(keys, values)) for values in itertools.product(*(config.grid[k] for k in keys))]


def _slug(value: Any) -> str:
    text = json.dumps(value, sort_keys=True) if isinstance(value, (list, dict)) else str(value)
    return re.sub(r"[^A-Za-z0-9.]+", "-", text).strip("-") or "x"


def run_id(point: dict[str, Any]) -> str:
    """A readable, stable directory name for one grid point, e.g. `agent-scripted_seed-0`."""
    if not point:
        return "default"
    text = "_".join(f"{k}-{_slug(v)}" for k, v in point.items())
    if len(text) > 80:
        text = text[:70] + "-" + hashlib.sha256(text.encode()).hexdigest()[:8]
    return text


def config_hash(parameters: dict[str, Any], notebook: Path) -> str:
    payload = json.dumps({"parameters": parameters, "notebook": notebook.read_text(encoding="utf-8")},
                         sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


# --- notebook parameters ---------------------------------------------------------------------------------------


def notebook_parameters(notebook: Path) -> dict[str, dict[str, Any]]:
    """The notebook's parameters (papermill's view of its `parameters` cell)."""
    import papermill

    params = papermill.inspect_notebook(str(notebook))
    if not params:
        raise ExperimentError(f"{notebook.name} has no cell tagged 'parameters'; papermill cannot parameterize it")
    return params


_TYPES: dict[str, tuple[type, ...]] = {"int": (int,), "float": (int, float), "str": (str,), "bool": (bool,),
                                       "list": (list,), "dict": (dict,)}


def _expected(spec: dict[str, Any]) -> tuple[tuple[type, ...], bool, str] | None:
    """(accepted types, None allowed, name) from the annotation, or from the default when there is none."""
    name = str(spec.get("inferred_type_name") or "None")
    optional = name.startswith("Optional[")
    base = name[len("Optional["):-1] if optional else name
    base = base.split("[")[0].strip().lower()
    if base == "none":
        try:
            default = ast.literal_eval(spec.get("default", ""))
        except (ValueError, SyntaxError):
            return None
        base = type(default).__name__ if default is not None else "none"
        optional = default is None
    if base not in _TYPES:
        return None
    return _TYPES[base], optional, base


def check_parameters(values: dict[str, Any], declared: dict[str, dict[str, Any]], notebook: str) -> list[str]:
    """Problems with `values` for a notebook: unknown names and values of the wrong type."""
    problems = []
    for key, value in values.items():
        if key not in declared:
            problems.append(f"unknown parameter {key!r} for {notebook}; its parameters: {', '.join(declared)}")
            continue
        expected = _expected(declared[key])
        if expected is None:
            continue
        types, optional, name = expected
        if value is None and optional:
            continue
        ok = isinstance(value, types) and not (isinstance(value, bool) and bool not in types)
        if not ok:
            problems.append(f"parameter {key!r} of {notebook} must be {name}{' or null' if optional else ''}, "
                            f"got {type(value).__name__} {value!r}")
    return problems


# --- one run ------------------------------------------------------------------------------------------------------


def environment(project: Path) -> dict[str, Any]:
    """Python, platform, package versions and the git revision, for the record."""
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None

    def git(*args: str) -> str | None:
        try:
            out = subprocess.run(["git", "-C", str(project), *args], capture_output=True, text=True, timeout=20)
        except (OSError, subprocess.TimeoutExpired):
            return None
        return out.stdout.strip() if out.returncode == 0 else None

    status = git("status", "--porcelain", "--untracked-files=no")
    return {"python": sys.version.split()[0], "platform": platform.platform(), "packages": versions,
            "git": {"revision": git("rev-parse", "HEAD"), "dirty": bool(status) if status is not None else None}}


def read_status(run_dir: Path) -> dict[str, Any]:
    try:
        return json.loads((run_dir / STATUS_FILE).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return {}


def _write_json(path: Path, data: Any) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, default=str), encoding="utf-8")
    tmp.replace(path)


def _error_text(exc: BaseException) -> str:
    from papermill.exceptions import PapermillExecutionError

    if isinstance(exc, PapermillExecutionError):
        return f"cell {exc.exec_count}: {exc.ename}: {exc.evalue}"
    return f"{type(exc).__name__}: {exc}"


def execute_run(notebook: Path, run_dir: Path, parameters: dict[str, Any], kernel: str, timeout_s: int) -> None:
    """Execute the notebook with papermill into run_dir/notebook.ipynb (saved after every cell)."""
    import papermill

    papermill.execute_notebook(
        str(notebook), str(run_dir / "notebook.ipynb"), parameters=parameters, kernel_name=kernel,
        cwd=str(notebook.parent), execution_timeout=timeout_s, start_timeout=180, progress_bar=False,
        log_output=False, request_save_on_cell_execute=True,
        store_widget_state=False,  # a FigureWidget's state carries plotly.js (~5 MB); figures are saved apart
    )


# --- figures ------------------------------------------------------------------------------------------------------


def save_figure(fig: Any, name: str, run_dir: str | Path | None) -> Path | None:
    """Save a plotly figure in run_dir/figures as HTML (plotly.js beside it, viewable offline) and as JSON,
    from which the runner makes the PNG. Does nothing when run_dir is None (a notebook opened by hand)."""
    if run_dir is None:
        return None
    folder = Path(run_dir) / FIGURES
    folder.mkdir(parents=True, exist_ok=True)
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", name)
    fig.write_html(str(folder / f"{safe}.html"), include_plotlyjs="directory", full_html=True)
    (folder / f"{safe}.json").write_text(fig.to_json(), encoding="utf-8")
    return folder / f"{safe}.html"


def export_pngs(folders: list[Path]) -> tuple[int, str | None]:
    """Make a PNG for every figure JSON lacking one, in one kaleido batch (one Chromium start).

    Returns (PNGs written, error). kaleido drives a Chrome/Chromium it finds on the PATH (Debian's
    /usr/bin/chromium works); without one the HTML figures still exist and the error says so."""
    pending = [j for f in folders if f.is_dir() for j in sorted(f.glob("*.json")) if not j.with_suffix(".png").exists()]
    if not pending:
        return 0, None
    try:
        import plotly.io as pio

        figs = [pio.from_json(j.read_text(encoding="utf-8")) for j in pending]
        pio.write_images(figs, [str(j.with_suffix(".png")) for j in pending], width=1100, scale=1)
    except Exception as exc:  # noqa: BLE001  (no Chrome, kaleido missing or broken: report, keep the HTML)
        return 0, (f"PNG export failed ({type(exc).__name__}: {str(exc)[:300]}); the HTML figures are complete. "
                   "kaleido needs Chrome or Chromium: `apt install chromium`, or `plotly_get_chrome`.")
    return len(pending), None


# --- the experiment -----------------------------------------------------------------------------------------------


class RunResult(BaseModel):
    run_id: str
    point: dict[str, Any]
    status: Literal["finished", "failed", "skipped"]
    error: str | None = None
    duration_s: float = 0.0
    run_dir: str


def _kernel_check(kernel: str) -> None:
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        KernelSpecManager().get_kernel_spec(kernel)
    except NoSuchKernel:
        raise ExperimentError(
            f"the Jupyter kernel {kernel!r} is not registered, so papermill cannot start it: run "
            f"`{sys.executable} -m ipykernel install --sys-prefix --name {kernel} --display-name \"MedGym (.venv)\"` "
            "(make test and make run do this)"
        ) from None


def run_experiment(path: str | Path, resume: bool = False, runs_root: str | Path | None = None,
                   overrides: dict[str, Any] | None = None, log: Callable[[str], None] = print) -> Path:
    """Execute every run of the experiment; return the experiment's directory (with the summary)."""
    path = Path(path).resolve()
    config = load_config(path, overrides)
    notebook = notebook_path(config, path)
    declared = notebook_parameters(notebook)
    if RUN_DIR_PARAM not in declared:
        raise ExperimentError(f"{notebook.name} has no {RUN_DIR_PARAM!r} parameter; an experiment notebook needs it "
                              "to know where to write metrics.jsonl and figures")
    _kernel_check(config.kernel)
    root = Path(runs_root) if runs_root else path.parent / "runs"
    exp_dir = (root / config.name).resolve()
    exp_dir.mkdir(parents=True, exist_ok=True)
    env = environment(path.parent)
    os.environ.setdefault("PYTHONHASHSEED", "0")  # the kernels inherit it: set iteration order is then fixed
    results: list[RunResult] = []
    points = expand(config)
    log(f"experiment {config.name}: {len(points)} run(s) of {notebook.name} -> {exp_dir}")
    for n, point in enumerate(points, 1):
        rid = run_id(point)
        run_dir = exp_dir / rid
        parameters = {**config.parameters, **point, RUN_DIR_PARAM: str(run_dir)}
        digest = config_hash({k: v for k, v in parameters.items() if k != RUN_DIR_PARAM}, notebook)
        previous = read_status(run_dir)
        if resume and previous.get("status") == "finished" and previous.get("config_hash") == digest:
            log(f"[{n}/{len(points)}] {rid}: finished before, skipped")
            results.append(RunResult(run_id=rid, point=point, status="skipped", run_dir=str(run_dir),
                                     duration_s=previous.get("duration_s", 0.0)))
            continue
        kept = [name for name in config.keep_on_resume if (run_dir / name).exists()] \
            if resume and previous.get("config_hash") == digest else []
        _clear(run_dir, keep=kept)  # an unfinished or outdated run starts over, so no metrics are logged twice
        if kept:
            log(f"[{n}/{len(points)}] {rid}: unfinished before, continuing from {', '.join(kept)}")
        resolved = {**parameters, "experiment": {"name": config.name, "notebook": str(notebook), "run_id": rid,
                                                 "kernel": config.kernel, "config_hash": digest}}
        (run_dir / CONFIG_FILE).write_text(yaml.safe_dump(resolved, sort_keys=False), encoding="utf-8")
        _write_json(run_dir / "environment.json", env)
        status = {"status": "running", "run_id": rid, "config_hash": digest,
                  "started": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")}
        _write_json(run_dir / STATUS_FILE, status)
        start = time.perf_counter()
        problems = check_parameters(parameters, declared, notebook.name)
        error = "; ".join(problems) if problems else None
        if error is None:
            try:
                execute_run(notebook, run_dir, parameters, config.kernel, config.timeout_s)
            except KeyboardInterrupt:
                _write_json(run_dir / STATUS_FILE, {**status, "status": "failed", "error": "interrupted"})
                raise
            except Exception as exc:  # noqa: BLE001  (a failing run is recorded; the others go on)
                error = _error_text(exc)
                (run_dir / "error.txt").write_text(traceback.format_exc(), encoding="utf-8")
        duration = round(time.perf_counter() - start, 2)
        state = "failed" if error else "finished"
        _write_json(run_dir / STATUS_FILE, {**status, "status": state, "error": error, "duration_s": duration})
        results.append(RunResult(run_id=rid, point=point, status=state, error=error, duration_s=duration,
                                 run_dir=str(run_dir)))
        log(f"[{n}/{len(points)}] {rid}: {state} in {duration:.1f} s" + (f" - {error}" if error else ""))
    write_summary(config, notebook, exp_dir, results, env, log)
    return exp_dir


def _clear(run_dir: Path, keep: list[str]) -> None:
    """Empty `run_dir` (creating it) except for the entries named in `keep`."""
    run_dir.mkdir(parents=True, exist_ok=True)
    for entry in run_dir.iterdir():
        if entry.name not in keep:
            shutil.rmtree(entry) if entry.is_dir() and not entry.is_symlink() else entry.unlink()


# --- the summary --------------------------------------------------------------------------------------------------


def _reduce(values: list[float], how: str) -> float:
    return values[-1] if how == "last" else statistics.fmean(values)


COLLAPSE_KEYS = ("length_explosion_ratio", "length_slope", "tool_use_ratio", "tool_use_erosion", "tool_use_slope")


def run_rows(config: ExperimentConfig, results: list[RunResult]) -> tuple[list[dict[str, Any]], list[str]]:
    """One row per run: its grid point, status and each metric reduced over steps ('last' or 'mean');
    the run-level collapse summary (`medgym.metrics.collapse_summary`) where the report asks for its keys."""
    from medgym.metrics import collapse_summary

    wanted_collapse = [k for k in config.report.metrics if k in COLLAPSE_KEYS]
    rows, metrics_seen = [], {}
    for r in results:
        row: dict[str, Any] = {"run": r.run_id, **r.point, "status": "finished" if r.status == "skipped" else r.status,
                               "duration_s": r.duration_s}
        metrics_file = Path(r.run_dir) / METRICS_FILE
        if row["status"] == "finished" and metrics_file.is_file():
            run = read_run(r.run_dir)
            for key in run.keys():
                _, ys = run.series(key)
                if ys:
                    row[key] = _reduce(ys, config.report.reduce)
                    metrics_seen.setdefault(key, None)
            if wanted_collapse and any("tokens_per_episode_mean" in r for r in run.records):
                summary = collapse_summary(run.records)
                row.update({k: summary[k] for k in wanted_collapse})
        if r.error:
            row["error"] = r.error
        rows.append(row)
    metrics = config.report.metrics or list(metrics_seen)
    return rows, metrics


def group_rows(rows: list[dict[str, Any]], by: list[str], metrics: list[str]) -> list[dict[str, Any]]:
    """Mean and SD of each metric over the finished runs sharing the `by` parameters."""
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for row in rows:
        if row["status"] == "finished":
            groups.setdefault(tuple(json.dumps(row.get(k), default=str) for k in by), []).append(row)
    out = []
    for key, members in groups.items():
        g: dict[str, Any] = {k: json.loads(v) for k, v in zip(by, key)}
        g["label"] = " · ".join(f"{k}={g[k]}" for k in by)
        g["runs"] = len(members)
        for m in metrics:
            values = [r[m] for r in members if is_number(r.get(m))]
            if values:
                g[m] = statistics.fmean(values)
                g[f"{m}_sd"] = statistics.stdev(values) if len(values) > 1 else 0.0
        out.append(g)
    return out


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 1000 else f"{value:.0f}"
    return "" if value is None else str(value)


def _markdown_table(rows: list[dict[str, Any]], columns: list[str]) -> str:
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for r in rows:
        lines.append("| " + " | ".join(_fmt(r.get(c)).replace("|", "\\|") for c in columns) + " |")
    return "\n".join(lines)


def _html_table(rows: list[dict[str, Any]], columns: list[str]) -> str:
    head = "".join(f"<th>{escape(c)}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td class='{'bad' if r.get('status') == 'failed' and c == 'status' else ''}'>"
                         f"{escape(_fmt(r.get(c)))}</td>" for c in columns) + "</tr>" for r in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def write_summary(config: ExperimentConfig, notebook: Path, exp_dir: Path, results: list[RunResult],
                  env: dict[str, Any], log: Callable[[str], None] = print) -> Path:
    """summary.md, summary.html, results.json and comparison figures in the experiment directory."""
    from medgym.plots import metrics_figure, summary_bars

    rows, metrics = run_rows(config, results)
    axes = list(config.grid)
    columns = ["run", *axes, "status", "duration_s", *metrics]
    group_by = config.report.group_by
    groups = group_rows(rows, group_by, metrics) if group_by else []
    figures_dir = exp_dir / FIGURES
    if figures_dir.exists():
        shutil.rmtree(figures_dir)
    finished = [read_run(r.run_dir, label=r.run_id) for r in results
                if r.status in ("finished", "skipped") and (Path(r.run_dir) / METRICS_FILE).is_file()]
    figure_names = []
    if finished:
        save_figure(metrics_figure(finished, title=f"{config.name}: metrics over steps"), "metrics", exp_dir)
        figure_names.append("metrics")
        source = groups if groups else [{**r, "label": r["run"]} for r in rows if r["status"] == "finished"]
        for m in metrics:
            if any(m in s for s in source):
                save_figure(summary_bars(source, m), f"bar_{m}", exp_dir)
                figure_names.append(f"bar_{m}")
    written, png_error = export_pngs([Path(r.run_dir) / FIGURES for r in results] + [figures_dir])
    counts = {s: sum(r.status == s for r in results) for s in ("finished", "skipped", "failed")}
    when = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    git = env["git"]
    header = [
        f"# Experiment `{config.name}`",
        "",
        config.description.strip(),
        "",
        f"- notebook: `{notebook.name}`; kernel `{config.kernel}`; metrics reduced by **{config.report.reduce}** over steps",
        f"- runs: {len(results)} ({counts['finished']} finished, {counts['skipped']} finished earlier and skipped, "
        f"{counts['failed']} failed)",
        f"- git revision {git['revision'] or 'unknown'}{' (uncommitted changes)' if git['dirty'] else ''}; "
        f"python {env['python']}; written {when}",
    ]
    if png_error:
        header.append(f"- {png_error}")
    md = header + ["", "## Runs", "", _markdown_table(rows, columns)]
    shown_groups = [{**{k: g[k] for k in (*group_by, "runs")},
                     **{m: f"{_fmt(g[m])} ± {_fmt(g[m + '_sd'])}" for m in metrics if m in g}} for g in groups]
    gcols = [*group_by, "runs", *metrics]
    if groups:
        md += ["", f"## By {', '.join(group_by)} (mean ± SD over the other parameters)", "",
               _markdown_table(shown_groups, gcols)]
    failed = [r for r in rows if r["status"] == "failed"]
    if failed:
        md += ["", "## Failed runs", ""] + [f"- `{r['run']}`: {r.get('error')}" for r in failed]
    if figure_names:
        md += ["", "## Figures", ""] + [f"- [{n}](figures/{n}.html) ([PNG](figures/{n}.png))" for n in figure_names]
    (exp_dir / "summary.md").write_text("\n".join(md) + "\n", encoding="utf-8")
    html = [
        "<!doctype html><meta charset='utf-8'><title>" + escape(config.name) + "</title>",
        "<style>body{font-family:system-ui,sans-serif;margin:24px;color:#1f2933}table{border-collapse:collapse;"
        "font-size:13px;margin:8px 0}td,th{border-bottom:1px solid #d9e2ec;padding:3px 8px;text-align:left}"
        "th{color:#486581}.bad{color:#a61b1b;font-weight:600}img{max-width:100%;border:1px solid #d9e2ec}</style>",
        f"<h1>Experiment {escape(config.name)}</h1><p>{escape(config.description)}</p><ul>"
        + "".join(f"<li>{escape(line[2:])}</li>" for line in header[4:]) + "</ul>",
        "<h2>Runs</h2>" + _html_table(rows, columns),
    ]
    if groups:
        html.append(f"<h2>By {escape(', '.join(group_by))} (mean ± SD)</h2>" + _html_table(shown_groups, gcols))
    if failed:
        html.append("<h2>Failed runs</h2><ul>" + "".join(f"<li><code>{escape(r['run'])}</code>: {escape(str(r.get('error')))}</li>"
                                                         for r in failed) + "</ul>")
    for n in figure_names:
        png = figures_dir / f"{n}.png"
        img = f"<img src='figures/{n}.png' alt='{escape(n)}'>" if png.exists() else ""
        html.append(f"<h3><a href='figures/{n}.html'>{escape(n)}</a></h3>{img}")
    (exp_dir / "summary.html").write_text("\n".join(html), encoding="utf-8")
    _write_json(exp_dir / "results.json", {"experiment": config.name, "rows": rows, "groups": groups,
                                           "metrics": metrics, "png_error": png_error, "environment": env})
    log(f"{counts['finished'] + counts['skipped']} of {len(results)} runs finished, {counts['failed']} failed; "
        f"{written} PNG(s) written{' - ' + png_error if png_error else ''}")
    log(f"report: {exp_dir / 'summary.md'} (and summary.html)")
    return exp_dir / "summary.md"
