"""SIGKILL a real `python -m ingest` at each point of a build: while it
reads, while it embeds, while it writes, just before the swap. After each
kill the previous index loads and answers a fixed set of queries exactly as
before, no process of the build remains, the next build starts at once, and
the next run removes what the dead one left and builds correctly."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from ingest.pipeline import build_index
from kb.failpoints import ENV, POINTS, SIGNAL_ENV
from kb.index.folder import build_lock, current_name
from kb.settings import PROJECT_ROOT, Settings
from search import Searcher
from search.modes import Highlighting
from testsupport.fakes import FakeEmbedder
from testsupport.pdfgen import make_pdf
from testsupport.procs import descendants, wait_gone
from testsupport.testdata import finlex_corpus

pytestmark = [pytest.mark.model, pytest.mark.kill]

QUERIES = [
    "Miten hankinnoilla edistetään innovaatioita?",
    "Hur följs strategin upp?",
    "environmental impact of procurement",
    "hiilijalanjälki",
]


def _corpus(corpus: Path) -> None:
    make_pdf(
        corpus / "strategia.fi.pdf",
        [
            ["1 Innovaatiot", "Hankinnoilla edistetään innovaatioita ja kokeiluja."],
            ["2 Ympäristö", "Hankinnoilla pienennetään hiilijalanjälkeä."],
        ],
    )
    make_pdf(
        corpus / "strategi.sv.pdf",
        [
            ["1 Innovationer", "Upphandlingar främjar innovationer och försök."],
            ["2 Uppföljning", "Strategin följs upp med indikatorer varje år."],
        ],
    )
    (corpus / "notes.en.md").write_text(
        "# Notes\n\nThe environmental impact of procurement is measured.\n", encoding="utf-8"
    )


def _change(corpus: Path) -> None:
    """Work for the next build: a new PDF to read and embed, an edited page."""
    make_pdf(
        corpus / "raportti.fi.pdf",
        [[f"{i} Luku", f"Tilannekatsaus hankinnoista, osa {i}."] for i in range(1, 30)],
    )
    (corpus / "notes.en.md").write_text(
        "# Notes\n\nThe environmental impact of procurement is measured yearly.\n",
        encoding="utf-8",
    )


def _answers(settings: Settings) -> list[list[tuple[str, float]]]:
    searcher = Searcher.load(settings.index_dir, settings)
    return [
        [
            (h.chunk_id, round(h.score, 6))
            for h in searcher.search(q, k=5, highlight=Highlighting.NONE)
        ]
        for q in QUERIES
    ]


def _run_build(settings: Settings, extra_env: dict[str, str]) -> subprocess.Popen:
    env = dict(
        os.environ,
        KB_CORPUS=str(settings.corpus_dir),
        KB_INDEX=str(settings.index_dir),
        KB_WORKERS="2",
        HF_HUB_OFFLINE="1",
        PYTHONPATH=str(PROJECT_ROOT),
        **extra_env,
    )
    return subprocess.Popen(
        [sys.executable, "-m", "ingest"],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _wait_for(signal_file: Path, proc: subprocess.Popen, point: str) -> None:
    deadline = time.monotonic() + 180
    while not signal_file.exists():
        assert proc.poll() is None, f"build ended before {point}: {proc.stderr.read()}"
        assert time.monotonic() < deadline, f"{point} not reached"
        time.sleep(0.05)


def _kill(proc: subprocess.Popen) -> dict[int, str]:
    """SIGKILL the build; the processes it had started (all must end)."""
    below = descendants(proc.pid)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    return below


def _leftovers(index_dir: Path) -> list[str]:
    live = current_name(index_dir)
    return sorted(
        p.name
        for p in index_dir.iterdir()
        if p.name.startswith((".tmp-", ".CURRENT."))
        or (p.name.startswith("gen-") and p.name > (live or ""))
    )


@pytest.fixture
def indexed(settings, real_embedder) -> tuple[Settings, list]:
    _corpus(settings.corpus_dir)
    assert not build_index(settings, embedder=real_embedder).failed
    before = _answers(settings)
    assert all(before)
    _change(settings.corpus_dir)
    return settings, before


def test_kill_at_each_point_keeps_the_previous_index(indexed, tmp_path):
    settings, before = indexed
    live = current_name(settings.index_dir)
    left_behind = {}
    for point in POINTS:
        signal_file = tmp_path / f"reached-{point}"
        proc = _run_build(settings, {ENV: point, SIGNAL_ENV: str(signal_file)})
        _wait_for(signal_file, proc, point)
        below = _kill(proc)
        assert wait_gone(below, 5) == [], f"processes left by the build killed at {point}"
        with build_lock(settings.index_dir):  # the next build can start at once
            pass
        assert current_name(settings.index_dir) == live, point
        assert _answers(settings) == before, point
        left_behind[point] = _leftovers(settings.index_dir)

    # a build dying while writing leaves its temporary folder; just before
    # the swap, a complete generation CURRENT does not name
    assert any(name.startswith(".tmp-") for name in left_behind["write"])
    assert any(name.startswith("gen-") for name in left_behind["swap"])

    proc = _run_build(settings, {})
    assert proc.wait(timeout=300) == 0, proc.stderr.read()
    assert _leftovers(settings.index_dir) == []
    new_live = current_name(settings.index_dir)
    assert new_live != live
    generations = {p.name for p in settings.index_dir.glob("gen-*")}
    assert generations == {live, new_live}  # the orphan of the swap kill is gone
    searcher = Searcher.load(settings.index_dir, settings)
    hits = searcher.search("Tilannekatsaus hankinnoista", k=3, highlight=Highlighting.NONE)
    assert hits and hits[0].doc_id == "raportti-fi"
    assert "yearly" in " ".join(c.text for c in searcher.chunks if c.doc_id == "notes-en")


def test_a_build_killed_while_reading_pdfs_leaves_no_reader_and_no_lock(settings, tmp_path):
    """The fault: a reader outlived its killed build, blocked writing the
    pages of a large PDF into a pipe nobody read and holding the build lock,
    so every later build said "another build ... is running" until someone
    killed the reader by hand."""
    (tmp_path / "finlex").mkdir()
    settings = replace(settings, corpus_dir=finlex_corpus(tmp_path / "finlex"), workers=2)
    signal_file = tmp_path / "reached-extract"
    proc = _run_build(settings, {ENV: "extract", SIGNAL_ENV: str(signal_file)})
    _wait_for(signal_file, proc, "extract")
    time.sleep(2)  # the readers are into the PDFs (and soon done, with no one to read them)
    readers = _kill(proc)
    assert len(readers) == 2, readers  # KB_WORKERS=2, one reader per PDF
    assert wait_gone(readers, 5) == [], "readers outlived the build"
    started = time.monotonic()
    report = build_index(settings, embedder=FakeEmbedder())
    assert report.written and not report.failed, report.failed
    assert time.monotonic() - started < 120


@pytest.mark.slow
def test_kill_at_random_moments(indexed):
    """Kills at seeded random delays, wherever they land: afterwards the
    index is either the previous one, answering exactly as before, or the
    new one, complete; never anything else."""
    settings, before = indexed
    live = current_name(settings.index_dir)
    rng = random.Random(20261127)
    outcomes = []
    for _ in range(10):
        delay = rng.uniform(0.5, 15.0)
        proc = _run_build(settings, {})
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        if current_name(settings.index_dir) == live:
            assert _answers(settings) == before, delay
            outcomes.append("old")
        else:
            searcher = Searcher.load(settings.index_dir, settings)
            assert any(c.doc_id == "raportti-fi" for c in searcher.chunks)
            outcomes.append("new")
            break
    print("random kills:", outcomes)
    assert "old" in outcomes, outcomes
