"""Every text a user reads, in Finnish, Swedish and English: one module per
language (``en``, ``fi``, ``sv``) with the same keys, read through ``label``.
The page, the exports and the command line's citations use them."""

from __future__ import annotations

from kb.labels import en, fi, sv

UI_LANGS = ("en", "fi", "sv")

LABELS = {"en": en.TEXTS, "fi": fi.TEXTS, "sv": sv.TEXTS}
# The documents table's columns, and the languages' names, in each language.
COLUMNS = {
    "en": ("Title", "Kind", "Language", "Pages", "Passages", "Status", "Indexed", "File"),
    "fi": ("Nimi", "Tyyppi", "Kieli", "Sivuja", "Kohtia", "Tila", "Indeksoitu", "Tiedosto"),
    "sv": ("Titel", "Typ", "Språk", "Sidor", "Avsnitt", "Status", "Indexerat", "Fil"),
}
LANGUAGE_NAMES = {
    "en": {"fi": "Finnish", "sv": "Swedish", "en": "English"},
    "fi": {"fi": "suomi", "sv": "ruotsi", "en": "englanti"},
    "sv": {"fi": "finska", "sv": "svenska", "en": "engelska"},
}

# The example questions on the page, one per language, each answered by the
# offline corpus (the Act fi + sv, the Swedish theme page): tests/system/test_examples.py
# checks the first card of each.
EXAMPLES = [
    "Mikä on innovaatiokumppanuus?",
    "Hur ökar vi andelen innovativa upphandlingar?",
    "What is a framework agreement?",
]


def label(ui: str, key: str) -> str:
    return LABELS.get(ui, LABELS["en"])[key]


def coded(ui: str, prefix: str, value: str) -> str:
    """A code from the index (a mode, kind or status) in the page's
    language; a value with no translation (a kind from an older index) as
    it is."""
    return LABELS.get(ui, LABELS["en"]).get(f"{prefix}_{value}", value)
