"""`python -m ingest fetch` against a local HTTP server on 127.0.0.1: every
case of the fetch issue, none of them touching the internet."""

from __future__ import annotations

import email.utils
import hashlib
import json
import logging
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from ingest.__main__ import main
from ingest.fetching.download import dest_lock
from ingest.fetching.fetch import FetchOptions, citation_pdf_url, fetch_all
from kb.settings import PROJECT_ROOT
from testsupport.httpserve import serve
from testsupport.pdfgen import make_pdf

# The test servers listen on 127.0.0.1, which fetch refuses unless allow-listed.
pytestmark = pytest.mark.usefixtures("allow_loopback")


class Server:
    """Routes of the test server, and how often each was asked for."""

    def __init__(self, pdf: bytes, other_pdf: bytes) -> None:
        self.pdf = pdf
        self.other_pdf = other_pdf
        self.changing = pdf
        self.hits: dict[str, int] = {}
        self.url = ""
        self.stop = threading.Event()  # ends the slow routes when a test is over

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
        return self.handle_hostile(h, path)

    def handle_hostile(self, h: BaseHTTPRequestHandler, path: str) -> None:
        """Servers that break, stall, trickle or ask to be left alone."""
        landing = b"<html><head><title>Valto</title></head><body>" + b"x" * (70 << 10)
        if path == "/broken-landing":  # chunked, and the connection drops inside a chunk
            h.send_response(200)
            h.send_header("Content-Type", "text/html")
            h.send_header("Transfer-Encoding", "chunked")
            h.end_headers()
            h.wfile.write(b"%x\r\n%s\r\n" % (len(landing), landing))
            h.wfile.write(b"4000\r\n" + b"x" * 100)
            h.close_connection = True
            return None
        if path == "/stalled-landing":  # 70 KB, then nothing
            h.send_response(200)
            h.send_header("Content-Type", "text/html")
            h.send_header("Content-Length", str(len(landing) + 1000))
            h.end_headers()
            h.wfile.write(landing)
            self.stop.wait(5)
            return None
        if path == "/garbage":  # not HTTP at all
            h.wfile.write(b"SPAM SPAM SPAM\r\n\r\n")
            h.close_connection = True
            return None
        if path == "/odd-landing":  # a charset Python does not know
            page = '<meta name="citation_pdf_url" content="/files/strategy.pdf">'
            return self.send(h, 200, page.encode(), "text/html; charset=x-no-such-charset")
        if path == "/bad-markup":
            return self.send(h, 200, b"<html><![foo[ x ]]>", "text/html")
        if path == "/bad-pdf-url":
            page = b'<meta name="citation_pdf_url" content="http://[bad/x.pdf">'
            return self.send(h, 200, page, "text/html")
        if path.startswith("/retry-after/"):  # 503, back in <value> seconds
            when = path.rsplit("/", 1)[1]
            if when == "date":
                when = email.utils.formatdate(time.time() + 86400, usegmt=True)
            if when == "1" and self.hits[path] > 1:
                return self.send(h, 200, self.pdf, "application/pdf")
            h.send_response(503)
            h.send_header("Retry-After", when)
            h.send_header("Content-Length", "4")
            h.end_headers()
            h.wfile.write(b"busy")
            return None
        if path == "/trickle.pdf":  # a PDF header, then a byte every 0.1 s
            h.send_response(200)
            h.send_header("Content-Type", "application/pdf")
            h.end_headers()
            h.wfile.write(b"%PDF-1.4\n")
            for _ in range(300):
                if self.stop.wait(0.1):
                    break
                h.wfile.write(b"0")
            h.close_connection = True
            return None
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

    with serve(state):
        yield state


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


# ---------------------------------------------------------------- hostile servers


def part_files(corpus: Path) -> list[Path]:
    return list((corpus / "official").glob(".fetch-*.part"))


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/broken-landing", "download interrupted after"),  # was a ChunkedEncodingError traceback
        ("/stalled-landing", "download stalled after 71"),  # 71,725 bytes, then the read timeout
        ("/garbage", "the answer is not HTTP"),  # not the server's bytes (no banner)
        ("/bad-markup", "names no citation_pdf_url"),  # html.parser's AssertionError
        ("/bad-pdf-url", "is not a usable address"),  # urljoin's ValueError
    ],
)
def test_a_broken_source_fails_and_the_next_is_fetched(tmp_path, server, capsys, path, message):
    corpus = tmp_path / "corpus"
    sources = write_sources(
        corpus,
        {
            "broken": {"url": f"{server.url}{path}"},
            "good": {"url": f"{server.url}/files/strategy.pdf"},
        },
    )
    started = time.monotonic()
    code, rows = run_fetch(sources, capsys)
    assert time.monotonic() - started < 4
    assert code == 1
    assert rows["broken"].startswith("failed") and message in rows["broken"], rows["broken"]
    assert "SPAM" not in rows["broken"]
    assert rows["good"].startswith("fetched"), rows
    assert (corpus / "official" / "good.pdf").read_bytes() == server.pdf
    assert sorted(p.name for p in (corpus / "official").iterdir()) == ["good.pdf"]


