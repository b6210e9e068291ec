"""Every text a user reads, in Finnish, Swedish and English: one module per
language (``en``, ``fi``, ``sv``) with the same keys, read through ``label``.
The page, the exports and the command line's citations use them."""

from __future__ import annotations

from kb.labels import en, fi, sv

UI_LANGS = ("en", "fi", "sv")

LABELS = {"en": en.TEXTS, "fi": fi.TEXTS, "sv": sv.TEXTS}
COLUMNS = {"en": en.COLUMNS, "fi": fi.COLUMNS, "sv": sv.COLUMNS}
LANGUAGE_NAMES = {"en": en.LANGUAGE_NAMES, "fi": fi.LANGUAGE_NAMES, "sv": sv.LANGUAGE_NAMES}

# The example questions on the page, one per language.
EXAMPLES = [
    "Miten julkisilla hankinnoilla edistetään innovaatioita?",
    "Hur ökar vi andelen innovativa upphandlingar?",
    "How can I join a theme group?",
]


def label(ui: str, key: str) -> str:
    return LABELS.get(ui, LABELS["en"])[key]


def coded(ui: str, prefix: str, value: str) -> str:
    """A code from the index (a mode, kind or status) in the page's
    language; a value with no translation (a kind from an older index) as
    it is."""
    return LABELS.get(ui, LABELS["en"]).get(f"{prefix}_{value}", value)
