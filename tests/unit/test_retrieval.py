"""search/retrieval.py: dense and BM25 retrieval over the tiny index, within
filters (Where), and the query's language."""

from __future__ import annotations

import numpy as np
import pytest

from search import retrieval
from testsupport.tiny import row_with, rows_of


def qvec(tiny, text: str) -> np.ndarray:
    return tiny.embedder.embed_queries([text])


def test_dense_finds_the_passage_it_was_given_first_with_cosine_one(tiny, view):
    target = row_with(view, "laki-fi", "2§")
    rows, scores = retrieval.dense(
        view, qvec(tiny, view.chunks[target].indexed_text), view.where(), 3
    )
    assert rows[0] == target
    assert scores[0] == pytest.approx(1.0, abs=1e-5)
    assert len(rows) == 3 and list(scores) == sorted(scores, reverse=True)


def test_dense_stays_within_the_filter(tiny, view):
    target = row_with(view, "laki-fi", "2§")
    q = qvec(tiny, view.chunks[target].indexed_text)
    where = view.where(languages={"sv"})
    rows, _ = retrieval.dense(view, q, where, 10)
    assert sorted(rows) == rows_of(view, "lag-sv")  # every allowed row, no more


def test_dense_depth_is_capped_by_the_allowed_rows(tiny, view):
    rows, scores = retrieval.dense(view, qvec(tiny, "x"), view.where(docs={"notes-en"}), 10)
    assert rows == rows_of(view, "notes-en") and len(scores) == 1


def test_dense_with_nothing_allowed_returns_nothing(tiny, view):
    where = view.where(languages={"fi"}, docs={"notes-en"})
    assert where.count == 0
    rows, scores = retrieval.dense(view, qvec(tiny, "x"), where, 5)
    assert rows == [] and len(scores) == 0


def test_bm25_finds_a_stemmed_swedish_word(view):
    rows = retrieval.bm25(view, "tröskelvärdena", view.where(), 5)
    assert rows == [row_with(view, "lag-sv", "3§")]


def test_bm25_respects_the_filter_and_exclusions(view):
    # "60 000" is in the third section of both versions.
    both = retrieval.bm25(view, "60 000", view.where(), 5)
    assert sorted(both) == sorted([row_with(view, "lag-sv", "3§"), row_with(view, "laki-fi", "3§")])
    assert retrieval.bm25(view, "60 000", view.where(languages={"fi"}), 5) == [
        row_with(view, "laki-fi", "3§")
    ]
    excluded = view.where(exclude=[row_with(view, "laki-fi", "3§")])
    assert retrieval.bm25(view, "60 000", excluded, 5) == [row_with(view, "lag-sv", "3§")]


def test_bm25_returns_only_positive_scores_up_to_depth(view):
    assert retrieval.bm25(view, "zebra", view.where(), 5) == []
    assert len(retrieval.bm25(view, "60 000", view.where(), 1)) == 1


def test_bm25_with_nothing_allowed_returns_nothing(view):
    assert retrieval.bm25(view, "60 000", view.where(docs={"notes-en"}, languages={"sv"}), 5) == []


@pytest.mark.parametrize(
    ("query", "lang"),
    [
        ("Mitkä ovat julkisten hankintojen kynnysarvot Suomessa?", "fi"),
        ("Vilka är tröskelvärdena för offentlig upphandling i Sverige?", "sv"),
        ("What are the thresholds of public procurement in Finland?", "en"),
    ],
)
def test_query_language_names_a_clear_language(query, lang):
    assert retrieval.query_language(query) == lang


def test_query_language_is_none_when_unsure():
    assert retrieval.query_language("60 000") is None


def test_run_all_keeps_the_jobs_order_and_runs_them_on_other_threads_at_once():
    import threading

    from search.retrieval import run_all

    barrier = threading.Barrier(3, timeout=10)  # passes only if all three run at once

    def job(name):
        def run():
            barrier.wait()
            return name, threading.current_thread().name

        return run

    got = run_all({n: job(n) for n in ("dense", "bm25", "bridge-fi")}, at_once=True)
    assert list(got) == ["dense", "bm25", "bridge-fi"]
    assert all(name == n and thread.startswith("kb-retrieve") for n, (name, thread) in got.items())
    one_by_one = run_all({"a": lambda: threading.current_thread().name}, at_once=False)
    assert one_by_one == {"a": threading.current_thread().name}


def test_run_all_raises_a_jobs_error_as_itself():
    from kb.errors import BackendUnavailableError
    from search.retrieval import run_all

    def down():
        raise BackendUnavailableError("postgresql://x", "gone")

    with pytest.raises(BackendUnavailableError):
        run_all({"dense": lambda: 1, "bm25": down}, at_once=True)
