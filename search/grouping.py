"""Group by language: the best hits of each language, each language searched
on its own (a list ranked once and regrouped mostly shows one language: the
query's own, which BM25 and the dense cosine both favour)."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from search.hits import Hit, Results

MIN_PER_LANGUAGE = 3


def per_language_k(k: int, languages: int) -> int:
    """How many hits each language shows: the page's ``k`` shared among the
    languages, at least MIN_PER_LANGUAGE each (never more than ``k``)."""
    return min(k, max(MIN_PER_LANGUAGE, math.ceil(k / max(languages, 1))))


def best_by_language(
    search: Callable[[str, int], Results],
    languages: Sequence[str],
    k: int,
    ranked: Sequence[Hit] = (),
) -> dict[str, Results]:
    """{language: its own best hits} for each of ``languages`` that has any.
    ``search(lang, k)`` runs one search restricted to ``lang``. Languages
    come in the order of their first hit in ``ranked`` (the search over all
    languages), the others after them in the given order."""
    each = per_language_k(k, len(languages))
    first = {}
    for hit in ranked:
        first.setdefault(hit.lang, len(first))
    order = sorted(languages, key=lambda lang: first.get(lang, len(first)))
    found = {lang: search(lang, each) for lang in order}
    return {lang: hits for lang, hits in found.items() if hits}
