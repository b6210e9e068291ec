"""Every file of a DSpace publication, against a local server that answers
as DSpace documents it: an item page listing its bitstreams (DSpace 6), and
an item page naming only its citation_pdf_url whose files the REST API lists
(DSpace 7: pid/find, the item's bundles, the ORIGINAL bundle's bitstreams)."""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from ingest.__main__ import main
from ingest.fetching.dspace import derived_id, page_files
from ingest.pipeline import build_index
from kb.index.folder import load_generation
from testsupport.fakes import FakeEmbedder
from testsupport.httpserve import serve
from testsupport.pdfgen import make_pdf

# The test servers listen on 127.0.0.1, which fetch refuses unless allow-listed.
pytestmark = pytest.mark.usefixtures("allow_loopback")

UUIDS = {
    "strategia.pdf": "0a1b2c3d-0000-4000-8000-000000000001",
    "Liite 1 toimeenpano.pdf": "0a1b2c3d-0000-4000-8000-000000000002",
    "liite-2-mittarit.pdf": "0a1b2c3d-0000-4000-8000-000000000003",
}
ITEM = "5f0e8c1a-1111-4222-8333-444455556666"
TEXTS = {
    "strategia.pdf": "Kansallinen julkisten hankintojen strategia ohjaa hankintoja.",
    "Liite 1 toimeenpano.pdf": "Strategian toimeenpano etenee teemaryhmissä vuosittain.",
    "liite-2-mittarit.pdf": "Strategiset vaikuttavuusmittarit seuraavat tavoitteiden toteutumista.",
}


class DSpace:
    def __init__(self, pdfs: dict[str, bytes]) -> None:
        self.pdfs = pdfs
        self.hits: dict[str, int] = {}
        self.url = ""

    def dspace6_item(self) -> str:
        links = "".join(
            f'<li><a href="/bitstream/handle/10024/5/{name.replace(" ", "%20")}?sequence={i}'
            f'&amp;isAllowed=y">{name}</a></li>'
            for i, name in enumerate(self.pdfs, start=1)
        )
        return (
            "<html><head><title>Strategia - Valto</title>"
            '<meta name="citation_title" content="Strategia">'
            '<meta name="citation_pdf_url" content="/bitstream/handle/10024/5/strategia.pdf?sequence=1">'
            "</head><body><h2>Tiedostot</h2><ul>"
            f"{links}"
            '<li><a href="/bitstream/handle/10024/5/strategia.pdf.jpg?sequence=4">kansikuva</a></li>'
            '<li><a href="/bitstream/handle/10024/5/license.txt?sequence=5">lisenssi</a></li>'
            "</ul></body></html>"
        )

    def dspace7_item(self) -> str:
        first = UUIDS["strategia.pdf"]
        return (
            "<html><head><title>Strategia</title>"
            f'<meta name="citation_pdf_url" content="{self.url}/bitstreams/{first}/download">'
            "</head><body><ds-app>Ladataan…</ds-app></body></html>"
        )

    def rest(self, path: str):
        api = f"{self.url}/server/api"
        if path == "/server/api/pid/find?id=10024/7":
            return 302, f"{api}/core/items/{ITEM}"
        if path == f"/server/api/core/items/{ITEM}":
            links = {"bundles": {"href": f"{api}/core/items/{ITEM}/bundles"}}
            return 200, {"uuid": ITEM, "handle": "10024/7", "type": "item", "_links": links}
        if path == f"/server/api/core/items/{ITEM}/bundles":
            bundles = [
                {"name": "THUMBNAIL", "_links": {"bitstreams": {"href": f"{api}/nope"}}},
                {
                    "name": "ORIGINAL",
                    "_links": {"bitstreams": {"href": f"{api}/core/bundles/b1/bitstreams"}},
                },
            ]
            return 200, {"_embedded": {"bundles": bundles}}
        if path == "/server/api/core/bundles/b1/bitstreams":
            streams = [
                {
                    "name": name,
                    "type": "bitstream",
                    "_links": {"content": {"href": f"{api}/core/bitstreams/{uuid}/content"}},
                }
                for name, uuid in [
                    *UUIDS.items(),
                    ("license.txt", "0a1b2c3d-0000-4000-8000-00000000000f"),
                ]
            ]
            return 200, {"_embedded": {"bitstreams": streams}}
        return None

    def handle(self, h: BaseHTTPRequestHandler) -> None:
        path = h.path
        self.hits[path] = self.hits.get(path, 0) + 1
        by_uuid = {uuid: name for name, uuid in UUIDS.items()}
        if path == "/handle/10024/5":
            return self.send(h, 200, self.dspace6_item().encode(), "text/html; charset=utf-8")
        if path == "/handle/10024/7":
            return self.send(h, 200, self.dspace7_item().encode(), "text/html; charset=utf-8")
        if path.startswith("/bitstream/handle/10024/5/"):
            name = path.split("/")[-1].split("?")[0].replace("%20", " ")
            if name in self.pdfs:
                return self.send(h, 200, self.pdfs[name], "application/pdf")
        for prefix in ("/bitstreams/", "/server/api/core/bitstreams/"):
            if path.startswith(prefix) and path.split("/")[-2] in by_uuid:
                return self.send(h, 200, self.pdfs[by_uuid[path.split("/")[-2]]], "application/pdf")
        answer = self.rest(path)
        if answer and answer[0] == 302:
            h.send_response(302)
            h.send_header("Location", answer[1])
            h.send_header("Content-Length", "0")
            return h.end_headers()
        if answer:
            body = json.dumps(answer[1]).encode()
            return self.send(h, 200, body, "application/hal+json;charset=UTF-8")
        return self.send(h, 404, b"not found", "text/plain")

    @staticmethod
    def send(h, code: int, body: bytes, ctype: str) -> None:
        h.send_response(code)
        h.send_header("Content-Type", ctype)
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)


