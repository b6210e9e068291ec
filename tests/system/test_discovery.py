"""Documents discovered from the official pages: a local server on
127.0.0.1 imitates the ministry's theme-group page in Finnish, Swedish and
English (each linking to the strategy, its two annexes and the situation
report) and the government repository's publication pages."""

from __future__ import annotations

import hashlib
import json
import threading
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from ingest.__main__ import main
from ingest.corpus.sources import load_sources
from ingest.fetching.discovery import (
    DISCOVERED_FILE,
    discovered_sources,
    document_links,
    guess_kind,
    read_discovered,
)
from testsupport.httpserve import serve
from testsupport.pdfgen import make_pdf
from testsupport.procs import read_pty

# The test servers listen on 127.0.0.1, which fetch refuses unless allow-listed.
pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("allow_loopback")]

# The "Mer information" links of each language version, in page order
# (../shared/seed/temagruppen-innovationer.sv.txt): (text, address).
LINKS = {
    "fi": [
        ("Kansallinen julkisten hankintojen strategia 2020 liitteineen", "/handle/10024/100"),
        ("Liite 1 Toimeenpanon kuvaus", "/files/liite-1-toimeenpano.pdf"),
        ("Liite 2 Strategiset vaikuttavuusmittarit", "/files/liite-2-mittarit.pdf"),
        ("Julkisten hankintojen tilannekuva 2020", "/files/tilannekuva-2020.pdf"),
    ],
    "sv": [
        (
            "Den nationella strategin för offentlig upphandling 2020 med bilagor",
            "/handle/10024/101",
        ),
        ("Bilaga 1 Beskrivning av genomförandet", "/files/bilaga-1-genomforande.pdf"),
        ("Bilaga 2 Strategiska effektindikatorer", "/files/bilaga-2-indikatorer.pdf"),
        (
            "Lägesbild av den offentliga upphandlingen i Finland 2020 (på finska)",
            "/files/tilannekuva-2020.pdf",
        ),
    ],
    "en": [
        ("National Public Procurement Strategy 2020 with annexes", "/handle/10024/102"),
        ("Annex 1 Description of implementation", "/files/annex-1-implementation.pdf"),
        ("Annex 2 Strategic impact indicators", "/files/annex-2-indicators.pdf"),
        (
            "Situation report on public procurement in Finland 2020 (in Finnish)",
            "/files/tilannekuva-2020.pdf",
        ),
    ],
}
PAGES = {"fi": "/fi/innovaatiot", "sv": "/sv/innovationer", "en": "/en/innovations"}
ITEMS = {"/handle/10024/100": "fi", "/handle/10024/101": "sv", "/handle/10024/102": "en"}
VERSION_TEXT = {"fi": "Suomeksi", "sv": "På svenska", "en": "In English"}
KINDS = ["strategy", "annex", "annex", "report"]


class Ministry:
    """The imitation: theme pages, repository item pages, PDFs; counts requests."""

    def __init__(self, pdfs: dict[str, bytes]) -> None:
        self.pdfs = pdfs  # path -> bytes
        self.hits: list[str] = []
        self.url = ""
        self.lock = threading.Lock()

    def handle(self, h: BaseHTTPRequestHandler) -> None:
        with self.lock:
            self.hits.append(h.path)
        path = h.path
        for lang, page in PAGES.items():
            if path == page:
                return self.send(h, _theme_page(lang), "text/html; charset=utf-8")
        if path in ITEMS:
            return self.send(h, _item_page(path), "text/html; charset=utf-8")
        if path in self.pdfs:
            return self.send(h, self.pdfs[path], "application/pdf")
        if path == "/files/signed-in-only.pdf":  # promised a PDF, answers HTML
            return self.send(h, b"<!doctype html><p>Sign in</p>", "text/html")
        h.send_response(404)
        h.send_header("Content-Length", "0")
        h.end_headers()
        return None

    @staticmethod
    def send(h: BaseHTTPRequestHandler, body: bytes, ctype: str) -> None:
        h.send_response(200)
        h.send_header("Content-Type", ctype)
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)


