"""The batched rollout engine with the real tiny model, real tokenizer and real environment."""

import pytest
import torch

from medgym.models.trajectories import select_tasks
from medgym.rollout import EpisodeRollout, RolloutConfig, RolloutEngine, to_trl

FAST = dict(patient_matcher="lexical", max_turns=5)


@pytest.fixture(scope="module")
def held_out(tiny_tasks):
    return select_tasks([t for t in tiny_tasks if t.split == "test"], 6, seed=0)


@pytest.fixture(scope="module")
def sampled(tiny_model, held_out):
    model, tok = tiny_model
    engine = RolloutEngine(model, tok, RolloutConfig(batch_size=4, temperature=1.0, **FAST))
    return engine.run(held_out, seed=0)


@pytest.fixture(scope="module")
def greedy(tiny_model, held_out):
    model, tok = tiny_model
    return RolloutEngine(model, tok, RolloutConfig(batch_size=3, temperature=0, **FAST)).run(held_out[:3])


def _segments_decode(tok, e: EpisodeRollout):
    return [tok.decode(e.token_ids[t.start:t.end], skip_special_tokens=False) for t in e.turns]


def test_masks_cover_exactly_the_model_tokens(tiny_model, sampled):
    _, tok = tiny_model
    for e in sampled:
        n = len(e.token_ids)
        assert len(e.assistant_mask) == len(e.logprobs) == n
        model_positions = {i for t in e.turns for i in range(t.start, t.end)}
        assert {i for i, m in enumerate(e.assistant_mask) if m} == model_positions
        assert all(e.assistant_mask[i] == 0 for i in range(e.prompt_length))
        for t, text in zip(e.turns, _segments_decode(tok, e)):
            ended = tok.eos_token if t.ended == "end_of_turn" else ""
            assert text == t.text + ended  # the model's tokens are exactly what the env was given
        assert all(lp <= 0 for lp, m in zip(e.logprobs, e.assistant_mask) if m)
        assert all(lp == 0 for lp, m in zip(e.logprobs, e.assistant_mask) if not m)


def test_token_ids_decode_to_the_transcript(tiny_model, sampled, greedy):
    """The ids are concatenated as generated, never re-tokenized: decoding them gives the prompt, each
    turn as the model wrote it and each environment reply exactly as the chat template renders it."""
    _, tok = tiny_model
    whole = 0
    for e in sampled + greedy:
        assert tok.decode(e.prompt_ids, skip_special_tokens=False) == tok.apply_chat_template(
            e.messages[:2], tools=e.tools, tokenize=False, add_generation_prompt=True)
        assistant_at = [i for i, m in enumerate(e.messages) if m["role"] == "assistant"]
        assert len(assistant_at) == len(e.turns)
        for k, t in enumerate(e.turns[:-1]):
            before = tok.apply_chat_template(e.messages[: assistant_at[k] + 1], tools=e.tools, tokenize=False)
            after = tok.apply_chat_template(e.messages[: assistant_at[k + 1]], tools=e.tools, tokenize=False,
                                            add_generation_prompt=True)
            env_text = after[before.rindex(tok.eos_token) + len(tok.eos_token):]
            forced = tok.eos_token if t.truncated else ""
            assert tok.decode(e.token_ids[t.end:e.turns[k + 1].start], skip_special_tokens=False) == forced + env_text
            assert t.env_tokens == e.turns[k + 1].start - t.end
        # where the model wrote each call as the template writes it (well formed, no repeated JSON key,
        # which parses but renders once), the whole sequence is the template's rendering
        def rendered(i):
            text = tok.apply_chat_template(e.messages[: i + 1], tools=e.tools, tokenize=False)
            return text[text.rindex("<|im_start|>assistant\n") + len("<|im_start|>assistant\n"): text.rindex(tok.eos_token)]

        if all(t.valid_calls == t.tool_calls > 0 and not t.truncated and t.text == rendered(i)
               for t, i in zip(e.turns, assistant_at)):
            last = tok.apply_chat_template(e.messages[: assistant_at[-1] + 1], tools=e.tools, tokenize=False)
            assert tok.decode(e.token_ids, skip_special_tokens=False) == last.rstrip("\n")
            whole += 1
    assert whole >= 1  # the tiny model writes well-formed calls greedily, so the strongest check ran


