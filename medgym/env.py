"""The encounter environment: one simulated patient case per episode.

Observations and actions are text. An action is the agent's assistant message:
tool calls in the `<tool_call>{...}</tool_call>` format that Hugging Face chat
templates emit (or a structured dict), or plain text, which is said to the
patient. The episode terminates when the task's final `submit_*` tool is called
and truncates at `max_turns`. `info["messages"]` is the conversation in chat
format, ready for `tokenizer.apply_chat_template(messages, tools=info["tools"])`.
"""

from __future__ import annotations

import base64
import json
import string
from collections.abc import Callable, Mapping
from typing import Any

import gymnasium as gym
from gymnasium import spaces

from medgym.encounter import Encounter
from medgym.episode import CallRecord, Episode
from medgym.patient import Patient, RuleBasedPatient
from medgym.patient.matching import MatcherMode
from medgym.rewards import resolve_preset, score
from medgym.tasks.schema import Task
from medgym.tasks.store import get_task, load_tasks
from medgym.tools import ToolError, ToolSpec, call_cost, list_tools, run, unknown_tool_message
from medgym.tools import catalog
from medgym.tools.calls import parse_action

ENV_ID = "medgym/Encounter-v0"
MAX_TEXT = 1_000_000
PATIENT = "patient"
# Said with the result of a call that repeats an earlier one exactly (same tool, same arguments): loops are
# the commonest failure of small agents, and an identical result alone does not show them they are in one.
REPEAT_NOTE = "This repeats an earlier call in this encounter."


class AnyText(spaces.Text):
    """A text space that contains any string up to `max_length` characters.

    gymnasium's `Text` only contains strings over a fixed charset; clinical text
    has units and symbols (°C, µL, ≥) that no fixed charset covers. Sampling
    still draws from printable ASCII.
    """

    def __init__(self, max_length: int = MAX_TEXT, seed: int | None = None) -> None:
        super().__init__(max_length=max_length, min_length=0, charset=string.printable, seed=seed)

    def contains(self, x: Any) -> bool:
        return isinstance(x, str) and len(x) <= self.max_length


