"""Policy specs: the names `medgym eval --policy` accepts, resolved to something that builds a policy.

    scripted            the scripted clinician (medgym.agents.ScriptedPolicy)
    oracle              replays the ground truth (an upper bound and a check of the pipeline)
    default             the default built model, `medgym model build` (<models_dir>/default)
    PATH                a local Hugging Face model folder (config.json), a LoRA adapter folder
                        (adapter_config.json, on its base model), or a training run folder:
                        its latest `checkpoint-N` (or `final`/`model`) is used
    openai:URL:MODEL    an OpenAI-compatible endpoint, e.g. openai:http://127.0.0.1:8000/v1:my-model

A spec is a string so that it travels to worker processes and Ray tasks; each
worker builds its own policy from it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from medgym.agents import OraclePolicy, ScriptedPolicy
from medgym.agents.base import Action, tool_message
from medgym.eval.suites import Suite

BUILTIN = ("scripted", "oracle")
_OPENAI = re.compile(r"^openai:(https?://[^/:\s]+(?::\d+)?(?:/[^:\s]*)?):(.+)$")
VALID = ("scripted, oracle, default (the built default model), a local Hugging Face model folder, a LoRA adapter "
         "folder, a training run or checkpoint folder, or openai:URL:MODEL (e.g. openai:http://127.0.0.1:8000/v1:my-model)")


@dataclass(frozen=True)
class PolicySpec:
    """A resolved policy spec: what it names and how to build it."""

    spec: str
    name: str
    kind: str  # scripted | oracle | hf | openai | object
    path: str | None = None
    adapter: str | None = None
    base_url: str | None = None
    model: str | None = None
    timeout: float = 120.0  # seconds an endpoint may take to answer one turn
    constrain_tool_names: bool = False  # a local model decodes tool names only among the offered tools
    obj: Any = field(default=None, compare=False, hash=False)

    def identity(self) -> str:
        """What the policy is, for resuming: its spec, and for a model its files' sizes and times (a rebuilt
        `default` is a different policy, whose finished episodes are not reused)."""
        if self.kind != "hf":
            return self.spec
        stamps = []
        for folder in filter(None, (self.path, self.adapter)):
            for f in sorted(Path(folder).iterdir()):
                if f.is_file():
                    st = f.stat()
                    stamps.append(f"{f.name}:{st.st_size}:{st.st_mtime_ns}")
        constrained = "|constrained" if self.constrain_tool_names else ""
        return f"{self.spec}|{self.path}|{self.adapter}{constrained}|" + ",".join(stamps)

    def unsupported(self, suite: Suite) -> str | None:
        """Why this policy cannot play `suite`, or None when it can."""
        if self.kind == "scripted" and suite.kind == "qa":
            return "the scripted clinician has no strategy for multiple-choice benchmark questions"
        return None

    def build(self, suite: Suite | None = None) -> Any:
        """A fresh policy for `suite` (the oracle reads the suite's answers; the others ignore it)."""
        if self.kind == "object":
            return self.obj
        if self.kind == "scripted":
            return ScriptedPolicy()
        if self.kind == "oracle":
            if suite is not None and suite.kind == "qa":
                return BenchmarkOracle({i.id: i.answer for i in suite.qa_items()})
            return OraclePolicy()
        if self.kind == "hf":
            return _hf_policy(self)
        if self.kind == "openai":
            return _openai_policy(self)
        raise ValueError(f"cannot build policy kind {self.kind!r}")


class BenchmarkOracle:
    """The oracle on a benchmark: submits the correct letter (ground truth, labelled as such)."""

    name = "oracle"
    uses_ground_truth = True

    def __init__(self, answers: dict[str, str]) -> None:
        self.answers = answers
        self._answer = ""

    def reset(self, observation: str, info: dict[str, Any]) -> None:
        self._answer = self.answers[info["task_id"]]

    def act(self, observation: str, info: dict[str, Any]) -> Action:
        return tool_message(("submit_answer", {"answer": self._answer}))


def resolve_policy(spec: Any) -> PolicySpec:
    """Resolve a policy spec (or a policy object, for notebooks) to a PolicySpec; a clear error otherwise."""
    if isinstance(spec, PolicySpec):
        return spec
    if not isinstance(spec, str):
        if callable(getattr(spec, "act", None)) and callable(getattr(spec, "reset", None)):
            return PolicySpec(spec=f"object:{getattr(spec, 'name', type(spec).__name__)}",
                              name=str(getattr(spec, "name", type(spec).__name__)), kind="object", obj=spec)
        raise ValueError(f"a policy is a spec string or an object with reset() and act(), got {type(spec).__name__}")
    text = spec.strip()
    if text in BUILTIN:
        return PolicySpec(spec=text, name=text, kind=text)
    if text.startswith("openai:"):
        m = _OPENAI.match(text)
        if not m:
            raise ValueError(f"policy {spec!r}: write an endpoint as openai:URL:MODEL, "
                             "e.g. openai:http://127.0.0.1:8000/v1:my-model")
        return PolicySpec(spec=text, name=f"openai:{m.group(2)}", kind="openai", base_url=m.group(1), model=m.group(2))
    if text == "default":
        from medgym.paths import models_dir

        folder = models_dir() / "default"
        if not folder.is_dir():
            raise ValueError(f"the default model is not built yet ({folder} does not exist); build it with "
                             "`medgym model build`, or name another policy: " + VALID)
        return _model_spec(text, "default", folder)
    path = Path(text).expanduser()
    if path.exists():
        if not path.is_dir():
            raise ValueError(f"policy {spec!r} is a file; a model policy is a folder. Valid policies: {VALID}")
        return _model_spec(text, path.resolve().name, path)
    raise ValueError(f"unknown policy {spec!r}. Valid policies: {VALID}")


def _model_spec(spec: str, name: str, folder: Path) -> PolicySpec:
    model = model_folder(folder)
    if (model / "adapter_config.json").exists():
        try:
            base = json.loads((model / "adapter_config.json").read_text())["base_model_name_or_path"]
        except (json.JSONDecodeError, KeyError) as exc:
            raise ValueError(f"{model / 'adapter_config.json'} is unreadable or names no base_model_name_or_path "
                             f"({exc}); it cannot be loaded as a LoRA adapter") from None
        if not Path(base).expanduser().is_dir():
            raise ValueError(f"the LoRA adapter {model} is for base model {base!r}, which is not a local folder; "
                             "nothing is downloaded, so put the base model on disk and fix base_model_name_or_path")
        return PolicySpec(spec=spec, name=name, kind="hf", path=str(Path(base).expanduser()), adapter=str(model))
    return PolicySpec(spec=spec, name=name, kind="hf", path=str(model))


def model_folder(folder: Path) -> Path:
    """The folder holding the weights: the folder itself, or a run's latest checkpoint."""
    if (folder / "config.json").exists() or (folder / "adapter_config.json").exists():
        return folder
    checkpoints = sorted((p for p in folder.glob("checkpoint-*") if p.is_dir() and p.name.split("-")[-1].isdigit()),
                         key=lambda p: int(p.name.split("-")[-1]))
    for candidate in [*reversed(checkpoints), folder / "final", folder / "model"]:
        if (candidate / "config.json").exists() or (candidate / "adapter_config.json").exists():
            return candidate
    raise ValueError(f"{folder} holds no model: expected config.json (a Hugging Face model), adapter_config.json "
                     "(a LoRA adapter) or checkpoint-N folders (a training run)")


def _hf_policy(spec: PolicySpec) -> Any:
    from medgym.agents.hf import HFPolicy

    return HFPolicy(spec.path, adapter=spec.adapter, constrain_tool_names=spec.constrain_tool_names)


def _openai_policy(spec: PolicySpec) -> Any:
    from medgym.agents.openai_api import OpenAIPolicy

    # the client does not retry: time-outs are retried (and then recorded) by the evaluation runner
    return OpenAIPolicy(model=spec.model, base_url=spec.base_url, timeout=spec.timeout, max_retries=0)
