"""Web pages as sources: a ministry-like page served on 127.0.0.1 is
fetched, kept as a snapshot with its address and date, recorded in
sources.lock by its main text, and indexed without its menus, cookie
banner, aside or footer."""

from __future__ import annotations

import json
import re
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from ingest.__main__ import main
from ingest.pipeline import build_index
from ingest.reading.extract import extract
from ingest.reading.webpage import main_content, read_snapshot
from kb.index.folder import load_generation
from search.searcher import Searcher
from testsupport.fakes import FakeEmbedder
from testsupport.httpserve import serve

# The test servers listen on 127.0.0.1, which fetch refuses unless allow-listed.
pytestmark = pytest.mark.usefixtures("allow_loopback")

COOKIE = "Tämä sivusto käyttää evästeitä analytiikkaan"
FOOTER = "Valtiovarainministeriö, Snellmaninkatu 1 A, PL 28, 00023 Valtioneuvosto"
ASIDE = "Tilaa Hankinta-Suomen uutiskirje sähköpostiisi"
MAIN_FI = (
    "Innovaatioiden teemaryhmä kehittää keinoja, joilla julkiset hankinnat kannustavat "
    "yrityksiä uusien ratkaisujen kehittämiseen ja käyttöönottoon kunnissa ja valtiolla."
)


def ministry_page(menu: str = "Ajankohtaista", main: str = MAIN_FI) -> str:
    return f"""<!doctype html>
<html lang="fi"><head><meta charset="utf-8">
<title>Hankintojen teemaryhmät - Valtiovarainministeriö</title></head>
<body>
<div id="cookie-consent" class="cookie-banner"><p>{COOKIE}. Hyväksy kaikki evästeet
tai vain välttämättömät.</p><button>Hyväksy</button><button>Vain välttämättömät</button></div>
<header class="site-header"><a href="/">Valtiovarainministeriö</a>
<nav class="main-navigation"><ul><li><a href="/a">{menu}</a></li>
<li><a href="/b">Ministeriö ja hallinnonala</a></li><li><a href="/c">Julkaisut ja asiakirjat</a></li>
</ul></nav></header>
<main id="content">
<article class="page">
<h1>Hankintojen teemaryhmät</h1>
<p>Kansallisen julkisten hankintojen strategian toimeenpanoa edistävät teemaryhmät, joihin
kuuluu asiantuntijoita valtiolta, kunnista, hankintayksiköistä ja yrityksistä.</p>
<h2>Innovaatiot</h2>
<p>{main}</p>
<h2>Ekologinen kestävyys</h2>
<p>Ekologisen kestävyyden teemaryhmä edistää hiilineutraaleja ja kiertotaloutta tukevia
hankintoja koko julkisella sektorilla sekä seuraa niiden vaikutuksia.</p>
</article>
<aside class="see-also"><h3>Katso myös</h3><ul><li><a href="/u">{ASIDE}</a></li>
<li><a href="/v">Hankinta-Suomi-ohjelman verkkosivut</a></li></ul></aside>
</main>
<footer class="site-footer"><p>{FOOTER}</p><p>Saavutettavuusseloste · Tietosuoja ·
Evästeasetukset</p></footer>
</body></html>
"""


BOILERPLATE = (COOKIE, FOOTER, ASIDE, "Ministeriö ja hallinnonala", "Katso myös", "Evästeasetukset")


class Pages:
    def __init__(self) -> None:
        self.page = ministry_page()
        self.hits: dict[str, int] = {}
        self.url = ""

    def handle(self, h: BaseHTTPRequestHandler) -> None:
        self.hits[h.path] = self.hits.get(h.path, 0) + 1
        if h.path == "/teemaryhmat":
            body, ctype = self.page.encode("utf-8"), "text/html; charset=utf-8"
        elif h.path == "/latin1":
            body, ctype = self.page.encode("latin-1", "replace"), "text/html; charset=iso-8859-1"
        elif h.path == "/file.pdf":
            body, ctype = b"%PDF-1.4 not a page", "application/pdf"
        else:
            body, ctype = b"not found", "text/plain"
            h.send_response(404)
        if h.path in ("/teemaryhmat", "/latin1", "/file.pdf"):
            h.send_response(200)
        h.send_header("Content-Type", ctype)
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)


@pytest.fixture
def pages():
    state = Pages()

    with serve(state):
        yield state


def write_sources(corpus: Path, url: str, extra: str = "") -> Path:
    path = corpus / "sources.toml"
    path.write_text(
        f'[[document]]\nid = "teemaryhmat-fi"\ntitle = "Hankintojen teemaryhmät"\nlang = "fi"\n'
        f'kind = "web page"\ngroup = "theme-groups"\nurl = "{url}"\n{extra}',
        encoding="utf-8",
    )
    return path