def test_sampling_logprobs_match_a_full_forward_pass(tiny_model, sampled):
    """The KV-cached, padded, compacted batch gives the same logprobs as one plain forward pass."""
    model, _ = tiny_model
    for e in sampled[:3]:
        with torch.no_grad():
            logits = model(input_ids=torch.tensor([e.token_ids])).logits[0].float()
        logp = torch.log_softmax(logits, dim=-1)
        for i, (m, lp) in enumerate(zip(e.assistant_mask, e.logprobs)):
            if m:
                assert abs(logp[i - 1, e.token_ids[i]].item() - lp) < 1e-3


def test_same_seed_same_rollouts_other_seed_differs(tiny_model, held_out, sampled):
    model, tok = tiny_model
    engine = RolloutEngine(model, tok, RolloutConfig(batch_size=4, temperature=1.0, **FAST))
    again = engine.run(held_out, seed=0)
    assert [e.token_ids for e in again] == [e.token_ids for e in sampled]
    assert [e.reward_terms for e in again] == [e.reward_terms for e in sampled]
    other = engine.run(held_out, seed=1)
    assert [e.token_ids for e in other] != [e.token_ids for e in sampled]


def test_batched_greedy_equals_one_at_a_time(tiny_model, held_out):
    model, tok = tiny_model
    one = RolloutEngine(model, tok, RolloutConfig(batch_size=1, temperature=0, **FAST)).run(held_out[:3])
    many = RolloutEngine(model, tok, RolloutConfig(batch_size=3, temperature=0, **FAST)).run(held_out[:3])
    assert [e.token_ids for e in one] == [e.token_ids for e in many]


def test_queued_episodes_take_freed_rows_and_still_play_as_one_at_a_time(tiny_model, held_out):
    """Six episodes in two rows: episodes end at different steps, queued ones take the freed row
    (whose old keys and values are stale) while the other row goes on decoding."""
    model, tok = tiny_model
    one = RolloutEngine(model, tok, RolloutConfig(batch_size=1, temperature=0, **FAST))
    alone = one.run(held_out)
    two = RolloutEngine(model, tok, RolloutConfig(batch_size=2, temperature=0, **FAST))
    together = two.run(held_out)
    assert [e.token_ids for e in together] == [e.token_ids for e in alone]
    assert len({len(e.token_ids) for e in alone}) > 1  # they do end at different steps
    assert two.stats.forward_calls < one.stats.forward_calls
    for engine in (one, two):  # the time split between feeding prompts/replies and decoding
        stats = engine.stats
        assert stats.feed_seconds > 0 and stats.decode_seconds > 0
        assert stats.feed_seconds + stats.decode_seconds <= stats.seconds


def test_prompts_that_begin_alike_share_their_prefix_and_play_as_one_at_a_time(tiny_model, held_out):
    """A GRPO-like group (one task three times) and another task: the group's prompt prefix is
    computed once and copied, and greedy decoding still gives exactly the one-at-a-time tokens."""
    model, tok = tiny_model
    tasks = [held_out[0]] * 3 + [held_out[1]]
    one = RolloutEngine(model, tok, RolloutConfig(batch_size=1, temperature=0, **FAST))
    alone = one.run(tasks)
    assert one.stats.shared_prefix_tokens == 0
    many = RolloutEngine(model, tok, RolloutConfig(batch_size=4, temperature=0, **FAST))
    together = many.run(tasks)
    assert many.stats.shared_prefix_tokens >= 2 * (alone[0].prompt_length - 1)
    assert [e.token_ids for e in together] == [e.token_ids for e in alone]
    for a, b in zip(together, alone):
        assert a.logprobs == pytest.approx(b.logprobs, abs=1e-4)


def test_per_turn_limit_cuts_and_flags_and_env_reports_the_broken_call(tiny_model, held_out):
    model, tok = tiny_model
    engine = RolloutEngine(model, tok, RolloutConfig(batch_size=2, temperature=0, max_turn_tokens=3,
                                                     patient_matcher="lexical", max_turns=3))
    for e in engine.run(held_out[:2]):
        assert e.turns and all(t.ended == "turn_tokens" and t.tokens == 3 for t in e.turns)
        assert e.truncation == "max_turns" and e.truncated and not e.success
        # the cut-off call reaches the env as text and comes back as an error observation
        assert any("never closed" in m["content"] for m in e.messages if m["role"] == "tool")
        assert sum(t.invalid_calls for t in e.turns) >= 1
        # the end-of-turn token the engine appended after a cut turn is not the model's
        for t in e.turns[:-1]:
            assert e.token_ids[t.end] == tok.eos_token_id and e.assistant_mask[t.end] == 0