def _theme_page(lang: str, extra: str = "") -> bytes:
    items = "".join(f'<li><a href="{href}">{text}</a></li>' for text, href in LINKS[lang])
    nav = "".join(f'<a href="{p}">{code}</a> ' for code, p in PAGES.items())
    body = (
        f'<html lang="{lang}"><head><title>Innovaatiot / Innovationer / Innovations</title></head>'
        f"<body><nav>{nav}<a href='/fi/haku'>Haku</a></nav><main><h1>Innovations ({lang})</h1>"
        + "<p>The theme group plans concrete measures to promote the goals of the national "
        "public procurement strategy. It promotes the strategic intent: we solve challenges "
        "with innovations and make procurements that create new solutions.</p>"
        * 3
        + f"<h2>More information</h2><ul>{items}{extra}</ul>"
        + '<p><a href="http://elsewhere.invalid/strategy.pdf">A copy elsewhere</a></p>'
        + "</main><footer>Ministry of Finance</footer></body></html>"
    )
    return body.encode("utf-8")


def _item_page(path: str) -> bytes:
    lang = ITEMS[path]
    n = path.rsplit("/", 1)[1]
    others = "".join(
        f'<a href="{p}" hreflang="{other}">{VERSION_TEXT[other]}</a> '
        for p, other in ITEMS.items()
        if p != path
    )
    page = (
        f'<html><head><meta name="citation_title" content="Strategy {lang}">'
        f'<meta name="citation_pdf_url" content="/bitstream/handle/10024/{n}/strategy-{lang}.pdf">'
        f"</head><body><h1>Strategy ({lang})</h1><p>Other languages: {others}</p>"
        f'<a href="/handle/10024/9">Collection</a></body></html>'
    )
    return page.encode("utf-8")


def _pdfs(tmp_path: Path) -> dict[str, bytes]:
    out = {}
    titles = {"fi": "Kansallinen strategia", "sv": "Den nationella strategin", "en": "Strategy"}
    for path, lang in ITEMS.items():
        n = path.rsplit("/", 1)[1]
        pdf = make_pdf(tmp_path / f"s-{lang}.pdf", [[f"{titles[lang]} 2020 ({lang})"]])
        out[f"/bitstream/handle/10024/{n}/strategy-{lang}.pdf"] = pdf.read_bytes()
    for links in LINKS.values():
        for text, href in links[1:]:
            if href not in out:
                out[href] = make_pdf(tmp_path / f"{len(out)}.pdf", [[text]]).read_bytes()
    return out


@pytest.fixture
def ministry(tmp_path: Path):
    state = Ministry(_pdfs(tmp_path))
    with serve(state):
        yield state


def _sources(corpus: Path, base: str, langs=("fi", "sv", "en")) -> Path:
    corpus.mkdir(parents=True, exist_ok=True)
    lines = []
    for lang in langs:
        lines += [
            "[[document]]",
            f'id = "innovations-{lang}"',
            f'lang = "{lang}"',
            'kind = "web page"',
            'group = "theme-group-innovations"',
            f'url = "{base}{PAGES[lang]}"',
            "",
        ]
    path = corpus / "sources.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def _fetch(sources: Path, capsys, *extra: str) -> tuple[int, str]:
    code = main(["fetch", "--sources", str(sources), "--retries", "0", "--timeout", "2", *extra])
    return code, capsys.readouterr().out


