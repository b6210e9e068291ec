"""search/sections.py: one hit per section, adjacency, and the rows of a
named section or chapter."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from search.sections import adjacent, collapse, named_section_rows
from testsupport.records import chunk
from testsupport.tiny import row_with


def fake_view(chunks, sections):
    return SimpleNamespace(
        chunks=chunks, section_ids=np.array(sections), prefetch=lambda rows: None
    )


def test_collapse_keeps_the_best_chunk_of_each_section():
    chunks = [chunk(text=f"passage {i}", ordinal=i) for i in range(5)]
    view = fake_view(chunks, [0, 0, 1, 1, 2])
    assert collapse(view, [3, 1, 2, 0, 4], 10) == [3, 1, 4]


def test_collapse_stops_at_k():
    chunks = [chunk(text=f"passage {i}", ordinal=i) for i in range(4)]
    view = fake_view(chunks, [0, 1, 2, 3])
    assert collapse(view, [2, 0, 3, 1], 2) == [2, 0]
    assert collapse(view, [], 2) == []


def test_collapse_drops_the_same_text_in_another_section():
    # Same words, other case and spacing: a copy (as in notes with a repeated paragraph).
    chunks = [chunk(text="The Same  text."), chunk(text="the same\ntext."), chunk(text="other")]
    view = fake_view(chunks, [0, 1, 2])
    assert collapse(view, [1, 0, 2], 5) == [1, 2]


def test_adjacent_chunks_are_neighbours_in_one_section():
    a = chunk("d", ("1 §",), ordinal=3)
    assert adjacent(a, chunk("d", ("1 §",), ordinal=4))
    assert adjacent(a, chunk("d", ("1 §",), ordinal=2))
    assert not adjacent(a, chunk("d", ("1 §",), ordinal=5))
    assert not adjacent(a, chunk("d", ("2 §",), ordinal=4))
    assert not adjacent(a, chunk("e", ("1 §",), ordinal=4))


def test_a_named_section_gives_its_row_in_each_version(view):
    everything = view.where().mask
    assert named_section_rows(view, "2§", everything) == [
        row_with(view, "lag-sv", "2§"),
        row_with(view, "laki-fi", "2§"),
    ]
    assert named_section_rows(view, "9§", everything) == []


def test_a_named_section_stays_within_the_filter(view):
    only_fi = view.where(languages=["fi"]).mask
    assert named_section_rows(view, "2§", only_fi) == [row_with(view, "laki-fi", "2§")]


def test_a_named_chapter_gives_each_versions_start_first_then_its_other_sections(view):
    rows = named_section_rows(view, "1ch", view.where().mask)
    assert rows == [
        row_with(view, "lag-sv", "1§"),
        row_with(view, "laki-fi", "1§"),
        row_with(view, "lag-sv", "2§"),
        row_with(view, "laki-fi", "2§"),
    ]
    assert named_section_rows(view, "2ch", view.where().mask) == [
        row_with(view, "lag-sv", "3§"),
        row_with(view, "laki-fi", "3§"),
    ]
