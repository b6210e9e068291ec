"""Modes and states as enums, parsed once at the edge.

Every closed vocabulary of the project (search modes, highlight levels,
document and fetch states) is a ``Choice``: a ``StrEnum`` whose value is
the word printed, stored in a manifest or put in a URL, so records written
before these enums existed read the same. ``from_str`` parses a word at
an edge (CLI option, URL, environment) and names the valid values when the
word is none of them.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Self

from kb.errors import KBError


class ChoiceError(KBError, ValueError):
    """A word that is none of a vocabulary's values; the message lists them."""

    def __init__(self, what: str, value: object, valid: list[str]) -> None:
        super().__init__(f"unknown {what} {value!r}; use one of {', '.join(valid)}")
        self.what, self.value, self.valid = what, value, valid


class Choice(StrEnum):
    @classmethod
    def from_str(cls, value: str | Self) -> Self:
        if isinstance(value, cls):
            return value
        try:
            return cls(str(value).strip().lower())
        except ValueError:
            raise ChoiceError(cls.what(), value, [m.value for m in cls]) from None

    @classmethod
    def what(cls) -> str:
        """The vocabulary's name in messages: ``SearchMode`` → "search mode"."""
        name = cls.__name__
        return "".join(f" {c.lower()}" if c.isupper() else c for c in name).strip()


class PairKind(Choice):
    """The kinds of training pairs ``python -m ingest adapt`` mines from the
    index (ingest/adapt/pairs.py)."""

    HEADING = "heading"  # a section's heading -> the section's text
    TRANSLATION = "translation"  # a section -> the same section in another language version
    CLOZE = "cloze"  # a sentence -> its passage without it (inverse cloze)
    GLOSS = "gloss"  # a Finnish heading put into English -> the section, in each language version
