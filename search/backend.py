"""What a search backend answers, and the embedded one (the index folder).

A backend names its live generation and loads it as a ``SearchIndex``: one
generation, read from start to end by every search that uses it. The index
answers what the stages above it cannot compute themselves: dense
neighbours and lexical matches within a filter, vectors by row, and what
its vocabulary holds. Rows are the positions of the generation's chunk
records, which it hands over whole (the view builds its columns from them).
Fusion, language versions, sections, relevance and highlighting stay above,
shared by both backends; ``search/pgbackend.py`` is the other one.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from ingest.records import Chunk
from ingest.settings import Settings
from ingest.store import Generation, current_name, load_generation

MIN_PREFIX = 5  # "Världsbanken" is known when a passage has a word starting "värld"


@dataclass(frozen=True)
class Where:
    """The rows a retriever may return: ``None`` for no restriction on a
    column, a set of allowed values otherwise; ``exclude``: rows left out.
    ``mask`` is the same filter over the view's rows (IndexView.where makes
    both), for backends that filter in memory."""

    mask: np.ndarray
    languages: frozenset[str] | None = None
    docs: frozenset[str] | None = None
    kinds: frozenset[str] | None = None
    exclude: frozenset[int] = frozenset()

    @property
    def count(self) -> int:
        return int(self.mask.sum())


class SearchIndex(Protocol):
    """One generation, as a search reads it."""

    name: str
    manifest: dict
    chunks: list[Chunk]
    sentences: object | None  # ingest.sentences.SentenceVectors; None: not stored

    def dense(self, qvec: np.ndarray, where: Where, depth: int) -> tuple[list[int], np.ndarray]:
        """(rows best first, their cosines) among the allowed rows."""

    def lexical(self, terms: list[str], where: Where, depth: int) -> list[int]:
        """Rows best first by BM25 for the query ``terms``, positive scores only."""

    def vectors(self, rows: list[int]) -> np.ndarray: ...

    def postings(self, term: str) -> np.ndarray:
        """Rows whose indexed text holds the index term ``term``."""

    def knows(self, terms: list[str], prefix: str | None) -> bool | None:
        """Whether the vocabulary holds one of ``terms`` or a term starting
        with ``prefix``; None when there is no vocabulary to judge by."""


class Backend(Protocol):
    def live_name(self) -> str | None: ...
    def load(self, fingerprint: str | None) -> SearchIndex: ...


class FileIndex:
    """A generation of the index folder: FAISS (exact inner product) and bm25s."""

    def __init__(self, generation: Generation) -> None:
        self.generation = generation
        self.name = generation.name
        self.manifest = generation.manifest
        self.chunks = generation.chunks
        self.index = generation.index
        self.lexical_index = generation.lexical
        self.sentences = generation.sentences
        self._prefixes: set[str] | None = None
        self._lock = threading.Lock()

    def dense(self, qvec: np.ndarray, where: Where, depth: int) -> tuple[list[int], np.ndarray]:
        depth = min(depth, where.count)
        if depth < 1:
            return [], np.zeros(0, dtype=np.float32)
        if where.mask.all():
            scores, rows = self.index.search(qvec, depth)
        else:
            import faiss

            sel = faiss.IDSelectorArray(np.flatnonzero(where.mask).astype(np.int64))
            scores, rows = self.index.search(qvec, depth, params=faiss.SearchParameters(sel=sel))
        keep = rows[0] >= 0
        return [int(r) for r in rows[0][keep]], scores[0][keep]

    def lexical(self, terms: list[str], where: Where, depth: int) -> list[int]:
        if self.lexical_index is None:
            return []
        raw = self.lexical_index.scores(terms, len(self.chunks))
        scores = np.where(where.mask, raw, 0.0)
        candidates = np.flatnonzero(scores > 0)
        if len(candidates) > depth:
            candidates = candidates[np.argpartition(-scores[candidates], depth - 1)[:depth]]
        return [int(r) for r in candidates[np.lexsort((candidates, -scores[candidates]))]]

    def vectors(self, rows: list[int]) -> np.ndarray:
        if len(rows) and rows[-1] - rows[0] + 1 == len(rows):  # contiguous: one call
            return self.index.reconstruct_n(int(rows[0]), len(rows)).astype(np.float32)
        return self.generation.vectors([int(r) for r in rows])

    def postings(self, term: str) -> np.ndarray:
        if self.lexical_index is None:
            return np.zeros(0, dtype=np.int64)
        return self.lexical_index.postings(term)

    def knows(self, terms: list[str], prefix: str | None) -> bool | None:
        vocab = getattr(getattr(self.lexical_index, "bm25", None), "vocab_dict", None)
        if not vocab:
            return None
        if any(t in vocab for t in terms):
            return True
        if prefix is None:
            return False
        with self._lock:
            if self._prefixes is None:
                self._prefixes = {t[:MIN_PREFIX] for t in vocab if len(t) >= MIN_PREFIX}
            return prefix in self._prefixes


class FileBackend:
    """The index folder of today: ``CURRENT`` names the live generation."""

    def __init__(self, index_dir: Path) -> None:
        self.index_dir = index_dir

    def live_name(self) -> str | None:
        return current_name(self.index_dir)

    def load(self, fingerprint: str | None) -> FileIndex:
        return FileIndex(load_generation(self.index_dir, fingerprint))

    def __str__(self) -> str:
        return str(self.index_dir)


def open_backend(settings: Settings, index_dir: Path | None = None) -> Backend:
    """PostgreSQL when ``settings.backend`` is set, else the index folder."""
    if settings.uses_postgres:
        from .pgbackend import PgBackend

        return PgBackend(settings.backend)
    return FileBackend(index_dir or settings.index_dir)
