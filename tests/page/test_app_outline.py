"""The outline view through AppTest, on an index built with the fake
embedder (the page's searcher is given it too): contents with pages, a
section beside its other language version with citations, the URL that
opens it, a link from every card, hostile headings shown as text."""

from __future__ import annotations

import urllib.parse

import pytest

from ingest.pipeline import build_index
from kb.labels import label
from search import Searcher
from testsupport.apptest import ENGLISH, english_in
from testsupport.apptest import query_param as _param
from testsupport.apptest import run_page as _run
from testsupport.fakes import FakeEmbedder
from testsupport.tiny import write_corpus

pytestmark = pytest.mark.slow  # second lane: the page with the real model, many runs

SECTION = "Hankintalaki/2ch/3§"


@pytest.fixture
def tiny_page(settings, monkeypatch):
    """The unit tests' tiny corpus (a Finnish and a Swedish law, one
    group, and an English note), indexed with the fake embedder, which the
    page's searcher then uses instead of the real model."""
    write_corpus(settings.corpus_dir)
    build_index(settings, embedder=FakeEmbedder())
    load = Searcher.load.__func__

    def fake_load(cls, index_dir=None, settings=None, embedder=None):
        return load(cls, index_dir, settings, FakeEmbedder())

    monkeypatch.setattr(Searcher, "load", classmethod(fake_load))
    return settings


def _html(at) -> str:
    return "\n".join(h.value for h in at.html)


@pytest.mark.parametrize("ui", ["fi", "sv", "en"])
def test_a_shared_link_opens_a_section_beside_its_other_version(tiny_page, ui):
    at = _run(view="outline", document="laki-fi", section=SECTION, ui=ui)
    assert not at.exception, at.exception
    html = _html(at)
    # the section's own text, in both versions, side by side
    assert "Kynnysarvo on 60 000 euroa&#46;" in html
    assert "Tröskelvärdet är 60 000 euro&#46;" in html
    assert "Hankinnat on toteutettava" not in html  # only the chosen section
    assert len(at.columns) >= 2
    fi_col = next(c for c in at.columns if any('lang="fi"' in h.value for h in c.html))
    sv_col = next(c for c in at.columns if any('lang="sv"' in h.value for h in c.html))
    assert fi_col is not sv_col
    # each with its citation, by the one citation function
    citations = [c.value for c in at.code]
    assert any(c.startswith("Hankintalaki, 3 § Kynnysarvot") for c in citations), citations
    assert any(c.startswith("Upphandlingslag, 3 § Tröskelvärden") for c in citations), citations
    # the contents: the chapters as panels, the chosen one open, its section bold
    labels = [e.label for e in at.sidebar.expander]
    assert labels[:2] == ["1 luku Yleiset säännökset", "2 luku Kynnysarvot"]
    buttons = [b.label for b in at.sidebar.button]
    assert "**3 § Kynnysarvot**" in buttons, buttons
    assert "1 § Soveltamisala" not in buttons  # closed panel
    # the page's words in its language; the URL still names the section
    assert label(ui, "outline") in [s.value for s in at.sidebar.subheader]
    assert _param(at, "section") == SECTION and _param(at, "document") == "laki-fi"


def test_choosing_a_heading_shows_its_text_and_puts_it_in_the_url(tiny_page):
    at = _run(view="outline", document="lag-sv", ui="sv")
    assert not at.exception, at.exception
    assert label("sv", "outline_pick") in [i.value for i in at.info]
    at.session_state["tocs:lag-sv:Upphandlingslag/1ch"] = True  # its panel, opened
    at.run()
    at.button(key="toc-1-lag-sv:Upphandlingslag/1ch/2§").click().run()
    assert not at.exception, at.exception
    html = _html(at)
    assert "Upphandlingar ska genomföras ekonomiskt&#46;" in html
    assert "Hankinnat on toteutettava taloudellisesti&#46;" in html  # the Finnish beside it
    assert _param(at, "section") == "Upphandlingslag/1ch/2§"
    # a whole chapter holds its sections, each under its heading
    at.button(key="toc-0-lag-sv:Upphandlingslag/1ch").click().run()
    html = _html(at)
    assert "1 § Tillämpningsområde" in html and "2 § Mål" in html


def test_a_document_without_versions_says_so_and_a_dead_link_is_explained(tiny_page):
    at = _run(view="outline", document="notes-en", ui="en")
    assert not at.exception, at.exception
    assert "The carbon footprint of procurement is measured yearly&#46;" in _html(at)
    assert label("en", "no_other") in [c.value for c in at.caption]
    at = _run(view="outline", document="laki-fi", section="Hankintalaki/9ch", ui="fi")
    assert label("fi", "outline_missing") in [w.value for w in at.warning]
    at = _run(view="outline", document="removed-since", ui="fi")
    assert not at.exception, at.exception
    assert label("fi", "outline_missing") in [w.value for w in at.warning]


def test_a_document_a_rebuild_took_away_gives_way_to_the_first(tiny_page):
    at = _run(view="outline", document="notes-en", ui="en")
    assert "The carbon footprint" in _html(at)
    (tiny_page.corpus_dir / "notes.txt").unlink()
    build_index(tiny_page, embedder=FakeEmbedder())
    at.run()
    assert not at.exception, at.exception
    assert "The carbon footprint" not in _html(at)
    assert _param(at, "document") == "lag-sv" and "section" not in at.query_params
    assert not at.warning  # no stale section looked for in another document


