"""The papermill experiment runner, end to end with a real kernel.

A small notebook written here exercises the runner (grid, failures, bad parameters,
resume after a dead kernel, reproducibility); the real agents experiment runs
once at a tiny size.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import yaml

from medgym.experiment import ExperimentError, load_config, run_experiment, run_id

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parent.parent

PARAMS = '''
from typing import Optional

n: int = 3  # steps to log
seed: int = 0  # seeds the metrics
fail: bool = False  # raise in the second cell
die_if: Optional[str] = None  # if this file exists, delete it and kill the kernel (a crash mid-run)
run_dir: Optional[str] = None
'''
BODY = '''
import os
import random

import plotly.graph_objects as go

from medgym.experiment import save_figure
from medgym.runlog import append_metrics

if die_if and os.path.exists(die_if):
    os.remove(die_if)
    os._exit(1)
if fail:
    raise ValueError(f"parameter fail={fail!r}: this run was asked to fail")
rng = random.Random(seed)
for step in range(n):
    append_metrics(run_dir, {"step": step, "reward_mean": rng.random(), "success_rate": rng.random()})
save_figure(go.Figure(go.Scatter(y=[1, 3, 2])), "curve", run_dir)
'''


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """A project folder: notebooks/probe.ipynb and experiments/probe.yaml."""
    root = tmp_path_factory.mktemp("project")
    (root / "notebooks").mkdir()
    (root / "experiments").mkdir()
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell(PARAMS.strip())
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell(BODY.strip())]
    nb.metadata["kernelspec"] = {"name": "medgym", "display_name": "MedGym (.venv)", "language": "python"}
    nbformat.write(nb, root / "notebooks" / "probe.ipynb")
    return root


def write_config(project: Path, name: str, **fields) -> Path:
    config = {"name": name, "notebook": "../notebooks/probe.ipynb", "timeout_s": 300, **fields}
    path = project / "experiments" / f"{name}.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def statuses(exp_dir: Path) -> dict[str, dict]:
    rows = json.loads((exp_dir / "results.json").read_text())["rows"]
    return {r["run"]: r for r in rows}


@pytest.fixture(scope="module")
def grid_run(project):
    config = write_config(project, "grid", parameters={"n": 3}, grid={"seed": [0, 1], "fail": [False, True]},
                          report={"reduce": "last", "group_by": ["fail"]})
    return config, run_experiment(config, log=lambda _: None)


def test_a_failing_run_is_recorded_and_the_others_go_on(grid_run):
    _, exp_dir = grid_run
    rows = statuses(exp_dir)
    assert set(rows) == {"seed-0_fail-False", "seed-0_fail-True", "seed-1_fail-False", "seed-1_fail-True"}
    for rid, row in rows.items():
        status = json.loads((exp_dir / rid / "status.json").read_text())
        if rid.endswith("True"):
            assert row["status"] == status["status"] == "failed"
            assert "ValueError: parameter fail=True: this run was asked to fail" in row["error"]
            assert (exp_dir / rid / "error.txt").is_file() and (exp_dir / rid / "notebook.ipynb").is_file()
        else:
            assert row["status"] == "finished" and row["reward_mean"] == pytest.approx(
                json.loads((exp_dir / rid / "metrics.jsonl").read_text().splitlines()[-1])["reward_mean"])
    summary = (exp_dir / "summary.md").read_text()
    assert "## Failed runs" in summary and "`seed-1_fail-True`: cell" in summary
    assert "2 finished" in summary and "2 failed" in summary


def test_each_run_records_what_reproduces_it(grid_run):
    _, exp_dir = grid_run
    run = exp_dir / "seed-0_fail-False"
    config = yaml.safe_load((run / "config.yaml").read_text())
    assert config["seed"] == 0 and config["n"] == 3 and config["run_dir"] == str(run)
    assert config["experiment"]["name"] == "grid" and config["experiment"]["run_id"] == "seed-0_fail-False"
    env = json.loads((run / "environment.json").read_text())
    assert env["packages"]["papermill"] and env["packages"]["plotly"] and env["python"].startswith("3.")
    assert "revision" in env["git"]
    executed = nbformat.read(run / "notebook.ipynb", as_version=4)
    assert any("injected-parameters" in c.metadata.get("tags", []) for c in executed.cells)
    assert (run / "figures" / "curve.html").is_file()


@pytest.mark.skipif(not shutil.which("chromium") and not Path("/usr/bin/chromium").exists(),
                    reason="kaleido needs Chrome/Chromium for PNGs")
def test_figures_are_html_and_png(grid_run):
    _, exp_dir = grid_run
    for png in [exp_dir / "seed-0_fail-False" / "figures" / "curve.png", exp_dir / "figures" / "metrics.png"]:
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    html = (exp_dir / "summary.html").read_text()
    assert "<img src='figures/metrics.png'" in html and "seed-1_fail-True" in html


def test_resume_skips_finished_runs_and_reruns_the_rest(grid_run):
    config, exp_dir = grid_run
    finished = exp_dir / "seed-0_fail-False" / "notebook.ipynb"
    stamp = finished.stat().st_mtime_ns
    run_experiment(config, resume=True, overrides={"fail": [False]}, log=lambda _: None)
    rows = statuses(exp_dir)
    assert {r: rows[r]["status"] for r in rows} == {"seed-0_fail-False": "finished", "seed-1_fail-False": "finished"}
    assert finished.stat().st_mtime_ns == stamp  # not executed again


def test_a_crashed_kernel_is_recorded_and_the_run_resumes(project, tmp_path):
    marker = tmp_path / "die-once"
    marker.touch()
    config = write_config(project, "crash", parameters={"die_if": str(marker)}, grid={"seed": [0]})
    exp_dir = run_experiment(config, log=lambda _: None)
    row = statuses(exp_dir)["seed-0"]
    assert row["status"] == "failed" and "DeadKernelError" in row["error"]  # the kernel died mid-run
    run_experiment(config, resume=True, log=lambda _: None)
    assert statuses(exp_dir)["seed-0"]["status"] == "finished"
    assert len((exp_dir / "seed-0" / "metrics.jsonl").read_text().splitlines()) == 3  # nothing logged twice


def test_the_same_config_and_seed_give_the_same_metrics(project, grid_run, tmp_path):
    _, exp_dir = grid_run
    config = write_config(project, "grid", parameters={"n": 3}, grid={"seed": [0], "fail": [False]})
    again = run_experiment(config, runs_root=tmp_path, log=lambda _: None)
    first = (exp_dir / "seed-0_fail-False" / "metrics.jsonl").read_text()
    assert (again / "seed-0_fail-False" / "metrics.jsonl").read_text() == first and len(first.splitlines()) == 3


def test_invalid_parameters_fail_the_run_with_their_name(project):
    config = write_config(project, "bad", parameters={"n": "three", "colour": "red"}, grid={"seed": [0]})
    exp_dir = run_experiment(config, log=lambda _: None)
    error = statuses(exp_dir)["seed-0"]["error"]
    assert "parameter 'n' of probe.ipynb must be int, got str 'three'" in error
    assert "unknown parameter 'colour' for probe.ipynb; its parameters: n, seed, fail, die_if, run_dir" in error
    assert not (exp_dir / "seed-0" / "notebook.ipynb").exists()  # refused before running
    assert json.loads((exp_dir / "seed-0" / "status.json").read_text())["status"] == "failed"


def test_a_broken_experiment_file_names_the_problem(project, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("notebook: ../notebooks/probe.ipynb\ngrids: {seed: [0]}\n")
    with pytest.raises(ExperimentError, match=r"grids: Extra inputs are not permitted"):
        load_config(bad)
    bad.write_text("notebook: nowhere.ipynb\n")
    with pytest.raises(ExperimentError, match="notebook 'nowhere.ipynb' not found"):
        run_experiment(bad, log=lambda _: None)
    bad.write_text("notebook: [unclosed\n")
    with pytest.raises(ExperimentError, match="not valid YAML"):
        load_config(bad)
    bad.write_text("notebook: ../notebooks/probe.ipynb\ngrid: {seed: []}\n")
    with pytest.raises(ExperimentError, match="grid.seed is empty"):
        load_config(bad)
    config = write_config(project, "nokernel", kernel="no-such-kernel")
    with pytest.raises(ExperimentError, match="kernel 'no-such-kernel' is not registered.*ipykernel install"):
        run_experiment(config, log=lambda _: None)


def test_run_ids_are_stable_and_readable():
    assert run_id({"method": "grpo", "seed": 0}) == "method-grpo_seed-0"
    assert run_id({}) == "default"
    long = run_id({"notes": "x" * 200})
    assert len(long) <= 80 and long == run_id({"notes": "x" * 200})


def test_the_agents_experiment_from_the_command_line(tmp_path):
    """The shipped experiment, shrunk: two agents on one task type, one episode each."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    out = subprocess.run(
        [sys.executable, "-m", "medgym.cli", "experiment", "run", str(ROOT / "experiments" / "agents_by_task_type.yaml"),
         "--runs-dir", str(tmp_path), "--set", "n_episodes=1", "--set", "task_type=[diagnosis]", "--set", "seed=[0]"],
        capture_output=True, text=True, timeout=600, env=env)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "report:" in out.stdout
    rows = statuses(tmp_path / "agents_by_task_type")
    assert {r["agent"]: r["status"] for r in rows.values()} == {"scripted": "finished", "oracle": "finished"}
    oracle = next(r for r in rows.values() if r["agent"] == "oracle")
    assert oracle["success_rate"] == 1.0 and oracle["tokens_per_episode_mean"] > 0
    assert "| agent | task_type | runs |" in (tmp_path / "agents_by_task_type" / "summary.md").read_text()


