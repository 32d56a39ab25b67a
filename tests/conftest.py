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

# Short-prompt domains keep the tiny model cheap to train and able to learn the call format in seconds;
# the tests that play it draw their tasks from the same domains (`tiny_tasks`).
TINY_DOMAINS = ("drug_interaction", "medical_qa")
TINY_MODEL = {
    "model.hidden_size": 128, "model.num_hidden_layers": 2, "model.num_attention_heads": 2,
    "model.num_key_value_heads": 1, "model.intermediate_size": 256, "model.max_position_embeddings": 4096,
    "tokenizer.vocab_size": 4096, "tokenizer.word_runs": False, "data.max_tokens": 4096, "data.trajectories": 32, "sft.epochs": 10,
    "sft.pretrain_epochs": 0, "sft.batch_size": 4, "sft.learning_rate": 0.005, "data.domains": list(TINY_DOMAINS),
    "data.detours": 0.0, "sft.weight_average": 0.0,  # 80 steps: an EMA of half-life 140 steps would undo them
}


@pytest.fixture(scope="session")
def tiny_tasks(tasks):
    """The tasks of the domains the tiny model was trained on."""
    return [t for t in tasks if t.domain in TINY_DOMAINS]


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

@pytest.fixture(scope="session")
def kb(tmp_path_factory):
    """A small knowledge index (project knowledge, real Chroma and embedder), built once per test session
    in a temporary MEDGYM_KB_DIR that readers use while the session lasts."""
    from medgym.knowledge import corpus, index

    path = tmp_path_factory.mktemp("kb")
    previous = os.environ.get("MEDGYM_KB_DIR")
    os.environ["MEDGYM_KB_DIR"] = str(path)
    index.build(list(corpus.small_corpus()), path, progress=False)
    yield path
    if previous is None:
        os.environ.pop("MEDGYM_KB_DIR", None)
    else:
        os.environ["MEDGYM_KB_DIR"] = previous


# --- an OpenAI-compatible endpoint: a real `transformers serve` with the tiny model ---


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture()
def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on."""
    return _free_port()


@pytest.fixture(scope="session")
def served(tiny_model_dir):
    """`transformers serve` on 127.0.0.1 with the tiny model directory (offline); yields (base_url, model);
    stops after the session and, as a safety net, by itself after 20 minutes."""
    import shutil
    import subprocess
    import sys
    import time
    from pathlib import Path

    import httpx

    port = _free_port()
    cli = Path(sys.executable).parent / "transformers"
    cmd = [str(cli), "serve", str(tiny_model_dir), "--host", "127.0.0.1", "--port", str(port), "--device", "cpu"]
    if shutil.which("timeout"):
        cmd = ["timeout", "1200", *cmd]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 180
    while time.time() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"transformers serve exited: {proc.stderr.read().decode()[-2000:]}")
        try:
            if httpx.get(url + "/health", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.5)
    else:
        proc.kill()
        pytest.fail("transformers serve did not start within 180 s")
    yield url + "/v1", str(tiny_model_dir)
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
