"""The notebooks: committed clean, and each executed top to bottom by papermill with small parameters.
The marimo apps run as plain scripts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def run_notebook(name: str, tmp_path: Path, **parameters):
    import papermill

    out = tmp_path / name
    papermill.execute_notebook(str(ROOT / "notebooks" / name), str(out), parameters=parameters, kernel_name="medgym",
                               cwd=str(ROOT / "notebooks"), progress_bar=False, start_timeout=180,
                               store_widget_state=False)
    return nbformat.read(out, as_version=4)


def printed(nb) -> str:
    return "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebooks_are_committed_clean_with_parameters_first(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code), f"{path.name} has outputs; clear them"
    assert nb.cells[0].cell_type == "code" and "parameters" in nb.cells[0].metadata.get("tags", [])
    assert nb.metadata["kernelspec"]["name"] == "medgym"


def test_every_numbered_notebook_is_here():
    names = {p.name for p in NOTEBOOKS}
    assert {"01_play_encounter.ipynb", "02_watch_agent.ipynb", "03_reward_lab.ipynb", "04_train_grpo_vs_ttopd.ipynb",
            "05_evaluate.ipynb"} <= names


@pytest.mark.slow
def test_play_encounter_notebook_with_scripted_moves(tmp_path):
    nb = run_notebook("01_play_encounter.ipynb", tmp_path, task_id="cardiology-acute_pericarditis-003",
                      patient_matcher="lexical", moves=[
                          "Does the pain go anywhere else?",
                          {"tool": "order_lab", "arguments": {"test": "troponin_t_hs"}},
                          {"submit": {"diagnosis": "Acute pericarditis"}},
                      ])
    text = printed(nb)
    assert "DOCTOR: Does the pain go anywhere else?" in text and "DOCTOR -> order_lab" in text
    assert "'success': True" in text


@pytest.mark.slow
def test_watch_agent_notebook_writes_metrics_and_a_figure(tmp_path):
    run_dir = tmp_path / "run"
    nb = run_notebook("02_watch_agent.ipynb", tmp_path, agent="oracle", n_episodes=2, run_dir=str(run_dir))
    records = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records] == [0, 1] and all(r["success_rate"] == 1.0 for r in records)
    assert {"tokens_per_turn_mean", "tool_calls_per_episode", "turns_per_episode", "reward_mean"} <= set(records[0])
    assert (run_dir / "figures" / "episodes.html").is_file() and "tokens counted with the" in printed(nb)


@pytest.mark.slow
def test_watch_agent_notebook_names_a_bad_parameter(tmp_path):
    from papermill.exceptions import PapermillExecutionError

    with pytest.raises(PapermillExecutionError, match=r"parameter agent='nobody'.*No model at nobody"):
        run_notebook("02_watch_agent.ipynb", tmp_path, agent="nobody", n_episodes=0)


@pytest.mark.slow
def test_reward_lab_notebook_saves_a_preset(tmp_path):
    run_dir = tmp_path / "run"
    run_notebook("03_reward_lab.ipynb", tmp_path, n_tasks=2, short_budget=3, run_dir=str(run_dir))
    from widgets.reward_lab import load_preset
    from widgets.session import load_trajectories

    import yaml

    saved = yaml.safe_load((run_dir / "reward_preset.yaml").read_text())["reward"]
    assert saved["history_taking"] == 0.5 and saved["outcome"] == 1.0
    with pytest.raises(ValueError, match="unknown reward term.*history_taking.*must be registered"):
        load_preset(run_dir / "reward_preset.yaml")  # the custom term lives in the notebook's kernel only
    trajectories, problems = load_trajectories(run_dir / "trajectories.jsonl")
    assert len(trajectories) == 6 and not problems
    summary = json.loads((run_dir / "metrics.jsonl").read_text())
    assert summary["reward_mean_terminal"] <= 1.0 and "reward_mean_shaped" in summary


SMALL_EVAL = dict(policies=["scripted", "oracle"], limit=2, seed=3, patient_matcher="lexical")


@pytest.mark.slow
def test_evaluate_notebook_writes_the_harness_scores_per_policy_and_suite(tmp_path):
    from medgym.eval import Results, evaluate

    suites = ["cardiology", "workup", f"medqa:{ROOT / 'tests' / 'data' / 'eval' / 'medqa_4options.jsonl'}"]
    run_dir = tmp_path / "run"
    nb = run_notebook("05_evaluate.ipynb", tmp_path, suites=suites, run_dir=str(run_dir), **SMALL_EVAL)
    records = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    expected = evaluate(SMALL_EVAL["policies"], suites, limit=2, seed=3, patient_matcher="lexical")
    assert [(r["step"], r["policy"], r["suite"]) for r in records] == \
        [(i, c["policy"], c["suite"]) for i, c in enumerate(expected.cells)]
    assert [r["suite"] for r in records] == ["cardiology", "workup", "medqa"] * 2
    for record, cell in zip(records, expected.cells):
        assert record["n"] == cell["n"]
        if cell.get("skipped"):  # the scripted clinician has no strategy for benchmark questions
            assert record["policy"] == "scripted" and record["skipped"] == cell["skipped"] and "success" not in record
            continue
        assert record["n"] == 2 and record["failed"] == 0
        scores = {k: v for k, v in record.items() if k not in ("step", "policy", "suite", "n", "failed")}
        assert scores == {f"{metric}{part}": value for metric, s in cell["scores"].items()
                          for part, value in (("", s["mean"]), ("_ci_low", s["ci"][0]), ("_ci_high", s["ci"][1]))}
    assert records[3]["success"] == 1.0 and records[5]["success"] == 1.0  # the oracle solves what it plays
    assert Results.load(run_dir / "eval").cells == expected.cells  # the reports kept beside the metrics
    assert (run_dir / "figures" / "evaluation.html").is_file()
    assert (run_dir / "figures" / "success_by_domain.html").is_file()
    text = printed(nb)
    assert "scripted on medqa" in text and "not evaluated" in text and "episodes played in" in text
    tables = [o["data"]["text/markdown"] for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
              if "text/markdown" in o.get("data", {})]
    assert len(tables) == 1 and "mean [95% bootstrap interval] n" in tables[0] and "n/a" in tables[0]


@pytest.mark.slow
@pytest.mark.parametrize("parameters, error", [
    ({"policies": ["default"]}, r"parameter policies=\['default'\]: the default model is not built yet.*"
                                r"build it with `medgym model build`"),
    ({"suites": ["nowhere"]}, r"parameter suites=\['nowhere'\]: unknown suite 'nowhere'"),
], ids=["default-not-built", "unknown-suite"])
def test_evaluate_notebook_names_a_bad_parameter(tmp_path, monkeypatch, parameters, error):
    from papermill.exceptions import PapermillExecutionError

    monkeypatch.setenv("MEDGYM_MODELS_DIR", str(tmp_path / "models"))  # no default model there, whatever is built
    with pytest.raises(PapermillExecutionError, match=error):
        run_notebook("05_evaluate.ipynb", tmp_path, **parameters)


def script(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, timeout=300, env=env, cwd=ROOT)


@pytest.mark.slow
def test_marimo_apps_run_as_scripts(tmp_path):
    out = script("notebooks/encounter_app.py")
    assert out.returncode == 0, out.stderr
    run = tmp_path / "runs" / "grpo-0"
    run.mkdir(parents=True)
    (run / "config.yaml").write_text("method: grpo\nseed: 0\n")
    (run / "metrics.jsonl").write_text('{"step": 0, "reward_mean": 0.25}\n{"step": 1, "reward_mean": 0.5}\nbroken\n')
    out = script("notebooks/training_monitor.py", "--runs", str(tmp_path / "runs"))
    assert out.returncode == 0, out.stderr
    assert "'run': 'grpo-0'" in out.stdout and "'reward_mean': 0.5" in out.stdout
    assert "problem: grpo-0: line 3: not JSON" in out.stdout


SMALL_TRAINING = dict(domains=["drug_interaction"], steps=2, tasks_per_step=1, group_size=2, max_turns=2, max_turn_tokens=24, live=False)


@pytest.mark.slow
def test_training_notebook_runs_ttopd_and_writes_the_run(tmp_path, tiny_model_dir):
    run_dir = tmp_path / "run"
    nb = run_notebook("04_train_grpo_vs_ttopd.ipynb", tmp_path, method="ttopd", model=str(tiny_model_dir),
                      run_dir=str(run_dir), **SMALL_TRAINING)
    records = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records] == [1, 2] and {r["method"] for r in records} == {"ttopd"}
    for key in ("tokens_per_episode_mean", "tool_calls_per_episode", "turns_per_episode", "success_rate",
                "kl_teacher_per_turn", "loss"):
        assert all(key in r for r in records), key
    assert (run_dir / "metrics.jsonl").read_text() == (run_dir / "train" / "metrics.jsonl").read_text()
    summary = json.loads((run_dir / "train" / "summary.json").read_text())
    assert summary["method"] == "ttopd" and "length_explosion_ratio" in summary
    assert (run_dir / "train" / "final" / "config.json").is_file()
    assert (run_dir / "figures" / "training.html").is_file() and "length_explosion_ratio" in printed(nb)


@pytest.mark.slow
def test_training_notebook_names_a_bad_parameter(tmp_path, tiny_model_dir):
    from papermill.exceptions import PapermillExecutionError

    with pytest.raises(PapermillExecutionError, match=r"method"):
        run_notebook("04_train_grpo_vs_ttopd.ipynb", tmp_path, method="ppo", model=str(tiny_model_dir),
                     **SMALL_TRAINING)
