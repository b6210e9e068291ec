"""What a search returns: hits with their citation, highlights, and the
result list's own verdict on whether anything relevant was found."""

from __future__ import annotations

from dataclasses import dataclass, field

from ingest.errors import KBError
from ingest.records import Chunk


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


@dataclass(frozen=True)
class Highlight:
    """A span of a hit's text: a query ``term`` or the ``sentence`` most like the query."""

    start: int
    end: int
    kind: str


@dataclass(frozen=True)
class Hit:
    chunk_id: str
    doc_id: str
    title: str
    lang: str
    kind: str
    group: str
    page: int
    page_label: str
    page_end: int
    page_end_label: str
    section: tuple[str, ...]
    text: str
    score: float
    rank: int
    row: int
    char_start: int
    char_end: int
    dense_rank: int | None = None
    bm25_rank: int | None = None
    highlights: tuple[Highlight, ...] = field(default=())

    @property
    def pages(self) -> str:
        if self.page == self.page_end:
            return self.page_label
        return f"{self.page_label}–{self.page_end_label}"

    @property
    def citation(self) -> str:
        section = f", {self.section[-1]}" if self.section else ""
        return f"{self.title}, p. {self.pages}{section}"


class Results(list):
    """The hits of one search, best first, with the search's verdict:
    ``no_relevant_passage`` is True when nothing cleared the calibrated bar
    (hits may still follow, as the nearest there is); ``section`` is the
    heading key ("80§", "5ch") when the query named a section."""

    no_relevant_passage: bool = False
    section: str | None = None

    def __init__(self, hits=(), no_relevant_passage: bool = False, section: str | None = None):
        super().__init__(hits)
        self.no_relevant_passage = no_relevant_passage
        self.section = section


def hit_from_chunk(
    chunk: Chunk,
    score: float,
    rank: int,
    row: int,
    dense_rank: int | None = None,
    bm25_rank: int | None = None,
) -> Hit:
    return Hit(
        chunk_id=chunk.chunk_id,
        doc_id=chunk.doc_id,
        title=chunk.title,
        lang=chunk.lang,
        kind=chunk.kind,
        group=chunk.group,
        page=chunk.page_start,
        page_label=chunk.label_start,
        page_end=chunk.page_end,
        page_end_label=chunk.label_end,
        section=chunk.section,
        text=chunk.text,
        score=float(score),
        rank=rank,
        row=row,
        char_start=chunk.char_start,
        char_end=chunk.char_end,
        dense_rank=dense_rank,
        bm25_rank=bm25_rank,
    )
