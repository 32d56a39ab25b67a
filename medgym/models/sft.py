"""Supervised warm start with TRL's `SFTTrainer`, loss on assistant tokens only."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Sequence
from typing import Any

from medgym.models.config import SFTSettings
from medgym.models.trajectories import Trajectory


def sft_dataset(trajectories: Sequence[Trajectory], detours: bool = True, system: bool = True) -> Any:
    """A `datasets.Dataset` in TRL's conversational format (`messages`, `tools`); `detours=False`
    leaves the detour turns out, `system=False` the system prompt and the tool list."""
    from datasets import Dataset

    return Dataset.from_list([t.as_sft_row(detours, system) for t in trajectories])


def final_span(labelled: Any) -> Any:
    """Per row of a boolean label mask, the last contiguous run of labelled positions: the
    episode's last assistant turn (its final call) in an assistant-only row."""
    import torch

    starts = labelled & ~torch.nn.functional.pad(labelled, (1, 0))[:, :-1]
    index = torch.arange(labelled.shape[1], device=labelled.device)
    last_start = torch.where(starts, index, torch.full_like(index, -1)).max(dim=1, keepdim=True).values
    return labelled & (index >= last_start)


def _trainer_class(final_call_weight: float = 1.0) -> type:
    """TRL's `SFTTrainer`, computing the loss from the logits of the labelled positions only.

    TRL's fused LM head keeps only the labelled positions on Triton devices; elsewhere (CPU) it
    projects every position through the LM head and computes entropy and top-1 metrics for all of
    them. In the assistant-only phase about one token in eight carries loss, so this subclass asks
    the model for those positions' logits alone (`logits_to_keep` with their indices) and takes the
    cross-entropy over them: the same loss, about half the step time on CPU
    (`benchmarks/sft_step.py`). Token accuracy is still logged; entropy is not.

    `final_call_weight` multiplies the loss of each row's last labelled span (the final call: the
    answer) and counts those tokens that many times in the normalizer; 1 is plain cross-entropy.
    """
    import torch
    import torch.nn.functional as F
    from trl import SFTTrainer

    class AssistantTokenSFTTrainer(SFTTrainer):
        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
            targets = inputs["labels"][:, 1:]
            # positions whose next token is labelled in any row (one index set for the whole batch)
            keep = (targets != -100).any(dim=0).nonzero().squeeze(1)
            outputs = model(**{k: v for k, v in inputs.items() if k != "labels"}, use_cache=False, logits_to_keep=keep)
            logits, labels = outputs.logits, targets[:, keep]
            labelled = labels != -100
            count = labelled.sum()
            if final_call_weight == 1.0:
                total = F.cross_entropy(logits.flatten(0, 1).float(), labels.flatten(), ignore_index=-100, reduction="sum")
                norm = num_items_in_batch if num_items_in_batch is not None else count.clamp(min=1)
            else:
                final = final_span(targets != -100)[:, keep]  # runs in sequence positions, not kept columns
                weight = 1.0 + (final_call_weight - 1.0) * final.float()
                token = F.cross_entropy(logits.flatten(0, 1).float(), labels.flatten(), ignore_index=-100, reduction="none")
                total = (token * weight.flatten()).sum()
                weighted = (weight * labelled).sum()
                # num_items_in_batch counts the labelled tokens of the whole accumulated batch: scale it by this
                # micro-batch's weighting, so that accumulated steps still add up to one weighted mean
                norm = (num_items_in_batch * weighted / count.clamp(min=1) if num_items_in_batch is not None
                        else weighted.clamp(min=1))
            loss = total / norm
            if self.args.average_tokens_across_devices and num_items_in_batch is not None:
                loss = loss * self.accelerator.num_processes
            mode = "train" if model.training else "eval"
            with torch.no_grad():
                correct = ((logits.argmax(-1) == labels) & labelled).sum()
            self._metrics[mode]["mean_token_accuracy"].append((correct / count.clamp(min=1)).item())
            return (loss, outputs) if return_outputs else loss

    return AssistantTokenSFTTrainer


def _weight_average_callback(model: Any, decay: float) -> Any:
    """A `TrainerCallback` that keeps an exponential moving average of `model`'s weights (torch's
    `AveragedModel`), updated after every optimizer step, and copies it into `model` when training
    ends (Polyak averaging: the average of the late iterates, not the last noisy one)."""
    from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn
    from transformers import TrainerCallback

    class WeightAverage(TrainerCallback):
        def on_train_begin(self, args, state, control, **kwargs):  # the model is on its device by now
            self.average = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(decay), use_buffers=True)

        def on_step_end(self, args, state, control, **kwargs):
            self.average.update_parameters(model)

        def on_train_end(self, args, state, control, **kwargs):
            model.load_state_dict(self.average.module.state_dict())

    return WeightAverage()


