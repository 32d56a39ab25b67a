"""Supervised warm start with TRL's `SFTTrainer`, loss on assistant tokens only."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Sequence
from typing import Any

from medgym.models.config import SFTSettings
from medgym.models.trajectories import Trajectory


def sft_dataset(trajectories: Sequence[Trajectory]) -> Any:
    """A `datasets.Dataset` in TRL's conversational format (`messages`, `tools`)."""
    from datasets import Dataset

    return Dataset.from_list([t.as_sft_row() for t in trajectories])


def warm_start(
    model: Any,
    tokenizer: Any,
    trajectories: Sequence[Trajectory],
    settings: SFTSettings = SFTSettings(),
    max_length: int = 2048,
    seed: int = 0,
    progress: bool = True,
    assistant_only: bool = True,
    block_size: int | None = None,
) -> dict[str, float]:
    """Fine-tune `model` in place on `trajectories` for `settings.epochs`; return the training metrics.

    TRL renders each conversation with the tokenizer's chat template and masks
    everything but the `{% generation %}` spans (the assistant's tool calls and
    its end-of-turn token), so the model learns to act and to stop, not to
    predict tool results or the patient's words. With `assistant_only=False`
    every token carries loss (language-model pretraining on the same text), and
    `block_size` packs the text into blocks of that many tokens (TRL's "wrapped"
    packing), which gives more optimizer steps for the same tokens.
    """
    import torch
    from trl import SFTConfig, SFTTrainer

    if not trajectories:
        raise ValueError("no trajectories to train on; check the data selection (domains, split, trajectories)")
    cuda = torch.cuda.is_available()
    with tempfile.TemporaryDirectory(prefix="medgym-sft-") as out:
        args = SFTConfig(
            output_dir=out,
            num_train_epochs=settings.epochs,
            per_device_train_batch_size=settings.batch_size,
            gradient_accumulation_steps=settings.gradient_accumulation_steps,
            learning_rate=settings.learning_rate,
            lr_scheduler_type="cosine",
            warmup_steps=settings.warmup_ratio,
            weight_decay=settings.weight_decay,
            max_length=block_size or max_length,
            packing=block_size is not None,
            packing_strategy="wrapped",
            assistant_only_loss=assistant_only,
            activation_checkpointing=False,  # TRL turns it on by default; this model is tiny
            train_sampling_strategy="group_by_length",
            logging_steps=10,
            save_strategy="no",
            report_to="none",
            seed=seed,
            data_seed=seed,
            use_cpu=not cuda,
            bf16=cuda,
            disable_tqdm=not progress,
            dataset_num_proc=None,
        )
        trainer = SFTTrainer(model=model, args=args, train_dataset=sft_dataset(trajectories), processing_class=tokenizer)
        start = time.perf_counter()
        result = trainer.train()
        seconds = time.perf_counter() - start
    history = [h["loss"] for h in trainer.state.log_history if "loss" in h]
    return {
        "train_seconds": round(seconds, 1),
        "train_loss": float(result.training_loss),
        "final_logged_loss": float(history[-1]) if history else float("nan"),
        "steps": int(trainer.state.global_step),
        "examples": len(trajectories),
    }
