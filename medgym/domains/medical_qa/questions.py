"""Question builders of the medical_qa domain: one per template family (see templates.yaml).

Each builder draws its subjects with a seeded generator from the source
(ICD-10-CM, the HPO annotations, MedGym's condition knowledge) and returns
`Question`s: the stem, options for multiple choice, the answer, the passage
that supports it and the lookup call that reveals it.
"""

from __future__ import annotations

import random
import re
import string
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

import yaml

from medgym.encounter import stable_seed
from medgym.knowledge import hpo, icd10

LETTERS = string.ascii_uppercase
HELDOUT_CHAPTERS = ("6", "12")  # nervous system, skin: ICD questions about them only in the held-out split
HELDOUT_SHARE = 8  # 1 in 8 HPO diseases (by a stable hash of the id) only in the held-out split
INHERITANCE = {  # the HPO mode-of-inheritance terms used as options
    "HP:0000006": "Autosomal dominant inheritance",
    "HP:0000007": "Autosomal recessive inheritance",
    "HP:0001419": "X-linked recessive inheritance",
    "HP:0001423": "X-linked dominant inheritance",
    "HP:0001427": "Mitochondrial inheritance",
}
FREQUENCIES = ["HP:0040280", "HP:0040281", "HP:0040282", "HP:0040283", "HP:0040284"]
PHENOTYPIC_ABNORMALITY = "HP:0000118"


@dataclass
class Question:
    family: str
    subject: str  # the code, disease id, term id or condition id asked about
    stem: str
    answer: str  # the option text (multiple choice) or the short answer
    passage: str  # the document id of the passage that states the answer
    lookup: tuple[str, dict[str, Any]]  # the tool call that reveals the answer
    options: list[str] = field(default_factory=list)  # multiple choice: the options, the answer among them
    accepted: list[str] = field(default_factory=list)  # other accepted short answers
    fact: str = ""
    heldout: bool = False


@cache
def templates() -> dict[str, dict[str, Any]]:
    return yaml.safe_load(resources.files(__package__).joinpath("templates.yaml").read_text())


def stem(family: str, rng: random.Random, **values: Any) -> str:
    return rng.choice(templates()[family]["stems"]).format(**values)


def options_with(answer: str, distractors: list[str], rng: random.Random, n: int = 4) -> list[str]:
    chosen = [answer, *distractors[: n - 1]]
    rng.shuffle(chosen)
    return chosen


def person(rng: random.Random) -> tuple[int, str, str]:
    age, sex = rng.randint(18, 88), rng.choice(["female", "male"])
    return age, sex, "woman" if sex == "female" else "man"


# --- ICD-10-CM ----------------------------------------------------------------------------------------------


@cache
def _codes_by_chapter() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for c in icd10.all_codes():
        info = icd10.info(c)
        if info.billable:
            out.setdefault(info.ancestors[-1], []).append(c)
    return out


def _icd_subject(rng: random.Random, used: set[str]) -> str:
    by_chapter = _codes_by_chapter()
    while True:
        code = rng.choice(by_chapter[rng.choice(sorted(by_chapter))])  # chapters uniformly, then a code
        if code not in used:
            used.add(code)
            return code


def _sibling_descriptions(code: str, rng: random.Random) -> list[str]:
    info = icd10.info(code)
    own = info.description.lower()
    pool: list[str] = []
    for parent in info.ancestors:  # nearest relatives first: siblings, cousins, then the block / chapter
        kin = [d for d in icd10.children(parent) if d != code]
        descendants = list(kin)
        for d in kin:
            descendants += icd10.children(d)
        candidates = sorted({icd10.info(d).description for d in descendants if icd10.info(d).kind in ("category", "subcategory")})
        rng.shuffle(candidates)
        pool += [c for c in candidates if c.lower() != own and c not in pool]
        if len(pool) >= 3:
            break
    return pool


