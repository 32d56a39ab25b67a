"""The medical knowledge base: corpus, offline embeddings, Chroma index, hybrid search, server mode.

    from medgym.knowledge import search
    search("pericarditis ECG", k=5)   # -> [{"id", "title", "text", "source", "score", ...}]

Build the index with `medgym kb build --small` (project knowledge) or
`medgym kb build` (plus HPO and ICD-10-CM); see `medgym kb --help`. Importing
this package is cheap: Chroma loads on the first search.
"""

from __future__ import annotations

from typing import Any

from medgym.knowledge.errors import KnowledgeIndexError

__all__ = ["search", "get_passage", "KnowledgeIndexError"]


def search(query: str, k: int = 5, **kwargs: Any) -> list[dict[str, Any]]:
    """The top-k passages for `query` (id, title, text, source, reference, domain, score); see `retrieval.search`."""
    from medgym.knowledge.retrieval import search as _search

    return _search(query, k, **kwargs)


def get_passage(passage_id: str, path: str | None = None) -> dict[str, Any] | None:
    """One passage by id, or None; see `retrieval.get_passage`."""
    from medgym.knowledge.retrieval import get_passage as _get

    return _get(passage_id, path)
