"""`python -m ingest fetch` against a local HTTP server on 127.0.0.1: every
case of the fetch issue, none of them touching the internet."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from ingest.__main__ import main
from ingest.fetch import FetchOptions, citation_pdf_url, fetch_all

from .pdfgen import make_pdf


class Server:
    """Routes of the test server, and how often each was asked for."""

    def __init__(self, pdf: bytes, other_pdf: bytes) -> None:
        self.pdf = pdf
        self.other_pdf = other_pdf
        self.changing = pdf
        self.hits: dict[str, int] = {}
        self.url = ""

    def handle(self, h: BaseHTTPRequestHandler) -> None:
        path = h.path
        self.hits[path] = self.hits.get(path, 0) + 1
        if path == "/files/strategy.pdf":
            return self.send(h, 200, self.pdf, "application/pdf")
        if path == "/handle/10024/1":
            page = (
                "<html><head><title>Valto</title>"
                '<meta name="citation_title" content="Strategia">'
                '<meta name="citation_pdf_url" content="/bitstream/1/strategy.pdf">'
                "</head><body>landing</body></html>"
            )
            return self.send(h, 200, page.encode(), "text/html; charset=utf-8")
        if path == "/bitstream/1/strategy.pdf":
            return self.redirect(h, "/files/strategy.pdf")
        if path.startswith("/urn/"):
            return self.redirect(h, "/handle/10024/1")
        if path == "/html.pdf":
            return self.send(h, 200, b"<!doctype html><p>Sign in</p>", "text/html")
        if path == "/handle/loop":
            page = '<meta name="citation_pdf_url" content="/html.pdf">'
            return self.send(h, 200, page.encode(), "text/html")
        if path == "/changing.pdf":
            return self.send(h, 200, self.changing, "application/pdf")
        if path == "/big.pdf":
            return self.send(h, 200, b"%PDF-1.4\n" + b"0" * (3 << 20), "application/pdf")
        if path == "/big-undeclared.pdf":
            h.send_response(200)
            h.send_header("Content-Type", "application/pdf")
            h.send_header("Connection", "close")
            h.end_headers()
            h.wfile.write(b"%PDF-1.4\n")
            for _ in range(48):
                h.wfile.write(b"0" * 65536)
            return None
        if path == "/slow.pdf":
            time.sleep(2)
            return self.send(h, 200, self.pdf, "application/pdf")
        if path == "/truncated.pdf":
            h.send_response(200)
            h.send_header("Content-Type", "application/pdf")
            h.send_header("Content-Length", str(len(self.pdf) + 100_000))
            h.end_headers()
            h.wfile.write(self.pdf)
            h.wfile.flush()
            h.close_connection = True
            return None
        if path == "/flaky.pdf":
            if self.hits[path] == 1:
                return self.send(h, 503, b"busy", "text/plain")
            return self.send(h, 200, self.pdf, "application/pdf")
        return self.send(h, 404, b"not found", "text/plain")

    @staticmethod
    def send(h: BaseHTTPRequestHandler, code: int, body: bytes, ctype: str) -> None:
        h.send_response(code)
        h.send_header("Content-Type", ctype)
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)

    @staticmethod
    def redirect(h: BaseHTTPRequestHandler, to: str) -> None:
        h.send_response(302)
        h.send_header("Location", to)
        h.send_header("Content-Length", "0")
        h.end_headers()


@pytest.fixture
def server(tmp_path: Path):
    pdf = make_pdf(tmp_path / "a.pdf", [["Kansallinen julkisten hankintojen strategia"]])
    other = make_pdf(tmp_path / "b.pdf", [["Den nationella strategin, ny version"]])
    state = Server(pdf.read_bytes(), other.read_bytes())

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            try:
                state.handle(self)
            except (BrokenPipeError, ConnectionResetError):
                pass

        def log_message(self, *args) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    state.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield state
    httpd.shutdown()
    httpd.server_close()


def write_sources(corpus: Path, entries: dict[str, dict[str, str]]) -> Path:
    lines = []
    for doc_id, fields in entries.items():
        lines += ["[[document]]", f'id = "{doc_id}"', 'lang = "fi"']
        lines += [f'{k} = "{v}"' for k, v in fields.items()]
        lines.append("")
    path = corpus / "sources.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def run_fetch(sources: Path, capsys, *extra: str) -> tuple[int, dict[str, str]]:
    """Exit code, and the report's status+detail by source id."""
    code = main(["fetch", "--sources", str(sources), "--retries", "0", "--timeout", "1", *extra])
    out = capsys.readouterr().out
    rows = {}
    for line in out.splitlines()[1:-1]:
        doc_id, rest = line.split(maxsplit=1)
        rows[doc_id] = rest
    return code, rows


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_direct_pdf_landing_page_and_urn_redirect_are_fetched_and_locked(tmp_path, server, capsys):
    corpus = tmp_path / "corpus"
    sources = write_sources(
        corpus,
        {
            "direct": {"url": f"{server.url}/files/strategy.pdf"},
            "landing": {"url": f"{server.url}/handle/10024/1"},
            "by-urn": {"url": f"{server.url}/urn/URN:NBN:fi-fe0000"},
            "local": {"file": "web/page.md"},
            "unknown": {},
        },
    )
    code, rows = run_fetch(sources, capsys)
    assert code == 0
    for doc_id in ("direct", "landing", "by-urn"):
        assert rows[doc_id].startswith("fetched"), rows
        assert (corpus / "official" / f"{doc_id}.pdf").read_bytes() == server.pdf
    assert rows["local"].startswith("local file")
    assert rows["unknown"].startswith("no identifier")
    assert "put the PDF at corpus/official/unknown.pdf" in rows["unknown"]

    lock = json.loads((corpus / "sources.lock").read_text())["files"]
    assert set(lock) == {"direct", "landing", "by-urn"}
    for entry in lock.values():
        data = (corpus / entry["file"]).read_bytes()
        assert entry["sha256"] == sha(data) and entry["size"] == len(data)
        assert entry["url"] == f"{server.url}/files/strategy.pdf"  # after redirects
        assert entry["fetched"].endswith("Z")
    assert not list((corpus / "official").glob(".fetch-*"))


