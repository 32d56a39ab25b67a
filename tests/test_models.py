"""The default-model build: config, tokenizer and chat template, SFT warm start, caching, CLI."""

import json
from collections import Counter

import pytest
import yaml

from medgym.models import BuildConfig, build_default_model, build_info, is_current
from medgym.models.build import plan
from medgym.models.tokenizer import RESPONSE_TEMPLATE, TURN_END
from medgym.models.trajectories import oracle_trajectories, select_tasks


# --- config ------------------------------------------------------------------------------------------


def test_default_config_loads_and_overrides():
    cfg = BuildConfig.load()
    assert cfg.architecture == "llama"
    assert BuildConfig.load(**{"data.trajectories": 7}).data.trajectories == 7
    assert BuildConfig.load(**{"data.domains": ["clinical_diagnosis"]}).data.domains == ("clinical_diagnosis",)


@pytest.mark.parametrize("overrides, words", [
    ({"data.trajectories": 0}, "data.trajectories"),
    ({"model.hidden_size": "big"}, "model.hidden_size"),
    ({"sft.lr": 0.1}, "sft.lr"),
    ({"data.domains": ["oncology_nonsense"]}, "unknown domain"),
    ({"architecture": "gpt2"}, "architecture"),
])
def test_bad_config_values_name_the_field(overrides, words):
    with pytest.raises(ValueError, match=words):
        BuildConfig.load(**overrides)


