"""Language versions: the same passage in the other versions of a document
(documents sharing a ``group``, written in sources.toml or found by the
build), and cross-language search through the query's own language.

Numbered headings ("38 §", "3.2", "5 luku" = "5 kap.") are the same in every
version, so a passage's counterpart is looked for among the sibling's chunks
under the same number when it has any; among them, the nearest by cosine,
less a penalty for sitting at another relative position in the document.
"""

from __future__ import annotations

import numpy as np

from search import retrieval
from search.backend.base import Where
from search.fusion import fuse
from search.view import IndexView

ALIGN_POSITION_PENALTY = 0.3  # cosine given up per whole document of offset
PIVOT_DEPTH = 20  # same-language hits mapped to their other-language versions
# Weight of the pivot list in the fusion: its order leads, and direct
# cross-lingual dense hits follow. Measured on the finlex heading check (README): weights 1, 2, 4, 8
# and 100 gave fi→sv recall@5 of 0.63, 0.74, 0.85, 0.97 and 0.99.
PIVOT_LEADS = 100.0


def align_row(view: IndexView, row: int) -> list[tuple[int, float]]:
    """(row, cosine) of the aligned passage in each sibling version."""
    chunk = view.chunks[row]
    if not chunk.group:
        return []
    vector = view.vector(row)
    key = view.heading_keys[row]
    position = view.relative_position(row)
    out = []
    for doc in view.group_docs.get(chunk.group, ()):
        if doc == chunk.doc_id:
            continue
        rows = view.doc_rows[doc]
        sims = view.doc_vectors(doc) @ vector
        candidates = np.arange(len(rows))
        if key is not None:
            same = np.flatnonzero(view.heading_keys[rows] == key)
            if len(same):
                candidates = same
        offsets = np.abs(candidates / max(len(rows) - 1, 1) - position)
        best = int(candidates[np.argmax(sims[candidates] - ALIGN_POSITION_PENALTY * offsets)])
        out.append((int(rows[best]), float(sims[best])))
    return out


def pivot(
    view: IndexView, query: str, qvec: np.ndarray, qlang: str, where: Where, depth: int
) -> list[int]:
    """Cross-language hits through the query's own language: search the
    versions written in the query's language (where retrieval is strongest),
    then take the aligned passage of each hit in the allowed other-language
    versions."""
    source = view.where(languages={qlang}, docs=view.grouped_docs)
    if not view.grouped_docs or not source.count:
        return []
    n_src = min(source.count, PIVOT_DEPTH)
    _, order = fuse(
        [
            (retrieval.dense(view, qvec, source, n_src)[0], 1.0),
            (retrieval.bm25(view, query, source, n_src), 1.0),
        ]
    )
    out: dict[int, None] = {}
    for r in order:
        for sib_row, _ in align_row(view, r):
            if where.mask[sib_row] and view.langs[sib_row] != qlang:
                out.setdefault(sib_row, None)
        if len(out) >= depth:
            break
    return list(out)
