"""What a search backend answers, and the protocol both backends follow.

A backend names its live generation and loads it as a ``SearchIndex``: one
generation, read from start to end by every search that uses it. The index
answers what the stages above it cannot compute themselves: dense
neighbours and lexical matches within a filter, vectors by row, and what
its vocabulary holds. Rows are the positions of the generation's chunk
records, which it hands over whole (the view builds its columns from them).
Fusion, language versions, sections, relevance and highlighting stay above,
shared by both backends; ``folder.py`` and ``postgres.py`` are the two.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from kb.index.manifest import Manifest
from kb.records import Chunk

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
    manifest: Manifest
    chunks: list[Chunk]
    sentences: object | None  # kb.index.sentences.SentenceVectors; None: not stored
    has_analyses: bool  # whether the build stored Finnish analyses (kb/text/morphology.py)
    # whether its queries wait on a server (a search then runs its
    # retrievers' queries at once, search/retrieval.py run_all)
    remote: bool

    def dense(self, qvec: np.ndarray, where: Where, depth: int) -> tuple[list[int], np.ndarray]:
        """(rows best first, their cosines) among the allowed rows."""

    def lexical(
        self, terms: list[str], where: Where, depth: int, weights: list[float] | None = None
    ) -> list[int]:
        """Rows best first by BM25 for the query ``terms``, positive scores
        only; ``weights``: each term's share of the score (None: 1 each)."""

    def vectors(self, rows: list[int]) -> np.ndarray: ...

    def holding(self, term: str, where: Where) -> int:
        """How many of the rows ``where`` allows hold the index term ``term``
        (counted where the rows are: a common term at a million passages
        is hundreds of thousands of rows)."""

    def finnish(self, words: Iterable[str]) -> dict[str, tuple[str, ...]]:
        """The index terms of those of ``words`` the build analysed as
        Finnish (kb/text/morphology.py); the other words keep their stems."""

    def knows(self, terms: list[str], prefix: str | None) -> bool | None:
        """Whether the vocabulary holds one of ``terms`` or a term starting
        with ``prefix``; None when there is no vocabulary to judge by."""


class Backend(Protocol):
    def live_name(self) -> str | None: ...
    def load(self, fingerprint: str | None) -> SearchIndex: ...
