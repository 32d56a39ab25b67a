"""Model-backed policies: HFPolicy (with LoRA), OpenAIPolicy against a real local server, the
LLM-backed patient, and the majority-class baseline."""

import shutil

import pytest
import torch

from medgym.agents import HFPolicy, MajorityPolicy, OpenAIPolicy, play
from medgym.agents.hf import load_model
from medgym.agents.majority import majority_answers
from medgym.agents.openai_api import to_openai_messages
from medgym.env import EncounterEnv


@pytest.fixture()
def test_task(tiny_tasks):
    return next(t for t in tiny_tasks if t.split == "test")


# --- HFPolicy -----------------------------------------------------------------------------------------


def test_hf_policy_plays_an_encounter(tiny_model, test_task):
    model, tok = tiny_model
    env = EncounterEnv(tasks=[test_task], split=None, max_turns=4, patient_matcher="lexical")
    info, _, steps = play(env, HFPolicy(model, tok, max_new_tokens=64), seed=0)
    assert steps >= 1
    assert info["episode"]["tool_calls"] >= 1  # the warm-started model calls tools the env accepts


def test_hf_policy_sampling_is_seeded(tiny_model, test_task):
    model, tok = tiny_model
    env = EncounterEnv(tasks=[test_task], split=None, max_turns=2, patient_matcher="lexical")
    obs, info = env.reset(seed=0)
    acts = []
    for seed in (5, 5, 6):
        p = HFPolicy(model, tok, temperature=1.5, max_new_tokens=24, seed=seed)
        p.reset(obs, info)
        acts.append(p.act(obs, info))
    assert acts[0] == acts[1]


def test_hf_policy_constrained_names_only_offered_tools(tiny_model, test_task):
    """Offered a single tool, the constrained policy names only it, sampling hot, across seeds; the same
    policy unconstrained names others (the tiny model rarely asks the patient in these domains)."""
    import re

    model, tok = tiny_model
    env = EncounterEnv(tasks=[test_task], split=None, max_turns=2, patient_matcher="lexical")
    obs, info = env.reset(seed=0)
    one = [s for s in info["tools"] if s["function"]["name"] == "ask_patient"]
    named: dict[bool, list[str]] = {True: [], False: []}
    for constrain in (True, False):
        for seed in range(4):
            p = HFPolicy(model, tok, temperature=1.5, max_new_tokens=48, seed=seed, constrain_tool_names=constrain)
            p.reset(obs, {**info, "tools": one})
            named[constrain] += re.findall(r'<tool_call>\s*\{"name": "([^"]*)"', p.act(obs, info))
    assert named[True] and set(named[True]) == {"ask_patient"}
    assert set(named[False]) - {"ask_patient"}


def test_load_model_errors_name_the_fix(tmp_path, tiny_model_dir):
    with pytest.raises(FileNotFoundError, match="pass a local Hugging Face model directory"):
        load_model(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="no config.json"):
        load_model(tmp_path / "empty")
    bare = tmp_path / "bare"
    shutil.copytree(tiny_model_dir, bare)
    (bare / "chat_template.jinja").unlink(missing_ok=True)
    import json

    cfg = json.loads((bare / "tokenizer_config.json").read_text())
    cfg.pop("chat_template", None)
    (bare / "tokenizer_config.json").write_text(json.dumps(cfg))
    with pytest.raises(ValueError, match="no chat template"):
        load_model(bare)
    with pytest.raises(FileNotFoundError, match="adapter_config.json"):
        load_model(tiny_model_dir, adapter=tmp_path)


def test_hf_policy_loads_a_lora_adapter(tiny_model_dir, tmp_path, test_task):
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    base = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    lora = get_peft_model(base, LoraConfig(r=4, target_modules=["q_proj", "v_proj"], init_lora_weights=False))
    lora.save_pretrained(tmp_path / "adapter")
    plain = HFPolicy(tiny_model_dir, device="cpu")
    adapted = HFPolicy(tiny_model_dir, adapter=tmp_path / "adapter", device="cpu")
    assert type(adapted.model).__name__ == "PeftModelForCausalLM"
    ids = torch.tensor([plain.tokenizer("<|im_start|>user\nchest pain<|im_end|>\n")["input_ids"]])
    with torch.no_grad():
        assert not torch.allclose(plain.model(ids).logits, adapted.model(ids).logits)
    assert plain.model.dtype == torch.float32 and str(plain.model.device) == "cpu"


# --- OpenAIPolicy against a real server --------------------------------------------------------------


def test_openai_policy_plays_through_a_real_server(served, test_task):
    base_url, model_name = served
    env = EncounterEnv(tasks=[test_task], split=None, max_turns=3, patient_matcher="lexical")
    policy = OpenAIPolicy(model=model_name, base_url=base_url, temperature=0.0, max_tokens=64)
    obs, info = env.reset(seed=0)
    policy.reset(obs, info)
    action = policy.act(obs, info)
    assert action["tool_calls"], action  # the server parsed the model's <tool_call> into native tool calls
    call = action["tool_calls"][0]["function"]
    assert isinstance(call["arguments"], str) and call["name"] in env.tools
    obs, _, _, _, info = env.step(action)
    assert info["tool_calls"][0]["valid"]
    action = policy.act(obs, info)  # the history with tool results goes back in OpenAI format
    assert action["tool_calls"] or action["content"]


