"""Evaluation suites: named sets of items a policy is scored on.

Environment suites come from the task store, so new domains, specialties and
task types appear without a code change:

    <domain>        the test split of each domain that has test tasks (e.g. clinical_diagnosis)
    <specialty>     the test split of each clinical_diagnosis specialty (e.g. cardiology)
    <task type>     the test split of each task type, across domains (e.g. diagnosis)
    heldout         the held-out-condition split, every domain
    smoke           a few test tasks from every domain (SMOKE_PER_DOMAIN, spread over task types)

A name used by two groups keeps its first meaning (domain, then specialty, then
task type); the other is reachable as `domain:X`, `specialty:X` or `type:X`.

Benchmark suites read the user's files: `FORMAT:PATH` (e.g. `medqa:~/data/US/test.jsonl`) or
just `PATH` (the format is detected). See `medgym.eval.qa` for the formats.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Literal

from medgym.encounter import stable_seed

SMOKE_PER_DOMAIN = 2
CLINICAL = "clinical_diagnosis"
QA_MODES = ("closed", "agentic")
Group = Literal["domain", "specialty", "task_type", "heldout", "smoke", "benchmark"]
QUALIFIERS = {"domain": "domain", "specialty": "specialty", "type": "task_type"}


@dataclass(frozen=True)
class Suite:
    """A named set of items: environment tasks (kind "env") or benchmark questions (kind "qa")."""

    name: str
    kind: Literal["env", "qa"]
    group: Group
    description: str
    task_ids: tuple[str, ...] = ()
    domain: str | None = None
    format: str | None = None
    path: str | None = None
    mode: str = "closed"
    read_report: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def item_ids(self, limit: int | None = None) -> list[str]:
        """The suite's items in its fixed order; the first `limit` of them when given."""
        ids = list(self.task_ids) if self.kind == "env" else [i.id for i in self.qa_items()]
        return ids if limit is None else ids[: max(0, limit)]

    def qa_items(self) -> list[Any]:
        if self.kind != "qa":
            raise TypeError(f"suite {self.name!r} is an environment suite")
        return _read(self.format, self.path, _stamp(self.path)).items

    def __len__(self) -> int:
        return len(self.task_ids) if self.kind == "env" else len(self.qa_items())


def _stamp(path: str | None) -> tuple[int, int]:
    stat = Path(path or "").stat()
    return stat.st_mtime_ns, stat.st_size


@cache
def _read(fmt: str, path: str, stamp: tuple[int, int]) -> Any:
    """A benchmark file, read once per process (again when it changes on disk)."""
    from medgym.eval.qa import read_benchmark

    return read_benchmark(fmt, Path(path))


def _ordered(tasks: list[Any]) -> tuple[str, ...]:
    """Task ids in a fixed pseudo-random order, so that the first N spread over conditions."""
    return tuple(t.id for t in sorted(tasks, key=lambda t: (stable_seed("eval-order", t.id), t.id)))


@cache
def environment_suites() -> dict[str, Suite]:
    """Every environment suite the task store supports now, by name (qualified aliases included)."""
    from medgym.domains import load_domains
    from medgym.tasks import load_tasks

    domains = sorted(load_domains())
    test = [t for t in load_tasks(split="test") if t.domain in domains]
    suites: dict[str, Suite] = {}
    aliases: dict[str, Suite] = {}

    def add(qualifier: str, name: str, suite: Suite) -> None:
        aliases[f"{qualifier}:{name}"] = suite
        if name not in suites:
            suites[name] = suite
        else:
            aliases[f"{qualifier}:{name}"] = Suite(**{**suite.__dict__, "name": f"{qualifier}:{name}"})

    for d in domains:
        tasks = [t for t in test if t.domain == d]
        if tasks:
            add("domain", d, Suite(d, "env", "domain", f"test split of the {d} domain", _ordered(tasks), domain=d))
    for s in sorted({t.specialty for t in test if t.domain == CLINICAL and t.specialty}):
        tasks = [t for t in test if t.domain == CLINICAL and t.specialty == s]
        add("specialty", s, Suite(s, "env", "specialty", f"test split of clinical_diagnosis / {s}", _ordered(tasks),
                                  domain=CLINICAL))
    for tt in sorted({t.task_type for t in test}):
        tasks = [t for t in test if t.task_type == tt]
        add("type", tt, Suite(tt, "env", "task_type", f"test split of every {tt} task", _ordered(tasks)))
    heldout = [t for t in load_tasks(split="heldout") if t.domain in domains]
    if heldout:
        suites["heldout"] = Suite("heldout", "env", "heldout", "held-out conditions, every domain", _ordered(heldout))
    smoke = _smoke(test, domains)
    if smoke:
        suites["smoke"] = Suite("smoke", "env", "smoke", f"{SMOKE_PER_DOMAIN} test tasks from every domain", smoke)
    return {**suites, **{k: v for k, v in aliases.items() if k not in suites}}


