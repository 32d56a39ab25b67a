"""Batched multi-turn rollouts: a language model plays N encounters at once.

    from medgym.rollout import RolloutConfig, RolloutEngine, to_trl
    engine = RolloutEngine(model, tokenizer, RolloutConfig(batch_size=16, temperature=1.0))
    episodes = engine.run(tasks, seed=0)          # list[EpisodeRollout], in the order of `tasks`
    batch = to_trl(episodes)                      # what TRL's GRPOTrainer `rollout_func` returns

How it works. Up to `batch_size` episodes share one KV cache (a
`transformers.DynamicCache`, rows left-padded). Each round feeds every running
episode's pending tokens (what the environment said since its last turn) in one
forward pass, and the opening prompts of episodes that join in a cache of their
own (prompts that begin alike, such as one domain's system prompt and tools or
a GRPO group's identical prompts, compute their common prefix once), then
decodes one token per step for all episodes until each has emitted the
end-of-turn token or hit a limit. An
episode's environment is stepped the moment its turn ends; the ids of what the
environment says back (tool results, the patient's reply and the next
generation prompt) are appended and wait for the next round's forward pass.
Finished episodes leave the batch, queued ones join it, and the cache is
compacted so padding never accumulates.

Token ids are concatenated exactly as generated and are never re-tokenized:
the model's own tokens come from sampling, and only the environment's new
messages are tokenized (the text the chat template adds after the model's
end-of-turn token). `EpisodeRollout.token_ids` is therefore exactly the
sequence the model conditioned on, and `assistant_mask` marks exactly the
tokens it sampled.

Logprobs are `log_softmax(logits / temperature)` of the sampled token (before
top-k / top-p filtering), the quantity TRL recomputes for its importance
ratios; 0.0 where the mask is 0. With `temperature=0` decoding is greedy and
logprobs use temperature 1. On CPU a config and seed give the same rollouts
(each episode has its own sampling generator and environment seed).
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import torch
from transformers.cache_utils import DynamicCache, DynamicLayer

from medgym.encounter import stable_seed
from medgym.tasks.schema import Task

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
        self.ids: list[int] = []
        self.mask: list[int] = []
        self.logprobs: list[float] = []
        self.fed = 0  # how many of `ids` are in the KV cache
        self.turn_start = 0
        self.generating = False
        self.turns: list[TurnRecord] = []
        self.messages: list[dict[str, Any]] = []
        self.tools: list[dict[str, Any]] = []
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
        slots: list[_Slot] = []
        cache, cache_mask = None, None
        try:
            while queue or slots:
                joined = []
                while queue and len(slots) < self.config.batch_size:
                    i, task = queue.pop(0)
                    slot = self._start(i, task, seed)
                    if slot.done:
                        results[i] = self._finish(slot)
                        bar.update(1)
                    else:
                        slots.append(slot)
                        joined.append(slot)
                if not slots:
                    continue
                cache, cache_mask = self._round(slots, joined, cache, cache_mask)
                keep = [b for b, s in enumerate(slots) if not s.done]
                for s in slots:
                    if s.done:
                        results[s.index] = self._finish(s)
                        bar.update(1)
                slots = [slots[b] for b in keep]
                cache, cache_mask = self._compact(cache, cache_mask, keep)
        finally:
            bar.close()
            if was_training:
                self.model.train()
        self.stats.episodes = len(results)
        self.stats.seconds = time.perf_counter() - start
        return [results[i] for i in range(len(resolved))]

    # --- one round: feed pending tokens, decode until every turn has ended --------------------------

    def _round(
        self, slots: list[_Slot], joined: list[_Slot], cache: Any, cache_mask: torch.Tensor | None
    ) -> tuple[Any, torch.Tensor]:
        """Feed what is pending (the environment's replies to running episodes; the opening prompts
        of the episodes that just `joined`, which are the last rows), then decode until every
        episode's turn has ended."""
        running = slots[: len(slots) - len(joined)]
        parts, logits_parts = [], []
        if running:
            logits, cache, cache_mask = self._feed(running, [s.ids[s.fed :] for s in running], cache, cache_mask)
            parts.append((cache, cache_mask))
            logits_parts.append(logits)
        if joined:
            logits, new_cache, new_mask = self._prefill(joined)
            parts.append((new_cache, new_mask))
            logits_parts.append(logits)
        cache, cache_mask = _stack_rows(parts)
        logits = torch.cat(logits_parts)
        for s in slots:
            s.generating, s.turn_start = True, len(s.ids)
        rows = list(range(len(slots)))  # the slot of each row of `cache` (and of `logits`)
        parked: list[tuple[Any, torch.Tensor]] = []  # caches of rows whose turn ended, set aside
        parked_rows: list[int] = []
        active = list(rows)
        while active:
            where = {b: r for r, b in enumerate(rows)}
            tokens = self._sample(logits, [slots[b] for b in active], [where[b] for b in active])
            active = [b for b, token in zip(active, tokens) if self._after_token(slots[b], token)]
            if not active:
                break
            if len(rows) >= 4 and 2 * len(active) <= len(rows):
                # Most turns have ended: decode the rest in a smaller cache instead of padding every row.
                done = [b for b in rows if b not in active]
                parked.append(self._compact(cache, cache_mask, [where[b] for b in done]))
                parked_rows += done
                logits = logits[[where[b] for b in active]]
                cache, cache_mask = self._compact(cache, cache_mask, [where[b] for b in active])
                rows = list(active)
            feed = [[slots[b].ids[-1]] if slots[b].generating else [] for b in rows]
            logits, cache, cache_mask = self._forward([slots[b] for b in rows], feed, cache, cache_mask)
        if parked:
            cache, cache_mask = _stack_rows([*parked, (cache, cache_mask)])
            rows = parked_rows + rows
        return self._reorder(cache, cache_mask, rows)

    def _feed(
        self, slots: list[_Slot], feeds: list[list[int]], cache: Any, cache_mask: torch.Tensor
    ) -> tuple[torch.Tensor, Any, torch.Tensor]:
        """Feed each row its pending ids without padding: rows with as many pending ids go through the
        model together, each such bucket in a cache of its own; the caches are merged back in row order."""
        buckets: dict[int, list[int]] = {}
        for r, f in enumerate(feeds):
            buckets.setdefault(len(f), []).append(r)
        if 0 in buckets:
            raise ValueError("a row has nothing to feed")
        if len(buckets) == 1:
            return self._forward(slots, feeds, cache, cache_mask)
        parts, logits_parts, order = [], [], []
        for rows in buckets.values():
            if cache_mask.shape[1]:
                part_cache, part_mask = self._compact(cache, cache_mask, rows)
            else:
                part_cache, part_mask = self._empty_cache(), torch.zeros((len(rows), 0), dtype=torch.long)
            logits, part_cache, part_mask = self._forward([slots[r] for r in rows], [feeds[r] for r in rows],
                                                          part_cache, part_mask)
            parts.append((part_cache, part_mask))
            logits_parts.append(logits)
            order += rows
        cache, cache_mask = self._reorder(*_stack_rows(parts), order)
        return torch.cat(logits_parts)[_positions(order)], cache, cache_mask

    def _prefill(self, joined: list[_Slot]) -> tuple[torch.Tensor, Any, torch.Tensor]:
        """Opening prompts of new episodes in a cache of their own, rows in `joined` order. Episodes
        whose prompts begin alike (the same system prompt and tools; a GRPO group's identical
        prompts) share that prefix: it is computed once and its keys and values copied to each row."""
        groups: list[tuple[list[int], list[int]]] = []  # (shared prefix, rows in `joined`)
        for b, s in enumerate(joined):
            for g, (prefix, rows) in enumerate(groups):
                n = min(_common_prefix(prefix, s.ids), len(s.ids) - 1)  # each row keeps >= 1 token to feed
                if n >= SHARED_PREFIX_MIN:
                    groups[g] = (prefix[:n], rows + [b])
                    break
            else:
                groups.append((s.ids[: len(s.ids) - 1], [b]))
        parts, order = [], []
        for prefix, rows in groups:
            if len(rows) > 1:
                first, *others = [joined[b] for b in rows]
                _, g_cache, g_mask = self._forward([first], [prefix], self._empty_cache(),
                                                   torch.zeros((1, 0), dtype=torch.long))
                for s in others:
                    s.fed = len(prefix)
                self.stats.shared_prefix_tokens += len(prefix) * len(others)
                parts.append(_repeat_rows(g_cache, g_mask, len(rows)))
            else:
                parts.append((self._empty_cache(), torch.zeros((1, 0), dtype=torch.long)))
            order += rows
        members = [joined[b] for b in order]
        logits, cache, cache_mask = self._feed(members, [s.ids[s.fed :] for s in members], *_stack_rows(parts))
        cache, cache_mask = self._reorder(cache, cache_mask, order)  # group order -> `joined` order
        return logits[_positions(order)], cache, cache_mask

    def _reorder(self, cache: Any, cache_mask: torch.Tensor, rows: list[int]) -> tuple[Any, torch.Tensor]:
        """The cache whose row r holds item `rows[r]`, put in item order 0, 1, 2, ..."""
        if rows == list(range(len(rows))):
            return cache, cache_mask
        return self._compact(cache, cache_mask, _positions(rows))

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
        return self.tokenizer(text, add_special_tokens=False)["input_ids"]

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
        text = self._render(slot.messages, slot.tools, generation_prompt=True)
        slot.ids = self.tokenizer(text, add_special_tokens=False)["input_ids"]
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

    def _forward(
        self, slots: list[_Slot], feed: list[list[int]], cache: Any, cache_mask: torch.Tensor
    ) -> tuple[torch.Tensor, Any, torch.Tensor]:
        """Append `feed[b]` (left-padded to a block) to every row of the cache; return the logits
        at the block's last position."""
        device = self.model.device
        width = max(len(f) for f in feed)
        ids = torch.full((len(slots), width), self.pad_id, dtype=torch.long)
        block_mask = torch.zeros((len(slots), width), dtype=torch.long)
        positions = torch.zeros((len(slots), width), dtype=torch.long)
        for b, (s, f) in enumerate(zip(slots, feed)):
            if f:
                ids[b, width - len(f) :] = torch.tensor(f)
                block_mask[b, width - len(f) :] = 1
                positions[b, width - len(f) :] = torch.arange(s.fed, s.fed + len(f))
                s.fed += len(f)
        mask = torch.cat([cache_mask, block_mask], dim=1)
        out = self.model(
            input_ids=ids.to(device), attention_mask=mask.to(device), position_ids=positions.to(device),
            past_key_values=cache, use_cache=True, logits_to_keep=1,
        )
        self.stats.forward_tokens += ids.numel()
        self.stats.forward_calls += 1
        cache = out.past_key_values
        held = sum(x.numel() * x.element_size() for layer in cache.layers for x in (layer.keys, layer.values)
                   if x is not None)
        self.stats.peak_cache_bytes = max(self.stats.peak_cache_bytes, held)
        return out.logits[:, -1, :].float(), cache, mask

    def _sample(self, logits: torch.Tensor, slots: list[_Slot], rows: list[int]) -> list[tuple[int, float]]:
        cfg = self.config
        scores = logits[rows]
        if cfg.temperature == 0:
            logp = torch.log_softmax(scores, dim=-1)
            chosen = scores.argmax(dim=-1)
        else:
            scores = scores / cfg.temperature
            logp = torch.log_softmax(scores, dim=-1)
            filtered = scores
            if cfg.top_k:
                filtered = _top_k(filtered, cfg.top_k)
            if cfg.top_p < 1.0:
                filtered = _top_p(filtered, cfg.top_p)
            probs = torch.softmax(filtered, dim=-1)
            chosen = torch.stack([torch.multinomial(probs[i], 1, generator=s.generator)[0] for i, s in enumerate(slots)])
        picked = logp.gather(1, chosen.unsqueeze(1)).squeeze(1)
        return list(zip(chosen.tolist(), picked.tolist()))

    def _empty_cache(self) -> Any:
        cache = DynamicCache(config=self.model.config)
        cache.layers = [_GrowingLayer() if type(layer) is DynamicLayer else layer for layer in cache.layers]
        return cache

    def _compact(self, cache: Any, cache_mask: torch.Tensor, keep: list[int]) -> tuple[Any, torch.Tensor]:
        """A new cache with the rows in `keep`, in that order, without padding columns: each row's
        real entries, in order, are moved to the right end (left padding). Keys already carry their
        rotary positions, and attention treats cached entries as a set under the mask, so moving
        them changes nothing. `cache` itself is left as it was."""
        if not keep:
            return None, None
        cache = copy.copy(cache)
        cache.layers = [copy.copy(layer) for layer in cache.layers]
        mask = cache_mask[keep]
        lengths = mask.sum(dim=1)
        width = int(lengths.max())
        # For each row: the indices of its real entries, right-aligned; padding picks index 0 (masked).
        order = torch.argsort(mask * torch.arange(1, mask.shape[1] + 1), dim=1, stable=True)
        index = order[:, mask.shape[1] - width :]
        new_mask = (torch.arange(width) >= (width - lengths)[:, None]).long()
        rows = torch.tensor(keep)
        for layer in _cache_layers(cache):
            if getattr(layer, "is_sliding", False) or layer.keys.shape[-2] != cache_mask.shape[1]:
                raise ValueError("this model's cache layers do not all hold the full sequence (sliding-window "
                                 "attention?); the rollout engine supports full-attention caches only")
            idx = index.to(layer.keys.device)[:, None, :, None].expand(-1, layer.keys.shape[1], -1, layer.keys.shape[3])
            layer.keys = layer.keys[rows.to(layer.keys.device)].gather(2, idx)
            layer.values = layer.values[rows.to(layer.values.device)].gather(2, idx)
        return cache, new_mask


