"""Input limits: per-file time, size and page limits, reader processes that
hang or die, and paths that must never leave the corpus folder."""

from __future__ import annotations

import os
import signal
import time
from dataclasses import replace

import pytest

from ingest import pipeline
from ingest.__main__ import main as ingest_main
from ingest.pipeline import UNEXPECTED, build_index
from ingest.sources import SourcesError, load_sources

from .fakes import FakeEmbedder
from .pdfgen import make_pdf


@pytest.fixture
def two_pdfs(settings):
    for name in ("good.pdf", "bad.pdf"):
        make_pdf(settings.corpus_dir / name, [["1 Otsikko", f"Teksti tiedostosta {name}."]])
    return settings


def _misbehave_on_bad(monkeypatch, behaviour) -> None:
    """Reader processes are forked, so a patched reader is what they run."""
    real = pipeline.read_pages

    def read_pages(path, settings):
        if path.name == "bad.pdf":
            behaviour()
        return real(path, settings)

    monkeypatch.setattr(pipeline, "read_pages", read_pages)


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
