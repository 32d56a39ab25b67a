"""SFT step time: MedGym's assistant-token trainer against TRL's `SFTTrainer`, in one process.

Both train copies of the same model on the same oracle episodes with the same
settings (assistant-only loss, batch 1, no packing), alternating, and report
seconds per step and the first step's loss (which must agree: the subclass
only skips the logits of unlabelled positions).

    python benchmarks/sft_step.py [--model DIR] [--episodes 12] [--repeats 2]
"""

from __future__ import annotations

import argparse
import copy
import statistics
import tempfile
import time

from transformers import AutoModelForCausalLM, AutoTokenizer, PrinterCallback
from trl import SFTConfig, SFTTrainer

from medgym.models.build import default_model_dir
from medgym.models.sft import _trainer_class, sft_dataset
from medgym.models.trajectories import oracle_trajectories, select_tasks
from medgym.tasks import load_tasks


def train(cls: type, model, tokenizer, dataset, steps: int) -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as out:
        args = SFTConfig(output_dir=out, max_steps=steps, per_device_train_batch_size=1, learning_rate=1e-3,
                         assistant_only_loss=True, activation_checkpointing=False, logging_steps=1,
                         save_strategy="no", report_to="none", use_cpu=True, disable_tqdm=True, seed=0,
                         max_length=3072)
        trainer = cls(model=model, args=args, train_dataset=dataset, processing_class=tokenizer)
        trainer.remove_callback(PrinterCallback)
        start = time.perf_counter()
        trainer.train()
        seconds = time.perf_counter() - start
    first = next(h["loss"] for h in trainer.state.log_history if "loss" in h)
    return seconds / steps, first


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=str(default_model_dir()))
    parser.add_argument("--episodes", type=int, default=12)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    tokenizer = AutoTokenizer.from_pretrained(args.model)
    base = AutoModelForCausalLM.from_pretrained(args.model)
    tasks = select_tasks(load_tasks(split="train"), args.episodes, seed=0)
    dataset = sft_dataset(oracle_trajectories(tasks, progress=False))
    times: dict[str, list[float]] = {"trl": [], "medgym": []}
    losses: dict[str, float] = {}
    for _ in range(args.repeats):
        for name, cls in (("trl", SFTTrainer), ("medgym", _trainer_class())):
            per_step, losses[name] = train(cls, copy.deepcopy(base), tokenizer, dataset, args.episodes)
            times[name].append(per_step)
    trl, ours = statistics.median(times["trl"]), statistics.median(times["medgym"])
    print(f"episodes {args.episodes}, steps of one episode each, median of {args.repeats}")
    print(f"TRL SFTTrainer      {trl:.3f} s/step  first loss {losses['trl']:.4f}")
    print(f"assistant-token     {ours:.3f} s/step  first loss {losses['medgym']:.4f}")
    print(f"speed-up {trl / ours:.2f}x")


if __name__ == "__main__":
    main()
