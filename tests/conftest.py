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
