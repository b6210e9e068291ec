"""The other faults of issue 24's attack (rows 5-10), each fixed: faiss's
write error, a removal during a build and a rebuild asked for meanwhile, a
too-deep sources.toml, an endless queries file, a NUL byte in a query, a
refused removal that still edited sources.toml."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
import time

import pytest

from ingest import __main__ as cli
from ingest import pipeline
from ingest.corpus import library, sourcesfile
from ingest.corpus.library import Document, LibraryError, remove
from ingest.corpus.sources import SourcesError, load_sources
from ingest.storage.buildwait import build_in_turn
from kb.errors import BuildLockedError, IndexWriteError
from kb.index.folder import current_name, load_generation
from kb.settings import PROJECT_ROOT
from search.relevance import made_of_words, not_a_question_here
from testsupport.fakes import FakeEmbedder


def _fake_cli(monkeypatch) -> None:
    monkeypatch.setattr(pipeline, "load_embedder", lambda s: FakeEmbedder())
    monkeypatch.setattr(pipeline, "resolve_model", lambda s: ("fake", "fake", "fake-v1"))


# ---------------------------------------------------------------- 5. faiss's write error


def test_faiss_write_error_on_a_full_disk_is_cannot_write_the_index(settings, monkeypatch, capsys):
    (settings.corpus_dir / "a.txt").write_text("Hankinnat ja niiden suunnittelu vuodelle.")
    pipeline.build_index(settings, embedder=FakeEmbedder())
    live = current_name(settings.index_dir)
    (settings.corpus_dir / "b.txt").write_text("Uusi asiakirja, joka ei mahdu levylle.")
    real_mkdtemp = tempfile.mkdtemp

    def full_disk(*a, **kw):  # the new generation's index.faiss lands on a full disk
        folder = real_mkdtemp(*a, **kw)
        os.symlink("/dev/full", os.path.join(folder, "index.faiss"))
        return folder

    monkeypatch.setattr(tempfile, "mkdtemp", full_disk)
    with pytest.raises(IndexWriteError, match="No space left on device"):
        pipeline.build_index(settings, embedder=FakeEmbedder())
    assert current_name(settings.index_dir) == live
    assert not list(settings.index_dir.glob(".tmp-*"))
    _fake_cli(monkeypatch)
    assert cli.main([]) == 3
    err = capsys.readouterr().err
    assert "cannot write the index" in err and "Traceback" not in err


# ---------------------------------------------------------------- 6. removal during a build


class Gate(FakeEmbedder):
    """Embeds only once ``go`` is set; ``started`` tells it was asked."""

    def __init__(self) -> None:
        super().__init__()
        self.started, self.go = threading.Event(), threading.Event()

    def embed_passages(self, texts, *a, **kw):
        self.started.set()
        assert self.go.wait(30)
        return super().embed_passages(texts, *a, **kw)


def test_a_removal_waits_for_the_running_build_and_the_next_build_drops_it(settings):
    c = settings.corpus_dir
    (c / "a.txt").write_text("Hankintalaki ja kilpailutus kunnissa.")
    (c / "b.txt").write_text("Innovaatiot julkisissa hankinnoissa.")
    gate = Gate()
    build = threading.Thread(
        target=pipeline.build_index, args=(settings,), kwargs={"embedder": gate}
    )
    build.start()
    assert gate.started.wait(30)
    removal = threading.Thread(target=remove, args=(settings, "b"))
    removal.start()
    time.sleep(0.5)
    assert removal.is_alive()  # waits: the running build still reads b.txt
    assert (c / "b.txt").exists()
    gate.go.set()
    build.join(30)
    removal.join(30)
    assert not (c / "b.txt").exists()
    pipeline.build_index(settings, embedder=FakeEmbedder())
    assert {ch.doc_id for ch in load_generation(settings.index_dir).chunks} == {"a"}


def test_a_rebuild_asked_for_during_a_build_is_queued_not_dropped(settings):
    c = settings.corpus_dir
    (c / "a.txt").write_text("Hankintalaki ja kilpailutus kunnissa.")
    gate = Gate()
    first = threading.Thread(
        target=pipeline.build_index, args=(settings,), kwargs={"embedder": gate}
    )
    first.start()
    assert gate.started.wait(30)
    with pytest.raises(BuildLockedError):  # the CLI's way: refused at once
        pipeline.build_index(settings, embedder=FakeEmbedder())
    (c / "c.txt").write_text("Uusi asiakirja: puitejärjestelyt ja dynaamiset hankintajärjestelmät.")
    result = {}
    queued = threading.Thread(
        target=lambda: result.update(
            report=build_in_turn(pipeline.build_index, settings, embedder=FakeEmbedder())
        )
    )
    queued.start()
    time.sleep(0.5)
    assert queued.is_alive()  # waiting its turn
    gate.go.set()
    first.join(30)
    queued.join(30)
    assert result["report"].written
    assert {ch.doc_id for ch in load_generation(settings.index_dir).chunks} == {"a", "c"}


# ---------------------------------------------------------------- 7. a too-deep sources.toml


def test_a_sources_file_nested_too_deeply_is_a_reason_and_exit_2(settings, monkeypatch, capsys):
    deep = "x = " + "[" * 1000 + "]" * 1000 + "\n"
    (settings.corpus_dir / "sources.toml").write_text(deep, encoding="utf-8")
    with pytest.raises(SourcesError, match="nested too deeply"):
        load_sources(settings.corpus_dir)
    with pytest.raises(SourcesError, match="nested"):  # tomlkit's own limit, for edits
        sourcesfile.parse(deep)
    (settings.corpus_dir / "a.txt").write_text("Hankinnat.")
    _fake_cli(monkeypatch)
    assert cli.main([]) == 2
    err = capsys.readouterr().err
    assert "nested too deeply" in err and "Traceback" not in err


# ---------------------------------------------------------------- 8. queries files


def test_a_queries_file_without_end_is_a_clear_error():
    started = time.monotonic()
    run = subprocess.run(
        [sys.executable, "-m", "search", "--queries-file", "/dev/zero"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=PROJECT_ROOT,
    )
    assert run.returncode == 2 and time.monotonic() - started < 30  # a usage error
    assert "larger than 16 MB" in run.stderr and "Traceback" not in run.stderr


def test_a_queries_file_with_too_many_lines_is_refused(tmp_path):
    from search.__main__ import MAX_QUERY_LINES, read_queries
    from search.hits import QueryError

    path = tmp_path / "q.txt"
    path.write_text("hankinta\n" * (MAX_QUERY_LINES + 1), encoding="utf-8")
    with pytest.raises(QueryError, match="lines"):
        read_queries(path)


# ---------------------------------------------------------------- 9. control characters


@pytest.mark.parametrize(
    "query",
    [
        "Mikä on hankintalain\x00 tarkoitus?",
        "hankintalaki\x1b[31m",
        "Vad är upphandling\u202e?",
        "procurement\x85 act",
    ],
)
def test_a_control_character_makes_a_query_not_made_of_words(query):
    assert not made_of_words(query)
    assert not_a_question_here(query)


def test_ordinary_questions_stay_words():
    assert made_of_words("Mikä on hankintalain tarkoitus?\t")


# ---------------------------------------------------------------- 10. remove validates first


def test_a_refused_removal_does_not_edit_sources_toml(settings, monkeypatch):
    c = settings.corpus_dir
    text = '# kept as it is\n[[document]]\nid = "x"\nfile = ".hidden/x.md"\n'
    (c / "sources.toml").write_text(text, encoding="utf-8")
    hidden = Document("x", "X", ".hidden/x.md", entry=True, present=True)
    monkeypatch.setattr(library, "documents", lambda s: [hidden])
    with pytest.raises(LibraryError, match="not a document file"):
        remove(settings, "x")
    assert (c / "sources.toml").read_text(encoding="utf-8") == text