def test_second_run_downloads_nothing(tmp_path, server, capsys):
    corpus = tmp_path / "corpus"
    sources = write_sources(corpus, {"landing": {"url": f"{server.url}/handle/10024/1"}})
    assert run_fetch(sources, capsys)[0] == 0
    before = dict(server.hits)
    code, rows = run_fetch(sources, capsys)
    assert code == 0
    assert rows["landing"].startswith("up to date") and "sha256 verified" in rows["landing"]
    assert server.hits == before


def test_handle_and_urn_fields_are_resolved_through_their_bases(tmp_path, server):
    corpus = tmp_path / "corpus"
    sources = write_sources(
        corpus,
        {
            "by-handle": {"handle": "10024/1"},
            "by-urn": {"urn": "URN:NBN:fi-fe0000", "url": f"{server.url}/missing.pdf"},
        },
    )
    options = FetchOptions(
        retries=0, handle_base=f"{server.url}/handle/", urn_resolver=f"{server.url}/urn/"
    )
    report = fetch_all(sources, corpus / "official", options)
    assert [r.status for r in report.results] == ["fetched", "fetched"]
    # the url came first and failed; the URN was tried next
    assert server.hits["/missing.pdf"] == 1 and server.hits["/urn/URN:NBN:fi-fe0000"] == 1


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/missing.pdf", "HTTP 404"),
        ("/html.pdf", "sent an HTML page, not a PDF"),
        ("/handle/loop", "leads to an HTML page, not a PDF"),
        ("/big.pdf", "over the 1 MB limit"),
        ("/big-undeclared.pdf", "larger than the 1 MB limit"),
        ("/slow.pdf", "no answer within 1 s"),
        ("/truncated.pdf", "download interrupted"),
    ],
)
def test_failures_name_the_reason_and_write_nothing(tmp_path, server, capsys, path, message):
    corpus = tmp_path / "corpus"
    sources = write_sources(corpus, {"doc": {"url": f"{server.url}{path}"}})
    code, rows = run_fetch(sources, capsys, "--max-mb", "1")
    assert code == 1
    assert rows["doc"].startswith("failed") and message in rows["doc"], rows["doc"]
    assert list((corpus / "official").iterdir()) == []  # no file, no partial file
    assert not (corpus / "sources.lock").exists()


