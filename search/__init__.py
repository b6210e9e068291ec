"""Search: load an index once, answer queries with cited hits."""

from .searcher import (
    MODES,
    Highlight,
    Hit,
    QueryError,
    Searcher,
    group_by_language,
    sentence_spans,
)

__all__ = [
    "MODES",
    "Highlight",
    "Hit",
    "QueryError",
    "Searcher",
    "group_by_language",
    "sentence_spans",
]
