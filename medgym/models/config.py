"""The build configuration of the default model (defaults in `default.yaml`)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ArchitectureConfig(_Section):
    """Sizes of the transformer (passed to `LlamaConfig`)."""

    hidden_size: int = Field(256, ge=16)
    num_hidden_layers: int = Field(4, ge=1)
    num_attention_heads: int = Field(4, ge=1)
    num_key_value_heads: int = Field(2, ge=1)
    intermediate_size: int = Field(768, ge=16)
    max_position_embeddings: int = Field(4096, ge=256)


class TokenizerConfig(_Section):
    vocab_size: int = Field(8192, ge=512)
    max_token_chars: int = Field(32, ge=2, description="longest merged token, in characters")
    word_runs: bool = Field(True, description="merges stay inside runs of words or of punctuation (a name is the "
                                              "same tokens everywhere); False: merges may cross them (shorter text)")


class DataConfig(_Section):
    """Which oracle trajectories the warm start trains on."""

    source: Literal["oracle", "scripted"] = "oracle"
    split: Literal["train", "val", "test", "heldout"] = "train"
    domains: tuple[str, ...] | None = None
    trajectories: int = Field(160, ge=1, description="episodes in total, balanced across domains and conditions")
    pretrain_trajectories: int = Field(0, ge=0, description="more episodes (other tasks, the same balance) that only "
                                       "the pretraining phase sees: more cases for the same price per token")
    case_records: int = Field(0, ge=0, description="opening-and-answer records of more training tasks (the "
                              "presentation, then the demonstrated submissions, no work-up) for the pretraining "
                              "phase only: the answers of more cases at about a tenth of an episode's tokens")
    max_tokens: int = Field(3072, ge=64, description="longer episodes are left out")
    patient_matcher: Literal["hybrid", "lexical"] = "lexical"
    detours: float = Field(0.0, ge=0, le=0.5, description="chance per demonstrated step of a detour first (an "
                           "unknown tool or a repeated call, no loss on it): demonstrations of recovery")

    @field_validator("domains")
    @classmethod
    def _known_domains(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        from medgym.domains import DOMAINS

        unknown = [d for d in value or () if d not in DOMAINS]
        if unknown:
            raise ValueError(f"unknown domain(s) {', '.join(unknown)}; choose from {', '.join(DOMAINS)}")
        return tuple(value) if value else None


class SFTSettings(_Section):
    """Warm start with TRL `SFTTrainer`: `pretrain_epochs` with loss on every token, then `epochs` on the assistant's tokens only.
    Before both, `copy_steps` of a synthetic copying task (`medgym.models.sft.copy_warmup`)."""

    copy_steps: int = Field(0, ge=0, description="optimizer steps of the copying warm-up (0: off): random token "
                            "sequences, each repeated once, loss on the repeat")
    copy_length: int = Field(32, ge=2, description="tokens per random sequence in the copying warm-up")
    copy_batch_size: int = Field(16, ge=1)
    copy_learning_rate: float = Field(3e-3, gt=0)
    pretrain_epochs: float = Field(2, ge=0, description="epochs of loss on every token before the assistant-only epochs")
    pretrain_block_size: int = Field(256, ge=16, description="tokens per packed block in the pretraining epochs")
    pretrain_system_prompt: bool = Field(True, description="pretrain on the system prompt and tool list too (False: "
                                         "on the conversation only; the tool list is the same in every episode of a "
                                         "domain, most of the tokens, and the assistant-only epochs still see it)")
    epochs: float = Field(4, gt=0)
    batch_size: int = Field(1, ge=1)
    gradient_accumulation_steps: int = Field(1, ge=1)
    learning_rate: float = Field(2e-3, gt=0)
    warmup_ratio: float = Field(0.05, ge=0, lt=1)
    weight_decay: float = Field(0.0, ge=0)
    final_call_weight: float = Field(1.0, ge=1, description="in the assistant-only epochs, the loss weight of each "
                                     "episode's final call (the answer) against 1 for the other assistant tokens")
    weight_average: float = Field(0.0, ge=0, lt=1, description="decay of an exponential moving average of the "
                                  "weights, updated every optimizer step, that replaces them at the end of each "
                                  "phase (0: off, keep the last weights)")


class BuildConfig(_Section):
    """Everything that determines the built model; its fingerprint keys the cache."""

    # Llama only: transformers >= 5 loads every `qwen2` model directory's tokenizer as `Qwen2Tokenizer`,
    # which replaces the trained pre-tokenizer with Qwen's, so a Qwen2 build would not round-trip.
    architecture: Literal["llama"] = "llama"
    model: ArchitectureConfig = ArchitectureConfig()
    tokenizer: TokenizerConfig = TokenizerConfig()
    data: DataConfig = DataConfig()
    sft: SFTSettings = SFTSettings()
    seed: int = 0

    @classmethod
    def load(cls, path: str | Path | None = None, **overrides: Any) -> "BuildConfig":
        """The config in `path` (default: the packaged `default.yaml`), with dotted-key overrides,
        e.g. `BuildConfig.load(**{"data.trajectories": 64})`."""
        if path is None:
            text = resources.files("medgym.models").joinpath("default.yaml").read_text(encoding="utf-8")
            where = "medgym/models/default.yaml"
        else:
            p = Path(path)
            if not p.is_file():
                raise FileNotFoundError(f"model config {p} does not exist; pass a YAML file like medgym/models/default.yaml")
            text, where = p.read_text(encoding="utf-8"), str(p)
        try:
            data = yaml.safe_load(text) or {}
        except yaml.YAMLError as exc:
            raise ValueError(f"model config {where} is not valid YAML: {exc}") from None
        if not isinstance(data, dict):
            raise ValueError(f"model config {where} must be a mapping of sections, got {type(data).__name__}")
        for key, value in overrides.items():
            _set_dotted(data, key, value)
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
            raise ValueError(f"invalid model config ({where}): {problems}") from None

    def transformers_config(self, tokenizer: Any) -> Any:
        """The transformers model config for this build and tokenizer."""
        from transformers import LlamaConfig

        return LlamaConfig(
            vocab_size=len(tokenizer),
            **self.model.model_dump(),
            tie_word_embeddings=True,
            bos_token_id=None,
            eos_token_id=tokenizer.eos_token_id,
            pad_token_id=tokenizer.pad_token_id,
        )


def _set_dotted(data: dict[str, Any], key: str, value: Any) -> None:
    *parents, last = key.split(".")
    node = data
    for part in parents:
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            raise ValueError(f"cannot set {key!r}: {part!r} is not a section")
    node[last] = value
