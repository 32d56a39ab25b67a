"""The formulary: drugs, interactions and allergy rules from the domain's YAML files, validated.

`formulary()` loads and checks `drugs.yaml`, `interactions.yaml`, `allergy.yaml` and
`sources.yaml` once per process. Every fact carries its source; the tools report them.
"""

from __future__ import annotations

import difflib
import itertools
import re
from functools import cache
from importlib import resources
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

Action = Literal["use", "monitor", "separate doses", "reduce dose", "avoid"]
Severity = Literal["contraindicated", "major", "moderate"]
SEVERITY_RANK: dict[str, int] = {"none": 0, "moderate": 1, "major": 2, "contraindicated": 3}
ChildPugh = Literal["A", "B", "C"]

SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's C loader when built with it: ~10x faster


class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


_RANGE = re.compile(r"^(?:(>=|>|<=|<)(\d+(?:\.\d+)?)|(>)?(\d+(?:\.\d+)?)-(<)?(\d+(?:\.\d+)?))$")


class Band(_Data):
    """One kidney-function band of a label's dosing table, its range written as the label writes it:
    ">50", ">=30", "<15", "<=50", "15-30" (both ends included), "30-<45" (upper end excluded),
    ">50-95" (lower end excluded). Values are compared after rounding to a whole number, as labels
    tabulate whole numbers (so "30-59" and ">=60" leave no gap)."""

    range: str
    action: Action
    dose: str | None = None
    text: str
    generate: bool = True

    @model_validator(mode="after")
    def _parse(self) -> "Band":
        if not _RANGE.match(self.range.replace(" ", "")):
            raise ValueError(f"band range {self.range!r} is not like '>50', '<=50', '15-30', '30-<45' or '>50-95'")
        return self

    def bounds(self) -> tuple[float | None, bool, float | None, bool]:
        """(low, low included, high, high included); None for an open end."""
        m = _RANGE.match(self.range.replace(" ", ""))
        op, value, open_low, low, open_high, high = m.groups()
        if op:
            v = float(value)
            return {"<": (None, False, v, False), "<=": (None, False, v, True),
                    ">": (v, False, None, False), ">=": (v, True, None, False)}[op]
        return float(low), not open_low, float(high), not open_high

    @property
    def low(self) -> float | None:
        return self.bounds()[0]

    @property
    def high(self) -> float | None:
        return self.bounds()[2]

    def contains(self, value: float) -> bool:
        v = round(value)
        low, low_in, high, high_in = self.bounds()
        above = low is None or v > low or (low_in and v == low)
        below = high is None or v < high or (high_in and v == high)
        return above and below


class Renal(_Data):
    measure: Literal["crcl", "egfr"] | None = None
    rule: Literal["apixaban_af"] | None = None
    indication: str
    bands: list[Band] = Field(default_factory=list)
    text: str | None = None
    source: str

    @model_validator(mode="after")
    def _bands_or_rule(self) -> "Renal":
        if bool(self.bands) == bool(self.rule):
            raise ValueError("renal dosing needs either bands (with a measure) or a rule")
        if self.bands and not self.measure:
            raise ValueError("renal bands need a measure (crcl or egfr)")
        return self


class HepaticEntry(_Data):
    action: Action
    text: str
    dose: str | None = None


class Hepatic(_Data):
    A: HepaticEntry | None = None
    B: HepaticEntry | None = None
    C: HepaticEntry | None = None
    source: str
    note: str | None = None

    def for_class(self, child_pugh: str) -> HepaticEntry | None:
        return getattr(self, child_pugh)


class Special(_Data):
    """Pregnancy or lactation guidance."""

    action: Literal["use", "avoid"]
    text: str
    source: str
    alternatives: list[str] = Field(default_factory=list)
    alternatives_source: str | None = None
    from_week: int | None = None
    until_week: int | None = None


class OlderAdults(_Data):
    text: str
    source: str
    unconditional: bool


class Note(_Data):
    text: str
    source: str


class Drug(_Data):
    key: str = ""
    name: str = ""
    brands: list[str] = Field(default_factory=list)
    aliases: list[str] = Field(default_factory=list)
    drug_class: str = Field(alias="class")
    group: str
    allergy_group: str | None = None
    side_chain: str | None = None
    usual_dose: str | None = None
    indications: list[str] = Field(default_factory=list)
    source: str
    renal: Renal | None = None
    renal_note: Note | None = None
    hepatic: Hepatic | None = None
    pregnancy: Special | None = None
    lactation: Special | None = None
    older_adults: OlderAdults | None = None
    allergy_note: Note | None = None


class Alternatives(_Data):
    replace: str
    options: list[str]
    source: str


