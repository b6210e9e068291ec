"""A newcomer's first run: the bundled Act is verified by fetch, never
replaced; a build says what it is doing, stage by stage."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from http.server import BaseHTTPRequestHandler

import pytest

from ingest.__main__ import main
from ingest.cliprogress import Display, StageBars, choose_display
from ingest.corpus.sources import load_sources
from ingest.pipeline import build_index
from ingest.progress import Stage
from kb.settings import PROJECT_ROOT
from testsupport.httpserve import serve
from testsupport.pdfgen import make_pdf
from testsupport.procs import read_pty

# The test servers listen on 127.0.0.1, which fetch refuses unless allow-listed.
pytestmark = pytest.mark.usefixtures("allow_loopback")


class Counting:
    """A server that answers every address with an HTML page, and counts."""

    def __init__(self) -> None:
        self.hits: list[str] = []
        self.url = ""

    def handle(self, h: BaseHTTPRequestHandler) -> None:
        self.hits.append(h.path)
        body = b"<html><body><h1>Laki</h1><p>ajantasainen</p></body></html>"
        h.send_response(200)
        h.send_header("Content-Type", "text/html")
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)


def test_the_default_corpus_ships_the_act_as_language_versions():
    corpus = PROJECT_ROOT / "corpus"
    laws = [s for s in load_sources(corpus) if s.kind == "law"]
    assert {s.lang for s in laws} == {"fi", "sv"}
    assert len({s.group for s in laws}) == 1
    for s in laws:
        assert (corpus / s.file).is_file(), s.file
        assert s.url.startswith("https://www.finlex.fi/")
    tracked = subprocess.run(
        ["git", "ls-files", "corpus/law"], cwd=PROJECT_ROOT, capture_output=True, text=True
    ).stdout.split()
    assert sorted(tracked) == sorted(f"corpus/{s.file}" for s in laws)


def test_a_bundled_pdf_is_verified_not_downloaded(tmp_path, capsys):
    corpus = tmp_path / "corpus"
    (corpus / "law").mkdir(parents=True)
    pdf = make_pdf(corpus / "law" / "act.pdf", [["Laki julkisista hankinnoista"]])
    with serve(Counting()) as server:
        (corpus / "sources.toml").write_text(
            '[[document]]\nid = "act"\nlang = "fi"\nkind = "law"\n'
            f'file = "law/act.pdf"\nurl = "{server.url}/laki/2016/20161397"\n',
            encoding="utf-8",
        )
        before = pdf.read_bytes()
        assert main(["fetch", "--sources", str(corpus / "sources.toml")]) == 0
        out = capsys.readouterr().out
        assert server.hits == []  # the address serves a web page: never asked for
        assert re.search(r"^act\s+up to date", out, re.M), out
        lock = json.loads((corpus / "sources.lock").read_text())["files"]
        assert lock["act"]["file"] == "law/act.pdf"
        assert not (corpus / "official" / "act.pdf").exists()
        pdf.write_bytes(before + b"\n% edited\n")
        assert main(["fetch", "--sources", str(corpus / "sources.toml")]) == 1
        assert "does not match" in capsys.readouterr().out
        assert server.hits == []


def test_stages_are_reported_in_order(settings, fake):
    make_pdf(settings.corpus_dir / "a.pdf", [["Ensimmäinen lause. Toinen lause tässä."]] * 2)
    make_pdf(settings.corpus_dir / "b.pdf", [["Andra dokumentet. En mening till här."]])
    calls: list[tuple[Stage, int, int]] = []
    build_index(settings, embedder=fake, stages=lambda s, d, t: calls.append((s, d, t)))
    stages = list(dict.fromkeys(s for s, _, _ in calls))
    assert stages == [Stage.READING, Stage.PASSAGES, Stage.SENTENCES, Stage.WRITING]
    for stage in stages:
        mine = [(d, t) for s, d, t in calls if s is stage]
        assert mine[0][0] == 0 and mine[0][1] > 0  # announced with its total
        assert mine[-1][0] == mine[-1][1]  # and finished
    assert calls[0] == (Stage.READING, 0, 2)


def test_lines_when_not_a_terminal_nothing_when_quiet(tmp_path):
    class Stream:
        def __init__(self, tty: bool) -> None:
            self.tty, self.text = tty, ""

        def isatty(self) -> bool:
            return self.tty

        def write(self, s: str) -> int:
            self.text += s
            return len(s)

        def flush(self) -> None:
            pass

    assert choose_display(False, Stream(True)) is Display.BARS
    assert choose_display(False, Stream(False)) is Display.LINES
    assert choose_display(True, Stream(True)) is Display.QUIET
    for display, expected in ((Display.LINES, 4), (Display.QUIET, 0)):
        stream = Stream(False)
        with StageBars(display, stream) as bars:
            bars.start(Stage.READING)
            bars(Stage.READING, 0, 3)
            bars(Stage.READING, 3, 3)
            bars(Stage.PASSAGES, 0, 10)
            bars(Stage.PASSAGES, 10, 10)
            bars(Stage.SENTENCES, 0, 5)
            bars(Stage.WRITING, 0, 1)
        assert len(stream.text.splitlines()) == expected, stream.text
        if display is Display.LINES:
            assert stream.text.count("reading: 3 files") == 1  # once, with its count
            assert "embedding passages: 10 passages" in stream.text
            assert "writing: 1 step" in stream.text


@pytest.mark.model
@pytest.mark.slow
def test_a_terminal_build_shows_progress_at_once_and_keeps_showing_it(tmp_path):
    import fcntl
    import pty
    import struct
    import termios

    corpus = tmp_path / "corpus"
    for i in range(3):
        make_pdf(corpus / f"doc{i}.pdf", [[f"Hankinta {i}. Toinen lause {i} tässä."]] * 4)
    primary, secondary = pty.openpty()
    fcntl.ioctl(secondary, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    proc = subprocess.Popen(
        [sys.executable, "-m", "ingest", "--corpus", str(corpus), "--index", str(tmp_path / "i")],
        cwd=PROJECT_ROOT,
        env=dict(os.environ, PYTHONPATH=str(PROJECT_ROOT)),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=secondary,
    )
    os.close(secondary)
    try:
        chunks = read_pty(primary, proc, 600)
        assert proc.wait(timeout=60) == 0
    finally:
        os.close(primary)
        proc.kill()
    assert chunks, "nothing on the terminal"
    times = [t for t, _ in chunks]
    text = b"".join(d for _, d in chunks).decode("utf-8", "replace")
    assert times[0] <= 2.0, (times[0], text[:200])
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    assert max(gaps, default=0) <= 5.0, (gaps, text)
    for stage in (Stage.READING, Stage.PASSAGES, Stage.SENTENCES, Stage.WRITING):
        assert stage.value in text, (stage, text)
