"""Tool-name constrained decoding: a model may only name a tool the environment offers.

    names = ToolNames(tokenizer)
    allowed = names.allowed(turn_ids, ["order_lab", "submit_diagnosis"])   # token ids, or None: no constraint

Once a turn has opened `<tool_call>` and begun the call's JSON, only tokens that
keep it on the way to `{"name": "<an offered tool>"` are allowed; from the
closing quote of the name on, decoding is free again. This is the name part of
what guided decoding (vLLM, Outlines) does with a whole JSON grammar. The
arguments stay unconstrained on purpose: their names and values are what the
environment's validation and the reward should judge.

Hugging Face's own hook for this is `generate(prefix_allowed_tokens_fn=...)`
(`PrefixConstrainedLogitsProcessor`); `prefix_fn` gives it one. The rollout
engine, which samples in its own loop, masks its scores with `allowed` directly.
The canonical form is the one `calls.format_call` writes (and chat templates
emit): `{"name": "<tool>", "arguments": {...}}`.
"""

from __future__ import annotations

import bisect
import json
from collections.abc import Callable, Sequence
from typing import Any

_OPEN, _CLOSE = "<tool_call>", "</tool_call>"


def tool_names(tools: Sequence[dict[str, Any]]) -> list[str]:
    """The names of tool schemas in chat-template form (`{"type": "function", "function": {...}}`)."""
    return [t["function"]["name"] if "function" in t else t["name"] for t in tools]


class ToolNames:
    """Which next tokens keep a tool call's name among the offered tools."""

    def __init__(self, tokenizer: Any) -> None:
        self.tokenizer = tokenizer
        self.open_id, self.close_id = tokenizer.convert_tokens_to_ids([_OPEN, _CLOSE])
        unknown = {None, tokenizer.unk_token_id}
        self._single_token_tags = self.open_id not in unknown and self.close_id not in unknown
        special = set(tokenizer.all_special_ids)
        texts = tokenizer.batch_decode([[i] for i in range(len(tokenizer))], skip_special_tokens=False,
                                       clean_up_tokenization_spaces=False)
        by_text: dict[str, list[int]] = {}
        for i, text in enumerate(texts):
            if i not in special and text and "\ufffd" not in text:  # a lone byte of a character spells no name
                by_text.setdefault(text, []).append(i)
        self._by_text = by_text
        self._sorted = sorted(by_text)
        self._cache: dict[tuple[tuple[str, ...], str], list[int]] = {}

    def allowed(self, turn_ids: Sequence[int], names: Sequence[str]) -> list[int] | None:
        """The token ids that may come next in a turn that so far is `turn_ids`, or None when
        decoding is free (outside a call's name, or the call already left the canonical form)."""
        core = self._open_call(turn_ids)
        if not core:
            return None
        key = (tuple(sorted(names)), core)
        if key not in self._cache:
            if len(self._cache) > 50_000:
                self._cache.clear()
            self._cache[key] = self._continuations(core, key[0])
        return self._cache[key] or None

    def prefix_fn(self, prompt_length: int, names: Sequence[str]) -> Callable[[int, Any], list[int]]:
        """`prefix_allowed_tokens_fn` for `model.generate` on one prompt of `prompt_length` ids."""
        everything = list(range(len(self.tokenizer)))

        def allowed(batch_id: int, ids: Any) -> list[int]:
            return self.allowed(ids[prompt_length:].tolist(), names) or everything

        return allowed

    def _open_call(self, turn_ids: Sequence[int]) -> str:
        """The call's text after the last unclosed `<tool_call>` (leading whitespace dropped), or ''."""
        if self._single_token_tags:
            start = len(turn_ids) - 1  # back from the end to the last tag: an open one, or none open
            while start >= 0 and turn_ids[start] not in (self.open_id, self.close_id):
                start -= 1
            if start < 0 or turn_ids[start] == self.close_id:
                return ""
            text = self.tokenizer.decode(list(turn_ids[start + 1 :]), skip_special_tokens=False,
                                         clean_up_tokenization_spaces=False)
        else:
            full = self.tokenizer.decode(list(turn_ids), skip_special_tokens=False, clean_up_tokenization_spaces=False)
            start = full.rfind(_OPEN)
            if start < 0 or _CLOSE in full[start:]:
                return ""
            text = full[start + len(_OPEN) :]
        return text.lstrip()

    def _continuations(self, core: str, names: tuple[str, ...]) -> list[int]:
        """Tokens t such that core + t is still a prefix of some `{"name": "<name>"`, or runs past one."""
        ids: set[int] = set()
        for name in names:
            target = '{"name": ' + json.dumps(name)
            if not target.startswith(core):
                if core.startswith(target):  # the name is complete: nothing left to constrain
                    return []
                continue
            rest = target[len(core) :]
            for k in range(1, len(rest) + 1):  # tokens that spell a piece of what remains
                ids.update(self._by_text.get(rest[:k], ()))
            lo = bisect.bisect_left(self._sorted, rest)  # tokens that finish it and go on
            for text in self._sorted[lo:]:
                if not text.startswith(rest):
                    break
                ids.update(self._by_text[text])
        return sorted(ids)
