"""Run evaluation episodes: serially, in local worker processes, or on Ray; resume from finished ones.

Each episode's seed comes from the evaluation seed, the suite and the item
(`episode_seed`), and the random generators are reseeded before every episode,
so an episode's result does not depend on which worker played it or in which
order: parallel results equal serial results.

Finished episodes are appended to `<out>/episodes.jsonl` as they come in; a run
started again with the same `out` skips them (a torn last line from a killed run
is dropped and that episode played again).

An endpoint that times out or refuses the connection is retried `retries` times
with exponential back-off; then the episode is recorded as failed (not solved,
with the error), never dropped. Any other exception stops the run (finished
episodes are kept).
"""

from __future__ import annotations

import json
import math
import os
import random
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from medgym.encounter import stable_seed
from medgym.eval.policies import PolicySpec
from medgym.eval.records import action_text, env_record, failed_record, qa_record, token_counter
from medgym.eval.suites import Suite

EPISODES_FILE = "episodes.jsonl"
WORKER_PRELOAD = ["medgym.eval.runner", "medgym.env", "medgym.agents", "torch", "medgym.eval.worker"]
CONFIG_FILE = "config.json"
_RETRYABLE_NAMES = {"APITimeoutError", "APIConnectionError", "TimeoutException", "ConnectError", "ReadTimeout",
                    "ConnectTimeout", "RemoteProtocolError", "InternalServerError"}


@dataclass(frozen=True)
class EvalConfig:
    """Everything besides policy and suite that decides an episode's result."""

    seed: int = 0
    max_turns: int = 24
    reward: str = "shaped"
    patient_matcher: str = "hybrid"
    qa_max_turns: int = 6
    retries: int = 2
    retry_wait_s: float = 1.0

    def fingerprint(self) -> dict[str, Any]:
        """The settings that must match for finished episodes to be reused."""
        return {k: v for k, v in asdict(self).items() if k not in ("retries", "retry_wait_s")}


@dataclass(frozen=True)
class Job:
    """One episode to play: a policy on one item of a suite."""

    policy: PolicySpec
    suite: Suite
    item: str

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.policy.name, self.suite.name, self.item)


def episode_seed(seed: int, suite: str, item: str) -> int:
    return stable_seed("episode", seed, suite, item) % 2**31


def _reseed(seed: int) -> None:
    random.seed(seed)
    try:
        import numpy as np

        np.random.seed(seed % 2**32)
    except ImportError:  # pragma: no cover - numpy is a dependency
        pass
    if "torch" in sys.modules:  # sampling policies draw from torch's generator
        sys.modules["torch"].manual_seed(seed)


# --- one episode ------------------------------------------------------------------------------------

# built once per process; keyed by the whole suite (its file, mode and items), not its name
_POLICIES: dict[tuple[PolicySpec, Suite | None], Any] = {}
_ENVS: dict[tuple[Suite, str], Any] = {}


def _policy(spec: PolicySpec, suite: Suite) -> Any:
    if spec.kind == "object":
        return spec.obj
    key = (spec, suite if spec.kind == "oracle" else None)
    if key not in _POLICIES:
        _POLICIES[key] = spec.build(suite)
    return _POLICIES[key]


def _env(suite: Suite, config: EvalConfig) -> Any:
    key = (suite, json.dumps(config.fingerprint(), sort_keys=True))
    if key not in _ENVS:
        if suite.kind == "env":
            from medgym.env import EncounterEnv
            from medgym.tasks import get_task

            _ENVS[key] = EncounterEnv(tasks=[get_task(i) for i in suite.task_ids], max_turns=config.max_turns,
                                      reward=config.reward, patient_matcher=config.patient_matcher)
        else:
            from medgym.eval.qaenv import QAEnv

            _ENVS[key] = QAEnv(suite.qa_items(), mode=suite.mode, max_turns=config.qa_max_turns, benchmark=suite.name)
    return _ENVS[key]