def test_broken_config_files_give_clear_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        BuildConfig.load(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("model: [unclosed\n")
    with pytest.raises(ValueError, match="not valid YAML"):
        BuildConfig.load(bad)
    bad.write_text("- just\n- a list\n")
    with pytest.raises(ValueError, match="must be a mapping"):
        BuildConfig.load(bad)


# --- data selection -----------------------------------------------------------------------------------


def test_select_tasks_balances_conditions_and_is_seeded(tasks):
    train = [t for t in tasks if t.split == "train"]
    chosen = select_tasks(train, 38, seed=0)
    assert len(chosen) == 38 and len({t.id for t in chosen}) == 38
    per_condition = Counter(t.condition for t in chosen)
    assert max(per_condition.values()) - min(per_condition.values()) <= 1  # round-robin over conditions
    assert [t.id for t in select_tasks(train, 38, seed=0)] == [t.id for t in chosen]
    assert [t.id for t in select_tasks(train, 38, seed=1)] != [t.id for t in chosen]
    assert select_tasks(train, 10, domains=["no_such_domain"]) == []


def test_oracle_trajectories_succeed_and_end_with_the_final_call(tasks):
    sample = select_tasks([t for t in tasks if t.split == "train"], 3)
    for traj, task in zip(oracle_trajectories(sample, progress=False), sample):
        assert traj.success
        assert traj.messages[-1]["role"] == "assistant"
        assert traj.messages[-1]["tool_calls"][0]["function"]["name"] == task.truth.final_tool
        row = traj.as_sft_row()
        assert json.loads(row["tools"]) == traj.tools
        args = [c["function"]["arguments"] for m in row["messages"] for c in m.get("tool_calls") or []]
        assert args and all(isinstance(a, str) for a in args)


def test_detours_show_recovery_from_mistakes_without_teaching_them(tasks):
    """With detours the demonstrator sometimes first calls a tool this encounter does not offer or
    repeats its previous call; the episode still succeeds, the env's reply to the mistake is in the
    conversation, and leaving the detours out gives back the plain demonstration."""
    sample = select_tasks([t for t in tasks if t.split == "train"], 10)
    plain = oracle_trajectories(sample, progress=False)
    detoured = oracle_trajectories(sample, progress=False, detours=0.3)
    assert oracle_trajectories(sample[:1], progress=False, detours=0.3)[0].messages == detoured[0].messages  # seeded
    assert sum(t.detours for t in detoured) >= 10
    kinds = Counter()
    for p, d in zip(plain, detoured):
        assert d.success and p.detours == 0
        assert d.without_detours() == p.messages
        offered = {t["function"]["name"] for t in d.tools}
        for i, m in enumerate(d.messages):
            if m.get("detour"):
                name = m["tool_calls"][0]["function"]["name"]
                reply = d.messages[i + 1]
                if name in offered:  # a repeat of the previous demonstrated call
                    previous = [x for x in d.messages[:i] if x["role"] == "assistant" and not x.get("detour")][-1]
                    assert m["tool_calls"] == previous["tool_calls"]
                    kinds["repeat"] += 1
                else:
                    assert "Unknown tool" in reply["content"]
                    kinds["unknown"] += 1
    assert kinds["repeat"] and kinds["unknown"]


# --- the built model ----------------------------------------------------------------------------------


def test_build_saves_a_loadable_llama_with_report(tiny_model_dir, tiny_model_config):
    from transformers import AutoModelForCausalLM, AutoTokenizer, LlamaForCausalLM, PreTrainedTokenizerFast

    info = build_info(tiny_model_dir)
    assert info["fingerprint"] == plan(tiny_model_config).fingerprint
    assert info["data"]["trained"] == 32 and info["data"]["oracle_failed"] == []
    assert info["sft"]["steps"] > 0 and info["sft"]["train_loss"] > 0
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    assert isinstance(model, LlamaForCausalLM) and isinstance(tok, PreTrainedTokenizerFast)
    assert info["parameters"] == sum(p.numel() for p in model.parameters())
    assert tok.eos_token == TURN_END and tok.response_template == RESPONSE_TEMPLATE
    assert model.config.vocab_size == len(tok)


@pytest.mark.parametrize("system_prompt", [True, False])
def test_pretraining_phase_trains_every_token_in_packed_blocks(tmp_path, system_prompt):
    """After a copying warm-up, the first phase packs the whole rendered trajectories (not only the
    assistant's tokens) into blocks: one optimizer step per block at batch size 1; the second phase
    takes one step per trajectory. With `sft.pretrain_system_prompt: false` the blocks hold the
    conversations without the system prompt and the tool list (fewer blocks). The
    `data.pretrain_trajectories` more episodes and the `data.case_records` (a task's opening and its
    demonstrated submission, nothing between) are in the first phase only."""
    import math

    from transformers import AutoTokenizer

    cfg = BuildConfig.load(**{
        "model.hidden_size": 32, "model.num_hidden_layers": 1, "model.num_attention_heads": 2,
        "model.num_key_value_heads": 1, "model.intermediate_size": 64, "tokenizer.vocab_size": 1024,
        "data.domains": ["medical_qa"], "data.trajectories": 3, "data.pretrain_trajectories": 2,
        "data.case_records": 2, "sft.pretrain_epochs": 1, "sft.pretrain_block_size": 64, "sft.epochs": 1,
        "sft.batch_size": 1,
        "sft.pretrain_system_prompt": system_prompt, "sft.copy_steps": 3, "sft.copy_batch_size": 2,
    })
    out = build_default_model(cfg, out_dir=tmp_path / "m", progress=False)
    info = build_info(out)
    tok = AutoTokenizer.from_pretrained(out)
    tasks = plan(cfg).tasks
    cases = oracle_trajectories(tasks[5:], progress=False, source="answers")
    assert len(cases) == 2 and all(len(c.messages) == 3 and c.success for c in cases)  # system, opening, answer
    assert [c.messages[-1]["tool_calls"][0]["function"]["name"] for c in cases] == ["submit_answer"] * 2
    rows = [t.as_sft_row(system=system_prompt) for t in oracle_trajectories(tasks[:5], progress=False) + cases]
    tokens = sum(len(tok.apply_chat_template(r["messages"], tools=json.loads(r["tools"]) or None, tokenize=True,
                                             return_dict=True)["input_ids"]) for r in rows)
    assert all(("<|im_start|>system" in tok.apply_chat_template(r["messages"], tools=json.loads(r["tools"]) or None,
                                                               tokenize=False)) == system_prompt for r in rows)
    assert len(rows) == 7 and info["data"]["trained"] == 3 and info["data"]["pretrained_only"] == 2
    assert info["data"]["case_records"] == 2
    assert info["pretrain"]["steps"] == math.ceil(tokens / 64) > 5 * 4 and info["pretrain"]["examples"] == 7
    assert info["sft"]["steps"] == 3 and info["sft"]["examples"] == 3
    assert info["timings"]["pretrain_s"] > 0
    assert info["copy"]["steps"] == 3 and info["timings"]["copy_s"] > 0  # the copying warm-up ran first


def test_copy_warmup_teaches_copying_from_context(tiny_model_dir):
    """The copying warm-up: after it, a fresh model predicts the second half of random token sequences
    it has never seen (each repeated once) from the first half; before it, at chance."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from medgym.models.config import SFTSettings
    from medgym.models.sft import copy_warmup

    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    cfg = BuildConfig.load(**{"model.hidden_size": 64, "model.num_hidden_layers": 2, "model.num_attention_heads": 2,
                              "model.num_key_value_heads": 1, "model.intermediate_size": 128})
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_config(cfg.transformers_config(tok))
    half = torch.randint(3, 1000, (32, 12), generator=torch.Generator().manual_seed(123))
    ids = torch.cat([half, half], dim=1)

    def copy_accuracy() -> float:
        with torch.no_grad():
            predicted = model(input_ids=ids).logits[:, 12:-1].argmax(-1)
        return (predicted == ids[:, 13:]).float().mean().item()

    assert copy_accuracy() < 0.05
    settings = SFTSettings(copy_steps=300, copy_length=12, copy_batch_size=16, copy_learning_rate=3e-3)
    metrics = copy_warmup(model, tok, settings, seed=0, progress=False)
    assert metrics["steps"] == 300
    assert copy_accuracy() > 0.9


@pytest.mark.parametrize("assistant_only", [True, False])
def test_sft_loss_is_trls_loss_from_the_labelled_positions_only(tiny_model_dir, tiny_tasks, tmp_path, assistant_only):
    """The warm start's trainer asks the model for the logits of labelled positions only; its loss on a
    padded batch of real episodes is TRL's `SFTTrainer` loss, in both phases."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import SFTConfig, SFTTrainer

    from medgym.models.sft import _trainer_class, sft_dataset

    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    data = sft_dataset(oracle_trajectories(select_tasks(tiny_tasks, 3), progress=False))
    args = SFTConfig(output_dir=str(tmp_path), per_device_train_batch_size=3, assistant_only_loss=assistant_only,
                     report_to="none", use_cpu=True, max_length=4096, activation_checkpointing=False)
    losses, labelled = [], []
    for cls in (SFTTrainer, _trainer_class()):
        trainer = cls(model=model, args=args, train_dataset=data, processing_class=tok)
        batch = next(iter(trainer.get_train_dataloader()))
        with torch.no_grad():
            losses.append(float(trainer.compute_loss(trainer.model, dict(batch))))
        labelled.append(int((batch["labels"][:, 1:] != -100).sum()))
    assert labelled[0] == labelled[1] > 0
    assert batch["labels"].shape[0] == 3 and (batch["attention_mask"] == 0).any()  # padded rows
    if assistant_only:
        assert labelled[0] < batch["attention_mask"].sum() / 4
    assert losses[1] == pytest.approx(losses[0], rel=1e-4)


def test_final_call_weight_weights_each_episodes_last_assistant_turn(tiny_model_dir, tiny_tasks, tmp_path):
    """`sft.final_call_weight`: in a padded batch of real episodes, the weighted span of each row is its
    final call (the submission) and the loss is the weighted mean of the per-token cross-entropy."""
    import torch
    import torch.nn.functional as F
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import SFTConfig

    from medgym.models.sft import _trainer_class, final_span, sft_dataset

    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    trajectories = oracle_trajectories(select_tasks(tiny_tasks, 3), progress=False)
    args = SFTConfig(output_dir=str(tmp_path), per_device_train_batch_size=3, assistant_only_loss=True,
                     report_to="none", use_cpu=True, max_length=4096, activation_checkpointing=False)
    trainer = _trainer_class(4.0)(model=model, args=args, train_dataset=sft_dataset(trajectories), processing_class=tok)
    batch = dict(next(iter(trainer.get_train_dataloader())))
    targets = batch["labels"][:, 1:]
    final = final_span(targets != -100)
    for row, ids in zip(final, batch["input_ids"][:, 1:]):
        text = tok.decode(ids[row])
        assert text.count("<tool_call>") == 1 and '"name": "submit_' in text  # exactly the submission
    with torch.no_grad():
        loss = float(trainer.compute_loss(trainer.model, dict(batch)))
        logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits[:, :-1]
        token = F.cross_entropy(logits.flatten(0, 1), targets.flatten(), ignore_index=-100, reduction="none").view_as(targets)
    other = (targets != -100) & ~final
    expected = (token[other].sum() + 4 * token[final].sum()) / (other.sum() + 4 * final.sum())
    assert loss == pytest.approx(float(expected), rel=1e-4)
    assert loss != pytest.approx(float(token[targets != -100].mean()), rel=1e-3)
    # as one of two accumulated micro-batches of the same size, it carries half of that weighted mean
    with torch.no_grad():
        half = float(trainer.compute_loss(trainer.model, dict(batch), num_items_in_batch=2 * (targets != -100).sum()))
    assert half == pytest.approx(float(expected) / 2, rel=1e-4)


def test_weight_average_replaces_the_weights_with_the_ema_of_the_iterates(tiny_model_dir, tiny_tasks, tmp_path):
    """With `sft.weight_average`, the trained model ends with the exponential moving average of the
    weights after each optimizer step (the first step starts the average), not the last weights."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, TrainerCallback
    from trl import SFTConfig

    from medgym.models.sft import _trainer_class, _weight_average_callback, sft_dataset

    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    iterates = []

    class Record(TrainerCallback):
        def on_step_end(self, args, state, control, **kwargs):
            iterates.append(model.lm_head.weight.detach().clone())

    data = sft_dataset(oracle_trajectories(select_tasks(tiny_tasks, 3), progress=False))
    args = SFTConfig(output_dir=str(tmp_path), per_device_train_batch_size=1, num_train_epochs=1, assistant_only_loss=True, learning_rate=1e-2,
                     report_to="none", use_cpu=True, max_length=4096, activation_checkpointing=False, save_strategy="no")
    trainer = _trainer_class()(model=model, args=args, train_dataset=data, processing_class=tok,
                               callbacks=[Record(), _weight_average_callback(model, 0.5)])
    trainer.train()
    assert len(iterates) == 3 and not torch.equal(iterates[1], iterates[2])
    expected = iterates[0]
    for w in iterates[1:]:
        expected = 0.5 * expected + 0.5 * w
    assert torch.allclose(model.lm_head.weight, expected, atol=1e-6)
    assert torch.equal(model.model.embed_tokens.weight, model.lm_head.weight)  # still tied
    assert not torch.allclose(model.lm_head.weight, iterates[-1])


def test_build_is_cached_and_keyed_by_config(tiny_model_dir, tiny_model_config):
    before = (tiny_model_dir / "model.safetensors").stat().st_mtime_ns
    assert build_default_model(tiny_model_config, out_dir=tiny_model_dir, progress=False) == tiny_model_dir
    assert (tiny_model_dir / "model.safetensors").stat().st_mtime_ns == before  # not rebuilt
    assert is_current(tiny_model_dir, tiny_model_config)
    changed = tiny_model_config.model_copy(update={"seed": 1})
    assert not is_current(tiny_model_dir, changed)
    assert plan(changed).fingerprint != plan(tiny_model_config).fingerprint


def test_chat_template_renders_env_chat_and_tools(tiny_model, env):
    _, tok = tiny_model
    obs, info = env.reset(seed=3)
    _, _, _, _, info2 = env.step('<tool_call>{"name": "order_lab", "arguments": {"test": "troponin_t_hs"}}</tool_call>')
    text = tok.apply_chat_template(info2["messages"], tools=info["tools"], tokenize=False, add_generation_prompt=True)
    assert text.startswith("<|im_start|>system\n" + info["messages"][0]["content"])
    assert "\n- order_lab(test: string) Order a laboratory test" in text  # compact tool line
    assert "- examine(system: general|heent|" in text  # enums listed
    assert '<|im_start|>assistant\n<tool_call>{"name": "order_lab", "arguments": {"test": "troponin_t_hs"}}</tool_call><|im_end|>' in text
    assert info2["new_messages"][0]["content"] in text
    assert text.endswith("<|im_start|>assistant\n")
    # the tokenizer round-trips any text exactly (byte-level, never an unknown token)
    ids = tok(text, add_special_tokens=False)["input_ids"]
    assert tok.decode(ids, skip_special_tokens=False) == text
    odd = "Température 37.5 °C, µmol/L ≥ 5 — 患者 🙂"
    assert tok.decode(tok(odd, add_special_tokens=False)["input_ids"]) == odd


def test_names_and_values_are_the_same_tokens_in_the_context_and_in_a_call(env):
    """With `word_runs` merges never cross from a word into punctuation, so a model can copy a tool
    name from the tool list, or a value from a tool result, into its call token for token; without
    it (shorter text) the call's tokens fuse name and JSON."""
    from medgym.models.tokenizer import train_tokenizer

    call = '<tool_call>{"name": "order_lab", "arguments": {"test": "troponin_t_hs"}}</tool_call>'
    env.reset(seed=0)
    _, _, _, _, info = env.step(call)
    corpus = [str(m.get("content") or "") for m in info["messages"]] + [call] * 50
    for word_runs in (True, False):
        tok = train_tokenizer(corpus * 4, vocab_size=1024, word_runs=word_runs)

        def ids(s):
            return tok(s, add_special_tokens=False)["input_ids"]

        def within(part, whole):
            return any(whole[i : i + len(part)] == part for i in range(len(whole) - len(part) + 1))

        copyable = within(ids("order_lab"), ids(call)) and within(ids("troponin_t_hs"), ids(call))
        assert copyable == word_runs
        assert tok.decode(ids(call)) == call


def test_assistant_mask_covers_exactly_the_calls_and_end_of_turn(tiny_model, env):
    _, tok = tiny_model
    obs, info = env.reset(seed=1)
    call = '<tool_call>{"name": "read_vitals", "arguments": {}}</tool_call>'
    _, _, _, _, info = env.step(call)
    out = tok.apply_chat_template(info["messages"], tools=env.tool_schemas(), return_dict=True,
                                  return_assistant_tokens_mask=True)
    masked = [i for i, m in zip(out["input_ids"], out["assistant_masks"]) if m]
    assert tok.decode(masked, skip_special_tokens=False) == call + TURN_END


def test_detour_turns_are_in_the_text_but_carry_no_loss(tiny_model, tiny_tasks):
    _, tok = tiny_model
    traj = next(t for t in oracle_trajectories(select_tasks(tiny_tasks, 6), progress=False, detours=0.4) if t.detours)
    row = traj.as_sft_row()
    out = tok.apply_chat_template(row["messages"], tools=json.loads(row["tools"]), return_dict=True,
                                  return_assistant_tokens_mask=True)
    masked = tok.decode([i for i, m in zip(out["input_ids"], out["assistant_masks"]) if m], skip_special_tokens=False)
    clean = tok.apply_chat_template(traj.without_detours(), tools=traj.tools, return_dict=True,
                                    return_assistant_tokens_mask=True)
    assert masked == tok.decode([i for i, m in zip(clean["input_ids"], clean["assistant_masks"]) if m],
                                skip_special_tokens=False)
    text = tok.decode(out["input_ids"], skip_special_tokens=False)
    for m in row["messages"]:
        if m.get("detour"):
            call = m["tool_calls"][0]["function"]
            assert f'"name": "{call["name"]}"' in text
    assert len(out["input_ids"]) > len(clean["input_ids"])


def test_conversation_only_rows_leave_out_the_system_prompt_and_tools(tiny_model, tiny_tasks):
    """`as_sft_row(system=False)` (pretraining with `sft.pretrain_system_prompt: false`) keeps the
    task, the calls and the replies but renders no system prompt and no tool list."""
    from medgym.models.sft import sft_dataset

    _, tok = tiny_model
    traj = oracle_trajectories(select_tasks(tiny_tasks, 1), progress=False)[0]
    full, short = traj.as_sft_row(), traj.as_sft_row(system=False)
    assert full["messages"][0]["role"] == "system" and short["messages"] == full["messages"][1:]
    assert json.loads(short["tools"]) == []
    render = lambda row: tok.apply_chat_template(row["messages"], tools=json.loads(row["tools"]) or None, tokenize=False)
    text, conversation = render(full), render(short)
    assert "Tools:" in text and "<|im_start|>system" in text
    assert "Tools:" not in conversation and "<|im_start|>system" not in conversation
    assert text.endswith(conversation)  # the same conversation, without the system block before it
    assert sft_dataset([traj], detours=False, system=False)[0]["messages"][0]["role"] == "user"


def test_parse_response_reads_tool_calls(tiny_model):
    _, tok = tiny_model
    text = '<tool_call>{"name": "order_lab", "arguments": {"test": "d_dimer"}}</tool_call><|im_end|>'
    parsed = tok.parse_response(tok(text, add_special_tokens=False)["input_ids"], prefix="<|im_start|>assistant\n")
    assert parsed["tool_calls"][0]["function"] == {"name": "order_lab", "arguments": {"test": "d_dimer"}}


def test_sft_taught_the_tool_call_format(tiny_model, tiny_tasks):
    """After the warm start the tiny model writes tool calls that parse and validate."""
    from medgym.rollout import RolloutConfig, RolloutEngine

    model, tok = tiny_model
    held_out = select_tasks([t for t in tiny_tasks if t.split == "test"], 4)
    episodes = RolloutEngine(model, tok, RolloutConfig(temperature=0, max_turns=4, batch_size=4,
                                                       patient_matcher="lexical")).run(held_out)
    calls = sum(e.tool_calls for e in episodes)
    # The demonstrations in these domains take 2-3 calls (look up, then submit; review allergies, check
    # cross-reactivity, submit): the model should conduct such multi-call encounters, not answer at once.
    assert calls >= 2 * len(episodes) and max(e.tool_calls for e in episodes) >= 3
    # measured with the pinned stack: 7 of 9 calls valid greedily (final SFT loss 0.82); an untrained
    # model writes none
    assert sum(e.valid_calls for e in episodes) / calls >= 0.5


def test_cli_model_build_info_and_errors(tiny_model_dir, tiny_model_config, tmp_path, capsys):
    from medgym.cli import main

    cfg = tmp_path / "tiny.yaml"
    cfg.write_text(yaml.safe_dump(tiny_model_config.model_dump(mode="json")))
    assert main(["model", "build", "--config", str(cfg), "--out", str(tiny_model_dir), "--quiet"]) == 0
    assert "up to date" in capsys.readouterr().out
    assert main(["model", "info", "--out", str(tiny_model_dir)]) == 0
    assert json.loads(capsys.readouterr().out)["fingerprint"] == build_info(tiny_model_dir)["fingerprint"]
    assert main(["model", "info", "--out", str(tmp_path / "nothing")]) == 1
    assert "medgym model build" in capsys.readouterr().err
    cfg.write_text("sft:\n  epochs: -1\n")
    assert main(["model", "build", "--config", str(cfg), "--out", str(tmp_path / "x")]) == 2
    assert "sft.epochs" in capsys.readouterr().err


def test_cli_model_eval_reports_the_model_against_the_majority_baseline(tiny_model_dir, capsys):
    """`medgym model eval` plays the model and the majority baseline on the same held-out tasks and prints
    validity, tool use, truncation and the loop rate for both, and success task by task against the baseline."""
    from medgym.cli import main

    assert main(["model", "eval", "--out", str(tiny_model_dir), "--domains", "medical_qa", "--limit", "2",
                 "--max-turns", "3", "--patient-matcher", "lexical", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "Held-out tasks (medical_qa)" in out and "repeat_rate" in out and "valid_call_rate" in out
    rows = {line.split()[0]: line.split() for line in out.splitlines() if line.split()[:1] in (["model"], ["majority"])}
    assert set(rows) == {"model", "majority"} and rows["model"][1] == rows["majority"][1] == "2"
    assert "Success task by task:" in out and "exact McNemar test" in out
    assert main(["model", "eval", "--out", str(tiny_model_dir), "--domains", "medical_qa", "--limit", "2",
                 "--max-turns", "3", "--patient-matcher", "lexical", "--quiet", "--constrain-tool-names"]) == 0
    assert "tool names constrained to the offered tools" in capsys.readouterr().out
    assert main(["model", "eval", "--out", str(tiny_model_dir), "--domains", "medical_qa", "--limit", "2",
                 "--max-turns", "3", "--patient-matcher", "lexical", "--quiet", "--submit-on-last-turn"]) == 0
    assert "the last turn may call only the final tool" in capsys.readouterr().out


def test_repeated_turns_counts_assistant_turns_identical_to_the_one_before(env):
    """The loop measure of `medgym model eval`: a turn counts when its text and calls equal the previous
    assistant turn's, whatever the environment replied in between."""
    from medgym.models.evaluate import compared_turns, repeated_turns

    env.reset(seed=0)
    for text in ["<tool_call>" + json.dumps({"name": "read_vitals", "arguments": {}}) + "</tool_call>"] * 3 + [
            "<tool_call>" + json.dumps({"name": "nonexistent_tool", "arguments": {}}) + "</tool_call>"] * 2 + ["Hello"]:
        env.step(text)
    assert repeated_turns(env.unwrapped.messages) == 3
    assert compared_turns(env.unwrapped.messages) == 5  # six turns, each after the first compared
