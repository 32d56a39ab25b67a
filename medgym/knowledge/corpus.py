"""The passages of the knowledge base and where they come from.

Sources (the `source` a passage is filtered by):

- ``project``: every domain's `Domain.knowledge()` passages, the documentation
  of every registered calculator tool, and the laboratory catalog;
- ``hpo``: HPO term definitions and disease -> phenotype annotations with frequencies;
- ``icd10cm``: ICD-10-CM codes with their chapter / block / category context;
- ``user:<name>``: MedRAG / MedCorp-style JSONL (`id`, `title`, `content`) added by the user.

Every passage has a stable id, so a rebuild or a resumed build adds no duplicates.
"""

from __future__ import annotations

import inspect
import json
import re
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from medgym.knowledge import hpo, icd10
from medgym.knowledge.chunking import chunk

FEATURES_PER_CHUNK = 6  # ~60-90 word pieces per passage: cheap to embed, one topic each
FEATURE_OVERLAP = 1
MAX_USER_TEXT = 2_000_000  # characters of one user document (longer ones are cut, and counted)


@dataclass
class Passage:
    """One retrievable passage."""

    id: str
    title: str
    text: str
    source: str  # project, hpo, icd10cm or user:<name>
    reference: str = ""  # what the passage cites (guideline, ontology release, ...)
    domain: str = ""  # the MedGym domain that contributed it ("" for the general corpora)
    doc_id: str = ""  # the document it was chunked from (its own id when not chunked)
    embed: str = ""  # what the dense index embeds, when not the title and text (e.g. an ICD code's title only)

    def __post_init__(self) -> None:
        self.doc_id = self.doc_id or self.id

    def embedding_text(self) -> str:
        return self.embed or f"{self.title}. {self.text}"

    def metadata(self) -> dict[str, str]:
        return {"title": self.title, "source": self.source, "reference": self.reference, "domain": self.domain,
                "doc_id": self.doc_id}

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


@dataclass
class UserCorpusStats:
    """What reading a user JSONL file did: lines indexed and lines skipped (with the first reasons)."""

    path: str
    read: int = 0
    skipped: int = 0
    truncated: int = 0
    reasons: list[str] = field(default_factory=list)

    def skip(self, line_no: int, why: str) -> None:
        self.skipped += 1
        if len(self.reasons) < 10:
            self.reasons.append(f"line {line_no}: {why}")


def chunked(p: Passage) -> list[Passage]:
    """The passage split into overlapping chunks (ids `<id>#<n>`), or itself when short."""
    parts = chunk(p.text)
    if len(parts) <= 1:
        return [p]
    return [Passage(f"{p.id}#{i}", p.title, part, p.source, p.reference, p.domain, p.id) for i, part in enumerate(parts)]


# --- project knowledge -------------------------------------------------------------------------------


def domain_passages() -> Iterator[Passage]:
    """Every registered domain's `knowledge()` passages (present and future domains alike)."""
    from medgym.domains import load_domains

    for name, domain in sorted(load_domains().items()):
        for i, item in enumerate(domain.knowledge()):
            missing = [k for k in ("id", "title", "text", "source") if not item.get(k)]
            if missing:
                raise ValueError(f"domain {name!r}: knowledge passage #{i} lacks {', '.join(missing)}")
            known = source_passage(str(item["id"]))
            if known is not None:  # a domain citing an HPO / ICD-10-CM passage gets exactly the full build's passage
                known.domain = str(item.get("domain") or name)
                yield known
                continue
            yield from chunked(Passage(str(item["id"]), str(item["title"]), str(item["text"]), "project",
                                       str(item["source"]), str(item.get("domain") or name)))


