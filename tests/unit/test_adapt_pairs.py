"""ingest/adapt/pairs.py: training pairs mined from a small index (a law in
Finnish and Swedish, dropped in without metadata, and a note), built with
the fake embedder."""

from __future__ import annotations

import pytest

from ingest.adapt.gloss import Glossary
from ingest.adapt.pairs import count_kinds, heading_words, mine_pairs, sections_of
from kb.choices import PairKind
from testsupport.adaptcorpus import FI, SECTIONS_PER_VERSION, SV, law_chunks, sentences

NO_GLOSSARY = Glossary({})  # whatever dictionaries the machine has


@pytest.fixture(scope="module")
def chunks(tmp_path_factory):
    return law_chunks(tmp_path_factory.mktemp("adapt-law"))


@pytest.fixture(scope="module")
def pairs(chunks):
    return mine_pairs(chunks, glossary=NO_GLOSSARY)


def bodies(chapters) -> dict[str, str]:
    """Section heading -> its text, as written."""
    return {h: " ".join(ss) for sections in chapters.values() for h, ss in sections.items()}


def of(pairs, kind):
    return [p for p in pairs if p.kind is kind]


@pytest.mark.parametrize(
    "title, words",
    [
        ("38 § Innovaatiokumppanuus", "Innovaatiokumppanuus"),
        ("38 a § Innovaatiokumppanuus", "Innovaatiokumppanuus"),
        ("5 kap. Upphandlingsförfaranden", "Upphandlingsförfaranden"),
        ("5 luku Hankintamenettelyt", "Hankintamenettelyt"),
        ("3.2 Market   dialogue", "Market dialogue"),
        ("Mer information", "Mer information"),
        ("12 §", ""),
        ("II", ""),
    ],
)
def test_heading_words_drop_the_number(title, words):
    assert heading_words(title) == words


def test_sections_follow_the_heading_paths_of_each_document(chunks):
    sections = sections_of(chunks)
    law = [s for s in sections if s.doc in ("laki", "lag")]
    assert len(law) == 2 * SECTIONS_PER_VERSION
    assert all(s.group and s.group.startswith("versions:") for s in law)  # linked by the build
    assert [s.key for s in law if s.doc == "laki"] == [f"{i}§" for i in range(1, 7)]


def test_a_heading_gives_its_own_section_text_in_each_language(pairs):
    heading = of(pairs, PairKind.HEADING)
    written = {**bodies(FI), **bodies(SV)}
    by_anchor = {p.anchor: p for p in heading}
    for title, text in written.items():
        p = by_anchor[heading_words(title)]
        assert p.positive == text  # the text without its heading: not a give-away
        assert p.negative in written.values() and p.negative != text
    assert len(heading) == 2 * SECTIONS_PER_VERSION  # the note has no section heading to ask


def test_the_negative_is_a_neighbouring_section_of_the_same_chapter(pairs):
    for chapters in (FI, SV):
        texts = list(bodies(chapters).values())
        mine = [p for p in of(pairs, PairKind.HEADING) if p.positive in texts]
        assert len(mine) == SECTIONS_PER_VERSION
        for p in mine:
            i, j = texts.index(p.positive), texts.index(p.negative)
            assert abs(i - j) == 1 and (i < 3) == (j < 3)  # chapter 1 is sections 1-3


def test_a_section_pairs_with_the_same_section_in_the_other_language(pairs):
    translation = of(pairs, PairKind.TRANSLATION)
    fi, sv = list(bodies(FI).values()), list(bodies(SV).values())
    expected = set(zip(fi, sv, strict=True)) | set(zip(sv, fi, strict=True))
    assert {(p.anchor, p.positive) for p in translation} == expected  # both directions
    for p in translation:
        same_language = fi if p.positive in fi else sv
        assert p.negative in same_language and p.negative != p.positive


def test_inverse_cloze_removes_the_sentence_from_its_passage(pairs):
    cloze = of(pairs, PairKind.CLOZE)
    written = set(sentences(FI)) | set(sentences(SV))
    assert len(cloze) == 2 * SECTIONS_PER_VERSION
    for p in cloze:
        assert p.anchor in written
        assert p.anchor not in p.positive
        passage = next(b for b in (*bodies(FI).values(), *bodies(SV).values()) if p.anchor in b)
        assert p.positive == " ".join(passage.replace(p.anchor, " ").split())


def test_each_pair_carries_its_anchor_language(pairs):
    fi_texts = set(bodies(FI)) | set(bodies(FI).values()) | set(sentences(FI))
    fi_texts |= {heading_words(h) for h in bodies(FI)}
    assert {p.lang for p in pairs} == {"fi", "sv"}
    for p in pairs:
        assert (p.lang == "fi") == (p.anchor in fi_texts), p


def test_mining_is_stable_for_a_seed_and_takes_only_the_kinds_asked(chunks, pairs):
    assert mine_pairs(chunks, glossary=NO_GLOSSARY) == pairs
    only = mine_pairs(chunks, kinds=["heading"])
    assert count_kinds(only) == {"heading": 2 * SECTIONS_PER_VERSION}
    unglossed = [k for k in PairKind if k is not PairKind.GLOSS]  # tests/unit/test_adapt_gloss.py
    assert count_kinds(pairs) == {k.value: 2 * SECTIONS_PER_VERSION for k in unglossed}


def test_without_headings_or_versions_there_is_nothing_to_mine(chunks):
    note = [c for c in chunks if c.doc_id == "notes"]
    assert note and mine_pairs(note) == []
    fi_only = [c for c in chunks if c.doc_id == "laki"]
    assert count_kinds(mine_pairs(fi_only)).get("translation", 0) == 0
