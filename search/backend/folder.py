"""The embedded backend: a generation of the index folder, searched with
FAISS (exact inner product) and bm25s."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np

from kb.index.folder import Generation, current_name, load_generation
from search.backend.base import MIN_PREFIX, Where


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
        self.has_analyses = bool(generation.analyses)
        self.remote = False  # in this process: one retriever after the other
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

    def lexical(
        self, terms: list[str], where: Where, depth: int, weights: list[float] | None = None
    ) -> list[int]:
        if self.lexical_index is None:
            return []
        raw = self.lexical_index.scores(terms, len(self.chunks), weights)
        scores = np.where(where.mask, raw, 0.0)
        candidates = np.flatnonzero(scores > 0)
        if len(candidates) > depth:
            candidates = candidates[np.argpartition(-scores[candidates], depth - 1)[:depth]]
        return [int(r) for r in candidates[np.lexsort((candidates, -scores[candidates]))]]

    def vectors(self, rows: list[int]) -> np.ndarray:
        if len(rows) and rows[-1] - rows[0] + 1 == len(rows):  # contiguous: one call
            return self.index.reconstruct_n(int(rows[0]), len(rows)).astype(np.float32)
        return self.generation.vectors([int(r) for r in rows])

    def holding(self, term: str, where: Where) -> int:
        if self.lexical_index is None:
            return 0
        rows = self.lexical_index.postings(term)
        return int(np.count_nonzero(where.mask[rows])) if len(rows) else 0

    def finnish(self, words) -> dict[str, tuple[str, ...]]:
        analyses = self.generation.analyses
        return {w: analyses[w] for w in set(words) if analyses.get(w)}

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
