"""Finnish base forms and compound parts in lexical search (pypykko, run in
a child process at build time: kb/text/morphology.py): a question's word
finds the inflected compound that holds it, where Snowball's stems alone
cannot, in both backends; the search process never loads the analyser;
off (the default) search works on stems, and asked for without the
package, status says so; a build whose
analysis changed writes its terms anew without reading a file again, and a
later build reuses the analyses."""

from __future__ import annotations

import json
import sys
from dataclasses import replace

import pytest

from ingest import __main__ as ingest_cli
from ingest.pipeline import build_index
from kb.index.folder import ANALYSES_FILE, CURRENT, MANIFEST_FILE
from kb.text import morphology
from kb.text.lexical import doc_terms, stem
from kb.text.morphology import analysis
from search import Searcher, retrieval
from testsupport.fakes import FakeEmbedder

pytestmark = pytest.mark.morphology

PASSAGES = {
    "poissulkeminen.fi.md": (
        "# 80 § Pakolliset poissulkemisperusteet\n\n"
        "Hankintayksikön on suljettava tarjouskilpailusta ehdokas tai tarjoaja, "
        "jos poissulkemisperusteet täyttyvät.\n"
    ),
    "valvonta.fi.md": "# Valvonta\n\nKilpailu- ja kuluttajavirasto valvoo lain noudattamista.\n",
    "tillsyn.sv.md": "# Tillsyn\n\nKonkurrens- och konsumentverket övervakar lagen.\n",
}
QUESTION = "Mitkä perusteet?"  # the passages say "peruste" only inside a compound


@pytest.fixture
def switched_off(monkeypatch):
    """As by default."""
    monkeypatch.delenv(morphology.SWITCH_ENV)


def _write(settings) -> None:
    for name, text in PASSAGES.items():
        (settings.corpus_dir / name).write_text(text, encoding="utf-8")


def _load(settings) -> Searcher:
    return Searcher.load(settings.index_dir, settings, embedder=FakeEmbedder())


def _live(settings):
    return settings.index_dir / (settings.index_dir / CURRENT).read_text().strip()


def _first_bm25_docs(searcher: Searcher, question: str) -> list[str]:
    view = searcher._view
    rows = retrieval.bm25(view, question, view.where(None, None, None), 10)
    return [view.chunks[r].doc_id for r in rows]


def test_the_analyser_gives_base_forms_and_compound_parts_in_a_child():
    words = ["poissulkemisperusteet", "hankintayksikön", "xqzvbrt", "on", "2016"]
    found = morphology.analyse(words)
    terms = found["poissulkemisperusteet"]
    assert terms[0] == stem("poissulkemisperuste", "fi")  # the whole first
    assert {"pois", "sulkemis", stem("peruste", "fi")} <= set(terms)
    # an inflected form reaches its base form's stem
    assert found["hankintayksikön"][0] == stem("hankintayksikkö", "fi")
    # words it does not know are kept as such (no need to ask again); short
    # words and numbers are not asked: all of them keep their stem
    assert found["xqzvbrt"] == () and set(found) == {*words[:3]}
    assert doc_terms("xqzvbrt on hankintayksikön", "fi", found) == [
        stem("xqzvbrt", "fi"),
        "on",
        *found["hankintayksikön"],
    ]
    assert "pypykko" not in sys.modules  # this process never loaded it
    # words already analysed are not sent to the child again
    assert morphology.analyse(["hankintayksikön"], {"hankintayksikön": ("x",)}) == {
        "hankintayksikön": ("x",)
    }


def test_readings_keep_each_reading_whole_then_its_parts_whatever_the_switch(switched_off):
    """adapt's English glosses read headings through the readings, with the
    switch (a build's setting) off."""
    found = morphology.readings(["hankintasopimuksen", "lain", "xqzvbrt", "on"])
    assert ["hankintasopimus", "hankinta", "sopimus"] in found["hankintasopimuksen"]
    assert ["laki"] in found["lain"]  # one reading among the analyser's others
    assert found["xqzvbrt"] == [] and set(found) == {"hankintasopimuksen", "lain", "xqzvbrt"}
    assert "pypykko" not in sys.modules


def test_a_failing_analyser_leaves_the_stems_and_says_why(monkeypatch, caplog):
    monkeypatch.setattr(morphology, "ROOT", morphology.ROOT / "nowhere")
    monkeypatch.setattr(sys, "executable", "/nonexistent/python")
    assert morphology.analyse(["poissulkemisperusteet"]) == {}
    assert "the Finnish analyser failed" in caplog.text


