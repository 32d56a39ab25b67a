"""Parse an agent's action into text and tool calls.

Tool calls use the format Hugging Face chat templates emit,
`<tool_call>{"name": ..., "arguments": {...}}</tool_call>`, or a structured dict:
an assistant message with `tool_calls`, or a single `{"name", "arguments"}` call.
Nothing here raises on bad input: problems come back as error strings.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

MAX_ACTION_CHARS = 32_768
FORMAT_HINT = 'Write each tool call as <tool_call>{"name": "<tool>", "arguments": {...}}</tool_call>.'
_BLOCK = re.compile(r"<tool_call>(.*?)</tool_call>", re.DOTALL)


@dataclass
class Call:
    name: str
    arguments: Any


@dataclass
class ParsedAction:
    content: str = ""
    calls: list[Call] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def message(self) -> dict[str, Any]:
        """The assistant message this action is in the conversation (text, and its well-formed calls)."""
        out: dict[str, Any] = {"role": "assistant", "content": self.content}
        if self.calls:
            out["tool_calls"] = [{"type": "function", "function": {"name": c.name, "arguments": c.arguments}}
                                 for c in self.calls]
        return out


def parse_action(action: Any) -> ParsedAction:
    """Split an action into its text, its well-formed calls and the errors found."""
    if isinstance(action, str):
        return _parse_text(action)
    if isinstance(action, dict):
        return _parse_dict(action)
    return ParsedAction(errors=[f"An action must be a string or a dict, got {type(action).__name__}. {FORMAT_HINT}"])


def _parse_text(text: str) -> ParsedAction:
    if len(text) > MAX_ACTION_CHARS:
        return ParsedAction(
            content=text[:200] + " [...]",
            errors=[f"The message has {len(text):,} characters; the limit is {MAX_ACTION_CHARS:,}. It was not processed."],
        )
    parsed = ParsedAction()
    for i, block in enumerate(_BLOCK.findall(text), 1):
        call, error = _call_from_json(block, i)
        if call:
            parsed.calls.append(call)
        else:
            parsed.errors.append(error)
    rest = _BLOCK.sub("", text)
    if "<tool_call>" in rest:
        parsed.errors.append(f"A <tool_call> was opened but never closed with </tool_call>. {FORMAT_HINT}")
    parsed.content = rest.strip() if parsed.calls else text.strip()
    if not parsed.calls and not parsed.errors and not parsed.content:
        parsed.errors.append(f"The message is empty. Ask the patient a question or call a tool. {FORMAT_HINT}")
    return parsed


def _call_from_json(block: str, index: int) -> tuple[Call | None, str]:
    try:
        obj = json.loads(block)
    except json.JSONDecodeError as exc:
        return None, f"Tool call {index} is not valid JSON ({exc.msg} at character {exc.pos}). {FORMAT_HINT}"
    return _call_from_obj(obj, index)


def _call_from_obj(obj: Any, index: int) -> tuple[Call | None, str]:
    if isinstance(obj, dict) and isinstance(obj.get("function"), dict):
        obj = obj["function"]
    if not isinstance(obj, dict) or not isinstance(obj.get("name"), str) or not obj["name"]:
        return None, f'Tool call {index} needs a "name" string and an "arguments" object. {FORMAT_HINT}'
    arguments = obj.get("arguments", {})
    if isinstance(arguments, str):
        try:
            arguments = json.loads(arguments) if arguments.strip() else {}
        except json.JSONDecodeError as exc:
            return None, f"The arguments of tool call {index} ({obj['name']}) are not valid JSON ({exc.msg}). {FORMAT_HINT}"
    return Call(obj["name"], arguments), ""


def _parse_dict(action: dict[str, Any]) -> ParsedAction:
    if "tool_calls" not in action and "name" in action:
        call, error = _call_from_obj(action, 1)
        return ParsedAction(calls=[call] if call else [], errors=[] if call else [error])
    content = action.get("content") or ""
    if not isinstance(content, str):
        return ParsedAction(errors=[f"The message content must be a string, got {type(content).__name__}."])
    parsed = _parse_text(content) if content else ParsedAction()
    raw_calls = action.get("tool_calls") or []
    if not isinstance(raw_calls, list):
        parsed.errors.append(f"tool_calls must be a list. {FORMAT_HINT}")
        raw_calls = []
    for i, raw in enumerate(raw_calls, len(parsed.calls) + 1):
        call, error = _call_from_obj(raw, i)
        if call:
            parsed.calls.append(call)
        else:
            parsed.errors.append(error)
    if parsed.calls and not parsed.errors:
        parsed.content = _BLOCK.sub("", content).strip()
    elif not parsed.calls and not parsed.errors and not content.strip():
        parsed.errors.append(f"The message is empty. Ask the patient a question or call a tool. {FORMAT_HINT}")
    return parsed


def format_call(name: str, arguments: dict[str, Any]) -> str:
    """A tool call in the text format the environment parses."""
    return "<tool_call>" + json.dumps({"name": name, "arguments": arguments}, ensure_ascii=False) + "</tool_call>"


def assistant_message(*calls: tuple[str, dict[str, Any]], content: str = "") -> dict[str, Any]:
    """An assistant message making these tool calls, in the structured form the env accepts."""
    return {
        "role": "assistant",
        "content": content,
        "tool_calls": [{"type": "function", "function": {"name": n, "arguments": a}} for n, a in calls],
    }
