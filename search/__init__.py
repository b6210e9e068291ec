"""Search: load an index once, answer queries with cited hits."""

from .highlight import sentence_spans
from .hits import Highlight, Hit, QueryError, Results, group_by_language
from .searcher import MODES, Searcher

__all__ = [
    "MODES",
    "Highlight",
    "Hit",
    "QueryError",
    "Results",
    "Searcher",
    "group_by_language",
    "sentence_spans",
]
