"""The PostgreSQL backend under the faults issue 24 left untried from
outside (a real server, testsupport/pgtest.py): wrong credentials, and databases
that hold something else under the index's table names."""

from __future__ import annotations

from dataclasses import replace

import psycopg
import pytest

from ingest.pipeline import build_index
from kb.errors import BackendSchemaError, BackendUnavailableError
from search import Searcher
from testsupport.fakes import FakeEmbedder
from testsupport.pgcorpus import OLD, write_files

pytestmark = pytest.mark.postgres  # a real server: the second lane


@pytest.fixture
def pg(settings, pg_url):
    write_files(settings.corpus_dir, OLD)
    return replace(settings, backend=pg_url)


def test_a_role_that_does_not_exist_is_a_clear_error(pg, capsys, monkeypatch):
    from ingest.__main__ import main as ingest_main
    from search.__main__ import main as search_main

    url = pg.backend.replace("postgres:@", "nobody_here:secret@", 1)
    assert "nobody_here" in url
    with pytest.raises(BackendUnavailableError) as caught:
        Searcher.load(None, replace(pg, backend=url), embedder=FakeEmbedder())
    assert "secret" not in str(caught.value)  # the password is never shown
    monkeypatch.setenv("KB_BACKEND", url)
    assert search_main(["hankinnat"]) == 3  # nothing could be done: ExitCode.FAILED
    assert ingest_main([]) == 3
    err = capsys.readouterr().err
    assert "Traceback" not in err and "secret" not in err


def test_a_database_that_does_not_exist_is_a_clear_error(pg):
    url = pg.backend.rsplit("/", 1)[0] + "/no_such_db"
    with pytest.raises(BackendUnavailableError):
        build_index(replace(pg, backend=url), embedder=FakeEmbedder())


@pytest.mark.parametrize(
    "foreign",
    [
        "CREATE TABLE kb_meta (id integer, note text)",  # another program's kb_meta
        "CREATE TABLE kb_meta (key text, value text); "
        "INSERT INTO kb_meta VALUES ('format_version', 'x')",
        "CREATE TABLE kb_meta (key text PRIMARY KEY, value text); "
        "INSERT INTO kb_meta VALUES ('format_version', '1'); "
        "CREATE TABLE kb_generations (id integer)",
    ],
)
def test_a_database_holding_other_tables_is_refused_and_kept(pg, foreign):
    with psycopg.connect(pg.backend, autocommit=True) as conn:
        for statement in foreign.split("; "):
            conn.execute(statement)
    with pytest.raises(BackendSchemaError):
        build_index(pg, embedder=FakeEmbedder())
    with pytest.raises((BackendSchemaError,)):
        Searcher.load(None, pg, embedder=FakeEmbedder())
    with psycopg.connect(pg.backend) as conn:
        rows = conn.execute(
            "SELECT count(*) FROM information_schema.columns WHERE table_name = 'kb_meta'"
        ).fetchone()
    assert rows[0] >= 2  # still there, not dropped
