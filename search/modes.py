"""How a search runs: its retrievers (``SearchMode``) and how much of its
hits it marks (``Highlighting``). Parsed once at the edge (CLI option, URL,
the page's radio) with ``from_str``; the searcher compares members only."""

from __future__ import annotations

from kb.choices import Choice


class SearchMode(Choice):
    DENSE = "dense"  # meaning only: the embedding's nearest passages
    BM25 = "bm25"  # exact words only: BM25 in the query's language
    HYBRID = "hybrid"  # both, fused

    @property
    def dense(self) -> bool:
        return self is not SearchMode.BM25


class Highlighting(Choice):
    NONE = "none"  # no marks (evaluation, benchmarks)
    TERMS = "terms"  # the query's words, and the sentences holding them (no embedding)
    FULL = "full"  # the query's words and each hit's best sentence by embedding
