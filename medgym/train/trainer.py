"""GRPO on MedGym encounters, and TT-OPD as its extension; both are TRL's `GRPOTrainer`.

The GRPO baseline is TRL's trainer with a `rollout_func` that plays whole
encounters with the rollout engine (`medgym.rollout`): groups of G rollouts per
task, an env mask so that only the model's own tokens carry loss, the episode
reward from a named preset, and TRL's loss types, KL options, peft and
accelerate support unchanged.

TT-OPD adds, at every assistant turn, a KL term toward a teacher: an EMA copy
of the policy (no gradients; TRL's `SyncTeacherModelCallback`, or
`PEFTAdapterEMACallback` for a LoRA teacher adapter) that reads the student's
context plus a block of privileged outcome information. The teacher scores the
student's own sampled tokens once per batch (no extra student forward: the
student's log-probabilities are taken from TRL's loss computation), and the
term from `medgym.train.distill` is added to the GRPO loss.
"""

from __future__ import annotations

import contextlib
import copy
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from trl import GRPOConfig, GRPOTrainer
from trl.experimental.sdpo.teacher_sync import PEFTAdapterEMACallback, SyncTeacherModelCallback

from medgym.metrics import EpisodeStats, step_metrics
from medgym.rollout import EpisodeRollout, RolloutEngine, to_trl
from medgym.encounter import stable_seed
from medgym.tasks.schema import Task
from medgym.train.config import TrainConfig
from medgym.train.distill import episode_beta, ttopd_loss, turn_index

TEACHER_ADAPTER = "teacher"
# Config fields of LM heads that scale or softcap their logits (Gemma 2, Cohere, Granite, ...): for these the
# teacher is scored through TRL's fused head, which applies them.
_SCALED_HEAD_KEYS = ("final_logit_softcapping", "logit_scale", "output_multiplier", "lm_head_multiplier",
                     "logits_scaling")


@dataclass
class MedGymGRPOConfig(GRPOConfig):
    """TRL's GRPOConfig plus the teacher-sync settings TRL's EMA callbacks read."""

    teacher_update_rate: float = field(default=0.05)
    teacher_sync_steps: int = field(default=1)


def grpo_args(config: TrainConfig, output_dir: str) -> MedGymGRPOConfig:
    """TRL arguments for a run: one generation batch (tasks_per_step x group_size episodes) per step."""
    use_bf16 = config.bf16 == "on" or (config.bf16 == "auto" and torch.cuda.is_available() and torch.cuda.is_bf16_supported())
    episodes = config.tasks_per_step * config.group_size
    return MedGymGRPOConfig(
        output_dir=output_dir,
        seed=config.seed,
        data_seed=config.seed,
        max_steps=config.steps,
        per_device_train_batch_size=episodes,
        gradient_accumulation_steps=1,
        steps_per_generation=1,
        num_iterations=1,
        num_generations=config.group_size,
        learning_rate=config.learning_rate,
        lr_scheduler_type="constant",
        warmup_steps=0,
        loss_type=config.loss_type,
        beta=config.kl_beta,
        epsilon=config.epsilon,
        scale_rewards=config.scale_rewards,
        max_grad_norm=config.max_grad_norm,
        temperature=config.rollout.temperature,
        top_p=config.rollout.top_p,
        top_k=config.rollout.top_k,
        max_completion_length=config.rollout.max_episode_tokens,
        mask_truncated_completions=False,
        logging_steps=1,
        logging_first_step=True,
        save_strategy="steps" if config.checkpoint_every else "no",
        save_steps=config.checkpoint_every or config.steps,
        save_only_model=False,
        report_to="none",
        bf16=use_bf16,
        remove_unused_columns=False,
        disable_dropout=True,
        dataloader_num_workers=0,
        shuffle_dataset=True,
        teacher_update_rate=config.teacher.ema_rate,
        teacher_sync_steps=config.teacher.sync_steps,
    )


def env_reward(prompts: list[Any], completions: list[Any], reward: list[float], **kwargs: Any) -> list[float]:
    """The episode reward the environment computed with the run's reward preset."""
    return [float(r) for r in reward]


