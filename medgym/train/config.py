"""Training run configuration: one YAML file per run.

Unknown keys and bad values are rejected with a message naming the key, e.g.
`teacher.beta: Input should be greater than or equal to 0`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TaskSelection(_Section):
    """Which tasks the run trains on."""

    domains: list[str] | None = None
    specialties: list[str] | None = None
    task_types: list[str] | None = None
    split: str = "train"
    limit: int | None = Field(default=None, ge=1)


class RolloutSettings(_Section):
    """Limits and sampling for the rollouts of each step."""

    max_turns: int = Field(default=12, ge=1)
    max_turn_tokens: int = Field(default=96, ge=1)
    max_episode_tokens: int = Field(default=2048, ge=16)
    temperature: float = Field(default=1.0, gt=0)
    top_p: float = Field(default=1.0, gt=0, le=1)
    top_k: int = Field(default=0, ge=0)
    batch_size: int = Field(default=16, ge=1)
    patient_matcher: Literal["hybrid", "lexical"] = "lexical"
    constrain_tool_names: bool = False  # tool calls may only name the offered tools (medgym.tools.constrain)
    submit_on_last_turn: bool = False  # a call in the last allowed turn may only name the task's final tool


class TeacherSettings(_Section):
    """TT-OPD: the EMA teacher with privileged outcome information, and its per-turn KL term.

    beta weights the KL term (beta_success / beta_failure override it for successful
    and failed rollouts); truncate_tokens is L, the first tokens of each assistant
    turn that carry the KL (None = no truncation); per_turn False uses one
    sequence-level KL instead; privileged False hides the outcome block from the
    teacher; teacher "frozen" keeps the initial weights instead of an EMA.
    """

    beta: float = Field(default=0.1, ge=0)
    beta_success: float | None = Field(default=None, ge=0)
    beta_failure: float | None = Field(default=None, ge=0)
    truncate_tokens: int | None = Field(default=32, ge=1)
    per_turn: bool = True
    privileged: bool = True
    teacher: Literal["ema", "frozen"] = "ema"
    ema_rate: float = Field(default=0.05, gt=0, le=1)
    sync_steps: int = Field(default=1, ge=1)


class LoraSettings(_Section):
    r: int = Field(default=8, ge=1)
    alpha: int = Field(default=16, ge=1)
    dropout: float = Field(default=0.0, ge=0, lt=1)
    target_modules: list[str] | str = "all-linear"


class TrainConfig(_Section):
    """A GRPO or TT-OPD run."""

    name: str = "run"
    method: Literal["grpo", "ttopd"] = "grpo"
    seed: int = 0
    model: str = "default"
    lora: LoraSettings | None = None
    steps: int = Field(default=20, ge=1)
    tasks_per_step: int = Field(default=4, ge=1)
    group_size: int = Field(default=4, ge=2)
    learning_rate: float = Field(default=1e-5, gt=0)
    reward: str | dict[str, float] = "terminal"
    loss_type: Literal["grpo", "dapo", "dr_grpo", "bnpo"] = "grpo"
    kl_beta: float = Field(default=0.0, ge=0, description="GRPO's KL to the reference model")
    epsilon: float = Field(default=0.2, gt=0)
    scale_rewards: Literal["group", "batch", "none"] = "group"
    max_grad_norm: float = Field(default=1.0, gt=0)
    checkpoint_every: int = Field(default=0, ge=0, description="0 = only at the end")
    output_dir: str | None = None
    bf16: Literal["auto", "on", "off"] = "auto"
    tasks: TaskSelection = Field(default_factory=TaskSelection)
    rollout: RolloutSettings = Field(default_factory=RolloutSettings)
    teacher: TeacherSettings = Field(default_factory=TeacherSettings)

    @model_validator(mode="after")
    def _check(self) -> "TrainConfig":
        from medgym.rewards import resolve_preset

        resolve_preset(self.reward)
        return self

    def run_dir(self) -> Path:
        from medgym.paths import runs_dir

        return Path(self.output_dir) if self.output_dir else runs_dir() / self.name

    def rollout_config(self) -> Any:
        """The rollout engine's `RolloutConfig`: every rollout setting under its own name, and the reward."""
        from medgym.rollout import RolloutConfig

        return RolloutConfig(**self.rollout.model_dump(), reward=self.reward)


class ConfigError(ValueError):
    """A config file that cannot be used; the message names the key."""


def parse_config(data: dict[str, Any], where: str = "config") -> TrainConfig:
    """Validate a config mapping; errors name each offending key."""
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: expected a mapping of keys to values, got {type(data).__name__}")
    try:
        return TrainConfig.model_validate(data)
    except ValidationError as exc:
        problems = []
        for e in exc.errors():
            key = ".".join(str(p) for p in e["loc"]) or "(top level)"
            message = "unknown key" if e["type"] == "extra_forbidden" else e["msg"]
            problems.append(f"{key}: {message}")
        raise ConfigError(f"{where}: " + "; ".join(problems)) from None
    except ValueError as exc:  # a model validator (e.g. an unknown reward preset)
        raise ConfigError(f"{where}: {exc}") from None


def load_config(path: str | Path, overrides: dict[str, Any] | None = None) -> TrainConfig:
    """Read a YAML config file, apply dotted-key overrides ({"teacher.beta": 0}), validate."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({exc})") from None
    for dotted, value in (overrides or {}).items():
        target = data
        *parents, leaf = dotted.split(".")
        for p in parents:
            target = target.setdefault(p, {})
        target[leaf] = value
    return parse_config(data, str(path))
