"""Medical multiple-choice benchmarks: readers for their standard file formats, and answer extraction.

The project never ships these benchmarks; a user points at the files they have:

    medqa       MedQA (USMLE), 4 or 5 options, JSON lines:
                {"question", "options": {"A": ..}, "answer_idx": "C", "answer": text, "meta_info"}
    medmcqa     MedMCQA, JSON lines: {"id", "question", "opa", "opb", "opc", "opd", "cop", ...};
                `cop` is 1-based in the original release (1..4) and 0-based in the
                Hugging Face export (0..3): a file with a 0 is read as 0-based.
    pubmedqa    PubMedQA `ori_pqal.json` style: {PMID: {"QUESTION", "CONTEXTS", "LABELS", "final_decision"}},
                options yes / no / maybe.
    mmlu        MMLU csv files without a header (question, A, B, C, D, answer letter); a folder gives
                one suite per medical subject file found (anatomy, clinical_knowledge, college_biology,
                college_medicine, medical_genetics, professional_medicine).
    medxpertqa  MedXpertQA JSON lines: {"id", "question", "options": {"A".."J"}, "label", ...};
                items that need images (the MM subset) are counted and skipped.
    mcq         generic multiple choice: JSON lines {"id"?, "question", "options" (list or
                {letter: text}) or "choices", "answer" (letter, 0-based index or option text),
                "context"?}, or a CSV with a header: question, A, B, C[, D ...], answer[, id, context].

Broken lines and items with missing fields are counted with the line number and the
reason; every readable item is evaluated.
"""

from __future__ import annotations

import collections
import csv
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

LETTERS = "ABCDEFGHIJ"
MMLU_MEDICAL = (
    "anatomy",
    "clinical_knowledge",
    "college_biology",
    "college_medicine",
    "medical_genetics",
    "professional_medicine",
)
MAX_EXAMPLES = 10  # problems listed by line; all are counted


@dataclass(frozen=True)
class QAItem:
    """One multiple-choice question: options keyed by letter and the correct letter."""

    id: str
    question: str
    options: dict[str, str]
    answer: str
    context: str = ""
    meta: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)


@dataclass
class Benchmark:
    """The readable items of one benchmark file and what could not be read."""

    name: str
    format: str
    path: str
    items: list[QAItem]
    records: int = 0
    problems: collections.Counter = field(default_factory=collections.Counter)
    examples: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def skipped(self) -> int:
        return sum(self.problems.values())

    def problem(self, where: str, reason: str) -> None:
        self.problems[reason] += 1
        if len(self.examples) < MAX_EXAMPLES:
            self.examples.append(f"{where}: {reason}")

    def summary(self) -> dict[str, Any]:
        return {"format": self.format, "path": self.path, "records": self.records, "evaluated": len(self.items),
                "skipped": self.skipped, "problems": dict(self.problems), "examples": list(self.examples),
                "notes": list(self.notes)}


class Skip(Exception):
    """A record that cannot be evaluated; the message says why."""


# --- readers -------------------------------------------------------------------------------------


def _json_lines(path: Path, bench: Benchmark) -> Iterator[tuple[int, dict[str, Any]]]:
    with open(path, encoding="utf-8", errors="replace") as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            bench.records += 1
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                bench.problem(f"line {number}", f"not valid JSON ({exc.msg})")
                continue
            if not isinstance(obj, dict):
                bench.problem(f"line {number}", f"not a JSON object ({type(obj).__name__})")
                continue
            yield number, obj


def _text(obj: dict[str, Any], key: str) -> str:
    value = obj.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        raise Skip(f"missing field {key!r}")
    if not isinstance(value, (str, int, float)):
        raise Skip(f"field {key!r} is a {type(value).__name__}, not text")
    return str(value).strip()


def _options(raw: Any, key: str = "options") -> dict[str, str]:
    if isinstance(raw, dict):
        options = {str(k).strip().upper(): str(v).strip() for k, v in raw.items()}
    elif isinstance(raw, list):
        options = {LETTERS[i]: str(v).strip() for i, v in enumerate(raw[: len(LETTERS)])}
    else:
        raise Skip(f"missing field {key!r}" if raw is None else f"field {key!r} is not a list or object")
    if len(options) < 2:
        raise Skip(f"field {key!r} has fewer than two options")
    if list(options) != list(LETTERS[: len(options)]):
        raise Skip(f"option keys {', '.join(options)} are not consecutive letters from A")
    if any(not v for v in options.values()):
        raise Skip("an option is empty")
    return options


