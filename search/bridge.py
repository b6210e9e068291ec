"""The lexical bridge: a query's words translated through bilingual
dictionaries (kb/text/dictionaries.py) into the index's other languages, as
BM25 queries there. An English question has no English document to match
words in; through the bridge "procurement threshold" also asks the Finnish
passages for "hankinta kynnysarvo" and the Swedish ones for "upphandling
tröskelvärde".

A translated term's weight is the share of its source word's translations
that it stands for (1/n for a word with n translations), so that a word with
one sure translation counts more than a word with twenty senses. Where no
dictionary is installed there is no bridge and search is as before.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Mapping

from kb.text import dictionaries
from kb.text.lexical import stem, words
from search.terms import function_words

logger = logging.getLogger(__name__)

# The index's Finnish analyses of some words (SearchIndex.finnish)
Lookup = Callable[[Iterable[str]], Mapping[str, tuple[str, ...]]]

# The bridge lists' weight in hybrid rank fusion, against 1 for the dense
# list (2 where BM25 cannot look, as for every row under an English query) and
# the BM25 list; in BM25 mode, against 1 for the plain BM25 list. Chosen on
# the held-out dev half (docs/quality.md, "Retrieval III"): hybrid 0.5 (0.25,
# 0.75, 1 and 2 no better), BM25 mode 1.
BRIDGE_WEIGHT = 0.5
BM25_MODE_WEIGHT = 1.0
# Source languages whose queries take the bridge: English alone, which has no
# document of its own to match words in. Finnish and Swedish questions bridged
# into each other's version gained nothing at 0.5 and lost at 1 (dev half).
BRIDGE_FROM = ("en",)
# English to Swedish also through Finnish (English → Finnish → Swedish): the
# English–Swedish dictionary is small (about 4,500 headwords).
PIVOT = True
MIN_WORD = 3
# Question and modal words that bm25s's English list lacks: "may" is not
# "maj" (May), "what" not "kuinka".
_ENGLISH = (
    "what when where which who whom whose why how may might can could must shall should "
    "would will does did done has have had also any some there their they them its"
)


def read_by(source: str, target: str) -> list[tuple[str, str]]:
    """The dictionaries that translating from ``source`` into ``target``
    reads: its own, and through Finnish for English to Swedish."""
    if PIVOT and (source, target) == ("en", "sv"):
        return [(source, target), (source, "fi"), ("fi", target)]
    return [(source, target)]


def translations(word: str, source: str, target: str) -> list[tuple[str, ...]]:
    """A lower-cased word's translations from ``source`` into ``target``."""
    found = list(dictionaries.lookup(word, source, target))
    if len(read_by(source, target)) > 1:  # the pivot: English → Finnish → Swedish
        for phrase in dictionaries.lookup(word, source, "fi"):
            if len(phrase) == 1:
                found += [p for p in dictionaries.lookup(phrase[0], "fi", target) if p not in found]
    return found


def pairs(languages: list[str]) -> list[tuple[str, str]]:
    """The dictionaries that questions may be bridged through into
    ``languages``."""
    read = [
        pair
        for source in BRIDGE_FROM
        for target in targets(source, languages)
        for pair in read_by(source, target)
    ]
    return list(dict.fromkeys(read))


def warm(languages: list[str]) -> threading.Thread:
    """Read those dictionaries in a background thread (about a second
    each), so that the first English question a page process is asked does
    not wait for them; a search that needs one meanwhile waits for it."""

    def read() -> None:
        for source, target in pairs(languages):
            dictionaries.table(source, target)

    thread = threading.Thread(target=read, name="bridge-dictionaries", daemon=True)
    thread.start()
    return thread


def bridged_terms(
    query: str, source: str, target: str, finnish: Lookup | None = None
) -> dict[str, float]:
    """{index term in ``target``: weight} for ``query`` in ``source``: each
    content word's translations, analysed as ``target``'s passages are (for
    Finnish, the index's analyses from ``finnish``: base forms and compound
    parts), a term's weight 1/n for a word of n translations (summed over
    words)."""
    skip = function_words() | frozenset(_ENGLISH.split())
    found = {
        word: translations(word, source, target)
        for word, _, _ in words(query)
        if word not in skip and len(word) >= MIN_WORD and not word.isdigit()
    }
    translated = {w for phrases in found.values() for p in phrases for w in p}
    analyses = finnish(translated) if finnish and target == "fi" and translated else {}
    terms: dict[str, float] = {}
    for phrases in found.values():
        for phrase in phrases:
            for w in phrase:
                if w in skip:
                    continue
                for term in analyses.get(w) or (stem(w, target),):
                    if len(term) >= MIN_WORD:
                        terms[term] = terms.get(term, 0.0) + 1.0 / len(phrases)
    return terms


def targets(source: str | None, languages: list[str]) -> list[str]:
    """The index languages a query in ``source`` is bridged into."""
    if source is None or source not in BRIDGE_FROM:
        return []
    return [
        lang for lang in languages if lang != source and (source, lang) in dictionaries.FREEDICT
    ]