def _run_args(out: str, seed: int, progress: bool) -> dict[str, Any]:
    """The training arguments both phases share: no checkpoints or reporting, seeded, bf16 on GPU."""
    import torch

    cuda = torch.cuda.is_available()
    return {"output_dir": out, "save_strategy": "no", "report_to": "none", "seed": seed, "data_seed": seed,
            "use_cpu": not cuda, "bf16": cuda, "disable_tqdm": not progress}


def _train(trainer: Any) -> dict[str, float]:
    """Run `trainer` and return its metrics: wall time, mean loss, last logged loss, optimizer steps."""
    start = time.perf_counter()
    result = trainer.train()
    seconds = time.perf_counter() - start
    history = [h["loss"] for h in trainer.state.log_history if "loss" in h]
    return {
        "train_seconds": round(seconds, 1),
        "train_loss": float(result.training_loss),
        "final_logged_loss": float(history[-1]) if history else float("nan"),
        "steps": int(trainer.state.global_step),
    }


def copy_warmup(model: Any, tokenizer: Any, settings: SFTSettings, seed: int = 0, progress: bool = True) -> dict[str, float]:
    """Train `model` in place on a synthetic copying task; return the training metrics.

    Each example is a sequence of `settings.copy_length` tokens drawn uniformly from the ordinary
    vocabulary, followed by the same sequence again, with loss on the repeat only (its first token
    excepted): the only way to predict it is to find the current token earlier in the context and
    copy the one that followed it there. This is the task on which transformers form induction heads
    (Olsson et al. 2022, "In-context learning and induction heads"), the attention circuit that
    copies from context. The demonstrations alone (a few million tokens) are too few for it to form,
    and the default model then wrote each domain's usual argument values instead of the ones in the
    tool results before it. Formed this way (300 steps), they did not change that, and held-out
    success stayed the same (README); the build leaves it off by default. Trained with transformers'
    `Trainer` at a constant learning rate and without gradient clipping: clipped at 1.0 (the Trainer's
    default), 400 steps left the loss at 4.4 instead of near 0.
    """
    import torch
    from datasets import Dataset
    from transformers import Trainer, TrainingArguments

    special = set(tokenizer.all_special_ids) | set(tokenizer.added_tokens_decoder)
    vocab = torch.tensor([i for i in range(len(tokenizer)) if i not in special])
    n, length = settings.copy_steps * settings.copy_batch_size, settings.copy_length
    generator = torch.Generator().manual_seed(seed)
    half = vocab[torch.randint(len(vocab), (n, length), generator=generator)]
    ids = torch.cat([half, half], dim=1)
    labels = ids.clone()
    labels[:, : length + 1] = -100
    dataset = Dataset.from_dict({"input_ids": ids.tolist(), "labels": labels.tolist()})
    with tempfile.TemporaryDirectory(prefix="medgym-copy-") as out:
        args = TrainingArguments(
            max_steps=settings.copy_steps, per_device_train_batch_size=settings.copy_batch_size,
            learning_rate=settings.copy_learning_rate, lr_scheduler_type="constant", max_grad_norm=0.0,
            logging_steps=25, **_run_args(out, seed, progress),
        )
        return _train(Trainer(model=model, args=args, train_dataset=dataset))


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
    packing), which gives more optimizer steps for the same tokens; detour turns
    (mistakes the demonstrator made on purpose) are then left out, since every
    token would carry loss, and so are the system prompt and the tool list unless
    `settings.pretrain_system_prompt`.
    """
    from trl import SFTConfig

    if not trajectories:
        raise ValueError("no trajectories to train on; check the data selection (domains, split, trajectories)")
    with tempfile.TemporaryDirectory(prefix="medgym-sft-") as out:
        args = SFTConfig(
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
            dataset_num_proc=None,
            **_run_args(out, seed, progress),
        )
        callbacks = [_weight_average_callback(model, settings.weight_average)] if settings.weight_average else None
        dataset = sft_dataset(trajectories, detours=assistant_only,
                              system=assistant_only or settings.pretrain_system_prompt)
        weight = settings.final_call_weight if assistant_only else 1.0
        trainer = _trainer_class(weight)(model=model, args=args, train_dataset=dataset, processing_class=tokenizer,
                                   callbacks=callbacks)
        return {**_train(trainer), "examples": len(trajectories)}
