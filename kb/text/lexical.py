"""Lexical analysis and the BM25 index, for Finnish, Swedish and English.

Words are lower-cased and reduced with the Snowball stemmer of the chunk's
language (PyStemmer); a Finnish word the analyser knows becomes the stems of
its base forms and compound parts instead (kb/text/morphology.py). BM25
scoring is bm25s. A query's language is not known, so each query word
contributes its stem in every supported language and its Finnish terms.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

logger = logging.getLogger(__name__)

# A Finnish word's index terms, by the lower-cased word (kb/text/morphology.py
# makes them at build time); () or absent: a word the analyser does not know,
# whose term is its Snowball stem.
Analyses = Mapping[str, tuple[str, ...]]


@functools.cache
def _bm25s():
    """bm25s, imported once. Its import sets its own logger to DEBUG, which
    printed "Building index from tokens" in the CLI; it now follows the
    application's logging level like every other library."""
    import bm25s

    logging.getLogger("bm25s").setLevel(logging.NOTSET)
    return bm25s


STEMMERS = {"fi": "finnish", "sv": "swedish", "en": "english"}
_WORD = re.compile(r"\w+", re.UNICODE)
BM25_DIR = "bm25"


@functools.cache
def _stemmer(lang: str):
    import Stemmer

    return Stemmer.Stemmer(STEMMERS[lang])


def words(text: str) -> list[tuple[str, int, int]]:
    """(lower-cased word, start, end) for each word of ``text``."""
    return [(m.group().lower(), m.start(), m.end()) for m in _WORD.finditer(text)]


def stem(word: str, lang: str) -> str:
    return _stemmer(lang).stemWord(word) if lang in STEMMERS else word


def doc_terms(text: str, lang: str, analyses: Analyses | None = None) -> list[str]:
    """Index terms of a passage in ``lang``: each word's stem or, for a
    Finnish word in ``analyses``, its base forms and compound parts."""
    tokens = [w for w, _, _ in words(text)]
    if lang not in STEMMERS:
        return tokens
    stems = _stemmer(lang).stemWords(tokens)
    if lang != "fi" or not analyses:
        return stems
    terms: list[str] = []
    for token, stemmed in zip(tokens, stems, strict=True):
        terms.extend(analyses.get(token) or (stemmed,))
    return terms


class LexicalIndex:
    """BM25 over chunk texts, each analysed in its own language."""

    def __init__(self, bm25) -> None:
        self.bm25 = bm25

    @classmethod
    def build(
        cls, texts: Sequence[str], langs: Sequence[str], analyses: Analyses | None = None
    ) -> LexicalIndex:
        bm25s = _bm25s()
        corpus = [
            doc_terms(t, lang, analyses) or [""] for t, lang in zip(texts, langs, strict=True)
        ]
        bm25 = bm25s.BM25()
        if corpus:
            bm25.index(corpus, show_progress=False)
        return cls(bm25)

    def save(self, folder: Path) -> None:
        self.bm25.save(str(folder / BM25_DIR), show_progress=False)

    @classmethod
    def load(cls, folder: Path) -> LexicalIndex:
        bm25s = _bm25s()
        return cls(
            bm25s.BM25.load(str(folder / BM25_DIR), mmap=False, show_progress=False, verbosity=0)
        )

    def scores(
        self, terms: list[str], n: int, weights: Sequence[float] | None = None
    ) -> np.ndarray:
        """BM25 score of every chunk for the query ``terms``; ``weights``:
        each term's share of the score (None: 1 each)."""
        vocab = getattr(self.bm25, "vocab_dict", None) or {}
        known = [t for t in terms if t in vocab]
        if not known:
            return np.zeros(n, dtype=np.float32)
        if weights is None:
            return np.asarray(self.bm25.get_scores(known), dtype=np.float32)
        total = np.zeros(n, dtype=np.float32)
        for term, weight in zip(terms, weights, strict=True):
            if term in vocab:
                total += weight * np.asarray(self.bm25.get_scores([term]), dtype=np.float32)
        return total

    def postings(self, term: str) -> np.ndarray:
        """Rows of the passages whose indexed text holds ``term``: its column
        of BM25's score matrix (every holder scores above zero)."""
        vocab = getattr(self.bm25, "vocab_dict", None) or {}
        tid = vocab.get(term)
        if tid is None:
            return np.zeros(0, dtype=np.int64)
        indptr = self.bm25.scores["indptr"]
        return np.asarray(self.bm25.scores["indices"][indptr[tid] : indptr[tid + 1]])
