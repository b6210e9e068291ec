"""The "no relevant passage" verdict: a search found nothing relevant,
whatever hits it still lists, when

- the query has no letters or digits at all (emoji, punctuation), or is
  not made of words: markup (``<script>``), a template placeholder
  (``{{7*7}}``, ``${jndi:…}``), a path out of a folder (``../../etc``), or
  mostly symbols (``' OR 1=1 --``): no one asks a question that way, and
  the nearest passages would be noise;
- it names something the corpus never mentions: a proper name or a year
  that no passage holds, in any of the stemmers' forms nor as the start of
  a longer word ("Tampereen", "Vasa 2023", "Estonia"); names of languages
  and their countries are never unknown ("a Finnish agency", "in
  English?"), nor are runs of capitalised words and acronyms ("the Market
  Court", "EU Ecolabel"), which other languages name in their own words,
  nor acronyms (see ``names``);
- or its best passage is not close enough by the dense retriever's cosine:
  below the model's bar (kb/model/bars.py), a higher one when the query's
  language is among the index's (the passages in its own language are
  there to be found) than otherwise (cross-language cosines run lower).

The bars catch off-topic and nonsense queries; the unknown names catch the
domain-adjacent ones, whose best cosines lie among the answerable ones'.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from kb.model.bars import BASE_BARS, CosineBars

_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)
_YEAR = re.compile(r"(?:19|20)\d\d")
_SENTENCE_END = re.compile(r"[.!?:]\s*$")
# Markup tags (also entity- or URL-encoded), template placeholders ({{ }},
# ${ }, %{ }, {% %}, [[ ]]), paths out of a folder, absolute paths (/etc/…,
# ~/…, C:\\…, file://; not the path of an address, "vm.fi/hankinnat/").
_NOT_WORDS = re.compile(
    r"</?[A-Za-z][\w:-]*(?:\s[^<>]*)?/?>|&(?:lt|gt|#\d+);|%3[cC]|\{\{|\$\{|%\{|\{%|\[\["
    r"|\.\.[/\\]|(?<![\w.:/])(?:~?/|[A-Za-z]:\\)[\w.-]+[/\\]|\bfile:/"
)
# Control characters (NUL, ESC, C1) and bidirectional overrides: typed by no
# one who asks a question; tab, newline and carriage return are spaces.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
# A query needs a word of 2 to MAX_WORD characters: "x" or a pasted run of
# letters is not a question (the Act's longest Finnish compounds have about
# 35 letters; words in scripts written without spaces are not held to it).
MAX_WORD = 40
# How a question names the languages an index can hold or their countries,
# inflected too ("suomeksi", "ruotsinkielinen", "Englanniksi", "Finlands"),
# but not the places and names that start like them ("Suomussalmi",
# "Ruotsinpyhtää", "Finnair").
_LANGUAGE_WORD = re.compile(
    r"finnish|finlands?|finns?|finsk\w*|suomi|suome\w*|suomalai\w*"
    r"|swedish|swedes?|sweden|sveriges?|svensk\w*"
    r"|ruotsi(?:a|n|ksi|ssa|sta|in)?|ruotsinkieli\w*|ruotsalai\w*"
    r"|english|englanti|englanni\w*|engelsk\w*",
    re.IGNORECASE,
)


def name_groups(query: str, lang: str | None = None) -> list[list[str]]:
    """The names in ``query``, each a list of words: a capitalised word
    that does not open a sentence, or a year; in a Finnish or Swedish
    question, a run of capitalised words too ("Sanna Marin"). Acronyms are
    not names: they name bodies, standards and forms (KKV, ESPD, ISO, CEO,
    VAT) that the documents spell out in their own words as often as things
    they never mention (LOU)."""
    if query.isupper():  # typed in capitals: nothing stands out
        return []
    tokens = [(m.group(), m.start()) for m in _TOKEN.finditer(query)]
    opens = [start == 0 or bool(_SENTENCE_END.search(query[:start])) for _, start in tokens]
    acronym = [w.isupper() and w.isalpha() for w, _ in tokens]
    capital = [
        w[0].isupper() and not a and not o
        for (w, _), a, o in zip(tokens, acronym, opens, strict=True)
    ]
    # A run of capitalised words or acronyms ("Market Court", "European
    # Single Procurement Document", "EU Ecolabel") names an institution or a
    # term, which the documents' languages name in their own words: not a
    # sign. Finnish and Swedish capitalise only an institution's first word
    # ("Markkinaoikeus", "Europeiska unionen"): there a run of capitalised
    # words is one name, a person's or a place's ("Sanna Marin", "Business
    # Finland"), and only an acronym beside a word exempts it.
    nordic = lang in ("fi", "sv")
    upper = acronym if nordic else [c or a for c, a in zip(capital, acronym, strict=True)]
    groups: list[list[str]] = []
    last = -2  # the token index of the last capitalised name word
    for i, (word, _) in enumerate(tokens):
        if len(word) < 2:
            continue
        run = (i > 0 and upper[i - 1]) or (i + 1 < len(tokens) and upper[i + 1])
        if _YEAR.fullmatch(word):
            groups.append([word])
        elif capital[i] and not run:
            if nordic and last == i - 1:
                groups[-1].append(word)
            else:
                groups.append([word])
            last = i
    return groups


def names(query: str, lang: str | None = None) -> list[str]:
    """The words of ``query`` that name something (``name_groups``)."""
    return [w for group in name_groups(query, lang) for w in group]


def unknown_names(query: str, known: Callable[[str], bool], lang: str | None = None) -> list[str]:
    """The names in ``query`` (in ``lang``, when known) that ``known`` (the
    index's vocabulary) does not hold, the names of languages and their
    countries aside ("available in English?", "a Finnish agency"). A name of
    several words is unknown when none of them is known ("Sanna Marin", but
    not "Business Finland" or "Svenska Kraftnät")."""
    out = []
    for group in name_groups(query, lang):
        unknown = [w for w in group if not _LANGUAGE_WORD.fullmatch(w) and not known(w.lower())]
        if len(unknown) == len(group):
            out.extend(unknown)
    return out


def made_of_words(query: str) -> bool:
    """False for markup (also encoded), template placeholders, paths out of
    a folder and absolute paths (``_NOT_WORDS``), queries without a word of
    2 to ``MAX_WORD`` characters ("x"), and queries no more than half of
    whose characters (spaces aside) are letters or digits ("' OR 1=1 --";
    emoji and punctuation alone, with none); "80 §", "2014/24/EU" and
    "€ 60 000" are words. A control character (a NUL byte) makes any query
    not made of words."""
    if _NOT_WORDS.search(query) or _CONTROL.search(query):
        return False
    if not any(2 <= len(w) <= MAX_WORD or not w.isascii() for w in _TOKEN.findall(query)):
        return False  # "x", "xxxx…": no word a question is made of
    chars = [c for c in query if not c.isspace()]
    return sum(c.isalnum() for c in chars) * 2 > len(chars)


def not_a_question_here(query: str, unknown: Iterable[str] = ()) -> bool:
    """The verdict's part that needs no retrieval: the query is not made of
    words, or names something the index does not know (``unknown``). A
    search that names a section is judged by this alone."""
    return not made_of_words(query) or any(True for _ in unknown)


def no_relevant_passage(
    query: str,
    top_cosine: float | None,
    lexical_match: bool,
    home: bool = True,
    unknown: Iterable[str] = (),
    bars: CosineBars | None = None,
) -> bool:
    """The verdict; ``home``: the query's language is one of the index's;
    ``unknown``: the names of the query the index does not know; ``bars``:
    the model's (an adapted model's), else the base model's."""
    if not_a_question_here(query, unknown):
        return True
    if top_cosine is None:  # BM25 alone: relevant when any word matched
        return not lexical_match
    return top_cosine < (bars or BASE_BARS).bar(home)
