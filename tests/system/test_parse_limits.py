"""No parse that can take the server down (issue 24, fault 4): a small gzip
answer that decodes to 150 MB of HTML is refused within seconds, with the
fetching process's memory far below 1 GB; a page's main text is read in a
reader process with a time and a memory limit (ingest/reading/sandbox.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import zlib

import pytest

from ingest.fetching import webfetch
from ingest.fetching.download import FetchOptions
from ingest.fetching.httpread import Failure, FetchError, session
from ingest.fetching.netguard import AllowList
from ingest.reading.sandbox import LimitError, call_limited
from ingest.reading.webpage import MainContent
from kb.settings import PROJECT_ROOT
from testsupport.httpserve import serve

DECODED_MB = 150


def gzip_bomb(decoded_mb: int) -> bytes:
    """A gzip stream of about ``decoded_mb`` MB of HTML paragraphs (0.5 MB for 150 MB)."""
    out = zlib.compressobj(9, zlib.DEFLATED, 31)
    parts = [out.compress(b"<html><head><title>Pommi</title></head><body><article>")]
    block = b"".join(b"<p>Hankinta %d ja kilpailutus.</p>\n" % i for i in range(3)) * 150
    for _ in range(decoded_mb * 2**20 // len(block)):
        parts.append(out.compress(block))
    parts.append(out.compress(b"</article></body></html>") + out.flush())
    return b"".join(parts)


class Bomb:
    def __init__(self, body: bytes) -> None:
        self.body = body
        self.hits = 0

    def handle(self, request) -> None:
        self.hits += 1
        request.send_response(200)
        request.send_header("Content-Type", "text/html; charset=utf-8")
        request.send_header("Content-Encoding", "gzip")
        request.send_header("Content-Length", str(len(self.body)))
        request.end_headers()
        request.wfile.write(self.body)


# The peak is this process's own (VmHWM): getrusage's ru_maxrss survives
# execve, so a child of a large pytest process would report the parent's peak.
FETCH = """
import json, sys, time
from ingest.corpus.address import fetch_address
from kb.settings import load_settings
from kb.errors import KBError
started = time.monotonic()
try:
    fetch_address(sys.argv[1], load_settings())
    outcome = "fetched"
except KBError as exc:
    outcome = getattr(getattr(exc, "kind", None), "value", str(exc))
with open("/proc/self/status") as f:
    hwm_kb = next(int(line.split()[1]) for line in f if line.startswith("VmHWM:"))
print(json.dumps({"outcome": outcome, "seconds": time.monotonic() - started,
                  "max_rss_mb": hwm_kb / 1024}))
"""


@pytest.fixture(scope="module")
def bomb_body() -> bytes:
    return gzip_bomb(DECODED_MB)


def test_a_gzip_bomb_is_refused_quickly_in_bounded_memory(bomb_body, tmp_path):
    assert len(bomb_body) < 2**20  # well under a megabyte on the wire
    env = {**os.environ, "KB_FETCH_ALLOW": "127.0.0.1", "PYTHONPATH": str(PROJECT_ROOT)}
    with serve(Bomb(bomb_body)) as state:
        started = time.monotonic()
        run = subprocess.run(
            [sys.executable, "-c", FETCH, f"{state.url}/bomb"],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
            cwd=tmp_path,
        )
        elapsed = time.monotonic() - started
    assert run.returncode == 0, run.stderr[-2000:]
    result = json.loads(run.stdout.strip().splitlines()[-1])
    print(f"gzip {len(bomb_body) / 2**20:.2f} MB -> {DECODED_MB} MB: {result}")
    assert result["outcome"] == "too large"
    assert result["seconds"] < 5 and elapsed < 30
    assert result["max_rss_mb"] < 1024
    assert state.hits == 1


def test_the_cli_refuses_a_bomb_as_a_web_page(bomb_body, monkeypatch):
    monkeypatch.setenv("KB_FETCH_ALLOW", "127.0.0.1")
    options = FetchOptions(retries=0)
    with serve(Bomb(bomb_body)) as state, session(options) as http:
        started = time.monotonic()
        with pytest.raises(FetchError) as caught:
            webfetch.download_page(http, f"{state.url}/page", options)
    assert caught.value.kind is Failure.TOO_LARGE
    assert time.monotonic() - started < 5


def test_a_compression_ratio_over_the_cap_is_refused_even_under_the_size_limit(monkeypatch):
    body = gzip_bomb(3)  # 3 MB decoded, under the 5 MB page limit, but ~1000x
    options = FetchOptions(retries=0, allow=AllowList.parse("127.0.0.1"))
    with serve(Bomb(body)) as state, session(options) as http:
        with pytest.raises(FetchError, match="expands more than") as caught:
            webfetch.download_page(http, f"{state.url}/page", options)
    assert caught.value.kind is Failure.TOO_LARGE


def _pid_as_title(html: str) -> MainContent:
    return MainContent(str(os.getpid()), html)


def test_a_page_is_parsed_in_a_reader_process(monkeypatch):
    page = b"<html><body><p>Hankintalaki ja kilpailutus.</p></body></html>"

    class Page:
        def handle(self, request):
            request.send_response(200)
            request.send_header("Content-Type", "text/html")
            request.send_header("Content-Length", str(len(page)))
            request.end_headers()
            request.wfile.write(page)

    monkeypatch.setattr(webfetch, "main_content", _pid_as_title)
    options = FetchOptions(retries=0, allow=AllowList.parse("127.0.0.1"))
    with serve(Page()) as state, session(options) as http:
        got = webfetch.download_page(http, f"{state.url}/p", options)
    assert got.content.title.isdigit() and int(got.content.title) != os.getpid()


def _allocate(mb: int) -> int:
    return len(bytearray(mb * 2**20))


def test_a_reader_that_wants_too_much_memory_is_stopped():
    assert call_limited(_allocate, 50, timeout=30, memory_mb=400) == 50 * 2**20
    with pytest.raises(LimitError, match="memory"):
        call_limited(_allocate, 1500, timeout=30, memory_mb=400)


def test_a_reader_that_takes_too_long_is_killed():
    started = time.monotonic()
    with pytest.raises(LimitError) as caught:
        call_limited(time.sleep, 30, timeout=1, memory_mb=0)
    assert caught.value.timed_out and time.monotonic() - started < 5
