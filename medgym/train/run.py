"""Run a training config: `medgym train CONFIG [--resume] [--set key=value]`.

Also runs under accelerate unchanged: `accelerate launch -m medgym.train.run CONFIG`.
A run directory holds the resolved `config.yaml`, `metrics.jsonl` (one JSON
object per step, written as the step ends), checkpoints, the final model and
`summary.json` (length explosion and tool-use erosion against step 0).
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from transformers import TrainerCallback

from medgym import runlog
from medgym.experiment import environment, parse_overrides
from medgym.metrics import collapse_summary
from medgym.runlog import METRICS_FILE
from medgym.train.config import TrainConfig, load_config

MetricsCallback = Callable[[dict[str, Any]], None]
LOGGED = (
    "loss", "reward", "reward_std", "entropy", "grad_norm", "learning_rate", "kl", "clip_ratio/region_mean",
    "tokens_per_turn_mean", "tokens_per_turn_max", "tokens_per_episode_mean", "tokens_per_episode_std",
    "tokens_per_episode_max", "turns_per_episode", "tool_calls_per_episode", "tool_call_validity",
    "monologue_rate", "reward_mean", "success_rate", "truncated_rate", "kl_teacher_per_turn",
    "kl_teacher_per_episode", "nan_loss_skipped",
)


def read_metrics(run_dir: str | Path) -> list[dict[str, Any]]:
    """The per-step records of a run (a torn last line from an interrupted write is skipped)."""
    path = Path(run_dir) / METRICS_FILE
    return runlog.read_metrics(path)[0] if path.exists() else []


class MetricsWriter(TrainerCallback):
    """Appends one record per optimizer step to metrics.jsonl and passes it to subscribers."""

    def __init__(self, run_dir: Path, config: TrainConfig, subscribers: Sequence[MetricsCallback] = ()) -> None:
        self.run_dir = run_dir
        self.config = config
        self.subscribers = list(subscribers)
        self._step_start = time.perf_counter()

    def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        # On resume, drop records past the checkpoint: those steps run again, identically.
        kept = [r for r in read_metrics(self.run_dir) if r.get("step", 0) <= state.global_step]
        (self.run_dir / METRICS_FILE).write_text("".join(json.dumps(r, sort_keys=True) + "\n" for r in kept))

    def on_step_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        self._step_start = time.perf_counter()

    def on_log(self, args: Any, state: Any, control: Any, logs: dict[str, Any] | None = None, **kwargs: Any) -> None:
        if not logs or "loss" not in logs or not state.is_world_process_zero:
            return
        record: dict[str, Any] = {"step": state.global_step, "method": self.config.method, "seed": self.config.seed,
                                  "name": self.config.name}
        record.update({k: float(logs[k]) for k in LOGGED if isinstance(logs.get(k), (int, float))})
        record["step_time_s"] = time.perf_counter() - self._step_start
        runlog.append_metrics(self.run_dir, record)
        for fn in self.subscribers:
            fn(dict(record))


@dataclass
class TrainResult:
    run_dir: Path
    metrics: list[dict[str, Any]]
    summary: dict[str, Any]
    nan_steps: list[int]


def select_tasks(config: TrainConfig) -> list[Any]:
    from medgym.encounter import stable_seed
    from medgym.tasks import load_tasks

    sel = config.tasks
    tasks = [
        t for t in load_tasks(split=sel.split)
        if (sel.domains is None or t.domain in sel.domains)
        and (sel.specialties is None or t.specialty in sel.specialties)
        and (sel.task_types is None or t.task_type in sel.task_types)
    ]
    if not tasks:
        raise ValueError(f"tasks: no {sel.split} tasks match {sel.model_dump(exclude_none=True)}")
    tasks.sort(key=lambda t: stable_seed(config.seed, "task-order", t.id))
    return tasks[: sel.limit] if sel.limit else tasks


def load_policy(config: TrainConfig) -> tuple[Any, Any]:
    from medgym.agents.hf import load_model

    path = None if config.model == "default" else config.model
    model, tokenizer = load_model(path, dtype="float32" if config.bf16 == "off" else None)
    model.train()
    return model, tokenizer


def latest_checkpoint(run_dir: Path) -> Path | None:
    """The run's last complete checkpoint: one the trainer finished writing (its `trainer_state.json`,
    written last, is there), so a run killed while saving resumes from the checkpoint before."""
    from transformers.trainer import TRAINER_STATE_NAME

    complete = [p for p in run_dir.glob("checkpoint-*") if p.name.split("-")[-1].isdigit()
                and (p / TRAINER_STATE_NAME).is_file()]
    return max(complete, key=lambda p: int(p.name.split("-")[-1]), default=None)


def train(
    config: TrainConfig,
    resume: bool = False,
    metrics_callbacks: Sequence[MetricsCallback] = (),
    save_final: bool = True,
) -> TrainResult:
    """Train one run; returns its directory, per-step metrics and collapse summary."""
    from transformers import set_seed

    from medgym.train.checkpoint import TeacherCheckpoint
    from medgym.train.trainer import MedGymGRPOTrainer

    run_dir = config.run_dir()
    run_dir.mkdir(parents=True, exist_ok=True)
    checkpoint = latest_checkpoint(run_dir) if resume else None
    if resume and checkpoint is None:
        raise FileNotFoundError(f"--resume: no checkpoint in {run_dir}; start the run without --resume")
    if not resume and read_metrics(run_dir):
        raise FileExistsError(f"{run_dir} already holds a run; pass --resume to continue it, or choose another "
                              "output_dir / name")
    (run_dir / "config.yaml").write_text(yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False))
    (run_dir / "environment.json").write_text(json.dumps(environment(Path(__file__).parent), indent=2) + "\n")
    set_seed(config.seed)
    model, tokenizer = load_policy(config)
    peft_config = None
    if config.lora is not None:
        from peft import LoraConfig

        peft_config = LoraConfig(r=config.lora.r, lora_alpha=config.lora.alpha, lora_dropout=config.lora.dropout,
                                 target_modules=config.lora.target_modules, task_type="CAUSAL_LM")
    writer = MetricsWriter(run_dir, config, metrics_callbacks)
    trainer = MedGymGRPOTrainer(config, model, tokenizer, select_tasks(config), str(run_dir),
                                peft_config=peft_config, callbacks=[writer])
    if trainer.teacher_model is not None and trainer.teacher_model is not trainer.model:
        trainer.add_callback(TeacherCheckpoint(trainer.teacher_model))
    trainer.train(resume_from_checkpoint=str(checkpoint) if checkpoint else None)
    if save_final:
        trainer.save_model(str(run_dir / "final"))
        tokenizer.save_pretrained(str(run_dir / "final"))
    metrics = read_metrics(run_dir)
    summary = {**collapse_summary(metrics), "nan_steps": trainer.nan_steps,
               "final_success_rate": metrics[-1].get("success_rate"), "method": config.method, "seed": config.seed}
    (run_dir / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    return TrainResult(run_dir, metrics, summary, trainer.nan_steps)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The `medgym train` arguments."""
    parser.add_argument("config", help="a YAML training config (see experiments/train/)")
    parser.add_argument("--resume", action="store_true", help="continue from the run's latest checkpoint")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override a config key, e.g. --set teacher.beta=0.2 (repeatable)")


def run_command(args: argparse.Namespace) -> int:
    """Train from parsed arguments; a bad config or run directory is reported in one line (exit 2)."""
    import sys

    try:
        config = load_config(args.config, parse_overrides(args.set))
        result = train(config, resume=args.resume)
    except (ValueError, FileExistsError, FileNotFoundError) as exc:  # ConfigError, ExperimentError are ValueErrors
        print(f"medgym train: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(result.summary, indent=2))
    print(f"run directory: {result.run_dir}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="medgym train", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(parser)
    return run_command(parser.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
