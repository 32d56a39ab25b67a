"""GRPO and TT-OPD on the real tiny model with TRL's GRPOTrainer, single process on CPU."""

import json
import math

import pytest
import torch
from safetensors.torch import load_file

from medgym.train.config import parse_config
from medgym.train.run import latest_checkpoint, read_metrics, train

pytestmark = pytest.mark.slow

VOLATILE = {"step_time_s", "kl_teacher_per_turn", "kl_teacher_per_episode"}


def config(tmp_path, model_dir, name, **overrides):
    base = {
        "name": name, "model": str(model_dir), "steps": 2, "tasks_per_step": 2, "group_size": 2, "seed": 7,
        "learning_rate": 5e-4, "output_dir": str(tmp_path / name),
        "tasks": {"domains": ["drug_interaction"], "limit": 6},  # a domain the tiny model was trained on
        "rollout": {"max_turns": 3, "max_turn_tokens": 24, "max_episode_tokens": 3072, "batch_size": 4},
    }
    for key, value in overrides.items():
        target = base
        *parents, leaf = key.split(".")
        for p in parents:
            target = target.setdefault(p, {})
        target[leaf] = value
    return parse_config(base)


def stable(records):
    return [{k: v for k, v in r.items() if k not in VOLATILE and k != "method" and k != "name"} for r in records]


def weights(run_dir):
    return load_file(str(run_dir / "final" / "model.safetensors"))


@pytest.fixture(scope="module")
def grpo_run(tmp_path_factory, tiny_model_dir):
    return train(config(tmp_path_factory.mktemp("grpo"), tiny_model_dir, "grpo"))


def test_grpo_logs_collapse_metrics_every_step(grpo_run):
    records = read_metrics(grpo_run.run_dir)
    assert [r["step"] for r in records] == [1, 2]
    for key in ("tokens_per_turn_mean", "tokens_per_turn_max", "tokens_per_episode_mean", "turns_per_episode",
                "tool_calls_per_episode", "tool_call_validity", "monologue_rate", "reward_mean", "reward_std",
                "success_rate", "entropy", "step_time_s", "loss"):
        assert key in records[0], key
    summary = json.loads((grpo_run.run_dir / "summary.json").read_text())
    assert {"length_explosion_ratio", "length_slope", "tool_use_erosion"} <= set(summary)
    assert (grpo_run.run_dir / "config.yaml").exists() and (grpo_run.run_dir / "environment.json").exists()


def test_same_config_same_metrics(tmp_path, tiny_model_dir, grpo_run):
    again = train(config(tmp_path, tiny_model_dir, "grpo"))
    assert stable(again.metrics) == stable(grpo_run.metrics)
    a, b = weights(again.run_dir), weights(grpo_run.run_dir)
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_ttopd_with_zero_beta_reproduces_grpo_exactly(tmp_path, tiny_model_dir, grpo_run):
    zero = train(config(tmp_path, tiny_model_dir, "ttopd0", method="ttopd", **{"teacher.beta": 0.0}))
    assert stable(zero.metrics) == stable(grpo_run.metrics)
    assert all("kl_teacher_per_turn" in r for r in zero.metrics)  # the teacher is still scored and logged
    a, b = weights(zero.run_dir), weights(grpo_run.run_dir)
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_ttopd_adds_a_per_turn_kl_and_moves_the_ema_teacher(tmp_path, tiny_model_dir, grpo_run):
    run = train(config(tmp_path, tiny_model_dir, "ttopd", method="ttopd", checkpoint_every=2,
                       **{"teacher.beta": 1.0, "teacher.ema_rate": 0.5, "teacher.truncate_tokens": 8}))
    assert all(math.isfinite(r["kl_teacher_per_turn"]) for r in run.metrics)
    assert stable(run.metrics)[1]["loss"] != stable(grpo_run.metrics)[1]["loss"]
    teacher = torch.load(run.run_dir / "checkpoint-2" / "teacher.pt", weights_only=True)
    student = weights(run.run_dir)
    initial = load_file(str(tiny_model_dir / "model.safetensors"))
    moved = [k for k in student if k in teacher and not torch.equal(teacher[k], initial[k])]
    assert moved, "the EMA teacher never moved"
    assert any(not torch.equal(teacher[k], student[k]) for k in moved), "the teacher should lag the student"


def test_ttopd_with_lora_keeps_an_ema_teacher_adapter(tmp_path, tiny_model_dir):
    """With LoRA the teacher is a second adapter on the same base model (TRL's PEFTAdapterEMACallback):
    it is saved beside the student's, has moved from its zero-initialised B matrices and lags the student."""
    run = train(config(tmp_path, tiny_model_dir, "lora", method="ttopd", **{
        "teacher.beta": 1.0, "teacher.ema_rate": 0.5, "lora": {"r": 4, "alpha": 8, "target_modules": ["q_proj", "v_proj"]}}))
    assert all(math.isfinite(r["kl_teacher_per_turn"]) for r in run.metrics)
    student = load_file(str(run.run_dir / "final" / "adapter_model.safetensors"))
    teacher = load_file(str(run.run_dir / "final" / "teacher" / "adapter_model.safetensors"))
    assert set(teacher) == set(student)
    b = [k for k in student if "lora_B" in k]
    assert b and all(teacher[k].abs().sum() > 0 for k in b)
    assert any(not torch.equal(teacher[k], student[k]) for k in b)
    assert not (run.run_dir / "final" / "model.safetensors").exists()  # the base weights were not trained


