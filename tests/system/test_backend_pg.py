"""The PostgreSQL backend against a real server (testsupport/pgtest.py): the same
answers as the index folder, generations, incremental builds, several
searchers on one database, and each fault with its typed error."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import replace

import psycopg
import pytest

from ingest.pipeline import build_index
from ingest.storage.pgstore import PgStore
from kb.errors import (
    BackendSchemaError,
    BackendUnavailableError,
    BuildLockedError,
    IndexMissingError,
)
from kb.settings import PROJECT_ROOT
from search import Searcher
from search.cite import cite
from search.modes import Highlighting
from testsupport.fakes import FakeEmbedder, NoTies
from testsupport.pgcorpus import NEW_FILE, OLD, QUERIES, many_passages, write_files

pytestmark = pytest.mark.postgres  # a real server: the second lane


@pytest.fixture
def pg(settings, pg_url):
    """Settings for the PostgreSQL backend, with the small corpus written."""
    write_files(settings.corpus_dir, OLD)
    return replace(settings, backend=pg_url)


def _tables(url: str) -> set[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT tablename FROM pg_tables WHERE tablename LIKE 'kb_%'")
        return {r[0] for r in rows}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _key(hits):
    return [(h.chunk_id, h.dense_rank, h.bm25_rank) for h in hits]


def test_same_answers_and_citations_as_the_index_folder(settings, pg):
    fake = NoTies()
    build_index(settings, embedder=fake)
    build_index(pg, embedder=fake)
    files = Searcher.load(settings.index_dir, settings, embedder=fake)
    postgres = Searcher.load(settings.index_dir, pg, embedder=fake)
    assert postgres.languages == files.languages and postgres.documents == files.documents
    for query in QUERIES:
        for mode in ("dense", "hybrid", "bm25"):
            a = files.search(query, k=5, mode=mode)
            b = postgres.search(query, k=5, mode=mode)
            assert _key(a) == _key(b), (query, mode)
            assert [h.score for h in a] == pytest.approx([h.score for h in b], abs=1e-6)
            for x, y in zip(a, b, strict=True):
                if x.chunk_id == y.chunk_id:
                    assert cite(x, files.document(x.doc_id)) == cite(y, postgres.document(y.doc_id))
    chunk = files.chunks[1].chunk_id
    assert [h.chunk_id for h in files.similar(chunk, k=3)] == [
        h.chunk_id for h in postgres.similar(chunk, k=3)
    ]
    assert [h.chunk_id for h in files.neighbours(chunk)] == [
        h.chunk_id for h in postgres.neighbours(chunk)
    ]
    for x, y in zip(files.search("hankinta", k=5), postgres.search("hankinta", k=5), strict=True):
        assert files.passages_before(x) == postgres.passages_before(y)
    # How many passages of a language hold a term (the highlights' rarity),
    # counted in the database: the folder's count.
    for term in ("hankin", "upphandl", "innovation", "zebra"):
        for lang in ("fi", "sv"):
            counts = [
                s.view.generation.holding(term, s.view.where(languages=[lang]))
                for s in (files, postgres)
            ]
            assert counts[0] == counts[1], (term, lang)
    assert files.view.generation.holding("upphandl", files.view.where(languages=["sv"])) > 0
    # Filters: only Swedish, only one document.
    for filters in ({"languages": ["sv"]}, {"docs": ["hankinnat-fi"]}):
        a = files.search("hankinnat upphandling", k=3, **filters)
        b = postgres.search("hankinnat upphandling", k=3, **filters)
        assert _key(a) == _key(b) and a, filters


def test_incremental_build_reuses_vectors_and_drops_the_old_generation(pg):
    first = build_index(pg, embedder=FakeEmbedder())
    assert first.written and first.embedded == first.chunks
    again = FakeEmbedder()
    same = build_index(pg, embedder=again)
    assert not same.written and again.embedded == [] and same.generation == first.generation
    write_files(pg.corpus_dir, NEW_FILE)
    more = FakeEmbedder()
    second = build_index(pg, embedder=more)
    assert second.written and second.generation != first.generation
    assert len(more.embedded) == 1  # only the new file's passage
    tables = _tables(pg.backend)
    assert len([t for t in tables if t.startswith("kb_chunks_")]) == 1  # no reader held the old
    searcher = Searcher.load(None, pg, embedder=FakeEmbedder())
    assert searcher.search("national procurement strategy", k=1)[0].doc_id == "strategy-en"


def test_two_searchers_see_a_rebuild_and_the_old_generation_goes_after_them(pg):
    fake = FakeEmbedder()
    build_index(pg, embedder=fake)
    one = Searcher.load(None, pg, embedder=fake)
    two = Searcher.load(None, pg, embedder=fake)
    old = one.generation.name
    write_files(pg.corpus_dir, NEW_FILE)
    build_index(pg, embedder=fake)
    # Both still read the old generation, whole, until they move on.
    assert one.generation.name == two.generation.name == old
    assert all(h.doc_id != "strategy-en" for h in two.search("national strategy", k=5))
    assert PgStore(pg.backend).remove_stale() == []  # leases held: not dropped
    assert one.reload_if_changed() and one.generation.name != old
    assert PgStore(pg.backend).remove_stale() == []  # the second searcher still reads it
    assert two.reload_if_changed() and two.generation.name == one.generation.name
    assert one.search("national strategy", k=1)[0].doc_id == "strategy-en"
    assert two.search("national strategy", k=1)[0].doc_id == "strategy-en"
    assert PgStore(pg.backend).remove_stale() == [old]


# One page process as the test drives it: a searcher on the database, and
# a build when asked (the documents view's "Rebuild index").
PAGE_PROCESS = r"""
import json, sys
from ingest.pipeline import build_index
from kb.settings import load_settings
from search import Searcher
from testsupport.fakes import FakeEmbedder

