"""Highlights: the query's words (stem-aware) and the best sentence of each
hit, the one with the most query words or, where no word matches (a passage
in another language), the one nearest the query by embedding."""

from __future__ import annotations

import re
from dataclasses import replace

import numpy as np

from ingest.embed import Embedder

from .hits import Highlight, Hit
from .terms import query_terms, term_spans

SEMANTIC_HIGHLIGHTS = 2  # hits whose best sentence is found by embedding (costly)
# Sentence ends: punctuation before a capital, digit or list mark; a blank
# line; a line break before a list item. A plain line break is a PDF wrap.
_SENTENCE_END = re.compile(
    r"(?<=[.!?;:])\s+(?=[A-ZÅÄÖÜ0-9•(–-])|\n\s*\n|\n(?=\s*(?:\d{1,3}\)|[•–-]\s))"
)


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence or line-level item of ``text``."""
    spans, start = [], 0
    for m in _SENTENCE_END.finditer(text):
        if text[start : m.start()].strip():
            spans.append((start, m.start()))
        start = m.end()
    if text[start:].strip():
        spans.append((start, len(text.rstrip())))
    return spans


def highlight(
    embedder: Embedder,
    query: str,
    hits: list[Hit],
    qvec: np.ndarray | None = None,
    semantic: bool = True,
) -> list[Hit]:
    """Mark the query's words (stem-aware) and the best sentence of each hit:
    the one with the most query words; where no word matches (a passage in
    another language) and ``semantic`` is on, the one nearest the query by
    embedding, for the first few such hits (embedding sentences is the
    costly part)."""
    terms = {t for t in query_terms(query) if len(t) > 2}
    term_marks = [term_spans(h.text, h.lang, terms) for h in hits]
    best: dict[int, list[tuple[int, int]]] = {}
    to_embed: list[tuple[int, int, int]] = []
    for i, h in enumerate(hits):
        spans = sentence_spans(h.text)
        if len(spans) < 2:
            continue
        counts = [sum(s <= a < e for a, _ in term_marks[i]) for s, e in spans]
        if max(counts) > 0:
            best[i] = [span for span, n in zip(spans, counts, strict=True) if n == max(counts)]
        elif semantic and len({j for j, _, _ in to_embed}) < SEMANTIC_HIGHLIGHTS:
            to_embed.extend((i, s, e) for s, e in spans)
    if to_embed:
        if qvec is None:
            qvec = embedder.embed_queries([query])
        vectors = embedder.embed_passages([hits[i].text[s:e] for i, s, e in to_embed])
        sims = vectors @ qvec[0]
        for i in {j for j, _, _ in to_embed}:
            idx = [j for j, (h, _, _) in enumerate(to_embed) if h == i]
            best[i] = [to_embed[max(idx, key=lambda j: sims[j])][1:]]
    out = []
    for i, h in enumerate(hits):
        spans = [Highlight(s, e, "sentence") for s, e in best.get(i, [])]
        spans += [Highlight(s, e, "term") for s, e in term_marks[i]]
        out.append(replace(h, highlights=tuple(sorted(spans, key=lambda x: (x.start, x.end)))))
    return out
