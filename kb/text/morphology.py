"""Finnish morphology for lexical search: a word's base forms and compound
parts, from Pykko's analyser (the `pypykko` package: MIT, on `kfst`, LGPL).

The Act writes long inflected compounds (*poissulkemisperusteet*,
*hankintayksikön*), while a question, or the lexical bridge's dictionary
translation, says *peruste* or *hankintayksikkö*. A Finnish word the
analyser finds in its lexicon is indexed and asked as the Snowball stems of
its base forms and of their compound parts (*poissulkemisperust*, *pois*,
*sulkemis*, *perust*); any other word keeps its own Snowball stem. The
variant was chosen on the held-out dev half and the first fresh set.

The analyser's transducer takes about 800 MB once loaded, more than a whole
search process. So it runs only at build time, in a child process that
analyses the corpus's Finnish words (and the lexical bridge's Finnish
translations) and exits; the build stores the result with the generation as
its *analyses* (word → terms), and a search looks its words up there. A
question's word that no passage and no translation holds cannot match a
base form or a part in the index anyway, except through a compound of
words that do: those are the words a search cannot analyse.

It is off by default (``KB_FINNISH_MORPHOLOGY=on`` turns it on): measured
once at the end, it won on the held-out test half and lost on the fresh set
(docs/quality.md, "Finnish base forms and compound parts"). Asked for
without the package, Finnish is stemmed by Snowball alone and ``python -m
ingest status`` says so.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import logging
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from importlib import metadata
from pathlib import Path

from kb.settings import child_env
from kb.text.lexical import Analyses, stem, words

logger = logging.getLogger(__name__)

PACKAGE = "pypykko"
# "on" turns the analysis on. Off by default: on the held-out test half it
# raised hybrid recall@5 from 0.817 to 0.883, but on the fresh set it lowered
# it from 0.683 to 0.633 (docs/quality.md), and the default changes only
# where a lever wins on both.
SWITCH_ENV = "KB_FINNISH_MORPHOLOGY"
# Words shorter than this keep their stem: function words and abbreviations
# gain nothing from the analyser. Longer than MAX_WORD is no Finnish word
# (and an untrusted text's one long token should not cost a lookup).
MIN_WORD = 4
MAX_WORD = 64
MIN_PART = 3  # compound parts shorter than this say nothing on their own
ROOT = Path(__file__).resolve().parents[2]


def switched_on() -> bool:
    return os.environ.get(SWITCH_ENV, "off").strip().lower() == "on"


@functools.cache
def _installed() -> bool:
    return importlib.util.find_spec(PACKAGE) is not None


def available() -> bool:
    """Whether builds analyse Finnish words (without loading the analyser)."""
    return switched_on() and _installed()


def analysis() -> str:
    """What an index's Finnish terms are made with, as its manifest records
    it: a build whose analysis differs writes its terms anew."""
    if not available():
        return "snowball"
    try:
        return f"snowball+{PACKAGE}-{metadata.version(PACKAGE)}"
    except metadata.PackageNotFoundError:  # imported from a source tree
        return f"snowball+{PACKAGE}"


def status_note() -> str | None:
    """What ``ingest status`` says where the analysis is asked for but the
    package is missing (None otherwise: off is the default, not a fault)."""
    if not switched_on() or _installed():
        return None
    return (
        f"{SWITCH_ENV}=on but {PACKAGE} is not installed: Finnish words are matched by "
        f"their Snowball stems alone; install it with `pip install {PACKAGE}` "
        f"(make install does)"
    )


def worth_analysing(word: str) -> bool:
    return MIN_WORD <= len(word) <= MAX_WORD and not word.isdigit()


def finnish_words(texts: Iterable[str]) -> set[str]:
    """The distinct words of Finnish ``texts`` the analyser may know."""
    return {w for t in texts for w, _, _ in words(t) if worth_analysing(w)}


def analyse(
    words: Iterable[str],
    known: Analyses | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, tuple[str, ...]]:
    """The analyses of ``words`` (() for a word the analyser does not know):
    taken from ``known`` (an earlier build's) where it has them, the rest
    analysed in a child process; ``progress(done, total)`` hears of the
    child's words. {} without the analyser; a child that fails is logged and
    its words keep their stems (the build goes on)."""
    if not available():
        return {}
    known = known or {}
    todo = sorted({w for w in words if worth_analysing(w)})  # never a STEM_KEY entry
    out = {w: tuple(known[w]) for w in todo if w in known}
    new = [w for w in todo if w not in known]
    if new:
        found = _in_child(new, progress or (lambda done, total: None))
        out.update({str(w): tuple(str(t) for t in terms) for w, terms in found.items()})
    return out


def readings(words: Iterable[str]) -> dict[str, list[list[str]]]:
    """Each word's readings the analyser finds in its lexicon, whatever the
    switch says (it is about builds): per reading, its base form and then,
    for a compound, its parts ("hankintasopimuksen" -> [["hankintasopimus",
    "hankinta", "sopimus"]]); adapt's English glosses read Finnish headings
    through them. {} without the package, or where the child fails."""
    todo = sorted({w for w in words if worth_analysing(w)})
    if not _installed() or not todo:
        return {}
    found = _in_child(todo, lambda done, total: None, READINGS)
    return {
        w: [[str(x) for x in r] for r in rs if isinstance(r, list)]
        for w, rs in found.items()
        if isinstance(rs, list)
    }


STEM_KEY = "~"  # the analyses' entries by Snowball stem: "~" + stem (no word holds "~")


def with_stems(analyses: Analyses) -> dict[str, tuple[str, ...]]:
    """``analyses`` and, under STEM_KEY + a word's Snowball stem, the terms
    of every analysed word with that stem: a question's inflection that no
    passage and no translation holds ("tuomioistuimesta") is read as the
    forms of its stem that the build analysed ("tuomioistuimen")."""
    by_stem: dict[str, dict[str, None]] = {}
    for word, terms in analyses.items():
        if terms and not word.startswith(STEM_KEY):
            by_stem.setdefault(STEM_KEY + stem(word, "fi"), {}).update(dict.fromkeys(terms))
    return {**analyses, **{key: tuple(terms) for key, terms in by_stem.items()}}


def keys(words: Iterable[str]) -> list[str]:
    """What to look up for ``words``: each word, and its stem's entry."""
    found = [w for w in dict.fromkeys(words) if worth_analysing(w)]
    return found + [STEM_KEY + stem(w, "fi") for w in found]


def resolve(words: Iterable[str], found: Analyses) -> dict[str, tuple[str, ...]]:
    """Each word's terms from the entries looked up for ``keys(words)``: its
    own analysis, else its stem's."""
    out = {}
    for w in dict.fromkeys(words):
        terms = found.get(w) or found.get(STEM_KEY + stem(w, "fi"))
        if terms:
            out[w] = tuple(terms)
    return out


PROGRESS_EVERY = 2000  # words between the child's progress lines


TERMS, READINGS = "terms", "readings"  # what the child writes for each word


def _in_child(words: list[str], progress: Callable[[int, int], None], what: str = TERMS) -> dict:
    """Analyse ``words`` in a child process: words in and analyses (or
    readings) out as JSON files, "done total" progress lines on its stderr."""
    started = time.monotonic()
    tail: list[str] = []
    progress(0, len(words))
    try:
        with tempfile.TemporaryDirectory(prefix="kb-finnish-") as tmp:
            given, found = Path(tmp) / "words.json", Path(tmp) / "analyses.json"
            given.write_text(json.dumps(words), encoding="utf-8")
            with subprocess.Popen(
                [sys.executable, "-m", "kb.text.morphology", str(given), str(found), what],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
                encoding="utf-8",
                errors="replace",
                env=child_env(ROOT),
            ) as child:
                for line in child.stderr:
                    done, _, total = line.strip().partition(" ")
                    if done.isdigit() and total.isdigit():
                        progress(int(done), int(total))
                    else:
                        tail = (tail + [line.strip()])[-5:]
            if child.returncode != 0:
                raise OSError(f"exit status {child.returncode}: {' '.join(tail)[-300:]}")
            data = json.loads(found.read_text(encoding="utf-8"))
            if not isinstance(data, dict):
                raise ValueError("the analyses are not a JSON object")
    except (OSError, ValueError) as exc:
        logger.warning(
            "the Finnish analyser failed (%s): Finnish words keep their Snowball stems", exc
        )
        return {}
    logger.info(
        "analysed %d Finnish words in %.1f s (%d known to the analyser)",
        len(words),
        time.monotonic() - started,
        sum(1 for terms in data.values() if terms),
    )
    return data


def _terms(analyse_word, word: str) -> tuple[str, ...]:
    """Index terms of a lower-cased Finnish word the analyser knows: the
    Snowball stems of its base forms and their compound parts (each once,
    the whole before its parts); () for a word it does not know."""
    try:
        found = analyse_word(word)
    except Exception:  # noqa: BLE001 - one word the analyser chokes on keeps its stem
        return ()
    terms: dict[str, None] = {}
    for reading in found:
        if not reading.source.startswith("Lexicon"):  # a guess, not a known word
            continue
        parts = [p for p in reading.lemma.lower().split("|") if p]
        terms.setdefault(stem("".join(parts), "fi"), None)
        if len(parts) > 1:
            for part in parts:
                if len(part) >= MIN_PART:
                    terms.setdefault(stem(part, "fi"), None)
    return tuple(terms)


def _readings(analyse_word, word: str) -> list[list[str]]:
    """A word's lexicon readings: [base form, *compound parts] each."""
    try:
        found = analyse_word(word)
    except Exception:  # noqa: BLE001 - one word the analyser chokes on has none
        return []
    out: list[list[str]] = []
    for reading in found:
        if reading.source.startswith("Lexicon"):
            parts = [p for p in reading.lemma.lower().split("|") if p]
            entry = ["".join(parts), *parts] if len(parts) > 1 else parts
            if entry and entry not in out:
                out.append(entry)
    return out


def _main(given: str, found: str, what: str = TERMS) -> int:
    """The child: the words in the JSON file ``given``; their analyses
    (index terms, or readings) written to ``found`` (empty for a word the
    analyser does not know, so that the next build need not ask again);
    progress on stderr."""
    from pypykko.utils import analyze

    one = _readings if what == READINGS else _terms

    words = json.loads(Path(given).read_text(encoding="utf-8"))
    out = {}
    for i, word in enumerate(words, 1):
        if isinstance(word, str) and worth_analysing(word):
            out[word] = one(analyze, word)  # empty for a word it does not know
        if i % PROGRESS_EVERY == 0:
            print(i, len(words), file=sys.stderr, flush=True)
    Path(found).write_text(json.dumps(out, ensure_ascii=False), encoding="utf-8")
    print(len(words), len(words), file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(_main(*sys.argv[1:4]))