def play_episode(policy: Any, env: Any, item: str, seed: int) -> dict[str, Any]:
    """Play one episode to the end and return its metrics."""
    _reseed(seed)
    observation, info = env.reset(seed=seed, options={"task_id": item})
    policy.reset(observation, info)
    _, count = token_counter(policy)
    tokens: list[int] = []
    total, done = 0.0, False
    while not done:
        action = policy.act(observation, info)
        tokens.append(count(action_text(action)))
        observation, reward, terminated, truncated, info = env.step(action)
        total += reward
        done = terminated or truncated
    make = qa_record if getattr(env, "mode", None) in ("closed", "agentic") else env_record
    return make(env, info, total, tokens) | {"token_counter": token_counter(policy)[0]}


def retryable(exc: BaseException) -> bool:
    """An endpoint problem worth retrying: a time-out or a refused/broken connection."""
    if isinstance(exc, (TimeoutError, ConnectionError)):
        return True
    return any(c.__name__ in _RETRYABLE_NAMES and c.__module__.split(".")[0] in ("openai", "httpx", "httpcore",
                                                                                   "requests", "urllib3")
               for c in type(exc).__mro__)


def run_job(job: Job, config: EvalConfig) -> dict[str, Any]:
    """One episode with retries; the record carries the job's key, seed and time taken."""
    seed = episode_seed(config.seed, job.suite.name, job.item)
    start = time.perf_counter()
    attempts = 0
    while True:
        attempts += 1
        try:
            record = play_episode(_policy(job.policy, job.suite), _env(job.suite, config), job.item, seed)
            break
        except Exception as exc:  # noqa: BLE001 - only endpoint errors are retried; the rest re-raised
            if not retryable(exc):
                raise RuntimeError(f"episode {job.item} of suite {job.suite.name} with policy {job.policy.name} "
                                   f"failed: {type(exc).__name__}: {exc}") from exc
            if attempts > config.retries:
                record = failed_record(f"{type(exc).__name__}: {exc} (after {attempts} attempts)")
                break
            time.sleep(config.retry_wait_s * 2 ** (attempts - 1))
    return {"policy": job.policy.name, "policy_id": job.policy.identity(), "suite": job.suite.name, "item": job.item,
            "seed": seed,
            "attempts": attempts, **record, "elapsed_s": round(time.perf_counter() - start, 4)}


def run_batch(jobs: list[Job], config: EvalConfig) -> list[dict[str, Any]]:
    """Several episodes in this process (a worker's unit of work)."""
    return [run_job(j, config) for j in jobs]


# --- many episodes ----------------------------------------------------------------------------------


def batches(jobs: list[Job], workers: int) -> list[list[Job]]:
    """Jobs in small batches of one policy and suite (so a worker builds each policy once per batch at most)."""
    size = max(1, min(8, math.ceil(len(jobs) / max(1, workers * 4))))
    out: list[list[Job]] = []
    for job in jobs:
        if out and len(out[-1]) < size and (out[-1][0].policy, out[-1][0].suite) == (job.policy, job.suite):
            out[-1].append(job)
        else:
            out.append([job])
    return out


def run_jobs(jobs: list[Job], config: EvalConfig, workers: int = 1, use_ray: bool = False) -> Iterator[dict[str, Any]]:
    """Play every job; yield records as they finish (in any order when parallel)."""
    if not jobs:
        return
    if use_ray:
        yield from _run_ray(jobs, config, workers)
    elif workers <= 1:
        for job in jobs:
            yield run_job(job, config)
    else:
        yield from _run_processes(jobs, config, workers)


def _run_processes(jobs: list[Job], config: EvalConfig, workers: int) -> Iterator[dict[str, Any]]:
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    # forkserver, not fork: a torch / tokenizers runtime that has run can deadlock in a forked child. The fork
    # server only imports and loads data (medgym.eval.worker: tasks, tool schemas) and lives as long as this
    # process, so every worker, in this pool and later ones, starts with them loaded.
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(WORKER_PRELOAD)
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        pending = {pool.submit(run_batch, b, config) for b in batches(jobs, workers)}
        try:
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    yield from future.result()
        finally:
            for future in pending:
                future.cancel()


