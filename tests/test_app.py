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


def test_without_an_index_the_page_says_what_to_do():
    at = _run()
    assert not at.exception
    assert "make run" in at.info[0].value


def test_a_broken_index_shows_a_message_not_a_traceback(settings):
    settings.index_dir.mkdir(parents=True)
    (settings.index_dir / "CURRENT").write_text("gen-missing\n")
    at = _run()
    assert not at.exception
    assert "rebuild" in at.error[0].value


@pytest.fixture
def built(settings, real_embedder):
    (settings.corpus_dir / "sivu.fi.md").write_text(HOSTILE, encoding="utf-8")
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
    assert (
        at.query_params["q"] == ["Miten innovaatioita edistetään?"]
        or at.query_params["q"] == "Miten innovaatioita edistetään?"
    )


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
