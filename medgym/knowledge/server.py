"""Server mode: a real Chroma server (`chroma run`) over the knowledge index, on 127.0.0.1.

    medgym kb serve --port 8765          # then, in every reader:
    export MEDGYM_CHROMA_URL=http://127.0.0.1:8765

Readers (env, widgets, evaluation workers) then query the server through an
`HttpClient`; the lexical BM25 index is read from the local index folder when
it is there, so hybrid search works on the same machine, and falls back to
dense results elsewhere.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from medgym.knowledge.errors import KnowledgeIndexError

HOST = "127.0.0.1"
DEFAULT_PORT = 8765


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def chroma_executable() -> str:
    """The `chroma` command of this Python environment."""
    beside = Path(sys.executable).parent / "chroma"
    found = str(beside) if beside.exists() else shutil.which("chroma")
    if not found:
        raise KnowledgeIndexError("The `chroma` command is not installed; install chromadb (`pip install chromadb`).")
    return found


def command(path: Path, port: int) -> list[str]:
    return [chroma_executable(), "run", "--path", str(path), "--host", HOST, "--port", str(port)]


def wait_until_up(url: str, timeout: float = 60.0, process: subprocess.Popen | None = None) -> None:
    """Poll the server's heartbeat until it answers; KnowledgeIndexError after `timeout` s or if it exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise KnowledgeIndexError(f"`chroma run` exited with code {process.returncode} before serving {url}")
        try:
            with urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise KnowledgeIndexError(f"the Chroma server at {url} did not answer within {timeout:.0f} s")


def start(path: Path, port: int | None = None, quiet: bool = True) -> tuple[subprocess.Popen, str]:
    """Start `chroma run` on 127.0.0.1 over the index at `path`; returns the process and its URL."""
    from medgym.knowledge.index import missing_message, read_manifest

    if read_manifest(path) is None:
        raise KnowledgeIndexError(missing_message(str(path)))
    port = port or free_port()
    url = f"http://{HOST}:{port}"
    out = subprocess.DEVNULL if quiet else None
    process = subprocess.Popen(command(path, port), stdout=out, stderr=out, start_new_session=True,
                               env={**os.environ, "ANONYMIZED_TELEMETRY": "False"})
    try:
        wait_until_up(url, process=process)
    except BaseException:
        stop(process)
        raise
    return process, url


def stop(process: subprocess.Popen, timeout: float = 10.0) -> None:
    """Stop the server (SIGTERM, then SIGKILL) and reap it."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout)


@contextmanager
def serving(path: Path, port: int | None = None) -> Iterator[str]:
    """A Chroma server for the duration of the block, with MEDGYM_CHROMA_URL pointing at it."""
    process, url = start(path, port)
    previous = os.environ.get("MEDGYM_CHROMA_URL")
    os.environ["MEDGYM_CHROMA_URL"] = url
    try:
        yield url
    finally:
        if previous is None:
            os.environ.pop("MEDGYM_CHROMA_URL", None)
        else:
            os.environ["MEDGYM_CHROMA_URL"] = previous
        stop(process)


def serve(path: Path, port: int = DEFAULT_PORT, duration: float | None = None) -> int:
    """Run the server in the foreground until Ctrl-C (or for `duration` seconds)."""
    process, url = start(path, port, quiet=False)
    print(f"Chroma serving {path} at {url}\nIn readers: export MEDGYM_CHROMA_URL={url}\n(Ctrl-C stops it)", flush=True)
    try:
        if duration is None:
            process.wait()
        else:
            time.sleep(duration)
    except KeyboardInterrupt:
        pass
    finally:
        stop(process)
    return 0
