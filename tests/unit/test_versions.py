"""search/versions.py: a passage's counterpart in the other language
versions, and cross-language search through the query's own language."""

from __future__ import annotations

import numpy as np
import pytest

from kb.index.manifest import Manifest, ModelInfo
from search.versions import ALIGN_POSITION_PENALTY, align_row, pivot
from search.view import IndexView
from testsupport.records import chunk
from testsupport.tiny import row_with, rows_of


def test_each_section_aligns_with_the_same_number_in_the_other_version(view):
    for doc, other in (("laki-fi", "lag-sv"), ("lag-sv", "laki-fi")):
        for key in ("1§", "2§", "3§"):
            aligned = align_row(view, row_with(view, doc, key))
            assert len(aligned) == 1
            row, cosine = aligned[0]
            assert row == row_with(view, other, key)
            assert -1.0 <= cosine <= 1.0 + 1e-6


def test_a_document_without_versions_aligns_with_nothing(view):
    assert align_row(view, rows_of(view, "notes-en")[0]) == []


def test_pivot_maps_same_language_hits_to_the_other_version(tiny, view):
    source = view.chunks[row_with(view, "laki-fi", "3§")]
    qvec = tiny.embedder.embed_queries([source.indexed_text])
    rows = pivot(view, source.text, qvec, "fi", view.where(), 10)
    assert rows[0] == row_with(view, "lag-sv", "3§")
    assert sorted(rows) == rows_of(view, "lag-sv")  # every Swedish counterpart, no Finnish row


def test_pivot_respects_the_filter_and_depth(tiny, view):
    source = view.chunks[row_with(view, "laki-fi", "3§")]
    qvec = tiny.embedder.embed_queries([source.indexed_text])
    assert pivot(view, source.text, qvec, "fi", view.where(languages=["fi"]), 10) == []
    assert pivot(view, source.text, qvec, "fi", view.where(), 1) == [row_with(view, "lag-sv", "3§")]
    first = row_with(view, "lag-sv", "3§")
    rest = pivot(view, source.text, qvec, "fi", view.where(exclude=[first]), 10)
    assert first not in rest and rest


def test_pivot_from_a_language_without_versions_finds_nothing(tiny, view):
    qvec = tiny.embedder.embed_queries(["carbon footprint"])
    assert pivot(view, "carbon footprint", qvec, "en", view.where(), 10) == []


class VectorIndex:
    """A SearchIndex of hand-made chunks and vectors, enough for alignment."""

    name = "hand-made"
    manifest = Manifest(ModelInfo("hand-made", "", 2))
    sentences = None

    def __init__(self, chunks, vectors) -> None:
        self.chunks = chunks
        self._vectors = np.asarray(vectors, dtype=np.float32)

    def vectors(self, rows):
        return self._vectors[rows]


def two_versions(fi_sections, sv_sections, vectors) -> IndexView:
    chunks = [
        chunk("a-fi", (s,), f"fi {i}", i, lang="fi", group="g") for i, s in enumerate(fi_sections)
    ] + [chunk("b-sv", (s,), f"sv {i}", i, lang="sv", group="g") for i, s in enumerate(sv_sections)]
    return IndexView(VectorIndex(chunks, vectors))


E = np.eye(3)


def test_the_same_number_wins_over_a_nearer_vector():
    # fi 1 § points exactly where sv 3 § does, yet aligns with sv 1 §.
    view = two_versions(
        ["1 § A", "2 § B", "3 § C"],
        ["1 § A", "2 § B", "3 § C"],
        [E[0], E[1], E[2], E[1], E[2], E[0]],
    )
    assert align_row(view, 0) == [(3, pytest.approx(0.0))]


def test_without_numbers_the_nearest_vector_wins_less_its_distance_in_position():
    near_far = np.array([0.5, np.sqrt(0.75), 0])  # cosine 0.5 with E[0]
    close_far = np.array([0.7, np.sqrt(0.51), 0])  # cosine 0.7 with E[0]
    # fi row 0 at position 0; sv row 3 at position 0 (cos 0.5), row 5 at
    # position 1 (cos 0.7 - 0.3 = 0.4 after the penalty): row 3 wins.
    view = two_versions(
        ["A", "B", "C"], ["A", "B", "C"], [E[0], E[1], E[2], near_far, E[2], close_far]
    )
    assert ALIGN_POSITION_PENALTY == 0.3
    assert align_row(view, 0) == [(3, pytest.approx(0.5))]
    # Without the penalty's difference (both at the same distance), the nearer one wins.
    view = two_versions(
        ["A", "B", "C"], ["A", "B", "C"], [E[1], E[0], E[2], near_far, E[2], close_far]
    )
    # fi row 1 sits in the middle: both candidates are half a document away.
    assert align_row(view, 1) == [(5, pytest.approx(0.7))]
