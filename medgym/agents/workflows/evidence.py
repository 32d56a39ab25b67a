"""The evidence workflow of the scripted clinician (medical_qa): search, look up, answer from what came back.

It reads only the question in the presentation and the tools' results, never
the task's answer: it searches the knowledge base with the question, then
calls the lookup tool that fits the question (ICD-10-CM, HPO, MedGym condition
knowledge) to retrieve the record that settles it, and answers from that
record; for a multiple-choice question it picks the option that best matches
what it retrieved. Its limits are real: for a look-up by wording (an HPO
term from its definition, an ICD-10-CM code from its description) it trusts
the lexical search's top result without checking the wording, and it reads
only the first five results of a search.
"""

from __future__ import annotations

import json
import re
from typing import Any

from medgym.agents.scripted import Action, register_workflow
from medgym.tools.calls import assistant_message as tool_message

RESULTS_READ = 5  # how many search results the workflow reads
_ICD = re.compile(r"\b([A-Z][0-9][0-9A-Z](?:\.[0-9A-Z]{1,4})?)\b")
_DISEASE = re.compile(r"\b((?:OMIM|ORPHA|DECIPHER):\d+)\b")
_HPO = re.compile(r"\b(HP:\d{7})\b")
_QUOTED = re.compile(r'"([^"]+)"')
_OPTION = re.compile(r"^([A-Z])\. (.+)$", re.M)


def words(text: str) -> set[str]:
    return set(re.findall(r"[a-z0-9]+", text.lower()))


def similarity(a: str, b: str) -> float:
    """Jaccard overlap of the two texts' words."""
    wa, wb = words(a), words(b)
    return len(wa & wb) / len(wa | wb) if wa | wb else 0.0


class EvidenceWorkflow:
    """Search the knowledge base, look the answer up, answer from the retrieved record."""

    def __init__(self, knowledge: Any = None) -> None:
        self.knowledge = knowledge

    def reset(self, observation: str, info: dict[str, Any]) -> None:
        text = info["messages"][1]["content"]
        task = text.split("Task: ", 1)[1] if "Task: " in text else text
        self.options = dict(_OPTION.findall(task))
        self.stem = task.split("\nA. ")[0].split("\n")[0].strip()
        self.step = 0
        self.retrieved: list[dict[str, Any]] = []
        self.record: dict[str, Any] | None = None

    # --- acting -------------------------------------------------------------------------------------

    def act(self, observation: str, info: dict[str, Any]) -> Action:
        self._observe(info)
        self.step += 1
        if self.step == 1:
            return tool_message(("search_knowledge", {"query": self.stem[:300], "k": RESULTS_READ}))
        if self.step == 2:
            lookup = self.lookup()
            if lookup is not None:
                return tool_message(lookup)
        return tool_message(("submit_answer", {"answer": self.answer(), "rationale": self.rationale()}))

    def lookup(self) -> tuple[str, dict[str, Any]] | None:
        """The lookup call that settles this question, read off its wording."""
        s = self.stem
        disease, term, code, quoted = _DISEASE.search(s), _HPO.search(s), _ICD.search(s), _QUOTED.search(s)
        if "MedGym" in s:
            return "condition_summary", {"condition": self._condition_name()}
        if disease:
            return "disease_phenotypes", {"disease_id": disease.group(1)}
        if ("HPO term" in s or "Phenotype Ontology term" in s) and quoted:
            return "hpo_search", {"text": quoted.group(1), "k": RESULTS_READ}
        if "ICD-10-CM code" in s and quoted and not self.options:
            return "icd10_search", {"text": quoted.group(1), "k": RESULTS_READ}
        if code and "chapter" in s:
            return "icd10_hierarchy", {"code": code.group(1)}
        if code:
            return "icd10_lookup", {"code": code.group(1)}
        return None

    def _condition_name(self) -> str:
        s = self.stem
        for pattern in (r"management of (.+?)\?$", r"give for (.+?)\? ", r"code does it for (.+?)\?", r"does: (.+?)\.$"):
            m = re.search(pattern, s)
            if m:
                return m.group(1)
        return s

    # --- reading -----------------------------------------------------------------------------------

    def _observe(self, info: dict[str, Any]) -> None:
        for m in info.get("new_messages", []):
            if m["role"] != "tool":
                continue
            try:
                content = json.loads(m["content"])
            except (json.JSONDecodeError, TypeError):
                continue
            if not isinstance(content, dict) or "error" in content:
                continue
            if m.get("name") == "search_knowledge":
                self.retrieved = content.get("passages", [])
            else:
                self.record = content

    def evidence_text(self) -> str:
        """Everything retrieved, as text (the record first)."""
        parts = [json.dumps(self.record, ensure_ascii=False)] if self.record else []
        parts += [f"{p.get('title', '')} {p.get('snippet', '')}" for p in self.retrieved]
        return " ".join(parts)

    def answer(self) -> str:
        r = self.record or {}
        if self.options:
            return self._choose(r)
        if "results" in r and r["results"]:  # a look-up by description or definition: it trusts the top result
            top = r["results"][0]
            return top.get("code") or top.get("name")
        if "text" in r:  # MedGym condition passage
            m = re.search(r"ICD-10-CM ([A-Z][0-9][0-9A-Z.]+)\)", r["text"])
            if m:
                return m.group(1)
        ids = [p["id"].removeprefix("icd10cm:") for p in self.retrieved if p["id"].startswith("icd10cm:")]
        return ids[0] if ids else "unknown"

    def _choose(self, r: dict[str, Any]) -> str:
        s = self.stem
        candidates: list[str] = []
        if "features" in r:
            if "inherit" in s.lower():
                candidates = r.get("inheritance", [])
            elif _HPO.search(s):
                target = _HPO.search(s).group(1)
                candidates = [f["frequency"] for f in r["features"] if f["id"] == target]
            else:
                candidates = [f["name"] for f in r["features"]]
        elif "parents" in r:
            candidates = [p["description"] for p in r["parents"] if p["kind"] == "chapter"]
        elif "description" in r:
            candidates = [r["description"]]
        elif "text" in r:
            m = re.search(r"Initial management: (.*?)\.(?: Avoid|$)", r["text"])
            candidates = m.group(1).split(", ") if m else []
        if not candidates:
            candidates = [self.evidence_text()]
        best = max(self.options, key=lambda letter: max(similarity(self.options[letter], c) for c in candidates))
        return best

    def rationale(self) -> str:
        cited = (self.record or {}).get("passage_id") or (self.record or {}).get("id")
        if not cited and self.retrieved:
            cited = self.retrieved[0]["id"]
        return f"From the retrieved passage {cited}." if cited else "From the lookup results."


register_workflow("evidence", EvidenceWorkflow)