def test_every_card_links_to_its_section_in_the_outline(tiny_page):
    at = _run(q="kynnysarvo", ui="fi")
    assert not at.exception, at.exception
    cards = [h.value for h in at.html if h.value.startswith("<div id=")]
    assert cards
    for card in cards:
        assert label("fi", "to_outline") in card
    href = cards[0].split('target="_self"')[0].rsplit('href="', 1)[1].split('"')[0]
    import html as html_lib

    query = urllib.parse.parse_qs(html_lib.unescape(href).lstrip("?"))
    assert query["view"] == ["outline"] and query["ui"] == ["fi"]
    assert query["document"][0] in ("laki-fi", "lag-sv")
    at = _run(**{k: v[0] for k, v in query.items()})  # the link opens the section
    assert not at.exception, at.exception
    assert "60 000" in _html(at)


HOSTILE_MD = """# Hankinnat

## [Kirjaudu](javascript:alert(1)) $\\huge{X}$ **lihava**

Teksti <script>alert(2)</script> ja <img src=x onerror=alert(3)>.
"""


def test_hostile_headings_and_text_show_as_written(settings, monkeypatch):
    (settings.corpus_dir / "vieras.fi.md").write_text(HOSTILE_MD, encoding="utf-8")
    build_index(settings, embedder=FakeEmbedder())
    load = Searcher.load.__func__
    monkeypatch.setattr(
        Searcher,
        "load",
        classmethod(lambda cls, d=None, s=None, e=None: load(cls, d, s, FakeEmbedder())),
    )
    at = _run(view="outline", document="vieras-fi", ui="fi")
    assert not at.exception, at.exception
    labels = [b.label for b in at.sidebar.button] + [e.label for e in at.sidebar.expander]
    hostile = [x for x in labels if "Kirjaudu" in x]
    assert hostile and all("](" not in x and "$" not in x and "**l" not in x for x in hostile)
    next(b for b in at.sidebar.button if b.label == "Hankinnat").click().run()
    html = _html(at)
    assert "&#91;Kirjaudu&#93;&#40;javascript&#58;alert&#40;1&#41;&#41;" in html  # its heading
    assert "Teksti &#60;script&#62;" in html
    for raw in ("<script", "<img", "](javascript", "**lihava**"):
        assert raw not in html, raw


@pytest.mark.quality
def test_the_act_as_dropped_in_opens_at_its_chapter_and_section_beside_the_swedish(
    tmp_path, monkeypatch
):
    """The Act's two PDFs dropped into the corpus, no sources.toml: the
    chapters, sections and pages the build found, and the language link it
    made, are the outline's."""
    from kb.settings import Settings
    from testsupport.testdata import finlex_corpus

    (tmp_path / "act").mkdir()
    corpus = finlex_corpus(tmp_path / "act")
    monkeypatch.setenv("KB_CORPUS", str(corpus))
    monkeypatch.setenv("KB_INDEX", str(tmp_path / "act" / "index"))
    build_index(Settings(corpus_dir=corpus, index_dir=tmp_path / "act" / "index"), FakeEmbedder())
    load = Searcher.load.__func__
    monkeypatch.setattr(
        Searcher,
        "load",
        classmethod(lambda cls, d=None, s=None, e=None: load(cls, d, s, FakeEmbedder())),
    )
    at = _run(view="outline", document="hankintalaki-1397-2016-fi", section="4ch/25§", ui="fi")
    assert not at.exception, at.exception
    chapters = [e.label for e in at.sidebar.expander]
    assert len(chapters) >= 16
    assert "4 luku Kynnysarvot ja hankinnan ennakoidun arvon laskeminen · s. 14" in chapters
    assert "**25 § Kansalliset kynnysarvot · s. 14**" in [b.label for b in at.sidebar.button]
    html = _html(at)
    assert "Kansalliset kynnysarvot ilman arvonlisäveroa laskettuna ovat" in html
    assert "De nationella tröskelvärdena exklusive mervärdesskatt är" in html
    assert "25 § Nationella tröskelvärden" in html


OUTLINE_ENGLISH = ("Contents", "Outline", "Read it all", "Document", "Choose a heading")


@pytest.mark.parametrize("ui", ["fi", "sv"])
def test_no_english_label_shows_on_the_finnish_or_swedish_outline(tiny_page, ui, monkeypatch):
    words = ENGLISH + OUTLINE_ENGLISH

    def outline_page(lang: str):
        at = _run(view="outline", document="laki-fi", ui=lang)
        at.session_state["tocs:laki-fi:Hankintalaki/1ch"] = True  # a panel open
        return at.run()

    at = outline_page(ui)
    assert not at.exception, at.exception
    assert at.info and at.sidebar.expander
    assert english_in(at, words) == []
    # the check would catch the English page
    assert {w for w, _ in english_in(outline_page("en"), words)} >= set(OUTLINE_ENGLISH)


def test_a_cards_link_names_the_document_section_and_language():
    from webapp.outline import outline_link

    link = outline_link("laki-fi", ("1 luku Yleiset säännökset", "2 § Tavoitteet"), "sv")
    query = urllib.parse.parse_qs(link.removeprefix("?"))
    assert query["view"] == ["outline"] and query["ui"] == ["sv"]
    assert query["document"] == ["laki-fi"] and query["section"] == ["1ch/2§"]
