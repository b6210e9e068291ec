"""Sentences: the one sentence grammar of the build and the page.

``sentence_spans`` and ``body_spans`` split a passage at build time (the
stored sentence vectors, kb/index/sentences.py) and at display time
(search/highlight.py, search/answer.py); the stored spans are compared with
the ones computed at display time before a stored vector is used.
"""

from __future__ import annotations

import re

from kb.records import Chunk

# A list item's mark: "1)", "• ", "– ".
_ITEM = r"(?:\d{1,3}\)|[•–-]\s)"
# Sentence ends: punctuation before a capital, digit or list mark; a blank
# line; a line break before a list item. A plain line break is a PDF wrap.
_SENTENCE_END = re.compile(rf"(?<=[.!?;:])\s+(?=[A-ZÅÄÖÜ0-9•(–-])|\n\s*\n|\n(?=\s*{_ITEM})")
# Where a list item starts (also "a)", which the splitter leaves inside its
# sentence): the answer box quotes a lead-in sentence with its items.
LIST_ITEM = re.compile(rf"\s*(?:{_ITEM}|[a-zåäö]\))")

# A full stop after an abbreviation ends no sentence: the answer box quoted
# "... 81 § 1 mom." for "81 § 1 mom. 5 punkten" and "tel." without the
# number. Abbreviations that are never a sentence's last word (fi, sv, en) ...
# ("jne.", "yms.", "tms.", "etc." often are: "palveluja jne. Hankintayksikön")
_NEVER_LAST = frozenset(
    "esim ks vrt ns mm puh nro "  # fi
    "t.ex bl.a s.k dvs jfr tel tfn kl nr inkl exkl enl ang ca t.o.m fr.o.m "  # sv
    "e.g i.e cf vs approx incl excl no nos mr mrs dr".split()  # en
)
# ... and those that are one only when no number follows ("1 mom. 5 punkten",
# "s. 24", "art. 57", but "... enligt 2 mom. Den").
_BEFORE_NUMBER = frozenset("mom s p pp art kap sec para fig vol st n v l".split())

Span = tuple[int, int]


def _abbreviation_ends(text: str, end: int, following: str) -> bool:
    """Whether the full stop just before ``end`` closes an abbreviation
    rather than a sentence, given the character that follows."""
    if end < 1 or text[end - 1] != ".":
        return False
    word = text[max(0, end - 12) : end - 1].rsplit(maxsplit=1)[-1:]
    word = word[0].lstrip("(\"'«»”“").lower() if word else ""
    return word in _NEVER_LAST or (word in _BEFORE_NUMBER and following.isdigit())


def _inside_sentence(text: str, gap: re.Match) -> bool:
    """Whether a candidate sentence end is a full stop after an abbreviation
    within one sentence, also across a PDF's line wrap ("1 mom.\n3, 5 och 6
    punkten", "30 kap.\n8 a §"); a blank line or a list item after it
    ("3 mom.\n1) ...") still ends the sentence."""
    if gap.group().count("\n") > 1 or LIST_ITEM.match(text, gap.end()):
        return False
    return _abbreviation_ends(text, gap.start(), text[gap.end() : gap.end() + 1])


def sentence_spans(text: str) -> list[Span]:
    """(start, end) of each sentence or line-level item of ``text``."""
    spans, start = [], 0
    for m in _SENTENCE_END.finditer(text):
        if _inside_sentence(text, m):
            continue
        if text[start : m.start()].strip():
            spans.append((start, m.start()))
        start = m.end()
    if text[start:].strip():
        spans.append((start, len(text.rstrip())))
    return spans


def heading_end(text: str, section: tuple[str, ...]) -> int:
    """Where the headings of the section path that open the passage end
    (PDF text runs a heading into its first sentence: "38 § Innovaatio-
    kumppanuus Innovaatiokumppanuuden tavoitteena..."), with the white
    space after them; 0 when the passage opens with none of them."""
    pos, found = 0, False
    for title in section:
        parts = title.split()
        if not parts:
            continue
        pattern = r"\s*" + r"\s+".join(re.escape(p) for p in parts) + r"(?=\s|$)"
        m = re.compile(pattern).match(text, pos)
        if m:
            pos, found = m.end(), True
    if not found:
        return 0
    while pos < len(text) and text[pos].isspace():
        pos += 1
    return pos if text[pos:].strip() else 0


def body_spans(text: str, section: tuple[str, ...]) -> list[Span]:
    """The sentences of a passage after the headings that open it."""
    start = heading_end(text, section)
    return [(max(s, start), e) for s, e in sentence_spans(text) if e > start]


def choice_spans(chunk: Chunk) -> list[Span]:
    """The sentences of ``chunk`` a best sentence is chosen among: its body
    sentences when there are two or more, else none."""
    spans = body_spans(chunk.text, chunk.section)
    return spans if len(spans) >= 2 else []
