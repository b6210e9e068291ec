"""A hit among its neighbours (the context panel) without the text the
chunks share: chunks overlap by design (ingest/chunk.py), and side by side
the same sentences showed twice. The hit stays whole; the passage before
it loses what the next one repeats, the passage after it what the one
before already showed."""

from __future__ import annotations

from dataclasses import replace

from search.hits import Hit

MIN_OVERLAP = 10  # characters: a shorter shared edge is a coincidence, not an overlap


def overlap(first: str, second: str) -> int:
    """How many characters at the end of ``first`` open ``second`` (0 if
    fewer than MIN_OVERLAP, or not starting at a word)."""
    for start in range(max(0, len(first) - len(second)), len(first) - MIN_OVERLAP + 1):
        if start and not first[start - 1].isspace():
            continue
        if second.startswith(first[start:]):
            return len(first) - start
    return 0


def _with_text(hit: Hit, text: str) -> Hit:
    return replace(hit, chunk=replace(hit.chunk, text=text), highlights=())


def without_overlap(parts: list[Hit], hit_id: str) -> list[Hit]:
    """``parts`` (a passage and its neighbours in reading order) with each
    shared stretch of text shown once: the hit (``hit_id``) whole, the parts
    before it cut where the next one starts repeating them, the parts after
    it starting where the one before ended. A part left empty is dropped."""
    at = next((i for i, p in enumerate(parts) if p.chunk_id == hit_id), None)
    if at is None:
        return list(parts)
    shown: list[Hit | None] = list(parts)
    for i in range(at - 1, -1, -1):
        text, following = parts[i].text, shown[i + 1]
        cut = overlap(text, following.text) if following else 0
        shown[i] = _with_text(parts[i], text[: len(text) - cut].rstrip()) if cut else parts[i]
    for i in range(at + 1, len(parts)):
        text, previous = parts[i].text, shown[i - 1]
        cut = overlap(previous.text, text) if previous else 0
        shown[i] = _with_text(parts[i], text[cut:].lstrip()) if cut else parts[i]
    return [p for p in shown if p is not None and p.text.strip()]