def calculator_passages() -> Iterator[Passage]:
    """The documentation (formula and source) of every registered calculator tool."""
    from medgym.tools import list_tools

    for spec in list_tools():
        if spec.kind != "calculator":
            continue
        doc = inspect.getdoc(spec.fn) or ""
        body = re.split(r"\n\s*Args:\s*\n", doc)[0].strip()
        match = re.search(r"(?im)^\s*(?:sources?|references?)\s*:\s*(.+)$", body)
        yield from chunked(Passage(f"medgym:calculator:{spec.name}", f"Calculator {spec.name}", body, "project",
                                   match.group(1).strip() if match else "MedGym calculator documentation",
                                   spec.domain or ""))


def lab_passages() -> Iterator[Passage]:
    """One passage per test of the laboratory catalog: name, unit, reference range, panel."""
    from medgym.tools import catalog

    panels = catalog.lab_panels()
    for key, spec in catalog.labs().items():
        if "by_sex" in spec:
            ranges = "; ".join(f"{sex}: {catalog.range_text(key, sex)}" for sex in spec["by_sex"])
        else:
            ranges = catalog.range_text(key, "female")
        text = f"Laboratory test {spec['name']} (order_lab test key '{key}'), unit {spec['unit']}. Adult reference range: {ranges}."
        if spec.get("panel"):
            text += f" Part of the {panels.get(spec['panel'], spec['panel'])} panel ('{spec['panel']}')."
        if spec.get("note"):
            text += f" Note: {spec['note']}."
        yield Passage(f"medgym:lab:{key}", f"Lab test: {spec['name']}", text, "project", str(spec.get("source", "")))


def project_passages() -> Iterator[Passage]:
    """The small build: everything the project itself knows."""
    yield from domain_passages()
    yield from calculator_passages()
    yield from lab_passages()


# --- HPO ----------------------------------------------------------------------------------------------


def hpo_term_passage(term: hpo.Term) -> Passage:
    table = hpo.terms()
    parents = ", ".join(f"{table[p].name} ({p})" for p in term.parents if p in table)
    text = f"HPO term {term.id} {term.name}."
    if term.definition:
        text += f" Definition: {term.definition}"
    if term.synonyms:
        text += f" Synonyms: {'; '.join(term.synonyms)}."
    if parents:
        text += f" Is a: {parents}."
    return Passage(f"hpo:term:{term.id}", f"{term.name} ({term.id})", text, "hpo", f"{hpo.SOURCE}, release {hpo.version()}")


def hpo_term_passages() -> Iterator[Passage]:
    for term in hpo.terms().values():
        if not term.obsolete and term.name:
            yield hpo_term_passage(term)


def feature_text(term: hpo.Term, annotation: hpo.Annotation) -> str:
    freq = hpo.frequency_label(annotation.frequency)
    return f"{term.name} ({term.id}{'; ' + freq if freq else ''})"


def hpo_disease_passages(disease: hpo.Disease) -> list[Passage]:
    """The disease's annotations in chunks of 6 features (1 overlapping), each naming the disease.

    Passage ids are `hpo:disease:<id>#<n>`; all share the doc_id `hpo:disease:<id>`.
    """
    doc_id = f"hpo:disease:{disease.id}"
    reference = f"{hpo.SOURCE}, release {hpo.version()}"
    head = f"{disease.name} ({disease.id})."
    for aspect, label in (("I", "Inheritance"), ("C", "Clinical course")):
        items = [t.name for t, a in hpo.features(disease, aspect) if not a.excluded]
        if items:
            head += f" {label}: {', '.join(items)}."
    present = [feature_text(t, a) for t, a in hpo.features(disease) if not a.excluded]
    absent = [f"{t.name} ({t.id})" for t, a in hpo.features(disease) if a.excluded]
    groups: list[str] = []
    step = FEATURES_PER_CHUNK - FEATURE_OVERLAP
    for start in range(0, max(len(present), 1), step):
        window = present[start : start + FEATURES_PER_CHUNK]
        groups.append(f"Phenotypic features (HPO annotations, with frequency): {'; '.join(window)}." if window else "")
        if start + FEATURES_PER_CHUNK >= len(present):
            break
    if absent:
        groups[-1] += f" Features excluded (annotated as NOT present): {'; '.join(absent)}."
    title = f"{disease.name} ({disease.id})"
    return [Passage(f"{doc_id}#{i}", title, f"{head} {g}".strip(), "hpo", reference, "", doc_id) for i, g in enumerate(groups)]


