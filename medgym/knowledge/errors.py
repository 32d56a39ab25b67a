"""The knowledge base's error (importable without loading Chroma)."""


class KnowledgeIndexError(RuntimeError):
    """The knowledge index is missing, unreadable or busy; the message says how to fix it."""