def _smoke(test: list[Any], domains: list[str]) -> tuple[str, ...]:
    """SMOKE_PER_DOMAIN tasks per domain, one task type after another."""
    chosen = []
    for d in domains:
        by_type: dict[str, list[Any]] = {}
        for t in sorted((t for t in test if t.domain == d), key=lambda t: (stable_seed("smoke", t.id), t.id)):
            by_type.setdefault(t.task_type, []).append(t)
        queues = [by_type[k] for k in sorted(by_type)]
        picked: list[Any] = []
        while len(picked) < SMOKE_PER_DOMAIN and any(queues):
            for q in queues:
                if q and len(picked) < SMOKE_PER_DOMAIN:
                    picked.append(q.pop(0))
        chosen += picked
    return tuple(t.id for t in chosen)


def suite_names() -> list[str]:
    """The environment suite names (without the qualified aliases)."""
    return [n for n in environment_suites() if ":" not in n]


def describe() -> str:
    """Every environment suite with its size, and how to name a benchmark file."""
    from medgym.eval.qa import READERS

    lines = [f"  {name:<24} {len(s.task_ids):>5}  {s.description}" for name, s in environment_suites().items()
             if ":" not in name]
    return ("environment suites:\n" + "\n".join(lines) +
            f"\nbenchmark suites: FORMAT:PATH or PATH, formats {', '.join(READERS)} "
            "(e.g. medqa:data/US/test.jsonl, mmlu:data/test/)")


def resolve_suites(spec: str, qa_mode: str = "closed") -> list[Suite]:
    """The suite(s) a name or a benchmark spec stands for (an MMLU folder gives one per subject)."""
    from medgym.eval.qa import MMLU_MEDICAL, READERS, detect_format, mmlu_files

    if qa_mode not in (*QA_MODES, "both"):
        raise ValueError(f"unknown QA mode {qa_mode!r}; choose closed, agentic or both")
    known = environment_suites()
    if spec in known:
        return [known[spec]]
    if spec in ("heldout", "smoke"):
        raise ValueError(f"suite {spec!r} is empty in this checkout: " +
                         ("no domain marks tasks as held out (split 'heldout')" if spec == "heldout" else
                          "no domain has test tasks") + f".\nValid suites:\n{describe()}")
    fmt, _, rest = spec.partition(":")
    if fmt in READERS and rest:
        path = Path(rest).expanduser()
    elif Path(spec).expanduser().exists():
        path = Path(spec).expanduser()
        fmt = detect_format(path)
    elif fmt in QUALIFIERS or fmt in READERS:
        raise ValueError(f"unknown suite {spec!r}: " + ("a benchmark spec is FORMAT:PATH" if fmt in READERS else
                         f"no {QUALIFIERS[fmt]} named {rest!r}") + f".\nValid suites:\n{describe()}")
    else:
        raise ValueError(f"unknown suite {spec!r}.\nValid suites:\n{describe()}")
    if not path.exists():
        raise FileNotFoundError(f"benchmark file {path} does not exist (suite {spec!r})")
    if fmt == "mmlu" and path.is_dir():
        files = mmlu_files(path)
        if not files:
            raise ValueError(f"{path} holds no MMLU medical subject csv files ({', '.join(MMLU_MEDICAL)})")
    else:
        files = [path]
    modes = QA_MODES if qa_mode == "both" else (qa_mode,)
    out = []
    for f in files:
        base = _benchmark_name(fmt, f)
        bench = _read(fmt, str(f), _stamp(str(f)))
        for mode in modes:
            name = base if mode == "closed" else f"{base}/agentic"
            out.append(Suite(name, "qa", "benchmark", f"{fmt} benchmark {f} ({mode} book)" if mode == "closed" else
                             f"{fmt} benchmark {f} (agentic: search_knowledge allowed)", format=fmt, path=str(f),
                             mode=mode, read_report=bench.summary()))
    return out


def _benchmark_name(fmt: str, path: Path) -> str:
    from medgym.eval.qa import mmlu_subject

    return f"mmlu-{mmlu_subject(path)}" if fmt == "mmlu" else fmt


def resolve_all(specs: list[str], qa_mode: str = "closed") -> list[Suite]:
    """Suites for every spec, in order, without duplicates; two benchmark files of one format
    are told apart by file name (e.g. medqa-test, medqa-dev)."""
    suites: list[Suite] = []
    for spec in specs:
        suites += [s for s in resolve_suites(spec, qa_mode) if s not in suites]
    paths: dict[str, set[str | None]] = {}
    for s in suites:
        if s.kind == "qa":
            paths.setdefault(s.name.split("/")[0], set()).add(s.path)
    for i, s in enumerate(suites):
        base = s.name.split("/")[0]
        if s.kind == "qa" and len(paths[base]) > 1:
            suites[i] = Suite(**{**s.__dict__, "name": s.name.replace(base, f"{base}-{Path(s.path or '').stem}", 1)})
    return suites