def test_keep_on_resume_names_entries_of_the_run_directory(project):
    with pytest.raises(ExperimentError, match="keep_on_resume"):
        load_config(write_config(project, "keep", keep_on_resume=["../elsewhere"]))
    with pytest.raises(ExperimentError, match="keep_on_resume"):
        load_config(write_config(project, "keep", keep_on_resume=["metrics.jsonl"]))  # the runner's own file


def test_a_killed_training_run_continues_from_its_last_checkpoint(tmp_path, tiny_model_dir):
    """The training notebook as an experiment run, killed with its kernel (SIGKILL, as by the OOM killer)
    once its first checkpoint is complete: `--resume` keeps the run's `train` folder (`keep_on_resume`),
    the notebook continues from the last complete checkpoint, and the run ends with each step logged once
    and the metrics of an uninterrupted run."""
    import time

    import psutil

    from medgym.runlog import read_run
    from medgym.train.run import latest_checkpoint

    config = tmp_path / "train.yaml"
    config.write_text(yaml.safe_dump({
        "name": "train", "notebook": str(ROOT / "notebooks" / "04_train_grpo_vs_ttopd.ipynb"), "timeout_s": 600,
        "parameters": {"model": str(tiny_model_dir), "method": "ttopd", "domains": ["drug_interaction"], "steps": 4,
                       "tasks_per_step": 1, "group_size": 2, "max_turns": 2, "max_turn_tokens": 24,
                       "checkpoint_every": 1, "live": False},
        "grid": {"seed": [0]}, "keep_on_resume": ["train"]}))
    straight = run_experiment(config, runs_root=tmp_path / "straight", log=lambda _: None) / "seed-0"

    runs = tmp_path / "killed"
    train_dir = runs / "train" / "seed-0" / "train"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    runner = subprocess.Popen([sys.executable, "-m", "medgym.cli", "experiment", "run", str(config), "--runs-dir",
                               str(runs)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 600
    while not (train_dir.is_dir() and latest_checkpoint(train_dir)):
        assert runner.poll() is None and time.monotonic() < deadline, "the run ended before its first checkpoint"
        time.sleep(0.02)
    process = psutil.Process(runner.pid)
    for p in [*process.children(recursive=True), process]:  # the kernel runs in a session of its own
        p.kill()
    psutil.wait_procs([process], timeout=30)
    assert json.loads((train_dir.parent / "status.json").read_text())["status"] == "running"
    assert latest_checkpoint(train_dir).name != "checkpoint-4"

    run = run_experiment(config, resume=True, runs_root=runs, log=lambda _: None) / "seed-0"
    assert run == train_dir.parent and statuses(run.parent)["seed-0"]["status"] == "finished"
    assert "(resuming)" in (run / "notebook.ipynb").read_text()
    volatile = {"step_time_s", "kl_teacher_per_turn", "kl_teacher_per_episode"}
    got, want = read_run(run).records, read_run(straight).records
    assert [r["step"] for r in got] == [1, 2, 3, 4]
    assert [{k: v for k, v in r.items() if k not in volatile} for r in got] == \
        [{k: v for k, v in r.items() if k not in volatile} for r in want]