def test_one_fetch_finds_and_verifies_every_document_a_second_asks_for_none(
    tmp_path, ministry, capsys
):
    corpus = tmp_path / "corpus"
    sources = _sources(corpus, ministry.url)
    code, out = _fetch(sources, capsys)
    assert code == 0, out
    found = {d.url.removeprefix(ministry.url): d for d in read_discovered(corpus)}
    lock = json.loads((corpus / "sources.lock").read_text())["files"]
    # Every link of every page, each address once (the report is linked from all three).
    expected = {href for links in LINKS.values() for _, href in links}
    assert set(found) == expected
    for lang, links in LINKS.items():
        for (text, href), kind in zip(links, KINDS, strict=True):
            d = found[href]
            assert d.kind == kind, (text, d.kind)
            if href != "/files/tilannekuva-2020.pdf":
                assert (d.title_hint, d.lang_hint, d.found_on) == (
                    text,
                    lang,
                    f"innovations-{lang}",
                )
            entry = lock[d.id]
            data = (corpus / entry["file"]).read_bytes()
            assert entry["sha256"] == hashlib.sha256(data).hexdigest()
            pdf_path = f"/bitstream/handle/10024/{href.rsplit('/', 1)[1]}/strategy-{lang}.pdf"
            assert data == ministry.pdfs.get(href, ministry.pdfs.get(pdf_path)), text
    report = found["/files/tilannekuva-2020.pdf"]
    assert (report.lang_hint, report.found_on) == ("fi", "innovations-fi")  # the first page
    # Language versions: the same position on the fi, sv and en pages.
    for position in range(3):
        groups = {found[LINKS[lang][position][1]].group for lang in LINKS}
        assert len(groups) == 1 and groups != {""}, (position, groups)
    assert len({found[LINKS["fi"][p][1]].group for p in range(4)}) == 4
    assert not any("elsewhere" in h or "/fi/haku" in h for h in ministry.hits)
    # The build takes them with their kind and group; the language is read from the file.
    taken = {s.id: s for s in discovered_sources(corpus, load_sources(corpus))}
    assert {s.kind for s in taken.values()} == {"strategy", "annex", "report"}
    assert len(taken) == len(expected)
    # Built: each with its kind, group and title; a language the short test PDF
    # does not tell is the page's.
    from ingest.pipeline import build_index
    from kb.index.folder import load_generation
    from kb.settings import Settings
    from testsupport.fakes import FakeEmbedder

    settings = Settings(corpus_dir=corpus, index_dir=tmp_path / "index")
    assert not build_index(settings, embedder=FakeEmbedder()).failed
    docs = {
        e["doc"]["id"]: e["doc"]
        for e in load_generation(settings.index_dir).manifest["files"].values()
    }
    for d in found.values():
        built = docs[d.id]
        assert (built["kind"], built["group"], built["title"]) == (d.kind, d.group, d.title_hint)
        assert built["lang"] == d.lang_hint, (d.id, built["lang"])
    # A second fetch asks for the pages (they are re-read at every fetch), nothing else.
    ministry.hits.clear()
    code, out = _fetch(sources, capsys)
    assert code == 0, out
    assert sorted(ministry.hits) == sorted(PAGES.values())
    assert "fetched" not in out.split("\n", 1)[1].replace("0 fetched", "")
    # status --sources tells each discovered document and where it was found.
    assert main(["status", "--sources", "--corpus", str(corpus)]) == 0
    status = capsys.readouterr().out
    for d in found.values():
        assert d.id in status and d.found_on in status


def test_without_discovery_nothing_is_found(tmp_path, ministry, capsys):
    corpus = tmp_path / "corpus"
    code, out = _fetch(_sources(corpus, ministry.url), capsys, "--no-discover")
    assert code == 0, out
    assert not (corpus / DISCOVERED_FILE).exists()
    assert not list((corpus / "official").glob("*.pdf"))
    assert all(h in PAGES.values() for h in ministry.hits)


def test_offline_nothing_is_recorded(tmp_path, capsys):
    corpus = tmp_path / "corpus"
    code, out = _fetch(_sources(corpus, "http://127.0.0.1:9"), capsys)  # nothing listens
    assert code == 1, out
    assert not (corpus / DISCOVERED_FILE).exists()


def test_a_publication_page_leads_to_its_other_language_versions(tmp_path, ministry, capsys):
    corpus = tmp_path / "corpus"
    code, out = _fetch(_sources(corpus, ministry.url, langs=("fi",)), capsys)
    assert code == 0, out
    found = {d.url.removeprefix(ministry.url): d for d in read_discovered(corpus)}
    versions = [found[p] for p in ITEMS]
    assert len({d.group for d in versions}) == 1 and versions[0].group
    assert [d.lang_hint for d in versions] == ["fi", "sv", "en"]
    assert {d.kind for d in versions} == {"strategy"}
    assert versions[1].found_on == versions[0].id
    lock = json.loads((corpus / "sources.lock").read_text())["files"]
    for d in versions:
        assert (corpus / lock[d.id]["file"]).is_file()


