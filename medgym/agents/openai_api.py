"""Any OpenAI-compatible `/v1/chat/completions` endpoint as a policy, with native tool calling.

    policy = OpenAIPolicy(model="Qwen/Qwen2.5-7B-Instruct", base_url="http://127.0.0.1:8000/v1")

Works with vLLM (`vllm serve`), llama.cpp (`llama-server`), `transformers serve`
and hosted APIs. The environment's chat is converted to the OpenAI message
format (tool calls get ids, tool results answer them), the offered tools are
sent as `tools`, and the server's reply (its text and its parsed `tool_calls`)
is the action. The API key comes from `api_key` or `OPENAI_API_KEY` (local
servers ignore it).
"""

from __future__ import annotations

import json
import os
from typing import Any

from medgym.agents.base import Action


class OpenAIPolicy:
    """A chat model behind an OpenAI-compatible HTTP endpoint."""

    name = "openai"

    def __init__(
        self,
        model: str,
        base_url: str = "http://127.0.0.1:8000/v1",
        api_key: str | None = None,
        temperature: float = 0.0,
        top_p: float | None = None,
        max_tokens: int = 512,
        seed: int | None = None,
        timeout: float = 120.0,
        max_retries: int = 1,
        extra_body: dict[str, Any] | None = None,
    ) -> None:
        import openai

        self.model, self.base_url = model, base_url
        self.temperature, self.top_p, self.max_tokens, self.seed = temperature, top_p, max_tokens, seed
        self.extra_body = extra_body
        self.client = openai.OpenAI(base_url=base_url, api_key=api_key or os.environ.get("OPENAI_API_KEY") or "none",
                                    timeout=timeout, max_retries=max_retries)
        self.tools: list[dict[str, Any]] = []

    def reset(self, observation: str, info: dict[str, Any]) -> None:
        self.tools = info.get("tools", [])

    def act(self, observation: str, info: dict[str, Any]) -> Action:
        message = self.complete(to_openai_messages(info["messages"]), tools=self.tools)
        calls = [{"type": "function", "function": {"name": c.function.name, "arguments": c.function.arguments}}
                 for c in (message.tool_calls or [])]
        return {"role": "assistant", "content": message.content or "", "tool_calls": calls}

    def complete(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None = None) -> Any:
        """One chat completion; returns the assistant message object. Errors name the endpoint and the fix."""
        import openai

        kwargs: dict[str, Any] = {"model": self.model, "messages": messages, "temperature": self.temperature,
                                  "max_tokens": self.max_tokens}
        if tools:
            kwargs["tools"] = tools
        if self.top_p is not None:
            kwargs["top_p"] = self.top_p
        if self.seed is not None:
            kwargs["seed"] = self.seed
        if self.extra_body:
            kwargs["extra_body"] = self.extra_body
        try:
            response = self.client.chat.completions.create(**kwargs)
        except openai.APIConnectionError as exc:
            raise ConnectionError(
                f"cannot reach the OpenAI-compatible endpoint at {self.base_url} ({exc}); start the server "
                "(e.g. `transformers serve <model dir> --host 127.0.0.1 --port 8000`, `vllm serve <model>`, "
                "`llama-server -m <gguf>`) or pass the right base_url"
            ) from None
        except openai.NotFoundError as exc:
            raise ValueError(f"the endpoint at {self.base_url} does not serve model {self.model!r} ({exc}); "
                             "pass the model name the server was started with") from None
        except openai.APIStatusError as exc:
            raise RuntimeError(f"the endpoint at {self.base_url} answered HTTP {exc.status_code}: "
                               f"{str(exc)[:500]}") from None
        if not response.choices:
            raise RuntimeError(f"the endpoint at {self.base_url} returned no choices")
        return response.choices[0].message


def to_openai_messages(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The environment's chat in OpenAI's format: each assistant tool call gets an id, each tool
    result answers the next unanswered call of its name, and the environment's own error notes
    (malformed calls, no call to answer) become user messages after the results."""
    out: list[dict[str, Any]] = []
    i = 0
    turn = 0
    while i < len(messages):
        m = messages[i]
        if m["role"] != "assistant":
            out.append({"role": m["role"], "content": m.get("content") or ""})
            i += 1
            continue
        turn += 1
        calls = []
        for k, c in enumerate(m.get("tool_calls") or []):
            f = c.get("function", c)
            args = f.get("arguments", {})
            calls.append({"id": f"call_{turn}_{k}", "type": "function",
                          "function": {"name": str(f.get("name")), "arguments": args if isinstance(args, str)
                                       else json.dumps(args, ensure_ascii=False)}})
        assistant: dict[str, Any] = {"role": "assistant", "content": m.get("content") or ""}
        if calls:
            assistant["tool_calls"] = calls
        out.append(assistant)
        i += 1
        pending = list(calls)
        answered: list[dict[str, Any]] = []
        notes: list[str] = []
        while i < len(messages) and messages[i]["role"] == "tool":
            t = messages[i]
            match = next((c for c in pending if c["function"]["name"] == t.get("name")), None)
            if match is not None:
                pending.remove(match)
                answered.append({"role": "tool", "tool_call_id": match["id"], "content": t.get("content") or ""})
            else:
                notes.append(t.get("content") or "")
            i += 1
        for c in pending:
            answered.append({"role": "tool", "tool_call_id": c["id"],
                             "content": json.dumps({"error": "Not run: the encounter had already ended."})})
        out.extend(answered)
        if notes:
            out.append({"role": "user", "content": "\n".join(notes)})
    return out