def test_openai_policy_unreachable_endpoint_names_the_fix(test_task, free_port):
    env = EncounterEnv(tasks=[test_task], split=None, patient_matcher="lexical")
    obs, info = env.reset(seed=0)
    policy = OpenAIPolicy(model="m", base_url=f"http://127.0.0.1:{free_port}/v1", timeout=5, max_retries=0)
    policy.reset(obs, info)
    with pytest.raises(ConnectionError, match="transformers serve"):
        policy.act(obs, info)


def test_to_openai_messages_pairs_results_with_call_ids():
    messages = [
        {"role": "system", "content": "s"}, {"role": "user", "content": "u"},
        {"role": "assistant", "content": "", "tool_calls": [
            {"type": "function", "function": {"name": "order_lab", "arguments": {"test": "cbc"}}},
            {"type": "function", "function": {"name": "read_vitals", "arguments": {}}}]},
        {"role": "tool", "name": "error", "content": '{"error": "Tool call 3 is not valid JSON"}'},
        {"role": "tool", "name": "read_vitals", "content": "{}"},
        {"role": "tool", "name": "order_lab", "content": "{\"wbc\": 7}"},
        {"role": "assistant", "content": "Any chest pain?"}, {"role": "user", "content": "Yes."},
    ]
    out = to_openai_messages(messages)
    assert [m["role"] for m in out] == ["system", "user", "assistant", "tool", "tool", "user", "assistant", "user"]
    ids = {c["function"]["name"]: c["id"] for c in out[2]["tool_calls"]}
    assert out[2]["tool_calls"][0]["function"]["arguments"] == '{"test": "cbc"}'
    assert out[3] == {"role": "tool", "tool_call_id": ids["read_vitals"], "content": "{}"}
    assert out[4]["tool_call_id"] == ids["order_lab"]
    assert "not valid JSON" in out[5]["content"]


# --- the LLM-backed patient --------------------------------------------------------------------------


def test_llm_patient_answers_through_a_policy(tiny_model, test_task):
    from medgym.patient.llm import llm_patient, persona_prompt

    model, tok = tiny_model
    env = EncounterEnv(tasks=[test_task], split=None, patient=llm_patient(HFPolicy(model, tok, max_new_tokens=24)))
    obs, info = env.reset(seed=0)
    obs, _, _, _, info = env.step("When did the pain start?")
    reply = info["new_messages"][0]
    assert reply["role"] == "user" and reply["content"].strip()
    assert type(env.encounter.patient).__name__ == "LLMPatient"
    assert env.encounter.patient.messages[-1]["content"] == reply["content"]
    assert info["tool_calls"][0]["action_keys"] == ["ask_patient:onset"]  # topics still from the matcher
    prompt = persona_prompt(test_task)
    assert test_task.presentation.chief_complaint in prompt
    assert (test_task.truth.diagnosis or "@@") not in prompt and (test_task.truth.icd10 or "@@") not in prompt


# --- the majority-class baseline ---------------------------------------------------------------------


def test_majority_baseline_submits_the_most_common_answer(tasks):
    train = [t for t in tasks if t.split == "train"]
    answers = majority_answers(train)
    diagnoses = [t for t in train if t.truth.final_tool == "submit_diagnosis"]
    [(tool, args)] = answers["submit_diagnosis"]
    top = args["diagnosis"]
    assert tool == "submit_diagnosis" and args["icd10_code"]
    count = sum(t.truth.diagnosis == top for t in diagnoses)
    assert all(count >= sum(t.truth.diagnosis == d for t in diagnoses) for d in {t.truth.diagnosis for t in diagnoses})
    match = next(t for t in tasks if t.truth.diagnosis == top and t.truth.final_tool == "submit_diagnosis"
                 and t.task_type == "diagnosis")
    miss = next(t for t in tasks if t.truth.diagnosis != top and t.truth.final_tool == "submit_diagnosis")
    for task, success in ((match, True), (miss, False)):
        env = EncounterEnv(tasks=[task], split=None, patient_matcher="lexical")
        info, _, steps = play(env, MajorityPolicy(train), seed=0)
        assert steps == 1 and info["success"] is success


def test_majority_baseline_submits_validly_with_every_final_tool(tasks):
    """Every final tool (a drug review, an ECG, a radiology report, a multi-phase journey, ...) gets the
    most common demonstrated submission, whole: played on a training task whose demonstration submits
    exactly that, the baseline succeeds (a journey excepted: its phases also score the actions taken before
    them, and the baseline takes none), one call per turn, none of them rejected."""
    from medgym.agents.majority import submissions

    train = [t for t in tasks if t.split == "train"]
    answers = majority_answers(train)
    assert set(answers) == {t.truth.final_tool for t in train} and len(answers) >= 10
    assert len(answers["submit_disposition"]) > 1  # a journey's phase answers, then its disposition
    for tool, calls in answers.items():
        task = next(t for t in train if t.truth.final_tool == tool and submissions(t) == calls)
        env = EncounterEnv(tasks=[task], split=None, patient_matcher="lexical")
        info, _, steps = play(env, MajorityPolicy(train), seed=0)
        assert steps == len(calls) and info["episode"]["invalid_calls"] == 0, tool
        assert info["success"] is (tool != "submit_disposition"), tool