class EncounterEnv(gym.Env[str, Any]):
    """A gymnasium environment in which an agent works up one simulated patient."""

    metadata = {"render_modes": ["ansi"], "render_fps": 1}

    def __init__(
        self,
        domain: str | None = None,
        split: str | None = "train",
        task_type: str | None = None,
        specialty: str | None = None,
        tasks: list[Task] | None = None,
        max_turns: int = 24,
        reward: str | Mapping[str, float] = "terminal",
        patient_matcher: MatcherMode = "hybrid",
        render_mode: str | None = None,
        vision: bool = False,
        patient: Callable[[Task, int], Patient] | None = None,
    ) -> None:
        self.tasks = list(tasks) if tasks is not None else load_tasks(split, domain, task_type, specialty)
        if not self.tasks:
            raise ValueError(
                f"no tasks for domain={domain!r}, split={split!r}, task_type={task_type!r}, specialty={specialty!r}; "
                "see `medgym tasks` for what exists"
            )
        if max_turns < 1:
            raise ValueError(f"max_turns must be at least 1, got {max_turns}")
        self.reward_weights = resolve_preset(reward)
        self.max_turns = max_turns
        self.patient_matcher = patient_matcher
        self.patient_factory = patient  # (task, seed) -> Patient; default: the rule-based patient
        self.render_mode = render_mode
        self.vision = vision  # put the task's rendered images (ECG, FHR tracing) in the opening message
        self.observation_space = AnyText()
        self.action_space = AnyText()
        self.task: Task | None = None
        self.encounter: Encounter | None = None
        self.episode: Episode | None = None
        self.messages: list[dict[str, Any]] = []
        self.tools: dict[str, ToolSpec] = {}
        self._done = True

    # --- gymnasium API ---------------------------------------------------------------------------

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[str, dict[str, Any]]:
        super().reset(seed=seed)
        options = options or {}
        if "task_id" in options:
            self.task = get_task(options["task_id"])
        else:
            self.task = self.tasks[int(self.np_random.integers(len(self.tasks)))]
        episode_seed = int(self.np_random.integers(2**31))
        if self.patient_factory is not None:
            patient = self.patient_factory(self.task, episode_seed)
        else:
            patient = RuleBasedPatient(self.task, seed=episode_seed, matcher=self.patient_matcher)
        self.encounter = Encounter(self.task, seed=episode_seed, patient=patient)
        self.episode = Episode(task_id=self.task.id)
        self.tools = {t.name: t for t in list_tools(self.task.domain)}
        self.messages = [
            {"role": "system", "content": self.system_prompt()},
            {"role": "user", "content": self.opening_content()},
        ]
        self._done = False
        observation = "\n\n".join([self.messages[0]["content"], self.tools_text(), presentation_text(self.task)])
        return observation, self._info(self.messages, [], opening=True)

    def step(self, action: Any) -> tuple[str, float, bool, bool, dict[str, Any]]:
        if self._done or self.episode is None:
            raise gym.error.ResetNeeded("The episode has ended (or never started); call reset() before step().")
        ep = self.episode
        ep.turns += 1
        parsed = parse_action(action)
        assistant = parsed.message()
        new: list[dict[str, Any]] = []
        step_calls: list[CallRecord] = []
        for error in parsed.errors:
            ep.format_errors += 1
            new.append({"role": "tool", "name": "error", "content": json.dumps({"error": error}, ensure_ascii=False)})
        for i, call in enumerate(parsed.calls):
            if ep.terminated:
                new.append(_error_message(call.name, "Ignored: the encounter already ended with a final submission."))
                break
            record, message = self._run_call(call.name, call.arguments)
            step_calls.append(record)
            new.append(message)
            if record.valid and call.name == self.task.truth.final_tool:
                ep.terminated = True
        if not parsed.calls and not parsed.errors:
            reply = self.encounter.patient.reply(parsed.content)
            step_calls.append(CallRecord(turn=ep.turns, name=PATIENT, arguments={"question": parsed.content[:500]},
                                         action_keys=[f"ask_patient:{t}" for t in reply.topics] or ["ask_patient"]))
            new.append({"role": "user", "content": reply.text})
        ep.calls.extend(step_calls)
        ep.submissions = dict(self.encounter.submissions)
        self.messages.append(assistant)
        self.messages.extend(new)

        truncated = not ep.terminated and ep.turns >= self.max_turns
        ep.truncated = truncated
        self._done = ep.terminated or truncated
        reward = 0.0
        info = self._info(new, step_calls)
        if self._done:
            result = score(ep, self.task, self.reward_weights)
            reward = result.total
            info.update(reward_terms=result.terms, success=result.success, outcome=result.terms["outcome"])
        return observation_text(new), reward, ep.terminated, truncated, info

    def render(self) -> str | None:
        """The transcript so far, as readable text."""
        text = transcript(self.messages)
        if self.render_mode == "ansi":
            return text
        return None

    # --- helpers ----------------------------------------------------------------------------------

    def _run_call(self, name: str, arguments: Any) -> tuple[CallRecord, dict[str, Any]]:
        turn = self.episode.turns
        spec = self.tools.get(name)
        try:
            if spec is None:
                raise ToolError(unknown_tool_message(name, list(self.tools)))
            output = run(spec, arguments, self.encounter)
        except ToolError as exc:
            record = CallRecord(turn=turn, name=name, arguments=_jsonable(arguments), valid=False, error=str(exc))
            return record, _error_message(name, str(exc))
        content = output.content
        if self._repeats_earlier_call(name, arguments):
            content = {"note": REPEAT_NOTE, **content} if isinstance(content, dict) else f"({REPEAT_NOTE}) {content}"
        record = CallRecord(turn=turn, name=name, arguments=arguments, action_keys=output.action_keys,
                            cost=call_cost(name, arguments))
        content = content if isinstance(content, str) else json.dumps(content, ensure_ascii=False)
        return record, {"role": "tool", "name": name, "content": content}

    def _repeats_earlier_call(self, name: str, arguments: Any) -> bool:
        """Whether a valid call with this tool and these arguments was made earlier in the episode."""
        return any(c.valid and c.name == name and c.arguments == arguments for c in self.episode.calls)

    def _info(self, new: list[dict[str, Any]], calls: list[CallRecord], opening: bool = False) -> dict[str, Any]:
        ep = self.episode
        info: dict[str, Any] = {
            "task_id": self.task.id,
            "domain": self.task.domain,
            "task_type": self.task.task_type,
            "final_tool": self.task.truth.final_tool,
            "messages": list(self.messages),
            "new_messages": new,
            "tool_calls": [c.model_dump() for c in calls],
            "invalid_calls": sum(not c.valid for c in calls) + (0 if opening else self._step_format_errors(new)),
            "episode": {"turns": ep.turns, "tool_calls": ep.tool_calls, "invalid_calls": ep.invalid_calls,
                        "cost": ep.cost},
        }
        if opening:
            info["tools"] = self.tool_schemas()
        return info

    @staticmethod
    def _step_format_errors(new: list[dict[str, Any]]) -> int:
        return sum(1 for m in new if m["role"] == "tool" and m.get("name") == "error")

    def tool_schemas(self) -> list[dict[str, Any]]:
        """The offered tools as JSON schemas (for `apply_chat_template(tools=...)`)."""
        return [t.schema for t in self.tools.values()]

    def opening_content(self) -> str | list[dict[str, Any]]:
        """The presentation; with `vision`, also the task's images as image content parts (Hugging Face
        chat format: {"type": "image", "image": "data:image/png;base64,..."}, then the text)."""
        from medgym.domains import task_images

        text = presentation_text(self.task)
        images = task_images(self.task) if self.vision else []
        if not images:
            return text
        parts = [{"type": "image", "image": "data:image/png;base64," + base64.b64encode(png).decode()} for png in images]
        return [*parts, {"type": "text", "text": text}]

    def tools_text(self) -> str:
        return "Tools:\n" + "\n".join(json.dumps(s, ensure_ascii=False) for s in self.tool_schemas())

    def system_prompt(self) -> str:
        task = self.task
        labs = ", ".join([*catalog.lab_panels(), *catalog.labs()])
        studies = ", ".join(catalog.studies())
        return (
            f"You are a physician seeing a patient in the {task.presentation.setting}. "
            "Gather what you need by asking the patient questions and calling tools, then give your answer. "
            'Call a tool by writing <tool_call>{"name": "<tool>", "arguments": {...}}</tool_call>; '
            "several calls may go in one message. A message without a tool call is said to the patient. "
            f"The encounter ends when you call {task.truth.final_tool}.\n"
            f"Orderable lab tests: {labs}.\nImaging studies: {studies}."
        )


