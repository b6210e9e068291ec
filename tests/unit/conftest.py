"""The unit tests' fixtures: the tiny index of testsupport/tiny.py, built
once per session with the fake embedder, and its view."""

from __future__ import annotations

import pytest

from kb.settings import Settings
from testsupport.fakes import FakeEmbedder
from testsupport.tiny import Tiny, write_corpus


@pytest.fixture(scope="session")
def tiny(tmp_path_factory) -> Tiny:
    """The tiny index, built once; read-only for the tests."""
    from ingest.pipeline import build_index

    root = tmp_path_factory.mktemp("tiny")
    write_corpus(root / "corpus")
    settings = Settings(corpus_dir=root / "corpus", index_dir=root / "index")
    embedder = FakeEmbedder()
    report = build_index(settings, embedder=embedder)
    assert not report.failed, report.failed
    return Tiny(settings, embedder)


@pytest.fixture(scope="session")
def view(tiny):
    from kb.index.folder import load_generation
    from search.view import IndexView

    return IndexView(load_generation(tiny.index_dir))
