"""Build the default policy: tokenizer, model from config, SFT warm start, saved in HF format.

    from medgym.models import build_default_model
    path = build_default_model()          # cached: returns at once when nothing changed
    model = AutoModelForCausalLM.from_pretrained(path); tok = AutoTokenizer.from_pretrained(path)

The directory holds what `save_pretrained` writes plus `medgym_build.json`
(the config, its fingerprint, data counts, timings and SFT metrics). The build
reruns only when the fingerprint changes: the config, the selected training
tasks, the tools those tasks offer, or the chat template.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from medgym.models.config import BuildConfig
from medgym.paths import models_dir
from medgym.tasks.schema import Task

BUILD_FILE = "medgym_build.json"
BUILD_FORMAT = 2  # bump when the build procedure (or the environment that plays the demonstrations) changes the result
# 2: a repeated call's result carries a note (medgym.env.REPEAT_NOTE), which the repeat detours now show


def default_model_dir() -> Path:
    """Where the default policy lives: `medgym.paths.models_dir() / "default"`."""
    return models_dir() / "default"


@dataclass
class BuildPlan:
    config: BuildConfig
    tasks: list[Task]  # the first `config.data.trajectories` are demonstrated in both phases, the next
    # `pretrain_trajectories` in pretraining only, the last `case_records` as case records (pretraining only)
    fingerprint: str


def plan(config: BuildConfig) -> BuildPlan:
    """The training tasks this config selects and the fingerprint that keys the cache."""
    from medgym.models.tokenizer import chat_template
    from medgym.models.trajectories import select_tasks
    from medgym.tasks import load_tasks
    from medgym.tools import list_tools

    data = config.data
    pool = load_tasks(split=data.split)
    if data.domains:
        pool = [t for t in pool if t.domain in data.domains]
    if not pool:
        raise ValueError(
            f"no {data.split} tasks for domains {list(data.domains) if data.domains else 'any'}; "
            "see `medgym tasks` for what exists, or change data.domains / data.split"
        )
    tasks = select_tasks(pool, data.trajectories + data.pretrain_trajectories + data.case_records, seed=config.seed)
    digest = hashlib.sha256()
    digest.update(json.dumps({"format": BUILD_FORMAT, "config": config.model_dump(mode="json")}, sort_keys=True).encode())
    for t in tasks:
        digest.update(t.model_dump_json().encode())
    for domain in sorted({t.domain for t in tasks}):
        digest.update(json.dumps([s.schema for s in list_tools(domain)], sort_keys=True).encode())
    digest.update(chat_template().encode())
    return BuildPlan(config, tasks, digest.hexdigest()[:16])


def _version(package: str) -> str:
    from importlib.metadata import version

    return version(package)


def build_info(path: str | Path) -> dict[str, Any] | None:
    """The build report saved with a model directory, or None when there is none."""
    f = Path(path) / BUILD_FILE
    if not f.is_file():
        return None
    try:
        return json.loads(f.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None


def is_current(path: str | Path, config: BuildConfig | None = None) -> bool:
    """True when `path` holds a complete build for `config` (default config)."""
    info = build_info(path)
    return bool(info) and info.get("fingerprint") == plan(config or BuildConfig.load()).fingerprint


def build_default_model(
    config: BuildConfig | None = None,
    out_dir: str | Path | None = None,
    force: bool = False,
    progress: bool = True,
) -> Path:
    """Build (or reuse) the default policy and return its directory."""
    import torch

    config = config or BuildConfig.load()
    out = Path(out_dir) if out_dir is not None else default_model_dir()
    p = plan(config)
    info = build_info(out)
    if not force and info and info.get("fingerprint") == p.fingerprint:
        return out

    from transformers import AutoModelForCausalLM
    from transformers.utils.chat_template_utils import render_jinja_template

    from medgym.models.sft import copy_warmup, warm_start
    from medgym.models.tokenizer import chat_template, train_tokenizer
    from medgym.models.trajectories import oracle_trajectories

    timings: dict[str, float] = {}
    start = time.perf_counter()
    episodes = config.data.trajectories + config.data.pretrain_trajectories
    trajectories = oracle_trajectories(p.tasks[:episodes], seed=config.seed, patient_matcher=config.data.patient_matcher,
                                       progress=progress, source=config.data.source,
                                       detours=config.data.detours)
    # case records are kept whether or not they succeed: a journey's answers are right, its work-up is missing
    cases = oracle_trajectories(p.tasks[episodes:], seed=config.seed, patient_matcher=config.data.patient_matcher,
                                progress=progress, source="answers")
    failed = [t.task_id for t in trajectories if not t.success]
    both = {t.id for t in p.tasks[: config.data.trajectories]}
    trajectories = [t for t in trajectories if t.success]
    timings["trajectories_s"] = round(time.perf_counter() - start, 1)

    start = time.perf_counter()
    template = chat_template()
    texts = [render_jinja_template(conversations=[t.messages], tools=t.tools, chat_template=template)[0][0]
             for t in trajectories]
    tokenizer = train_tokenizer(texts, config.tokenizer.vocab_size, config.tokenizer.max_token_chars,
                                max_length=config.model.max_position_embeddings, word_runs=config.tokenizer.word_runs)
    lengths = [len(tokenizer(x, add_special_tokens=False)["input_ids"]) for x in texts]
    pretrain_kept = [t for t, n in zip(trajectories, lengths) if n <= config.data.max_tokens]
    kept = [t for t in pretrain_kept if t.task_id in both]
    timings["tokenizer_s"] = round(time.perf_counter() - start, 1)

    torch.manual_seed(config.seed)
    model = AutoModelForCausalLM.from_config(config.transformers_config(tokenizer))
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.generation_config.bos_token_id = None
    copying = pretrain = None
    if config.sft.copy_steps:
        copying = copy_warmup(model, tokenizer, config.sft, seed=config.seed, progress=progress)
        timings["copy_s"] = copying["train_seconds"]
    if config.sft.pretrain_epochs:
        pretrain = warm_start(model, tokenizer, pretrain_kept + cases, config.sft.model_copy(update={"epochs": config.sft.pretrain_epochs}),
                              max_length=config.data.max_tokens, seed=config.seed, progress=progress, assistant_only=False,
                              block_size=config.sft.pretrain_block_size)
        timings["pretrain_s"] = pretrain["train_seconds"]
    sft = warm_start(model, tokenizer, kept, config.sft, max_length=config.data.max_tokens, seed=config.seed,
                     progress=progress)
    timings["sft_s"] = sft["train_seconds"]

    report = {
        "fingerprint": p.fingerprint,
        "config": config.model_dump(mode="json"),
        "parameters": sum(x.numel() for x in model.parameters()),
        "vocab_size": len(tokenizer),
        "data": {
            "selected": len(p.tasks),
            "trained": len(kept),
            "pretrained_only": len(pretrain_kept) - len(kept),
            "case_records": len(cases),
            "too_long": len(trajectories) - len(pretrain_kept),
            "oracle_failed": failed,
            "domains": sorted({t.domain for t in kept}),
            "tokens_mean": round(sum(lengths) / max(1, len(lengths)), 1),
            "detours": sum(t.detours for t in kept),
            "tokens_max": max(lengths, default=0),
            "task_ids": [t.task_id for t in kept],
        },
        "copy": copying,
        "pretrain": pretrain,
        "sft": sft,
        "timings": timings,
        "torch": torch.__version__,
        "versions": {name: _version(name) for name in ("transformers", "tokenizers", "trl", "accelerate", "datasets")},
    }
    _save(model, tokenizer, report, out, texts[:8])
    return out


def _save(model: Any, tokenizer: Any, report: dict[str, Any], out: Path, samples: list[str]) -> None:
    """Write to a sibling directory and swap it in, so a failed build never leaves a half-written model.
    The saved tokenizer must load with `AutoTokenizer` and give the same ids as the trained one."""
    from transformers import AutoTokenizer

    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".building")
    shutil.rmtree(tmp, ignore_errors=True)
    model.save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    loaded = AutoTokenizer.from_pretrained(tmp)
    for text in samples:
        if loaded(text, add_special_tokens=False)["input_ids"] != tokenizer(text, add_special_tokens=False)["input_ids"]:
            raise RuntimeError(f"the saved tokenizer loads as {type(loaded).__name__} and tokenizes differently from "
                               "the trained one; the build was not saved")
    (tmp / BUILD_FILE).write_text(json.dumps(report, indent=2), encoding="utf-8")
    old = out.with_name(out.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if out.exists():
        out.rename(old)
    tmp.rename(out)
    shutil.rmtree(old, ignore_errors=True)
