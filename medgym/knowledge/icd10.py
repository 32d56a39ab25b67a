"""ICD-10-CM as shipped by `simple-icd-10-cm`: codes with their chapter, block and category context."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

SOURCE = "ICD-10-CM (CDC/NCHS), as shipped by simple-icd-10-cm"


@dataclass(frozen=True)
class Code:
    code: str
    description: str
    kind: str  # chapter, block, category, subcategory
    billable: bool
    ancestors: tuple[str, ...]  # nearest first, chapter last


def _cm():  # noqa: ANN202 - the module
    import simple_icd_10_cm as cm

    return cm


@cache
def all_codes() -> tuple[str, ...]:
    """Every chapter, block and code, in classification order."""
    return tuple(_cm().get_all_codes(with_dots=True))


def normalize(code: str) -> str:
    """'e119' / 'E11.9 ' -> 'E11.9' (chapters and blocks unchanged)."""
    code = code.strip().upper()
    if "-" in code or code.isdigit() or len(code) <= 3 or "." in code:
        return code
    return code[:3] + "." + code[3:]


def is_valid(code: str) -> bool:
    return _cm().is_valid_item(normalize(code))


def info(code: str) -> Code:
    """The code's description and context; ValueError for an unknown code."""
    cm = _cm()
    c = normalize(code)
    if not cm.is_valid_item(c):
        raise ValueError(f"{code!r} is not an ICD-10-CM code, block or chapter")
    kind = "chapter" if cm.is_chapter(c) else "block" if cm.is_block(c) else "category" if cm.is_category(c) else "subcategory"
    return Code(c, cm.get_description(c), kind, cm.is_leaf(c) and kind in ("category", "subcategory"), tuple(cm.get_ancestors(c)))


def label(code: str) -> str:
    """'E11 Type 2 diabetes mellitus', 'chapter 4 Endocrine, ...', 'block E08-E13 Diabetes mellitus'."""
    c = info(code)
    prefix = {"chapter": "chapter ", "block": "block "}.get(c.kind, "")
    return f"{prefix}{c.code} {c.description}"


def children(code: str) -> list[str]:
    return list(_cm().get_children(normalize(code)))


def chapter_of(code: str) -> str:
    c = info(code)
    return c.code if c.kind == "chapter" else c.ancestors[-1]


def block_of(code: str) -> str | None:
    c = info(code)
    blocks = [a for a in ((c.code,) + c.ancestors) if _cm().is_block(a)]
    return blocks[-1] if blocks else None  # the outermost block (some chapters nest blocks)


def passage_text(code: str) -> str:
    """The knowledge-base text of one code: description, then its hierarchy nearest first."""
    c = info(code)
    context = "; ".join(label(a) for a in c.ancestors)
    status = " Billable (valid for claims)." if c.billable else ""
    return f"ICD-10-CM {c.kind} {c.code}: {c.description}." + (f" Within: {context}." if context else "") + status