def _answer_letter(value: Any, options: dict[str, str], key: str) -> str:
    """A letter, a 0-based index or the text of an option -> the option's letter."""
    if value is None or (isinstance(value, str) and not value.strip()):
        raise Skip(f"missing field {key!r}")
    if isinstance(value, bool):
        raise Skip(f"field {key!r} is a boolean")
    if isinstance(value, int):
        if 0 <= value < len(options):
            return LETTERS[value]
        raise Skip(f"field {key!r} = {value} is not an option index (0..{len(options) - 1})")
    text = str(value).strip()
    if text.upper() in options:
        return text.upper()
    by_text = [k for k, v in options.items() if _norm(v) == _norm(text)]
    if len(by_text) == 1:
        return by_text[0]
    raise Skip(f"field {key!r} = {text[:40]!r} names no option")


def _collect(bench: Benchmark, rows: Iterator[tuple[int, dict[str, Any]]], build: Callable[[int, dict], QAItem]) -> Benchmark:
    seen: set[str] = set()
    for number, obj in rows:
        try:
            item = build(number, obj)
        except Skip as exc:
            bench.problem(f"line {number}", str(exc))
            continue
        if item.id in seen:
            bench.problem(f"line {number}", f"duplicate id {item.id!r}")
            continue
        seen.add(item.id)
        bench.items.append(item)
    return bench


def read_medqa(path: Path, name: str = "medqa") -> Benchmark:
    bench = Benchmark(name, "medqa", str(path), [])

    def build(number: int, obj: dict[str, Any]) -> QAItem:
        options = _options(obj.get("options"))
        key = "answer_idx" if obj.get("answer_idx") not in (None, "") else "answer"
        answer = _answer_letter(obj.get(key), options, "answer_idx")
        meta = {k: obj[k] for k in ("meta_info",) if k in obj}
        return QAItem(str(obj.get("id", number)), _text(obj, "question"), options, answer, meta=meta)

    return _collect(bench, _json_lines(path, bench), build)


def read_medmcqa(path: Path, name: str = "medmcqa") -> Benchmark:
    bench = Benchmark(name, "medmcqa", str(path), [])
    rows = list(_json_lines(path, bench))
    cops = [o.get("cop") for _, o in rows if isinstance(o.get("cop"), int) and not isinstance(o.get("cop"), bool)]
    zero_based = 0 in cops
    if cops and not zero_based and 4 not in cops:
        bench.notes.append("cop values are all within 1..3: read as 1-based (the original MedMCQA release)")
    bench.notes.append(f"cop read as {'0' if zero_based else '1'}-based")

    def build(number: int, obj: dict[str, Any]) -> QAItem:
        options = {letter: _text(obj, key) for letter, key in zip("ABCD", ("opa", "opb", "opc", "opd"))}
        cop = obj.get("cop")
        if cop is None or cop == -1:
            raise Skip("missing field 'cop' (the answer; the MedMCQA test set has none)")
        if not isinstance(cop, int) or isinstance(cop, bool):
            raise Skip(f"field 'cop' = {cop!r} is not an integer")
        index = cop if zero_based else cop - 1
        if not 0 <= index < 4:
            raise Skip(f"field 'cop' = {cop} is out of range")
        meta = {k: obj[k] for k in ("subject_name", "topic_name", "choice_type") if obj.get(k)}
        return QAItem(str(obj.get("id", number)), _text(obj, "question"), options, LETTERS[index], meta=meta)

    return _collect(bench, iter(rows), build)


PUBMEDQA_OPTIONS = {"A": "yes", "B": "no", "C": "maybe"}


