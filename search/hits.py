"""What a search returns: hits with their citation, highlights, and the
result list's own verdict on whether anything relevant was found."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, fields

from kb.choices import Choice
from kb.errors import KBError
from kb.records import Chunk


class QueryError(KBError):
    """The query or its filters cannot be searched; the message says why."""


class StaleHitError(QueryError):
    """A hit of an index generation that a rebuild has since replaced, and
    whose passage the live one no longer holds as it was: search again."""


class QueryTooLongError(QueryError):
    """The query is longer than the searcher takes; the page says so in its
    language from ``length`` and ``limit``."""

    def __init__(self, length: int, limit: int) -> None:
        super().__init__(f"the query is {length} characters; the limit is {limit}")
        self.length, self.limit = length, limit


class HighlightKind(Choice):
    TERM = "term"  # a query word (stem-aware)
    SENTENCE = "sentence"  # the sentence most like the query


@dataclass(frozen=True)
class Highlight:
    """A span of a hit's text: a query term or the sentence most like the query."""

    start: int
    end: int
    kind: HighlightKind

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", HighlightKind.from_str(self.kind))


_CHUNK_FIELDS = frozenset(f.name for f in fields(Chunk))


@dataclass(frozen=True)
class Hit:
    """One result: it points at its passage (``chunk``, whose fields it reads
    through: ``hit.title``, ``hit.section``, ``hit.page_start``...) and adds
    what the search found out about it."""

    chunk: Chunk
    score: float
    rank: int
    row: int
    dense_rank: int | None = None
    bm25_rank: int | None = None
    highlights: tuple[Highlight, ...] = field(default=())

    def __getattr__(self, name: str):
        if name in _CHUNK_FIELDS:
            return getattr(self.chunk, name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    @property
    def pages(self) -> str:
        """The printed page label, or its range ("12–13")."""
        c = self.chunk
        if c.page_start == c.page_end:
            return c.label_start
        return f"{c.label_start}–{c.label_end}"


@dataclass
class Results:
    """The hits of one search, best first, with the search's verdict:
    ``no_relevant_passage`` is True when nothing cleared the calibrated bar
    (hits may still follow, as the nearest there is); ``section`` is the
    heading key ("80§", "5ch") when the query named a section. Iterates,
    indexes and counts as its list of hits."""

    hits: list[Hit] = field(default_factory=list)
    no_relevant_passage: bool = False
    section: str | None = None

    def __iter__(self) -> Iterator[Hit]:
        return iter(self.hits)

    def __len__(self) -> int:
        return len(self.hits)

    def __getitem__(self, i):
        return self.hits[i]

    def __bool__(self) -> bool:
        return bool(self.hits)

    def with_hits(self, hits: list[Hit]) -> Results:
        """The same verdict over other hits (the same hits re-highlighted)."""
        return Results(list(hits), self.no_relevant_passage, self.section)


def hit_from_chunk(
    chunk: Chunk,
    score: float,
    rank: int,
    row: int,
    dense_rank: int | None = None,
    bm25_rank: int | None = None,
) -> Hit:
    return Hit(chunk, float(score), rank, row, dense_rank, bm25_rank)