def test_retries_a_busy_server(tmp_path, server, capsys):
    corpus = tmp_path / "corpus"
    sources = write_sources(corpus, {"doc": {"url": f"{server.url}/flaky.pdf"}})
    code = main(["fetch", "--sources", str(sources), "--retries", "2", "--timeout", "1"])
    assert code == 0, capsys.readouterr().out
    assert server.hits["/flaky.pdf"] == 2


def test_changed_file_is_reported_and_kept_aside(tmp_path, server, capsys):
    corpus = tmp_path / "corpus"
    sources = write_sources(corpus, {"doc": {"url": f"{server.url}/changing.pdf"}})
    assert run_fetch(sources, capsys)[0] == 0
    target = corpus / "official" / "doc.pdf"
    lock_before = (corpus / "sources.lock").read_text()

    # The server now serves another file. A present, verified file is not
    # downloaded again, so the change shows when the file must be fetched
    # anew (a fresh checkout with the committed lock file).
    server.changing = server.other_pdf
    target.unlink()
    code, rows = run_fetch(sources, capsys)
    assert code == 1
    assert rows["doc"].startswith("failed") and "checksum mismatch" in rows["doc"]
    assert not target.exists()
    aside = list((corpus / "official").glob("doc.pdf.mismatch-*"))
    assert len(aside) == 1 and aside[0].read_bytes() == server.other_pdf
    assert (corpus / "sources.lock").read_text() == lock_before


def test_edited_local_file_is_reported_not_replaced(tmp_path, server, capsys):
    corpus = tmp_path / "corpus"
    sources = write_sources(corpus, {"doc": {"url": f"{server.url}/files/strategy.pdf"}})
    assert run_fetch(sources, capsys)[0] == 0
    target = corpus / "official" / "doc.pdf"
    target.write_bytes(server.other_pdf)
    code, rows = run_fetch(sources, capsys)
    assert code == 1 and "does not match sources.lock" in rows["doc"]
    assert target.read_bytes() == server.other_pdf


def test_file_placed_by_hand_is_recorded(tmp_path, capsys):
    corpus = tmp_path / "corpus"
    sources = write_sources(corpus, {"doc": {}})
    (corpus / "official").mkdir()
    (corpus / "official" / "doc.pdf").write_bytes(b"%PDF-1.4 by hand")
    code, rows = run_fetch(sources, capsys)
    assert code == 0 and rows["doc"].startswith("no identifier")
    code, rows = run_fetch(write_sources(corpus, {"doc": {"url": "http://127.0.0.1:9/x"}}), capsys)
    assert code == 0 and "recorded in sources.lock" in rows["doc"]
    lock = json.loads((corpus / "sources.lock").read_text())["files"]
    assert lock["doc"]["sha256"] == sha(b"%PDF-1.4 by hand")


def test_offline_says_where_to_put_the_file_and_touches_nothing(tmp_path, capsys):
    corpus = tmp_path / "corpus"
    (corpus / "official").mkdir()
    kept = corpus / "official" / "kept.pdf"
    kept.write_bytes(b"%PDF-1.4 kept")
    # Port 9 (discard) on 127.0.0.1: connection refused, as with no network.
    sources = write_sources(
        corpus, {"doc": {"url": "http://127.0.0.1:9/doc.pdf"}, "kept": {"file": "x.pdf"}}
    )
    code, rows = run_fetch(sources, capsys)
    assert code == 1
    assert "network unavailable: put the PDF at corpus/official/doc.pdf" in rows["doc"]
    assert sorted(p.name for p in (corpus / "official").iterdir()) == ["kept.pdf"]
    assert kept.read_bytes() == b"%PDF-1.4 kept"


def test_usage_errors_exit_2(tmp_path, capsys):
    assert main(["fetch", "--sources", str(tmp_path / "nope.toml")]) == 2
    corpus = tmp_path / "corpus"
    sources = write_sources(corpus, {"doc": {}})
    (corpus / "sources.lock").write_text("{not json")
    assert main(["fetch", "--sources", str(sources)]) == 2
    assert "not a readable lock file" in capsys.readouterr().err


def test_citation_pdf_url_is_made_absolute():
    html = '<META NAME="citation_pdf_url" CONTENT=" /bitstream/a b.pdf ">'
    assert citation_pdf_url(html, "https://x.fi/handle/1") == "https://x.fi/bitstream/a b.pdf"
    assert citation_pdf_url("<p>none</p>", "https://x.fi/") is None