def read_pubmedqa(path: Path, name: str = "pubmedqa") -> Benchmark:
    bench = Benchmark(name, "pubmedqa", str(path), [])
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8", errors="replace"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno}); PubMedQA files are one JSON "
                         "object {PMID: {QUESTION, CONTEXTS, final_decision, ...}} like ori_pqal.json") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a JSON object {{PMID: {{...}}}} like ori_pqal.json, got {type(data).__name__}")

    def rows() -> Iterator[tuple[str, dict[str, Any]]]:
        for pmid, obj in data.items():
            bench.records += 1
            if not isinstance(obj, dict):
                bench.problem(f"PMID {pmid}", "not a JSON object")
                continue
            yield pmid, obj

    def build(pmid: str, obj: dict[str, Any]) -> QAItem:
        decision = _text(obj, "final_decision").lower()
        if decision not in PUBMEDQA_OPTIONS.values():
            raise Skip(f"final_decision {decision!r} is not yes, no or maybe")
        contexts = obj.get("CONTEXTS") or []
        if not isinstance(contexts, list):
            raise Skip("field 'CONTEXTS' is not a list")
        labels = obj.get("LABELS") or []
        context = "\n".join(f"{labels[i]}: {c}" if i < len(labels) and labels[i] else str(c) for i, c in enumerate(contexts))
        answer = next(k for k, v in PUBMEDQA_OPTIONS.items() if v == decision)
        return QAItem(str(pmid), _text(obj, "QUESTION"), dict(PUBMEDQA_OPTIONS), answer, context=context,
                      meta={"year": obj.get("YEAR")} if obj.get("YEAR") else {})

    seen: set[str] = set()
    for pmid, obj in rows():
        try:
            item = build(pmid, obj)
        except Skip as exc:
            bench.problem(f"PMID {pmid}", str(exc))
            continue
        if item.id not in seen:
            seen.add(item.id)
            bench.items.append(item)
    return bench


def _csv_rows(path: Path, bench: Benchmark, header: bool) -> Iterator[tuple[int, list[str]]]:
    with open(path, encoding="utf-8", errors="replace", newline="") as f:
        reader = csv.reader(f)
        try:
            for row in reader:
                if not any(c.strip() for c in row):
                    continue
                if header:
                    header = False
                    yield 1, row
                    continue
                bench.records += 1
                yield reader.line_num, row
        except csv.Error as exc:
            bench.problem(f"line {reader.line_num}", f"broken CSV ({exc}); the rest of the file could not be read")


def mmlu_subject(path: Path) -> str:
    return re.sub(r"_(test|val|dev)$", "", Path(path).stem)


def read_mmlu(path: Path, name: str | None = None) -> Benchmark:
    bench = Benchmark(name or f"mmlu-{mmlu_subject(path)}", "mmlu", str(path), [])
    subject = mmlu_subject(path)

    def build(number: int, row: list[str]) -> QAItem:
        if len(row) != 6:
            raise Skip(f"{len(row)} columns; MMLU rows have 6 (question, A, B, C, D, answer)")
        question, *opts, answer = (c.strip() for c in row)
        if not question:
            raise Skip("missing field 'question'")
        options = _options(opts)
        return QAItem(f"{subject}-{number}", question, options, _answer_letter(answer, options, "answer"),
                      meta={"subject": subject})

    return _collect(bench, _csv_rows(path, bench, header=False), build)


_ANSWER_CHOICES = re.compile(r"\s*Answer Choices:.*\Z", re.DOTALL)


def read_medxpertqa(path: Path, name: str = "medxpertqa") -> Benchmark:
    bench = Benchmark(name, "medxpertqa", str(path), [])

    def build(number: int, obj: dict[str, Any]) -> QAItem:
        if obj.get("images"):
            raise Skip("needs images (MedXpertQA MM); only text questions are evaluated")
        options = _options(obj.get("options"))
        answer = _answer_letter(obj.get("label"), options, "label")
        question = _ANSWER_CHOICES.sub("", _text(obj, "question")).strip()  # the options are listed once, from "options"
        meta = {k: obj[k] for k in ("medical_task", "body_system", "question_type") if obj.get(k)}
        return QAItem(str(obj.get("id", number)), question, options, answer, meta=meta)

    return _collect(bench, _json_lines(path, bench), build)


