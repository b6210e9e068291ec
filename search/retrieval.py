"""The two retrievers: dense (FAISS inner product over normalised e5
vectors) and BM25 (bm25s over Snowball stems), each within a row mask, so a
filtered search is exact rather than a filtered top-k; and the query's
language, which decides where BM25 may take part."""

from __future__ import annotations

import functools

import numpy as np

from .terms import query_terms
from .view import IndexView


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
    view: IndexView, qvec: np.ndarray, mask: np.ndarray, depth: int
) -> tuple[list[int], np.ndarray]:
    """(rows best first, their cosines) among the allowed rows."""
    index = view.generation.index
    depth = min(depth, int(mask.sum()))
    if depth < 1:
        return [], np.zeros(0, dtype=np.float32)
    if mask.all():
        scores, rows = index.search(qvec, depth)
    else:
        import faiss

        sel = faiss.IDSelectorArray(np.flatnonzero(mask).astype(np.int64))
        scores, rows = index.search(qvec, depth, params=faiss.SearchParameters(sel=sel))
    keep = rows[0] >= 0
    return [int(r) for r in rows[0][keep]], scores[0][keep]


def bm25_scores(view: IndexView, query: str) -> np.ndarray:
    lexical = view.generation.lexical
    if lexical is None:
        return np.zeros(len(view.chunks), dtype=np.float32)
    return lexical.scores(query_terms(query), len(view.chunks))


def bm25(view: IndexView, query: str, mask: np.ndarray, depth: int) -> list[int]:
    """Rows best first by BM25 among the allowed rows with a positive score."""
    scores = np.where(mask, bm25_scores(view, query), 0.0)
    candidates = np.flatnonzero(scores > 0)
    if len(candidates) > depth:
        candidates = candidates[np.argpartition(-scores[candidates], depth - 1)[:depth]]
    return [int(r) for r in candidates[np.lexsort((candidates, -scores[candidates]))]]
