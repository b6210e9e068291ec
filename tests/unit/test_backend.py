"""search/backend: Where (base.py), FileBackend and FileIndex over the tiny
index (folder.py), and open_backend's choice (__init__.py)."""

from __future__ import annotations

import numpy as np
import pytest

from kb.errors import IndexMismatchError, IndexMissingError
from kb.settings import Settings
from search.backend import open_backend
from search.backend.base import MIN_PREFIX, Where
from search.backend.folder import FileBackend, FileIndex
from search.terms import query_terms


def all_rows(index: FileIndex) -> Where:
    return Where(np.ones(len(index.chunks), dtype=bool))


@pytest.fixture(scope="module")
def index(tiny) -> FileIndex:
    return FileBackend(tiny.index_dir).load(None)


def test_where_counts_its_allowed_rows():
    assert Where(np.array([True, False, True])).count == 2
    assert Where(np.zeros(4, dtype=bool)).count == 0
    w = Where(np.ones(2, dtype=bool))
    assert w.languages is None and w.docs is None and w.kinds is None and w.exclude == frozenset()


def test_where_is_frozen():
    with pytest.raises(AttributeError):
        Where(np.ones(1, dtype=bool)).languages = frozenset({"fi"})  # type: ignore[misc]


def test_file_backend_names_the_live_generation(tiny):
    backend = FileBackend(tiny.index_dir)
    name = backend.live_name()
    assert name and (tiny.index_dir / name).is_dir()
    assert backend.load(None).name == name
    assert str(backend) == str(tiny.index_dir)


def test_file_backend_without_an_index(tmp_path):
    backend = FileBackend(tmp_path / "none")
    assert backend.live_name() is None
    with pytest.raises(IndexMissingError):
        backend.load(None)


def test_file_backend_refuses_another_model(tiny):
    with pytest.raises(IndexMismatchError):
        FileBackend(tiny.index_dir).load("another-model")
    assert FileBackend(tiny.index_dir).load(tiny.embedder.fingerprint).chunks


def test_file_index_dense_with_and_without_a_mask(tiny, index):
    q = tiny.embedder.embed_queries([index.chunks[4].indexed_text])
    rows, scores = index.dense(q, all_rows(index), 7)
    assert rows[0] == 4 and sorted(rows) == list(range(7))
    mask = np.zeros(7, dtype=bool)
    mask[[1, 6]] = True
    rows, scores = index.dense(q, Where(mask), 7)
    assert sorted(rows) == [1, 6] and len(scores) == 2
    assert index.dense(q, Where(np.zeros(7, dtype=bool)), 3)[0] == []


def test_file_index_lexical_orders_by_score_and_masks(index):
    terms = query_terms("60 000 euro")
    rows = index.lexical(terms, all_rows(index), 10)
    holders = [r for r, c in enumerate(index.chunks) if "60 000" in c.text]
    assert sorted(rows) == holders and len(holders) == 2
    scores = index.lexical_index.scores(terms, len(index.chunks))
    assert [scores[r] for r in rows] == sorted((scores[r] for r in rows), reverse=True)
    mask = np.zeros(7, dtype=bool)
    mask[holders[1]] = True
    assert index.lexical(terms, Where(mask), 10) == [holders[1]]
    assert index.lexical(terms, all_rows(index), 1) == rows[:1]


def test_file_index_vectors_contiguous_or_not_agree(index):
    together = index.vectors([2, 3, 4])
    apart = index.vectors([4, 2])
    assert together.shape == (3, index.index.d) and together.dtype == np.float32
    assert np.allclose(apart[0], together[2]) and np.allclose(apart[1], together[0])


def test_file_index_holding_and_vocabulary(index):
    # stems: Swedish "euro", Finnish "euroa" -> "euro"
    holds = [r for r in range(7) if "euro" in index.chunks[r].text]
    assert index.holding("euro", all_rows(index)) == len(holds) >= 1
    mask = np.zeros(7, dtype=bool)
    mask[holds[0]] = True
    assert index.holding("euro", Where(mask=mask)) == 1  # only the allowed rows
    assert index.holding("zebra", all_rows(index)) == 0
    assert index.knows(["zebra", "euro"], None) is True
    assert index.knows(["zebra"], None) is False
    assert index.knows(["zebra"], "tröskelvärde"[:MIN_PREFIX]) is True
    assert index.knows(["zebra"], "zebra") is False


def test_open_backend_is_the_folder_without_a_postgres_setting(tmp_path):
    backend = open_backend(Settings(index_dir=tmp_path / "ix"))
    assert isinstance(backend, FileBackend) and backend.index_dir == tmp_path / "ix"
    other = open_backend(Settings(index_dir=tmp_path / "ix"), tmp_path / "other")
    assert isinstance(other, FileBackend) and other.index_dir == tmp_path / "other"


def test_open_backend_is_postgres_with_an_address(tmp_path):
    from search.backend.postgres import PgBackend

    url = "postgresql://kb:secret@127.0.0.1:1/kb"
    backend = open_backend(Settings(index_dir=tmp_path, backend=url))
    assert isinstance(backend, PgBackend)  # no connection is made until it is asked
    assert "secret" not in str(backend)