class _GrowingLayer(DynamicLayer):
    """transformers' `DynamicLayer` that appends into spare capacity (grown by half when full)
    instead of concatenating: `DynamicLayer.update` copies the whole cache at every decoded token,
    which made that copy a large part of a batched decode step on CPU. `keys` and `values` are
    views of the filled part; assigning them (as the engine's compaction does) replaces the buffers."""

    def __init__(self, **kwargs: Any) -> None:
        self._key_buffer = self._value_buffer = None
        self._key_length = self._value_length = 0
        super().__init__(**kwargs)

    @property
    def keys(self) -> torch.Tensor | None:
        return _filled_part(self._key_buffer, self._key_length)

    @keys.setter
    def keys(self, value: torch.Tensor | None) -> None:
        self._key_buffer, self._key_length = value, _length(value)

    @property
    def values(self) -> torch.Tensor | None:
        return _filled_part(self._value_buffer, self._value_length)

    @values.setter
    def values(self, value: torch.Tensor | None) -> None:
        self._value_buffer, self._value_length = value, _length(value)

    def update(self, key_states: torch.Tensor, value_states: torch.Tensor, *args: Any, **kwargs: Any) -> Any:
        if not self.is_initialized:
            self.lazy_initialization(key_states, value_states)
        n, t = self._key_length, key_states.shape[2]
        buffers = []
        for buf, new in ((self._key_buffer, key_states), (self._value_buffer, value_states)):
            if buf is None or buf.dim() != 4 or buf.shape[0] != new.shape[0] or buf.shape[2] < n + t:
                grown = new.new_empty((new.shape[0], new.shape[1], (n + t) * 3 // 2 + 64, new.shape[3]))
                if n:
                    grown[:, :, :n] = buf[:, :, :n]
                buf = grown
            buf[:, :, n : n + t] = new
            buffers.append(buf)
        self._key_buffer, self._value_buffer = buffers
        self._key_length = self._value_length = n + t
        return self.keys, self.values


def _length(buffer: torch.Tensor | None) -> int:
    return buffer.shape[2] if buffer is not None and buffer.dim() == 4 else 0


def _filled_part(buffer: torch.Tensor | None, filled: int) -> torch.Tensor | None:
    return buffer[:, :, :filled] if buffer is not None and buffer.dim() == 4 else buffer


def _positions(rows: list[int]) -> list[int]:
    """For items 0, 1, 2, ..., the position each holds in `rows` (the inverse permutation)."""
    return sorted(range(len(rows)), key=rows.__getitem__)


def _common_prefix(a: list[int], b: list[int]) -> int:
    """Length of the common prefix of two id lists."""
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return n


def _cache_layers(cache: Any) -> list[Any]:
    return [layer for layer in cache.layers if getattr(layer, "keys", None) is not None and layer.keys.numel()]


def _repeat_rows(cache: Any, cache_mask: torch.Tensor, n: int) -> tuple[Any, torch.Tensor]:
    """A one-row cache copied to `n` rows."""
    for layer in _cache_layers(cache):
        layer.keys = layer.keys.expand(n, -1, -1, -1).contiguous()
        layer.values = layer.values.expand(n, -1, -1, -1).contiguous()
    return cache, cache_mask.expand(n, -1).contiguous()


def _stack_rows(parts: list[tuple[Any, torch.Tensor]]) -> tuple[Any, torch.Tensor]:
    """One cache with the rows of every (cache, mask) in `parts`, in order; narrower ones are
    left-padded (masked). A part with no entries yet (width 0) becomes padding."""
    if len(parts) == 1:
        return parts[0]
    width = max(mask.shape[1] for _, mask in parts)
    masks = torch.cat([torch.nn.functional.pad(mask, (width - mask.shape[1], 0)) for _, mask in parts])
    filled = [bool(mask.shape[1] and _cache_layers(cache)) for cache, mask in parts]
    if not any(filled):
        return parts[0][0], masks
    out = copy.copy(parts[filled.index(True)][0])
    out.layers = [copy.copy(layer) for layer in out.layers]
    for i, layer in enumerate(out.layers):
        if getattr(layer, "keys", None) is None or not layer.keys.numel():
            continue
        keys, values = [], []
        for (cache, mask), has_entries in zip(parts, filled):
            if has_entries:
                k, v = cache.layers[i].keys, cache.layers[i].values
                keys.append(torch.nn.functional.pad(k, (0, 0, width - k.shape[2], 0)))
                values.append(torch.nn.functional.pad(v, (0, 0, width - v.shape[2], 0)))
            else:
                keys.append(layer.keys.new_zeros((mask.shape[0], layer.keys.shape[1], width, layer.keys.shape[3])))
                values.append(layer.values.new_zeros((mask.shape[0], layer.values.shape[1], width,
                                                      layer.values.shape[3])))
        layer.keys, layer.values = torch.cat(keys), torch.cat(values)
    return out, masks


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
