"""Training pairs mined from the index alone: no metadata, no questions.

Every pair is (anchor, positive, negative), the anchor embedded as a query
and the other two as passages (ingest/adapt/train.py):

- ``heading``: a section's own heading, without its number ("38 §
  Innovaatiokumppanuus" -> "Innovaatiokumppanuus") -> the section's first
  passage without the headings that open it, in each language version;
- ``translation``: a section's first passage -> the same section's first
  passage in another language version (documents of one ``group``, written
  in sources.toml or found by the build, ingest/versions.py; sections
  matched by their numbered heading, "38 §" = "38 §", "5 luku" = "5 kap.");
- ``cloze``: a sentence -> its passage with that sentence removed (the
  inverse cloze task);
- ``gloss``: a Finnish section heading put into English word by word
  through the bilingual dictionary (ingest/adapt/gloss.py) -> the section's
  first passage in each language version: English anchors, which the
  corpus cannot give.

The negative is a hard one: a passage of a neighbouring section of the same
chapter (in the positive's document), so the model learns what tells two
sections about similar things apart.
"""

from __future__ import annotations

import logging
import random
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ingest.adapt.gloss import SOURCE, Glossary
from kb.choices import PairKind
from kb.records import Chunk
from kb.text.headings import CHAPTER, NUMBERED, PART, SECTION, heading_key
from kb.text.sentences import body_spans, heading_end

logger = logging.getLogger(__name__)

MIN_BODY_WORDS = 8  # a positive or negative passage shorter than this is left out
MIN_SENTENCE_WORDS = 6  # a cloze sentence must say something on its own
MIN_REST_WORDS = 12  # ... and leave enough of its passage behind
MIN_HEADING_LETTERS = 3


@dataclass(frozen=True)
class Pair:
    kind: PairKind
    anchor: str
    positive: str
    negative: str
    lang: str = ""  # the anchor's language

    def texts(self) -> tuple[str, str, str]:
        return (self.anchor, self.positive, self.negative)


@dataclass
class Section:
    """The passages of one document under one heading path, in order."""

    doc: str
    lang: str
    group: str
    path: tuple[str, ...]
    chunks: list[Chunk]
    position: int = 0  # among its document's sections

    @property
    def key(self) -> str | None:
        """The language-independent key of its deepest numbered heading."""
        return heading_key(self.path)

    @property
    def parent(self) -> tuple[str, ...]:
        return self.path[:-1]

    def body(self) -> str:
        """Its first passage without the headings that open it ("" if too short)."""
        return body_text(self.chunks[0])


def _words(text: str) -> int:
    return len(re.findall(r"\w+", text))


def body_text(chunk: Chunk) -> str:
    """A passage's text after the headings that open it; "" when too short."""
    body = chunk.text[heading_end(chunk.text, chunk.section) :].strip()
    return body if _words(body) >= MIN_BODY_WORDS else ""


def heading_words(title: str) -> str:
    """A heading title without its number: "38 § Innovaatiokumppanuus" ->
    "Innovaatiokumppanuus", "5 kap. Upphandlingsförfaranden" ->
    "Upphandlingsförfaranden"; "" when nothing but a number is left."""
    title = " ".join(title.split())
    for pattern in (SECTION, CHAPTER, PART, NUMBERED):
        m = pattern.match(title)
        if m and m.group(m.lastindex or 0):
            title = m.group(m.lastindex or 0).strip()
            break
    return title if len(re.findall(r"[^\W\d_]", title)) >= MIN_HEADING_LETTERS else ""


def sections_of(chunks: Iterable[Chunk]) -> list[Section]:
    """Runs of passages under one heading path, per document in reading
    order; passages under no heading belong to no section."""
    by_doc: dict[str, list[Chunk]] = {}
    for c in chunks:
        by_doc.setdefault(c.doc_id, []).append(c)
    out: list[Section] = []
    for doc, cs in by_doc.items():
        cs.sort(key=lambda c: c.ordinal)
        current: Section | None = None
        position = 0
        for c in cs:
            if not c.section:
                current = None
                continue
            if current is None or current.path != c.section:
                current = Section(doc, c.lang, c.group, c.section, [], position)
                position += 1
                out.append(current)
            current.chunks.append(c)
    return out


class _Neighbours:
    """Hard negatives: a neighbouring section of the same chapter."""

    def __init__(self, sections: Sequence[Section], rng: random.Random) -> None:
        self.rng = rng
        self.by_doc: dict[str, list[Section]] = {}
        for s in sections:
            self.by_doc.setdefault(s.doc, []).append(s)

    def negative(self, section: Section) -> str:
        """The body of the section before or after ``section`` under the same
        parent heading (else just before or after it; else any other of its
        document), chosen at random; "" when its document has no other."""
        doc = self.by_doc[section.doc]
        i = doc.index(section)
        around = [doc[j] for j in (i - 1, i + 1) if 0 <= j < len(doc)]
        for candidates in (
            [s for s in around if s.parent == section.parent],
            around,
            [s for s in doc if s is not section],
        ):
            bodies = [b for b in (s.body() for s in candidates) if b]
            if bodies:
                return self.rng.choice(bodies)
        return ""


def heading_pairs(sections: Sequence[Section], near: _Neighbours) -> list[Pair]:
    out = []
    for s in sections:
        anchor, positive = heading_words(s.path[-1]), s.body()
        negative = near.negative(s) if anchor and positive else ""
        if negative:
            out.append(Pair(PairKind.HEADING, anchor, positive, negative, s.lang))
    return out


