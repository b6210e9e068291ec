"""Heading detection: statutes, numbered headings, hints from the format."""

from __future__ import annotations

from ingest.extract import HeadingHint
from ingest.structure import HeadingFinder


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
