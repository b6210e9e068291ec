"""The Streamlit page through streamlit.testing.v1.AppTest."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from ingest.pipeline import build_index
from ingest.settings import PROJECT_ROOT

APP = str(PROJECT_ROOT / "app.py")

HOSTILE = """# Hankinnat

Hankintayksiköt edistävät innovaatioita. <script>alert(1)</script>
<img src=x onerror=alert(2)> [avaa](javascript:alert(3)) **lihava**
"""


def _run(**params) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    for key, value in params.items():
        at.query_params[key] = value
    return at.run()


def test_without_an_index_the_page_says_what_to_do_and_builds_one(settings):
    at = _run()
    assert not at.exception
    assert "make run" in at.info[0].value
    (settings.corpus_dir / "sivu.fi.md").write_text(HOSTILE, encoding="utf-8")
    at.button[0].click().run()
    assert not at.exception, at.exception
    assert not at.info  # the rerun found the new index
    assert at.text_input[0].label == "Ask a question"


def test_a_broken_index_shows_a_message_not_a_traceback(settings):
    settings.index_dir.mkdir(parents=True)
    (settings.index_dir / "CURRENT").write_text("gen-missing\n")
    at = _run()
    assert not at.exception
    assert "rebuild" in at.error[0].value
    assert at.button[0].label == "Build index"


SWEDISH = """# Upphandlingar

Upphandlande enheter främjar innovationer genom upphandlingar.
"""

SOURCES = """
[[document]]
id = "sivu-fi"
file = "sivu.fi.md"
title = "Hankinnat"
lang = "fi"
kind = "web page"
group = "sivu"
url = "https://example.org/sivu"

[[document]]
id = "sida-sv"
file = "sida.sv.md"
title = "Upphandlingar"
lang = "sv"
kind = "web page"
group = "sivu"
"""


@pytest.fixture
def built(settings, real_embedder):
    (settings.corpus_dir / "sivu.fi.md").write_text(HOSTILE, encoding="utf-8")
    (settings.corpus_dir / "sida.sv.md").write_text(SWEDISH, encoding="utf-8")
    (settings.corpus_dir / "sources.toml").write_text(SOURCES, encoding="utf-8")
    build_index(settings, embedder=real_embedder)


@pytest.mark.model
def test_search_from_the_url_renders_escaped_cited_results(built):
    at = _run(q="Miten innovaatioita edistetään?", ui="fi")
    assert not at.exception
    cards = [m.value for m in at.markdown if "Hankinnat" in m.value]
    assert cards, [m.value for m in at.markdown]
    html = cards[0]
    assert "s. 1" in html  # Finnish page reference
    for raw in ("<script", "<img", "](javascript", "**lihava**"):
        assert raw not in html, raw
    assert "&#60;script&#62;" in html
    assert _param(at, "q") == "Miten innovaatioita edistetään?"


@pytest.mark.model
def test_typing_a_query_searches_and_bad_queries_get_a_message(built):
    at = _run()
    at.text_input[0].input("innovaatiot").run()
    assert not at.exception
    assert any("Hankinnat" in m.value for m in at.markdown)
    at.text_input[0].input("x" * 2001).run()
    assert not at.exception, at.exception
    assert "limit is 2000" in " ".join(e.value for e in at.error), [
        type(x).__name__ for x in at.main
    ]


def test_parallel_pdf_reading_still_works_after_the_page_ran(settings):
    """AppTest (like Streamlit) makes the page script __main__; reader
    processes must not re-import it (they crashed when they did)."""
    from dataclasses import replace

    from .fakes import FakeEmbedder
    from .pdfgen import make_pdf

    _run()
    for name in ("a.pdf", "b.pdf"):
        make_pdf(settings.corpus_dir / name, [["1 Otsikko", "Tekstiä hankinnoista."]])
    report = build_index(replace(settings, workers=2), embedder=FakeEmbedder())
    assert [f.status for f in report.files] == ["indexed", "indexed"], report.files


def _param(at, key: str) -> str:
    """A query parameter as the page wrote it (AppTest may keep a list)."""
    value = at.query_params[key]
    return value[0] if isinstance(value, list) else value


def _values(at, kind: str) -> list[str]:
    return [x.value for x in getattr(at, kind)]


@pytest.mark.model
def test_filters_grouping_and_the_url_state(built):
    at = _run(q="innovaatiot", lang="sv", group="1", k="5", ui="sv")
    assert not at.exception
    assert at.multiselect(key="langs").value == ["sv"]
    assert at.toggle(key="group").value is True
    cards = [m for m in _values(at, "markdown") if m.startswith("<div ")]
    assert cards and all("<code>sv</code>" in c for c in cards if "><b>1. " in c)
    assert [h for h in _values(at, "subheader") if h.startswith("svenska (sv)")]
    # the state written back to the URL reproduces the search
    url = {k: _param(at, k) for k in ("q", "lang", "group", "k", "mode", "ui")}
    assert url == {
        "q": "innovaatiot",
        "lang": "sv",
        "group": "1",
        "k": "5",
        "mode": "hybrid",
        "ui": "sv",
    }

    # a document filter narrows to that document
    at.multiselect(key="langs").set_value([]).run()
    at.multiselect(key="docs").set_value(["sivu-fi"]).run()
    assert not at.exception
    heads = [m for m in _values(at, "markdown") if "><b>1. " in m]
    assert heads and "Hankinnat" in heads[0]


@pytest.mark.model
def test_each_hit_offers_other_languages_similar_passages_and_export(built, settings):
    at = _run(q="Miten innovaatioita edistetään?", lang="fi", ui="fi")
    assert not at.exception
    labels = [e.label for e in at.expander]
    assert "Sama kohta muilla kielillä" in labels
    assert "Samankaltaiset kohdat" in labels
    assert "Koko kohta ja sen naapurit" in labels
    # panels are filled only when opened (their state reruns the page)
    other = next(e for e in at.expander if e.label == "Sama kohta muilla kielillä")
    assert not other.markdown
    from search import Searcher

    hit = Searcher.load(settings.index_dir, settings).search(
        "Miten innovaatioita edistetään?", languages=["fi"], highlight=False
    )[0]
    at.session_state[f"other:{hit.chunk_id}"] = True
    at.run()
    assert not at.exception
    other = next(e for e in at.expander if e.label == "Sama kohta muilla kielillä")
    assert any("Upphandlingar" in m.value for m in other.markdown)
    downloads = at.get("download_button")
    assert len(downloads) == 2


@pytest.mark.model
def test_documents_view_lists_documents_and_rebuilds(built, settings):
    at = _run(view="docs")
    assert not at.exception
    table = at.dataframe[0].value
    assert set(table["Title"]) == {"Hankinnat", "Upphandlingar"}
    assert set(table["Language"]) == {"fi", "sv"}
    assert (table["Passages"] > 0).all()
    facts = " ".join(_values(at, "markdown"))
    assert "multilingual&#45;e5&#45;small" in facts and "2 chunks" in facts
    generation = (settings.index_dir / "CURRENT").read_text().strip()
    (settings.corpus_dir / "uusi.fi.md").write_text("# Uusi\n\nUusi sivu hankinnoista.\n")
    at.button[0].click().run()
    assert not at.exception, at.exception
    assert at.success and "Index ready" in at.success[0].value
    assert (settings.index_dir / "CURRENT").read_text().strip() != generation
    at.run()
    assert "Uusi" in set(at.dataframe[0].value["Title"])
