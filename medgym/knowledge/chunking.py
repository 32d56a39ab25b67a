"""Split long texts into overlapping word windows, so each passage fits the embedder."""

from __future__ import annotations

CHUNK_WORDS = 90  # ~120 word pieces: inside the embedder's 128-token window
OVERLAP_WORDS = 15


def chunk(text: str, size: int = CHUNK_WORDS, overlap: int = OVERLAP_WORDS) -> list[str]:
    """Windows of `size` words, each starting `size - overlap` words after the previous one.

    A text of at most `size` words is one chunk. Whitespace is normalised.
    """
    if size < 1 or not 0 <= overlap < size:
        raise ValueError(f"chunk size must be >= 1 and overlap in [0, size), got size={size}, overlap={overlap}")
    words = text.split()
    if len(words) <= size:
        return [" ".join(words)] if words else []
    step = size - overlap
    chunks = []
    for start in range(0, len(words), step):
        chunks.append(" ".join(words[start : start + size]))
        if start + size >= len(words):
            break
    return chunks
