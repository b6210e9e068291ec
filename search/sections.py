"""Sections as the unit of a result: the chunks of one section (they overlap)
collapse into one hit, the section's best chunk; and a query that names a
section or chapter ("80 §", "§ 80", "80 pykälä", "section 80", "5 luku",
"5 kap.") goes straight to it in every language version."""

from __future__ import annotations

import numpy as np

from kb.records import Chunk
from search.view import IndexView


def collapse(view: IndexView, order: list[int], k: int) -> list[int]:
    """The first ``k`` rows of ``order``, one per section (its best chunk),
    without the same text twice. The records are read a batch at a time
    (one query each with PostgreSQL): where many rows repeat a text, the
    walk goes far past the first ``k``."""
    kept: list[int] = []
    sections: set[int] = set()
    texts: set[str] = set()
    batch = max(4 * k, 1)
    for start in range(0, len(order), batch):
        rows = order[start : start + batch]
        view.prefetch(rows)
        for row in rows:
            section = int(view.section_ids[row])
            norm = " ".join(view.chunks[row].text.split()).lower()
            if section in sections or norm in texts:
                continue
            kept.append(row)
            sections.add(section)
            texts.add(norm)
            if len(kept) == k:
                return kept
    return kept


def adjacent(a: Chunk, b: Chunk) -> bool:
    """Neighbouring chunks of one section: they overlap, so they are one passage."""
    return a.doc_id == b.doc_id and a.section == b.section and abs(a.ordinal - b.ordinal) <= 1


# Weight of the named section's list in the fusion: it leads.
SECTION_LEADS = 100.0


def named_section_rows(view: IndexView, key: str, mask: np.ndarray) -> list[int]:
    """The rows of the section ("80§") or chapter ("5ch") that ``key``
    names: the first chunk of that section in each allowed document, in
    document order; for a chapter, the chapter's start in each document
    first, then its other sections."""
    starts: list[int] = []
    rest: list[int] = []
    seen: set[int] = set()
    for rows in view.doc_rows.values():
        first_in_doc = True
        for row in rows:
            if not mask[row] or int(view.section_ids[row]) in seen:
                continue
            if key.endswith("ch"):
                hit = view.chapter_keys[row] == key
            else:
                hit = view.heading_keys[row] == key
            if hit:
                seen.add(int(view.section_ids[row]))
                (starts if first_in_doc else rest).append(int(row))
                first_in_doc = False
    return starts + rest