settings, fake = load_settings(), FakeEmbedder()
searcher = Searcher.load(None, settings, embedder=fake)
for line in sys.stdin:
    command, _, query = line.strip().partition(" ")
    if command == "build":
        answer = build_index(settings, embedder=fake).generation
    elif command == "reload":
        searcher.reload_if_changed()
        answer = searcher.generation.name
    else:
        answer = [h.doc_id for h in searcher.search(query, k=3)]
    print(json.dumps(answer), flush=True)
"""


def test_two_page_processes_share_the_database_and_a_rebuild(pg):
    """Two processes on one database: a rebuild started in one is served by
    the other once it moves on, and until then it reads its generation whole."""
    build_index(pg, embedder=FakeEmbedder())
    env = dict(
        os.environ,
        KB_BACKEND=pg.backend,
        KB_CORPUS=str(pg.corpus_dir),
        KB_INDEX=str(pg.index_dir),
        PYTHONPATH=str(PROJECT_ROOT),
        HF_HUB_OFFLINE="1",
    )
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", PAGE_PROCESS],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
            cwd=PROJECT_ROOT,
        )
        for _ in range(2)
    ]

    def ask(proc, line: str):
        proc.stdin.write(line + "\n")
        proc.stdin.flush()
        answer = proc.stdout.readline()
        assert answer, f"the page process ended (exit {proc.poll()})"
        return json.loads(answer)

    try:
        builder, reader = procs
        old = ask(reader, "reload")
        assert "strategy-en" not in ask(reader, "search national strategy")
        write_files(pg.corpus_dir, NEW_FILE)
        new = ask(builder, "build")
        assert new != old
        assert "strategy-en" not in ask(reader, "search national strategy")  # still the old, whole
        assert ask(reader, "reload") == new
        assert ask(reader, "search national strategy")[0] == "strategy-en"
    finally:
        for proc in procs:
            proc.stdin.close()
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()


def test_two_builds_at_once_are_refused(pg):
    store = PgStore(pg.backend)
    with store.lock():
        with pytest.raises(BuildLockedError):
            build_index(pg, embedder=FakeEmbedder())
    store.close()
    assert build_index(pg, embedder=FakeEmbedder()).written


@pytest.mark.parametrize(
    "address",
    [
        "postgresql://kb@host.invalid/kb",  # a name that does not resolve
        "postgresql://kb@127.0.0.1:{port}/kb",  # nothing listens there
        "postgresql://kb@127.0.0.1:notaport/kb",  # not an address at all
    ],
)
def test_a_wrong_or_refused_address_is_a_clear_error(settings, address, capsys, monkeypatch):
    from ingest.__main__ import main as ingest_main
    from search.__main__ import main as search_main

    url = address.format(port=_free_port())
    bad = replace(settings, backend=url)
    with pytest.raises(BackendUnavailableError, match="PostgreSQL at"):
        Searcher.load(None, bad, embedder=FakeEmbedder())
    monkeypatch.setenv("KB_BACKEND", url)
    assert search_main(["hankinnat"]) == 3  # nothing could be done: ExitCode.FAILED
    assert ingest_main([]) == 3
    err = capsys.readouterr().err
    assert err.count("error: PostgreSQL at") == 2 and "Traceback" not in err


def test_an_empty_database_says_no_index_has_been_built(pg):
    with pytest.raises(IndexMissingError, match="no index has been built"):
        Searcher.load(None, pg, embedder=FakeEmbedder())


def test_a_database_without_pgvector_is_a_clear_error(pg, pg_server):
    """A managed server where the user may not enable pgvector."""
    with psycopg.connect(pg_server.url(), autocommit=True) as conn:
        conn.execute("CREATE ROLE kb_plain LOGIN")
        conn.execute("CREATE DATABASE kb_plain OWNER kb_plain")
    url = pg_server.url("kb_plain").replace("postgres:@", "kb_plain:@")
    with pytest.raises(BackendSchemaError, match="CREATE EXTENSION vector"):
        build_index(replace(pg, backend=url), embedder=FakeEmbedder())


def test_a_schema_of_another_format_version_is_refused_and_kept(pg):
    fake = FakeEmbedder()
    build_index(pg, embedder=fake)
    with psycopg.connect(pg.backend, autocommit=True) as conn:
        conn.execute("UPDATE kb_meta SET value = '99' WHERE key = 'format_version'")
    with pytest.raises(BackendSchemaError, match="format version 99"):
        Searcher.load(None, pg, embedder=fake)
    before = _tables(pg.backend)
    with pytest.raises(BackendSchemaError, match="format version 99"):
        build_index(pg, embedder=fake)
    assert _tables(pg.backend) == before  # nothing rewritten


class _KillsServer(FakeEmbedder):
    """Stops the database (as a crash) while the build embeds."""

    def __init__(self, server) -> None:
        super().__init__()
        self.server = server

    def embed_passages(self, texts, progress=None):
        self.server.stop("immediate")
        return super().embed_passages(texts, progress)


def test_a_database_killed_during_a_build_loses_nothing(pg, pg_server):
    fake = FakeEmbedder()
    first = build_index(pg, embedder=fake)
    searcher = Searcher.load(None, pg, embedder=fake)
    before = _key(searcher.search("hankinnat innovaatiot", k=3))
    write_files(pg.corpus_dir, NEW_FILE)
    try:
        with pytest.raises(BackendUnavailableError):
            build_index(pg, embedder=_KillsServer(pg_server))
        with pytest.raises(BackendUnavailableError):
            searcher.search("hankinnat innovaatiot", k=3)  # the server is down
    finally:
        pg_server.start()
    # Back: the same live generation answers the same, through a new connection.
    assert searcher.search("hankinnat innovaatiot", k=3) and searcher.generation.name == (
        first.generation
    )
    assert _key(searcher.search("hankinnat innovaatiot", k=3)) == before
    assert not searcher.reload_if_changed()
    assert build_index(pg, embedder=fake).written  # and the next build goes through


KILLED_BUILD = """
import sys
from dataclasses import replace
sys.path.insert(0, {root!r})
from kb.settings import load_settings
from ingest.pipeline import build_index
from testsupport.fakes import FakeEmbedder
build_index(replace(load_settings(), backend={url!r}), embedder=FakeEmbedder())
"""


@pytest.mark.parametrize("point", ["write", "swap"])
def test_a_build_killed_midway_leaves_the_live_generation(pg, point, tmp_path):
    fake = FakeEmbedder()
    first = build_index(pg, embedder=fake)
    tables = _tables(pg.backend)
    write_files(pg.corpus_dir, NEW_FILE)
    signal_file = tmp_path / "reached"
    env = dict(os.environ, KB_FAILPOINT=point, KB_FAILPOINT_SIGNAL=str(signal_file))
    code = KILLED_BUILD.format(root=str(PROJECT_ROOT), url=pg.backend)
    proc = subprocess.Popen([sys.executable, "-c", code], env=env)
    try:
        deadline = time.monotonic() + 60
        while not signal_file.exists():
            assert proc.poll() is None, "the build ended before its failpoint"
            assert time.monotonic() < deadline, "the build never reached its failpoint"
            time.sleep(0.05)
        with pytest.raises(BuildLockedError):  # it holds the build lock meanwhile
            build_index(pg, embedder=fake)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    searcher = Searcher.load(None, pg, embedder=fake)
    assert searcher.generation.name == first.generation
    assert all(h.doc_id != "strategy-en" for h in searcher.search("national strategy", k=5))
    deadline = time.monotonic() + 10  # the server notices the dead session
    while _tables(pg.backend) != tables and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _tables(pg.backend) == tables  # its half-written tables went with its transaction
    assert build_index(pg, embedder=fake).written


@pytest.mark.parametrize("ui", ["fi", "sv", "en"])
def test_the_page_says_the_database_is_out_of_reach(settings, monkeypatch, ui):
    from streamlit.testing.v1 import AppTest

    from kb.labels import label

    monkeypatch.setenv("KB_BACKEND", f"postgresql://kb@127.0.0.1:{_free_port()}/kb")
    at = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=60)
    at.query_params["ui"] = ui
    at.run()
    assert not at.exception, at.exception
    assert at.error[0].value.startswith(label(ui, "backend_down"))
    at.button[0].click().run()  # "build": the same message, no traceback
    assert not at.exception, at.exception
    assert any(e.value.startswith(label(ui, "backend_down")) for e in at.error)


def test_status_lists_the_documents_of_the_database(pg, monkeypatch, capsys):
    import json

    from ingest.__main__ import main as ingest_main

    first = build_index(pg, embedder=FakeEmbedder())
    monkeypatch.setenv("KB_BACKEND", pg.backend)
    assert ingest_main(["status", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["index"]["generation"] == first.generation
    assert {d["doc_id"] for d in out["documents"]} == {
        "hankinnat-fi",
        "upphandling-sv",
        "procurement-en",
    }


def test_filtered_dense_searches_stay_exact_when_repeated(settings, pg_url):
    """Searches repeated past psycopg's prepare threshold, with a filter: a
    prepared statement's generic plan once returned no rows at all here."""
    many_passages(settings.corpus_dir)
    fake = NoTies()
    build_index(settings, embedder=fake)
    pg = replace(settings, backend=pg_url)
    build_index(pg, embedder=fake)
    files = Searcher.load(settings.index_dir, settings, embedder=fake)
    postgres = Searcher.load(None, pg, embedder=fake)
    assert len(postgres.chunks) > 400
    for i in range(12):
        query = f"innovation{i % 9} upphandling{(i + 3) % 9} hankinta{i % 9}"
        for languages in (["sv"], ["fi"]):
            a = files.search(
                query, k=10, mode="dense", languages=languages, highlight=Highlighting.NONE
            )
            b = postgres.search(
                query, k=10, mode="dense", languages=languages, highlight=Highlighting.NONE
            )
            assert len(b) == 10 and _key(a) == _key(b), (i, languages)


