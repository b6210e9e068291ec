"""Search: load an index once, answer queries with cited hits."""

from search.grouping import best_by_language
from search.highlight import sentence_spans
from search.hits import Highlight, Hit, QueryError, Results, StaleHitError
from search.modes import Highlighting, SearchMode
from search.searcher import Searcher

__all__ = [
    "Highlight",
    "Hit",
    "QueryError",
    "Highlighting",
    "Results",
    "SearchMode",
    "Searcher",
    "StaleHitError",
    "best_by_language",
    "sentence_spans",
]
