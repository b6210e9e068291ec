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
translations that the corpus uses ("toimittaja" is more often "supplier",
toimittaja and hankkija, than "editor", toimittaja, editori and
päätoimittaja, in a corpus on procurement) times how common the English
word is (wordfreq's Zipf scale): "henkilö" is "person", not
"stercoranist", whose one Finnish translation also starts with "henkilö".
A compound is split where its first part is longest, each part at least
four letters ("tarjous" + "kilpailu", not "tar" + ...). A heading with fewer than half its words found gives
no gloss. Without the dictionary there are no gloss pairs (logged), and
the other kinds train as before.
"""

from __future__ import annotations

import logging
import random
import re
from collections.abc import Iterable

from wordfreq import zipf_frequency

from kb.text import dictionaries, morphology
from kb.text.lexical import stem, words

logger = logging.getLogger(__name__)

SOURCE = "fi"  # the headings glossed: the dictionary English–Finnish is the large one
MIN_PART = 4  # letters of each part of a split compound
MIN_WORD = 3  # shorter words (particles, "ja" and "ei") are not glossed
FLOOR = 0.05  # the corpus share of a translation none of whose Finnish words the corpus uses
_TOKEN = re.compile(r"[^\W\d_]+")
ZIPF_FLOOR = 0.05  # added to an English word's Zipf frequency: a word wordfreq lacks (Zipf 0) is rarely drawn


class Glossary:
    """Finnish word -> its English translations, from the English–Finnish
    dictionary read backwards (single words on both sides), each with its
    weight in a corpus whose Finnish words have the Snowball stems ``used``."""

    def __init__(
        self,
        table: dictionaries.Table,
        used: set[str] | None = None,
        readings: dict[str, list[list[str]]] | None = None,
    ) -> None:
        self.readings = readings or {}  # word -> [base form, *compound parts] per reading
        self.english: dict[str, set[str]] = {}
        self.weight: dict[str, float] = {}
        for head, translations in table.items():
            if head.startswith(dictionaries.STEM) or " " in head:
                continue
            singles = [words[0] for words in translations if len(words) == 1]
            for word in singles:
                self.english.setdefault(word, set()).add(head)
                self.english.setdefault(dictionaries.STEM + stem(word, SOURCE), set()).add(head)
            if singles:
                share = (
                    1.0
                    if used is None
                    else (sum(1 for w in singles if stem(w, SOURCE) in used) / len(singles))
                )
                common = zipf_frequency(head, "en") + ZIPF_FLOOR
                self.weight[head] = (share + FLOOR) * common

    @classmethod
    def installed(cls, texts: Iterable[str] = (), headings: Iterable[str] = ()) -> Glossary:
        """The installed dictionary's, weighted by the Finnish ``texts``, the
        ``headings``' words read by the Finnish analyser where it is
        installed (empty where the dictionary is absent)."""
        table = dictionaries.table("en", SOURCE)
        if not table:
            logger.info("no English–Finnish dictionary: no gloss pairs (make dictionaries)")
            return cls({})
        used = {stem(w, SOURCE) for t in texts for w, _, _ in words(t)}
        glossary = cls(table, used)
        heading_words = {w.lower() for h in headings for w in _TOKEN.findall(h)}
        glossary.readings = morphology.readings(w for w in heading_words if not glossary._known(w))
        return glossary

    def __bool__(self) -> bool:
        return bool(self.english)

    def _known(self, word: str) -> set[str]:
        return self.english.get(word) or self.english.get(
            dictionaries.STEM + stem(word, SOURCE), set()
        )

    def parts(self, word: str) -> list[list[str]]:
        """The translations of ``word`` (lower-cased), one list per part:
        [] where it is not found, more lists for a compound's parts (as the
        analyser reads them, else split in two)."""
        if len(word) < MIN_WORD or word.isdigit():
            return []
        if found := self._known(word):
            return [sorted(found)]
        if analysed := self._analysed(word):
            return analysed
        for i in range(len(word) - MIN_PART, MIN_PART - 1, -1):  # the longest first part first
            head, tail = self.english.get(word[:i]), self._known(word[i:])
            if head and tail:
                return [sorted(head), sorted(tail)]
        return []

    def _analysed(self, word: str) -> list[list[str]]:
        """By the analyser's readings: a base form the dictionary knows, in
        the analyser's order, else the parts of one reading, each known and
        at least MIN_PART letters long ([] where none fits)."""
        found = self.readings.get(word, [])
        for reading in found:
            if len(reading[0]) >= MIN_WORD and (english := self._known(reading[0])):
                return [sorted(english)]
        for reading in found:
            parts = reading[1:]
            if parts and all(len(p) >= MIN_PART for p in parts):
                english_parts = [self._known(p) for p in parts]
                if all(english_parts):
                    return [sorted(e) for e in english_parts]
        return []

    def gloss(self, text: str, rng: random.Random) -> str:
        """``text`` in English, one drawn translation a part; "" when fewer
        than half of its words were found."""
        tokens = [w.lower() for w in _TOKEN.findall(text)]
        found = [self.parts(w) for w in tokens if len(w) >= MIN_WORD]
        if not found or 2 * sum(1 for f in found if f) < len(found):
            return ""
        return " ".join(self._draw(choices, rng) for parts in found for choices in parts)

    def _draw(self, choices: list[str], rng: random.Random) -> str:
        weights = [self.weight.get(c, FLOOR * ZIPF_FLOOR) for c in choices]
        return rng.choices(choices, weights)[0]
