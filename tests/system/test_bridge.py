"""The lexical bridge: an English question reaches a Finnish-only passage
through a (tiny, made-here) FreeDict dictionary that plain BM25 cannot, and
search goes on without a bridge where no dictionary is installed."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest import __main__ as ingest_cli
from ingest.pipeline import build_index
from kb.text import dictionaries
from search import Searcher, bridge, retrieval
from testsupport.dictd import write_dictd
from testsupport.fakes import FakeEmbedder

# FreeDict's layout: a header line, then numbered senses each followed by a
# gloss, or one unnumbered line of translations.
ENG_FIN = {
    "threshold": "threshold /ˈθɹɛʃ.hoʊld/ <n>\n1. kynnys\nsill\n2. kynnysarvo\nlimit\n",
    "procurement": "procurement /pɹəˈkjʊə.mənt/ <n>\nhankinta, ostaminen\nact of procuring\n",
    "cleaning": "cleaning <n>\nsiivous\n",
}
FINNISH = [
    "# Kynnysarvot\n\nHankinnan kynnysarvo ylittyy, kun hankinnan arvo on suuri.\n",
    "# Siivous\n\nSiivouspalvelut kilpailutetaan vuosittain kaupungin kouluissa.\n",
    "# Valvonta\n\nKilpailu- ja kuluttajavirasto valvoo lain noudattamista.\n",
]
QUESTION = "What is the procurement threshold and when does it apply to us?"


@pytest.fixture
def tiny_dicts(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "dictd"
    write_dictd(folder, "eng-fin", ENG_FIN)
    monkeypatch.setenv(dictionaries.DICT_DIR_ENV, str(folder))
    return folder


class MisledEmbedder(FakeEmbedder):
    """Embeds every query as the cleaning passage: dense retrieval ranks the
    wrong passage first, as the model's cross-lingual reach sometimes does."""

    def embed_queries(self, texts):
        return super().embed_queries([FINNISH[1] for _ in texts])


@pytest.fixture
def finnish_searcher(settings) -> Searcher:
    for i, text in enumerate(FINNISH):
        (settings.corpus_dir / f"ohje{i}.fi.md").write_text(text, encoding="utf-8")
    fake = MisledEmbedder()
    build_index(settings, embedder=fake)
    return Searcher.load(settings.index_dir, settings, embedder=fake)


def test_a_dictd_entry_reads_as_its_translations():
    assert dictionaries.translations(ENG_FIN["threshold"]) == ["kynnys", "kynnysarvo"]
    assert dictionaries.translations(ENG_FIN["procurement"]) == ["hankinta", "ostaminen"]


def test_inflected_words_find_their_headword(tiny_dicts):
    assert dictionaries.lookup("thresholds", "en", "fi") == (("kynnys",), ("kynnysarvo",))
    terms = bridge.bridged_terms(QUESTION, "en", "fi")
    # two translations each: half a word's weight each; question words untranslated
    assert terms == {"hankin": 0.5, "ostamin": 0.5, "kynnys": 0.5, "kynnysarvo": 0.5}


def test_affixes_and_entries_filed_under_a_stripped_key_are_not_read(tmp_path):
    """dictd files "and/or" as "andor"; no query word is "andor", and an
    affix ("-ify") is no word: neither becomes a translation; "etc." does."""
    write_dictd(
        tmp_path,
        "eng-fin",
        {
            **ENG_FIN,
            "andor": "and/or /ˈændɔː(ɹ)/ <conjunction>\nja/tai, tai\n",
            "ify": "ify /ɪfaɪ/ <suffix>\nntaa, ntää\nto make\n",
            "etc": "etc. /ɛtˈsɛtəɹə/ <adv>\njne\n",  # a query's "etc." is the word "etc"
        },
    )
    table = dictionaries.read_dictd(
        tmp_path / "freedict-eng-fin.index", tmp_path / "freedict-eng-fin.dict.dz", "en"
    )
    assert {k for k in table if not k.startswith(dictionaries.STEM)} == {*ENG_FIN, "etc"}
    assert table["cleaning"] == (("siivous",),)


@pytest.mark.morphology
def test_translations_are_analysed_as_the_finnish_passages_were(tiny_dicts, finnish_searcher):
    """The build analysed the dictionaries' Finnish words too
    (kb/text/morphology.py): "ostaminen" is the verb "ostaa", "kynnysarvo"
    the compound kynnys + arvo, so "kynnys" counts for both translations."""
    lookup = finnish_searcher.view.finnish_words
    terms = bridge.bridged_terms(QUESTION, "en", "fi", lookup)
    assert terms == {"hankin": 0.5, "ost": 0.5, "kynnys": 1.0, "kynnysarvo": 0.5, "arvo": 0.5}


def test_a_bridged_english_question_finds_a_finnish_only_passage(tiny_dicts, finnish_searcher):
    view = finnish_searcher._view
    where = view.where(None, None, None)
    # plain BM25 has no word of the English question in the Finnish passages
    assert retrieval.bm25(view, QUESTION, where, 10) == []
    # BM25 mode goes through the bridge too
    assert finnish_searcher.search(QUESTION, k=3, mode="bm25")[0].doc_id == "ohje0-fi"
    rows = retrieval.bridged(view, QUESTION, "en", "fi", where, 10)
    assert rows and view.chunks[rows[0]].doc_id == "ohje0-fi"
    assert finnish_searcher.search(QUESTION, k=3, mode="dense")[0].doc_id == "ohje1-fi"
    hits = finnish_searcher.search(QUESTION, k=3, mode="hybrid")
    assert hits[0].doc_id == "ohje0-fi"  # the bridge outweighs the misled dense list