def icd_code_meaning(rng: random.Random, used: set[str]) -> Question:
    code = _icd_subject(rng, used)
    info = icd10.info(code)
    return Question("icd_code_meaning", code, stem("icd_code_meaning", rng, code=code), info.description,
                    f"icd10cm:{code}", ("icd10_lookup", {"code": code}),
                    options_with(info.description, _sibling_descriptions(code, rng), rng),
                    fact=f"ICD-10-CM {code}: {info.description}", heldout=info.ancestors[-1] in HELDOUT_CHAPTERS)


@cache
def _description_counts() -> dict[str, int]:
    counts: dict[str, int] = {}
    for c in icd10.all_codes():
        d = icd10.info(c).description.lower()
        counts[d] = counts.get(d, 0) + 1
    return counts


def icd_code_for(rng: random.Random, used: set[str]) -> Question:
    while True:
        code = _icd_subject(rng, used)
        info = icd10.info(code)
        if _description_counts()[info.description.lower()] == 1:  # the description names one code only
            break
    age, _, who = person(rng)
    return Question("icd_code_for", code, stem("icd_code_for", rng, description=info.description, age=age, person=who),
                    code, f"icd10cm:{code}", ("icd10_search", {"text": info.description}),
                    accepted=[code.replace(".", "")], fact=f"ICD-10-CM {code}: {info.description}",
                    heldout=info.ancestors[-1] in HELDOUT_CHAPTERS)


def icd_chapter(rng: random.Random, used: set[str]) -> Question:
    code = _icd_subject(rng, used)
    info = icd10.info(code)
    chapter = info.ancestors[-1]
    others = [icd10.info(c).description for c in sorted(_codes_by_chapter()) if c != chapter]
    rng.shuffle(others)
    answer = icd10.info(chapter).description
    return Question("icd_chapter", code, stem("icd_chapter", rng, code=code, description=info.description), answer,
                    f"icd10cm:{code}", ("icd10_hierarchy", {"code": code}), options_with(answer, others, rng),
                    fact=f"ICD-10-CM {code} is in chapter {chapter}: {answer}", heldout=chapter in HELDOUT_CHAPTERS)


# --- HPO ----------------------------------------------------------------------------------------------------


@cache
def ancestors(term_id: str) -> frozenset[str]:
    table = hpo.terms()
    out: set[str] = set()
    stack = list(table[term_id].parents) if term_id in table else []
    while stack:
        t = stack.pop()
        if t not in out:
            out.add(t)
            stack.extend(table[t].parents if t in table else [])
    return frozenset(out)


def _heldout_disease(disease_id: str) -> bool:
    return stable_seed("medical_qa-heldout", disease_id) % HELDOUT_SHARE == 0


@cache
def _diseases() -> list[hpo.Disease]:
    """Diseases with 5 to 40 present features (enough to ask about, short enough to read), by id."""
    out = []
    for d in hpo.diseases().values():
        present = [t for t, a in hpo.features(d) if not a.excluded]
        if 5 <= len(present) <= 40 and not d.name.startswith(("Chromosome", "CHROMOSOME")):
            out.append(d)
    return sorted(out, key=lambda d: d.id)


@cache
def _common_features() -> list[str]:
    """Phenotypic-abnormality terms annotated to at least 50 diseases: plausible distractors."""
    counts: dict[str, int] = {}
    for d in hpo.diseases().values():
        for t, a in hpo.features(d):
            counts[t.id] = counts.get(t.id, 0) + 1
    return sorted(t for t, n in counts.items() if n >= 50 and PHENOTYPIC_ABNORMALITY in ancestors(t))


def _disease_subject(rng: random.Random, used: set[str], pool: list[hpo.Disease]) -> hpo.Disease:
    while True:
        d = rng.choice(pool)
        if d.id not in used:
            used.add(d.id)
            return d


