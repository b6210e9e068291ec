"""The query side of lexical search: a query's terms (each word's stem in
every language, since a query's language is not always known) and the spans
of query terms in a passage, for highlights. The index side (stemming
passages, BM25) is kb/text/lexical.py."""

from __future__ import annotations

import functools
from collections.abc import Iterable

from kb.text.lexical import STEMMERS, Analyses, stem, words


def query_terms(
    text: str, langs: Iterable[str] = STEMMERS, analyses: Analyses | None = None
) -> list[str]:
    """Terms of a query: each word's stem in every language and, for a word
    in ``analyses`` (the index's Finnish words: kb/text/morphology.py), its
    Finnish base forms and compound parts, without repeats."""
    langs = tuple(langs)
    seen: dict[str, None] = {}
    for word, _, _ in words(text):
        seen.setdefault(word, None)
        for lang in langs:
            seen.setdefault(stem(word, lang), None)
        if analyses and "fi" in langs:
            for term in analyses.get(word, ()):
                seen.setdefault(term, None)
    return list(seen)


# Question and function words a query is made of that say nothing about
# what it asks (Finnish by hand; Swedish and English from bm25s's lists):
# never marked, never what chooses a best sentence.
_FINNISH = (
    "mikä mitä mitkä mistä mihin missä miten milloin miksi kuka ketkä kenen kenelle "
    "onko ovatko voiko saako pitääkö ja tai sekä on ovat oli ei eivät voi voidaan "
    "tulee pitää se ne sen niiden tämä nämä tämän kun jos että kuin"
)


@functools.cache
def function_words() -> frozenset[str]:
    from bm25s.stopwords import STOPWORDS_EN, STOPWORDS_SWEDISH

    return frozenset(_FINNISH.split()) | frozenset(STOPWORDS_EN) | frozenset(STOPWORDS_SWEDISH)


def content_terms(text: str, analyses: Analyses | None = None) -> set[str]:
    """The query's terms (as query_terms) without its question and function
    words, and without words of one or two letters."""
    skip = function_words()
    kept = " ".join(w for w, _, _ in words(text) if w not in skip and len(w) > 2)
    return {t for t in query_terms(kept, analyses=analyses) if len(t) > 2}


def term_spans(
    text: str, lang: str, terms: set[str], analyses: Analyses | None = None
) -> list[tuple[int, int]]:
    """Spans of the words in ``text`` whose stem (in ``lang``), or for a
    Finnish word in ``analyses`` a base form or compound part, is one of
    ``terms``."""
    finnish = analyses if lang == "fi" and analyses else {}
    return [
        (s, e)
        for w, s, e in words(text)
        if w in terms or stem(w, lang) in terms or not terms.isdisjoint(finnish.get(w, ()))
    ]