@pytest.mark.parametrize("backend", ["folder", "postgresql"])
def test_a_word_finds_the_inflected_compound_that_holds_it(settings, backend, request):
    if backend == "postgresql":
        settings = replace(settings, backend=request.getfixturevalue("pg_url"))
    _write(settings)
    build_index(settings, embedder=FakeEmbedder())
    searcher = _load(settings)
    assert _first_bm25_docs(searcher, QUESTION) == ["poissulkeminen-fi"]
    hit = searcher.search(QUESTION, k=3, mode="bm25")[0]
    assert hit.doc_id == "poissulkeminen-fi"
    # the compound that matched is marked in the passage
    marked = {hit.text[h.start : h.end].lower() for h in hit.highlights if h.kind == "term"}
    assert "poissulkemisperusteet" in marked
    assert "pypykko" not in sys.modules  # nor did the build's or the search's process


def test_off_by_default_stems_alone_and_status_is_quiet(switched_off, settings, capsys):
    assert analysis() == "snowball" and morphology.analyse(["poissulkemisperusteet"]) == {}
    _write(settings)
    build_index(settings, embedder=FakeEmbedder())
    assert not (_live(settings) / ANALYSES_FILE).exists()
    searcher = _load(settings)
    # Snowball's stem of the compound is not the stem of "perusteet"
    assert _first_bm25_docs(searcher, QUESTION) == []
    assert _first_bm25_docs(searcher, "poissulkemisperusteet") == ["poissulkeminen-fi"]
    assert ingest_cli.main(["status"]) == 0
    assert "pypykko" not in capsys.readouterr().out  # off is no fault


def test_status_names_the_package_when_it_is_asked_for_but_not_installed(monkeypatch):
    monkeypatch.setattr(morphology, "_installed", lambda: False)
    assert not morphology.available() and analysis() == "snowball"
    note = morphology.status_note()
    assert "pypykko is not installed" in note and "Snowball stems alone" in note
    monkeypatch.delenv(morphology.SWITCH_ENV)
    assert morphology.status_note() is None


def test_a_build_whose_analysis_changed_writes_its_terms_anew(settings, monkeypatch):
    _write(settings)
    with monkeypatch.context() as m:
        m.delenv(morphology.SWITCH_ENV)  # as by default
        build_index(settings, embedder=FakeEmbedder())
    first = _live(settings)
    assert json.loads((first / MANIFEST_FILE).read_text())["lexical"] == "snowball"
    embedder = FakeEmbedder()
    report = build_index(settings, embedder=embedder)
    assert report.written and embedder.embedded == []  # no file read or embedded again
    assert _live(settings) != first
    manifest = json.loads((_live(settings) / MANIFEST_FILE).read_text())
    assert manifest["lexical"] == analysis() != "snowball"
    assert _first_bm25_docs(_load(settings), QUESTION) == ["poissulkeminen-fi"]
    # a build with nothing changed writes nothing
    assert not build_index(settings, embedder=FakeEmbedder()).written


def test_a_later_build_analyses_only_its_new_words(settings, monkeypatch):
    _write(settings)
    build_index(settings, embedder=FakeEmbedder())
    sent: list[list[str]] = []
    real = morphology._in_child

    def spy(words, progress):
        sent.append(list(words))
        return real(words, progress)

    monkeypatch.setattr(morphology, "_in_child", spy)
    (settings.corpus_dir / "uusi.fi.md").write_text(
        "# Uusi\n\nPuitejärjestelyssä hankintayksikön xqzvbrt tekee sopimuksen.\n",
        encoding="utf-8",
    )
    build_index(settings, embedder=FakeEmbedder())
    assert len(sent) == 1
    assert set(sent[0]) == {"uusi", "puitejärjestelyssä", "xqzvbrt", "tekee", "sopimuksen"}
    analyses = json.loads((_live(settings) / ANALYSES_FILE).read_text(encoding="utf-8"))
    assert "poissulkemisperusteet" in analyses and "puitejärjestelyssä" in analyses
    assert analyses["xqzvbrt"] == []  # a word the analyser did not know, remembered
    (settings.corpus_dir / "toinen.fi.md").write_text(
        "# Toinen\n\nxqzvbrt ja ympäristö.\n", encoding="utf-8"
    )
    build_index(settings, embedder=FakeEmbedder())
    assert sent[1] == ["toinen", "ympäristö"]  # so not sent again


@pytest.mark.parametrize("backend", ["folder", "postgresql"])
def test_an_inflection_no_passage_holds_is_read_by_its_stem(settings, backend, request):
    """ "poissulkemisperusteita" stands in no passage: the build analysed
    "poissulkemisperusteet", whose Snowball stem it shares."""
    if backend == "postgresql":
        settings = replace(settings, backend=request.getfixturevalue("pg_url"))
    _write(settings)
    build_index(settings, embedder=FakeEmbedder())
    view = _load(settings).view
    unseen = "poissulkemisperusteita"
    assert stem(unseen, "fi") == stem("poissulkemisperusteet", "fi")
    assert view.generation.finnish([unseen]) == {}  # not analysed itself
    assert (
        view.finnish_words([unseen])[unseen]
        == view.finnish_words(["poissulkemisperusteet"])["poissulkemisperusteet"]
    )
    assert _first_bm25_docs(_load(settings), "Mitä perusteita?") == ["poissulkeminen-fi"]