def test_a_landing_page_in_an_unknown_charset_is_read(tmp_path, server, capsys):
    corpus = tmp_path / "corpus"
    sources = write_sources(corpus, {"doc": {"url": f"{server.url}/odd-landing"}})
    code, rows = run_fetch(sources, capsys)
    assert code == 0 and rows["doc"].startswith("fetched"), rows


@pytest.mark.parametrize("when", ["100000", "date"])
def test_a_long_retry_after_is_reported_not_slept_on(tmp_path, server, capsys, when):
    corpus = tmp_path / "corpus"
    sources = write_sources(corpus, {"doc": {"url": f"{server.url}/retry-after/{when}"}})
    started = time.monotonic()
    code = main(["fetch", "--sources", str(sources), "--retries", "3", "--timeout", "1"])
    elapsed = time.monotonic() - started
    out = capsys.readouterr().out
    assert code == 1 and elapsed < 1.0, (elapsed, out)  # was: a sleep of 100000 s
    assert "HTTP 503" in out and "the server asks to retry after" in out
    assert "run fetch again later" in out
    assert server.hits[f"/retry-after/{when}"] == 1  # asked once, as the server wished


def test_a_short_retry_after_is_waited_for(tmp_path, server, capsys):
    corpus = tmp_path / "corpus"
    sources = write_sources(corpus, {"doc": {"url": f"{server.url}/retry-after/1"}})
    started = time.monotonic()
    code = main(["fetch", "--sources", str(sources), "--retries", "1", "--timeout", "2"])
    elapsed = time.monotonic() - started
    assert code == 0, capsys.readouterr().out
    assert 0.9 < elapsed < 2.5
    assert server.hits["/retry-after/1"] == 2


def test_a_trickle_is_cut_at_the_deadline(tmp_path, server, capsys):
    corpus = tmp_path / "corpus"
    sources = write_sources(
        corpus,
        {
            "slow": {"url": f"{server.url}/trickle.pdf"},
            "good": {"url": f"{server.url}/files/strategy.pdf"},
        },
    )
    started = time.monotonic()
    code, rows = run_fetch(sources, capsys, "--deadline", "1.5")
    elapsed = time.monotonic() - started
    assert code == 1 and 1.5 <= elapsed < 3, elapsed  # was: never ending
    assert rows["slow"].startswith("failed"), rows
    assert "download took longer than 1.5 s" in rows["slow"]
    assert rows["good"].startswith("fetched")
    assert not part_files(corpus) and not (corpus / "official" / "slow.pdf").exists()


def test_the_deadline_must_be_positive(tmp_path, capsys):
    sources = write_sources(tmp_path / "corpus", {"doc": {}})
    assert main(["fetch", "--sources", str(sources), "--deadline", "0"]) == 2
    err = capsys.readouterr().err
    assert "--deadline must be positive" in err


# ---------------------------------------------------------------- temporary files


def test_part_files_of_a_killed_fetch_are_removed(tmp_path, capsys):
    corpus = tmp_path / "corpus"
    official = corpus / "official"
    official.mkdir(parents=True)
    stale = official / ".fetch-k3x_9a2b.part"
    stale.write_bytes(b"%PDF-1.4 half")
    others = [official / ".fetch-notes.txt", official / "keep.part", official / "fetch-1.part"]
    for other in others:
        other.write_bytes(b"not ours")
    sources = write_sources(corpus, {"doc": {}})
    code, rows = run_fetch(sources, capsys)
    assert code == 0 and rows["doc"].startswith("no identifier")
    assert not stale.exists()
    assert all(other.exists() for other in others)
    assert not (official / ".fetch.lock").exists()


def test_a_running_fetch_keeps_its_part_file(tmp_path, capsys):
    corpus = tmp_path / "corpus"
    official = corpus / "official"
    official.mkdir(parents=True)
    sources = write_sources(corpus, {"doc": {}})
    with dest_lock(official):  # another fetch, downloading into official/
        live = official / ".fetch-live1234.part"
        live.write_bytes(b"%PDF-1.4 arriving")
        assert main(["fetch", "--sources", str(sources)]) == 2
        assert "another fetch into" in capsys.readouterr().err
        assert live.exists()