def presentation_text(task: Task) -> str:
    """The opening presentation the clinician sees."""
    p, v = task.presentation, task.presentation.vitals
    lines = [
        f"Patient: {p.age}-year-old {'man' if p.sex == 'male' else 'woman'} in the {p.setting}.",
        f"Chief complaint: {p.chief_complaint}.",
        f"Vital signs: heart rate {v.heart_rate} beats/min, blood pressure {v.systolic_bp}/{v.diastolic_bp} mmHg, "
        f"respiratory rate {v.respiratory_rate} breaths/min, temperature {v.temperature_c:.1f} °C, "
        f"SpO2 {v.spo2}% on room air.",
    ]
    if p.opening_statement:
        lines.append(f'The patient says: "{p.opening_statement}"')
    lines.append(f"Task: {task.instructions}")
    return "\n".join(lines)


def observation_text(messages: list[dict[str, Any]]) -> str:
    """What the agent reads after a step: tool results and the patient's words."""
    parts = []
    for m in messages:
        who = PATIENT if m["role"] == "user" else m.get("name", m["role"])
        parts.append(f"[{who}] {m['content']}")
    return "\n".join(parts)


def transcript(messages: list[dict[str, Any]]) -> str:
    """The whole conversation as readable text."""
    lines = []
    for m in messages:
        if m["role"] == "system":
            continue
        if m["role"] == "assistant":
            if m.get("content"):
                lines.append(f"DOCTOR: {m['content']}")
            for c in m.get("tool_calls", []):
                lines.append(f"DOCTOR -> {c['function']['name']}({json.dumps(c['function']['arguments'], ensure_ascii=False)})")
        elif m["role"] == "tool":
            lines.append(f"  [{m.get('name', 'tool')}] {m['content']}")
        else:
            label = "PRESENTATION" if len(lines) == 0 else "PATIENT"
            lines.append(f"{label}: {content_text(m['content'])}")
    return "\n".join(lines)


def content_text(content: str | list[dict[str, Any]]) -> str:
    """A message's text; image parts show as [image]."""
    if isinstance(content, str):
        return content
    return " ".join("[image]" if p.get("type") == "image" else str(p.get("text", "")) for p in content)


def _error_message(name: str, error: str) -> dict[str, Any]:
    return {"role": "tool", "name": name if isinstance(name, str) else "error", "content": json.dumps({"error": error}, ensure_ascii=False)}


def _jsonable(value: Any) -> Any:
    try:
        json.dumps(value)
        return value
    except (TypeError, ValueError):
        return repr(value)
