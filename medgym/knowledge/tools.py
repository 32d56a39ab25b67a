"""The `search_knowledge` tool, offered in every domain."""

from __future__ import annotations

from typing import Any

from medgym.tools.registry import ToolError, ToolOutput, tool

SNIPPET_CHARS = 300
DEFAULT_K = 5


def snippet(text: str, limit: int = SNIPPET_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "…"


def passage_keys(results: list[dict[str, Any]]) -> list[str]:
    """Action keys `passage:<document id>` of what a retrieval returned (what citation checks look for)."""
    return list(dict.fromkeys(f"passage:{r.get('doc_id') or r['id']}" for r in results))


@tool(kind="knowledge", key_arg=None)
def search_knowledge(query: str, k: int = DEFAULT_K) -> ToolOutput:
    """Search the medical knowledge base (conditions, calculators, labs, HPO, ICD-10-CM) and get passages to cite.

    Args:
        query: What to look for, in a few words, e.g. "pericarditis ECG findings" or "HP:0001250".
        k: How many passages to return (1 to 20).
    """
    from medgym.knowledge import KnowledgeIndexError, search

    if isinstance(k, int) and not 1 <= k <= 20:
        raise ToolError(f"k must be from 1 to 20, got {k}. Call it as search_knowledge(query, k=5).")
    try:
        results = search(query, k=k)
    except KnowledgeIndexError as exc:
        raise ToolError(str(exc)) from exc
    except ValueError as exc:
        raise ToolError(f"search_knowledge: {exc}") from exc
    passages = [
        {"id": r["id"], "title": r.get("title", ""), "source": r.get("source", ""), "reference": r.get("reference", ""),
         "snippet": snippet(r.get("text", "")), "score": r["score"]}
        for r in results
    ]
    return ToolOutput({"query": query, "passages": passages}, ["search_knowledge", *passage_keys(results)])
