"""The query side of lexical search: a query's terms (each word's stem in
every language, since a query's language is not always known) and the spans
of query terms in a passage, for highlights. The index side (stemming
passages, BM25) is ingest/lexical.py."""

from __future__ import annotations

from collections.abc import Iterable

from ingest.lexical import STEMMERS, stem, words


def query_terms(text: str, langs: Iterable[str] = STEMMERS) -> list[str]:
    """Terms of a query: each word's stem in every language, without repeats."""
    seen: dict[str, None] = {}
    for word, _, _ in words(text):
        seen.setdefault(word, None)
        for lang in langs:
            seen.setdefault(stem(word, lang), None)
    return list(seen)


def term_spans(text: str, lang: str, terms: set[str]) -> list[tuple[int, int]]:
    """Spans of the words in ``text`` whose stem (in ``lang``) is one of ``terms``."""
    return [(s, e) for w, s, e in words(text) if w in terms or stem(w, lang) in terms]