def test_sources_toml_overrides_a_discovery_and_html_for_a_pdf_is_refused(
    tmp_path, ministry, capsys
):
    corpus = tmp_path / "corpus"
    sources = _sources(corpus, ministry.url, langs=("fi",))
    annex = f"{ministry.url}{LINKS['fi'][1][1]}"
    sources.write_text(
        sources.read_text()
        + f'[[document]]\nid = "annex-1-fi"\nlang = "fi"\nkind = "other"\nurl = "{annex}"\n',
        encoding="utf-8",
    )
    original = Ministry.handle

    def with_bad_link(self, h):
        if h.path == PAGES["fi"]:
            extra = '<li><a href="/files/signed-in-only.pdf">Liite 3</a></li>'
            return self.send(h, _theme_page("fi", extra), "text/html")
        return original(self, h)

    ministry.handle = with_bad_link.__get__(ministry)
    code, out = _fetch(sources, capsys)
    assert code == 1, out  # the refused link fails, the rest is fetched
    found = {d.url.removeprefix(ministry.url): d for d in read_discovered(corpus)}
    assert LINKS["fi"][1][1] not in found  # sources.toml names it
    bad = found["/files/signed-in-only.pdf"]
    assert bad.kind == "annex"
    line = next(row for row in out.splitlines() if row.startswith(bad.id))
    assert "failed" in line and "HTML" in line
    assert not (corpus / "official" / f"{bad.id}.pdf").exists()
    assert (corpus / "official" / "annex-1-fi.pdf").is_file()


def test_document_links_and_kinds():
    html = (
        '<a href="/a.pdf">Liite 1</a><a href="/a.pdf#p2">same</a>'
        '<a href="https://other.example/b.pdf">elsewhere</a><a href="/page">page</a>'
        '<a href="/handle/10024/5">Publication</a><a href="javascript:x.pdf">js</a>'
    )
    links = document_links(html, "http://127.0.0.1:9/fi/x", {"127.0.0.1:9"})
    assert [(link.url, link.text) for link in links] == [
        ("http://127.0.0.1:9/a.pdf", "Liite 1"),
        ("http://127.0.0.1:9/handle/10024/5", "Publication"),
    ]
    assert guess_kind("Den nationella strategin 2020 med bilagor") == "strategy"
    assert guess_kind("Bilaga 2 Strategiska effektindikatorer") == "annex"
    assert guess_kind("Lägesbild av den offentliga upphandlingen") == "report"
    assert guess_kind("Hankintojen opas") == "other"


@pytest.mark.parametrize(
    "entry",
    [
        {"id": "../../escape", "url": "http://127.0.0.1/a.pdf", "kind": "annex"},
        {"id": "ok", "url": "file:///etc/passwd", "kind": "annex"},
        {"id": "ok", "url": "http://127.0.0.1/a.pdf", "kind": "poem"},
    ],
)
def test_an_edited_record_that_would_escape_is_refused(tmp_path, capsys, entry):
    corpus = tmp_path / "corpus"
    sources = _sources(corpus, "http://127.0.0.1:9", langs=("fi",))
    fields = {"title_hint": "", "lang_hint": "fi", "found_on": "x", "found_at": "y"}
    (corpus / DISCOVERED_FILE).write_text(
        json.dumps({"version": 1, "documents": [{**fields, **entry}]}), encoding="utf-8"
    )
    code = main(["fetch", "--sources", str(sources), "--retries", "0", "--timeout", "1"])
    assert code == 2
    assert DISCOVERED_FILE in capsys.readouterr().err
    assert not (tmp_path / "escape.pdf").exists()


