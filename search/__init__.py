"""Search: load an index once, answer queries with cited hits."""

from .grouping import best_by_language
from .highlight import sentence_spans
from .hits import Highlight, Hit, QueryError, Results, StaleHitError
from .searcher import MODES, Searcher

__all__ = [
    "MODES",
    "Highlight",
    "Hit",
    "QueryError",
    "Results",
    "Searcher",
    "StaleHitError",
    "best_by_language",
    "sentence_spans",
]