class InteractionEntry(_Data):
    a: list[str]
    b: list[str]
    severity: Severity
    action: list[Action]
    adjust: Literal["a", "b"]
    dose_limit: str | None = None
    dose_accept: list[str] = Field(default_factory=list)
    condition: str | None = None
    contraindicated_if: str | None = None
    mechanism: str
    management: str
    source: str
    alternatives: Alternatives | None = None


class Interaction(_Data):
    """One rated pair."""

    drugs: tuple[str, str]
    severity: Severity
    action: list[Action]
    adjust: str
    dose_limit: str | None = None
    dose_accept: list[str] = Field(default_factory=list)
    condition: str | None = None
    contraindicated_if: str | None = None
    mechanism: str
    management: str
    source: str
    alternatives_for: str | None = None
    alternatives: list[str] = Field(default_factory=list)
    alternatives_source: str | None = None


class AllergyRule(_Data):
    allergy: list[str] = Field(default_factory=list)
    allergy_group: str | None = None
    allergen_side_chain: str | None = None
    reaction: Literal["anaphylaxis", "non-anaphylactic"] | None = None
    reaction_contains: str | None = None
    drugs: list[str] = Field(default_factory=list)
    drug_group: str | list[str] | None = None
    drug_allergy_group: str | None = None
    verdict: Literal["use", "avoid"]
    text: str
    source: str

    def applies(self, allergen: Drug, reaction: str, drug: Drug) -> bool:
        if self.allergy and allergen.key not in self.allergy:
            return False
        if self.allergy_group and allergen.allergy_group != self.allergy_group:
            return False
        if self.allergen_side_chain and allergen.side_chain != self.allergen_side_chain:
            return False
        anaphylaxis = "anaphyla" in reaction.lower()
        if self.reaction == "anaphylaxis" and not anaphylaxis:
            return False
        if self.reaction == "non-anaphylactic" and (anaphylaxis or not reaction.strip()):
            return False
        if self.reaction_contains and self.reaction_contains not in reaction.lower():
            return False
        groups = [self.drug_group] if isinstance(self.drug_group, str) else (self.drug_group or [])
        targets = [bool(self.drugs), bool(groups), bool(self.drug_allergy_group)]
        if not any(targets):
            return False
        return (
            (not self.drugs or drug.key in self.drugs)
            and (not groups or drug.group in groups)
            and (not self.drug_allergy_group or drug.allergy_group == self.drug_allergy_group)
        )


_DOSE = re.compile(r"\s\d[\d.,/]*\s*(mg|mcg|g|gram|grams|units?|meq|ml|%|mcg/hour)\b.*$")
_FORM = re.compile(r"\b(tablets?|capsules?|oral|iv|po|er|xl|sr|cr|extended-release|extended release|injection|patch)\b")


def normalize_name(name: str) -> str:
    """Lower case, separators as spaces, dose and dosage form dropped: 'Simvastatin 40 mg' -> 'simvastatin'."""
    text = " " + str(name).lower().strip()
    text = _DOSE.sub("", text)
    text = re.sub(r"\([^)]*\)", " ", text)
    text = _FORM.sub(" ", text)
    text = re.sub(r"[-/_,+]", " ", text)
    return " ".join(text.split())


