"""Time per optimizer step and peak memory: TT-OPD against GRPO on the same batch, in one process.

One generation batch is played once; then each method takes the same optimizer
step on it several times from the same starting weights (GRPO first, then
TT-OPD, interleaved), so the ratio compares like with like on a noisy machine.
Peak memory is the highest resident memory seen during the step above what
the process held before it (sampled every millisecond), plus, for TT-OPD, the
teacher's weights.

    python benchmarks/train_step.py [--model DIR] [--tasks 4] [--group 4] [--repeats 3]
"""

from __future__ import annotations

import argparse
import copy
import os
import statistics
import threading
import time

import psutil
import torch

from medgym.train.config import parse_config
from medgym.train.run import load_policy, select_tasks


class PeakRSS:
    """Peak resident memory above the level at entry, sampled in a thread."""

    def __enter__(self) -> "PeakRSS":
        self.proc = psutil.Process(os.getpid())
        self.base = self.proc.memory_info().rss
        self.peak = self.base
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()
        return self

    def _poll(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.proc.memory_info().rss)
            time.sleep(0.001)

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.proc.memory_info().rss)

    @property
    def mib(self) -> float:
        return (self.peak - self.base) / 2**20


def make_trainer(method: str, args: argparse.Namespace, model: torch.nn.Module, tokenizer, tasks, out: str):
    from medgym.train.trainer import MedGymGRPOTrainer

    cfg = parse_config({
        "name": f"bench-{method}", "method": method, "model": args.model, "seed": 0,
        "tasks_per_step": args.tasks, "group_size": args.group, "steps": 1,
        "teacher": {"beta": 0.1, "truncate_tokens": 32},
        "rollout": {"max_turns": args.max_turns, "max_turn_tokens": args.turn_tokens,
                    "max_episode_tokens": args.episode_tokens, "batch_size": args.tasks * args.group},
    })
    return MedGymGRPOTrainer(cfg, model, tokenizer, tasks, out)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--model", default="default")
    p.add_argument("--tasks", type=int, default=4)
    p.add_argument("--group", type=int, default=4)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--max-turns", type=int, default=8)
    p.add_argument("--turn-tokens", type=int, default=64)
    p.add_argument("--episode-tokens", type=int, default=4096)
    args = p.parse_args()
    torch.manual_seed(0)
    base_cfg = parse_config({"model": args.model, "tasks": {"domains": ["clinical_diagnosis"], "limit": args.tasks}})
    model, tokenizer = load_policy(base_cfg)
    tasks = select_tasks(base_cfg)
    initial = copy.deepcopy(model.state_dict())
    trainers = {m: make_trainer(m, args, model, tokenizer, tasks, f"/tmp/medgym-bench-{m}") for m in ("grpo", "ttopd")}
    for trainer in trainers.values():
        trainer.current_gradient_accumulation_steps = 1  # set by Trainer.train(); we call the loss directly

    # One generation batch, shared: GRPO's preparation of it, then TT-OPD's extra teacher inputs.
    grpo = trainers["grpo"]
    grpo.model.train()
    start = time.perf_counter()
    batch = grpo._generate_and_score_completions([{"prompt": t.id} for t in tasks for _ in range(args.group)])
    rollout_s = time.perf_counter() - start
    ttopd = trainers["ttopd"]
    ttopd._episodes = grpo._episodes
    ttopd_batch = {**batch, **ttopd._teacher_inputs(grpo._episodes, batch["completion_ids"].shape[1])}
    episodes = grpo._episodes
    tokens = sum(len(e.token_ids) for e in episodes)
    print(f"batch: {len(episodes)} episodes, {tokens} tokens in all, "
          f"{sum(e.model_tokens for e in episodes)} model tokens; rollout {rollout_s:.1f} s")

    times: dict[str, list[float]] = {"grpo": [], "ttopd": []}
    peaks: dict[str, list[float]] = {"grpo": [], "ttopd": []}
    for _ in range(args.repeats):
        for method, inputs in (("grpo", batch), ("ttopd", ttopd_batch)):
            trainer = trainers[method]
            model.load_state_dict(initial)
            optimizer = torch.optim.AdamW(model.parameters(), lr=1e-5)
            with PeakRSS() as mem:
                start = time.perf_counter()
                loss = trainer._compute_loss(model, inputs)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                optimizer.step()
                optimizer.zero_grad(set_to_none=True)
                times[method].append(time.perf_counter() - start)
            peaks[method].append(mem.mib)
    teacher_mib = sum(p.numel() * p.element_size() for p in ttopd.teacher_model.parameters()) / 2**20
    g_t, t_t = statistics.median(times["grpo"]), statistics.median(times["ttopd"])
    g_m, t_m = statistics.median(peaks["grpo"]), statistics.median(peaks["ttopd"]) + teacher_mib
    n_params = sum(p.numel() for p in model.parameters())
    print(f"model: {n_params / 1e6:.1f}M parameters, device {next(model.parameters()).device}")
    print(f"time per optimizer step: GRPO {g_t:.2f} s, TT-OPD {t_t:.2f} s  -> ratio {t_t / g_t:.2f}x (target <= 1.3x)")
    print(f"peak memory in the step: GRPO {g_m:.0f} MiB, TT-OPD {t_m:.0f} MiB (incl. teacher weights "
          f"{teacher_mib:.0f} MiB) -> ratio {t_m / max(g_m, 1e-9):.2f}x (target <= 1.5x)")


if __name__ == "__main__":
    main()