def fetch(sources: Path, capsys, *extra: str) -> tuple[int, str]:
    code = main(["fetch", "--sources", str(sources), "--retries", "0", "--timeout", "2", *extra])
    rows = capsys.readouterr().out.splitlines()[1:-1]
    return code, "\n".join(rows)


def test_a_web_page_is_fetched_locked_and_indexed_without_its_chrome(settings, pages, capsys):
    corpus = settings.corpus_dir
    sources = write_sources(corpus, f"{pages.url}/teemaryhmat")
    code, row = fetch(sources, capsys)
    assert code == 0, row
    assert row.split()[:2] == ["teemaryhmat-fi", "fetched"] and "web page" in row

    snapshot = corpus / "web" / "teemaryhmat-fi.html"
    kept = read_snapshot(snapshot)
    assert kept is not None and kept.url == f"{pages.url}/teemaryhmat"
    assert kept.retrieved.endswith("Z")
    assert pages.page in snapshot.read_text(encoding="utf-8")  # the page as served

    lock = json.loads((corpus / "sources.lock").read_text())["files"]["teemaryhmat-fi"]
    assert lock["file"] == "web/teemaryhmat-fi.html"
    assert lock["sha256"] == main_content(pages.page).sha256
    assert lock["sha256_of"] == "main text" and lock["url"] == f"{pages.url}/teemaryhmat"

    fake = FakeEmbedder()
    report = build_index(settings, embedder=fake)
    assert [(f.path, f.doc_id, f.status) for f in report.files] == [
        ("web/teemaryhmat-fi.html", "teemaryhmat-fi", "indexed")
    ]
    gen = load_generation(settings.index_dir)
    doc = gen.manifest["files"]["web/teemaryhmat-fi.html"]["doc"]
    assert doc["url"] == f"{pages.url}/teemaryhmat" and doc["retrieved"] == kept.retrieved[:10]
    assert doc["group"] == "theme-groups" and doc["kind"] == "web page"
    text = "\n".join(c.indexed_text for c in gen.chunks)
    assert MAIN_FI in " ".join(text.split())
    for chrome in BOILERPLATE:
        assert chrome not in text, chrome
    assert any(c.section[-1:] == ("Innovaatiot",) for c in gen.chunks), [
        c.section for c in gen.chunks
    ]

    searcher = Searcher.load(settings.index_dir, settings, embedder=fake)
    hits = searcher.search("innovaatioiden teemaryhmä uusien ratkaisujen", k=3)
    assert hits and hits[0].doc_id == "teemaryhmat-fi"
    assert all(chrome not in h.text for h in hits for chrome in BOILERPLATE)


def test_a_refetch_with_only_the_menu_changed_is_up_to_date(settings, pages, capsys):
    corpus = settings.corpus_dir
    sources = write_sources(corpus, f"{pages.url}/teemaryhmat")
    assert fetch(sources, capsys)[0] == 0
    snapshot = corpus / "web" / "teemaryhmat-fi.html"
    before, lock_before = snapshot.read_bytes(), (corpus / "sources.lock").read_text()

    pages.page = ministry_page(menu="Uutiset ja tiedotteet")
    code, row = fetch(sources, capsys)
    assert code == 0 and "up to date" in row and "main text unchanged" in row, row
    assert snapshot.read_bytes() == before
    assert (corpus / "sources.lock").read_text() == lock_before
    assert pages.hits["/teemaryhmat"] == 2  # a web page is checked at every fetch

    pages.page = ministry_page(main=MAIN_FI + " Teemaryhmä kokoontuu kerran kuussa.")
    code, row = fetch(sources, capsys)
    assert code == 0 and "fetched" in row and "main text changed since" in row, row
    assert "kokoontuu kerran kuussa" in snapshot.read_text(encoding="utf-8")
    lock = json.loads((corpus / "sources.lock").read_text())["files"]["teemaryhmat-fi"]
    assert lock["sha256"] == main_content(pages.page).sha256


def test_offline_keeps_a_snapshot_and_says_where_to_save_a_missing_one(settings, pages, capsys):
    corpus = settings.corpus_dir
    assert fetch(write_sources(corpus, f"{pages.url}/teemaryhmat"), capsys)[0] == 0
    snapshot = corpus / "web" / "teemaryhmat-fi.html"
    before = snapshot.read_bytes()
    offline = write_sources(corpus, "http://127.0.0.1:9/teemaryhmat")  # connection refused
    code, row = fetch(offline, capsys)
    assert code == 1 and "kept" in row and "network unavailable" in row, row
    assert snapshot.read_bytes() == before

    snapshot.unlink()
    code, row = fetch(offline, capsys)
    assert code == 1 and "failed" in row
    assert "save the page at corpus/web/teemaryhmat-fi.html" in row
    assert not snapshot.exists()


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/missing", "HTTP 404"),
        ("/file.pdf", "the address serves a PDF, not a web page"),
        ("/teemaryhmat", "over the 0.001 MB limit"),  # the size limit of PDFs
    ],
)
def test_a_web_page_that_fails_names_the_reason(settings, pages, capsys, path, message):
    sources = write_sources(settings.corpus_dir, f"{pages.url}{path}")
    code, row = fetch(sources, capsys, "--max-mb", "0.001")
    assert code == 1 and "failed" in row and message in row, row
    assert not (settings.corpus_dir / "web").exists()