def test_a_generation_dropped_under_a_searcher_is_an_error_then_a_reload(pg):
    """As on a read replica, whose leases the primary does not see."""
    fake = FakeEmbedder()
    build_index(pg, embedder=fake)
    searcher = Searcher.load(None, pg, embedder=fake)
    write_files(pg.corpus_dir, NEW_FILE)
    build_index(pg, embedder=fake)
    old = searcher.generation
    with psycopg.connect(pg.backend, autocommit=True) as conn:
        conn.execute(f"DROP TABLE kb_chunks_{old.id}, kb_terms_{old.id}")
    with pytest.raises(BackendUnavailableError, match="has been dropped"):
        searcher.search("national strategy", k=3)
    assert searcher.reload_if_changed()
    assert searcher.search("national strategy", k=1)[0].doc_id == "strategy-en"


def test_the_adapted_model_of_the_database_index_is_found_where_none_is_set(pg, tmp_path):
    """kb/model/indexed.py reads PostgreSQL's live manifest (the replica's
    for a searcher: backend_read), as the index folder's."""
    import json as json_

    from kb.model.bars import RECORD_FILE
    from kb.model.convert import MARKER_FILE, model_fingerprint
    from kb.model.indexed import indexed_model

    pg = replace(pg, cache_dir=tmp_path / "cache")
    folder = pg.model_cache / "fake-adapted"
    folder.mkdir(parents=True)
    (folder / MARKER_FILE).write_text(json_.dumps({"fingerprint": "fake-adapted"}))
    (folder / RECORD_FILE).write_text("{}")
    adapted = FakeEmbedder()
    adapted.fingerprint = model_fingerprint(folder)
    build_index(pg, embedder=adapted)
    assert indexed_model(pg).model == str(folder)
    assert indexed_model(pg, backend=pg.search_backend).model == str(folder)
    # A replica out of reach: the settings as they were, and the load says why.
    assert indexed_model(pg, backend="postgresql://kb@127.0.0.1:1/kb").model is None