def test_fetch_on_a_terminal_shows_a_bar_and_keeps_its_rows_on_stdout(tmp_path, ministry):
    import fcntl
    import os
    import pty
    import struct
    import subprocess
    import sys
    import termios

    from kb.settings import PROJECT_ROOT

    sources = _sources(tmp_path / "corpus", ministry.url)
    primary, secondary = pty.openpty()
    fcntl.ioctl(secondary, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    proc = subprocess.Popen(
        [sys.executable, "-m", "ingest", "fetch", "--sources", str(sources)],
        cwd=PROJECT_ROOT,
        env=dict(os.environ, PYTHONPATH=str(PROJECT_ROOT)),
        stdin=subprocess.DEVNULL,
        stdout=secondary,
        stderr=secondary,
    )
    os.close(secondary)
    try:
        chunks = read_pty(primary, proc, 120)
        assert proc.wait(timeout=30) == 0
    finally:
        os.close(primary)
        proc.kill()
    text = b"".join(d for _, d in chunks).decode("utf-8", "replace")
    assert "fetching" in text and "source" in text, text
    assert "13 fetched" in text
    assert all(f"innovations-{lang}" in text for lang in PAGES)


def test_a_publication_of_sources_toml_leads_to_its_versions_in_its_group(
    tmp_path, ministry, capsys
):
    corpus = tmp_path / "corpus"
    sources = corpus / "sources.toml"
    sources.write_text(
        '[[document]]\nid = "strategy-2020-fi"\nlang = "fi"\nkind = "strategy"\n'
        f'group = "strategy-2020"\nurl = "{ministry.url}/handle/10024/100"\n',
        encoding="utf-8",
    )
    code, out = _fetch(sources, capsys)
    assert code == 0, out
    found = {d.url.removeprefix(ministry.url): d for d in read_discovered(corpus)}
    assert set(found) == {"/handle/10024/101", "/handle/10024/102"}
    for path, d in found.items():
        assert (d.group, d.kind, d.found_on) == ("strategy-2020", "strategy", "strategy-2020-fi")
        assert d.lang_hint == ITEMS[path]
    taken = discovered_sources(corpus, load_sources(corpus))
    assert {s.group for s in taken} == {"strategy-2020"} and len(taken) == 2
    assert all((corpus / s.file).is_file() for s in taken)
    ministry.hits.clear()
    code, out = _fetch(sources, capsys)
    assert code == 0 and ministry.hits == [], (out, ministry.hits)


# Entries of sources.toml that name a document but not its address (as the
# project's own sources.toml does for the Swedish and English strategy, the
# annexes and the situation report).
ADDRESSLESS = [
    ("strategy-2020-sv", "sv", "strategy", "strategy-2020", ""),
    ("strategy-2020-en", "en", "strategy", "strategy-2020", "National Public Procurement Strategy"),
    ("annex-1-implementation-fi", "fi", "annex", "annex-1-implementation", ""),
    ("annex-2-indicators-fi", "fi", "annex", "annex-2-indicators", ""),
    ("situation-report-2020-fi", "fi", "report", "situation-report-2020", ""),
]


def test_the_pages_give_addressless_entries_their_address(tmp_path, ministry, capsys):
    corpus = tmp_path / "corpus"
    sources = _sources(corpus, ministry.url)
    lines = [
        "[[document]]",
        'id = "strategy-2020-fi"',
        'lang = "fi"',
        'kind = "strategy"',
        'group = "strategy-2020"',
        f'url = "{ministry.url}/handle/10024/100"',
        "",
    ]
    for doc_id, lang, kind, group, title in ADDRESSLESS:
        lines += [
            "[[document]]",
            f'id = "{doc_id}"',
            f'file = "official/{doc_id}.pdf"',
            f'title = "{title}"',
            f'lang = "{lang}"',
            f'kind = "{kind}"',
            f'group = "{group}"',
            'note = "Identifier not known yet."',
            "",
        ]
    sources.write_text(sources.read_text() + "\n".join(lines), encoding="utf-8")
    # Before any fetch: no address known.
    assert main(["status", "--sources", "--corpus", str(corpus)]) == 0
    before = capsys.readouterr().out
    assert before.count("no address known") == len(ADDRESSLESS), before
    code, out = _fetch(sources, capsys)
    assert code == 0, out
    lock = json.loads((corpus / "sources.lock").read_text())["files"]
    expected = {
        "strategy-2020-sv": "/bitstream/handle/10024/101/strategy-sv.pdf",
        "strategy-2020-en": "/bitstream/handle/10024/102/strategy-en.pdf",
        "annex-1-implementation-fi": LINKS["fi"][1][1],
        "annex-2-indicators-fi": LINKS["fi"][2][1],
        "situation-report-2020-fi": LINKS["fi"][3][1],
    }
    for doc_id, path in expected.items():
        # Fetched under the entry's own id, to the entry's own file.
        assert lock[doc_id]["file"] == f"official/{doc_id}.pdf", doc_id
        data = (corpus / "official" / f"{doc_id}.pdf").read_bytes()
        assert data == ministry.pdfs[path], doc_id
    # The Finnish annexes' Swedish and English versions stay discoveries of their own.
    others = {d.id for d in discovered_sources(corpus, load_sources(corpus))}
    assert not others & set(expected)
    assert len(others) == 4  # Bilaga 1 and 2, Annex 1 and 2
    # The build takes each entry's id, kind and group; status lists it present.
    from ingest.pipeline import build_index
    from kb.index.folder import load_generation
    from kb.settings import Settings
    from testsupport.fakes import FakeEmbedder

    settings = Settings(corpus_dir=corpus, index_dir=tmp_path / "index")
    assert not build_index(settings, embedder=FakeEmbedder()).failed
    docs = {
        e["doc"]["id"]: e["doc"]
        for e in load_generation(settings.index_dir).manifest["files"].values()
    }
    for doc_id, _lang, kind, group, _ in ADDRESSLESS:
        assert (docs[doc_id]["kind"], docs[doc_id]["group"]) == (kind, group)
        assert docs[doc_id]["url"].startswith(ministry.url), docs[doc_id]
    assert main(["status", "--sources", "--corpus", str(corpus)]) == 0
    after = capsys.readouterr().out
    assert "no address known" not in after
    for doc_id in expected:
        row = next(r for r in after.splitlines() if r.strip().startswith(doc_id))
        assert "present" in row, row
        assert f"= {doc_id}" in after  # the discovery says which entry it filled
    # A second fetch asks for the pages only.
    ministry.hits.clear()
    code, out = _fetch(sources, capsys)
    assert code == 0, out
    assert sorted(ministry.hits) == sorted(PAGES.values())


def test_an_uncertain_match_fills_nothing():
    from ingest.corpus.sources import Source
    from ingest.fetching.discovery import Discovered
    from ingest.fetching.filling import fill_entries

    def found(doc_id, title, kind="annex", lang="fi", group=""):
        return Discovered(doc_id, f"https://x.fi/{doc_id}.pdf", title, lang, kind, "p", "", group)

    annexes = [found("a1", "Liite 1 Toimeenpano"), found("a2", "Liite 2 Mittarit")]
    entry = Source(id="annex-fi", lang="fi", kind="annex")  # no number: two candidates
    assert fill_entries([entry], annexes) == [entry]
    one = Source(id="annex-1-fi", lang="fi", kind="annex")
    assert fill_entries([one], annexes)[0].url == "https://x.fi/a1.pdf"
    twice = [one, Source(id="annex-1-impl-fi", lang="fi", kind="annex")]
    assert fill_entries(twice, annexes) == twice  # two entries, one document: neither
    sv = Source(id="annex-1-sv", lang="sv", kind="annex")
    assert fill_entries([sv], annexes) == [sv]  # another language
    grouped = Source(id="s-sv", lang="sv", kind="strategy", group="g")
    pair = [found("x", "", "strategy", "sv", "g"), found("y", "Strategi", "strategy", "sv")]
    assert fill_entries([grouped], pair)[0].url == "https://x.fi/x.pdf"
    addressed = Source(id="annex-1-fi", lang="fi", kind="annex", handle="10024/1")
    assert fill_entries([addressed], annexes) == [addressed]
