"""ingest/adapt/gloss.py and the gloss pairs: Finnish headings put into
English through a small English–Finnish table, and the pairs they make on
the small law of testsupport/adaptcorpus.py."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from ingest.adapt.gloss import Glossary
from ingest.adapt.pairs import body_text, mine_pairs
from kb.choices import PairKind
from testsupport.adaptcorpus import law_chunks

TABLE = {
    "procurement": (("hankinta",),),
    "unit": (("yksikkö",),),
    "obligation": (("velvollisuus",),),
    "direct": (("suora",),),
    "open": (("avoin",),),
    "procedure": (("menettely",),),
    "supplier": (("toimittaja",), ("hankkija",)),
    "editor": (("toimittaja",), ("editori",), ("päätoimittaja",)),
    "scope": (("soveltamisala",),),
    "contracting authority": (("hankintayksikkö",),),  # a phrase: never a gloss
}


def test_a_heading_is_glossed_word_by_word_through_stems_and_compounds():
    glossary = Glossary(TABLE)
    rng = random.Random(0)
    # "hankintayksikön": no entry, no stem's entry: split into hankinta + yksikön (by stem)
    assert glossary.gloss("Hankintayksikön velvollisuus", rng) == "procurement unit obligation"
    assert glossary.gloss("Suorahankinta", rng) == "direct procurement"
    # "avoimessa" shares no stem with "avoin": half the words found is enough
    assert glossary.gloss("Avoimessa menettelyssä", rng) == "procedure"
    assert glossary.parts("menettelyn") == [["procedure"]]


def test_a_heading_with_fewer_than_half_its_words_known_gives_no_gloss():
    glossary = Glossary(TABLE)
    rng = random.Random(0)
    assert glossary.gloss("Kansalliset kynnysarvot ja menettely", rng) == ""  # 1 of 3 words
    assert glossary.gloss("Menettely ja kynnysarvot", rng) == "procedure"  # "ja" is not counted
    assert glossary.gloss("12 §", rng) == ""
    assert not Glossary({})


def test_a_translation_the_corpus_uses_more_is_drawn_more_often():
    rng = random.Random(1)
    weighted = Glossary(TABLE, used={"toimittaj", "hankkij"})
    drawn = Counter(weighted.gloss("Toimittaja", rng) for _ in range(1000))
    # (1 + 0.05) x (Zipf 3.84 + 0.05) against (1/3 + 0.05) x (Zipf 4.62 + 0.05)
    assert drawn["supplier"] > 1.8 * drawn["editor"] > 0
    plain = Counter(Glossary(TABLE).gloss("Toimittaja", rng) for _ in range(1000))
    assert plain["editor"] > plain["supplier"] > 0  # by English use alone: "editor" is commoner


def test_a_common_english_word_is_drawn_before_a_rare_one():
    """The one translation of "stercoranist" begins "henkilö, joka uskoo...", so
    "henkilö" is all of its single words, and all of them are in the corpus."""
    table = {
        "person": (("persoona",), ("henkilö",), ("yksilö",)),
        "stercoranist": (("henkilö",), ("joka", "uskoo")),
    }
    glossary = Glossary(table, used={"henkilö"})
    rng = random.Random(2)
    drawn = Counter(glossary.gloss("Henkilö", rng) for _ in range(200))
    assert drawn["person"] > 20 * drawn["stercoranist"]


def test_a_compound_splits_where_its_first_part_is_longest_and_no_part_is_tiny():
    table = {
        "sea": (("meren",),),
        "seashore": (("merenranta",),),
        "beachtown": (("rantakaupunki",),),
        "town": (("kaupunki",),),
        "tar": (("tar",),),  # the Persian instrument: a three-letter part says nothing
        "spring": (("jousi",),),
    }
    glossary = Glossary(table)
    assert glossary.parts("merenrantakaupunki") == [["seashore"], ["town"]]
    assert glossary.parts("tarjousi") == []  # not "tar" + "jousi"


def test_the_analyser_reads_a_compound_that_a_split_in_two_cannot():
    """Readings as kb.text.morphology.readings gives them: per reading, the
    base form and then a compound's parts; "sopimuksen" is no Snowball form
    of "sopimus", so only the analyser finds it."""
    table = {
        "procurement": (("hankinta",),),
        "contract": (("sopimus",),),
        "law": (("laki",),),
        "about": (("la",),),  # "la" (Saturday, or the syllable): a reading too short to trust
        "sub": (("ali",),),
    }
    readings = {
        "hankintasopimuksen": [["hankintasopimus", "hankinta", "sopimus"]],
        "lain": [["la"], ["laki"], ["lain"]],
        "alihankinnan": [["alihankinta", "ali", "hankinta"]],
    }
    assert Glossary(table).gloss("Hankintasopimuksen muuttaminen", random.Random(0)) == ""
    glossary = Glossary(table, readings=readings)
    assert glossary.parts("hankintasopimuksen") == [["procurement"], ["contract"]]
    assert glossary.parts("lain") == [["law"]]  # the first base form long enough
    assert glossary.parts("alihankinnan") == []  # a part of three letters says nothing


@pytest.fixture(scope="module")
def chunks(tmp_path_factory):
    return law_chunks(tmp_path_factory.mktemp("gloss-law"))


def test_gloss_pairs_ask_in_english_for_the_section_in_each_language(chunks):
    pairs = mine_pairs(chunks, [PairKind.GLOSS], glossary=Glossary(TABLE))
    assert pairs and all(p.kind is PairKind.GLOSS and p.lang == "en" for p in pairs)
    by_anchor: dict[str, set[str]] = {}
    for p in pairs:
        by_anchor.setdefault(p.anchor, set()).add(p.positive)
    # 1 §, 5 § and 6 §; the other headings' words are not in the table
    assert set(by_anchor) == {"scope", "open procedure", "direct procurement"}
    law = {c.section[-1]: body_text(c) for c in chunks if c.section}
    assert by_anchor["direct procurement"] == {
        law["6 § Suorahankinta"],
        law["6 § Direktupphandling"],
    }
    assert all(p.negative not in by_anchor[p.anchor] for p in pairs)


def test_no_dictionary_no_gloss_pairs_and_the_other_kinds_unchanged(chunks):
    without = mine_pairs(chunks, glossary=Glossary({}))
    assert not [p for p in without if p.kind is PairKind.GLOSS]
    with_gloss = mine_pairs(chunks, glossary=Glossary(TABLE))
    assert [p for p in with_gloss if p.kind is not PairKind.GLOSS] == without


def test_a_heading_whose_number_repeats_in_its_document_glosses_only_its_own_text(chunks):
    """A second "1 §" in the Finnish version: each of the two glosses asks
    for its own text, not for the Swedish "1 §", the version of either."""
    from dataclasses import replace

    fi = [c for c in chunks if c.lang == "fi" and c.section]
    first = next(c for c in fi if c.section[-1] == "1 § Soveltamisala")
    last = max(c.ordinal for c in chunks if c.doc_id == first.doc_id)
    again = replace(
        first,
        chunk_id=first.chunk_id + "-again",
        ordinal=last + 1,
        section=(*first.section[:-1], "1 § Menettely"),
        text=first.text.replace("Soveltamisala", "Menettely"),
    )
    pairs = mine_pairs([*chunks, again], [PairKind.GLOSS], glossary=Glossary(TABLE))
    repeated = [p for p in pairs if p.anchor == "procedure"]
    assert repeated and {p.positive for p in repeated} == {body_text(again)}
    # nor does the first: which Swedish "1 §" is its version is not sure any more
    assert {p.positive for p in pairs if p.anchor == "scope"} == {body_text(first)}