def hpo_disease_feature(rng: random.Random, used: set[str]) -> Question:
    d = _disease_subject(rng, used, _diseases())
    present = [t for t, a in hpo.features(d) if not a.excluded]
    annotated = {t.id for t, _ in hpo.features(d)}
    related = set(annotated)
    for t in annotated:
        related |= ancestors(t)
    correct = rng.choice(present)
    distractors = [t for t in _common_features() if t not in related and not (ancestors(t) & annotated)]
    rng.shuffle(distractors)
    names = [hpo.terms()[t].name for t in distractors if hpo.terms()[t].name != correct.name]
    return Question("hpo_disease_feature", d.id,
                    stem("hpo_disease_feature", rng, disease=d.name, disease_id=d.id), correct.name,
                    f"hpo:disease:{d.id}", ("disease_phenotypes", {"disease_id": d.id}),
                    options_with(correct.name, names, rng),
                    fact=f"{d.name} ({d.id}) is annotated with {correct.name} ({correct.id})", heldout=_heldout_disease(d.id))


def hpo_feature_frequency(rng: random.Random, used: set[str]) -> Question:
    while True:
        d = _disease_subject(rng, used, _diseases())
        counts: dict[str, int] = {}
        for a in d.annotations:
            if a.aspect == "P":
                counts[a.hpo_id] = counts.get(a.hpo_id, 0) + 1
        rated = [(t, a) for t, a in hpo.features(d) if not a.excluded and a.frequency in FREQUENCIES and counts[t.id] == 1]
        if rated:
            break
    term, annotation = rng.choice(rated)
    label = hpo.terms()[annotation.frequency].name
    others = [hpo.terms()[f].name for f in FREQUENCIES if f != annotation.frequency]
    rng.shuffle(others)
    return Question("hpo_feature_frequency", f"{d.id}/{term.id}",
                    stem("hpo_feature_frequency", rng, disease=d.name, disease_id=d.id, feature=term.name, feature_id=term.id),
                    label, f"hpo:disease:{d.id}", ("disease_phenotypes", {"disease_id": d.id}),
                    options_with(label, others, rng),
                    fact=f"In {d.name} ({d.id}), {term.name} is annotated as {label}", heldout=_heldout_disease(d.id))


@cache
def _single_inheritance() -> list[tuple[hpo.Disease, str]]:
    out = []
    for d in _diseases():
        modes = [t.id for t, a in hpo.features(d, "I") if not a.excluded]
        if len(modes) == 1 and modes[0] in INHERITANCE:
            out.append((d, modes[0]))
    return out


def hpo_inheritance(rng: random.Random, used: set[str]) -> Question:
    pool = _single_inheritance()
    by_mode: dict[str, list[tuple[hpo.Disease, str]]] = {}
    for d, m in pool:
        by_mode.setdefault(m, []).append((d, m))
    while True:  # modes uniformly, so the answer is not nearly always "autosomal recessive"
        d, mode = rng.choice(by_mode[rng.choice(sorted(by_mode))])
        if d.id not in used:
            used.add(d.id)
            break
    answer = INHERITANCE[mode]
    others = [v for k, v in INHERITANCE.items() if k != mode]
    rng.shuffle(others)
    return Question("hpo_inheritance", d.id, stem("hpo_inheritance", rng, disease=d.name, disease_id=d.id), answer,
                    f"hpo:disease:{d.id}", ("disease_phenotypes", {"disease_id": d.id}), options_with(answer, others, rng),
                    fact=f"{d.name} ({d.id}): {answer}", heldout=_heldout_disease(d.id))


@cache
def _definable_terms() -> list[hpo.Term]:
    table = hpo.terms()
    definitions: dict[str, int] = {}
    for t in table.values():
        definitions[t.definition] = definitions.get(t.definition, 0) + 1
    out = []
    for t in table.values():
        words = t.definition.split()
        if (not t.obsolete and 8 <= len(words) <= 60 and definitions[t.definition] == 1
                and PHENOTYPIC_ABNORMALITY in ancestors(t.id) and t.name.lower() not in t.definition.lower()):
            out.append(t)
    return sorted(out, key=lambda t: t.id)


def hpo_term_definition(rng: random.Random, used: set[str]) -> Question:
    while True:
        t = rng.choice(_definable_terms())
        if t.id not in used:
            used.add(t.id)
            break
    return Question("hpo_term_definition", t.id, stem("hpo_term_definition", rng, definition=t.definition), t.name,
                    f"hpo:term:{t.id}", ("hpo_search", {"text": t.definition}), accepted=[t.id, *t.synonyms],
                    fact=f"{t.id} {t.name}: {t.definition}", heldout=stable_seed("medical_qa-heldout", t.id) % HELDOUT_SHARE == 0)


