"""Run a training config: `medgym train CONFIG [--resume] [--set key=value]`.

Also runs under accelerate unchanged: `accelerate launch -m medgym.train.run CONFIG`.
A run directory holds the resolved `config.yaml`, `metrics.jsonl` (one JSON
object per step, written as the step ends), checkpoints, the final model and
`summary.json` (length explosion and tool-use erosion against step 0).
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from transformers import TrainerCallback

from medgym.metrics import collapse_summary
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
    """The per-step records of a run (tolerates a torn last line from an interrupted write)."""
    path = Path(run_dir) / "metrics.jsonl"
    if not path.exists():
        return []
    records = []
    for line in path.read_text().splitlines():
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return records


class MetricsWriter(TrainerCallback):
    """Appends one record per optimizer step to metrics.jsonl and passes it to subscribers."""

    def __init__(self, run_dir: Path, config: TrainConfig, subscribers: Sequence[MetricsCallback] = ()) -> None:
        self.path = run_dir / "metrics.jsonl"
        self.config = config
        self.subscribers = list(subscribers)
        self._step_start = time.perf_counter()

    def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        # On resume, drop records past the checkpoint: those steps run again, identically.
        kept = [r for r in read_metrics(self.path.parent) if r.get("step", 0) <= state.global_step]
        self.path.write_text("".join(json.dumps(r) + "\n" for r in kept))

    def on_step_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        self._step_start = time.perf_counter()

    def on_log(self, args: Any, state: Any, control: Any, logs: dict[str, Any] | None = None, **kwargs: Any) -> None:
        if not logs or "loss" not in logs or not state.is_world_process_zero:
            return
        record: dict[str, Any] = {"step": state.global_step, "method": self.config.method, "seed": self.config.seed,
                                  "name": self.config.name}
        record.update({k: float(logs[k]) for k in LOGGED if isinstance(logs.get(k), (int, float))})
        record["step_time_s"] = time.perf_counter() - self._step_start
        with self.path.open("a") as f:
            f.write(json.dumps(record) + "\n")
            f.flush()
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


def versions() -> dict[str, str]:
    import importlib.metadata as md

    out = {"python": platform.python_version()}
    for pkg in ("medgym", "torch", "transformers", "trl", "peft", "accelerate"):
        try:
            out[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            pass
    try:
        out["git"] = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True,
                                    cwd=Path(__file__).parent, timeout=10).stdout.strip()
    except OSError:
        pass
    return out


def latest_checkpoint(run_dir: Path) -> Path | None:
    checkpoints = sorted(run_dir.glob("checkpoint-*"), key=lambda p: int(p.name.split("-")[-1]))
    return checkpoints[-1] if checkpoints else None


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
    (run_dir / "versions.json").write_text(json.dumps(versions(), indent=2) + "\n")
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


def parse_overrides(pairs: Sequence[str]) -> dict[str, Any]:
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise ValueError(f"--set {pair!r}: write key=value, e.g. --set teacher.beta=0.1")
        out[key] = yaml.safe_load(value)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="medgym train", description=__doc__)
    parser.add_argument("config", help="a YAML training config (see experiments/)")
    parser.add_argument("--resume", action="store_true", help="continue from the run's latest checkpoint")
    parser.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE", help="override config keys")
    args = parser.parse_args(argv)
    config = load_config(args.config, parse_overrides(args.set))
    result = train(config, resume=args.resume)
    print(json.dumps(result.summary, indent=2))
    print(f"run directory: {result.run_dir}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