def test_a_page_in_its_declared_charset_is_read(settings, pages, capsys):
    sources = write_sources(settings.corpus_dir, f"{pages.url}/latin1")
    code, row = fetch(sources, capsys)
    assert code == 0, row
    text = (settings.corpus_dir / "web" / "teemaryhmat-fi.html").read_text(encoding="utf-8")
    assert "Hankintojen teemaryhmät" in text  # decoded as ISO-8859-1, kept as UTF-8


def test_a_bundled_copy_of_a_page_is_not_fetched(settings, pages, capsys):
    corpus = settings.corpus_dir
    (corpus / "web").mkdir()
    (corpus / "web" / "copy.md").write_text("# Teemaryhmät\n\nKopio sivusta.\n")
    sources = write_sources(corpus, f"{pages.url}/teemaryhmat", 'file = "web/copy.md"\n')
    code, row = fetch(sources, capsys)
    assert code == 0 and "local file" in row, row
    assert pages.hits == {}


def test_a_local_html_file_is_read_without_its_chrome(tmp_path):
    path = tmp_path / "sivu.html"
    path.write_text(ministry_page(), encoding="utf-8")
    raw = extract(path, 10_000_000, 10)
    text = raw.pages[0][1]
    assert MAIN_FI in " ".join(text.split())
    assert not any(chrome in text for chrome in BOILERPLATE)
    assert [(h.level, h.title) for h in raw.hints] == [
        (1, "Hankintojen teemaryhmät"),
        (2, "Innovaatiot"),
        (2, "Ekologinen kestävyys"),
    ]


def test_exports_cite_the_address_and_the_day_of_the_snapshot(settings, pages, capsys):
    from search.export import to_csv, to_markdown

    assert fetch(write_sources(settings.corpus_dir, f"{pages.url}/teemaryhmat"), capsys)[0] == 0
    fake = FakeEmbedder()
    build_index(settings, embedder=fake)
    searcher = Searcher.load(settings.index_dir, settings, embedder=fake)
    hits = searcher.search("innovaatioiden teemaryhmä", k=1)
    day = searcher.document("teemaryhmat-fi").retrieved
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", day), day
    md = to_markdown("q", hits, searcher.document)
    assert f"retrieved {day}" in md
    assert f"{pages.url}/teemaryhmat" in md
    assert f",{day}," in to_csv(hits, searcher.document)


def test_a_hand_edited_snapshot_is_written_anew_from_the_page(settings, pages, capsys):
    corpus = settings.corpus_dir
    sources = write_sources(corpus, f"{pages.url}/teemaryhmat")
    assert fetch(sources, capsys)[0] == 0
    snapshot = corpus / "web" / "teemaryhmat-fi.html"
    snapshot.write_text(snapshot.read_text().replace("Innovaatioiden", "Muokattu"))
    code, row = fetch(sources, capsys)
    assert code == 0 and "fetched" in row and "did not match sources.lock" in row, row
    assert "Innovaatioiden teemaryhmä" in snapshot.read_text(encoding="utf-8")


def test_headings_outside_an_article_are_kept():
    """trafilatura keeps headings only inside <article> or <main>; a plain
    page's headings are put back before the paragraphs it kept."""
    para = "Hankintayksikkö kilpailuttaa palvelut ja seuraa sopimuksen toteutumista tarkasti. "
    html = (
        "<html><body><nav><a href='/'>Etusivu</a><a href='/x'>Valikko</a></nav>"
        f"<div><h1>Pääotsikko</h1><p>{para * 3}</p><h2>Toinen osio</h2><p>{para * 2}</p></div>"
        f"<footer>{FOOTER}</footer></body></html>"
    )
    content = main_content(html)
    assert content.headings == ((1, "Pääotsikko"), (2, "Toinen osio"))
    assert content.title == "Pääotsikko"
    assert "Valikko" not in content.text and FOOTER not in content.text


def test_an_xhtml_page_with_an_xml_declaration_is_read():
    html = '<?xml version="1.0" encoding="utf-8"?>\n' + ministry_page()
    assert MAIN_FI in " ".join(main_content(html).text.split())