# --- MedGym condition knowledge -------------------------------------------------------------------------------


def condition_pool() -> list[tuple[Any, Any]]:
    """(specialty, condition) of the condition-template domains, in a stable order."""
    from medgym.domains import load_domains

    pool = []
    for name, domain in sorted(load_domains().items()):
        if name == "medical_qa" or domain.workflow != "diagnostic":
            continue
        knowledge = domain.clinical_knowledge()
        for sp in knowledge or []:
            for c in getattr(sp, "conditions", []):
                pool.append((name, sp, c))
    return pool


def _condition_subject(rng: random.Random, used: set[str], n_used_cap: int) -> tuple[str, Any, Any]:
    pool = condition_pool()
    fresh = [x for x in pool if f"{x[1].name}:{x[2].id}" not in used]
    domain, sp, c = rng.choice(fresh or pool)
    used.add(f"{sp.name}:{c.id}")
    return domain, sp, c


def _condition_heldout(key: str) -> bool:
    return stable_seed("medical_qa-heldout", key) % 5 == 0


def condition_code(rng: random.Random, used: set[str]) -> Question:
    domain, sp, c = _condition_subject(rng, used, 0)
    pid = f"medgym:{domain}:{sp.name}:{c.id}"
    return Question("condition_code", c.id, stem("condition_code", rng, condition=c.name), c.icd10, pid,
                    ("condition_summary", {"condition": c.name}),
                    accepted=[c.icd10.replace(".", ""), *getattr(c, "accepted_codes", [])],
                    fact=f"{c.name}: ICD-10-CM {c.icd10}", heldout=_condition_heldout(f"{sp.name}:{c.id}"))


def condition_management(rng: random.Random, used: set[str]) -> Question:
    domain, sp, c = _condition_subject(rng, used, 0)
    pid = f"medgym:{domain}:{sp.name}:{c.id}"
    mine = {sp.management[m].label for m in c.management}
    correct = sp.management[rng.choice(list(c.management))].label
    harmful = [sp.management[m].label for m in c.contraindicated if sp.management[m].label not in mine]
    others = sorted({sp.management[m].label for o in sp.conditions if o.complaint != c.complaint for m in o.management} - mine)
    rng.shuffle(harmful)
    rng.shuffle(others)
    distractors = list(dict.fromkeys([*harmful, *others]))
    reference = c.source.split(";")[0].strip()
    if len(reference) > 100:
        reference = reference[:100].rsplit(" ", 1)[0] + "..."
    return Question("condition_management", c.id,
                    stem("condition_management", rng, condition=c.name, reference=reference), correct, pid,
                    ("condition_summary", {"condition": c.name}), options_with(correct, distractors, rng),
                    fact=f"Initial management of {c.name} includes {correct}", heldout=_condition_heldout(f"{sp.name}:{c.id}"))


BUILDERS = {
    "icd_code_meaning": icd_code_meaning,
    "icd_code_for": icd_code_for,
    "icd_chapter": icd_chapter,
    "hpo_disease_feature": hpo_disease_feature,
    "hpo_feature_frequency": hpo_feature_frequency,
    "hpo_inheritance": hpo_inheritance,
    "hpo_term_definition": hpo_term_definition,
    "condition_code": condition_code,
    "condition_management": condition_management,
}


def questions(seed: int) -> list[Question]:
    """Every family's questions for `seed`, in template order (subjects unique within a family)."""
    out = []
    for family, spec in templates().items():
        rng = random.Random(stable_seed(seed, "medical_qa", family))
        used: set[str] = set()
        seen: set[str] = set()
        for _ in range(spec["count"] * 3):
            if sum(q.family == family for q in out) >= spec["count"]:
                break
            q = BUILDERS[family](rng, used)
            key = f"{q.subject}|{q.answer}|{q.stem}"
            if key in seen or (q.options and len(set(q.options)) < 4):
                continue
            seen.add(key)
            out.append(q)
    return out
