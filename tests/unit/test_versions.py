"""search/versions.py: a passage's counterpart in the other language
versions, and cross-language search through the query's own language."""

from __future__ import annotations

from search.versions import align_row, pivot
from tests.unit.conftest import row_with, rows_of


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
