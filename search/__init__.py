"""Search: load an index once, answer queries with cited hits."""

from .searcher import Hit, QueryError, Searcher

__all__ = ["Hit", "QueryError", "Searcher"]