def test_without_dictionaries_search_works_and_status_says_so(
    tmp_path, monkeypatch, finnish_searcher, settings, capsys
):
    monkeypatch.setenv(dictionaries.DICT_DIR_ENV, str(tmp_path / "nowhere"))
    assert bridge.bridged_terms(QUESTION, "en", "fi") == {}
    hits = finnish_searcher.search(QUESTION, k=3, mode="hybrid")
    assert [h.doc_id for h in hits][:1] == ["ohje1-fi"]  # dense alone answers
    assert not finnish_searcher.search(QUESTION, k=3, mode="bm25")
    assert ingest_cli.main(["status"]) == 0
    out = capsys.readouterr().out
    assert "dictionaries absent (en→fi, en→sv, fi→sv, sv→fi)" in out
    assert "dict-freedict-eng-fin" in out


def test_status_is_quiet_when_every_dictionary_is_there(tiny_dicts, settings, capsys):
    for name in ("eng-swe", "fin-swe", "swe-fin"):
        write_dictd(tiny_dicts, name, {"x": "x\ny\n"})
    assert dictionaries.status_note() is None


@pytest.mark.morphology
def test_postgres_ranks_the_bridge_as_the_index_folder_does(tiny_dicts, settings, pg_url):
    """The weighted bridge query (1/n per term) in SQL: the same rows, in the
    same order, as bm25s over the index folder."""
    from dataclasses import replace

    for i, text in enumerate(FINNISH):
        (settings.corpus_dir / f"ohje{i}.fi.md").write_text(text, encoding="utf-8")
    fake = MisledEmbedder()
    pg = replace(settings, backend=pg_url)
    build_index(settings, embedder=fake)
    build_index(pg, embedder=fake)
    files = Searcher.load(settings.index_dir, settings, embedder=fake)
    postgres = Searcher.load(settings.index_dir, pg, embedder=fake)
    question = "procurement thresholds for cleaning"
    ranked = []
    for s in (files, postgres):
        view = s._view
        ranked.append(
            retrieval.bridged(view, question, "en", "fi", view.where(None, None, None), 10)
        )
    # "cleaning" has one translation (weight 1), "siivous", which the
    # analyser finds in "Siivouspalvelut" too; the threshold passage holds
    # "hankinta", "kynnys" (1: both translations hold it), "kynnysarvo" and
    # "arvo" (0.5 each), and comes first in both
    assert ranked[0] == ranked[1] == [0, 1]
    for mode in ("bm25", "hybrid"):
        a, b = files.search(question, k=3, mode=mode), postgres.search(question, k=3, mode=mode)
        assert [h.chunk_id for h in a] == [h.chunk_id for h in b]
        assert [h.score for h in a] == pytest.approx([h.score for h in b], abs=1e-6)


def test_postgres_runs_a_searchs_queries_at_once_with_the_same_results(
    tiny_dicts, settings, pg_url
):
    """With PostgreSQL, an English hybrid search's dense query and its
    bridge query run at once on the retrievers' threads; one after the
    other, the same hits and scores."""
    import threading
    from dataclasses import replace

    for i, text in enumerate(FINNISH):
        (settings.corpus_dir / f"ohje{i}.fi.md").write_text(text, encoding="utf-8")
    pg = replace(settings, backend=pg_url)
    build_index(pg, embedder=MisledEmbedder())
    searcher = Searcher.load(None, pg, embedder=MisledEmbedder())
    index = searcher.generation
    threads: list[str] = []
    for name in ("dense", "lexical"):
        method = getattr(index, name)

        def recorded(*args, _method=method, **kwargs):
            threads.append(threading.current_thread().name)
            return _method(*args, **kwargs)

        setattr(index, name, recorded)
    question = "procurement thresholds for cleaning"
    at_once = searcher.search(question, k=3, mode="hybrid")
    assert len(threads) == 2 and all(t.startswith("kb-retrieve") for t in threads), threads
    threads.clear()
    index.remote = False
    one_by_one = searcher.search(question, k=3, mode="hybrid")
    assert threads == [threading.current_thread().name] * 2
    assert [h.chunk_id for h in at_once] == [h.chunk_id for h in one_by_one]
    assert [h.score for h in at_once] == [h.score for h in one_by_one]


def test_warming_reads_the_dictionaries_once_before_the_first_english_question(
    tiny_dicts, monkeypatch
):
    reads = []
    real = dictionaries.read_dictd

    def counted(index, data, source):
        reads.append(index.name)
        return real(index, data, source)

    monkeypatch.setattr(dictionaries, "read_dictd", counted)
    assert bridge.pairs(["fi", "sv"]) == [("en", "fi"), ("en", "sv"), ("fi", "sv")]
    bridge.warm(["fi", "sv"]).join(timeout=60)
    assert reads == ["freedict-eng-fin.index"]  # the one installed here
    assert bridge.bridged_terms("procurement thresholds", "en", "fi")
    assert reads == ["freedict-eng-fin.index"]  # the question read nothing again
