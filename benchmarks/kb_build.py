"""Knowledge-base build benchmark: embedding throughput of each backend against plain
sentence-transformers (same process, same passages), recall of the faster paths against the
baseline's top-10, then (optionally) the full build's throughput, time and size.

    PYTHONPATH=$PWD HF_HUB_OFFLINE=1 python benchmarks/kb_build.py --sample 1500            # embedders only
    PYTHONPATH=$PWD HF_HUB_OFFLINE=1 python benchmarks/kb_build.py --full --path /tmp/kbfull  # + the full build
"""

from __future__ import annotations

import argparse
import json
import random
import time

import numpy as np

from medgym.knowledge import corpus, embedder, index


def sample_passages(n: int, seed: int = 0) -> tuple[list[corpus.Passage], int]:
    everything = list(corpus.full_corpus())
    rng = random.Random(seed)
    return rng.sample(everything, min(n, len(everything))), len(everything)


def overlap_at_10(ref_q: np.ndarray, ref_d: np.ndarray, q: np.ndarray, d: np.ndarray) -> float:
    """Mean share of the baseline's top-10 neighbours that the other embedding also ranks in its top-10."""
    top_ref = np.argsort(-(ref_q @ ref_d.T), axis=1)[:, :10]
    top = np.argsort(-(q @ d.T), axis=1)[:, :10]
    return float(np.mean([len(set(a) & set(b)) / 10 for a, b in zip(top_ref, top)]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sample", type=int, default=1500, help="passages embedded by every backend")
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--full", action="store_true", help="also run the full build")
    ap.add_argument("--path", default="/tmp/medgym-kb-full")
    ap.add_argument("--backend", default=index.DEFAULT_BACKEND)
    args = ap.parse_args()

    t0 = time.perf_counter()
    passages, total = sample_passages(args.sample)
    print(f"corpus: {total} passages (collected in {time.perf_counter() - t0:.1f} s); sample of {len(passages)}")
    texts = [p.embedding_text() for p in passages]
    rng = random.Random(1)
    queries = [" ".join(p.title.split()[:8]) for p in rng.sample(passages, args.queries)]
    embedder.embed(texts[:8])  # load every backend before timing
    embedder.embed(texts[:8], backend="onnx")
    embedder.embed(texts[:8], backend="onnx-int8")
    results: dict[str, dict[str, float]] = {}
    vectors: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    runs = [("torch (sentence-transformers, max 256)", "torch", None), ("onnx fp32 (max 256, the build)", "onnx", 256),
            ("onnx int8 (max 256)", "onnx-int8", 256), ("onnx fp32 (max 128)", "onnx", 128)]
    for label, backend, max_length in runs:
        start = time.perf_counter()
        d = embedder.embed(texts, backend=backend, max_length=max_length)
        seconds = time.perf_counter() - start
        q = embedder.embed(queries, backend=backend, max_length=max_length)
        vectors[label] = (q, d)
        results[label] = {"passages_per_s": len(texts) / seconds, "seconds": seconds}
    base_label = runs[0][0]
    base = results[base_label]["passages_per_s"]
    print(f"\n{'embedder':40} {'passages/s':>11} {'speed-up':>9} {'top-10 overlap':>15} {'mean cosine':>12}")
    for label, r in results.items():
        q, d = vectors[label]
        rq, rd = vectors[base_label]
        r["speedup"] = r["passages_per_s"] / base
        r["recall_at_10_vs_baseline"] = overlap_at_10(rq, rd, q, d)
        r["mean_cosine_to_baseline"] = float((d * rd).sum(1).mean())
        print(f"{label:40} {r['passages_per_s']:11.1f} {r['speedup']:8.2f}x {r['recall_at_10_vs_baseline']:15.3f} "
              f"{r['mean_cosine_to_baseline']:12.4f}")

    if args.full:
        everything = list(corpus.full_corpus())
        start = time.perf_counter()
        report = index.build(everything, args.path, backend=args.backend, fresh=True, total=len(everything), label="full")
        seconds = time.perf_counter() - start
        stats = index.stats(args.path)
        results["full_build"] = {"passages": report.added, "seconds": seconds, "passages_per_s": report.added / seconds,
                                 "embed_seconds": report.embed_seconds, "bytes_on_disk": stats["bytes_on_disk"]}
        print(f"\nfull build ({args.backend}): {report.added} passages in {seconds / 60:.1f} min "
              f"({report.added / seconds:.1f} passages/s; embedding {report.embed_seconds / 60:.1f} min); "
              f"{stats['bytes_on_disk'] / 2**20:.0f} MiB on disk at {args.path}")
    print("\n" + json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