def hpo_passages() -> Iterator[Passage]:
    yield from hpo_term_passages()
    for disease in hpo.diseases().values():
        yield from hpo_disease_passages(disease)


# --- ICD-10-CM ----------------------------------------------------------------------------------------


def icd10_passage(code: str) -> Passage:
    c = icd10.info(code)
    # Dense vectors embed the code and description only (~15 word pieces instead of ~50: 98,000 ICD passages
    # dominate the full build's cost); the chapter / block context is in the text that BM25 and readers see.
    title = f"{c.code} {c.description}"
    return Passage(f"icd10cm:{c.code}", title, icd10.passage_text(c.code), "icd10cm", icd10.SOURCE, embed=title)


def icd10_passages() -> Iterator[Passage]:
    for code in icd10.all_codes():
        yield icd10_passage(code)


def source_passage(passage_id: str) -> Passage | None:
    """The HPO or ICD-10-CM passage with this id, rebuilt from its source (None for any other id)."""
    doc_id, _, part = passage_id.partition("#")
    if doc_id.startswith("icd10cm:") and not part and icd10.is_valid(doc_id.removeprefix("icd10cm:")):
        return icd10_passage(doc_id.removeprefix("icd10cm:"))
    if doc_id.startswith("hpo:term:") and not part:
        term = hpo.terms().get(doc_id.removeprefix("hpo:term:"))
        return hpo_term_passage(term) if term else None
    if doc_id.startswith("hpo:disease:"):
        disease = hpo.diseases().get(doc_id.removeprefix("hpo:disease:"))
        chunks = hpo_disease_passages(disease) if disease else []
        return next((c for c in chunks if c.id == passage_id), None)
    return None


# --- user corpora ---------------------------------------------------------------------------------------


def user_source_name(path: Path) -> str:
    name = re.sub(r"[^a-z0-9_-]+", "_", path.stem.lower()).strip("_") or "corpus"
    return f"user:{name}"


def user_passages(path: str | Path, stats: UserCorpusStats | None = None) -> Iterator[Passage]:
    """Passages of a MedRAG-style JSONL file: one JSON object per line with `id` and `content`
    (or `contents` / `text`) and optionally `title`. Broken lines are skipped and counted in `stats`."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no such corpus file: {path} (give a JSONL file with one {{id, title, content}} per line)")
    stats = stats if stats is not None else UserCorpusStats(str(path))
    source = user_source_name(path)
    with open(path, encoding="utf-8", errors="replace") as f:
        for line_no, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                item: Any = json.loads(line)
            except json.JSONDecodeError as exc:
                stats.skip(line_no, f"not valid JSON ({exc.msg})")
                continue
            if not isinstance(item, dict):
                stats.skip(line_no, f"expected a JSON object, got {type(item).__name__}")
                continue
            text = item.get("content", item.get("contents", item.get("text")))
            if item.get("id") in (None, "") or not isinstance(text, str) or not text.strip():
                stats.skip(line_no, "needs a non-empty 'id' and a non-empty string 'content'")
                continue
            if len(text) > MAX_USER_TEXT:
                text = text[:MAX_USER_TEXT]
                stats.truncated += 1
            stats.read += 1
            title = str(item.get("title") or "").strip() or text[:60]
            yield from chunked(Passage(f"{source}:{item['id']}", title, text, source, str(item.get("source") or path.name)))


# --- builds -------------------------------------------------------------------------------------------


def small_corpus() -> Iterator[Passage]:
    """Project knowledge only (what tests and the first `make run` index)."""
    yield from project_passages()


def full_corpus() -> Iterator[Passage]:
    """Project knowledge, ICD-10-CM and the HPO (>100,000 passages; the cheap ICD-10-CM passages first)."""
    yield from project_passages()
    yield from icd10_passages()
    yield from hpo_passages()
