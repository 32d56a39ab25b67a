"""A multiple-choice question as an episode, behind the same text interface as the encounter env.

Every policy (scripted, oracle, HF model, OpenAI endpoint) plays it unchanged:
`reset` gives the question and `info["messages"]` / `info["tools"]`; `step` takes
the assistant message.

    closed    closed book, single turn: the first message is the answer (free text, or a
              `submit_answer` call).
    agentic   the agent may call `search_knowledge` (the knowledge base) before answering;
              the episode ends at the first answer (free text or `submit_answer`) or at max_turns.
"""

from __future__ import annotations

import json
from typing import Any

import gymnasium as gym

from medgym.eval.qa import QAItem, extract_choice, question_text
from medgym.episode import CallRecord, Episode
from medgym.tools import ToolError, ToolSpec, list_tools, run, unknown_tool_message
from medgym.tools.calls import parse_action

FINAL_TOOL = "submit_answer"
SEARCH_TOOL = "search_knowledge"
DOMAIN = "medical_qa"
AGENTIC_MAX_TURNS = 6


def search_tool() -> ToolSpec | None:
    """The knowledge-base search tool, once `medgym.knowledge` registers it."""
    return next((t for t in list_tools() if t.name == SEARCH_TOOL), None)


class QAEnv(gym.Env[str, Any]):
    """One multiple-choice question per episode; reward 1 for the correct option."""

    metadata = {"render_modes": []}

    def __init__(self, items: list[QAItem], mode: str = "closed", max_turns: int = AGENTIC_MAX_TURNS,
                 benchmark: str = "") -> None:
        if mode not in ("closed", "agentic"):
            raise ValueError(f"unknown QA mode {mode!r}; choose closed or agentic")
        if not items:
            raise ValueError(f"benchmark {benchmark!r} has no readable items")
        self.items = {i.id: i for i in items}
        self.mode = mode
        self.max_turns = 1 if mode == "closed" else max_turns
        self.benchmark = benchmark
        self.tools: dict[str, ToolSpec] = {t.name: t for t in list_tools() if t.name == FINAL_TOOL}
        if mode == "agentic":
            search = search_tool()
            if search is None:
                raise ValueError("agentic QA needs the search_knowledge tool (medgym.knowledge), which this checkout "
                                 "does not have; evaluate closed book (--qa-mode closed)")
            self.tools[SEARCH_TOOL] = search
        self.observation_space = gym.spaces.Text(max_length=1_000_000)
        self.action_space = gym.spaces.Text(max_length=1_000_000)
        self.item: QAItem | None = None
        self.episode: Episode | None = None
        self.messages: list[dict[str, Any]] = []
        self.response = ""
        self.choice: str | None = None
        self._done = True

    def system_prompt(self) -> str:
        letters = ", ".join(self.item.options)
        text = ("You are a physician answering a multiple-choice medical exam question. "
                f"Choose the single best option ({letters}). End with \"The answer is (X)\" where X is the letter, "
                f'or call <tool_call>{{"name": "{FINAL_TOOL}", "arguments": {{"answer": "X"}}}}</tool_call>.')
        if self.mode == "agentic":
            text += (f' Before answering you may search the medical knowledge base with <tool_call>{{"name": '
                     f'"{SEARCH_TOOL}", "arguments": {{"query": "..."}}}}</tool_call>.')
        else:
            text += " Answer from your own knowledge, in one reply."
        return text

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[str, dict[str, Any]]:
        super().reset(seed=seed)
        options = options or {}
        if "task_id" in options:
            if options["task_id"] not in self.items:
                raise KeyError(f"no item {options['task_id']!r} in benchmark {self.benchmark!r}")
            self.item = self.items[options["task_id"]]
        else:
            ids = list(self.items)
            self.item = self.items[ids[int(self.np_random.integers(len(ids)))]]
        self.episode = Episode(task_id=self.item.id)
        self.messages = [{"role": "system", "content": self.system_prompt()},
                         {"role": "user", "content": question_text(self.item)}]
        self.response, self.choice, self._done = "", None, False
        observation = "\n\n".join([self.messages[0]["content"], self.messages[1]["content"]])
        return observation, self._info([], opening=True)

    def step(self, action: Any) -> tuple[str, float, bool, bool, dict[str, Any]]:
        if self._done or self.episode is None:
            raise gym.error.ResetNeeded("The question has been answered; call reset() before step().")
        ep = self.episode
        ep.turns += 1
        parsed = parse_action(action)
        assistant = parsed.message()
        self.messages.append(assistant)
        new: list[dict[str, Any]] = []
        ep.format_errors += len(parsed.errors)
        new += [{"role": "tool", "name": "error", "content": json.dumps({"error": e})} for e in parsed.errors]
        answered = False
        for call in parsed.calls:
            if call.name == FINAL_TOOL:
                record, message = self._submit(call.arguments)
                answered = record.valid
            elif call.name in self.tools:
                record, message = self._search(call.name, call.arguments)
            else:
                error = unknown_tool_message(call.name, list(self.tools))
                record = CallRecord(turn=ep.turns, name=str(call.name), valid=False, error=error)
                message = {"role": "tool", "name": str(call.name), "content": json.dumps({"error": error})}
            ep.calls.append(record)
            new.append(message)
            if answered:
                break
        if (not parsed.calls and not parsed.errors) or (self.mode == "closed" and not answered and parsed.content):
            # free text is the answer; closed book has one turn, so its text counts even beside a broken call
            self.response = parsed.content
            self.choice = extract_choice(parsed.content, self.item.options)
            answered = True
        ep.terminated = answered or self.mode == "closed"
        ep.truncated = not ep.terminated and ep.turns >= self.max_turns
        self._done = ep.terminated or ep.truncated
        self.messages += new
        info = self._info(new)
        reward = 0.0
        if self._done:
            correct = self.choice is not None and self.choice == self.item.answer
            reward = float(correct)
            info.update(success=correct, outcome=reward, answer=self.choice, extracted=self.choice is not None,
                        reward_terms={"outcome": reward})
        observation = "\n".join(f"[{m.get('name', 'tool')}] {m['content']}" for m in new)
        return observation, reward, ep.terminated, ep.truncated, info

    def _submit(self, arguments: Any) -> tuple[CallRecord, dict[str, Any]]:
        spec = self.tools[FINAL_TOOL]
        try:
            spec.validate(arguments)
        except ToolError as exc:
            return (CallRecord(turn=self.episode.turns, name=FINAL_TOOL, arguments=arguments, valid=False, error=str(exc)),
                    {"role": "tool", "name": FINAL_TOOL, "content": json.dumps({"error": str(exc)})})
        self.response = str(arguments["answer"])
        self.choice = extract_choice(self.response, self.item.options)
        self.episode.submissions[FINAL_TOOL] = dict(arguments)
        return (CallRecord(turn=self.episode.turns, name=FINAL_TOOL, arguments=arguments, action_keys=[FINAL_TOOL]),
                {"role": "tool", "name": FINAL_TOOL, "content": json.dumps({"status": "received", **arguments})})

    def _search(self, name: str, arguments: Any) -> tuple[CallRecord, dict[str, Any]]:
        try:
            output = run(self.tools[name], arguments, None)
        except ToolError as exc:
            return (CallRecord(turn=self.episode.turns, name=name, arguments=arguments, valid=False, error=str(exc)),
                    {"role": "tool", "name": name, "content": json.dumps({"error": str(exc)})})
        content = output.content if isinstance(output.content, str) else json.dumps(output.content, ensure_ascii=False)
        return (CallRecord(turn=self.episode.turns, name=name, arguments=arguments, action_keys=output.action_keys),
                {"role": "tool", "name": name, "content": content})

    def _info(self, new: list[dict[str, Any]], opening: bool = False) -> dict[str, Any]:
        ep = self.episode
        info: dict[str, Any] = {
            "task_id": self.item.id,
            "domain": DOMAIN,
            "task_type": "question_answering",
            "final_tool": FINAL_TOOL,
            "benchmark": self.benchmark,
            "qa_mode": self.mode,
            "messages": list(self.messages),
            "new_messages": new,
            "episode": {"turns": ep.turns, "tool_calls": ep.tool_calls, "invalid_calls": ep.invalid_calls, "cost": 0.0},
        }
        if opening:
            info["tools"] = [t.schema for t in self.tools.values()]
        return info
