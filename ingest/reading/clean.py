"""Clean extracted page text: Unicode, ligatures, hyphenation, running headers
and footers, page numbers, whitespace."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter

# Removed outright: soft hyphen, zero-width characters, byte-order mark.
_INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u200b\u200c\u200d\u2060\ufeff"), None)

# Words that follow a suspended compound ("hankinta- ja palvelusopimus"): the
# hyphen before them is real and must survive a line break.
_CONJUNCTIONS = {"ja", "tai", "sekä", "eli", "och", "eller", "samt", "and", "or", "nor"}

_HYPHEN_BREAK = re.compile(r"(\w)-\n[ \t]*(\w+)")

# Lines that are only a page number: "12", "- 12 -", "12 (85)", "12/85",
# "Page 3 of 9", "Sivu 3", "Sida 3 av 9", "s. 3", "p. 3".
_PAGE_NUMBER = re.compile(
    r"^(?:(?:page|sivu|sida|s\.|p\.|pp\.)\s*)?[-–—]?\s*\d{1,4}\s*[-–—]?"
    r"(?:\s*(?:\(\s*\d{1,4}\s*\)|/\s*\d{1,4}|(?:of|av|/)\s*\d{1,4}))?$",
    re.IGNORECASE,
)
EDGE_LINES = 3  # how many lines at the top and bottom of a page may be header/footer


def normalize_unicode(text: str) -> str:
    """NFKC (which also splits ligatures such as "ﬁ" into "fi"), minus invisible marks."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return unicodedata.normalize("NFKC", text).translate(_INVISIBLE)


def dehyphenate(text: str) -> str:
    """Rejoin words split by a hyphen at a line end.

    "hankinta-\\nmenettely" becomes "hankintamenettely"; "EU-\\nhankinta" keeps its
    hyphen (capitals or digits before it); "hankinta-\\nja palvelu" keeps "hankinta- ja".
    """

    def join(m: re.Match) -> str:
        before, after = m.group(1), m.group(2)
        if after.lower() in _CONJUNCTIONS:
            return f"{before}- {after}"
        if before.islower() and after[0].islower():
            return before + after
        return f"{before}-{after}"

    return _HYPHEN_BREAK.sub(join, text)


def normalize_whitespace(text: str) -> str:
    text = text.replace("\t", " ")
    text = re.sub(r"[ \u00a0\u2000-\u200a\u202f\u205f\u3000]+", " ", text)
    text = "\n".join(line.strip() for line in text.split("\n"))
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip()


def _line_key(line: str) -> str:
    return re.sub(r"\d+", "#", " ".join(line.lower().split()))


def _edge_indices(lines: list[str]) -> list[int]:
    nonempty = [i for i, line in enumerate(lines) if line.strip()]
    edge = nonempty[:EDGE_LINES] + nonempty[-EDGE_LINES:]
    return sorted(set(edge))


def strip_page_furniture(pages: list[str], min_share: float = 0.5) -> list[str]:
    """Drop running headers and footers that repeat across pages, and lines that
    are only a page number, from the top and bottom lines of each page."""
    split = [p.split("\n") for p in pages]
    counts: Counter[str] = Counter()
    for lines in split:
        counts.update({_line_key(lines[i]) for i in _edge_indices(lines)})
    threshold = max(3, int(min_share * len(pages) + 0.999))
    repeating = {key for key, n in counts.items() if n >= threshold and key.strip("# ")}
    if len(pages) < 3:
        repeating = set()

    out = []
    for lines in split:
        edges = _edge_indices(lines)
        numbers = {i for i in edges if _PAGE_NUMBER.match(lines[i].strip())}
        drop = numbers | {i for i in edges if _line_key(lines[i]) in repeating}
        if not any(line.strip() for i, line in enumerate(lines) if i not in drop):
            # Every page says the same thing (a form, a sample, a rotated copy):
            # that is content, not a running header.
            drop = numbers
        out.append("\n".join(line for i, line in enumerate(lines) if i not in drop))
    return out


def clean_pages(raw_pages: list[str]) -> list[str]:
    """The whole cleaning chain, in order."""
    pages = [normalize_unicode(p) for p in raw_pages]
    pages = strip_page_furniture(pages)
    return [normalize_whitespace(dehyphenate(p)) for p in pages]
