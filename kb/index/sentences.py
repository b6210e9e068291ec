"""Sentences and their vectors, embedded at build time.

The page marks one best sentence per result card. Where no query word
picks it (a passage in another language), the sentence nearest the query
by embedding does. Embedding those sentences at query time cost about
200 ms per search, so a build embeds the sentences of every passage once
(``passage:`` prompt, as the highlighter did) and stores them beside the
passage vectors; a search then only takes dot products.

The sentences are those of kb/text/sentences.py, the one splitter the
build and the page share.

Layout inside a generation folder::

    sentences/vectors.npy   float16 (sentences, dim), memory-mapped on load
    sentences/spans.npy     int32 (sentences, 2): (start, end) in chunk.text
    sentences/offsets.npy   int64 (chunks + 1): chunk i owns rows
                            offsets[i]:offsets[i + 1]

Only passages of two sentences or more have rows: a passage of one
sentence has no choice to make.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kb.model.embedder import Embedder
from kb.records import Chunk
from kb.text.sentences import Span, choice_spans

logger = logging.getLogger(__name__)

SENTENCES_DIR = "sentences"
VECTORS_FILE, SPANS_FILE, OFFSETS_FILE = "vectors.npy", "spans.npy", "offsets.npy"


@dataclass(frozen=True)
class SentenceVectors:
    """The stored sentence vectors of one generation, row-aligned with its
    chunks through ``offsets``."""

    vectors: np.ndarray  # (sentences, dim) float16
    spans: np.ndarray  # (sentences, 2) int32
    offsets: np.ndarray  # (chunks + 1,) int64

    @property
    def chunks(self) -> int:
        return len(self.offsets) - 1

    def spans_of(self, row: int) -> list[Span]:
        a, b = int(self.offsets[row]), int(self.offsets[row + 1])
        return [(int(s), int(e)) for s, e in self.spans[a:b]]

    def matching(self, row: int, spans: Sequence[Span]) -> np.ndarray | None:
        """Chunk ``row``'s sentence vectors (float32) when they were stored
        for exactly ``spans``; None otherwise (another split, or no row)."""
        if not 0 <= row < self.chunks or not spans:
            return None
        if self.spans_of(row) != [tuple(s) for s in spans]:
            return None
        a, b = int(self.offsets[row]), int(self.offsets[row + 1])
        return np.asarray(self.vectors[a:b], dtype=np.float32)

    def take(self, rows: Sequence[int]) -> SentenceVectors:
        """The sentence vectors of chunks ``rows``, in that order."""
        pieces = [(int(self.offsets[r]), int(self.offsets[r + 1])) for r in rows]
        index = np.concatenate([np.arange(a, b) for a, b in pieces] or [np.zeros(0, np.int64)])
        sizes = np.array([b - a for a, b in pieces], dtype=np.int64)
        return SentenceVectors(
            np.asarray(self.vectors[index], dtype=np.float16),
            np.asarray(self.spans[index], dtype=np.int32).reshape(-1, 2),
            np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64),
        )

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        np.save(folder / VECTORS_FILE, np.ascontiguousarray(self.vectors, dtype=np.float16))
        np.save(folder / SPANS_FILE, np.ascontiguousarray(self.spans, dtype=np.int32))
        np.save(folder / OFFSETS_FILE, np.ascontiguousarray(self.offsets, dtype=np.int64))


class SentencesUnreadable(ValueError):
    """The sentences/ folder of a generation does not fit its chunks."""


def load_sentences(gen_dir: Path, chunks: int, dim: int) -> SentenceVectors | None:
    """The generation's sentence vectors, memory-mapped (they add no
    resident memory until a search reads a chunk's rows); None for a
    generation built before they were stored. Raises SentencesUnreadable
    when the files do not agree with each other or with the chunks."""
    folder = gen_dir / SENTENCES_DIR
    if not folder.is_dir():
        return None
    try:
        vectors = np.load(folder / VECTORS_FILE, mmap_mode="r")
        spans = np.load(folder / SPANS_FILE)
        offsets = np.load(folder / OFFSETS_FILE)
    except (OSError, ValueError) as exc:
        raise SentencesUnreadable(f"{SENTENCES_DIR}/ is unreadable ({exc})") from exc
    n = len(vectors)
    if (
        vectors.ndim != 2
        or (n and vectors.shape[1] != dim)
        or spans.shape != (n, 2)
        or offsets.shape != (chunks + 1,)
        or offsets[0] != 0
        or offsets[-1] != n
        or np.any(np.diff(offsets) < 0)
    ):
        raise SentencesUnreadable(
            f"{SENTENCES_DIR}/ holds {n} sentences for {len(offsets) - 1} chunks, "
            f"the generation has {chunks} chunks of {dim} dimensions"
        )
    return SentenceVectors(vectors, spans, offsets)


def build_sentences(
    chunks: Sequence[Chunk],
    get_embedder: Callable[[], Embedder],
    previous: SentenceVectors | None = None,
    previous_chunks: Sequence[Chunk] = (),
    progress: Callable[[int, int], None] | None = None,
) -> SentenceVectors:
    """The sentence vectors of ``chunks``. A chunk whose text and section
    path the previous generation held, split the same way, keeps its
    vectors; the rest are embedded, each distinct sentence once (chunks
    overlap, so many sentences occur twice). The embedder is loaded only
    when something is left to embed."""
    known: dict[tuple[str, tuple[str, ...]], int] = {}
    if previous is not None and previous.chunks == len(previous_chunks):
        known = {(c.text, c.section): r for r, c in enumerate(previous_chunks)}
    plans: list[tuple[list[Span], np.ndarray | int | None]] = []
    todo: dict[str, int] = {}  # sentence text -> position among those to embed
    for c in chunks:
        spans = choice_spans(c)
        if not spans:
            plans.append((spans, None))
            continue
        row = known.get((c.text, c.section))
        kept = previous.matching(row, spans) if row is not None else None
        if kept is not None:
            plans.append((spans, kept))
            continue
        for s, e in spans:
            todo.setdefault(c.text[s:e], len(todo))
        plans.append((spans, len(todo)))  # a marker: embed this chunk's sentences
    fresh = _embed(list(todo), get_embedder, progress) if todo else None
    vectors, all_spans, sizes = [], [], []
    for c, (spans, source) in zip(chunks, plans, strict=True):
        sizes.append(len(spans))
        all_spans.extend(spans)
        if isinstance(source, np.ndarray):
            vectors.append(source.astype(np.float16))
        elif source is not None:
            vectors.append(fresh[[todo[c.text[s:e]] for s, e in spans]])
    dim = next((v.shape[1] for v in vectors), 0)
    logger.info("sentence vectors: %d stored, %d embedded", len(all_spans), len(todo))
    return SentenceVectors(
        np.vstack(vectors) if vectors else np.zeros((0, dim), np.float16),
        np.array(all_spans, dtype=np.int32).reshape(-1, 2),
        np.concatenate([[0], np.cumsum(sizes, dtype=np.int64)]).astype(np.int64),
    )


def _embed(
    texts: list[str],
    get_embedder: Callable[[], Embedder],
    progress: Callable[[int, int], None] | None,
) -> np.ndarray:
    done = 0
    if progress:  # the stage starts: its total is known now
        progress(0, len(texts))

    def tick(n: int) -> None:
        nonlocal done
        done += n
        if progress:
            progress(done, len(texts))

    return get_embedder().embed_passages(texts, progress=tick).astype(np.float16)