class _Versions:
    """The same numbered section in the other language versions of its group."""

    def __init__(self, sections: Sequence[Section]) -> None:
        self.keyed: dict[tuple[str, str, str], list[Section]] = {}
        for s in sections:
            if s.group and s.key:
                self.keyed.setdefault((s.group, s.doc, s.key), []).append(s)
        self.docs_of: dict[str, set[str]] = {}
        for group, doc, _ in self.keyed:
            self.docs_of.setdefault(group, set()).add(doc)

    def sources(self) -> list[Section]:
        """Every section whose number is once in its document (a number that
        repeats in one document matches nothing surely)."""
        return [found[0] for found in self.keyed.values() if len(found) == 1]

    def of(self, source: Section) -> list[Section]:
        """``source`` in the group's other documents of another language;
        none where its number repeats in its own document."""
        if len(self.keyed.get((source.group, source.doc, source.key or ""), [])) != 1:
            return []
        out = []
        for other in sorted(self.docs_of[source.group] - {source.doc}):
            targets = self.keyed.get((source.group, other, source.key), [])
            if len(targets) == 1 and targets[0].lang != source.lang:
                out.append(targets[0])
        return out


def translation_pairs(sections: Sequence[Section], near: _Neighbours) -> list[Pair]:
    """Both directions, between every two language versions of a group."""
    versions = _Versions(sections)
    out = []
    for source in versions.sources():
        for target in versions.of(source):
            anchor, positive = source.body(), target.body()
            negative = near.negative(target) if anchor and positive else ""
            if negative:
                out.append(Pair(PairKind.TRANSLATION, anchor, positive, negative, source.lang))
    return out


GLOSSES = 2  # English glosses drawn for each Finnish heading


def gloss_pairs(
    sections: Sequence[Section], near: _Neighbours, rng: random.Random, glossary: Glossary
) -> list[Pair]:
    """Each Finnish heading's English glosses -> the section and its
    versions in the other languages."""
    if not glossary:
        return []
    versions = _Versions(sections)
    out = []
    for s in sections:
        title = heading_words(s.path[-1]) if s.lang == SOURCE else ""
        if not title:
            continue
        glosses = dict.fromkeys(glossary.gloss(title, rng) for _ in range(GLOSSES))
        for target in [s, *versions.of(s)]:
            positive = target.body()
            negative = near.negative(target) if positive else ""
            for anchor in glosses:
                if anchor and negative:
                    out.append(Pair(PairKind.GLOSS, anchor, positive, negative, "en"))
    return out


def cloze_pairs(sections: Sequence[Section], near: _Neighbours, rng: random.Random) -> list[Pair]:
    """One sentence of each passage (at random among those long enough)."""
    out = []
    for s in sections:
        for c in s.chunks:
            spans = body_spans(c.text, c.section)
            body_start = heading_end(c.text, c.section)
            usable = [(a, b) for a, b in spans if _words(c.text[a:b]) >= MIN_SENTENCE_WORDS]
            if len(spans) < 2 or not usable:
                continue
            a, b = rng.choice(usable)
            rest = " ".join(f"{c.text[body_start:a]} {c.text[b:]}".split())
            if _words(rest) < MIN_REST_WORDS:
                continue
            negative = near.negative(s)
            if negative:
                anchor = " ".join(c.text[a:b].split())
                out.append(Pair(PairKind.CLOZE, anchor, rest, negative, c.lang))
    return out


def _installed_glossary(sections: Sequence[Section]) -> Glossary:
    finnish = [s for s in sections if s.lang == SOURCE]
    return Glossary.installed(
        [c.text for s in finnish for c in s.chunks], [heading_words(s.path[-1]) for s in finnish]
    )


def mine_pairs(
    chunks: Iterable[Chunk],
    kinds: Iterable[PairKind] = tuple(PairKind),
    seed: int = 0,
    glossary: Glossary | None = None,
) -> list[Pair]:
    """The training pairs of ``kinds`` that the index's passages give, each
    (kind, anchor, positive) once, in a stable order for a given ``seed``;
    gloss pairs through ``glossary`` (default: the installed dictionary's)."""
    sections = sections_of(chunks)
    rng = random.Random(seed)
    near = _Neighbours(sections, rng)
    miners = {
        PairKind.HEADING: lambda: heading_pairs(sections, near),
        PairKind.TRANSLATION: lambda: translation_pairs(sections, near),
        PairKind.CLOZE: lambda: cloze_pairs(sections, near, rng),
        PairKind.GLOSS: lambda: gloss_pairs(
            sections,
            near,
            rng,
            _installed_glossary(sections) if glossary is None else glossary,
        ),
    }
    wanted = {PairKind.from_str(k) for k in kinds}
    seen: set[tuple[str, str, str]] = set()
    out = []
    for kind in PairKind:
        if kind not in wanted:
            continue
        for p in miners[kind]():
            if (p.kind, p.anchor, p.positive) not in seen and p.anchor != p.positive:
                seen.add((p.kind, p.anchor, p.positive))
                out.append(p)
    logger.info("mined %d pairs from %d sections", len(out), len(sections))
    return out


def count_kinds(pairs: Iterable[Pair]) -> dict[str, int]:
    counts = {k.value: 0 for k in PairKind}
    for p in pairs:
        counts[p.kind.value] += 1
    return {k: n for k, n in counts.items() if n}