def rollout_stats(e: EpisodeRollout) -> EpisodeStats:
    """Collapse-metric inputs from one rollout. Information gathering counts the valid
    calls other than the final submission and the turns said to the patient."""
    patient_turns = sum(1 for t in e.turns if t.tool_calls == 0 and t.text.strip())
    return EpisodeStats(
        turn_tokens=[t.tokens for t in e.turns],
        tool_calls=e.valid_calls,
        info_calls=e.valid_calls - int(e.terminated) + patient_turns,
        invalid_calls=e.invalid_calls,
        reward=e.reward,
        success=e.success,
    )


def privileged_block(task: Task, succeeded: bool) -> str:
    """Outcome information the teacher sees and the student never does."""
    t = task.truth
    answer = t.diagnosis or t.answer or ""
    if t.icd10:
        answer += f" (ICD-10-CM {t.icd10})"
    lines = ["[Privileged outcome information: visible to the teacher only]", f"Correct answer: {answer}"]
    if t.key_findings:
        lines.append("Key findings: " + "; ".join(t.key_findings[:8]))
    if t.management:
        lines.append("Correct management: " + "; ".join(c.label for c in t.management))
    if t.required_actions:
        lines.append("Required actions: " + ", ".join(t.required_actions))
    lines.append(f"This rollout {'succeeded' if succeeded else 'did not succeed'}.")
    return "\n".join(lines)


