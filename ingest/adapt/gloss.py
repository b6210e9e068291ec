"""English glosses of Finnish headings, the anchors of ``gloss`` pairs.

The corpus holds no English, so an adaptation on Finnish and Swedish pairs
alone moves those languages away from English questions (Tatoeba eng→fin
fell from 67.7 to 48.9, docs/model.md). A ``gloss`` pair asks for a
section in English: its Finnish heading put into English word by word
through FreeDict's English–Finnish dictionary read backwards (the lexical
bridge's, kb/text/dictionaries.py): "Hankintayksikön velvollisuus" ->
"procurement unit obligation". A word is found as written, else by its
Snowball stem, else as a compound of two words the dictionary has
("hankinta" + "yksikkö"). A word with several translations takes one drawn
with the run's seed, each weighted by the share of its own Finnish
translations that the corpus uses: "toimittaja" is more often "supplier"
(toimittaja, hankkija) than "editor" (toimittaja, editori, päätoimittaja)
in a corpus on procurement. A heading with fewer than half its words found gives
no gloss. Without the dictionary there are no gloss pairs (logged), and
the other kinds train as before.
"""

from __future__ import annotations

import logging
import random
import re
from collections.abc import Iterable

from kb.text import dictionaries
from kb.text.lexical import stem, words

logger = logging.getLogger(__name__)

SOURCE = "fi"  # the headings glossed: the dictionary English–Finnish is the large one
MIN_PART = 3  # letters of each part of a split compound
MIN_WORD = 3  # shorter words (particles, "ja" and "ei") are not glossed
FLOOR = 0.05  # the weight of a translation none of whose Finnish words the corpus uses


class Glossary:
    """Finnish word -> its English translations, from the English–Finnish
    dictionary read backwards (single words on both sides), each with its
    weight in a corpus whose Finnish words have the Snowball stems ``used``."""

    def __init__(self, table: dictionaries.Table, used: set[str] | None = None) -> None:
        self.english: dict[str, set[str]] = {}
        self.weight: dict[str, float] = {}
        for head, translations in table.items():
            if head.startswith(dictionaries.STEM) or " " in head:
                continue
            singles = [words[0] for words in translations if len(words) == 1]
            for word in singles:
                self.english.setdefault(word, set()).add(head)
                self.english.setdefault(dictionaries.STEM + stem(word, SOURCE), set()).add(head)
            if singles and used is not None:
                share = sum(1 for w in singles if stem(w, SOURCE) in used) / len(singles)
                self.weight[head] = share

    @classmethod
    def installed(cls, texts: Iterable[str] = ()) -> Glossary:
        """The installed dictionary's, weighted by the Finnish ``texts``
        (empty where the dictionary is absent)."""
        used = {stem(w, SOURCE) for t in texts for w, _, _ in words(t)}
        glossary = cls(dictionaries.table("en", SOURCE), used)
        if not glossary:
            logger.info("no English–Finnish dictionary: no gloss pairs (make dictionaries)")
        return glossary

    def __bool__(self) -> bool:
        return bool(self.english)

    def _known(self, word: str) -> set[str]:
        return self.english.get(word) or self.english.get(
            dictionaries.STEM + stem(word, SOURCE), set()
        )

    def parts(self, word: str) -> list[list[str]]:
        """The translations of ``word`` (lower-cased), one list per part:
        [] where it is not found, two lists for a compound split."""
        if len(word) < MIN_WORD or word.isdigit():
            return []
        if found := self._known(word):
            return [sorted(found)]
        best: list[list[str]] = []
        for i in range(MIN_PART, len(word) - MIN_PART + 1):
            head, tail = self.english.get(word[:i]), self._known(word[i:])
            if head and tail:  # the first split found, the one with the shortest first part
                best = [sorted(head), sorted(tail)]
                break
        return best

    def gloss(self, text: str, rng: random.Random) -> str:
        """``text`` in English, one drawn translation a part; "" when fewer
        than half of its words were found."""
        tokens = [w.lower() for w in re.findall(r"[^\W\d_]+", text)]
        found = [self.parts(w) for w in tokens if len(w) >= MIN_WORD]
        if not found or 2 * sum(1 for f in found if f) < len(found):
            return ""
        return " ".join(self._draw(choices, rng) for parts in found for choices in parts)

    def _draw(self, choices: list[str], rng: random.Random) -> str:
        weights = [self.weight.get(c, 0.0) + FLOOR for c in choices]
        return rng.choices(choices, weights)[0]
