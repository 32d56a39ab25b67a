"""Batched multi-turn rollouts: a language model plays N encounters at once.

    from medgym.rollout import RolloutConfig, RolloutEngine, to_trl
    engine = RolloutEngine(model, tokenizer, RolloutConfig(batch_size=16, temperature=1.0))
    episodes = engine.run(tasks, seed=0)          # list[EpisodeRollout], in the order of `tasks`
    batch = to_trl(episodes)                      # what TRL's GRPOTrainer `rollout_func` returns

How it works. Up to `batch_size` episodes run at once, each in its own row of
one KV cache (`_RowCache`, a `transformers.DynamicCache` whose rows grow at
their own pace). Every step feeds each episode what is pending and samples its
next token: an episode that is decoding feeds the token it just sampled, and all
of those go through the model in one pass that reads the cache in place; an
episode that waits on its opening prompt or on the environment's reply feeds
those ids, in small groups of similar length. A new episode first copies the
keys and values of the prompt prefix it shares with an episode already in the
cache (one domain's system prompt and tools, a GRPO group's identical prompts).
An episode's environment is stepped the moment its turn ends (end-of-turn token
or a limit), and its reply is fed at the next step while the others go on
decoding; a finished episode's row goes to the next queued episode at once.

Token ids are concatenated exactly as generated and are never re-tokenized:
the model's own tokens come from sampling, and only the environment's new
messages are tokenized (the text the chat template adds after the model's
end-of-turn token). `EpisodeRollout.token_ids` is therefore exactly the
sequence the model conditioned on, and `assistant_mask` marks exactly the
tokens it sampled.

Logprobs are `log_softmax(logits / temperature)` of the sampled token (before
top-k / top-p filtering and the tool-name constraints), the quantity TRL
recomputes for its importance ratios; 0.0 where the mask is 0. With
`temperature=0` decoding is greedy and logprobs use temperature 1. On CPU a
config and seed give the same rollouts (each episode has its own sampling
generator and environment seed).

Two decoding constraints, both off by default (`medgym.tools.constrain`):
`constrain_tool_names` lets a call name only an offered tool, and
`submit_on_last_turn` lets a call in the episode's last allowed turn name only
the task's final tool, a forced answer at the turn limit (what LangChain's
`early_stopping_method="generate"` does for its agents), so an episode that
ran out of turns is scored on an answer rather than on none.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import torch
from transformers.cache_utils import DynamicCache, DynamicLayer

from medgym.encounter import stable_seed
from medgym.tasks.schema import Task
from medgym.tools.constrain import ToolNames, tool_names

TRUNCATION_REASONS = ("max_turns", "episode_tokens")
SHARED_PREFIX_MIN = 16  # opening prompts that begin with this many equal tokens share their prefix's KV cache


@dataclass(frozen=True)
class RolloutConfig:
    """Limits, sampling and environment settings for a batch of rollouts."""

    batch_size: int = 16
    max_turns: int = 24  # assistant turns per episode; the env truncates after this many
    max_turn_tokens: int = 256  # tokens the model may write in one turn before it is cut off
    max_episode_tokens: int = 4096  # prompt + every turn + every env reply (the context)
    temperature: float = 1.0  # 0 = greedy
    top_p: float = 1.0
    top_k: int = 0  # 0 = off
    reward: str | Mapping[str, float] = "terminal"
    patient_matcher: str = "hybrid"
    constrain_tool_names: bool = False  # a call may only name an offered tool (medgym.tools.constrain)
    submit_on_last_turn: bool = False  # a call in the last allowed turn may only name the task's final tool

    def __post_init__(self) -> None:
        checks = {
            "batch_size": self.batch_size >= 1,
            "max_turns": self.max_turns >= 1,
            "max_turn_tokens": self.max_turn_tokens >= 1,
            "max_episode_tokens": self.max_episode_tokens >= 2,
            "temperature": self.temperature >= 0,
            "top_p": 0 < self.top_p <= 1,
            "top_k": self.top_k >= 0,
        }
        bad = [k for k, ok in checks.items() if not ok]
        if bad:
            raise ValueError(f"invalid RolloutConfig value(s) for {', '.join(bad)}: {self}")


@dataclass
class TurnRecord:
    """One assistant turn. `start:end` indexes the model's tokens in `EpisodeRollout.token_ids`;
    the environment's tokens that follow run from `end` to the next turn's `start`."""

    index: int
    start: int
    end: int
    text: str  # what the model wrote, decoded (the action given to the env)
    tool_calls: int  # tool calls attempted (well-formed or not; plain text to the patient is none)
    valid_calls: int  # parsed, validated and run
    invalid_calls: int  # malformed, unknown tool, or invalid arguments
    ended: str  # "end_of_turn", "turn_tokens" (cut at max_turn_tokens) or "episode_tokens"
    env_tokens: int = 0  # tokens the environment added after this turn (0 after the last turn)

    @property
    def tokens(self) -> int:
        return self.end - self.start

    @property
    def truncated(self) -> bool:
        return self.ended != "end_of_turn"


@dataclass
class EpisodeRollout:
    """Everything an RL trainer needs from one episode.

    `token_ids[:prompt_length]` is the opening prompt (system, tools, presentation,
    generation prompt); the rest alternates model turns and environment replies.
    `assistant_mask[i]` is 1 where the model sampled `token_ids[i]`; `logprobs[i]`
    is that token's sampling logprob (0.0 where the mask is 0).
    """

    task_id: str
    domain: str
    seed: int
    prompt_length: int
    token_ids: list[int]
    assistant_mask: list[int]
    logprobs: list[float]
    turns: list[TurnRecord]
    messages: list[dict[str, Any]]
    tools: list[dict[str, Any]]
    reward: float = 0.0
    reward_terms: dict[str, float] = field(default_factory=dict)
    success: bool = False
    terminated: bool = False  # ended with the task's final submission
    truncation: str | None = None  # "max_turns" or "episode_tokens" when cut short, else None
    task: Task | None = field(default=None, repr=False)

    @property
    def truncated(self) -> bool:
        return self.truncation is not None

    @property
    def prompt_ids(self) -> list[int]:
        return self.token_ids[: self.prompt_length]

    @property
    def completion_ids(self) -> list[int]:
        return self.token_ids[self.prompt_length :]

    @property
    def env_mask(self) -> list[int]:
        """TRL's name for the assistant mask over the completion: 1 = model token (trained on)."""
        return self.assistant_mask[self.prompt_length :]

    @property
    def completion_logprobs(self) -> list[float]:
        return self.logprobs[self.prompt_length :]

    @property
    def tool_calls(self) -> int:
        return sum(t.tool_calls for t in self.turns)

    @property
    def valid_calls(self) -> int:
        return sum(t.valid_calls for t in self.turns)

    @property
    def invalid_calls(self) -> int:
        return sum(t.invalid_calls for t in self.turns)

    @property
    def model_tokens(self) -> int:
        return sum(self.assistant_mask)

    def turn_spans(self, relative_to: str = "sequence") -> list[tuple[int, int]]:
        """(start, end) of each turn's model tokens, in `token_ids` ("sequence") or in
        `completion_ids` ("completion")."""
        offset = self.prompt_length if relative_to == "completion" else 0
        return [(t.start - offset, t.end - offset) for t in self.turns]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able record (without the Task object)."""
        d = asdict(self)
        d.pop("task")
        return d


@dataclass
class RolloutStats:
    """What one `RolloutEngine.run` call cost."""

    episodes: int = 0
    model_tokens: int = 0  # sampled tokens
    forward_tokens: int = 0  # tokens fed through the model, padding included
    forward_calls: int = 0
    shared_prefix_tokens: int = 0  # prompt tokens whose keys and values were copied from a shared prefix
    seconds: float = 0.0
    feed_seconds: float = 0.0  # forward passes that feed prompts and environment replies (many ids per episode)
    decode_seconds: float = 0.0  # forward passes that feed each decoding episode its last sampled token
    peak_cache_bytes: int = 0  # largest KV cache held (keys + values of every layer)

    @property
    def tokens_per_second(self) -> float:
        return self.model_tokens / self.seconds if self.seconds else 0.0

    @property
    def episodes_per_second(self) -> float:
        return self.episodes / self.seconds if self.seconds else 0.0


class _Slot:
    """One running episode in the batch."""

    def __init__(self, index: int, task: Task, env: Any, seed: int, generator: torch.Generator) -> None:
        self.index, self.task, self.env, self.seed, self.generator = index, task, env, seed, generator
        self.row = 0  # its row of the KV cache
        self.ids: list[int] = []
        self.mask: list[int] = []
        self.logprobs: list[float] = []
        self.fed = 0  # how many of `ids` are in the KV cache
        self.turn_start = 0
        self.generating = False
        self.turns: list[TurnRecord] = []
        self.messages: list[dict[str, Any]] = []
        self.tools: list[dict[str, Any]] = []
        self.tool_names: list[str] = []  # the offered tools' names, for the tool-name constraint
        self.prompt_length = 0
        self.done = False
        self.result: dict[str, Any] = {}


class RolloutEngine:
    """Plays encounters with a causal LM in batches; see the module docstring."""

    def __init__(
        self,
        model: Any,
        tokenizer: Any,
        config: RolloutConfig = RolloutConfig(),
        end_of_turn: str | None = None,
        env_factory: Callable[[Task, RolloutConfig], Any] | None = None,
    ) -> None:
        if getattr(tokenizer, "chat_template", None) is None:
            raise ValueError(
                f"the tokenizer {type(tokenizer).__name__} has no chat template; use a chat/instruct model's "
                "tokenizer or set tokenizer.chat_template (e.g. medgym.models.tokenizer.chat_template())"
            )
        self.model = model
        self.tokenizer = tokenizer
        self.config = config
        self.end_of_turn = end_of_turn or tokenizer.eos_token
        if self.end_of_turn is None:
            raise ValueError("the tokenizer has no eos_token; pass end_of_turn= (the token that ends an assistant turn)")
        self.end_id = tokenizer.convert_tokens_to_ids(self.end_of_turn)
        self.stop_ids = {self.end_id, *_as_list(getattr(getattr(model, "generation_config", None), "eos_token_id", None))}
        self.pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else self.end_id
        self.env_factory = env_factory or _default_env
        self._reply_needs_tools: bool | None = None  # does the template render tools after the opening block?
        self._names = ToolNames(tokenizer) if config.constrain_tool_names or config.submit_on_last_turn else None
        self.stats = RolloutStats()

    # --- public ---------------------------------------------------------------------------------

    @torch.inference_mode()
    def run(self, tasks: Sequence[Task | str], seed: int = 0, progress: bool = False) -> list[EpisodeRollout]:
        """Play one episode per entry of `tasks` (a task may repeat, e.g. a GRPO group); return
        them in the same order. Episode i uses environment seed and sampling generator derived
        from (`seed`, i)."""
        from tqdm.auto import tqdm

        from medgym.tasks.store import get_task

        resolved = [get_task(t) if isinstance(t, str) else t for t in tasks]
        self.stats = RolloutStats()
        start = time.perf_counter()
        was_training = self.model.training
        self.model.eval()
        queue = list(enumerate(resolved))
        results: dict[int, EpisodeRollout] = {}
        bar = tqdm(total=len(queue), desc="rollouts", disable=not progress)
        rows: list[_Slot | None] = [None] * min(self.config.batch_size, max(1, len(queue)))
        cache = _RowCache(self.model, len(rows))
        try:
            while queue or any(rows):
                for r in range(len(rows)):
                    while rows[r] is None and queue:
                        i, task = queue.pop(0)
                        slot = self._start(i, task, seed)
                        if slot.done:
                            results[i] = self._finish(slot)
                            bar.update(1)
                        else:
                            slot.row, rows[r] = r, slot
                self._step(cache, rows)
                for r, s in enumerate(rows):
                    if s is not None and s.done:
                        results[s.index] = self._finish(s)
                        bar.update(1)
                        rows[r] = None
        finally:
            bar.close()
            if was_training:
                self.model.train()
        self.stats.episodes = len(results)
        self.stats.seconds = time.perf_counter() - start
        self.stats.peak_cache_bytes = cache.bytes
        return [results[i] for i in range(len(resolved))]

    # --- one step: feed what is pending, sample one token per episode -----------------------------

    def _step(self, cache: _RowCache, rows: list[_Slot | None]) -> None:
        """Feed every episode its pending ids and sample its next token. Episodes that wait on a
        prompt or an environment reply (many pending ids) go through the model in small groups of
        similar length (a new episode first copies the prompt prefix it shares with a running one);
        then every decoding episode (one pending id, the token it just sampled) goes through in one
        pass over all rows of the cache."""
        slots = [s for s in rows if s is not None]
        if not slots:
            return
        start = time.perf_counter()
        fed: list[_Slot] = []
        logits: list[torch.Tensor] = []
        new = [s for s in slots if s.fed == 0]
        for s in new:
            if not self._share_prefix(cache, s, slots) and any(
                _common_prefix(s.ids, o.ids) >= SHARED_PREFIX_MIN for o in new if o is not s and o.fed == 0
            ):  # the first of several new episodes that begin alike: computed now, the others copy from it
                logits.append(self._forward(cache, [s]))
                fed.append(s)
        waiting = sorted((s for s in slots if len(s.ids) - s.fed > 1), key=lambda s: len(s.ids) - s.fed)
        for group in _similar_lengths(waiting):
            logits.append(self._forward(cache, group))
            fed += group
        feeding_done = time.perf_counter()
        self.stats.feed_seconds += feeding_done - start
        decoding = [s for s in slots if len(s.ids) - s.fed == 1]
        if decoding:
            logits.append(self._forward(cache, decoding, rows))
            fed += decoding
            self.stats.decode_seconds += time.perf_counter() - feeding_done
        for s in fed:
            if not s.generating:  # what was fed ends with a generation prompt: a turn begins
                s.generating, s.turn_start = True, len(s.ids)
        for s, token in zip(fed, self._sample(torch.cat(logits), fed)):
            self._after_token(s, token)

    def _share_prefix(self, cache: _RowCache, s: _Slot, running: list[_Slot]) -> bool:
        """Copy into `s`'s row the keys and values of the longest prompt prefix it shares with an
        episode whose row already holds it (one domain's system prompt and tools; a GRPO group's
        identical prompts); True when it did. `s` keeps at least its last prompt id to feed."""
        best, source = 0, None
        for other in running:
            if other is not s and other.fed:
                n = min(_common_prefix(other.ids[: other.fed], s.ids), len(s.ids) - 1)
                if n > best:
                    best, source = n, other
        if source is not None and best >= SHARED_PREFIX_MIN:
            cache.copy_prefix(source.row, s.row, best)
            s.fed = best
            self.stats.shared_prefix_tokens += best
            return True
        return False

    def _after_token(self, s: _Slot, token: tuple[int, float]) -> bool:
        """Record a sampled token; end the turn when it is due. True while the turn goes on."""
        token_id, logprob = token
        s.ids.append(token_id)
        s.mask.append(1)
        s.logprobs.append(logprob)
        n = len(s.ids) - s.turn_start
        if token_id in self.stop_ids:
            self._end_turn(s, "end_of_turn")
        elif len(s.ids) >= self.config.max_episode_tokens:
            self._end_turn(s, "episode_tokens")
        elif n >= self.config.max_turn_tokens:
            self._end_turn(s, "turn_tokens")
        return s.generating

    def _end_turn(self, s: _Slot, ended: str) -> None:
        s.generating = False
        body = s.ids[s.turn_start :]
        if ended == "end_of_turn":
            body = body[:-1]
        text = self.tokenizer.decode(body, skip_special_tokens=False, clean_up_tokenization_spaces=False)
        turn = TurnRecord(len(s.turns), s.turn_start, len(s.ids), text, 0, 0, 0, ended)
        s.turns.append(turn)
        if ended == "episode_tokens":
            self._close(s, truncation="episode_tokens")
            return
        before = len(s.env.unwrapped.messages)
        _, reward, terminated, truncated, info = s.env.step(text)
        calls = [c for c in info["tool_calls"] if c["name"] != "patient"]
        format_errors = sum(1 for m in info["new_messages"] if m["role"] == "tool" and m.get("name") == "error")
        turn.valid_calls = sum(1 for c in calls if c["valid"])
        turn.tool_calls = len(calls) + format_errors
        turn.invalid_calls = turn.tool_calls - turn.valid_calls
        s.messages = info["messages"]
        if terminated or truncated:
            s.result = {"reward": reward, "reward_terms": info["reward_terms"], "success": info["success"],
                        "terminated": terminated}
            self._close(s, truncation="max_turns" if truncated and not terminated else None, scored=True)
            return
        delta = ([] if ended == "end_of_turn" else [self.end_id]) + self._env_ids(s.messages, s.tools, before)
        if len(s.ids) + len(delta) >= self.config.max_episode_tokens:
            self._close(s, truncation="episode_tokens")
            return
        turn.env_tokens = len(delta)
        s.ids.extend(delta)
        s.mask.extend([0] * len(delta))
        s.logprobs.extend([0.0] * len(delta))

    def _close(self, s: _Slot, truncation: str | None, scored: bool = False) -> None:
        s.done = True
        s.result["truncation"] = truncation
        if not scored:
            from medgym.rewards import score

            env = s.env.unwrapped
            result = score(env.episode, env.task, env.reward_weights)
            s.result.update(reward=result.total, reward_terms=result.terms, success=result.success, terminated=False)

    # --- tokens of the environment's reply ------------------------------------------------------------

    def _render(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None, generation_prompt: bool) -> str:
        return self.tokenizer.apply_chat_template(
            messages, tools=tools, tokenize=False, add_generation_prompt=generation_prompt
        )

    def _env_ids(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]], before: int) -> list[int]:
        """Ids of the text the chat template puts after the model's end-of-turn token: the env's new
        messages and the next generation prompt. Only this text is tokenized.

        Rendering the tool schemas is most of a render's cost; templates that render them only in
        the opening block (checked once, on the first reply) render the reply without them."""
        if self._reply_needs_tools is None:
            text = self._reply_text(messages, tools, before)
            self._reply_needs_tools = text != self._reply_text(messages, None, before)
        else:
            text = self._reply_text(messages, tools if self._reply_needs_tools else None, before)
        # verbose=False: a reply longer than the model's context is the engine's to cut (flagged as a truncation)
        return self.tokenizer(text, add_special_tokens=False, verbose=False)["input_ids"]

    def _reply_text(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None, before: int) -> str:
        previous = self._render(messages[: before + 1], tools, generation_prompt=False)
        full = self._render(messages, tools, generation_prompt=True)
        cut = previous.rfind(self.end_of_turn)
        if cut < 0 or not full.startswith(previous):
            raise ValueError(
                "the chat template does not render the conversation so far as a prefix of the conversation with the "
                "environment's reply (or puts no end-of-turn token after an assistant turn); multi-turn rollouts need "
                "a prefix-stable template with an end-of-turn token (pass end_of_turn= if it is not the eos token)"
            )
        return full[cut + len(self.end_of_turn) :]

    # --- starting and finishing episodes ----------------------------------------------------------

    def _start(self, index: int, task: Task, seed: int) -> _Slot:
        env_seed = stable_seed("rollout-env", seed, index) % 2**31
        device = self.model.device
        generator = torch.Generator(device=device)
        generator.manual_seed(stable_seed("rollout-sampling", seed, index) % 2**63)
        env = self.env_factory(task, self.config)
        slot = _Slot(index, task, env, env_seed, generator)
        _, info = env.reset(seed=env_seed)
        slot.messages, slot.tools = info["messages"], info["tools"]
        slot.tool_names = tool_names(slot.tools)
        text = self._render(slot.messages, slot.tools, generation_prompt=True)
        slot.ids = self.tokenizer(text, add_special_tokens=False, verbose=False)["input_ids"]
        slot.mask = [0] * len(slot.ids)
        slot.logprobs = [0.0] * len(slot.ids)
        slot.prompt_length = len(slot.ids)
        if slot.prompt_length >= self.config.max_episode_tokens:
            self._close(slot, truncation="episode_tokens")
        return slot

    def _finish(self, s: _Slot) -> EpisodeRollout:
        self.stats.model_tokens += sum(s.mask)
        r = s.result
        return EpisodeRollout(
            task_id=s.task.id, domain=s.task.domain, seed=s.seed, prompt_length=s.prompt_length,
            token_ids=s.ids, assistant_mask=s.mask, logprobs=s.logprobs, turns=s.turns,
            messages=s.messages, tools=s.tools, reward=float(r.get("reward", 0.0)),
            reward_terms=dict(r.get("reward_terms", {})), success=bool(r.get("success", False)),
            terminated=bool(r.get("terminated", False)), truncation=r.get("truncation"), task=s.task,
        )

    # --- the model and its cache ------------------------------------------------------------------

    def _forward(self, cache: _RowCache, slots: list[_Slot], rows: list[_Slot | None] | None = None) -> torch.Tensor:
        """Feed each of `slots` its pending ids (`ids[fed:]`) and return, one row per slot, the logits
        after its last one. Feeds are left-padded to one block; each row's keys and values are written
        right after what its cache row holds, the padding's after that (overwritten later), and a
        4D mask lets each query see exactly its own episode's earlier ids. Given `rows` (the episode in
        each row of the cache, or None), the pass covers every row (rows not in `slots` feed one pad
        token, written past what they hold), so decoding reads the cache in place instead of
        gathering rows."""
        members: list[_Slot | None] = list(slots) if rows is None else [s if s in slots else None for s in rows]
        feeds = [s.ids[s.fed :] if s is not None else [] for s in members]
        width = max(1, max(len(f) for f in feeds))
        holders = members if rows is None else rows
        starts = torch.tensor([s.fed if s is not None else 0 for s in holders])
        real = torch.tensor([len(f) for f in feeds])
        pad = width - real
        ids = torch.full((len(members), width), self.pad_id, dtype=torch.long)
        for b, f in enumerate(feeds):
            if f:
                ids[b, width - len(f) :] = torch.tensor(f)
        step = torch.arange(width)[None, :] - pad[:, None]  # index of each query among the row's real ids
        # where each query's keys and values go: real ids right after the row's cache, padding after them
        write = starts[:, None] + step % width
        positions = starts[:, None] + step.clamp(min=0)
        # the last cache position each query may see: its own (padding: the row's last cached id, or position 0)
        limit = torch.where(step < 0, (starts - 1).clamp(min=0)[:, None], positions)
        span = int(write.max()) + 1
        allowed = torch.arange(span)[None, None, :] <= limit[:, :, None]
        dtype = self.model.dtype if self.model.dtype.is_floating_point else torch.float32
        mask = torch.zeros(allowed.shape, dtype=dtype).masked_fill_(~allowed, torch.finfo(dtype).min)
        device = self.model.device
        cache.plan([s.row for s in slots] if rows is None else None, write.to(device), span)
        out = self.model(
            input_ids=ids.to(device), attention_mask=mask[:, None].to(device), position_ids=positions.to(device),
            cache=cache, use_cache=True, logits_to_keep=1,
        )
        for s, f in zip(members, feeds):
            if s is not None:
                s.fed += len(f)
        self.stats.forward_tokens += ids.numel()
        self.stats.forward_calls += 1
        logits = out.logits[:, -1, :].float()
        return logits if rows is None else logits[[s.row for s in slots]]

    def _sample(self, logits: torch.Tensor, slots: list[_Slot]) -> list[tuple[int, float]]:
        cfg = self.config
        scores = logits if cfg.temperature == 0 else logits / cfg.temperature
        logp = torch.log_softmax(scores, dim=-1)
        if self._names is not None:
            scores = self._constrain(scores, slots)
        if cfg.temperature == 0:
            chosen = scores.argmax(dim=-1)
        else:
            filtered = scores
            if cfg.top_k:
                filtered = _top_k(filtered, cfg.top_k)
            if cfg.top_p < 1.0:
                filtered = _top_p(filtered, cfg.top_p)
            probs = torch.softmax(filtered, dim=-1)
            chosen = torch.stack([torch.multinomial(probs[i], 1, generator=s.generator)[0] for i, s in enumerate(slots)])
        picked = logp.gather(1, chosen.unsqueeze(1)).squeeze(1)
        return list(zip(chosen.tolist(), picked.tolist()))

    def _constrain(self, scores: torch.Tensor, slots: list[_Slot]) -> torch.Tensor:
        """`scores` with every token that would name a tool the episode does not offer set to -inf (in its
        last allowed turn, with `submit_on_last_turn`: any tool but the task's final one)."""
        out = scores
        for i, s in enumerate(slots):
            names = s.tool_names if self.config.constrain_tool_names else None
            if self.config.submit_on_last_turn and len(s.turns) == self.config.max_turns - 1:
                names = [s.task.truth.final_tool]
            allowed = self._names.allowed(s.ids[s.turn_start :], names) if names else None
            if allowed is not None:
                if out is scores:
                    out = scores.clone()
                keep = torch.full_like(out[i], float("-inf"))
                keep[allowed] = 0.0
                out[i] += keep
        return out


class _RowCache(DynamicCache):
    """A KV cache of fixed rows, one per running episode, that each grow at their own pace.

    Row b's positions `0..fed-1` hold the keys and values of that episode's first `fed` ids, in
    order; what lies beyond is stale and masked. Before each forward pass the engine says which
    rows the pass covers (`None`: all of them, read in place) and where each query's keys and
    values go; `_RowLayer.update` writes them there. transformers' caches grow one shared length
    for all rows (a new episode or a long tool result would pad every other row), hence this one.
    """

    def __init__(self, model: Any, rows: int) -> None:
        super().__init__(config=model.config)
        if any(type(layer) is not DynamicLayer for layer in self.layers):
            raise ValueError("this model's cache layers do not all hold the full sequence (sliding-window "
                             "attention?); the rollout engine supports full-attention caches only")
        self.rows = rows
        self.layers = [_RowLayer(self) for _ in self.layers]
        self.members: torch.Tensor | None = None
        self.write: torch.Tensor | None = None
        self.span = 0

    def plan(self, members: list[int] | None, write: torch.Tensor, span: int) -> None:
        self.members = None if members is None else torch.tensor(members, device=write.device)
        self.write, self.span = write, span

    def copy_prefix(self, source: int, target: int, n: int) -> None:
        for layer in self.layers:
            if layer.key_buffer is not None:
                layer.key_buffer[target, :, :n] = layer.key_buffer[source, :, :n]
                layer.value_buffer[target, :, :n] = layer.value_buffer[source, :, :n]

    @property
    def bytes(self) -> int:
        return sum(x.numel() * x.element_size() for layer in self.layers
                   for x in (layer.key_buffer, layer.value_buffer) if x is not None)


class _RowLayer(DynamicLayer):
    """One layer of a `_RowCache`: key and value buffers of shape (rows, heads, capacity, head_dim)."""

    def __init__(self, cache: _RowCache) -> None:
        super().__init__()
        self.cache = cache
        self.key_buffer: torch.Tensor | None = None
        self.value_buffer: torch.Tensor | None = None

    def update(self, key_states: torch.Tensor, value_states: torch.Tensor, *args: Any, **kwargs: Any) -> Any:
        cache = self.cache
        self.is_initialized = True
        self.key_buffer = _room(self.key_buffer, key_states, cache.rows, cache.span)
        self.value_buffer = _room(self.value_buffer, value_states, cache.rows, cache.span)
        index = cache.write[:, None, :, None].expand(-1, key_states.shape[1], -1, key_states.shape[3])
        out = []
        for buffer, new in ((self.key_buffer, key_states), (self.value_buffer, value_states)):
            if cache.members is None:
                buffer.scatter_(2, index, new)
                out.append(buffer[:, :, : cache.span])
            else:
                part = buffer[cache.members, :, : cache.span]
                part.scatter_(2, index, new)
                buffer[cache.members, :, : cache.span] = part
                out.append(part)
        self.keys, self.values = out
        return out[0], out[1]

    def get_seq_length(self) -> int:
        return self.cache.span

    def get_mask_sizes(self, query_length: int) -> tuple[int, int]:
        return self.cache.span, 0


def _room(buffer: torch.Tensor | None, new: torch.Tensor, rows: int, span: int) -> torch.Tensor:
    """`buffer`, or a larger copy of it (by half, at least `span` positions) when `span` does not fit."""
    if buffer is not None and buffer.shape[2] >= span:
        return buffer
    grown = new.new_zeros((rows, new.shape[1], span * 3 // 2 + 64, new.shape[3]))
    if buffer is not None:
        grown[:, :, : buffer.shape[2]] = buffer
    return grown


def _similar_lengths(slots: list[_Slot], waste: float = 0.25) -> list[list[_Slot]]:
    """`slots` (sorted by pending length) in groups whose left padding costs at most `waste` of the
    group's real tokens."""
    groups: list[list[_Slot]] = []
    for s in slots:
        if groups:
            group = groups[-1]
            longest = len(s.ids) - s.fed
            real = sum(len(g.ids) - g.fed for g in group) + longest
            if longest * (len(group) + 1) <= (1 + waste) * real:
                group.append(s)
                continue
        groups.append([s])
    return groups


def _common_prefix(a: list[int], b: list[int]) -> int:
    """Length of the common prefix of two id lists."""
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return n


def _default_env(task: Task, config: RolloutConfig) -> Any:
    from medgym.env import EncounterEnv

    return EncounterEnv(tasks=[task], split=None, max_turns=config.max_turns, reward=config.reward,
                        patient_matcher=config.patient_matcher)


def _as_list(value: Any) -> list[int]:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _top_k(scores: torch.Tensor, k: int) -> torch.Tensor:
    from transformers.generation.logits_process import TopKLogitsWarper

    return TopKLogitsWarper(top_k=k)(None, scores)


def _top_p(scores: torch.Tensor, p: float) -> torch.Tensor:
    from transformers.generation.logits_process import TopPLogitsWarper

    return TopPLogitsWarper(top_p=p)(None, scores)


def to_trl(episodes: Sequence[EpisodeRollout]) -> dict[str, list[Any]]:
    """The dict TRL's `GRPOTrainer` expects back from a `rollout_func`: `prompt_ids`,
    `completion_ids`, `logprobs` (one per completion token) and `env_mask` (1 = model token,
    trained on; 0 = environment token), plus extra fields that TRL forwards to reward functions
    (`reward`, `success`, `reward_terms`, `task_id`, `turns`, `tool_calls`, `truncated`)."""
    return {
        "prompt_ids": [e.prompt_ids for e in episodes],
        "completion_ids": [e.completion_ids for e in episodes],
        "logprobs": [e.completion_logprobs for e in episodes],
        "env_mask": [e.env_mask for e in episodes],
        "reward": [e.reward for e in episodes],
        "success": [e.success for e in episodes],
        "reward_terms": [e.reward_terms for e in episodes],
        "task_id": [e.task_id for e in episodes],
        "turns": [len(e.turns) for e in episodes],
        "tool_calls": [e.tool_calls for e in episodes],
        "truncated": [e.truncated for e in episodes],
    }


def opening_messages(task: Task, config: RolloutConfig = RolloutConfig()) -> list[dict[str, Any]]:
    """The chat an episode of `task` opens with (system prompt and presentation), as the env sends it."""
    env = _default_env(task, config)
    _, info = env.reset(seed=0)
    return info["messages"]


def trl_rollout_func(
    tokenizer: Any, tasks: Sequence[Task], config: RolloutConfig = RolloutConfig(), seed: int = 0
) -> Callable[[list[Any], Any], dict[str, list[Any]]]:
    """A `rollout_func` for TRL's `GRPOTrainer` that plays `tasks` with the model being trained.

    The training dataset's `prompt` column holds `opening_messages(task)` (TRL repeats each
    prompt `num_generations` times); each prompt is matched back to its task by the
    presentation text, and every call uses a new seed derived from `seed` and the trainer's step.
    """
    by_opening = {opening_messages(t, config)[-1]["content"]: t for t in tasks}

    def rollout_func(prompts: list[Any], trainer: Any) -> dict[str, list[Any]]:
        chosen = []
        for p in prompts:
            text = p[-1]["content"] if isinstance(p, list) else p
            if text not in by_opening:
                raise KeyError("a prompt does not match any task's opening presentation; build the dataset "
                               "prompts with medgym.rollout.opening_messages(task)")
            chosen.append(by_opening[text])
        engine = RolloutEngine(trainer.model, tokenizer, config)
        step = int(getattr(getattr(trainer, "state", None), "global_step", 0))
        return to_trl(engine.run(chosen, seed=stable_seed("grpo", seed, step) % 2**31))

    return rollout_func
