"""The two retrievers: dense (inner product over normalised e5 vectors) and
BM25 (over Snowball stems), each within a filter, asked of the generation's
backend (search/backend/folder.py: FAISS and bm25s, exact within a row mask; or
PostgreSQL); and the query's language, which decides where BM25 may take
part."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import numpy as np

from search import bridge
from search.backend.base import Where
from search.terms import query_terms
from search.view import IndexView

T = TypeVar("T")


def query_language(query: str) -> str | None:
    """The query's language, fi, sv or en, when py3langid is confident (≥ 0.9);
    None for ambiguous or mixed queries. Asked among all three even when the
    index lacks one: an English query on a Finnish-Swedish index is English,
    so neither BM25 nor the pivot guesses at a language it is not in."""
    lang, prob = _language_identifier(("en", "fi", "sv")).classify(query)
    return lang if prob >= 0.9 else None


@functools.cache
def _language_identifier(langs: tuple[str, ...]):
    """py3langid's identifier restricted to ``langs``, holding only their
    columns of its feature weights: ``set_languages`` would keep the full
    table of 142 classes beside them (27 MB, float16), for nothing."""
    import numpy as np
    from py3langid.langid import MODEL_DIR, MODEL_FILE, LanguageIdentifier, _load_model_file

    ptc, pc, classes, nextmove, row, output = _load_model_file(MODEL_DIR / MODEL_FILE)
    keep = [i for i, c in enumerate(classes) if c in langs]
    return LanguageIdentifier(
        np.ascontiguousarray(np.asarray(ptc)[:, keep]),
        np.asarray(pc)[keep],
        [classes[i] for i in keep],
        nextmove,
        output,
        norm_probs=True,
        tk_row=row,
    )


@functools.cache
def one_faiss_thread() -> None:
    """Search one query at a time on one thread. FAISS splits a single
    query's scan over OpenMP threads, which then contend with the query
    encoder's own threads: on 2 cores at 10k chunks, dense search took
    21.8 ms at the median with FAISS's default threads and 16.4 ms with one
    (benchmarks/query.py, README). Process-wide, and a searcher's process
    only ever asks one query at a time per call."""
    import faiss

    faiss.omp_set_num_threads(1)


def dense(
    view: IndexView, qvec: np.ndarray, where: Where, depth: int
) -> tuple[list[int], np.ndarray]:
    """(rows best first, their cosines) among the allowed rows."""
    return view.generation.dense(qvec, where, depth)


def bm25(view: IndexView, query: str, where: Where, depth: int) -> list[int]:
    """Rows best first by BM25 among the allowed rows with a positive score."""
    if where.count == 0:
        return []
    return view.generation.lexical(query_terms(query, analyses=view.finnish(query)), where, depth)


def bridged(view: IndexView, query: str, source: str, target: str, where: Where, depth: int):
    """Rows best first by BM25 in ``target`` for the query's words translated
    from ``source`` (search/bridge.py); [] where no dictionary holds them."""
    narrowed = view.narrow(where, target)
    terms = bridge.bridged_terms(query, source, target, view.finnish_words)
    if not terms or narrowed.count == 0:
        return []
    return view.generation.lexical(list(terms), narrowed, depth, list(terms.values()))


# Retrievers' queries at once: a search's dense, BM25 and bridge queries to
# PostgreSQL, each on a connection of its own (search/backend/postgres.py).
_POOL_SIZE = 8


_pool_lock = threading.Lock()
_pools: list[ThreadPoolExecutor] = []  # the one pool, made on first use


def _pool() -> ThreadPoolExecutor:
    with _pool_lock:
        if not _pools:
            _pools.append(
                ThreadPoolExecutor(max_workers=_POOL_SIZE, thread_name_prefix="kb-retrieve")
            )
        return _pools[0]


def run_all(jobs: dict[str, Callable[[], T]], at_once: bool) -> dict[str, T]:
    """Each job's result, by name, in the jobs' order: run one after the
    other, or ``at_once`` in a shared pool of threads (a backend that waits
    on the network). A job's error is raised as itself, at once: the other
    jobs still finish on their threads and their results are dropped."""
    if not at_once or len(jobs) < 2:
        return {name: job() for name, job in jobs.items()}
    futures = {name: _pool().submit(job) for name, job in jobs.items()}
    return {name: future.result() for name, future in futures.items()}