def read_mcq(path: Path, name: str = "mcq") -> Benchmark:
    bench = Benchmark(name, "mcq", str(path), [])
    if Path(path).suffix.lower() == ".csv":
        rows = _csv_rows(path, bench, header=True)
        first = next(rows, None)
        if first is None:
            return bench
        columns = [c.strip() for c in first[1]]
        lower = [c.lower() for c in columns]
        if "question" not in lower or "answer" not in lower:
            raise ValueError(f"{path}: a multiple-choice CSV needs a header with 'question', option columns A, B, C ... "
                             f"and 'answer'; found {', '.join(columns) or 'no header'}")
        letters = [c for c in columns if len(c) == 1 and c.upper() in LETTERS]

        def as_dict(pair: tuple[int, list[str]]) -> tuple[int, dict[str, Any]]:
            number, row = pair
            if len(row) != len(columns):
                return number, {"__broken__": f"{len(row)} columns, the header has {len(columns)}"}
            obj = {lower[i] if columns[i] not in letters else columns[i].upper(): row[i] for i in range(len(columns))}
            obj["options"] = {c.upper(): obj.pop(c.upper()) for c in letters if str(obj.get(c.upper(), "")).strip()}
            return number, obj

        records: Iterator[tuple[int, dict[str, Any]]] = map(as_dict, rows)
    else:
        records = _json_lines(path, bench)

    def build(number: int, obj: dict[str, Any]) -> QAItem:
        if "__broken__" in obj:
            raise Skip(obj["__broken__"])
        key = "options" if obj.get("options") is not None else "choices"
        options = _options(obj.get(key), key)
        answer = obj.get("answer")
        if isinstance(answer, str) and answer.strip().isdigit() and answer.strip().upper() not in options:
            answer = int(answer)
        return QAItem(str(obj.get("id") or number), _text(obj, "question"), options,
                      _answer_letter(answer, options, "answer"), context=str(obj.get("context") or "").strip())

    return _collect(bench, records, build)


READERS: dict[str, Callable[..., Benchmark]] = {
    "medqa": read_medqa,
    "medmcqa": read_medmcqa,
    "pubmedqa": read_pubmedqa,
    "mmlu": read_mmlu,
    "medxpertqa": read_medxpertqa,
    "mcq": read_mcq,
}


def detect_format(path: Path) -> str:
    """The benchmark format of a file or folder, from its content."""
    path = Path(path)
    if path.is_dir():
        if mmlu_files(path):
            return "mmlu"
        raise ValueError(f"{path} is a folder without MMLU medical subject files ({', '.join(MMLU_MEDICAL)}); "
                         "name a benchmark file instead")
    if path.suffix.lower() == ".csv":
        with open(path, encoding="utf-8", errors="replace", newline="") as f:
            first = next(csv.reader(f), [])
        return "mcq" if any(c.strip().lower() == "question" for c in first) else "mmlu"
    with open(path, encoding="utf-8", errors="replace") as f:
        head = f.read(1 << 16)
    first = next((line for line in head.splitlines() if line.strip()), "")
    if first.lstrip().startswith("{") and not _parses(first):  # one JSON document spanning lines
        try:
            data = json.loads(path.read_text(encoding="utf-8", errors="replace"))
        except json.JSONDecodeError:
            data = None
        if isinstance(data, dict) and any(isinstance(v, dict) and "QUESTION" in v for v in data.values()):
            return "pubmedqa"
    for line in head.splitlines():
        obj = _parses(line)
        if isinstance(obj, dict):
            if any(isinstance(v, dict) and "QUESTION" in v for v in obj.values()):
                return "pubmedqa"
            if "opa" in obj:
                return "medmcqa"
            if "label" in obj and isinstance(obj.get("options"), dict):
                return "medxpertqa"
            if "answer_idx" in obj:
                return "medqa"
            if "question" in obj and ("options" in obj or "choices" in obj):
                return "mcq"
    raise ValueError(f"cannot tell the benchmark format of {path}; name it, e.g. medqa:{path} "
                     f"(formats: {', '.join(READERS)})")


def _parses(line: str) -> Any:
    try:
        return json.loads(line)
    except json.JSONDecodeError:
        return None


def mmlu_files(folder: Path) -> list[Path]:
    """The medical-subject csv files in an MMLU folder (test files first when there are several splits)."""
    found = {}
    for f in sorted(Path(folder).rglob("*.csv")):
        subject = mmlu_subject(f)
        if subject in MMLU_MEDICAL and (subject not in found or f.stem.endswith("_test")):
            found[subject] = f
    return [found[s] for s in MMLU_MEDICAL if s in found]


def read_benchmark(fmt: str, path: Path, name: str | None = None) -> Benchmark:
    """Read one benchmark file in the given format."""
    path = Path(path).expanduser()
    if fmt not in READERS:
        raise ValueError(f"unknown benchmark format {fmt!r}; formats: {', '.join(READERS)}")
    if not path.exists():
        raise FileNotFoundError(f"benchmark file {path} does not exist")
    if path.is_dir():
        raise ValueError(f"{path} is a folder; name the {fmt} file in it")
    return READERS[fmt](path, name) if name else READERS[fmt](path)


# --- prompts -------------------------------------------------------------------------------------


