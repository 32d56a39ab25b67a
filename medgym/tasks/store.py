"""Load tasks from the JSONL task files."""

from __future__ import annotations

import gc
from functools import cache
from pathlib import Path

from medgym.tasks.schema import Task

TASK_DIR = Path(__file__).parent / "data"
SPLITS = ("train", "val", "test", "heldout")


@cache
def _load_domain(path: str) -> tuple[Task, ...]:
    # Parsing creates hundreds of thousands of small, long-lived objects (the tasks stay cached) and no
    # reference cycles; the cyclic garbage collector would rescan them again and again (two thirds of
    # the load time). It pauses while a file is read, and the result is frozen out of its scans.
    enabled = gc.isenabled()
    gc.disable()
    try:
        with open(path, encoding="utf-8") as f:
            tasks = tuple(Task.model_validate_json(line) for line in f if line.strip())
        gc.freeze()
        return tasks
    finally:
        if enabled:
            gc.enable()


def load_tasks(
    split: str | None = None,
    domain: str | None = None,
    task_type: str | None = None,
    specialty: str | None = None,
    task_dir: Path | None = None,
) -> list[Task]:
    """Tasks filtered by split, domain, task type and specialty (None = all)."""
    from medgym.domains import DOMAINS

    if split is not None and split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; choose one of {', '.join(SPLITS)}")
    if domain is not None and domain not in DOMAINS:
        raise ValueError(f"unknown domain {domain!r}; choose one of {', '.join(DOMAINS)}")
    folder = task_dir or TASK_DIR
    files = sorted(folder.glob("*.jsonl")) if domain is None else [folder / f"{domain}.jsonl"]
    tasks = [t for f in files if f.exists() for t in _load_domain(str(f))]
    return [
        t
        for t in tasks
        if (split is None or t.split == split)
        and (task_type is None or t.task_type == task_type)
        and (specialty is None or t.specialty == specialty)
    ]


@cache
def _index() -> dict[str, Task]:
    return {t.id: t for t in load_tasks()}


def get_task(task_id: str) -> Task:
    """The task with this id; a clear error if there is none."""
    try:
        return _index()[task_id]
    except KeyError:
        import difflib

        close = difflib.get_close_matches(task_id, list(_index()), n=3)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        raise KeyError(f"unknown task id {task_id!r}.{hint} List tasks with `medgym tasks`.") from None
