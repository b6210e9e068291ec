"""kb/choices.py: parsing a closed vocabulary's words at the edge."""

from __future__ import annotations

import pytest

from kb.choices import Choice, ChoiceError
from kb.errors import KBError


class PageKind(Choice):
    WEB_PAGE = "web page"
    REPORT = "report"


def test_members_are_returned_as_they_are():
    assert PageKind.from_str(PageKind.REPORT) is PageKind.REPORT


def test_words_are_parsed_whatever_their_case_and_surrounding_spaces():
    assert PageKind.from_str("report") is PageKind.REPORT
    assert PageKind.from_str("  RePort\n") is PageKind.REPORT
    assert PageKind.from_str(" Web Page ") is PageKind.WEB_PAGE


def test_a_member_is_its_word():
    assert PageKind.WEB_PAGE == "web page" and str(PageKind.REPORT) == "report"


@pytest.mark.parametrize("word", ["", "reports", "web  page", "webpage", "weird"])
def test_an_unknown_word_names_the_valid_ones(word):
    with pytest.raises(ChoiceError) as caught:
        PageKind.from_str(word)
    err = caught.value
    assert err.valid == ["web page", "report"] and err.value == word and err.what == "page kind"
    assert str(err) == f"unknown page kind {word!r}; use one of web page, report"


def test_choice_error_is_a_kb_error_and_a_value_error():
    with pytest.raises(KBError):
        PageKind.from_str("nope")
    with pytest.raises(ValueError):
        PageKind.from_str("nope")


def test_the_vocabulary_is_named_from_the_class_name():
    assert PageKind.what() == "page kind"

    class Mode(Choice):
        A = "a"

    assert Mode.what() == "mode"