def test_sigterm_removes_the_part_file_and_exits_at_once(tmp_path, server):
    corpus = tmp_path / "corpus"
    sources = write_sources(corpus, {"doc": {"url": f"{server.url}/trickle.pdf"}})
    cmd = [sys.executable, "-m", "ingest", "fetch", "--sources", str(sources)]
    cmd += ["--retries", "0", "--timeout", "5", "--deadline", "30"]
    proc = subprocess.Popen(
        cmd, cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        waited = time.monotonic() + 10
        while not part_files(corpus):  # the download is under way
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < waited, "the download did not start"
            time.sleep(0.02)
        sent = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=5)
        elapsed = time.monotonic() - sent
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 128 + signal.SIGTERM, err
    assert elapsed < 1.0, elapsed
    assert "no partial file was kept" in err and "Traceback" not in err
    assert list((corpus / "official").iterdir()) == []  # no part file, no lock file


# ---------------------------------------------------------------- lock file


@pytest.mark.parametrize(
    "content",
    [
        b"{not json",
        b"\xff\xfe not utf-8",
        b"[]",
        b'"files"',
        b'{"version": 2, "files": {}}',
        b'{"version": 1, "files": ["doc"]}',
        b'{"version": 1}',
    ],
)
def test_a_malformed_lock_file_is_named_and_left_alone(tmp_path, server, capsys, content):
    corpus = tmp_path / "corpus"
    sources = write_sources(corpus, {"doc": {"url": f"{server.url}/files/strategy.pdf"}})
    (corpus / "sources.lock").write_bytes(content)
    assert main(["fetch", "--sources", str(sources)]) == 2
    err = capsys.readouterr().err
    assert "sources.lock is not a readable lock file" in err and "fix or delete it" in err
    assert "Traceback" not in err
    assert (corpus / "sources.lock").read_bytes() == content
    assert server.hits == {}  # nothing fetched


def test_a_lock_file_that_is_a_folder_is_a_usage_error(tmp_path, capsys):
    corpus = tmp_path / "corpus"
    sources = write_sources(corpus, {"doc": {}})
    (corpus / "sources.lock").mkdir()
    assert main(["fetch", "--sources", str(sources)]) == 2
    assert "not a readable lock file" in capsys.readouterr().err


def test_a_malformed_lock_entry_fails_its_source_only(tmp_path, server, capsys):
    corpus = tmp_path / "corpus"
    url = f"{server.url}/files/strategy.pdf"
    sources = write_sources(
        corpus,
        {
            "text": {"url": url},
            "no-sha": {"url": url},
            "bad-sha": {"url": url},
            "good": {"url": url},
        },
    )
    broken = {
        "text": "just a string",
        "no-sha": {"file": "official/no-sha.pdf", "size": 1},
        "bad-sha": {"sha256": "not hex"},
    }
    (corpus / "sources.lock").write_text(json.dumps({"version": 1, "files": broken}))
    code, rows = run_fetch(sources, capsys)
    assert code == 1
    for doc_id, why in [
        ("text", "an object was expected, found str"),
        ("no-sha", "its sha256 is missing"),
        ("bad-sha", "its sha256 is missing or not 64 hex digits"),
    ]:
        assert rows[doc_id].startswith("failed"), rows
        assert f"entry '{doc_id}' of corpus/sources.lock is malformed ({why}" in rows[doc_id]
        assert not (corpus / "official" / f"{doc_id}.pdf").exists()
    assert rows["good"].startswith("fetched")
    lock = json.loads((corpus / "sources.lock").read_text())["files"]
    assert {k: lock[k] for k in broken} == broken  # kept as they were, nothing lost
    assert lock["good"]["sha256"] == sha(server.pdf)


# ---------------------------------------------------------------- terminal


def test_names_and_addresses_are_printed_escaped(tmp_path, server, capsys, caplog):
    corpus = tmp_path / "corpus"
    hostile = f"{server.url}/\\u001b[31mred\\nFORGED fetched"  # TOML escapes: ESC, newline
    sources = write_sources(corpus, {"doc": {"url": hostile}})
    with caplog.at_level(logging.INFO, logger="ingest"):
        code = main(["fetch", "--sources", str(sources), "--retries", "0", "-v"])
    out = capsys.readouterr().out
    assert code == 1
    assert "\x1b" not in out and "\\x1b[31mred\\nFORGED fetched: HTTP 404" in out
    assert not any(line.startswith("FORGED") for line in out.splitlines())
    assert all("\x1b" not in r.getMessage() and "\n" not in r.getMessage() for r in caplog.records)
