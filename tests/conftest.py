"""Shared fixtures. Tests never touch the real corpus/ or index/ folders."""

from __future__ import annotations

from pathlib import Path

import pytest

from kb.settings import PROJECT_ROOT, Settings, load_settings
from testsupport.fakes import FakeEmbedder
from testsupport.library import serve_addresses
from testsupport.testdata import finlex_corpus


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request) -> None:
    if request.node.get_closest_marker("quality") is None:
        # Search answers the same whatever dictionaries the machine has: the
        # lexical bridge's tests bring their own (tests/system/test_bridge.py); only
        # the quality tests measure the product as installed.
        monkeypatch.setenv("KB_DICT_DIR", str(tmp_path / "no-dictionaries"))
    # The Finnish analyser is off by default (kb/text/morphology.py); its
    # tests turn it on, whatever the machine's environment says.
    if request.node.get_closest_marker("morphology") is None:
        monkeypatch.delenv("KB_FINNISH_MORPHOLOGY", raising=False)
    else:
        monkeypatch.setenv("KB_FINNISH_MORPHOLOGY", "on")
    monkeypatch.setenv("KB_CORPUS", str(tmp_path / "corpus"))
    monkeypatch.setenv("KB_INDEX", str(tmp_path / "index"))
    monkeypatch.setenv("KB_STATIC", str(tmp_path / "static"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.delenv("KB_MODEL", raising=False)
    monkeypatch.setenv("KB_WORKERS", "1")  # in-process reading; one test covers the pool
    (tmp_path / "corpus").mkdir()


@pytest.fixture
def allow_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let fetch reach the test servers on 127.0.0.1 (ingest/fetching/netguard.py
    refuses loopback unless the operator allow-lists it)."""
    monkeypatch.setenv("KB_FETCH_ALLOW", "127.0.0.1")


@pytest.fixture
def address_server(tmp_path: Path):
    """A PDF and a web page to add by address, served on 127.0.0.1
    (testsupport/library.py): (its URL, the paths requested so far)."""
    with serve_addresses(tmp_path) as served:
        yield served


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings()


@pytest.fixture
def fake() -> FakeEmbedder:
    return FakeEmbedder()


@pytest.fixture(scope="session")
def finlex_index(tmp_path_factory, real_embedder) -> Settings:
    """The Public Procurement Act (fi + sv, one group) indexed with the real
    model, once per test session; settings pointing at it. Read-only."""
    from ingest.pipeline import build_index

    root = tmp_path_factory.mktemp("finlex-index")
    sources = (PROJECT_ROOT / "eval" / "finlex.sources.toml").read_text(encoding="utf-8")
    corpus = finlex_corpus(root, sources)
    settings = Settings(corpus_dir=corpus, index_dir=root / "index")
    report = build_index(settings, embedder=real_embedder)
    assert not report.failed, report.failed
    return settings


@pytest.fixture(scope="session")
def real_embedder():
    """The real default model (converted once into the git-ignored cache)."""
    from kb.model.embedder import load_embedder

    return load_embedder(Settings())


@pytest.fixture(scope="session")
def pg_server(tmp_path_factory):
    """PostgreSQL with pgvector (testsupport/pgtest.py), once per session; skips
    only when the server cannot start on this machine, saying why."""
    from testsupport.pgtest import PgTestServer

    try:
        server = PgTestServer(tmp_path_factory.mktemp("postgres") / "data")
    except Exception as exc:  # noqa: BLE001 - the reason goes into the skip message
        pytest.skip(f"PostgreSQL (pgserver) could not start here: {type(exc).__name__}: {exc}")
    yield server
    server.cleanup()


@pytest.fixture
def pg_url(pg_server) -> str:
    """The address of a new empty database on the test server."""
    return pg_server.create_database()
