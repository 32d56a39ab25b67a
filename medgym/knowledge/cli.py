"""`medgym kb ...`: build, add, search, serve and describe the knowledge index."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from medgym.knowledge.errors import KnowledgeIndexError


def add_arguments(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="kb_action", required=True)
    b = sub.add_parser("build", help="build (or resume) the index: project knowledge, HPO, ICD-10-CM")
    b.add_argument("--small", action="store_true", help="project knowledge only (under a minute; what tests use)")
    b.add_argument("--fresh", action="store_true", help="delete the index first")
    b.add_argument("--backend", default=None, help="embedder: onnx (default), onnx-int8 or torch")
    b.add_argument("--path", default=None, help="index folder (default: MEDGYM_KB_DIR or MEDGYM_HOME/kb)")
    b.add_argument("--batch", type=int, default=1024, help="passages embedded and stored per step (progress is kept)")
    b.add_argument("--no-progress", action="store_true")
    a = sub.add_parser("add", help="add a MedRAG-style JSONL corpus (id, title, content per line)")
    a.add_argument("corpus", help="path of the .jsonl file")
    a.add_argument("--path", default=None)
    a.add_argument("--no-progress", action="store_true")
    s = sub.add_parser("search", help="print the passages that match a query")
    s.add_argument("query")
    s.add_argument("-k", type=int, default=5)
    s.add_argument("--mode", default="hybrid", choices=["hybrid", "dense", "bm25"])
    s.add_argument("--source", default=None, help="only this source: project, hpo, icd10cm or user:<name>")
    s.add_argument("--domain", default=None, help="only passages of this MedGym domain")
    s.add_argument("--path", default=None)
    s.add_argument("--json", action="store_true")
    v = sub.add_parser("serve", help="serve the index with a Chroma server on 127.0.0.1 (`chroma run`)")
    v.add_argument("--port", type=int, default=8765)
    v.add_argument("--path", default=None)
    v.add_argument("--for", dest="duration", type=float, default=None, help="stop by itself after this many seconds")
    t = sub.add_parser("stats", help="what the index holds and its size on disk")
    t.add_argument("--path", default=None)


def run(args: argparse.Namespace) -> int:
    try:
        return {"build": _build, "add": _add, "search": _search, "serve": _serve, "stats": _stats}[args.kb_action](args)
    except KnowledgeIndexError as exc:
        print(f"medgym kb {args.kb_action}: {exc}", file=sys.stderr)
        return 2


def _print_report(report: object) -> None:
    r = report
    print(f"{r.path}: added {r.added} passages, {r.skipped_existing} already there, {r.duplicates} duplicate ids; "  # type: ignore[attr-defined]
          f"index holds {r.total}. {r.seconds:.1f} s ({r.passages_per_second:.0f} passages/s).")  # type: ignore[attr-defined]


def _build(args: argparse.Namespace) -> int:
    from medgym.knowledge import corpus, index

    backend = args.backend or index.DEFAULT_BACKEND
    if args.small:
        passages, label = list(corpus.small_corpus()), "small"
    else:
        print("collecting passages (project, HPO, ICD-10-CM)...", flush=True)
        passages, label = list(corpus.full_corpus()), "full"
    report = index.build(passages, args.path, backend=backend, fresh=args.fresh, progress=not args.no_progress,
                         total=len(passages), label=label, batch_size=args.batch)
    _print_report(report)
    return 0


def _add(args: argparse.Namespace) -> int:
    from medgym.knowledge import corpus, index

    stats = corpus.UserCorpusStats(args.corpus)
    passages = list(corpus.user_passages(args.corpus, stats))
    if not passages:
        print(f"medgym kb add: no usable lines in {args.corpus} ({stats.skipped} skipped: "
              f"{'; '.join(stats.reasons) or 'empty file'}). Each line must be JSON like "
              '{"id": "doc1", "title": "...", "content": "..."}', file=sys.stderr)
        return 2
    p = index.kb_path(args.path)
    backend = (index.read_manifest(p) or {}).get("embedder", index.DEFAULT_BACKEND)
    report = index.build(passages, p, backend=backend, progress=not args.no_progress, total=len(passages),
                         label=corpus.user_source_name(Path(args.corpus)))
    _print_report(report)
    print(f"read {stats.read} documents from {args.corpus}; skipped {stats.skipped} broken lines"
          + (f" ({'; '.join(stats.reasons)})" if stats.reasons else "")
          + (f"; cut {stats.truncated} very long documents" if stats.truncated else ""))
    return 0


def _search(args: argparse.Namespace) -> int:
    from medgym.knowledge.retrieval import search
    from medgym.knowledge.tools import snippet

    results = search(args.query, k=args.k, source=args.source, domain=args.domain, mode=args.mode, path=args.path)
    if args.json:
        print(json.dumps(results, indent=2, ensure_ascii=False))
        return 0
    if not results:
        print("no passages matched")
    for rank, r in enumerate(results, 1):
        print(f"{rank}. [{r['score']:.4f}] {r['id']}  ({r.get('source', '')})\n   {r.get('title', '')}\n   {snippet(r.get('text', ''), 240)}")
    return 0


def _serve(args: argparse.Namespace) -> int:
    from medgym.knowledge import index, server

    return server.serve(index.kb_path(args.path), args.port, args.duration)


def _stats(args: argparse.Namespace) -> int:
    from medgym.knowledge import index

    print(json.dumps(index.stats(args.path), indent=2, sort_keys=True))
    return 0