def question_text(item: QAItem) -> str:
    """The question as the agent reads it: context, question and lettered options."""
    parts = [f"Context:\n{item.context}"] if item.context else []
    parts.append(f"Question: {item.question}")
    parts.append("Options:\n" + "\n".join(f"{k}. {v}" for k, v in item.options.items()))
    return "\n\n".join(parts)


# --- answer extraction -----------------------------------------------------------------------------

_THINK = re.compile(r"<think>.*?</think>", re.DOTALL | re.IGNORECASE)
_MARKUP = str.maketrans({c: " " for c in "*_`#"})


def _norm(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", str(text).lower()))


def _patterns(letters: str) -> list[re.Pattern[str]]:
    """Explicit answer statements, strongest first; each captures the letter."""
    L = f"[{letters}{letters.lower()}]"
    opener = r"[\s:=\-]*(?:is|was|would\s+be|will\s+be|should\s+be)?[\s:=\-]*(?:option|choice|letter)?[\s:\-]*[\(\[]?\s*"
    return [
        re.compile(rf"\\boxed\{{\s*(?:\\text\{{)?\s*\(?({L})\)?"),
        re.compile(rf"\b(?:final\s+answer|correct\s+answer|best\s+answer|right\s+answer|correct\s+option|correct\s+choice"
                   rf"|best\s+option|answer\s+choice|answer){opener}({L})(?![A-Za-z0-9])", re.IGNORECASE),
        re.compile(rf"\b(?:I\s+(?:would\s+)?(?:choose|select|pick|go\s+with))\s*(?:option|choice)?\s*[\(\[]?\s*({L})(?![A-Za-z0-9])",
                   re.IGNORECASE),
        re.compile(rf"(?:\b(?:option|choice)\s*[\(\[]?|[\(\[])({L})[\)\]]?\s+(?:is|would\s+be)\s+(?:the\s+)?(?:correct|right|best|most\s+likely)\b",
                   re.IGNORECASE),
    ]


def _letter_ok(text: str, match: re.Match[str]) -> bool:
    """A lowercase letter counts only when marked as one ("c)", "(c", "c." at the end): "is a beta-blocker" is not 'A'."""
    letter = match.group(1)
    if letter.isupper():
        return True
    before = text[max(0, match.start(1) - 1): match.start(1)]
    after = text[match.end(1): match.end(1) + 1]
    return (before != "" and before in "([") or after == "" or after in ")].:"


def extract_choice(response: str, options: dict[str, str]) -> str | None:
    """The option letter a free-text response chooses, or None when it names none unambiguously.

    Understands "The answer is (C)", "Answer: c) ...", "**C**", "C.", "(C) aspirin",
    "\\boxed{C}", "Option C is correct", "I choose C", and the option's own text.
    Reasoning inside <think>...</think> is ignored. The last explicit statement wins.
    """
    if not isinstance(response, str):
        return None
    letters = "".join(k for k in options if len(k) == 1 and k in LETTERS)
    if not letters:
        return None
    text = _THINK.sub(" ", response)
    if "</think>" in text.lower():
        text = text[text.lower().rfind("</think>") + len("</think>"):]
    plain = text.translate(_MARKUP).strip()
    for pattern in _patterns(letters):
        found = [m for m in pattern.finditer(plain) if _letter_ok(plain, m)]
        if found:
            return found[-1].group(1).upper()
    # the response is, or starts with, a marked letter: "C", "C.", "(C)", "C) aspirin", "c. aspirin"
    m = re.match(rf"^\W*\(?([{letters}{letters.lower()}])\s*(?:[\.\):\]]|$)", plain)
    if m and (m.group(1).isupper() or plain[m.end(1):m.end(1) + 1] in ").:]" or m.end(1) == len(plain)):
        return m.group(1).upper()
    # the option's own text
    said = _norm(plain)
    if not said:
        return None
    texts = {k: _norm(v) for k, v in options.items() if k in letters and _norm(v)}
    exact = [k for k, v in texts.items() if v == said]
    if len(exact) == 1:
        return exact[0]
    start = [k for k, v in texts.items() if said.startswith(v + " ")]
    if len(start) == 1:
        return start[0]
    inside = [k for k, v in texts.items() if re.search(rf"(?<![a-z0-9]){re.escape(v)}(?![a-z0-9])", said)]
    inside = [k for k in inside if not any(o != k and texts[k] in texts[o] and o in inside for o in inside)]
    return inside[0] if len(inside) == 1 else None
