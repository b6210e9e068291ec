"""kb/labels: every key in every language with the same placeholders; the
language modules (en, fi, sv) are what ``label`` and ``coded`` read; each
text is translated and written without stray blanks; the tables beside
them cover every language of the page."""

from __future__ import annotations

import re

import pytest

from kb.labels import COLUMNS, LABELS, LANGUAGE_NAMES, UI_LANGS, coded, en, fi, label, sv

MODULES = {"en": en, "fi": fi, "sv": sv}


def test_every_label_exists_in_every_language():
    keys = set(LABELS["en"])
    for ui in UI_LANGS:
        assert set(LABELS[ui]) == keys, ui
        for key, text in LABELS[ui].items():
            fields = set(re.findall(r"{(\w+)", text))
            assert fields == set(re.findall(r"{(\w+)", LABELS["en"][key])), (ui, key)


@pytest.mark.parametrize("ui", UI_LANGS)
def test_each_language_module_is_what_the_page_reads(ui):
    texts = MODULES[ui].TEXTS
    assert LABELS[ui] is texts
    assert all(label(ui, key) == text for key, text in texts.items())


def test_an_unknown_page_language_reads_english():
    assert label("de", "query") == en.TEXTS["query"]
    assert coded("de", "mode", "hybrid") == coded("en", "mode", "hybrid")


@pytest.mark.parametrize("module", [fi, sv], ids=["fi", "sv"])
def test_no_sentence_is_left_in_english(module):
    """A text of three words or more that is the English one word for word
    was not translated."""
    same = [
        key
        for key, text in en.TEXTS.items()
        if len(text.split()) >= 3 and module.TEXTS.get(key) == text
    ]
    assert same == []


@pytest.mark.parametrize("ui", UI_LANGS)
def test_no_text_is_empty_or_padded(ui):
    bad = [k for k, t in MODULES[ui].TEXTS.items() if not t or t != t.strip()]
    assert bad == []


def test_the_tables_cover_every_page_language():
    assert set(COLUMNS) == set(LANGUAGE_NAMES) == set(UI_LANGS)
    assert len({len(cols) for cols in COLUMNS.values()}) == 1
    for names in LANGUAGE_NAMES.values():
        assert set(names) == set(UI_LANGS)


def test_a_code_without_a_translation_is_shown_as_it_is():
    assert coded("fi", "kind", "an-old-kind") == "an-old-kind"
