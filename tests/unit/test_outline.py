"""search/outline.py: a document's outline from its passages' headings, a
section's whole text with each overlap once, and its other language
versions."""

from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace

import pytest

from search import outline as o
from search.cite import citation_text, cite
from testsupport.records import chunk


def test_the_outline_lists_every_heading_parents_first_with_pages(view):
    entries = o.outline(view, "laki-fi")
    assert [e.ref for e in entries] == [
        "Hankintalaki",
        "Hankintalaki/1ch",
        "Hankintalaki/1ch/1§",
        "Hankintalaki/1ch/2§",
        "Hankintalaki/2ch",
        "Hankintalaki/2ch/3§",
    ]
    assert [e.depth for e in entries] == [1, 2, 3, 3, 2, 3]
    assert entries[4].title == "2 luku Kynnysarvot"
    assert all(e.page == "1" and e.pdf_page == 1 for e in entries)
    assert o.find(entries, "Hankintalaki/2ch/3§") is entries[5]
    assert o.find(entries, "Hankintalaki/9ch") is None
    assert o.entry_of(entries, entries[2].path) is entries[2]


def test_an_unknown_document_is_a_typed_error(view):
    with pytest.raises(o.UnknownDocumentError):
        o.outline(view, "no-such-document")


def test_a_section_is_its_text_without_headings_and_a_chapter_holds_its_sections(view):
    entries = o.outline(view, "laki-fi")
    one = o.section(view, "laki-fi", o.find(entries, "Hankintalaki/2ch/3§"))
    assert [b.text for b in one.blocks] == ["Kynnysarvo on 60 000 euroa."]
    chapter = o.section(view, "laki-fi", o.find(entries, "Hankintalaki/1ch"))
    assert [b.path[-1] for b in chapter.blocks] == ["1 § Soveltamisala", "2 § Tavoitteet"]
    assert chapter.hit.section == ("Hankintalaki", "1 luku Yleiset säännökset")
    assert chapter.lang == "fi"


def test_a_section_is_cited_by_the_one_citation_function(view):
    entries = o.outline(view, "laki-fi")
    text = o.section(view, "laki-fi", o.find(entries, "Hankintalaki/1ch/2§"))
    c = cite(text.hit, view.doc_meta["laki-fi"])
    assert c.section == "2 § Tavoitteet" and c.pages == ""  # Markdown: no pages to cite
    assert citation_text(c, "fi").startswith("Hankintalaki, 2 § Tavoitteet")


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        ("Hankintalaki/2ch/3§", "Upphandlingslag/2ch/3§"),  # the same number
        ("Hankintalaki/2ch", "Upphandlingslag/2ch"),
        ("Hankintalaki", "Upphandlingslag"),  # unnumbered: where its first passage aligns
    ],
)
def test_the_other_language_version_of_a_section(view, ref, expected):
    entry = o.find(o.outline(view, "laki-fi"), ref)
    (other,) = o.versions(view, "laki-fi", entry)
    assert other.doc_id == "lag-sv" and other.lang == "sv"
    assert other.entry.ref == expected


def test_a_document_without_versions_has_none(view):
    (entry,) = o.outline(view, "notes-en")
    assert o.siblings(view, "notes-en") == []
    assert o.versions(view, "notes-en", entry) == []
    assert [b.text for b in o.section(view, "notes-en", entry).blocks] == [
        "The carbon footprint of procurement is measured yearly."
    ]


def test_refs_name_numbered_headings_alike_in_every_language():
    assert o.section_ref(("4 luku Kynnysarvot", "25 § Kansalliset kynnysarvot")) == "4ch/25§"
    assert o.section_ref(("4 kap. Tröskelvärden", "25 § Nationella tröskelvärden")) == "4ch/25§"
    assert o.section_ref(("2 Tavoite", "Mittarit  ja  seuranta")) == "2/Mittarit ja seuranta"
    assert o.section_ref(()) == o.START_REF


