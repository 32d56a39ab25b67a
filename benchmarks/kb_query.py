"""Knowledge-base query benchmark on a built index (run `medgym kb build` first):

- query latency p50 / p95: dense top-10 (Chroma HNSW only, and end to end with the query embedding) and hybrid;
- recall@10 of Chroma's HNSW against exact brute-force cosine (numpy) on 500 queries;
- retrieval quality on questions from the tasks (does the passage about the case's true condition, or the
  passage a medical_qa question cites, come back): hit@5 and MRR@10 for dense, BM25 and hybrid;
- index size on disk and resident memory of this process.

    PYTHONPATH=$PWD HF_HUB_OFFLINE=1 python benchmarks/kb_query.py --path /tmp/medgym-kb-full
"""

from __future__ import annotations

import argparse
import json
import random
import time

import numpy as np

from medgym.knowledge import index
from medgym.knowledge.embedder import embed
from medgym.knowledge.retrieval import clear_cache, search


def percentiles(ms: list[float]) -> dict[str, float]:
    return {"p50_ms": float(np.percentile(ms, 50)), "p95_ms": float(np.percentile(ms, 95))}


def all_embeddings(collection) -> tuple[list[str], np.ndarray]:
    ids, vectors = [], []
    total = collection.count()
    for offset in range(0, total, 5000):
        page = collection.get(include=["embeddings"], limit=5000, offset=offset)
        ids += page["ids"]
        vectors.append(np.asarray(page["embeddings"], dtype=np.float32))
    return ids, np.vstack(vectors)


def task_questions(doc_ids: set[str], limit: int) -> list[tuple[str, str, str]]:
    """(kind, query, target document id) from clinical_diagnosis and medical_qa tasks whose target is indexed."""
    from medgym import load_tasks
    from medgym.env import presentation_text

    out = []
    for t in load_tasks(domain="clinical_diagnosis"):
        target = f"medgym:clinical_diagnosis:{t.specialty}:{t.condition}"
        if target in doc_ids:
            p = t.presentation
            query = f"{p.age}-year-old {p.sex} with {p.chief_complaint}. {p.opening_statement}"
            out.append(("clinical_diagnosis", query, target))
    for t in load_tasks(domain="medical_qa"):
        target = t.truth.required_actions[0].removeprefix("passage:")
        if target in doc_ids:
            out.append(("medical_qa", presentation_text(t).split("Task: ", 1)[1].split("\n")[0], target))
    random.Random(0).shuffle(out)
    return out[:limit]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--path", default=None)
    ap.add_argument("--latency-queries", type=int, default=200)
    ap.add_argument("--recall-queries", type=int, default=500)
    ap.add_argument("--task-questions", type=int, default=600)
    args = ap.parse_args()
    import psutil

    path = str(index.kb_path(args.path))
    collection = index.open_collection(path)
    n = collection.count()
    backend = index.backend_of(collection)
    print(f"index {path}: {n} passages, embedder {backend}")
    results: dict[str, object] = {"passages": n, "embedder": backend}

    ids, matrix = all_embeddings(collection)
    position = {i: k for k, i in enumerate(ids)}
    metas = collection.get(include=["metadatas"])["metadatas"]
    doc_ids = {m.get("doc_id", "") for m in metas}
    titles = [m.get("title", "") for m in metas]

    # latency
    rng = random.Random(0)
    queries = [" ".join(titles[i].split()[:6]) for i in rng.sample(range(n), args.latency_queries)]
    vectors = embed(queries, backend=backend)
    collection.query(query_embeddings=[vectors[0].tolist()], n_results=10)  # warm the HNSW segment
    hnsw_ms, dense_ms, hybrid_ms = [], [], []
    for q, v in zip(queries, vectors):
        t0 = time.perf_counter()
        collection.query(query_embeddings=[v.tolist()], n_results=10, include=["distances"])
        hnsw_ms.append(1000 * (time.perf_counter() - t0))
    search(queries[0], k=10, path=path)  # load BM25
    for mode, sink in (("dense", dense_ms), ("hybrid", hybrid_ms)):
        for q in queries:
            clear_cache()
            t0 = time.perf_counter()
            search(q, k=10, mode=mode, path=path)
            sink.append(1000 * (time.perf_counter() - t0))
    results["latency"] = {"dense_top10_hnsw_only": percentiles(hnsw_ms), "dense_top10_end_to_end": percentiles(dense_ms),
                          "hybrid_top10_end_to_end": percentiles(hybrid_ms)}

    # HNSW recall against exact cosine
    picks = rng.sample(range(n), args.recall_queries)
    rq = embed([" ".join(titles[i].split()[:6]) for i in picks], backend=backend)
    exact = np.argsort(-(rq @ matrix.T), axis=1)[:, :10]
    hits = []
    for k, v in enumerate(rq):
        got = collection.query(query_embeddings=[v.tolist()], n_results=10, include=[])["ids"][0]
        hits.append(len({position[i] for i in got} & set(exact[k])) / 10)
    results["hnsw_recall_at_10"] = float(np.mean(hits))

    # retrieval quality on task questions
    quality: dict[str, dict[str, dict[str, float]]] = {}
    questions = task_questions(doc_ids, args.task_questions)
    for kind in sorted({q[0] for q in questions}):
        subset = [q for q in questions if q[0] == kind]
        quality[kind] = {"questions": {"n": len(subset)}}
        for mode in ("dense", "bm25", "hybrid"):
            rr, hit5 = [], []
            for _, query, target in subset:
                ranked = [r.get("doc_id") or r["id"] for r in search(query, k=10, mode=mode, path=path)]
                rank = ranked.index(target) + 1 if target in ranked else None
                rr.append(1 / rank if rank else 0.0)
                hit5.append(bool(rank and rank <= 5))
            quality[kind][mode] = {"hit_at_5": float(np.mean(hit5)), "mrr_at_10": float(np.mean(rr))}
    results["task_retrieval"] = quality
    stats = index.stats(path)
    results["bytes_on_disk"] = stats["bytes_on_disk"]
    results["rss_bytes"] = psutil.Process().memory_info().rss

    lat = results["latency"]
    print(f"latency (ms)    p50     p95")
    for name, v in lat.items():  # type: ignore[union-attr]
        print(f"  {name:28} {v['p50_ms']:7.1f} {v['p95_ms']:7.1f}")
    print(f"HNSW recall@10 vs exact cosine ({args.recall_queries} queries): {results['hnsw_recall_at_10']:.3f}")
    for kind, modes in quality.items():
        print(f"{kind} ({modes['questions']['n']} questions): " + ", ".join(
            f"{m} hit@5 {v['hit_at_5']:.3f} MRR {v['mrr_at_10']:.3f}" for m, v in modes.items() if m != "questions"))
    print(f"index on disk {stats['bytes_on_disk'] / 2**20:.0f} MiB; resident memory {results['rss_bytes'] / 2**20:.0f} MiB")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