class Formulary:
    """Drugs by key, rated interactions by pair, unrated pairs, allergy rules and source citations."""

    def __init__(self, drugs: dict[str, Drug], entries: list[InteractionEntry], unrated: list[dict[str, list[str]]],
                 rules: list[AllergyRule], sources: dict[str, str]) -> None:
        self.drugs = drugs
        self.sources = sources
        self.rules = rules
        self._names: dict[str, str] = {}
        for key, d in drugs.items():
            for n in [key, d.name, *d.brands, *d.aliases]:
                norm = normalize_name(n)
                if norm in self._names and self._names[norm] != key:
                    raise ValueError(f"drug name {n!r} names both {self._names[norm]} and {key}")
                self._names[norm] = key
        self.interactions: dict[frozenset[str], Interaction] = {}
        for e in entries:
            for a, b in itertools.product(e.a, e.b):
                if a == b:
                    continue
                pair = frozenset((a, b))
                if pair in self.interactions:
                    if e.a == e.b:  # a symmetric group lists every pair twice
                        continue
                    raise ValueError(f"interaction {a} + {b} is defined twice")
                replace = None
                if e.alternatives:
                    replace = a if e.alternatives.replace == "a" else b
                self.interactions[pair] = Interaction(
                    drugs=(a, b), severity=e.severity, action=e.action, adjust=a if e.adjust == "a" else b,
                    dose_limit=e.dose_limit, dose_accept=e.dose_accept, condition=e.condition, contraindicated_if=e.contraindicated_if,
                    mechanism=e.mechanism, management=e.management, source=e.source, alternatives_for=replace,
                    alternatives=e.alternatives.options if e.alternatives else [],
                    alternatives_source=e.alternatives.source if e.alternatives else None,
                )
        self.unrated = {
            frozenset((a, b)) for u in unrated for a, b in itertools.product(u["a"], u["b"]) if a != b
        } - set(self.interactions)
        self._check()

    def _check(self) -> None:
        known = set(self.drugs)
        for pair in [*self.interactions, *self.unrated]:
            unknown = pair - known
            if unknown:
                raise ValueError(f"interaction names drugs not in the formulary: {', '.join(sorted(unknown))}")
        for i in self.interactions.values():
            for alt in i.alternatives:
                if alt not in known:
                    raise ValueError(f"alternative {alt!r} is not in the formulary")
        for d in self.drugs.values():
            for special in (d.pregnancy, d.lactation):
                for alt in special.alternatives if special else []:
                    if normalize_name(alt) not in self._names:
                        raise ValueError(f"{d.key}: alternative {alt!r} is not in the formulary")
        for r in self.rules:
            for k in [*r.allergy, *r.drugs]:
                if k not in known:
                    raise ValueError(f"allergy rule names {k!r}, which is not in the formulary")

    # --- look-ups --------------------------------------------------------------------------------------

    def find(self, name: str) -> Drug | None:
        """The drug a name or a medication-list line refers to: the longest leading run of words that names one."""
        words = normalize_name(name).split()
        for n in range(len(words), 0, -1):
            key = self._names.get(" ".join(words[:n]))
            if key:
                return self.drugs[key]
        return None

    def resolve(self, name: str) -> Drug:
        """The drug `name` refers to (generic, brand or alias; dose words ignored), or a ValueError naming close matches."""
        if not isinstance(name, str) or not name.strip():
            raise ValueError("the drug name is empty; give a generic or brand name, e.g. \"simvastatin\"")
        drug = self.find(name)
        if drug is None:
            close = difflib.get_close_matches(normalize_name(name), list(self._names), n=3, cutoff=0.6)
            hint = f" Did you mean {', '.join(self.drugs[self._names[c]].name for c in close)}?" if close else ""
            raise ValueError(f"{name!r} is not in the MedGym formulary.{hint} Use a generic name, e.g. \"warfarin\".")
        return drug

    def interaction(self, a: str, b: str) -> Interaction | None:
        return self.interactions.get(frozenset((a, b)))

    def unrated_pair(self, a: str, b: str) -> bool:
        return frozenset((a, b)) in self.unrated

    def allergy_rule(self, allergen: Drug, reaction: str, drug: Drug) -> AllergyRule | None:
        return next((r for r in self.rules if r.applies(allergen, reaction, drug)), None)

    def cite(self, source: str) -> str:
        """A source string with guideline keys ("AGS2023", "ACOG203: what it says") expanded to full citations."""
        out = []
        for part in (p.strip() for p in source.split(";")):
            key, _, rest = part.partition(":")
            if key in self.sources:
                part = self.sources[key] + (f" ({rest.strip()})" if rest.strip() else "")
            out.append(part)
        return "; ".join(out)

    def same_group(self, drug: Drug) -> list[Drug]:
        return [d for d in self.drugs.values() if d.group == drug.group and d.key != drug.key]


def read_yaml(package: str, name: str) -> Any:
    """A YAML data file shipped in `package` (with libyaml's C loader when available)."""
    return yaml.load(resources.files(package).joinpath(name).read_text(encoding="utf-8"), Loader=SAFE_LOADER)


def _yaml(name: str) -> Any:
    return read_yaml(__package__, name)


@cache
def formulary() -> Formulary:
    """The validated formulary (loaded once)."""
    raw = _yaml("drugs.yaml")["drugs"]
    drugs = {}
    for key, entry in raw.items():
        drug = Drug.model_validate(entry)
        drug.key, drug.name = key, drug.name or key.replace("_", " ")
        drugs[key] = drug
    inter = _yaml("interactions.yaml")
    return Formulary(
        drugs,
        [InteractionEntry.model_validate(e) for e in inter["interactions"]],
        inter.get("unrated", []),
        [AllergyRule.model_validate(r) for r in _yaml("allergy.yaml")["rules"]],
        _yaml("sources.yaml")["sources"],
    )


def apixaban_af_dose(age: int, weight_kg: float, creatinine_mg_dl: float) -> tuple[str, list[str]]:
    """Apixaban dose for nonvalvular AF (FDA label, Eliquis, Dosage and Administration): 2.5 mg twice
    daily with at least two of age >= 80 y, weight <= 60 kg, serum creatinine >= 1.5 mg/dL; else 5 mg."""
    met = [c for c, yes in (("age 80 years or older", age >= 80), ("body weight 60 kg or less", weight_kg <= 60),
                            ("serum creatinine 1.5 mg/dL or more", creatinine_mg_dl >= 1.5)) if yes]
    return ("2.5 mg twice daily" if len(met) >= 2 else "5 mg twice daily"), met
