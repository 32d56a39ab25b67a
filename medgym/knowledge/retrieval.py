"""`search(query, k)`: dense, BM25 or hybrid (RRF) retrieval over the knowledge base, cached per query."""

from __future__ import annotations

import copy
from functools import lru_cache
from typing import Any, Literal

from medgym.knowledge import hybrid, index

Mode = Literal["hybrid", "dense", "bm25"]
MODES = ("hybrid", "dense", "bm25")
MAX_QUERY_CHARS = 2000
MAX_K = 50
CANDIDATES = 40  # per retriever, before fusion


def check_query(query: Any, k: Any) -> str:
    """The stripped query; ValueError naming the problem for anything unusable."""
    if not isinstance(query, str):
        raise ValueError(f"the query must be text, got {type(query).__name__}; pass a string such as 'causes of chest pain'")
    text = " ".join(query.split())
    if not text:
        raise ValueError("the query is empty; pass a few words about what you are looking for, e.g. 'pericarditis ECG'")
    if len(text) > MAX_QUERY_CHARS:
        raise ValueError(f"the query is {len(text):,} characters long; the limit is {MAX_QUERY_CHARS:,}. "
                         "Shorten it to the key terms.")
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= MAX_K:
        raise ValueError(f"k must be an integer from 1 to {MAX_K}, got {k!r}")
    return text


def search(query: str, k: int = 5, source: str | None = None, domain: str | None = None, mode: Mode = "hybrid",
           path: str | None = None) -> list[dict[str, Any]]:
    """The top-k passages for `query`: dicts with id, title, text, source, reference, domain, doc_id and score.

    mode: "hybrid" (dense and BM25 fused by reciprocal rank; the default), "dense" or "bm25".
    source / domain filter by metadata (e.g. source="hpo", domain="clinical_diagnosis").
    Raises ValueError for a bad query and KnowledgeIndexError (naming the command
    that builds it) when the index is missing or unreadable. Results are cached
    per query until the index changes.
    """
    text = check_query(query, k)
    if mode not in MODES:
        raise ValueError(f"unknown search mode {mode!r}; choose one of {', '.join(MODES)}")
    key = index.generation(path)
    return copy.deepcopy(list(_search(key, path, text, k, source, domain, mode)))


@lru_cache(maxsize=4096)
def _search(generation: str, path: str | None, query: str, k: int, source: str | None, domain: str | None,
            mode: str) -> tuple[dict[str, Any], ...]:
    collection = index.open_collection(path)
    if mode == "dense":
        return tuple(dict(r, retrieval="dense") for r in index.dense_search(collection, query, k, source, domain))
    bm25 = hybrid.bm25_for(index.kb_path(path))  # local even in server mode, when the folder is here
    if bm25 is None and mode == "bm25":
        raise index.KnowledgeIndexError(
            f"No BM25 index next to the knowledge index at {index.kb_path(path)}; rebuild with `{index.BUILD_HINT}` "
            "(BM25 is read from the local index folder; without it use mode='dense' or 'hybrid')."
        )
    lexical = bm25.search(query, CANDIDATES if mode == "hybrid" else k, source, domain) if bm25 else []
    if mode == "bm25":
        return tuple(dict(r, retrieval="bm25") for r in _fetch(collection, lexical))
    dense = index.dense_search(collection, query, CANDIDATES, source, domain)
    if bm25 is None:  # a remote server without the local lexical index: dense only, said so in each result
        return tuple(dict(r, retrieval="dense") for r in dense[:k])
    fused = hybrid.rrf([[r["id"] for r in dense], [i for i, _ in lexical]])[:k]
    by_id = {r["id"]: r for r in dense}
    missing = [(i, s) for i, s in fused if i not in by_id]
    by_id.update({r["id"]: r for r in _fetch(collection, missing)})
    return tuple(dict(by_id[i], score=round(s, 5), retrieval="hybrid") for i, s in fused if i in by_id)


def _fetch(collection: Any, scored: list[tuple[str, float]]) -> list[dict[str, Any]]:
    """Documents and metadata for (id, score) pairs, in the given order."""
    if not scored:
        return []
    got = collection.get(ids=[i for i, _ in scored], include=["documents", "metadatas"])
    rows = {i: {"id": i, "text": d, **(m or {})} for i, d, m in zip(got["ids"], got["documents"], got["metadatas"])}
    return [dict(rows[i], score=round(s, 4)) for i, s in scored if i in rows]


def get_passage(passage_id: str, path: str | None = None) -> dict[str, Any] | None:
    """One passage by id (None when the index has no such passage)."""
    collection = index.open_collection(path)
    got = collection.get(ids=[passage_id], include=["documents", "metadatas"])
    if not got["ids"]:
        return None
    return {"id": got["ids"][0], "text": got["documents"][0], **(got["metadatas"][0] or {})}


def clear_cache() -> None:
    _search.cache_clear()
