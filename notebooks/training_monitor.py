"""Watch training and experiment runs from their run directories (metrics.jsonl + config.yaml):

    marimo run notebooks/training_monitor.py -- --runs experiments/runs/grpo_vs_ttopd
    python notebooks/training_monitor.py --runs DIR    # as a script: prints the table, writes nothing

It re-reads the directories every few seconds, so a run that is still training
updates by itself; choose which runs to overlay (a color per method, a dash per seed).
"""

import marimo

__generated_with = "0.25.2"
app = marimo.App(width="full", app_title="MedGym training monitor")


@app.cell
def _():
    import sys
    from pathlib import Path

    import marimo as mo

    from medgym.plots import metrics_figure
    from medgym.runlog import find_runs, read_run

    _args = mo.cli_args()
    _default = _args.get("runs")
    if _default is None and "--runs" in sys.argv[1:-1]:  # run as a plain script
        _default = sys.argv[sys.argv.index("--runs") + 1]
    root = mo.ui.text(value=str(_default or Path(__file__).parent.parent / "experiments" / "runs"),
                      label="Run directories under", full_width=True)
    refresh = mo.ui.refresh(options=["2s", "5s", "30s"], default_interval="5s", label="Re-read every")
    mo.hstack([root, refresh], widths=[4, 1], align="end")
    return find_runs, metrics_figure, mo, read_run, refresh, root


@app.cell
def _(find_runs, mo, root):
    from pathlib import Path as _Path

    _base = _Path(root.value).expanduser()
    paths = find_runs(_base) if _base.exists() else []
    labels = {str(p.relative_to(_base)) if p != _base else p.name: str(p) for p in paths}
    picker = mo.ui.multiselect(options=labels, value=list(labels)[:8], label="Runs to show", full_width=True)
    (picker if paths else mo.callout(mo.md(
        f"No run directories under `{_base}` yet. A run directory holds `metrics.jsonl` (one JSON object per "
        "line, each with `step`) and `config.yaml` (with `method` and `seed`). Train, or run an experiment "
        "with `medgym experiment run experiments/NAME.yaml`."), kind="warn"))
    return labels, picker


@app.cell
def _(labels, metrics_figure, mo, picker, read_run, refresh):
    refresh.value  # re-read on every tick
    _names = {path: label for label, path in labels.items()}
    runs = []
    problems = []
    for _path in picker.value:
        _label = _names[_path]
        try:
            _run = read_run(_path, label=_label)
        except FileNotFoundError as _exc:
            problems.append(str(_exc))
            continue
        runs.append(_run)
        problems += [f"{_label}: {p}" for p in _run.problems]
    rows = []
    for _run in runs:
        _last = _run.records[-1] if _run.records else {}
        rows.append({"run": _run.label, "method": _run.method or "", "seed": _run.seed, "records": len(_run.records),
                     **{k: round(v, 4) for k, v in _last.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}})
    mo.vstack([
        metrics_figure(runs) if runs else mo.md("Choose runs above."),
        mo.md("**Latest record of each run**"), mo.ui.table(rows, selection=None) if rows else mo.md(""),
        mo.callout(mo.md("<br>".join(problems)), kind="warn") if problems else mo.md(""),
    ])
    return problems, rows, runs


@app.cell
def _(mo, problems, rows):
    if not mo.running_in_notebook():
        for _row in rows:
            print(_row)
        for _p in problems:
            print("problem:", _p)
    return


if __name__ == "__main__":
    app.run()
