"""Shared test set-up: offline, quiet, deterministic."""

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

import pytest  # noqa: E402


@pytest.fixture(scope="session")
def tasks():
    from medgym import load_tasks

    return load_tasks()


@pytest.fixture()
def env():
    from medgym.env import EncounterEnv

    e = EncounterEnv(split=None, patient_matcher="lexical")
    yield e
    e.close()


# --- a tiny policy model, built once per session with the real build (tokenizer, Llama config, TRL SFT) ---

TINY_MODEL = {
    "model.hidden_size": 96, "model.num_hidden_layers": 2, "model.num_attention_heads": 2,
    "model.num_key_value_heads": 1, "model.intermediate_size": 192, "model.max_position_embeddings": 4096,
    "tokenizer.vocab_size": 2048, "data.trajectories": 24, "sft.epochs": 4, "sft.learning_rate": 0.006,
}


@pytest.fixture(scope="session")
def tiny_model_config():
    from medgym.models import BuildConfig

    return BuildConfig.load(**TINY_MODEL)


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory, tiny_model_config):
    from medgym.models import build_default_model

    return build_default_model(tiny_model_config, out_dir=tmp_path_factory.mktemp("models") / "tiny", progress=False)


@pytest.fixture(scope="session")
def tiny_model(tiny_model_dir):
    from medgym.agents.hf import load_model

    return load_model(tiny_model_dir, device="cpu")