class MedGymGRPOTrainer(GRPOTrainer):
    """GRPO over multi-turn encounters; with `config.method == "ttopd"`, TT-OPD."""

    def __init__(
        self,
        config: TrainConfig,
        model: Any,
        tokenizer: Any,
        tasks: Sequence[Task],
        output_dir: str,
        peft_config: Any = None,
        callbacks: Sequence[Any] = (),
    ) -> None:
        from datasets import Dataset

        self.mg_config = config
        self.rollout_config = config.rollout_config()
        self._tasks = {t.id: t for t in tasks}
        self._episodes: list[EpisodeRollout] = []
        self._capture: list[torch.Tensor] | None = None
        self._skip_step = False
        self.nan_steps: list[int] = []
        self.ttopd = config.method == "ttopd"
        t = config.teacher
        self._distill_on = self.ttopd and max(t.beta, t.beta_success or 0.0, t.beta_failure or 0.0) > 0
        super().__init__(
            model=model,
            reward_funcs=[env_reward],
            args=grpo_args(config, output_dir),
            # The prompt is the task id: the rollout hook opens each encounter itself, and a plain
            # string keeps TRL from parsing a multi-turn completion as one assistant message.
            train_dataset=Dataset.from_list([{"prompt": t.id} for t in tasks]),
            processing_class=tokenizer,
            rollout_func=self._rollout,
            peft_config=peft_config,
            callbacks=list(callbacks),
        )
        self.teacher_model: Any = None
        if self.ttopd:
            self._setup_teacher()

    # --- rollouts -----------------------------------------------------------------------------------

    def _rollout(self, prompts: list[Any], trainer: Any) -> dict[str, list[Any]]:
        unknown = [p for p in prompts if p not in self._tasks]
        if unknown:
            raise KeyError(f"prompts {unknown[:3]} are not task ids of this run")
        tasks = [self._tasks[p] for p in prompts]
        engine = RolloutEngine(self.model, self.processing_class, self.rollout_config)
        seed = stable_seed("medgym-train", self.mg_config.seed, self.state.global_step) % 2**31
        was_training = self.model.training
        self.model.eval()
        try:
            self._episodes = engine.run(tasks, seed=seed)
        finally:
            self.model.train(was_training)
        empty = [e for e in self._episodes if not e.completion_ids]
        if empty:
            raise ValueError(
                f"rollout.max_episode_tokens ({self.rollout_config.max_episode_tokens}) leaves no room after the "
                f"opening prompt of {empty[0].task_id} ({empty[0].prompt_length} tokens); raise it"
            )
        return to_trl(self._episodes)

    def _generate_and_score_completions(self, inputs: list[dict[str, Any]]) -> dict[str, Any]:
        output = super()._generate_and_score_completions(inputs)
        episodes = self._episodes
        for key, value in step_metrics([rollout_stats(e) for e in episodes]).items():
            if key != "episodes":
                self._metrics["train"][key].append(value)
        self._metrics["train"]["truncated_rate"].append(sum(e.truncated for e in episodes) / len(episodes))
        if self.ttopd:
            output.update(self._teacher_inputs(episodes, output["completion_ids"].shape[1]))
        return output

    # --- TT-OPD ---------------------------------------------------------------------------------------

    def _setup_teacher(self) -> None:
        t = self.mg_config.teacher
        from accelerate.utils import is_peft_model

        if is_peft_model(self.model):
            if t.teacher == "ema":
                self.add_callback(PEFTAdapterEMACallback(self.model, TEACHER_ADAPTER, t.ema_rate, t.sync_steps,
                                                         self.accelerator))
            else:
                raise ValueError("teacher: frozen with LoRA is the base model with the initial adapter; "
                                 "use teacher: ema, or train without LoRA")
            self.teacher_model = self.model
            return
        self.teacher_model = copy.deepcopy(self.accelerator.unwrap_model(self.model))
        self.teacher_model.requires_grad_(False)
        self.teacher_model.eval()
        if t.teacher == "ema":
            self.add_callback(SyncTeacherModelCallback(self.teacher_model, self.accelerator))

    def _teacher_inputs(self, episodes: Sequence[EpisodeRollout], length: int) -> dict[str, torch.Tensor]:
        t = self.mg_config.teacher
        device = self.accelerator.device
        prompts = []
        for e in episodes:
            if t.privileged:
                messages = copy.deepcopy(e.messages[:2])
                messages[0]["content"] += "\n\n" + privileged_block(self._tasks[e.task_id], e.success)
                ids = self.processing_class.apply_chat_template(messages, tools=e.tools, add_generation_prompt=True,
                                                                tokenize=True, return_dict=False)
                prompts.append(list(ids))
            else:
                prompts.append(list(e.prompt_ids))
        width = max(len(p) for p in prompts)
        pad = self.processing_class.pad_token_id
        prompt_ids = torch.tensor([[pad] * (width - len(p)) + p for p in prompts], device=device)
        prompt_mask = torch.tensor([[0] * (width - len(p)) + [1] * len(p) for p in prompts], device=device)
        turn_ids = torch.stack(
            [turn_index(e.turn_spans("completion"), 0, length, t.truncate_tokens, t.per_turn) for e in episodes]
        ).to(device)
        beta = episode_beta([e.success for e in episodes], t.beta, t.beta_success, t.beta_failure).to(device)
        return {"ttopd_prompt_ids": prompt_ids, "ttopd_prompt_mask": prompt_mask, "ttopd_turn_ids": turn_ids,
                "ttopd_beta": beta}

    def _get_per_token_logps_and_entropies(self, model: Any, *args: Any, **kwargs: Any) -> Any:
        out = super()._get_per_token_logps_and_entropies(model, *args, **kwargs)
        if self._capture is not None:
            self._capture.append(out[0])
        return out

    @torch.no_grad()
    def _teacher_logps(self, inputs: dict[str, Any]) -> torch.Tensor:
        """The teacher's log-probabilities of the student's tokens at the positions the KL counts
        (`ttopd_turn_ids >= 0`), 0 elsewhere. Only those positions go through the LM head, and the
        sequence is cut after the last of them: the teacher costs one backbone pass over the
        context it needs, not a full scoring pass (TRL's fused head scores every position on CPU)."""
        completion_ids, completion_mask = inputs["completion_ids"], inputs["completion_mask"]
        teacher = self.accelerator.unwrap_model(self.model) if self.teacher_model is self.model else self.teacher_model
        model = teacher.get_base_model() if hasattr(teacher, "get_base_model") else teacher
        text_config = model.config.get_text_config()
        if any(getattr(text_config, k, None) is not None for k in _SCALED_HEAD_KEYS):
            return self._teacher_logps_trl(inputs)  # a softcapped or scaled head: TRL's fused head handles it
        keep = (inputs["ttopd_turn_ids"] >= 0) & completion_mask.bool()
        logps = torch.zeros(completion_ids.shape, dtype=torch.float32, device=completion_ids.device)
        if not keep.any():
            return logps
        width = int(keep.any(0).nonzero().max()) + 1  # completion columns the teacher must read
        keep = keep[:, :width]
        prompt_len = inputs["ttopd_prompt_ids"].shape[1]
        ids = torch.cat([inputs["ttopd_prompt_ids"], completion_ids[:, :width]], dim=1)
        mask = torch.cat([inputs["ttopd_prompt_mask"], completion_mask[:, :width]], dim=1)
        with self._teacher_weights(), self.accelerator.autocast():
            hidden = model.base_model(input_ids=ids, attention_mask=mask, use_cache=False).last_hidden_state
        # The hidden state at position p predicts token p + 1: completion token j is read at prompt_len + j - 1.
        states = hidden[:, prompt_len - 1 : prompt_len - 1 + width][keep]
        targets = completion_ids[:, :width][keep]
        head = model.get_output_embeddings()
        picked = []
        for start in range(0, states.shape[0], 1024):  # chunks bound the (positions x vocabulary) logits
            logits = head(states[start : start + 1024].to(head.weight.dtype)).float() / self.temperature
            chosen = targets[start : start + 1024]
            picked.append(logits.gather(1, chosen[:, None]).squeeze(1) - torch.logsumexp(logits, dim=-1))
        logps[:, :width][keep] = torch.cat(picked)
        return logps

    @torch.no_grad()
    def _teacher_logps_trl(self, inputs: dict[str, Any]) -> torch.Tensor:
        """The teacher's log-probabilities of every completion token through TRL's scoring pass."""
        completion_ids, completion_mask = inputs["completion_ids"], inputs["completion_mask"]
        ids = torch.cat([inputs["ttopd_prompt_ids"], completion_ids], dim=1)
        mask = torch.cat([inputs["ttopd_prompt_mask"], completion_mask], dim=1)
        with self._teacher_weights():
            logps, _, _ = super()._get_per_token_logps_and_entropies(self.teacher_model, ids, mask, completion_ids.size(1))
        return logps

    @contextlib.contextmanager
    def _teacher_weights(self) -> Iterator[None]:
        """With a LoRA teacher (an adapter of the policy), make the teacher adapter active for the block."""
        if self.teacher_model is not self.model:
            yield
            return
        unwrapped = self.accelerator.unwrap_model(self.model)
        active = unwrapped.active_adapter
        unwrapped.set_adapter(TEACHER_ADAPTER)
        try:
            yield
        finally:
            unwrapped.set_adapter(active)

    def _compute_loss(self, model: Any, inputs: dict[str, Any]) -> torch.Tensor:
        if not self.ttopd:
            return super()._compute_loss(model, inputs)
        self._capture = []
        try:
            loss = super()._compute_loss(model, inputs)
        finally:
            student, self._capture = self._capture[0], None
        teacher = self._teacher_logps(inputs)
        distill, kl_values = ttopd_loss(student, teacher, inputs["ttopd_turn_ids"], inputs["ttopd_beta"])
        per_turn = [k for episode in kl_values for k in episode]
        if per_turn:
            self._metrics["train"]["kl_teacher_per_turn"].append(sum(per_turn) / len(per_turn))
            self._metrics["train"]["kl_teacher_per_episode"].append(
                sum(sum(e) for e in kl_values) / len(kl_values))
        if self._distill_on:
            normalizer = self.current_gradient_accumulation_steps if self.model.training else 1.0
            loss = loss + distill / normalizer
        return loss

    # --- robustness -------------------------------------------------------------------------------------

    def training_step(self, model: Any, inputs: dict[str, Any], num_items_in_batch: Any = None) -> torch.Tensor:
        loss = super().training_step(model, inputs, num_items_in_batch)
        if not math.isfinite(float(loss)):
            self._skip_step = True
            self.nan_steps.append(self.state.global_step + 1)
            model.zero_grad(set_to_none=True)
            self._metrics["train"]["nan_loss_skipped"].append(1.0)
        return loss

    def create_optimizer(self, *args: Any, **kwargs: Any) -> Any:
        optimizer = super().create_optimizer(*args, **kwargs)
        step: Callable[..., Any] = optimizer.step

        def guarded_step(*a: Any, **k: Any) -> Any:
            if self._skip_step:  # a NaN loss: leave the weights and the optimizer state as they were
                self._skip_step = False
                return None
            return step(*a, **k)

        optimizer.step = guarded_step
        return optimizer
