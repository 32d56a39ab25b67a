"""Rollout throughput: batched generation vs one episode at a time, in one process.

Plays the same held-out episodes twice with the same model and greedy decoding
(so both modes generate exactly the same tokens): once with `batch_size=B`
(default 16) and once with `batch_size=1`. Reports generated tokens/s,
episodes/s, the speed-up, the peak KV cache, and the process's peak memory
(CPU: peak RSS; GPU: torch.cuda.max_memory_allocated per mode), and where the
time goes: feeding prompts and environment replies (compute-bound, about the
same work in both modes) and decoding (one token per episode per pass, which
batching shares), with the speed-up that would remain if batched decoding
cost nothing.

    python benchmarks/rollout_throughput.py                      # the default model (build it first)
    python benchmarks/rollout_throughput.py --episodes 32 --batch-size 16
    python benchmarks/rollout_throughput.py --episodes 16 --group 4  # 4 tasks x 4 episodes, as in GRPO
    python benchmarks/rollout_throughput.py --constrain-tool-names   # + the batched run with tool names constrained
    python benchmarks/rollout_throughput.py --from-config --hidden-size 1024 --layers 12   # a larger model
                                                                 # built from config (random weights, bf16 on GPU)

`--from-config` measures the engine with a larger Llama of the default
tokenizer's vocabulary and random weights: throughput only, the episodes are
nonsense; `--max-turns` and `--max-turn-tokens` keep them bounded.
"""

from __future__ import annotations

import argparse
import json
import resource
import time

import torch

from medgym.agents.hf import load_model, pick_device, pick_dtype
from medgym.models.evaluate import held_out_tasks
from medgym.rollout import RolloutConfig, RolloutEngine


def measure(model, tok, tasks, batch_size: int, args, constrain: bool = False) -> dict:
    config = RolloutConfig(batch_size=batch_size, temperature=0.0, max_turns=args.max_turns,
                           max_turn_tokens=args.max_turn_tokens, patient_matcher="lexical",
                           constrain_tool_names=constrain)
    engine = RolloutEngine(model, tok, config)
    if torch.cuda.is_available():
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    episodes = engine.run(tasks, seed=args.seed)
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    tokens = sum(e.model_tokens for e in episodes)
    out = {
        "batch_size": batch_size,
        "episodes": len(episodes),
        "generated_tokens": tokens,
        "seconds": round(seconds, 2),
        "tokens_per_s": round(tokens / seconds, 1),
        "episodes_per_s": round(len(episodes) / seconds, 3),
        "feed_seconds": round(engine.stats.feed_seconds, 2),  # prompts and env replies through the model
        "decode_seconds": round(engine.stats.decode_seconds, 2),  # one sampled token per decoding episode
        "forward_calls": engine.stats.forward_calls,
        "forward_tokens": engine.stats.forward_tokens,
        "shared_prefix_tokens": engine.stats.shared_prefix_tokens,
        # share of the tokens fed through the model that were padding (each episode's ids are in the cache once:
        # computed, or copied from a shared prompt prefix)
        "padding_share": round(1 - (sum(len(e.token_ids) for e in episodes) - engine.stats.shared_prefix_tokens)
                               / max(1, engine.stats.forward_tokens), 3),
        "peak_kv_cache_mb": round(engine.stats.peak_cache_bytes / 2**20, 2),
        "ids": [e.token_ids for e in episodes],
    }
    if torch.cuda.is_available():
        out["peak_gpu_mb"] = round(torch.cuda.max_memory_allocated() / 2**20, 1)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=None, help="model directory (default: the built default model)")
    parser.add_argument("--episodes", type=int, default=32)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--max-turns", type=int, default=24)
    parser.add_argument("--max-turn-tokens", type=int, default=256)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--group", type=int, default=1,
                        help="play each task this many times, as a GRPO group does (default 1: distinct tasks)")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    parser.add_argument("--constrain-tool-names", action="store_true",
                        help="also time the batched run with tool names constrained (its episodes differ)")
    parser.add_argument("--from-config", action="store_true", help="a larger random-weight Llama (see docstring)")
    parser.add_argument("--hidden-size", type=int, default=1024)
    parser.add_argument("--layers", type=int, default=12)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    model, tok = load_model(args.model)
    if args.from_config:
        from transformers import AutoModelForCausalLM, LlamaConfig

        device = pick_device()
        cfg = LlamaConfig(vocab_size=len(tok), hidden_size=args.hidden_size, intermediate_size=4 * args.hidden_size,
                          num_hidden_layers=args.layers, num_attention_heads=args.hidden_size // 64,
                          num_key_value_heads=max(1, args.hidden_size // 256), max_position_embeddings=8192,
                          eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id, bos_token_id=None)
        torch.manual_seed(0)
        model = AutoModelForCausalLM.from_config(cfg, dtype=pick_dtype(device)).to(device).eval()
    if args.group > 1:  # GRPO-style: episodes / group tasks, each played `group` times
        tasks = [t for t in held_out_tasks(limit=args.episodes // args.group, seed=args.seed) for _ in range(args.group)]
    else:
        tasks = held_out_tasks(limit=args.episodes, seed=args.seed)
    measure(model, tok, tasks, args.batch_size, args)  # warm-up on the same episodes (imports, tool caches)

    sequential = measure(model, tok, tasks, 1, args)
    batched = measure(model, tok, tasks, args.batch_size, args)
    same = sequential.pop("ids") == batched.pop("ids")
    report = {
        "device": str(model.device), "dtype": str(model.dtype), "threads": torch.get_num_threads(),
        "parameters_M": round(sum(p.numel() for p in model.parameters()) / 1e6, 2),
        "sequential": sequential, "batched": batched,
        "speedup_tokens_per_s": round(batched["tokens_per_s"] / sequential["tokens_per_s"], 2),
        "speedup_episodes_per_s": round(batched["episodes_per_s"] / sequential["episodes_per_s"], 2),
        "same_tokens_both_ways": same,
        # Amdahl: feeding prompts and replies is compute-bound and about the same work in both modes, so even a
        # free batched decode could not beat the sequential run's time over the batched run's feeding time
        "speedup_bound_if_decode_were_free": round(sequential["seconds"] / max(1e-9, batched["feed_seconds"]), 2),
        "tasks": len({t.id for t in tasks}),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    if args.constrain_tool_names:  # generated tokens per second, since the constrained episodes are other episodes
        constrained = measure(model, tok, tasks, args.batch_size, args, constrain=True)
        constrained.pop("ids")
        report["constrained"] = constrained
        report["constrained_vs_batched_tokens_per_s"] = round(constrained["tokens_per_s"] / batched["tokens_per_s"], 3)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
