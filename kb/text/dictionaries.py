"""Bilingual dictionaries for the lexical bridge: FreeDict's English–Finnish,
English–Swedish, Finnish–Swedish and Swedish–Finnish dictionaries in the
dictd format that Debian's ``dict-freedict-*`` packages install under
/usr/share/dictd (CC BY-SA data: installed beside the project, never copied
into it; ``KB_DICT_DIR`` points elsewhere).

A dictionary is read into a table from a lower-cased headword, and from
``STEM`` + its Snowball stem (in the source language), to its translations,
each a tuple of lower-cased words: a query word finds its headword as it
is, else by its stem whatever its inflection ("suppliers" → "supplier").
Entries whose index key is not their written headword (dictd files
"and/or" as "andor", "ampuma-ase" as "ampumaase": a query's words are
split at such marks) and affixes ("-ify") are left out. Where a dictionary is absent the
table is empty and search goes on without it (``available`` says which are
there, for ``ingest status``).
"""

from __future__ import annotations

import functools
import gzip
import logging
import os
import re
import threading
from pathlib import Path

from kb.text.lexical import stem, words

logger = logging.getLogger(__name__)

DICT_DIR_ENV = "KB_DICT_DIR"
DEFAULT_DICT_DIR = Path("/usr/share/dictd")
# (source, target) language → FreeDict's name for that dictionary.
FREEDICT = {
    ("en", "fi"): "eng-fin",
    ("en", "sv"): "eng-swe",
    ("fi", "sv"): "fin-swe",
    ("sv", "fi"): "swe-fin",
}
DEBIAN_PACKAGES = tuple(f"dict-freedict-{name}" for name in FREEDICT.values())
_B64 = {
    c: i for i, c in enumerate("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
}
_SENSE = re.compile(r"^\d+\.\s+(.*)$")
_NOTE = re.compile(r"\([^)]*\)|\[[^\]]*\]|<[^>]*>")
# "-ify", "adipo-", "-bar": never a word of a query or a heading
_AFFIX = re.compile(r"<[^>]*\b(?:prefix|suffix|affix)\b")

Table = dict[str, tuple[tuple[str, ...], ...]]
STEM = "~"


def dict_dir() -> Path:
    return Path(os.environ.get(DICT_DIR_ENV) or DEFAULT_DICT_DIR)


def _files(pair: tuple[str, str], folder: Path) -> tuple[Path, Path]:
    base = folder / f"freedict-{FREEDICT[pair]}"
    return base.with_name(base.name + ".index"), base.with_name(base.name + ".dict.dz")


def available(folder: Path | None = None) -> dict[tuple[str, str], bool]:
    """Which of the dictionaries are installed."""
    folder = folder or dict_dir()
    return {pair: all(p.is_file() for p in _files(pair, folder)) for pair in FREEDICT}


def status_note() -> str | None:
    """What ``ingest status`` says where a dictionary is missing (None: all
    there): search works without them, with no lexical bridge for that pair."""
    missing = [pair for pair, ok in available().items() if not ok]
    if not missing:
        return None
    names = ", ".join(f"{s}→{t}" for s, t in missing)
    packages = " ".join(f"dict-freedict-{FREEDICT[p]}" for p in missing)
    return (
        f"dictionaries absent ({names}) in {dict_dir()}: questions are not bridged "
        f"into the other languages' words there; install the Debian packages {packages} "
        f"(or set {DICT_DIR_ENV})"
    )


def _number(b64: str) -> int:
    n = 0
    for c in b64:
        n = n * 64 + _B64[c]
    return n


def translations(entry: str) -> list[str]:
    """The translations of one dictd entry: the numbered sense lines' words
    ("1. hankinta, ostaminen"), or the line after the headword when no sense
    is numbered; glosses (the lines after each) are not translations."""
    lines = [line.strip() for line in entry.splitlines()[1:] if line.strip()]
    senses = [m.group(1) for line in lines if (m := _SENSE.match(line))]
    if not senses and lines:
        senses = [lines[0]]
    out: list[str] = []
    for sense in senses:
        for part in re.split(r"[,;]", _NOTE.sub(" ", sense)):
            part = part.strip()
            if part and part not in out:
                out.append(part)
    return out


def read_dictd(index: Path, data: Path, source: str) -> Table:
    """{headword, and STEM + its stem in ``source``: its translations} of a
    dictd dictionary."""
    raw = gzip.open(data).read()
    table: dict[str, list[tuple[str, ...]]] = {}
    for line in index.read_text(encoding="utf-8").splitlines():
        fields = line.split("\t")
        if len(fields) < 3 or fields[0].startswith("00database") or " " in fields[0]:
            continue  # dictd's own entries; phrases (a query is matched word by word)
        start, length = _number(fields[1]), _number(fields[2])
        entry = raw[start : start + length].decode("utf-8", errors="replace")
        word = fields[0].lower()
        if not _written(entry, word):
            continue
        phrases = [tuple(w for w, _, _ in words(t) if not w.isdigit()) for t in translations(entry)]
        for key in (word, STEM + stem(word, source)):
            known = table.setdefault(key, [])
            for phrase in phrases:
                if phrase and phrase not in known:
                    known.append(phrase)
    return {k: tuple(v) for k, v in table.items() if v}


def _written(entry: str, key: str) -> bool:
    """Whether an entry is the word its index ``key`` names, as a query's
    words are split: dictd's index drops punctuation, so "and/or" is filed
    as "andor" (no query word) while "etc." is filed as "etc" (a query's
    "etc." is that word); affixes are not words."""
    first = entry.split("\n", 1)[0]
    head = first.split(maxsplit=1)[0].lower() if first.strip() else ""
    return [w for w, _, _ in words(head)] == [key] and not _AFFIX.search(first)


def table(source: str, target: str) -> Table:
    """The dictionary from ``source`` to ``target`` in ``dict_dir()``, read
    once (a second caller while it is being read waits for that reading);
    empty where it is not installed or cannot be read."""
    with _reading:
        return _table(source, target, dict_dir())


_reading = threading.Lock()


@functools.cache
def _table(source: str, target: str, folder: Path) -> Table:
    pair = (source, target)
    if pair not in FREEDICT or not available(folder)[pair]:
        return {}
    index, data = _files(pair, folder)
    try:
        return read_dictd(index, data, source)
    except (OSError, ValueError, KeyError, EOFError) as exc:
        logger.warning("dictionary %s unreadable (%s): no bridge through it", index.name, exc)
        return {}


def lookup(word: str, source: str, target: str) -> tuple[tuple[str, ...], ...]:
    """A lower-cased word's translations: by its headword, else by its stem."""
    t = table(source, target)
    return t.get(word) or t.get(STEM + stem(word, source)) or ()


def words_into(target: str) -> set[str]:
    """Every word of the installed dictionaries' translations into
    ``target``: what the lexical bridge may ask ``target``'s passages for
    (a build analyses the Finnish ones: kb/text/morphology.py)."""
    return {
        word
        for (source, to) in FREEDICT
        if to == target
        for phrases in table(source, target).values()
        for phrase in phrases
        for word in phrase
    }
