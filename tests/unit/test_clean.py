"""Cleaning: Unicode, ligatures, hyphenation, page furniture, whitespace."""

from __future__ import annotations

import pytest

from ingest.reading.clean import (
    clean_pages,
    dehyphenate,
    normalize_unicode,
    normalize_whitespace,
    strip_page_furniture,
)


def test_ligatures_and_compatibility_forms():
    assert normalize_unicode("ﬁnanssi ja ﬂow, ﬀ") == "finanssi ja flow, ff"
    assert normalize_unicode("a\u00a0b") == "a b"


def test_invisible_marks_removed():
    assert normalize_unicode("hankinta\u00admenettely\u200b") == "hankintamenettely"


def test_decomposed_letters_are_composed():
    assert normalize_unicode("ha\u0308nkinta") == "hänkinta"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("hankinta-\nmenettely", "hankintamenettely"),  # Finnish compound rejoined
        ("upphandlings-\nförfarande", "upphandlingsförfarande"),
        ("EU-\nhankinta", "EU-hankinta"),  # capitals before: a real hyphen
        ("hankinta-\nja palvelusopimus", "hankinta- ja palvelusopimus"),  # suspended compound
        ("miljö-\noch klimat", "miljö- och klimat"),
        ("2014-\n2020", "2014-2020"),
        ("word -\nnext", "word -\nnext"),  # a dash, not a hyphen
    ],
)
def test_dehyphenate(text, expected):
    assert dehyphenate(text) == expected


def test_whitespace():
    assert normalize_whitespace("  a \t b  \n\n\n\n c  ") == "a b\n\nc"


def test_running_headers_and_page_numbers_removed():
    words = ["alpha", "beta", "gamma", "delta", "epsilon"]
    pages = [
        f"Laki julkisista hankinnoista 1397/2016\n{n} (5)\nBody about {words[n - 1]}.\n"
        f"Ends with {words[-n]}."
        for n in range(1, 6)
    ]
    out = strip_page_furniture(pages)
    for n, page in enumerate(out, start=1):
        assert page == f"Body about {words[n - 1]}.\nEnds with {words[-n]}."


@pytest.mark.parametrize(
    "number_line", ["12", "- 12 -", "Sivu 12", "Page 3 of 9", "Sida 3 av 9", "3/9"]
)
def test_page_number_lines_removed(number_line):
    pages = [f"Text on the page.\n{number_line}"]
    assert strip_page_furniture(pages) == ["Text on the page."]


def test_repeated_body_lines_are_kept_when_not_at_page_edges():
    body = "\n".join(f"line {i}" for i in range(20))
    pages = [f"Top {n}\n{body}\nBottom unique {n * 7}x" for n in range(4)]
    out = strip_page_furniture(pages)
    assert all("line 10" in p for p in out)


def test_two_page_documents_keep_their_first_lines():
    pages = ["Same title\nText a", "Same title\nText b"]
    assert strip_page_furniture(pages) == pages


def test_clean_pages_chain():
    raw = ["Header\nhankinta-\nmenettely  on\n1", "Header\ntoinen sivu\n2", "Header\nkolmas\n3"]
    assert clean_pages(raw) == ["hankintamenettely on", "toinen sivu", "kolmas"]


def test_pages_that_all_say_the_same_keep_their_text():
    pages = ["Background\n1", "Background\n2", "Background\n3", "Background\n4"]
    assert strip_page_furniture(pages) == ["Background"] * 4