def _run_ray(jobs: list[Job], config: EvalConfig, workers: int) -> Iterator[dict[str, Any]]:
    try:
        import ray
    except ImportError:
        raise ValueError("--ray needs Ray: pip install 'medgym[ray]'") from None
    if not ray.is_initialized():
        address = os.environ.get("RAY_ADDRESS")
        here = str(Path(__file__).resolve().parents[2])
        env = {"PYTHONPATH": os.pathsep.join(p for p in [here, os.environ.get("PYTHONPATH", "")] if p)}
        kwargs: dict[str, Any] = {"runtime_env": {"env_vars": env}, "include_dashboard": False,
                                  "log_to_driver": False}
        if not address:
            kwargs["num_cpus"] = max(1, workers)
            # a local cluster on a busy machine: the raylet gives its dashboard agent only 15 s to start by
            # default and aborts after (ray-project/ray#65983); allow two minutes
            os.environ.setdefault("RAY_agent_register_timeout_ms", "120000")
            os.environ.setdefault("RAY_raylet_start_wait_time_s", "120")
        ray.init(address=address, **kwargs)
    remote = ray.remote(run_batch)
    pending = [remote.remote(b, config) for b in batches(jobs, max(1, workers))]
    try:
        while pending:
            done, pending = ray.wait(pending, num_returns=1)
            yield from ray.get(done[0])
    finally:
        for ref in pending:
            ray.cancel(ref)


# --- the results file --------------------------------------------------------------------------------


class EpisodeLog:
    """`<out>/episodes.jsonl`: finished episodes, appended as they come in, read back to resume."""

    def __init__(self, out: Path, config: EvalConfig, overwrite: bool = False) -> None:
        self.out = Path(out).expanduser()
        if self.out.exists() and not self.out.is_dir():
            raise ValueError(f"--out {self.out} is a file; name a folder for the results")
        self.out.mkdir(parents=True, exist_ok=True)
        self.path = self.out / EPISODES_FILE
        config_path = self.out / CONFIG_FILE
        fingerprint = config.fingerprint()
        if overwrite:
            self.path.unlink(missing_ok=True)
        elif config_path.exists() and self.path.exists():
            try:
                previous = json.loads(config_path.read_text())
            except json.JSONDecodeError:
                previous = None
            if previous != fingerprint:
                raise ValueError(f"{self.out} holds episodes evaluated with other settings ({previous} vs "
                                 f"{fingerprint}); use another --out folder, or --overwrite to start again")
        config_path.write_text(json.dumps(fingerprint, indent=2) + "\n")
        self.records: dict[tuple[str, str, str], dict[str, Any]] = {}
        self.dropped = 0
        if self.path.exists():
            self._load()

    def _load(self) -> None:
        lines = self.path.read_text(encoding="utf-8").split("\n")
        good = []
        for line in lines:
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                key = (record["policy"], record["suite"], record["item"])
            except (json.JSONDecodeError, KeyError, TypeError):
                self.dropped += 1  # a line torn by a killed run: that episode is played again
                continue
            self.records[key] = record
            good.append(line)
        if self.dropped:
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text("".join(g + "\n" for g in good), encoding="utf-8")
            tmp.replace(self.path)

    def add(self, record: dict[str, Any]) -> None:
        self.records[(record["policy"], record["suite"], record["item"])] = record
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(json.dumps(record, ensure_ascii=False) + "\n")
            f.flush()


def play(jobs: list[Job], config: EvalConfig, log: EpisodeLog | None = None, workers: int = 1, use_ray: bool = False,
         progress: Callable[[dict[str, Any]], None] | None = None) -> dict[tuple[str, str, str], dict[str, Any]]:
    """Play the jobs not finished yet (per `log`), record each as it comes in; return every record by key."""
    done = {}
    if log:  # reuse a finished episode only if it was played by the same policy (a rebuilt model is not)
        identities = {j.policy.name: j.policy.identity() for j in jobs}
        done = {k: r for k, r in log.records.items() if r.get("policy_id") == identities.get(k[0], r.get("policy_id"))}
    todo = [j for j in jobs if j.key not in done]
    for record in run_jobs(todo, config, workers, use_ray):
        if log:
            log.add(record)
        done[(record["policy"], record["suite"], record["item"])] = record
        if progress:
            progress(record)
    return done
