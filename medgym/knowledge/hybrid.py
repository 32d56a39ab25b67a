"""Lexical (BM25, `bm25s`) retrieval and its reciprocal-rank fusion with dense Chroma results.

The BM25 index lives beside the Chroma files (`<kb_dir>/bm25/`), with the id,
source and domain of every passage so results can be filtered like Chroma's.
It is rebuilt over the whole collection at the end of every build and swapped
in atomically, so readers never see half of it.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

BM25_DIR = "bm25"
META = "passages.json"
RRF_K = 60  # the constant of Cormack et al. (2009), "Reciprocal rank fusion outperforms Condorcet..."
PAGE = 10_000


def tokenize(texts: list[str]) -> Any:
    import bm25s

    return bm25s.tokenize(texts, stopwords="en", show_progress=False, return_ids=False)


def build_bm25(path: Path, collection: Any, progress: bool = False) -> int:
    """Index every passage of `collection` (title + text) with BM25; returns the number indexed."""
    import bm25s

    ids: list[str] = []
    texts: list[str] = []
    sources: list[str] = []
    domains: list[str] = []
    total = collection.count()
    for offset in range(0, total, PAGE):
        page = collection.get(include=["documents", "metadatas"], limit=PAGE, offset=offset)
        for i, doc, meta in zip(page["ids"], page["documents"], page["metadatas"]):
            meta = meta or {}
            ids.append(i)
            texts.append(f"{meta.get('title', '')} {doc}")
            sources.append(meta.get("source", ""))
            domains.append(meta.get("domain", ""))
    tmp = path / f"{BM25_DIR}.{os.getpid()}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    retriever = bm25s.BM25()
    retriever.index(tokenize(texts), show_progress=progress)
    retriever.save(str(tmp), show_progress=False)
    (tmp / META).write_text(json.dumps({"ids": ids, "sources": sources, "domains": domains}))
    target, old = path / BM25_DIR, path / f"{BM25_DIR}.{os.getpid()}.old"
    if target.exists():
        os.replace(target, old)
    os.replace(tmp, target)
    shutil.rmtree(old, ignore_errors=True)
    load_bm25.cache_clear()
    return len(ids)


@dataclass
class Bm25Index:
    retriever: Any
    ids: list[str]
    sources: np.ndarray
    domains: np.ndarray

    def search(self, query: str, k: int, source: str | None = None, domain: str | None = None) -> list[tuple[str, float]]:
        """(id, BM25 score) of the top-k passages with a positive score, filtered by source/domain."""
        mask = np.ones(len(self.ids), dtype=np.float32)
        if source:
            mask *= self.sources == source
        if domain:
            mask *= self.domains == domain
        tokens = tokenize([query])
        if not tokens[0] or not mask.any():
            return []
        docs, scores = self.retriever.retrieve(tokens, k=min(k, len(self.ids)), show_progress=False,
                                               weight_mask=mask if (source or domain) else None)
        return [(self.ids[d], float(s)) for d, s in zip(docs[0], scores[0]) if s > 0]


def bm25_for(path: Path) -> Bm25Index | None:
    """The BM25 index of the local index folder, or None when there is none (e.g. a remote server only)."""
    folder = path / BM25_DIR
    for attempt in range(3):  # a build may be swapping the folder in right now
        try:
            return load_bm25(str(folder), (folder / META).stat().st_mtime_ns)
        except FileNotFoundError:
            if attempt < 2:
                time.sleep(0.2)
    return None


@lru_cache(maxsize=2)
def load_bm25(folder: str, mtime: int) -> Bm25Index:
    import bm25s

    retriever = bm25s.BM25.load(folder, show_progress=False)
    meta = json.loads((Path(folder) / META).read_text())
    return Bm25Index(retriever, meta["ids"], np.array(meta["sources"]), np.array(meta["domains"]))


def rrf(rankings: list[list[str]], k: int = RRF_K) -> list[tuple[str, float]]:
    """Reciprocal rank fusion: score(d) = sum over rankings of 1 / (k + rank of d), rank from 1."""
    scores: dict[str, float] = {}
    for ranking in rankings:
        for rank, doc in enumerate(ranking, 1):
            scores[doc] = scores.get(doc, 0.0) + 1.0 / (k + rank)
    return sorted(scores.items(), key=lambda x: (-x[1], x[0]))