def test_resume_continues_exactly(tmp_path, tiny_model_dir):
    straight = train(config(tmp_path / "a", tiny_model_dir, "r", steps=4, method="ttopd", **{"teacher.beta": 0.5}))
    cfg = config(tmp_path / "b", tiny_model_dir, "r", steps=2, method="ttopd", checkpoint_every=2,
                 **{"teacher.beta": 0.5})
    train(cfg, save_final=False)
    resumed = train(cfg.model_copy(update={"steps": 4}), resume=True)
    assert stable(resumed.metrics) == stable(straight.metrics)


def test_nan_loss_skips_the_step_and_is_logged(tmp_path, tiny_model_dir):
    """A diverged EMA teacher (NaN weights in its checkpoint) makes the loss NaN: the step is
    skipped and logged, and the policy's weights stay as they were."""
    cfg = config(tmp_path, tiny_model_dir, "nan", steps=1, method="ttopd", checkpoint_every=1,
                 **{"teacher.beta": 0.5})
    train(cfg, save_final=False)
    teacher_file = cfg.run_dir() / "checkpoint-1" / "teacher.pt"
    teacher = torch.load(teacher_file, weights_only=True)
    torch.save({k: torch.full_like(v, float("nan")) for k, v in teacher.items()}, teacher_file)
    run = train(cfg.model_copy(update={"steps": 2}), resume=True)
    assert run.nan_steps == [2]
    assert run.metrics[-1]["step"] == 2 and run.metrics[-1]["nan_loss_skipped"] == 1.0
    before = load_file(str(cfg.run_dir() / "checkpoint-1" / "model.safetensors"))
    after = weights(run.run_dir)
    assert all(torch.equal(before[k], after[k]) for k in after)


def test_bad_configs_are_refused_before_training(tmp_path, tiny_model_dir):
    from medgym.train.config import ConfigError

    with pytest.raises(ConfigError, match="teacher.beta"):
        config(tmp_path, tiny_model_dir, "x", **{"teacher.beta": -1})
    with pytest.raises(ValueError, match="no train tasks match"):
        train(config(tmp_path, tiny_model_dir, "x", **{"tasks.specialties": ["dermatology"]}))
    with pytest.raises(FileNotFoundError, match="no checkpoint"):
        train(config(tmp_path, tiny_model_dir, "y"), resume=True)


def test_teacher_scores_only_the_counted_positions_and_matches_trls_scoring(tmp_path, tiny_model_dir):
    """The teacher's fast pass (backbone up to the last counted token, LM head on the counted
    positions only) gives TRL's log-probabilities at every position the KL counts, and 0 elsewhere."""
    from medgym.train.run import load_policy, select_tasks
    from medgym.train.trainer import MedGymGRPOTrainer

    cfg = config(tmp_path, tiny_model_dir, "teacher", steps=1, method="ttopd",
                 **{"teacher.beta": 1.0, "teacher.truncate_tokens": 4, "rollout.temperature": 1.5})
    model, tokenizer = load_policy(cfg)
    tasks = select_tasks(cfg)[:2]
    trainer = MedGymGRPOTrainer(cfg, model, tokenizer, tasks, str(tmp_path / "out"))
    batch = trainer._generate_and_score_completions([{"prompt": t.id} for t in tasks for _ in range(2)])
    counted = batch["ttopd_turn_ids"] >= 0
    assert counted.any() and not counted.all()
    fast, full = trainer._teacher_logps(batch), trainer._teacher_logps_trl(batch)
    assert torch.allclose(fast[counted], full[counted], atol=1e-4)
    assert (fast[~counted] == 0).all() and (full[counted] < 0).all()


def test_latest_checkpoint_is_the_last_one_the_trainer_finished(tmp_path):
    """A checkpoint without its trainer state (the trainer's last file: a run killed while saving) is
    skipped; checkpoints are ordered by step, not by name."""
    assert latest_checkpoint(tmp_path) is None
    for step, complete in ((2, True), (9, True), (10, False)):
        folder = tmp_path / f"checkpoint-{step}"
        folder.mkdir()
        (folder / "model.safetensors").write_bytes(b"")
        if complete:
            (folder / "trainer_state.json").write_text("{}")
    assert latest_checkpoint(tmp_path).name == "checkpoint-9"
    (tmp_path / "checkpoint-10" / "trainer_state.json").write_text("{}")
    assert latest_checkpoint(tmp_path).name == "checkpoint-10"
