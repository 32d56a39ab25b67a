"""Model policies in the evaluation harness: the default model, model / run / LoRA folders, and an
OpenAI-compatible endpoint (a real `transformers serve` on 127.0.0.1), with the tiny model the
session builds once (tests/conftest.py)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from medgym.eval import evaluate, resolve_policy

DATA = Path(__file__).parent / "data" / "eval"
FAST = {"patient_matcher": "lexical", "max_turns": 3}


def _strip(results, policy):
    return [{k: v for k, v in e.items() if k not in ("elapsed_s", "policy", "policy_id")}
            for e in results.episodes if e["policy"] == policy]


def test_default_model_run_and_folder_specs_name_the_same_model(tiny_model_dir, tmp_path, monkeypatch):
    models = tmp_path / "models"
    models.mkdir()
    (models / "default").symlink_to(tiny_model_dir, target_is_directory=True)
    monkeypatch.setenv("MEDGYM_MODELS_DIR", str(models))
    run = tmp_path / "run"
    run.mkdir()
    (run / "checkpoint-3").symlink_to(tiny_model_dir, target_is_directory=True)
    assert resolve_policy(str(run)).path == str(run / "checkpoint-3")
    results = evaluate(["default", str(run), str(tiny_model_dir)], ["drug_interaction"], limit=2, seed=1, **FAST)
    names = [p["name"] for p in results.policies]
    assert names == ["default", "run", Path(tiny_model_dir).name]
    episodes = [_strip(results, n) for n in names]
    assert episodes[0] == episodes[1] == episodes[2] and len(episodes[0]) == 2  # one model, greedy decoding
    cell = results.cell("default", "drug_interaction")
    assert cell["n"] == 2 and {"tool_call_validity", "tokens_per_turn", "monologue_rate"} <= set(cell["scores"])
    assert all(e["token_counter"] != "all-MiniLM-L6-v2 WordPiece" for e in results.episodes)  # the model's tokenizer


def test_constrained_tool_names_are_a_separate_named_policy(tiny_model_dir):
    from dataclasses import replace

    spec = resolve_policy(str(tiny_model_dir))
    constrained = replace(spec, constrain_tool_names=True)
    assert constrained.build().names is not None and spec.build().names is None
    assert constrained.identity() != spec.identity()  # a resumed folder never mixes the two
    results = evaluate([str(tiny_model_dir)], ["drug_interaction"], limit=2, seed=1, constrain_tool_names=True,
                       **FAST)
    name = Path(tiny_model_dir).name + "+constrained"
    assert [p["name"] for p in results.policies] == [name] and results.cell(name, "drug_interaction")["n"] == 2


def test_a_lora_adapter_folder_plays_on_its_base_model(tiny_model_dir, tmp_path):
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    base = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    lora = get_peft_model(base, LoraConfig(r=4, target_modules=["q_proj", "v_proj"], init_lora_weights=False))
    lora.save_pretrained(tmp_path / "adapter")
    spec = resolve_policy(str(tmp_path / "adapter"))
    assert (spec.path, spec.adapter) == (str(tiny_model_dir), str(tmp_path / "adapter"))
    assert type(spec.build().model).__name__ == "PeftModelForCausalLM"
    results = evaluate([str(tmp_path / "adapter")], ["smoke"], limit=1, **FAST)
    assert results.cell("adapter", "smoke")["n"] == 1


def test_a_model_answers_benchmark_questions_and_extraction_is_reported(tiny_model_dir):
    results = evaluate([str(tiny_model_dir)], [f"mcq:{DATA / 'mcq.jsonl'}"], seed=2)
    cell = results.cell(Path(tiny_model_dir).name, "mcq")
    assert cell["n"] == 3
    failures = sum(e["extraction_failed"] for e in results.episodes)
    assert cell["scores"]["extraction_failure_rate"]["mean"] == pytest.approx(failures / 3)
    assert all(e["turns"] == 1 and "response" in e for e in results.episodes)


# --- an OpenAI-compatible endpoint -------------------------------------------------------------------


def test_an_openai_endpoint_is_evaluated_in_parallel_like_serially(served, tmp_path):
    base_url, model = served
    spec = f"openai:{base_url}:{model}"
    kwargs = dict(policies=[spec], suites=["drug_interaction"], limit=2, seed=3, **FAST)
    serial = evaluate(**kwargs)
    cell = serial.cell(f"openai:{model}", "drug_interaction")
    assert cell["n"] == 2 and cell["failed"] == 0
    assert sum(e["tool_calls"] + e["invalid_calls"] for e in serial.episodes) >= 1  # the model called tools
    parallel = evaluate(**kwargs, workers=2)
    assert _strip(parallel, f"openai:{model}") == _strip(serial, f"openai:{model}")
    out = subprocess.run([sys.executable, "-m", "medgym.cli", "eval", "--policy", spec, "--suite",
                          f"mcq:{DATA / 'mcq.csv'}", "--json", "--quiet", "--out", str(tmp_path)],
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["results"][0]["n"] == 2 and "extraction_failure_rate" in data["results"][0]["scores"]
