"""Load an index once and answer queries with cited hits."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ingest.embed import Embedder, load_embedder, resolve_model
from ingest.errors import KBError
from ingest.records import Chunk
from ingest.settings import Settings, load_settings
from ingest.store import Generation, load_generation

logger = logging.getLogger(__name__)

MAX_QUERY_CHARS = 2000


class QueryError(KBError):
    """The query or its filters cannot be searched; the message says why."""


@dataclass(frozen=True)
class Hit:
    chunk_id: str
    doc_id: str
    title: str
    lang: str
    kind: str
    page: int
    page_label: str
    page_end: int
    section: tuple[str, ...]
    text: str
    score: float
    rank: int
    highlights: tuple[tuple[int, int], ...] = field(default=())

    @property
    def citation(self) -> str:
        pages = self.page_label if self.page == self.page_end else f"{self.page_label}–"
        section = f", {self.section[-1]}" if self.section else ""
        return f"{self.title}, p. {pages}{section}"


def _hit(chunk: Chunk, score: float, rank: int) -> Hit:
    return Hit(
        chunk.chunk_id,
        chunk.doc_id,
        chunk.title,
        chunk.lang,
        chunk.kind,
        chunk.page_start,
        chunk.label_start,
        chunk.page_end,
        chunk.section,
        chunk.text,
        float(score),
        rank,
    )


class Searcher:
    def __init__(self, generation: Generation, embedder: Embedder) -> None:
        self.generation = generation
        self.embedder = embedder
        self.chunks = generation.chunks
        self._langs = np.array([c.lang for c in self.chunks])
        self._docs = np.array([c.doc_id for c in self.chunks])
        self._kinds = np.array([c.kind for c in self.chunks])

    @classmethod
    def load(
        cls,
        index_dir: Path | None = None,
        settings: Settings | None = None,
        embedder: Embedder | None = None,
    ) -> Searcher:
        settings = settings or load_settings()
        index_dir = index_dir or settings.index_dir
        if embedder is None:
            _, _, fingerprint = resolve_model(settings)
            generation = load_generation(index_dir, fingerprint)
            embedder = load_embedder(settings)
        else:
            generation = load_generation(index_dir, embedder.fingerprint)
        return cls(generation, embedder)

    @property
    def languages(self) -> list[str]:
        return sorted(set(self._langs.tolist()))

    @property
    def documents(self) -> list[str]:
        return sorted(set(self._docs.tolist()))

    def _check(self, query: str, languages, docs, kinds) -> None:
        if not query or not query.strip():
            raise QueryError("the query is empty")
        if len(query) > MAX_QUERY_CHARS:
            raise QueryError(
                f"the query is {len(query)} characters; the limit is {MAX_QUERY_CHARS}"
            )
        for name, values, known in (
            ("language", languages, self.languages),
            ("document", docs, self.documents),
            ("kind", kinds, sorted(set(self._kinds.tolist()))),
        ):
            unknown = sorted(set(values or ()) - set(known))
            if unknown:
                raise QueryError(
                    f"unknown {name} {', '.join(unknown)}; the index has "
                    f"{', '.join(known) or 'none'}"
                )

    def search(self, query: str, k: int = 10, languages=None, docs=None, kinds=None) -> list[Hit]:
        self._check(query, languages, docs, kinds)
        n = len(self.chunks)
        if n == 0:
            return []
        mask = np.ones(n, dtype=bool)
        if languages:
            mask &= np.isin(self._langs, list(languages))
        if docs:
            mask &= np.isin(self._docs, list(docs))
        if kinds:
            mask &= np.isin(self._kinds, list(kinds))
        q = self.embedder.embed_queries([query.strip()])
        if mask.all():
            scores, rows = self.generation.index.search(q, min(k, n))
            pairs = [(int(r), float(s)) for r, s in zip(rows[0], scores[0], strict=True) if r >= 0]
        else:
            import faiss

            allowed = np.flatnonzero(mask).astype(np.int64)
            params = faiss.SearchParameters(sel=faiss.IDSelectorArray(allowed))
            scores, rows = self.generation.index.search(q, min(k, len(allowed)), params=params)
            pairs = [(int(r), float(s)) for r, s in zip(rows[0], scores[0], strict=True) if r >= 0]
        return [_hit(self.chunks[r], s, i + 1) for i, (r, s) in enumerate(pairs)]