def _view(chunks):
    """A view of hand-made chunks of one document."""
    return SimpleNamespace(
        chunks=chunks,
        doc_rows={chunks[0].doc_id: list(range(len(chunks)))},
        prefetch=lambda rows: None,
    )


def test_a_repeated_heading_gets_a_ref_of_its_own():
    chunks = [
        chunk(section=("1 Tavoite", "Mittarit"), text="a", ordinal=0),
        chunk(section=("Mittarit",), text="b", ordinal=1),
        chunk(section=("Mittarit ",), text="c", ordinal=2),  # another path, the same words
    ]
    refs = [e.ref for e in o.outline(_view(chunks), "d")]
    assert refs == ["1", "1/Mittarit", "Mittarit", "Mittarit~2"]


def test_text_before_the_first_heading_is_an_entry_of_its_own():
    chunks = [chunk(section=(), text="Esipuhe.", ordinal=0), chunk(section=("1 Johdanto",))]
    view = _view(chunks)
    entries = o.outline(view, "d")
    assert [e.ref for e in entries] == [o.START_REF, "1"]
    assert [b.text for b in o.section(view, "d", entries[0]).blocks] == ["Esipuhe."]


def _pieces(text: str, cuts: list[tuple[int, int]], pages=None):
    """Chunks of one section cut from ``text`` at (start, end), on page 1
    unless ``pages`` gives each chunk's (page_start, page_end)."""
    out = []
    for i, (a, b) in enumerate(cuts):
        c = chunk(section=("5 § Hankintayksiköt",), text=text[a:b], ordinal=i)
        first, last = pages[i] if pages else (1, 1)
        out.append(replace(c, char_start=a, char_end=b, page_start=first, page_end=last))
    return out


SENTENCES = (
    "Tässä laissa tarkoitettuja hankintayksiköitä ovat valtion viranomaiset. "
    "Kunnat ja kuntayhtymät ovat hankintayksiköitä. "
    "Seurakunnat ovat hankintayksiköitä myös. "
    "Valtion liikelaitokset ovat hankintayksiköitä."
)


def test_overlapping_passages_join_with_each_sentence_once():
    # each piece repeats the end of the one before, as the build cuts them
    cuts = [(0, 120), (72, 160), (119, len(SENTENCES))]
    pieces = _pieces(SENTENCES, cuts)
    assert o.overlap(pieces[0], pieces[1]) == 48
    assert o.join(pieces) == SENTENCES
    view = _view(pieces)
    (entry,) = o.outline(view, "d")
    assert o.section(view, "d", entry).blocks[0].text == SENTENCES


def test_across_a_page_break_the_overlap_is_found_in_the_text():
    # the first ends on page 2, the second starts on page 1: offsets into
    # two pages cannot be compared; the text tells
    cuts = [(0, 120), (72, len(SENTENCES))]
    pieces = _pieces(SENTENCES, cuts, pages=[(1, 2), (1, 2)])
    pieces[0] = replace(pieces[0], char_end=20)  # an offset into page 2
    assert o.overlap(pieces[0], pieces[1]) == 48
    assert o.join(pieces) == SENTENCES


def test_passages_that_do_not_overlap_join_on_a_new_line():
    cuts = [(0, 72), (72, len(SENTENCES))]
    pieces = _pieces(SENTENCES, cuts)
    assert o.overlap(pieces[0], pieces[1]) == 0
    assert o.join(pieces) == SENTENCES[:71] + "\n" + SENTENCES[72:]
    # a short common run across a page break is chance, not overlap
    a = replace(chunk(text="… ja ne ovat"), page_end=2)
    b = replace(chunk(text="ovat uusia."), page_start=3)
    assert o.overlap(a, b) == 0


def test_a_passage_wholly_inside_the_previous_one_adds_nothing():
    pieces = _pieces(SENTENCES, [(0, len(SENTENCES)), (72, 119)])
    assert o.join(pieces) == SENTENCES
