"""Highlights: the query's words (stem-aware) and the best sentence of each
hit, the one with the most query words or, where no word matches (a passage
in another language), the one nearest the query by embedding."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace

import numpy as np

from ingest.embed import Embedder
from ingest.lexical import stem

from .hits import Highlight, Hit
from .terms import content_terms, term_spans

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


def heading_end(text: str, section: tuple[str, ...]) -> int:
    """Where the headings of the section path that open the passage end
    (PDF text runs a heading into its first sentence: "38 § Innovaatio-
    kumppanuus Innovaatiokumppanuuden tavoitteena..."), with the white
    space after them; 0 when the passage opens with none of them."""
    pos, found = 0, False
    for title in section:
        parts = title.split()
        if not parts:
            continue
        pattern = r"\s*" + r"\s+".join(re.escape(p) for p in parts) + r"(?=\s|$)"
        m = re.compile(pattern).match(text, pos)
        if m:
            pos, found = m.end(), True
    if not found:
        return 0
    while pos < len(text) and text[pos].isspace():
        pos += 1
    return pos if text[pos:].strip() else 0


def body_spans(text: str, section: tuple[str, ...]) -> list[tuple[int, int]]:
    """The sentences of a passage after the headings that open it."""
    start = heading_end(text, section)
    return [(max(s, start), e) for s, e in sentence_spans(text) if e > start]


def _fragment(text: str, span: tuple[int, int]) -> bool:
    """A piece of a sentence cut by the chunk's edge: it starts in lower
    case at the passage's start, or runs to its end without a full stop."""
    s, e = span
    piece = text[s:e].strip()
    head = s == 0 and piece[:1].islower()
    tail = e >= len(text.rstrip()) and piece[-1:] not in '.!?:;)"”'
    return head or tail


def _best_lexical(
    text: str, spans: list[tuple[int, int]], marks: list[tuple[int, int, float]]
) -> tuple[int, int] | None:
    """The sentence whose distinct query words weigh most (rare words weigh
    more); whole sentences before pieces cut by the chunk's edge; the first
    on ties. None when no sentence holds a query word."""
    best, best_key = None, None
    for s, e in spans:
        found = {text[a:b].lower(): w for a, b, w in marks if s <= a < e}
        if not found:
            continue
        key = (not _fragment(text, (s, e)), round(sum(found.values()), 6))
        if best_key is None or key > best_key:
            best, best_key = (s, e), key
    return best


Rarity = Callable[[str, str], float]  # (index term, language) -> share of passages holding it

COMMON_SHARE = 0.25  # a word in more than this share of passages is not marked


def _term_marks(hit: Hit, terms: set[str], share: Rarity | None) -> list[tuple[int, int, float]]:
    """(start, end, weight) of the query's words in the hit; the weight is
    the share of passages that do not hold the word (1.0 without stats)."""
    out = []
    for s, e in term_spans(hit.text, hit.lang, terms):
        held = share(stem(hit.text[s:e].lower(), hit.lang), hit.lang) if share else 0.0
        out.append((s, e, 1.0 - held))
    return out


def highlight(
    embedder: Embedder,
    query: str,
    hits: list[Hit],
    qvec: np.ndarray | None = None,
    semantic: bool = True,
    share: Rarity | None = None,
) -> list[Hit]:
    """Mark the query's words (stem-aware) where they discriminate, and one
    best sentence per hit: the one whose query words weigh most (``share``
    says how common a word is in the hit's language); where no word matches
    (a passage in another language) and ``semantic`` is on, the one nearest
    the query by embedding, for the first few such hits (embedding sentences
    is the costly part). Words in more than COMMON_SHARE of the passages
    still choose the sentence but are not marked."""
    terms = content_terms(query)
    term_marks = [_term_marks(h, terms, share) for h in hits]
    best: dict[int, tuple[int, int]] = {}
    to_embed: list[tuple[int, int, int]] = []
    for i, h in enumerate(hits):
        spans = body_spans(h.text, h.section)
        if len(spans) < 2:
            continue
        chosen = _best_lexical(h.text, spans, term_marks[i])
        if chosen is not None:
            best[i] = chosen
        elif semantic and len({j for j, _, _ in to_embed}) < SEMANTIC_HIGHLIGHTS:
            to_embed.extend((i, s, e) for s, e in spans)
    if to_embed:
        if qvec is None:
            qvec = embedder.embed_queries([query])
        vectors = embedder.embed_passages([hits[i].text[s:e] for i, s, e in to_embed])
        sims = vectors @ qvec[0]
        for i in {j for j, _, _ in to_embed}:
            idx = [j for j, (h, _, _) in enumerate(to_embed) if h == i]
            whole = [j for j in idx if not _fragment(hits[i].text, to_embed[j][1:])] or idx
            best[i] = to_embed[max(whole, key=lambda j: sims[j])][1:]
    out = []
    for i, h in enumerate(hits):
        spans = [Highlight(*best[i], "sentence")] if i in best else []
        spans += [Highlight(s, e, "term") for s, e, w in term_marks[i] if w >= 1.0 - COMMON_SHARE]
        out.append(replace(h, highlights=tuple(sorted(spans, key=lambda x: (x.start, x.end)))))
    return out
