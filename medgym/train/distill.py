"""The TT-OPD distillation term: per-turn, truncated reverse KL to a privileged teacher.

At every assistant turn, on the tokens the student sampled, the per-token
reverse-KL estimator is k1 = log pi_student(y) - log pi_teacher(y). Only the
first L model tokens of each turn count (truncation); the KL of a turn is the
mean over those tokens and the episode's term is the sum over its turns,
weighted by beta (which may differ for successful and failed rollouts).

The gradient of a KL estimated on the student's own samples needs the score
function: grad E_s[log s - log t] = E_s[(log s - log t) grad log s]. So the
loss is the surrogate sum(stopgrad(k1) * log s) whose gradient is that
estimate (per token, as in on-policy distillation), while the logged value
is the KL itself.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch


def turn_index(
    turn_spans: Sequence[tuple[int, int]],
    completion_start: int,
    length: int,
    truncate_tokens: int | None,
    per_turn: bool = True,
) -> torch.Tensor:
    """For each completion position, the assistant turn whose KL it counts toward, or -1.

    `turn_spans` are (start, end) offsets of the model's tokens in the full
    sequence; `completion_start` is where the completion begins (the prompt
    length); `length` is the (padded) completion length. With per_turn False
    every counted token belongs to one sequence-level "turn" 0 (and truncation,
    if any, still applies per turn).
    """
    index = torch.full((length,), -1, dtype=torch.long)
    for k, (start, end) in enumerate(turn_spans):
        if truncate_tokens is not None:
            end = min(end, start + truncate_tokens)
        lo, hi = start - completion_start, end - completion_start
        if hi > lo:
            index[max(lo, 0) : min(hi, length)] = k if per_turn else 0
    return index


def ttopd_loss(
    student_logps: torch.Tensor,
    teacher_logps: torch.Tensor,
    turn_ids: torch.Tensor,
    beta: torch.Tensor,
) -> tuple[torch.Tensor, list[list[float]]]:
    """The surrogate loss (mean over episodes) and each episode's per-turn KL values.

    student_logps: (B, T) log-probabilities of the sampled tokens, with grad.
    teacher_logps: (B, T) the teacher's log-probabilities of the same tokens.
    turn_ids: (B, T) from `turn_index` (-1 = not counted).
    beta: (B,) the weight of each episode's term.
    """
    k1 = (student_logps - teacher_logps).detach()
    batch, _ = turn_ids.shape
    n_turns = int(turn_ids.max().item()) + 1 if turn_ids.numel() else 0
    if n_turns <= 0:
        return student_logps.sum() * 0.0, [[] for _ in range(batch)]
    one_hot = torch.nn.functional.one_hot(turn_ids.clamp(min=0), n_turns).to(student_logps.dtype)
    one_hot = one_hot * (turn_ids >= 0).unsqueeze(-1).to(student_logps.dtype)  # (B, T, K)
    counts = one_hot.sum(dim=1)  # (B, K) tokens per turn
    weight_per_token = (one_hot / counts.clamp(min=1).unsqueeze(1)).sum(-1)  # 1/n_k at each counted token
    surrogate = (k1 * weight_per_token * student_logps).sum(-1)  # (B,)
    loss = (beta.to(surrogate.dtype) * surrogate).mean()
    kl_turn = (one_hot * k1.unsqueeze(-1)).sum(1) / counts.clamp(min=1)  # (B, K)
    values = [[float(kl_turn[b, k]) for k in range(n_turns) if counts[b, k] > 0] for b in range(batch)]
    return loss, values


def episode_beta(success: Sequence[bool], beta: float, beta_success: float | None, beta_failure: float | None) -> torch.Tensor:
    """Per-episode KL weights: beta, or the success/failure overrides."""
    return torch.tensor(
        [(beta_success if s else beta_failure) if (beta_success if s else beta_failure) is not None else beta
         for s in success],
        dtype=torch.float32,
    )
