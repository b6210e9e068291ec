"""What a numbered heading is, in one place: statute parts, chapters
("3 luku", "3 kap.", "chapter 3"), sections ("38 §", "38 a §") and "3.2"-style
headings. Ingest finds headings with these patterns (structure.py); search
uses the same grammar to key headings across language versions and to read
a section number in a query ("80 §", "§ 80", "80 pykälä", "section 80",
"5 luku", "5 kap.").
"""

from __future__ import annotations

import re

UPPER = "A-ZÅÄÖÜÉ"
# Line-level patterns of the heading finder (a title must follow the number).
PART = re.compile(
    rf"^(\d{{1,2}}|[IVX]{{1,5}})\s+(?:osa|avdelning|part)\b\.?\s*([{UPPER}].*)?$", re.I
)
CHAPTER = re.compile(rf"^(\d{{1,3}}\s?[a-z]?)\s+(?:luku|kap\.|kapitlet|chapter)\s+([{UPPER}].*)$")
SECTION = re.compile(rf"^(\d{{1,4}})\s?([a-z]?)\s?§\s+([{UPPER}].*)$")
NUMBERED = re.compile(rf"^(\d{{1,2}}(?:\.\d{{1,2}}){{0,3}})\.?\s+([{UPPER}][^\n]*)$")

# The start of any numbered heading, for its language-independent key.
_KEYED = re.compile(
    r"^(\d+(?:\.\d+)*)\s?([a-z](?=\s?§))?\s?(§|luku\b|kap\.|kapitlet\b|chapter\b|osa\b|avdelning\b)?",
    re.IGNORECASE,
)
_UNIT = {
    "luku": "ch",
    "kap.": "ch",
    "kapitlet": "ch",
    "chapter": "ch",
    "osa": "part",
    "avdelning": "part",
    "§": "§",
}

# A query that names a section or chapter, in fi, sv or en.
_SECTION_WORDS = r"§|pykälä\w*|pyk\.|paragraf\w*|section|sec\.|artikla\w*"
_CHAPTER_WORDS = r"luku|luvu\w*|kap\.?|kapitel|kapitl\w*|chapter|ch\."
_QUERY_FORMS = [
    (re.compile(rf"^\s*(\d{{1,4}})\s?([a-z])?\s*(?:{_SECTION_WORDS})\s*$", re.I), "§"),
    (re.compile(rf"^\s*(?:{_SECTION_WORDS})\s*(\d{{1,4}})\s?([a-z])?\s*$", re.I), "§"),
    (re.compile(rf"^\s*(\d{{1,3}})\s*(?:{_CHAPTER_WORDS})\s*$", re.I), "ch"),
    (re.compile(rf"^\s*(?:{_CHAPTER_WORDS})\s*(\d{{1,3}})\s*$", re.I), "ch"),
]


_REFERENCES = [
    (re.compile(r"(?<![\w.])(\d{1,4})\s?([a-z])?\s*§", re.I), "§"),
    (re.compile(rf"(?:§|\b(?:{_SECTION_WORDS[2:]}))\s*(\d{{1,4}})\b\s?([a-z]\b)?", re.I), "§"),
    (re.compile(rf"\b(\d{{1,4}})\s*(?:{_SECTION_WORDS[2:]})", re.I), "§"),
    (re.compile(rf"\b(\d{{1,3}})\.?\s*(?:{_CHAPTER_WORDS})", re.I), "ch"),
    (re.compile(rf"\b(?:{_CHAPTER_WORDS})\s*(\d{{1,3}})\b", re.I), "ch"),
]
MAX_REFERENCE_WORDS = 8


def heading_key(section: tuple[str, ...]) -> str | None:
    """A language-independent key for the deepest numbered heading of a
    section path: "38 § Innovaatiokumppanuus" and "38 § Innovationspartnerskap"
    both give "38§"; "5 luku ..." and "5 kap. ..." both give "5ch"."""
    for title in reversed(section):
        key = title_key(title)
        if key:
            return key
    return None


def title_key(title: str) -> str | None:
    """The key of one heading title, or None if it is not numbered."""
    m = _KEYED.match(title)
    if not m:
        return None
    unit = _UNIT.get((m.group(3) or "").lower(), "")
    return f"{m.group(1)}{(m.group(2) or '').lower()}{unit}"


def _first_key(patterns, query: str, whole: bool) -> str | None:
    """The key ("80§", "38a§", "5ch") of the first pattern that matches the
    whole query (``whole``) or occurs in it."""
    for pattern, unit in patterns:
        m = pattern.match(query) if whole else pattern.search(query)
        if m:
            letter = (m.group(2) or "").lower() if unit == "§" and m.lastindex >= 2 else ""
            return f"{int(m.group(1))}{letter}{unit}"
    return None


def section_query(query: str) -> str | None:
    """The heading key a query names when it is nothing but a section or
    chapter number: "80 §", "§ 80", "80 pykälä", "section 80" -> "80§";
    "5 luku", "5 kap.", "chapter 5" -> "5ch". None for any other query."""
    return _first_key(_QUERY_FORMS, query, whole=True)


def section_reference(query: str) -> str | None:
    """The heading key a short query (at most eight words) refers to anywhere
    in it: "section 25 of the procurement act" -> "25§", "hankintalaki 5
    luku" -> "5ch". The named section leads such a search; other hits follow."""
    exact = section_query(query)
    if exact or len(query.split()) > MAX_REFERENCE_WORDS:
        return exact
    return _first_key(_REFERENCES, query, whole=False)


def chapter_key(section: tuple[str, ...]) -> str | None:
    """The key of the chapter a section path lies in ("5ch"), if any."""
    for title in section:
        key = title_key(title)
        if key and key.endswith("ch"):
            return key
    return None
