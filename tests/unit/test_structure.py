"""Heading detection: statutes, numbered headings, hints from the format."""

from __future__ import annotations

import itertools
import re
import time
from pathlib import Path

from ingest.reading.extract import HeadingHint, markdown_heading
from ingest.reading.readers import read_pages
from ingest.reading.structure import HeadingFinder
from kb.settings import Settings


def titles(finder: HeadingFinder, page: int, text: str) -> list[tuple[int, str]]:
    return [(h.level, h.title) for h in finder.find(page, text)]


def test_statute_chapters_and_sections():
    text = (
        "1 luku Yleiset säännökset\n1 § Lain tarkoitus\nValtion viranomaisten on\n"
        "kilpailutettava.\n2 § Lain tavoitteet\nTavoitteena on."
    )
    assert titles(HeadingFinder([]), 1, text) == [
        (2, "1 luku Yleiset säännökset"),
        (3, "1 § Lain tarkoitus"),
        (3, "2 § Lain tavoitteet"),
    ]


def test_swedish_chapters_and_lettered_sections():
    text = "3 kap. Samhandling\n12 § Inköp\nText.\n12 a § Tillägg\nText."
    assert titles(HeadingFinder([]), 1, text) == [
        (2, "3 kap. Samhandling"),
        (3, "12 § Inköp"),
        (3, "12 a § Tillägg"),
    ]


def test_cross_references_and_lower_numbers_are_not_headings():
    finder = HeadingFinder([])
    titles(finder, 1, "40 § Tarjoukset\nText.")
    # a reference at the start of a wrapped line, with a lower number
    assert titles(finder, 2, "5 § Hankintayksiköt tarkoitetaan\ntässä.") == []
    assert titles(finder, 2, "5 §:ssä tarkoitettu") == []


def test_wrapped_heading_is_joined():
    text = (
        "10 § Upphandling inom sektorerna vatten, energi,\ntransporter och posttjänster\nDenna lag."
    )
    assert titles(HeadingFinder([]), 1, text) == [
        (3, "10 § Upphandling inom sektorerna vatten, energi, transporter och posttjänster"),
    ]


def test_numbered_headings_must_increase():
    text = "1 Johdanto\nTeksti.\n2 Strategian tavoitteet\n2.1 Vaikuttavuus\n2 Kaksi asiaa."
    assert titles(HeadingFinder([]), 1, text) == [
        (1, "1 Johdanto"),
        (1, "2 Strategian tavoitteet"),
        (2, "2.1 Vaikuttavuus"),
    ]


def test_years_and_list_items_are_not_headings():
    assert titles(HeadingFinder([]), 1, "2020 Hankintoja tehtiin\n1) Hankinnat on") == []


def test_hints_match_lines_and_fall_back_to_page_top():
    hints = [HeadingHint(1, "Johdanto", 1), HeadingHint(2, "Missing Title", 2)]
    finder = HeadingFinder(hints)
    assert titles(finder, 1, "Johdanto\nTeksti") == [(1, "Johdanto")]
    found = finder.find(2, "Other text")
    assert [(h.offset, h.title) for h in found] == [(0, "Missing Title")]


def test_sentence_starting_with_a_chapter_reference_is_not_a_heading():
    finder = HeadingFinder([])
    titles(finder, 1, "5 kap. Upphandlingsförfaranden\n38 § Innovationspartnerskap\nText.")
    text = (
        "16 kap. Vid projekttävling tillämpas dessutom vad som föreskrivs om\n"
        "kommunikation i 62 §, om underentreprenad i 77 §\n6 kap. Tidsfrister\n"
        "39 § Minimitidsfrister\nText."
    )
    assert titles(finder, 2, text) == [(2, "6 kap. Tidsfrister"), (3, "39 § Minimitidsfrister")]


def test_far_jumps_in_numbering_are_references():
    finder = HeadingFinder([])
    titles(finder, 1, "2 luku Soveltamisala\n9 § Palvelut\nTeksti.")
    assert titles(finder, 2, "90 § Tarjoajan soveltuvuus\nviitataan.") == []
    assert titles(finder, 2, "10 § Erityisalat\nTeksti.") == [(3, "10 § Erityisalat")]


# ---------------------------------------------------------------- time
# Heading detection once compared every line with every pending heading:
# 1 MB of Markdown took 63 s, 2 MB 258 s, and 6,000 lines followed by 6,000
# headings 35 s. The bound is generous (a loaded machine passes it); the
# old code missed it by far.
TIME_BOUND = 5.0


def _markdown(n_bytes: int) -> tuple[str, int]:
    """Sections of a heading and a paragraph, about n_bytes long; the text
    and its number of headings."""
    parts, size, i = [], 0, 0
    while size < n_bytes:
        i += 1
        block = f"## Osio {i}\n\nHankintayksikkö kilpailuttaa palvelut {i} ja seuraa sopimusta.\n\n"
        parts.append(block)
        size += len(block.encode())
    return "".join(parts), i


def _timed_read(path: Path) -> tuple[float, list]:
    started = time.monotonic()
    _, pages = read_pages(path, Settings())
    return time.monotonic() - started, [h for page in pages for h in page.headings]


def test_two_megabytes_of_markdown_are_read_in_seconds(tmp_path):
    text, n = _markdown(2_000_000)
    (tmp_path / "big.md").write_text(text, encoding="utf-8")
    seconds, headings = _timed_read(tmp_path / "big.md")
    assert seconds < TIME_BOUND
    assert [h.title for h in headings] == [f"Osio {i}" for i in range(1, n + 1)]


def test_many_lines_then_many_headings_are_read_in_seconds(tmp_path):
    body = "".join(f"Tavallinen rivi {i} hankinnoista.\n" for i in range(6000))
    heads = "".join(f"# Otsikko {i}\n" for i in range(6000))
    (tmp_path / "late.md").write_text(body + heads, encoding="utf-8")
    seconds, headings = _timed_read(tmp_path / "late.md")
    assert seconds < TIME_BOUND
    assert [h.title for h in headings] == [f"Otsikko {i}" for i in range(6000)]
    assert all(a.offset < b.offset for a, b in zip(headings, headings[1:], strict=False))


def test_a_long_run_of_spaces_in_a_markdown_line():
    # The old pattern backtracked cubically here: 4,000 spaces took 57 s.
    started = time.monotonic()
    assert markdown_heading("# a" + " " * 200_000 + "b") == (1, "a" + " " * 200_000 + "b")
    assert markdown_heading("#" + " " * 200_000 + "#") == (1, "#")
    assert time.monotonic() - started < 1.0


_OLD_MD_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")


def test_markdown_headings_are_what_the_old_pattern_found():
    """Every line of up to six characters from '#', spaces, a tab, a letter
    and a non-breaking space: the same level and title, or none."""
    for n in range(7):
        for chars in itertools.product("# \ta\u00a0", repeat=n):
            line = "".join(chars)
            m = _OLD_MD_HEADING.match(line)
            old = (len(m.group(1)), m.group(2).strip()) if m else None
            assert markdown_heading(line) == old, repr(line)


def test_hints_are_taken_in_order_once_each():
    hints = [HeadingHint(1, "Sama", 1), HeadingHint(2, "Sama", 1), HeadingHint(3, "Muu", 1)]
    found = HeadingFinder(hints).find(1, "Sama\nteksti\nsama\nSama")
    assert [(h.offset, h.level, h.title) for h in found] == [
        (0, 1, "Sama"),
        (0, 3, "Muu"),  # not on the page: at its top, after the one found there
        (12, 2, "sama"),
    ]  # the last "Sama" finds no hint left