@pytest.fixture
def dspace(tmp_path: Path):
    pdfs = {
        name: make_pdf(tmp_path / f"pdf{i}.pdf", [[text]]).read_bytes()
        for i, (name, text) in enumerate(TEXTS.items())
    }
    state = DSpace(pdfs)

    with serve(state):
        yield state


def fetch(corpus: Path, capsys) -> tuple[int, dict[str, str]]:
    code = main(["fetch", "--sources", str(corpus / "sources.toml"), "--retries", "0"])
    rows = {}
    for line in capsys.readouterr().out.splitlines()[1:-1]:
        doc_id, rest = line.split(maxsplit=1)
        rows[doc_id] = rest
    return code, rows


@pytest.mark.parametrize("handle", ["10024/5", "10024/7"], ids=["dspace6-page", "dspace7-rest"])
def test_every_pdf_of_an_item_is_fetched_verified_and_indexed(settings, dspace, capsys, handle):
    corpus = settings.corpus_dir
    (corpus / "sources.toml").write_text(
        f'[[document]]\nid = "strategy-fi"\nlang = "fi"\nkind = "strategy"\n'
        f'file = "official/strategy-fi.pdf"\nhandle = "{handle}"\nurl = "{dspace.url}/handle/{handle}"\n',
        encoding="utf-8",
    )
    code, rows = fetch(corpus, capsys)
    ids = ["strategy-fi", "strategy-fi--liite-1-toimeenpano", "strategy-fi--liite-2-mittarit"]
    assert code == 0 and list(rows) == ids, rows
    assert all(r.startswith("fetched") for r in rows.values()), rows
    lock = json.loads((corpus / "sources.lock").read_text())["files"]
    assert set(lock) == set(ids)
    for doc_id, name in zip(ids, TEXTS, strict=True):
        assert (corpus / "official" / f"{doc_id}.pdf").read_bytes() == dspace.pdfs[name]
    assert (
        lock[ids[1]]["from"] == "strategy-fi" and lock[ids[1]]["title"] == "Liite 1 toimeenpano.pdf"
    )
    assert "from" not in lock["strategy-fi"]

    report = build_index(settings, embedder=FakeEmbedder())
    assert sorted((f.doc_id, f.status) for f in report.files) == [(i, "indexed") for i in ids]
    docs = {
        e["doc"]["id"]: e["doc"]
        for e in load_generation(settings.index_dir).manifest["files"].values()
    }
    assert docs[ids[1]]["title"] == "Liite 1 toimeenpano"  # the file's own name
    assert docs[ids[1]]["identifier"] == f"hdl:{handle}" == docs["strategy-fi"]["identifier"]
    assert docs[ids[2]]["lang"] == "fi"  # detected

    before = dict(dspace.hits)
    code, rows = fetch(corpus, capsys)
    assert code == 0 and all(r.startswith("up to date") for r in rows.values()), rows
    assert list(rows) == ids
    assert dspace.hits == before  # no request for unchanged files

    (corpus / "official" / f"{ids[2]}.pdf").unlink()  # one file lost: listed and fetched again
    code, rows = fetch(corpus, capsys)
    assert (
        code == 0 and rows[ids[2]].startswith("fetched") and rows[ids[1]].startswith("up to date")
    )
    again = json.loads((corpus / "sources.lock").read_text())["files"]
    assert again[ids[2]]["sha256"] == lock[ids[2]]["sha256"]  # verified against the lock
    assert {k: again[k] for k in ids[:2]} == {k: lock[k] for k in ids[:2]}


def test_an_item_page_lists_its_pdfs_once_first_the_cited_one():
    html = (
        '<meta name="citation_pdf_url" content="/bitstream/handle/1/2/a.pdf?sequence=1">'
        '<a href="/bitstream/handle/1/2/b%20c.pdf?sequence=2">b</a>'
        '<a href="/bitstream/handle/1/2/a.pdf?sequence=1&amp;isAllowed=y">a</a>'
        '<a href="/bitstream/handle/1/2/a.pdf.jpg?sequence=3">cover</a>'
        '<a href="/bitstreams/0a1b2c3d-0000-4000-8000-000000000009/download">Liite.pdf</a>'
        '<a href="/other/page.pdf">not a bitstream</a>'
    )
    files = page_files(html, "https://x.fi/handle/1/2")
    assert [(f.name, f.url) for f in files] == [
        ("a.pdf", "https://x.fi/bitstream/handle/1/2/a.pdf?sequence=1"),
        ("b c.pdf", "https://x.fi/bitstream/handle/1/2/b%20c.pdf?sequence=2"),
        ("Liite.pdf", "https://x.fi/bitstreams/0a1b2c3d-0000-4000-8000-000000000009/download"),
    ]


def test_derived_ids_are_ascii_and_unique():
    taken = {"s--liite-1"}
    assert derived_id("s", "Liite 1.pdf", taken) == "s--liite-1-2"
    assert derived_id("s", "Bilaga – hållbarhet.pdf", set()) == "s--bilaga-hallbarhet"
    assert derived_id("s", "\x1b[31m.pdf", set()) == "s--31m"
