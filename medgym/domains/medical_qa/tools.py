"""The medical_qa domain's lookup tools: ICD-10-CM, the HPO, passages and MedGym condition knowledge.

Each tool that reveals the content of a knowledge-base passage also counts as
retrieving it (action key `passage:<document id>`), which is what the domain's
citation check (`required_actions`) looks for.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from medgym.knowledge import corpus, hpo, icd10
from medgym.knowledge.tools import passage_keys, snippet
from medgym.tools.registry import ToolError, ToolOutput, tool

NAME = "medical_qa"
_HPO_ID = re.compile(r"^HP:\d{7}$")
_DISEASE_ID = re.compile(r"^(OMIM|ORPHA|DECIPHER):\d+$")


def _code(code: str) -> icd10.Code:
    if not code.strip():
        raise ToolError("The code is empty. Give an ICD-10-CM code such as \"E11.9\", a block such as \"E08-E13\" or a chapter number.")
    try:
        return icd10.info(code)
    except ValueError:
        raise ToolError(f"{code!r} is not an ICD-10-CM code. Find codes by description with icd10_search.") from None


def _term(term_id: str) -> hpo.Term:
    tid = term_id.strip().upper()
    if not _HPO_ID.match(tid):
        raise ToolError(f"{term_id!r} is not an HPO id (they look like HP:0001250). Find terms by name with hpo_search.")
    term = hpo.terms().get(tid)
    if term is None:
        raise ToolError(f"No HPO term {tid}. Find terms by name with hpo_search.")
    return term


def _disease(disease_id: str) -> hpo.Disease:
    did = disease_id.strip().upper()
    if not _DISEASE_ID.match(did):
        raise ToolError(f"{disease_id!r} is not a disease id (OMIM:123456, ORPHA:1234 or DECIPHER:12). Find it with disease_search.")
    disease = hpo.diseases().get(did)
    if disease is None:
        raise ToolError(f"No HPO-annotated disease {did}. Find diseases by name with disease_search.")
    return disease


def _k(k: int, most: int = 25) -> int:
    if not 1 <= k <= most:
        raise ToolError(f"k must be from 1 to {most}, got {k}.")
    return k


class _Lexical:
    """A BM25 index over short texts (names, descriptions), built once per process."""

    def __init__(self, keys: list[str], texts: list[str]) -> None:
        import bm25s

        self.keys = keys
        self.retriever = bm25s.BM25()
        self.retriever.index(bm25s.tokenize(texts, stopwords="en", show_progress=False), show_progress=False)

    def search(self, query: str, k: int) -> list[str]:
        import bm25s

        if not query.strip():
            raise ToolError("The search text is empty. Describe what you are looking for in a few words.")
        tokens = bm25s.tokenize([query[:2000]], stopwords="en", show_progress=False, return_ids=False)
        if not tokens[0]:
            return []
        docs, scores = self.retriever.retrieve(tokens, k=min(k, len(self.keys)), show_progress=False)
        return [self.keys[d] for d, s in zip(docs[0], scores[0]) if s > 0]


@cache
def _icd_index() -> _Lexical:
    codes = [c for c in icd10.all_codes() if not icd10.info(c).kind in ("chapter", "block")]
    return _Lexical(codes, [icd10.info(c).description for c in codes])


@cache
def _hpo_index() -> _Lexical:
    terms = [t for t in hpo.terms().values() if not t.obsolete and t.name]
    return _Lexical([t.id for t in terms], [" ".join([t.name, *t.synonyms, t.definition]) for t in terms])


@cache
def _disease_index() -> _Lexical:
    diseases = list(hpo.diseases().values())
    return _Lexical([d.id for d in diseases], [d.name for d in diseases])


# --- ICD-10-CM ----------------------------------------------------------------------------------------------


@tool(domain=NAME, key_arg="code")
def icd10_lookup(code: str) -> ToolOutput:
    """Look up an ICD-10-CM code: its description, whether it is billable, and its category, block and chapter.

    Args:
        code: The ICD-10-CM code, e.g. "E11.9" (the dot is optional), a block such as "E08-E13", or a chapter number.
    """
    c = _code(code)
    hierarchy = [icd10.label(a) for a in c.ancestors]
    out = {"code": c.code, "description": c.description, "kind": c.kind, "billable": c.billable,
           "within": hierarchy, "passage_id": f"icd10cm:{c.code}"}
    return ToolOutput(out, [f"icd10_lookup:{c.code}", f"passage:icd10cm:{c.code}"])


@tool(domain=NAME)
def icd10_search(text: str, k: int = 10) -> ToolOutput:
    """Find ICD-10-CM codes whose description matches some words (lexical search).

    Args:
        text: Words of the description, e.g. "type 2 diabetes without complications".
        k: How many codes to return (1 to 25).
    """
    codes = _icd_index().search(text, _k(k))
    results = [{"code": c, "description": icd10.info(c).description} for c in codes]
    return ToolOutput({"query": text, "results": results}, ["icd10_search", *[f"passage:icd10cm:{c}" for c in codes]])


@tool(domain=NAME, key_arg="code")
def icd10_hierarchy(code: str) -> ToolOutput:
    """The chain of an ICD-10-CM code's parents up to its chapter, nearest first, and its direct children.

    Args:
        code: The ICD-10-CM code, block or chapter, e.g. "I21.09".
    """
    c = _code(code)
    chain = [{"code": a, "description": icd10.info(a).description, "kind": icd10.info(a).kind} for a in c.ancestors]
    children = [{"code": x, "description": icd10.info(x).description} for x in icd10.children(c.code)]
    out = {"code": c.code, "description": c.description, "parents": chain, "children": children,
           "chapter": icd10.label(icd10.chapter_of(c.code))}
    return ToolOutput(out, [f"icd10_hierarchy:{c.code}", f"passage:icd10cm:{c.code}"])


@tool(domain=NAME, key_arg="code")
def icd10_children(code: str) -> ToolOutput:
    """The codes directly under an ICD-10-CM chapter, block or category.

    Args:
        code: The parent, e.g. "E11", "E08-E13" or "4".
    """
    c = _code(code)
    kids = icd10.children(c.code)
    if not kids:
        return ToolOutput({"code": c.code, "children": [], "note": f"{c.code} has no subdivisions (it is a leaf code)."},
                          [f"icd10_children:{c.code}"])
    return ToolOutput({"code": c.code, "description": c.description,
                       "children": [{"code": x, "description": icd10.info(x).description} for x in kids]},
                      [f"icd10_children:{c.code}"])


# --- HPO ----------------------------------------------------------------------------------------------------


@tool(domain=NAME, key_arg="term_id")
def hpo_term(term_id: str) -> ToolOutput:
    """Look up a Human Phenotype Ontology term: name, definition, synonyms and parent terms.

    Args:
        term_id: The HPO id, e.g. "HP:0001250".
    """
    t = _term(term_id)
    table = hpo.terms()
    out = {"id": t.id, "name": t.name, "definition": t.definition, "synonyms": t.synonyms,
           "parents": [{"id": p, "name": table[p].name} for p in t.parents if p in table],
           "obsolete": t.obsolete, "passage_id": f"hpo:term:{t.id}"}
    return ToolOutput(out, [f"hpo_term:{t.id}", f"passage:hpo:term:{t.id}"])


@tool(domain=NAME)
def hpo_search(text: str, k: int = 10) -> ToolOutput:
    """Find HPO terms by name, synonym or words of their definition (lexical search).

    Args:
        text: Words to look for, e.g. "seizure" or "abnormally small head".
        k: How many terms to return (1 to 25).
    """
    ids = _hpo_index().search(text, _k(k))
    table = hpo.terms()
    results = [{"id": i, "name": table[i].name, "definition": snippet(table[i].definition, 400)} for i in ids]
    return ToolOutput({"query": text, "results": results}, ["hpo_search", *[f"passage:hpo:term:{i}" for i in ids]])


@tool(domain=NAME)
def disease_search(name: str, k: int = 10) -> ToolOutput:
    """Find HPO-annotated rare diseases (OMIM, Orphanet, DECIPHER) by name.

    Args:
        name: Words of the disease name, e.g. "Marfan syndrome".
        k: How many diseases to return (1 to 25).
    """
    ids = _disease_index().search(name, _k(k))
    table = hpo.diseases()
    return ToolOutput({"query": name, "results": [{"id": i, "name": table[i].name} for i in ids]}, ["disease_search"])


@tool(domain=NAME, key_arg="disease_id")
def disease_phenotypes(disease_id: str) -> ToolOutput:
    """The HPO annotations of a disease: its phenotypic features with frequency, inheritance and excluded features.

    Args:
        disease_id: The disease id, e.g. "OMIM:154700" or "ORPHA:558".
    """
    d = _disease(disease_id)
    out = {
        "id": d.id,
        "name": d.name,
        "inheritance": [t.name for t, a in hpo.features(d, "I") if not a.excluded],
        "clinical_course": [t.name for t, a in hpo.features(d, "C") if not a.excluded],
        "features": [{"id": t.id, "name": t.name, "frequency": hpo.frequency_label(a.frequency) or "not stated"}
                     for t, a in hpo.features(d) if not a.excluded],
        "excluded_features": [{"id": t.id, "name": t.name} for t, a in hpo.features(d) if a.excluded],
        "passage_id": f"hpo:disease:{d.id}",
    }
    return ToolOutput(out, [f"disease_phenotypes:{d.id}", f"passage:hpo:disease:{d.id}"])


@tool(domain=NAME, key_arg="term_id")
def phenotype_diseases(term_id: str, k: int = 20) -> ToolOutput:
    """Diseases annotated with an HPO term (directly), with the annotated frequency.

    Args:
        term_id: The HPO id, e.g. "HP:0001166".
        k: How many diseases to list (1 to 25); the total count is always given.
    """
    t = _term(term_id)
    hits = [(d, a) for d in hpo.diseases().values() for a in d.annotations if a.hpo_id == t.id and not a.excluded]
    listed = [{"id": d.id, "name": d.name, "frequency": hpo.frequency_label(a.frequency) or "not stated"}
              for d, a in hits[: _k(k)]]
    return ToolOutput({"id": t.id, "name": t.name, "diseases_annotated": len(hits), "diseases": listed},
                      [f"phenotype_diseases:{t.id}"])


# --- passages and MedGym knowledge --------------------------------------------------------------------------


def passage_from_source(passage_id: str) -> dict[str, Any] | None:
    """An HPO / ICD-10-CM passage rebuilt from its source (a whole disease document when no chunk is named)."""
    if passage_id.startswith("hpo:disease:") and "#" not in passage_id:
        disease = hpo.diseases().get(passage_id.removeprefix("hpo:disease:"))
        if disease is None:
            return None
        chunks = corpus.hpo_disease_passages(disease)
        return {**chunks[0].to_dict(), "id": passage_id, "text": " ".join(c.text for c in chunks)}
    found = corpus.source_passage(passage_id)
    return found.to_dict() if found else None


@tool(domain=NAME, key_arg="passage_id")
def get_passage(passage_id: str) -> ToolOutput:
    """Read a whole knowledge-base passage by its id (as returned by search_knowledge or a lookup tool).

    Args:
        passage_id: The passage id, e.g. "icd10cm:E11.9", "hpo:term:HP:0001250" or "hpo:disease:OMIM:154700#0".
    """
    from medgym.knowledge import KnowledgeIndexError
    from medgym.knowledge import get_passage as from_index

    pid = passage_id.strip()
    if not pid:
        raise ToolError("The passage id is empty; use an id that search_knowledge returned.")
    found: dict[str, Any] | None = None
    try:
        found = from_index(pid)
    except KnowledgeIndexError:
        found = None
    found = found or passage_from_source(pid) or _project_passage(pid)
    if found is None:
        raise ToolError(f"No passage {pid!r}. Use an id exactly as search_knowledge or a lookup tool returned it.")
    out = {k: found.get(k, "") for k in ("id", "title", "text", "source", "reference")}
    return ToolOutput(out, [f"get_passage:{pid}", *passage_keys([found])])


@cache
def _condition_passages() -> tuple[dict[str, Any], ...]:
    """The knowledge passages of the other domains (conditions and work-ups)."""
    from medgym.domains import load_domains

    return tuple(p for name, d in sorted(load_domains().items()) if name != NAME for p in d.knowledge())


def _project_passage(passage_id: str) -> dict[str, Any] | None:
    doc_id = passage_id.partition("#")[0]
    for p in _condition_passages():
        if p["id"] == doc_id:
            return {**p, "doc_id": p["id"]}
    return None


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z0-9]+", text.lower()))


@tool(domain=NAME)
def condition_summary(condition: str) -> ToolOutput:
    """The MedGym knowledge passage of a condition: ICD-10-CM code, synonyms, findings and initial management.

    Args:
        condition: The condition's name or a synonym, e.g. "acute pericarditis" or "STEMI".
    """
    wanted = _words(condition)
    if not wanted:
        raise ToolError("The condition name is empty. Give a condition, e.g. \"acute pericarditis\".")

    def overlap(p: dict[str, Any]) -> float:
        names = [p["title"], *re.findall(r"Also called: ([^.]*)\.", p["text"])[0].split(", ")] if "Also called:" in p["text"] else [p["title"]]
        return max(len(wanted & _words(n)) / len(wanted | _words(n)) for n in names)

    ranked = sorted(_condition_passages(), key=lambda p: -overlap(p))
    if not ranked or overlap(ranked[0]) == 0:
        raise ToolError(f"No MedGym condition matches {condition!r}. Try search_knowledge with the condition's name.")
    best = ranked[0]
    out = {"id": best["id"], "title": best["title"], "text": best["text"], "source": best["source"]}
    return ToolOutput(out, ["condition_summary", f"passage:{best['id']}"])