def test_episode_token_limit_truncates(tiny_model, held_out):
    model, tok = tiny_model
    prompt = RolloutEngine(model, tok, RolloutConfig(max_episode_tokens=10_000)).run(held_out[:1])[0].prompt_length
    limit = prompt + 40
    e = RolloutEngine(model, tok, RolloutConfig(temperature=0, max_episode_tokens=limit, **FAST)).run(held_out[:1])[0]
    assert e.truncation == "episode_tokens" and not e.terminated
    assert len(e.token_ids) <= limit
    tiny = RolloutEngine(model, tok, RolloutConfig(max_episode_tokens=prompt, **FAST)).run(held_out[:1])[0]
    assert tiny.truncation == "episode_tokens" and tiny.turns == [] and tiny.completion_ids == []


def test_to_trl_matches_the_grpo_rollout_contract(sampled):
    out = to_trl(sampled)
    for key in ("prompt_ids", "completion_ids", "logprobs", "env_mask"):
        assert len(out[key]) == len(sampled)
    for e, p, c, lp, m in zip(sampled, out["prompt_ids"], out["completion_ids"], out["logprobs"], out["env_mask"]):
        assert p + c == e.token_ids
        assert len(lp) == len(m) == len(c)
        assert sum(m) == e.model_tokens
        spans = e.turn_spans("completion")
        assert all(m[s:t] == [1] * (t - s) for s, t in spans)
    assert out["reward"] == [e.reward for e in sampled]


def test_tool_names_allow_exactly_the_offered_names(tiny_model):
    """With the real tokenizer: each offered name's own tokenization passes the constraint token by
    token, a name that is not offered is blocked at some token, and every allowed token keeps the call
    on the way to an offered name."""
    from medgym.tools.calls import format_call
    from medgym.tools.constrain import ToolNames

    _, tok = tiny_model
    names = ToolNames(tok)
    offered = ["check_interaction", "lookup_drug", "submit_answer"]

    def blocked(name: str) -> bool:
        ids = tok(format_call(name, {"drug": "warfarin"}), add_special_tokens=False)["input_ids"]
        steps = [names.allowed(ids[:i], offered) for i in range(len(ids))]
        assert steps[0] is None and steps[-1] is None  # before the call opens, and after the name: free
        return any(a is not None and ids[i] not in a for i, a in enumerate(steps))

    assert not any(blocked(n) for n in offered)
    assert blocked("order_lab") and blocked("check_interactions") and blocked("lookup")
    opened = tok('Checking. <tool_call>{"name": "', add_special_tokens=False)["input_ids"]
    allowed = names.allowed(opened, offered)
    assert allowed and len(allowed) < len(tok) // 10
    for i in allowed:
        text = tok.decode([i])
        assert any((o + '"').startswith(text) or text.startswith(o + '"') for o in offered)
    assert names.allowed(tok('plain text', add_special_tokens=False)["input_ids"], offered) is None


def test_constrained_rollouts_name_only_offered_tools_and_keep_the_model_logprobs(tiny_model, held_out):
    """Every token the engine sampled inside a call's name was one the constraint allowed, no call
    names an unknown tool, and the recorded logprobs are still the model's own (unconstrained)."""
    from medgym.tools.constrain import ToolNames, tool_names

    model, tok = tiny_model
    engine = RolloutEngine(model, tok, RolloutConfig(batch_size=4, temperature=1.5, constrain_tool_names=True,
                                                     **FAST))
    episodes = engine.run(held_out, seed=3)
    names, checked = ToolNames(tok), 0
    for e in episodes:
        offered = tool_names(e.tools)
        for t in e.turns:
            for i in range(t.start, t.end):
                allowed = names.allowed(e.token_ids[t.start:i], offered)
                if allowed is not None:
                    assert e.token_ids[i] in allowed
                    checked += 1
        assert not any("Unknown tool" in m["content"] for m in e.messages if m["role"] == "tool")
    assert checked >= 10
    e = max(episodes, key=lambda e: e.model_tokens)
    with torch.no_grad():
        logp = torch.log_softmax(model(input_ids=torch.tensor([e.token_ids])).logits[0].float() / 1.5, dim=-1)
    for i, (m, lp) in enumerate(zip(e.assistant_mask, e.logprobs)):
        if m:
            assert abs(logp[i - 1, e.token_ids[i]].item() - lp) < 1e-3


