"""Find headings in cleaned page text.

Three sources, in order of trust:
- hints the format states (PDF outline, Markdown ``#``, HTML ``<h1>``..``<h6>``);
- statute structure: parts, chapters ("3 luku", "3 kap.") and sections ("38 §");
- numbered headings ("3", "3.2", "3.2.1") followed by a capitalised title.
Numbers must increase through the document, which rejects cross-references
and list items that merely look like headings.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass

from ingest.reading.extract import HeadingHint
from kb.records import Heading
from kb.text.headings import CHAPTER as _CHAPTER
from kb.text.headings import NUMBERED as _NUMBERED
from kb.text.headings import PART as _PART
from kb.text.headings import SECTION as _SECTION

MAX_HEADING_CHARS = 160
# A heading line at least this long followed by a lower-case line has wrapped.
WRAP_MIN_CHARS = 20


@dataclass
class _State:
    chapter: tuple = ()
    section: tuple = ()
    numbered: tuple = ()


# A line ending in one of these (or a comma) has not finished its heading.
_CONNECTIVES = {
    "ja",
    "tai",
    "sekä",
    "eli",
    "och",
    "eller",
    "samt",
    "för",
    "av",
    "om",
    "i",
    "på",
    "till",
    "med",
    "vid",
    "and",
    "or",
    "of",
    "for",
    "the",
    "to",
    "in",
    "on",
}


def _continues(line: str, nxt: str) -> bool:
    """Whether ``nxt`` is the wrapped rest of the heading ``line``."""
    nxt = nxt.strip()
    if not nxt or _SECTION.match(nxt) or _CHAPTER.match(nxt):
        return False
    last = line.rsplit(None, 1)[-1].lower()
    return nxt[0].islower() or line.endswith(",") or last in _CONNECTIVES


def _norm(text: str) -> str:
    return " ".join(text.lower().split())


def _looks_like_title(title: str) -> bool:
    title = title.strip()
    # A "title" citing sections ("... i 62 §, om ...") is a sentence that
    # happens to start with a reference such as "16 kap.".
    if len(title) > MAX_HEADING_CHARS or title[-1:] in ".,;:" or "§" in title:
        return False
    return sum(ch.isalpha() for ch in title) >= 3


# Sections and chapters are numbered in order; a reference that looks like a
# heading usually jumps too far ahead of the last real one.
MAX_SECTION_STEP = 5
MAX_CHAPTER_STEP = 2


def _close(number: int, last: tuple, step: int) -> bool:
    return not last or number - last[0] <= step


def _match_statute_or_number(line: str, state: _State) -> tuple[int, str] | None:
    m = _SECTION.match(line)
    if m and _looks_like_title(m.group(3)):
        key = (int(m.group(1)), m.group(2))
        if key > state.section and _close(key[0], state.section, MAX_SECTION_STEP):
            state.section = key
            return 3, line
        return None
    m = _CHAPTER.match(line)
    if m and _looks_like_title(m.group(2)):
        key = (int(re.match(r"\d+", m.group(1)).group()), m.group(1))
        if key > state.chapter and _close(key[0], state.chapter, MAX_CHAPTER_STEP):
            state.chapter = key
            return 2, line
        return None
    m = _PART.match(line)
    if m and (m.group(2) is None or _looks_like_title(m.group(2))):
        return 1, line
    m = _NUMBERED.match(line)
    if m and _looks_like_title(m.group(2)) and not re.match(r"^\d{4}\b", line):
        key = tuple(int(x) for x in m.group(1).split("."))
        if key > state.numbered and (not state.numbered or key[0] - state.numbered[0] <= 3):
            state.numbered = key
            return len(key), line
    return None


class HeadingFinder:
    """Walks the pages of one document in order and finds their headings.

    Linear in the text: each line is looked up once in a table of the
    page's pending hints (by normalised title), never compared with each
    hint in turn, so a page of thousands of lines and thousands of Markdown
    headings costs no more than its length."""

    def __init__(self, hints: list[HeadingHint]) -> None:
        self.state = _State()
        self._hints: dict[int, list[HeadingHint]] = {}
        for hint in hints:
            self._hints.setdefault(hint.page, []).append(hint)

    def find(self, page_number: int, text: str) -> tuple[Heading, ...]:
        headings: list[Heading] = []
        lines = text.split("\n")
        offsets, pos = [], 0
        for line in lines:
            offsets.append(pos)
            pos += len(line) + 1

        # The page's hints, in order; a line takes the first one with its title.
        pending = self._hints.pop(page_number, [])
        waiting: dict[str, deque[int]] = {}
        for n, hint in enumerate(pending):
            waiting.setdefault(_norm(hint.title), deque()).append(n)
        matched: set[int] = set()
        i = 0
        while i < len(lines):
            line = lines[i].strip()
            if not line:
                i += 1
                continue
            queue = waiting.get(_norm(line)) if waiting else None
            if queue:
                n = queue.popleft()
                matched.add(n)
                headings.append(Heading(offsets[i], pending[n].level, line))
                i += 1
                continue
            found, j = self._statute_or_number(lines, i)
            if found:
                level, title = found
                headings.append(Heading(offsets[i], level, title))
                i = j
                continue
            i += 1
        # Outline entries whose title is not on the page start at the page top.
        for n, hint in enumerate(pending):
            if n not in matched:
                headings.append(Heading(0, hint.level, hint.title))
        return tuple(sorted(headings, key=lambda h: h.offset))

    def _statute_or_number(self, lines: list[str], i: int) -> tuple[tuple[int, str] | None, int]:
        """The numbered heading starting at line ``i``, if any, and the line after it.
        A long heading wraps: the line with its lower-case continuation is tried
        first. The join never grows past MAX_HEADING_CHARS, so it costs at most a
        few lines."""
        line = lines[i].strip()
        joined, k = line, i + 1
        while (
            k < len(lines)
            and len(joined) >= WRAP_MIN_CHARS
            and len(joined) + len(lines[k]) < MAX_HEADING_CHARS
            and _continues(joined, lines[k])
        ):
            joined = f"{joined} {lines[k].strip()}"
            k += 1
        if k > i + 1:
            found = _match_statute_or_number(joined, self.state)
            if found is not None:
                return found, k
        return _match_statute_or_number(line, self.state), i + 1
