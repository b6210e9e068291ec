"""search/view.py: the IndexView of a tiny generation: its columns,
documents, language versions, filters (where, narrow) and vocabulary (knows)."""

from __future__ import annotations

import numpy as np

from search.backend import FileIndex
from search.view import IndexView
from testsupport.tiny import row_with, rows_of


def test_columns_and_document_rows_follow_the_chunks(view):
    assert len(view.langs) == len(view.doc_codes) == len(view.kind_codes) == len(view.chunks) == 7
    assert view.language_list == ["en", "fi", "sv"]
    assert view.kind_list == ["report", "web page"]
    assert set(view.doc_rows) == {"laki-fi", "lag-sv", "notes-en"}
    for doc, rows in view.doc_rows.items():
        assert [view.chunks[r].doc_id for r in rows] == [doc] * len(rows)
    assert sum(len(r) for r in view.doc_rows.values()) == len(view.chunks)


def test_language_versions_are_grouped(view):
    assert sorted(view.group_docs["laki"]) == ["lag-sv", "laki-fi"]
    assert view.grouped_docs == {"laki-fi", "lag-sv"}
    assert view.grouped.tolist() == [view.chunks[r].doc_id != "notes-en" for r in range(7)]


def test_each_section_has_its_own_id(view):
    assert len(set(view.section_ids.tolist())) == 7
    assert view.heading_keys[row_with(view, "lag-sv", "2§")] == "2§"
    assert view.heading_keys[rows_of(view, "notes-en")[0]] is None


def test_doc_meta_comes_from_the_manifest(view):
    meta = view.doc_meta["laki-fi"]
    assert meta.path == "laki.fi.md" and meta.lang == "fi" and len(meta.sha256) == 64


def test_a_generation_is_wrapped_in_a_file_index(view):
    assert isinstance(view.generation, FileIndex)
    again = IndexView(view.generation)  # a SearchIndex is taken as it is
    assert again.generation is view.generation


def test_where_with_no_filters_allows_every_row(view):
    where = view.where()
    assert where.mask.all() and where.count == 7
    assert where.languages is None and where.docs is None and where.kinds is None
    # An empty filter allows all, like no filter.
    assert view.where(languages=[], docs=set()).count == 7


def test_where_combines_filters_and_exclusions(view):
    where = view.where(languages=["fi", "en"], kinds=["report"])
    assert np.flatnonzero(where.mask).tolist() == rows_of(view, "laki-fi")
    assert where.languages == frozenset({"fi", "en"}) and where.kinds == frozenset({"report"})
    first = rows_of(view, "laki-fi")[0]
    less = view.where(docs=["laki-fi"], exclude=[first])
    assert np.flatnonzero(less.mask).tolist() == rows_of(view, "laki-fi")[1:]
    assert less.exclude == frozenset({first})
    assert view.mask(docs=["laki-fi"]).tolist() == view.where(docs=["laki-fi"]).mask.tolist()


def test_narrow_keeps_one_language_within_the_filter(view):
    narrowed = view.narrow(view.where(kinds=["report"]), "sv")
    assert np.flatnonzero(narrowed.mask).tolist() == rows_of(view, "lag-sv")
    assert narrowed.languages == frozenset({"sv"}) and narrowed.kinds == frozenset({"report"})
    # A language the filter already left out leaves nothing.
    gone = view.narrow(view.where(languages=["fi"]), "sv")
    assert gone.count == 0 and gone.languages == frozenset()


def test_knows_words_of_the_index_by_stem_or_prefix(view):
    assert view.knows("tröskelvärdena")  # a stem of the Swedish passage
    assert view.knows("kynnysarvoista")  # Finnish inflection of "kynnysarvo"
    assert view.knows("upphandlingsmyndighet")  # only its first letters are indexed
    assert not view.knows("zebrafinkar")
    assert not view.knows("zeb")  # short, no prefix to go by


def test_relative_position_runs_from_zero_to_one_within_a_document(view):
    rows = rows_of(view, "lag-sv")
    assert [view.relative_position(r) for r in rows] == [0.0, 0.5, 1.0]
    assert view.relative_position(rows_of(view, "notes-en")[0]) == 0.0


def test_vectors_are_the_stored_ones(tiny, view):
    row = row_with(view, "laki-fi", "1§")
    expected = tiny.embedder.embed_queries([view.chunks[row].indexed_text])[0]
    assert np.allclose(view.vector(row), expected, atol=1e-6)
    assert view.doc_vectors("laki-fi").shape == (3, tiny.embedder.dim)


def test_columns_are_integer_codes_with_sections_numbered_as_first_met():
    from search.view import _Columns

    records = [
        ("fi", "b", "law", "g", ["1 luku", "2 §"]),
        ("sv", "a", "law", "g", ("1 kap", "2 §")),
        ("fi", "b", "law", "g", ["1 luku", "2 §"]),  # the same section again
        ("fi", "b", "law", "g", ["1 luku", "3 §"]),
        ("sv", "a", "web page", "g", ("1 kap", "2 §")),
    ]
    cols = _Columns(iter(records))
    assert cols.section_ids.tolist() == [0, 1, 0, 2, 1]  # "2 §" of b and of a differ
    assert cols.docs == ["a", "b"] and cols.doc_codes.tolist() == [1, 0, 1, 1, 0]
    assert {d: r.tolist() for d, r in cols.doc_rows.items()} == {"a": [1, 4], "b": [0, 2, 3]}
    assert cols.kinds == ["law", "web page"] and cols.kind_codes.tolist() == [0, 0, 0, 0, 1]
    assert cols.langs.tolist() == ["fi", "sv", "fi", "fi", "sv"]
    assert cols.lang_counts == {"fi": 3, "sv": 2}
    assert cols.heading_keys.tolist() == ["2§", "2§", "2§", "3§", "2§"]
    # no Python object per row: the per-row columns are numpy arrays of codes
    assert cols.doc_codes.dtype == cols.section_ids.dtype == cols.doc_rows["a"].dtype == np.int32


def test_columns_of_no_rows():
    from search.view import _Columns

    cols = _Columns(iter([]))
    assert cols.doc_rows == {} and len(cols.section_ids) == 0 and cols.lang_counts == {}
