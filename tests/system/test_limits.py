"""Input limits: per-file time, size and page limits, reader processes that
hang or die, and paths that must never leave the corpus folder."""

from __future__ import annotations

import os
import signal
import time
from dataclasses import replace

import pytest

from ingest.__main__ import main as ingest_main
from ingest.corpus.sources import SourcesError, load_sources
from ingest.pipeline import build_index
from ingest.reading import readers
from ingest.reading.readers import UNEXPECTED
from kb.settings import load_settings
from testsupport.fakes import FakeEmbedder
from testsupport.pdfgen import make_pdf

pytestmark = pytest.mark.slow  # reader processes killed at their limits: the second lane


@pytest.fixture
def two_pdfs(settings):
    for name in ("good.pdf", "bad.pdf"):
        make_pdf(settings.corpus_dir / name, [["1 Otsikko", f"Teksti tiedostosta {name}."]])
    return settings


def _misbehave_on_bad(monkeypatch, behaviour, name: str = "bad.pdf") -> None:
    """Reader processes are forked, so a patched reader is what they run."""
    real = readers.read_pages

    def read_pages(path, settings):
        if path.name == name:
            behaviour()
        return real(path, settings)

    monkeypatch.setattr(readers, "read_pages", read_pages)


def _statuses(report) -> dict[str, tuple[str, str]]:
    return {f.path: (f.status, f.error) for f in report.files}


def test_a_reader_past_the_time_limit_is_killed_and_the_rest_indexed(two_pdfs, monkeypatch):
    _misbehave_on_bad(monkeypatch, lambda: time.sleep(3600))
    started = time.monotonic()
    report = build_index(replace(two_pdfs, file_timeout=1), embedder=FakeEmbedder())
    assert time.monotonic() - started < 30
    status = _statuses(report)
    assert status["good.pdf"][0] == "indexed"
    assert status["bad.pdf"] == (
        "failed",
        "reading took longer than 1 s (KB_FILE_TIMEOUT); skipped",
    )


@pytest.mark.parametrize("name", ["slow.md", "slow.html", "slow.txt"])
def test_every_format_is_read_under_the_time_limit(settings, monkeypatch, name):
    """Markdown, HTML and text were read in the build's own process, with
    no limit: one slow file stalled the whole build."""
    (settings.corpus_dir / "good.md").write_text("# Hyvä\n\nTeksti.\n")
    (settings.corpus_dir / name).write_text("<h1>Hidas</h1>\n\nTeksti.\n")
    _misbehave_on_bad(monkeypatch, lambda: time.sleep(30), name)
    started = time.monotonic()
    report = build_index(replace(settings, file_timeout=1), embedder=FakeEmbedder())
    assert time.monotonic() - started < 20
    status = _statuses(report)
    assert status["good.md"][0] == "indexed"
    assert status[name] == ("failed", "reading took longer than 1 s (KB_FILE_TIMEOUT); skipped")


def test_a_huge_text_file_past_the_time_limit_is_skipped(settings, monkeypatch):
    """No patching: 60 MB of Markdown takes its reader several seconds,
    over KB_FILE_TIMEOUT=1; the small file beside it is indexed."""
    monkeypatch.setenv("KB_FILE_TIMEOUT", "1")
    settings = load_settings()
    section = "## Osio\n\nHankintayksikkö kilpailuttaa palvelut ja seuraa sopimusta.\n\n"
    (settings.corpus_dir / "huge.md").write_text(section * (60_000_000 // len(section)))
    (settings.corpus_dir / "small.md").write_text("# Pieni\n\nTeksti.\n")
    started = time.monotonic()
    status = _statuses(build_index(settings, embedder=FakeEmbedder()))
    assert time.monotonic() - started < 30
    assert status["small.md"][0] == "indexed"
    assert status["huge.md"] == (
        "failed",
        "reading took longer than 1 s (KB_FILE_TIMEOUT); skipped",
    )


@pytest.mark.parametrize("workers", [1, 2])
def test_a_reader_that_dies_takes_only_its_file(two_pdfs, monkeypatch, workers):
    # killed as the kernel's out-of-memory killer would
    _misbehave_on_bad(monkeypatch, lambda: os.kill(os.getpid(), signal.SIGKILL))
    report = build_index(replace(two_pdfs, workers=workers), embedder=FakeEmbedder())
    status = _statuses(report)
    assert status["good.pdf"][0] == "indexed"
    assert status["bad.pdf"] == ("failed", "the reader crashed on this file (exit code -9)")


def test_an_unexpected_reader_error_is_reported_not_raised(two_pdfs, monkeypatch):
    _misbehave_on_bad(monkeypatch, lambda: 1 / 0)
    report = build_index(two_pdfs, embedder=FakeEmbedder())
    status = _statuses(report)
    assert status["good.pdf"][0] == "indexed"
    assert status["bad.pdf"][0] == "failed"
    assert status["bad.pdf"][1].startswith(f"{UNEXPECTED} (ZeroDivisionError")


def test_size_and_page_limits_skip_the_file_with_the_reason(settings):
    make_pdf(settings.corpus_dir / "long.pdf", [[f"{i} Sivu", "Tekstiä."] for i in range(1, 13)])
    (settings.corpus_dir / "big.md").write_text("# Iso\n\n" + "sana " * 300_000)
    limited = replace(settings, max_pages=10, max_file_mb=1)
    status = _statuses(build_index(limited, embedder=FakeEmbedder()))
    assert status["long.pdf"] == ("failed", "PDF has 12 pages, over the limit of 10")
    assert status["big.md"] == ("failed", "file is 1.5 MB, over the limit of 1 MB")


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ('id = "../../etc"', "must be letters, digits"),
        ('id = "a/b"', "must be letters, digits"),
        ('id = ""', "has no id"),
        ('id = "x"\nfile = "../outside.pdf"', "must be a path inside the corpus folder"),
        ('id = "x"\nfile = "/etc/passwd"', "must be a path inside the corpus folder"),
    ],
)
def test_sources_cannot_point_outside_the_corpus(settings, capsys, entry, message):
    (settings.corpus_dir / "sources.toml").write_text(f"[[document]]\n{entry}\n")
    with pytest.raises(SourcesError, match=message):
        load_sources(settings.corpus_dir)
    assert ingest_main([]) == 2
    assert message in capsys.readouterr().err
    assert ingest_main(["fetch"]) == 2


def test_a_symlinked_folder_out_of_the_corpus_is_not_followed(settings, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.md").write_text("# Salainen\n\nEi kuulu korpukseen.\n")
    (settings.corpus_dir / "linked").symlink_to(outside, target_is_directory=True)
    (settings.corpus_dir / "inside.md").write_text("# Sisällä\n\nKuuluu korpukseen.\n")
    report = build_index(settings, embedder=FakeEmbedder())
    assert [f.path for f in report.files] == ["inside.md"]