def test_submit_on_last_turn_lets_the_last_turn_call_only_the_final_tool(tiny_model, held_out):
    """With `submit_on_last_turn`, a call in an episode's last allowed turn can only be its final tool
    (every sampled name token there was allowed for that name alone), and everything before that turn
    is token for token what the same seed samples without the constraint."""
    from dataclasses import replace

    from medgym.tasks.store import get_task
    from medgym.tools.calls import parse_action
    from medgym.tools.constrain import ToolNames

    model, tok = tiny_model
    config = RolloutConfig(batch_size=4, temperature=1.5, submit_on_last_turn=True, **{**FAST, "max_turns": 3})
    episodes = RolloutEngine(model, tok, config).run(held_out * 2, seed=5)
    free = RolloutEngine(model, tok, replace(config, submit_on_last_turn=False)).run(held_out * 2, seed=5)
    names, last_calls, reached = ToolNames(tok), [], 0
    for e, f in zip(episodes, free):
        if len(e.turns) < config.max_turns:  # it ended before its last turn: nothing was constrained
            assert e.token_ids == f.token_ids
            continue
        reached += 1
        last = e.turns[-1]
        assert e.token_ids[: last.start] == f.token_ids[: last.start]
        final = get_task(e.task_id).truth.final_tool
        called = [c.name for c in parse_action(last.text).calls]
        assert set(called) <= {final}
        last_calls += called
        for i in range(last.start, last.end):
            allowed = names.allowed(e.token_ids[last.start:i], [final])
            assert allowed is None or e.token_ids[i] in allowed
    assert reached and last_calls  # some episodes reached their last turn and called the final tool there
    assert any(e.token_ids != f.token_ids for e, f in zip(episodes, free))  # the constraint changed some


def test_engine_rejects_a_tokenizer_without_chat_template(tiny_model):
    model, tok = tiny_model
    from transformers import AutoTokenizer

    bare = AutoTokenizer.from_pretrained(tok.name_or_path)
    bare.chat_template = None
    with pytest.raises(ValueError, match="no chat template"):
        RolloutEngine(model, bare)
    with pytest.raises(ValueError, match="top_p"):
        RolloutConfig(top_p=0)


def test_grpo_trainer_accepts_the_rollout_func(tiny_model_dir, held_out, tmp_path):
    """One real TRL GRPOTrainer step driven by the engine through `rollout_func`."""
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import GRPOConfig, GRPOTrainer

    from medgym.rollout import opening_messages, trl_rollout_func

    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    config = RolloutConfig(temperature=1.0, max_turns=3, max_turn_tokens=48, patient_matcher="lexical")
    tasks = held_out[:2]
    data = Dataset.from_list([{"prompt": opening_messages(t, config)} for t in tasks])
    before = [p.detach().clone() for p in model.parameters()]
    args = GRPOConfig(output_dir=str(tmp_path), max_steps=1, per_device_train_batch_size=4, num_generations=2,
                      learning_rate=1e-2, logging_steps=1, report_to="none", save_strategy="no", use_cpu=True,
                      bf16=False, activation_checkpointing=False, disable_tqdm=True, beta=0.0)

    def reward(completions, reward, **kwargs):  # the env's reward, forwarded by TRL from rollout_func
        return [float(r) + 0.1 * t for r, t in zip(reward, kwargs["tool_calls"])]

    trainer = GRPOTrainer(model=model, reward_funcs=reward, args=args, train_dataset=data, processing_class=tok,
                          rollout_func=trl_rollout_func(tok, tasks, config))
    trainer.train()
    assert trainer.state.global_step == 1
    assert any(not torch.equal(a, b) for a, b in zip(before, model.parameters()))
